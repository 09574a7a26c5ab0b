"""``l1t report``: a menu's rates and efficiencies from the emulator's decisions, as HTML and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from l1t.cli._app import DEFAULT_MENU, DEFAULT_REFERENCE, console, escape, fail, model_options
from l1t.models.metrics import COLLIDING_BUNCHES


def report(
    zero_bias: Annotated[Path, typer.Option(help="Zero-bias HDF5 file from `l1t generate`.")],
    out: Annotated[Path, typer.Option(help="Output directory (report.html, results.json).")],
    menu: Annotated[Path, typer.Option(help="Menu YAML.")] = DEFAULT_MENU,
    models: Annotated[
        list[str] | None, typer.Option("--model", help="MODEL=RUN_DIR of `l1t train` (axol1tl=..., cicada=...).")
    ] = None,
    signals: Annotated[list[Path] | None, typer.Option("--signal", help="Signal HDF5 file (repeatable).")] = None,
    pileup_scan: Annotated[
        list[Path] | None,
        typer.Option("--pileup-scan", help="Zero-bias file at another pileup, for rate vs pileup (repeatable)."),
    ] = None,
    bunches: Annotated[int, typer.Option(help="Colliding bunches.")] = COLLIDING_BUNCHES,
    dask: Annotated[bool, typer.Option(help="Stream the zero-bias file in chunks on a Dask cluster.")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Address of an existing dask.distributed scheduler.")] = None,
    chunk: Annotated[int, typer.Option(help="Crossings per Dask chunk.")] = 100_000,
    screenshot: Annotated[
        Path | None, typer.Option(help="Also render the report in headless Chromium and save this PNG.")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(help="Reference rates YAML to set the simulated rates against (at its pileup, if it states one)."),
    ] = None,
) -> None:
    """Rates and efficiencies of a menu from the emulator's bit-exact decisions: AD thresholds set from target
    rates, pure rates and overlaps, efficiencies per seed; one self-contained HTML report plus JSON."""
    make_report(
        zero_bias, out, menu, model_options(models, "--model"), signals or [], pileup_scan=pileup_scan or [],
        bunches=bunches, dask=dask, scheduler=scheduler, chunk=chunk, screenshot=screenshot, reference=reference,
    )  # fmt: skip


def make_report(
    zero_bias: Path,
    out: Path,
    menu: Path,
    models: dict[str, Path],
    signals: list[Path],
    *,
    pileup_scan: list[Path] | None = None,
    bunches: int = COLLIDING_BUNCHES,
    dask: bool = False,
    scheduler: str | None = None,
    chunk: int = 100_000,
    screenshot: Path | None = None,
    reference: Path | None = None,
) -> None:
    """Run the menu study and print each seed's rate; with ``screenshot``, render the report in a headless browser
    and check that every image decoded; with ``reference``, print the simulated rates next to it."""
    from l1t.emulator.menu import MenuError
    from l1t.events.dataset import DatasetError
    from l1t.kinds import RunError
    from l1t.studies.reference import ReferenceError, read_reference
    from l1t.studies.study import menu_report

    try:
        ref = read_reference(reference) if reference is not None else None
        with console.status("running the emulator chain on zero bias and signals"):
            study = menu_report(
                menu, zero_bias, out, models=models, signals=signals, pileup_scan=pileup_scan or [],
                bunches=bunches, dask=dask, scheduler=scheduler, chunk=chunk, reference=ref,
                note=lambda m: console.print(f"[yellow]{escape(m)}[/yellow]"),
            )  # fmt: skip
    except (MenuError, DatasetError, RunError, ReferenceError, FileNotFoundError) as err:
        fail(err)
    results = study.results
    table = Table(title=f"{study.menu.name}: {results['zero_bias_events']} zero-bias crossings")
    for col in ("seed", "rate [Hz]", "pure [Hz]"):
        table.add_column(col, justify="left" if col == "seed" else "right")
    for name, r in results["seeds"].items():
        pure = f"{r['pure_rate_hz']:.4g}" if "pure_rate_hz" in r else "-"
        table.add_row(name, f"{r['rate_hz']:.4g} ± {r['rate_err_hz']:.2g}", pure)
    console.print(table)
    if "reference" in results:
        print_comparison(results["reference"])
    console.print(f"report: {study.report.resolve()}")
    if screenshot is not None:
        _screenshot(study.report, screenshot)


def _screenshot(page: Path, png: Path) -> None:
    from l1t.studies.browser import BrowserError, render

    try:
        shot = render(page, png)
    except BrowserError as err:
        fail(err)
    if shot.decoded != shot.images or shot.colours < 2:
        fail(f"{page}: {shot.images - shot.decoded} of {shot.images} images did not decode, {shot.colours} colours")
    console.print(f"screenshot: {png.resolve()} ({shot.images} images, all decoded)")


def compare_decisions(
    events: Annotated[Path, typer.Argument(help="Real-data event file from `l1t convert` (with recorded decisions).")],
    menu: Annotated[Path, typer.Option(help="Menu YAML; its classic seeds are compared by name.")] = DEFAULT_MENU,
    show: Annotated[int, typer.Option(help="Disagreeing crossings listed per seed and direction.")] = 5,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the comparison as JSON.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any compared seed disagrees on any crossing.")] = False,
) -> None:
    """Data vs emulator: for each classic seed of the menu the hardware recorded, the emulator's decision against the
    recorded one crossing by crossing: agreement, 1->0 (hardware fired, emulator did not) and 0->1 counts, and the
    first run:lumi:event of each."""
    import json

    from l1t.atomic import write_text
    from l1t.emulator.menu import Menu, MenuError
    from l1t.events.dataset import DatasetError
    from l1t.studies.decisions import TABLE_HEADER, table_rows
    from l1t.studies.decisions import compare_decisions as compare

    try:
        result = compare(Menu.from_yaml(menu), events, show=show)
    except (MenuError, DatasetError, FileNotFoundError) as err:
        fail(err)
    table = Table(title=f"{result['events']:,} crossings of {events.name}: emulator vs recorded decisions")
    for col in TABLE_HEADER:
        table.add_column(col, justify="left" if col in (TABLE_HEADER[0], TABLE_HEADER[-1]) else "right")
    for row in table_rows(result, 2):
        table.add_row(*row)
    console.print(table)
    if result["menu_seeds_not_recorded"]:
        console.print(f"not recorded in the file: {', '.join(result['menu_seeds_not_recorded'])}")
    if json_out is not None:
        write_text(json_out, json.dumps(result, indent=1))
    disagree = sum(r["hw_only"] + r["emu_only"] for r in result["seeds"].values())
    if strict and disagree:
        raise typer.Exit(1)


def print_comparison(cmp: dict) -> dict:
    """Print simulated vs reference rates (``compare_rates``) as a table; returns its rows (the total included)."""
    at = f" at pileup {cmp['pileup']:g}" if cmp.get("pileup") is not None else ""
    table = Table(title=escape(f"simulated{at} vs {cmp['source']} ({cmp['conditions']})"))
    for col in ("seed", "simulated [kHz]", "reference [kHz]", "ratio", f"within factor {cmp['factor']:g}"):
        table.add_column(col, justify="left" if col == "seed" else "right")
    rows = {**cmp["seeds"], **({"menu total": cmp["total"]} if "total" in cmp else {})}
    for name, r in rows.items():
        table.add_row(
            name,
            f"{r['simulated_hz'] / 1e3:.4g} ± {r['simulated_err_hz'] / 1e3:.2g}",
            f"{r['reference_hz'] / 1e3:.4g}"
            + (f" ± {r['reference_err_hz'] / 1e3:.2g}" if r["reference_err_hz"] else ""),
            f"{r['ratio']:.3g}",
            "yes" if r["within"] else "[red]no[/red]",
        )
    console.print(table)
    if cmp["not_in_study"]:
        console.print(f"not in the study's menu: {', '.join(cmp['not_in_study'])}")
    return rows


def validate_rates(
    results: Annotated[Path, typer.Argument(help="Output directory (or results.json) of `l1t report`.")],
    reference: Annotated[
        Path, typer.Option(help="Reference rates YAML: source, conditions, [pileup], seeds: {name: {rate_hz, err_hz}}.")
    ] = DEFAULT_REFERENCE,
    factor: Annotated[
        float, typer.Option(help="A seed agrees when simulated / reference is within this factor.")
    ] = 2.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the comparison as JSON.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any compared seed lies outside the factor.")] = False,
) -> None:
    """Simulated vs reference rates, seed by seed: the rates of an `l1t report` run next to a cited reference
    table (publication or recorded-data rate study), with their ratio and whether it lies within --factor."""
    import json

    from l1t.atomic import write_text
    from l1t.studies.reference import ReferenceError, compare_rates, read_reference, read_results

    if factor <= 1:
        fail(f"--factor must be > 1, got {factor}")
    try:
        cmp = compare_rates(read_results(results), read_reference(reference), factor)
    except ReferenceError as err:
        fail(err)
    rows = print_comparison(cmp)
    if json_out is not None:
        write_text(json_out, json.dumps(cmp, indent=1))
    if strict and not all(r["within"] for r in rows.values()):
        raise typer.Exit(1)
