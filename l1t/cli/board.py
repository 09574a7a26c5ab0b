"""``l1t patterns`` and ``l1t compare``: board pattern files (EMPv2) from the emulator, and a board capture checked
against it frame by frame."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from l1t.cli._app import console, escape, fail, model_options

BoardModel = Annotated[Path | None, typer.Option("--model", help="Emulator spec directory (e.g. FIRMWARE_DIR/spec).")]
BoardTrigger = Annotated[
    Path | None, typer.Option("--trigger", help="Run directory of `l1t train`: the model's whole trigger path.")
]
BoardMenu = Annotated[Path | None, typer.Option("--menu", help="Menu YAML: the GT (objects -> scores -> algo bits).")]
BoardModels = Annotated[
    list[str] | None, typer.Option("--ad-model", help="MODEL=RUN_DIR for the menu's AD seeds (repeatable).")
]
BoardReport = Annotated[Path | None, typer.Option("--report", help="`l1t report` directory (the AD thresholds).")]


def _block(
    spec: Path | None, trigger_run: Path | None, menu: Path | None, ad_models: list[str] | None, report_dir: Path | None
) -> Any:
    from l1t.kinds import RunError
    from l1t.pipelines.board import board_block

    models = model_options(ad_models, "--ad-model")
    try:
        return board_block(spec=spec, trigger_run=trigger_run, menu=menu, models=models, report_dir=report_dir)
    except (OSError, ValueError, KeyError, RunError) as err:
        fail(err)


def patterns(
    events_file: Annotated[Path, typer.Option("--events-file", help="HDF5 events (`l1t generate`).")],
    out: Annotated[Path, typer.Option(help="Output directory: rx.txt and tx_expected.txt.")],
    trigger_run: BoardTrigger = None,
    menu: BoardMenu = None,
    ad_models: BoardModels = None,
    report_dir: BoardReport = None,
    events: Annotated[int, typer.Option(help="Events (one packet each).")] = 1000,
    frames: Annotated[int, typer.Option(help="Frames per event packet.")] = 1,
) -> None:
    """Board input and expected output pattern files (EMPv2) for events of a data set: a model's trigger path
    (--trigger) or the whole menu as the GT runs it (--menu, --ad-model)."""
    from l1t.emulator.board import encode_rx, expected_tx
    from l1t.emulator.patterns import write_empv2
    from l1t.events.dataset import read

    block = _block(None, trigger_run, menu, ad_models, report_dir)
    try:
        ev = read(events_file, 0, events).data
        x = block.from_events(ev)
        write_empv2(out / "rx.txt", encode_rx(block, x, frames))
        write_empv2(out / "tx_expected.txt", expected_tx(block, block.run(x, raw=True), frames))
    except (OSError, ValueError, KeyError) as err:
        fail(err)
    console.print(f"{len(next(iter(x.values())))} events: {out / 'rx.txt'}, {out / 'tx_expected.txt'}")


def compare(
    rx: Annotated[Path, typer.Option(help="EMPv2 input pattern file loaded into the board.")],
    tx: Annotated[Path, typer.Option(help="EMPv2 output pattern file captured from the board (or a simulation).")],
    model: BoardModel = None,
    trigger_run: BoardTrigger = None,
    menu: BoardMenu = None,
    ad_models: BoardModels = None,
    report_dir: BoardReport = None,
    expected_out: Annotated[Path | None, typer.Option("--write-expected", help="Also write the expected tx.")] = None,
) -> None:
    """Board-capture regression: decode the rx file as the board's input buffers load it, run the emulator (a
    network; with --trigger a model's trigger path: inputs -> network -> score -> trigger bits; with --menu the
    GT: objects -> AD scores -> every seed's bit before and after prescale -> L1A), encode the expected tx links and
    compare them frame by frame with the captured tx. Exits 1 on any mismatch."""
    compare_capture(rx, tx, _block(model, trigger_run, menu, ad_models, report_dir), expected_out)


def compare_capture(rx: Path, tx: Path, block: Any, expected_out: Path | None = None) -> None:
    """Check a captured tx file against the emulated ``block`` fed the rx file; exits 1 on any mismatch."""
    from l1t.emulator.board import compare_tx, decode_rx, expected_tx
    from l1t.emulator.patterns import read_empv2, write_empv2

    try:
        x_raw, frames = decode_rx(block, read_empv2(rx))
        expected = expected_tx(block, block.run(x_raw, raw=True), frames)
        if expected_out is not None:
            write_empv2(expected_out, expected)
        report = compare_tx(block, expected, read_empv2(tx))
    except (OSError, ValueError, KeyError) as err:
        fail(err)
    colour = "red" if report.bad_frames else "green"
    console.print(f"[{colour}]{escape(report.summary())}[/{colour}]")
    if report.bad_frames:
        raise typer.Exit(1)
