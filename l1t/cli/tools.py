"""``l1t info`` and ``l1t selfcheck``: the toolchain, and the fixed-point core against hls4ml's ap_types."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from l1t import __version__
from l1t.cli._app import Seed, console, fail
from l1t.inventory import inventory


def info(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    layers: Annotated[bool, typer.Option("--layers", help="The layers l1t models, from its registries.")] = False,
    schema: Annotated[
        str | None, typer.Option("--schema", help="JSON Schema of a config format: menu, detector or a model kind.")
    ] = None,
) -> None:
    """Versions of the toolchain and which external tools are present and usable; with --layers, what the emulator,
    the exporter and the RTL generator support; with --schema, a configuration file format."""
    if layers:
        show_layers(as_json)
        return
    if schema is not None:
        formats = config_formats()
        if schema not in formats:
            fail(f"--schema {schema!r}: the formats are {', '.join(formats)}")
        from pydantic import TypeAdapter

        typer.echo(json.dumps(TypeAdapter(formats[schema]).json_schema(), indent=2))
        return
    data = inventory()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    show_inventory(data)


def config_formats() -> dict[str, type]:
    """The configuration file formats by name: their schemas (menu, detector, each model kind's configuration)."""
    from l1t.emulator.menu import MenuSpec
    from l1t.events.detector import DetectorSpec
    from l1t.kinds import KINDS

    return {"menu": MenuSpec, "detector": DetectorSpec, **{name: kind.config for name, kind in KINDS.items()}}


def show_layers(as_json: bool) -> None:
    """The hls4ml layer classes the exporter reads, the emulator's ops and those the RTL generator writes."""
    from l1t.emulator.nn import supported_ops, wide_ops
    from l1t.firmware.rtl import generated_ops
    from l1t.models.export import STREAM_PROVEN, SUPPORTED_IO, SUPPORTED_STRATEGIES, exported_layers
    from l1t.models.hls_project import imported_functions

    data = {
        "hls4ml_layers": sorted(exported_layers()),
        "io_types": list(SUPPORTED_IO),
        "io_stream_layers": sorted(STREAM_PROVEN),
        "strategies": list(SUPPORTED_STRATEGIES),
        "emulator_ops": sorted(supported_ops()),
        "emulator_ops_past_64_bits": sorted(wide_ops()),
        "rtl_ops": sorted(generated_ops()),
        "project_nnet_functions": sorted(imported_functions()),
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(title="what l1t models (anything else is refused by name at export, import or RTL generation)")
    table.add_column("registry")
    table.add_column("entries")
    for key, values in data.items():
        table.add_row(key.replace("_", " "), ", ".join(values))
    console.print(table)


def show_inventory(data: dict) -> None:
    packages = Table(title=f"l1t {__version__} on Python {data['python']}")
    packages.add_column("package")
    packages.add_column("version")
    for name, ver in data["packages"].items():
        packages.add_row(name, ver or "[red]not installed[/red]")
    console.print(packages)
    tools = Table(title="external tools")
    for col in ("tool", "status", "version / path", "used for"):
        tools.add_column(col)
    for tool in data["tools"]:
        if tool["version"]:
            status, detail = "[green]usable[/green]", f"{tool['version']}  ({tool['path']})"
        elif tool["path"]:
            status, detail = "[yellow]present, fails to run[/yellow]", tool["path"]
        else:
            status, detail = "[dim]not found[/dim]", ""
        tools.add_row(tool["name"], status, detail, tool["purpose"])
    console.print(tools)


def selfcheck(
    values: Annotated[int, typer.Option(help="Probing values per case.")] = 20_000,
    seed: Seed = 1,
) -> None:
    """Compare l1t.emulator.fixed with the ap_types headers of the installed hls4ml, compiled with g++, bit for bit."""
    check_fixed(values, seed)


def check_fixed(values: int, seed: int) -> None:
    """The self-check with a progress bar; exits 1 on any mismatch, 2 when g++ is missing."""
    from l1t.cpp import ToolMissing
    from l1t.firmware.fixed_check import default_cases, run_check

    cases = default_cases()
    console.print(f"compiling {len(cases)} reference cases against hls4ml's ap_types (cached after the first run)")
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("comparing", total=len(cases))
            compared, mismatches = run_check(
                cases, values, seed, progress=lambda done: progress.update(task, completed=done)
            )
    except ToolMissing as err:
        fail(f"selfcheck needs a missing tool: {err}")
    for m in mismatches[:20]:
        console.print(f"[red]mismatch[/red] {m}")
    colour = "red" if mismatches else "green"
    console.print(
        f"[{colour}]{compared} values over {len(cases)} cases, {len(mismatches)} cases with mismatches[/{colour}]"
    )
    if mismatches:
        raise typer.Exit(1)
