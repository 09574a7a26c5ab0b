"""``l1t generate``: Pythia8 crossings with pileup through the detector into event files, or fast-simulated ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from l1t.cli._app import Seed, console, fail

if TYPE_CHECKING:
    from l1t.events.generate import Recipe


def generate(
    process: Annotated[
        str,
        typer.Option(help="minbias, qcd, lq_btau, a_4l, hpm_taunu, h0_tautau, darkshower, zprime_tt or qcd_boosted."),
    ],
    events: Annotated[int, typer.Option(help="Crossings to generate.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output HDF5 file.")],
    pileup: Annotated[float, typer.Option(help="Mean pileup interactions per crossing (Poisson).")] = 60.0,
    seed: Seed = 1,
    workers: Annotated[int, typer.Option(help="Processes.")] = 2,
    chunk: Annotated[int, typer.Option(help="Crossings per chunk (the unit of resuming).")] = 500,
    library: Annotated[
        int | None,
        typer.Option(help="Min-bias events in the pileup library (default: zero bias pileup/0.005, signals 2000)."),
    ] = None,
    pthat_bins: Annotated[
        str,
        typer.Option(
            help="Zero bias: comma-separated pT-hat edges [GeV] of weighted 2->2 QCD strata, e.g. 15,30,50,80,120,"
            "170,300,470 (last bin open); the file carries truth/weight."
        ),
    ] = "",
    detector: Annotated[Path | None, typer.Option(help="Detector YAML (default configs/detector.yaml).")] = None,
    jets: Annotated[
        bool, typer.Option("--jets", help="Write tagger jets with tower and particle constituents (l1t.jets).")
    ] = False,
    fastsim: Annotated[
        Path | None,
        typer.Option(help="Directory of `l1t train fastsim`: crossings of two generated jets (or, with --jets, jets)."),
    ] = None,
    compression: Annotated[
        str,
        typer.Option(
            help="Event-file codec: lz4hc (default, fastest reads), zstd (smaller), gzip (no HDF5 plugin needed), none."
        ),
    ] = "lz4hc",
) -> None:
    """Pythia8 events with pileup through the detector and L1 response into an l1t HDF5 event file (or, with
    --jets, a jet file for taggers; with --fastsim, jets from a trained generative model). Resumable: an interrupted
    run continues from its finished chunks; the file appears only when complete."""
    from l1t.events.generate import Recipe

    kind = "jets" if jets else "events"
    if fastsim is not None:
        generate_fastsim(fastsim, process, events, seed, out, kind)
        return
    try:
        try:
            edges = tuple(float(e) for e in pthat_bins.split(",")) if pthat_bins.strip() else ()
        except ValueError:
            raise ValueError(f"--pthat-bins: {pthat_bins!r} is not a comma-separated list of GeV values") from None
        recipe = Recipe(
            process,
            events,
            pileup,
            seed,
            chunk,
            library,
            str(detector) if detector else None,
            kind,
            compression,
            pthat_bins=edges,
        )
    except ValueError as err:
        fail(err)
    generate_pythia(recipe, out, workers)


def generate_pythia(recipe: Recipe, out: Path, workers: int) -> Path:
    """Run a generation ``Recipe`` with a progress bar counted in library pieces and chunks."""
    from l1t.events.generate import run

    with Progress(
        TextColumn(f"{recipe.process} x {recipe.events:,} (pileup {recipe.pileup:g})"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("library pieces and chunks"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("generate", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            path = run(recipe, out, workers=workers, progress=progress)
        except ValueError as err:
            fail(err)
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return path


def generate_fastsim(run_dir: Path, process: str, events: int, seed: int, out: Path, kind: str) -> Path:
    """Fast-simulated jets or crossings of a trained ``fastsim`` model into ``out``."""
    from l1t.pipelines.fastsim import generate_file

    try:
        with console.status(f"fast simulation: {events:,} {process} {'jets' if kind == 'jets' else 'crossings'}"):
            path = generate_file(run_dir, process, events, seed, out, kind)
    except (OSError, ValueError) as err:
        fail(err)
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return path


def convert(
    inputs: Annotated[list[Path], typer.Argument(help="Input files, converted in order into one output.")],
    source: Annotated[str, typer.Option("--from", help="Input format: adc2021 (HDF5) or cms-l1ad (parquet).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output l1t HDF5 event file.")],
    block: Annotated[int, typer.Option(help="Events per block (bounds the memory).")] = 100_000,
    compression: Annotated[
        str, typer.Option(help="Event-file codec: zstd (writes fastest), lz4hc (decodes fastest), gzip, none.")
    ] = "zstd",
    workers: Annotated[int, typer.Option(help="Input files converted in parallel on a local Dask cluster.")] = 1,
) -> None:
    """Event files of another format into an l1t event file, in bounded memory. Resumable: a rerun continues from the
    input files already converted; the output appears only when complete. Bad input is refused naming the file,
    field, event and value."""
    from l1t.events.convert import convert as run_convert
    from l1t.events.dataset import DatasetError

    with Progress(
        TextColumn("converting"), BarColumn(), TextColumn("{task.completed:,} events"), TimeElapsedColumn(),
        console=console,
    ) as bar:  # fmt: skip
        task = bar.add_task("convert", total=None)
        try:
            n = run_convert(
                source, inputs, out, block=block, compression=compression, workers=workers,
                progress=lambda k: bar.advance(task, k),
            )  # fmt: skip
        except (DatasetError, ValueError) as err:
            fail(err)
    console.print(f"{n:,} events -> {out}")
