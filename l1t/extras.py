"""Optional dependencies: which extra of the ``l1t`` distribution brings each optional module, and the message that
says so when one is missing."""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtra", "extra_of", "message", "require"]

# extra -> the top-level modules it installs (pyproject.toml's optional-dependencies)
EXTRAS: dict[str, tuple[str, ...]] = {
    "ml": ("tensorflow", "tensorflow_model_optimization", "qkeras", "hls4ml", "matplotlib", "scipy"),
    "hdl": ("cocotb", "cocotb_tools", "da4ml"),
    "studies": ("mplhep", "hist", "dask", "distributed"),
    "events": ("pythia8mc",),
    "parquet": ("pyarrow",),
}


class MissingExtra(ModuleNotFoundError):
    """An optional module is not installed; the message names the extra that brings it."""


def extra_of(module: str) -> str | None:
    """The extra that installs ``module`` (or a submodule of it), None for a module l1t does not make optional."""
    top = module.split(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)


def message(module: str, feature: str = "") -> str:
    extra = extra_of(module)
    needs = f"{feature} needs" if feature else "needs"
    if extra is None:
        return f"{needs} the Python module {module!r}, which is not installed"
    return f"{needs} {module!r} from the {extra!r} extra: pip install 'l1t[{extra}]' (or `make setup` in a checkout)"


def require(extra: str, feature: str) -> None:
    """Raise MissingExtra naming ``extra`` when any module it installs is missing (``feature`` is what needs it)."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(message(module, feature), name=module)
