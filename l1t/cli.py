"""The ``l1t`` command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from l1t import __version__
from l1t.inventory import inventory

app = typer.Typer(
    help="Bit-accurate Level-1 trigger emulation, its networks, their firmware, and emulator-vs-firmware regression.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

Seed = Annotated[int, typer.Option(help="Random seed; every command is reproducible from it.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"l1t {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """l1t: emulator, models, firmware and co-simulation for L1 trigger algorithms."""


@app.command()
def info(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Versions of the toolchain and which external tools are present and usable."""
    data = inventory()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
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


@app.command()
def selfcheck(
    values: Annotated[int, typer.Option(help="Probing values per case.")] = 20_000,
    seed: Seed = 1,
) -> None:
    """Compare emulator.fixed with the ap_types headers of the installed hls4ml, compiled with g++, bit for bit."""
    from firmware.ap_types import ToolMissing
    from firmware.fixed_check import default_cases, run_check

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
        console.print(f"[red]selfcheck needs a missing tool:[/red] {err}")
        raise typer.Exit(2) from None
    for m in mismatches[:20]:
        console.print(f"[red]mismatch[/red] {m}")
    colour = "red" if mismatches else "green"
    console.print(
        f"[{colour}]{compared} values over {len(cases)} cases, {len(mismatches)} cases with mismatches[/{colour}]"
    )
    if mismatches:
        raise typer.Exit(1)


@app.command()
def demo(seed: Seed = 1) -> None:
    """The main job on built-in defaults: tool inventory, then the fixed-point self-check."""
    info(as_json=False)
    selfcheck(values=20_000, seed=seed)
