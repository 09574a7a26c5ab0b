"""``l1t train``: any registered model kind (``l1t.kinds``) trained, exported and evaluated, its results as a table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from l1t.cli._app import Seed, console, fail
from l1t.kinds import KINDS, ModelKind, ResultTable, RunError, get


def train(
    model: Annotated[str, typer.Argument(help=f"The model kind: {', '.join(KINDS)}.")],
    data: Annotated[
        Path,
        typer.Option(help="Zero-bias HDF5 file from `l1t generate` (tagger, fastsim: a jet file, `generate --jets`)."),
    ],
    out: Annotated[Path, typer.Option(help="Output directory.")],
    signals: Annotated[
        list[Path] | None,
        typer.Option("--signal", help="Signal HDF5 file (repeatable): evaluation; for the tagger, signal jets."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Model YAML (default: the kind's shipped configuration).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Override the configured epochs.")] = None,
    seed: Seed = 1,
) -> None:
    """Train a model kind on generated files and evaluate it: an anomaly detector (its trigger network exported, the
    hls4ml project checked against the emulator; float, quantized and emulated scores: AUC, TPR at FPR 1e-5 and at
    1 kHz), the L1 jet tagger with its offline GNN teacher, or the fast simulation with its fidelity table."""
    try:
        kind = get(model)
    except RunError as err:
        fail(err)
    try:
        cfg = kind.config.from_yaml(config, epochs=epochs)
    except ValueError as err:  # names the file, field and value
        fail(err)
    run_training(kind, [data, *(signals or [])], out, cfg, seed)


def run_training(kind: ModelKind, files: list[Path], out: Path, cfg: Any, seed: int) -> dict[str, Any]:
    """Train ``kind`` with one progress bar per training; print its results; exit 1 when the exported network's
    C-simulation and the emulator differ, 2 on unusable input files."""
    from l1t.events.dataset import DatasetError

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
        console=console,
    ) as bar:  # fmt: skip
        try:
            summary = kind.train(
                files, out, seed=seed, cfg=cfg, progress=lambda name, n: [_keras_progress(bar, name, n)],
                log=lambda m: bar.console.print(m),
            )  # fmt: skip
        except (DatasetError, ValueError) as err:
            fail(err)
    show_table(kind.table(summary))
    csim = summary.get("csim_vs_emulator")
    if csim is not None:
        console.print(f"hls4ml C-sim vs emulator: {csim['events']} events, {csim['mismatches']} mismatches")
    console.print(f"wrote {out / 'summary.json'} and the run's files in {out}")
    if csim and csim["mismatches"]:
        raise typer.Exit(1)
    return summary


def show_table(t: ResultTable) -> None:
    """A result table, the published reference rows dimmed after the measured ones."""
    table = Table(title=t.title, caption=t.caption or None)
    for j, col in enumerate(t.columns):
        table.add_column(col, justify="left" if j < t.left else "right")
    for row in t.rows:
        table.add_row(*row)
    for row in t.references:
        table.add_row(*(f"[dim]{cell}[/dim]" for cell in row))
    console.print(table)
    for line in t.notes:
        console.print(line)


def _keras_progress(bar: Progress, description: str, epochs: int) -> Any:
    """A Keras callback driving one task of a Rich progress bar, one step per epoch."""
    import tensorflow as tf

    class Callback(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.task = bar.add_task(description, total=epochs)

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("val_loss", float("nan"))
            bar.update(self.task, advance=1, description=f"{description} (val loss {loss:.4g})")

        def on_train_end(self, logs=None):
            bar.update(self.task, completed=epochs)

    return Callback()
