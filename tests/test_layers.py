"""The layer rule over the import graph: emulator <- (firmware, models) <- application.

Every module of the l1t namespace is parsed (imports inside functions included). The emulator imports nothing above
it and no ML/HDL framework; firmware and models never import the application or each other. Utilities every layer
uses sit at the bottom and import no layer: ``l1t`` itself (version), ``l1t.atomic``, ``l1t.inventory``,
``l1t.configs``, ``l1t.cpp``, ``l1t.extras``, ``l1t.hls_text``, ``l1t.schema``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"emulator": "l1t.emulator", "models": "l1t.models", "firmware": "l1t.firmware", "l1t": "l1t"}
APPLICATION = ("l1t.cli", "l1t.kinds", "l1t.events", "l1t.pipelines", "l1t.studies")
BOTTOM = (
    "l1t", "l1t.atomic", "l1t.inventory", "l1t.configs", "l1t.cpp", "l1t.extras", "l1t.hls_text", "l1t.schema",
)  # fmt: skip
FRAMEWORKS = ("tensorflow", "tensorflow_model_optimization", "qkeras", "hls4ml", "cocotb", "cocotb_tools", "da4ml")
FORBIDDEN = {
    "l1t.emulator": ("l1t.models", "l1t.firmware", *APPLICATION, *FRAMEWORKS, "matplotlib", "dask", "distributed"),
    "l1t.firmware": ("l1t.models", *APPLICATION),
    "l1t.models": ("l1t.firmware", *APPLICATION),
    "bottom": ("l1t.emulator", "l1t.models", "l1t.firmware", *APPLICATION),
}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            out[".".join((package, *parts))] = path
    return out


def _imports(module: str, path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import (l1t imports by absolute names)"
            found.add(node.module or "")
    return found


def _layer(module: str) -> str | None:
    if module in BOTTOM:
        return "bottom"
    return next((layer for layer in FORBIDDEN if module == layer or module.startswith(layer + ".")), None)


def _violations() -> set[tuple[str, str]]:
    bad = set()
    for module, path in _modules().items():
        layer = _layer(module)
        if layer is None:
            continue
        for target in _imports(module, path):
            if any(target == f or target.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.add((module, target))
    return bad


def test_modules_are_found() -> None:
    modules = _modules()
    assert {"l1t.emulator.nn", "l1t.models.export", "l1t.firmware.rtl", "l1t.cli"} <= set(modules)


def test_layers_point_one_way() -> None:
    bad = sorted(_violations())
    assert not bad, "imports against the layer rule: " + "; ".join(f"{m} imports {t}" for m, t in bad)


@pytest.mark.parametrize("bare", ["emulator", "models", "firmware"])
def test_no_bare_top_level_imports(bare: str) -> None:
    """Nothing imports the folders under their own names (ruff's banned-api says the same for new code)."""
    offenders = [m for m, path in _modules().items() if any(t.split(".")[0] == bare for t in _imports(m, path))]
    assert not offenders, f"bare `{bare}` imported by {offenders}"
