"""``l1t report``: a menu's rates and efficiencies from the emulator's decisions, as HTML and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from l1t.cli._app import DEFAULT_MENU, console, escape, fail, model_options
from l1t.models.metrics import COLLIDING_BUNCHES


def report(
    zero_bias: Annotated[Path, typer.Option(help="Zero-bias HDF5 file from `l1t generate`.")],
    out: Annotated[Path, typer.Option(help="Output directory (report.html, results.json).")],
    menu: Annotated[Path, typer.Option(help="Menu YAML.")] = DEFAULT_MENU,
    models: Annotated[
        list[str] | None, typer.Option("--model", help="MODEL=RUN_DIR of `l1t train` (axol1tl=..., cicada=...).")
    ] = None,
    signals: Annotated[list[Path] | None, typer.Option("--signal", help="Signal HDF5 file (repeatable).")] = None,
    bunches: Annotated[int, typer.Option(help="Colliding bunches.")] = COLLIDING_BUNCHES,
    dask: Annotated[bool, typer.Option(help="Stream the zero-bias file in chunks on a Dask cluster.")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Address of an existing dask.distributed scheduler.")] = None,
    chunk: Annotated[int, typer.Option(help="Crossings per Dask chunk.")] = 100_000,
) -> None:
    """Rates and efficiencies of a menu from the emulator's bit-exact decisions: AD thresholds set from target
    rates, pure rates and overlaps, efficiencies per seed; one self-contained HTML report plus JSON."""
    make_report(
        zero_bias, out, menu, model_options(models, "--model"), signals or [],
        bunches=bunches, dask=dask, scheduler=scheduler, chunk=chunk,
    )  # fmt: skip


def make_report(
    zero_bias: Path,
    out: Path,
    menu: Path,
    models: dict[str, Path],
    signals: list[Path],
    *,
    bunches: int = COLLIDING_BUNCHES,
    dask: bool = False,
    scheduler: str | None = None,
    chunk: int = 100_000,
) -> None:
    """Run the menu study and print each seed's rate."""
    from l1t.emulator.menu import MenuError
    from l1t.events.dataset import DatasetError
    from l1t.kinds import RunError
    from l1t.studies.study import menu_report

    try:
        with console.status("running the emulator chain on zero bias and signals"):
            study = menu_report(
                menu, zero_bias, out, models=models, signals=signals, bunches=bunches, dask=dask,
                scheduler=scheduler, chunk=chunk, note=lambda m: console.print(f"[yellow]{escape(m)}[/yellow]"),
            )  # fmt: skip
    except (MenuError, DatasetError, RunError, FileNotFoundError) as err:
        fail(err)
    results = study.results
    table = Table(title=f"{study.menu.name}: {results['zero_bias_events']} zero-bias crossings")
    for col in ("seed", "rate [Hz]", "pure [Hz]"):
        table.add_column(col, justify="left" if col == "seed" else "right")
    for name, r in results["seeds"].items():
        pure = f"{r['pure_rate_hz']:.4g}" if "pure_rate_hz" in r else "-"
        table.add_row(name, f"{r['rate_hz']:.4g} ± {r['rate_err_hz']:.2g}", pure)
    console.print(table)
    console.print(f"report: {study.report.resolve()}")
