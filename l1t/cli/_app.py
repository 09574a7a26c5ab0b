"""The Typer application every command group registers on, its console and shared options."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from l1t import __version__, configs
from l1t.emulator.allocator import keep_large_blocks

__all__ = ["DEFAULT_MENU", "DEFAULT_REFERENCE", "Seed", "app", "console", "escape", "fail", "model_options"]

DEFAULT_MENU = configs.path("menus", "default.yaml")
DEFAULT_REFERENCE = configs.path("references", "cms_2018_zero_bias_pu40.yaml")  # recorded rates, cited inside

app = typer.Typer(
    help="Bit-accurate Level-1 trigger emulation, its networks, their firmware, and emulator-vs-firmware regression.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

Seed = Annotated[int, typer.Option(help="Random seed; every command is reproducible from it.")]


def fail(err: object, code: int = 2) -> NoReturn:
    """Print ``err`` (its message names the file and value) and exit with ``code``, without a traceback."""
    console.print(f"[red]{escape(str(err))}[/red]", soft_wrap=True)  # a path in the message stays whole
    raise typer.Exit(code)


def model_options(specs: list[str] | None, option: str) -> dict[str, Path]:
    """``MODEL=RUN_DIR`` options -> {menu model name: run directory}."""
    models = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            fail(f"{option} {spec!r}: expected MODEL=RUN_DIR")
        models[name] = Path(path)
    return models


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
    # the application's process-wide choices: the emulator's chunked temporaries stay in the heap; TensorFlow's
    # start-up notices (oneDNN, CPU features), its Python warnings about compiled metrics and retracing, and
    # Keras's notice on serializing QKeras quantizers as constraints hidden (errors still show)
    keep_large_blocks()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # cocotb's runners log every build and simulator command at INFO (their logger is named after the runner
    # class, its level reset to INFO on each use); the commands print their own summary, and the logs are in files
    for runner in ("Verilator", "Icarus"):
        logging.getLogger(runner).propagate = False  # warnings and errors still reach stderr (logging's last resort)
    warnings.filterwarnings("ignore", message=r"The `keras\.constraints\.serialize\(\)` API", category=UserWarning)
