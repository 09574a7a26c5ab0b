"""Shipped configuration: detector, menus and model recipes (YAML), read with importlib.resources."""

from importlib.resources import files
from pathlib import Path

__all__ = ["path"]


def path(*parts: str) -> Path:
    """A shipped configuration file, e.g. ``path("menus", "default.yaml")`` (installed packages are unpacked on disk,
    so the resource is a real file)."""
    return Path(str(files(__name__).joinpath(*parts)))
