"""Model configurations: dataclasses filled from YAML, unknown keys rejected, command-line overrides applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = ["from_yaml"]

T = TypeVar("T")


def from_yaml(cls: type[T], path: str | Path, overrides: dict[str, Any]) -> T:
    """``cls`` from the YAML file at ``path`` with the non-None ``overrides`` on top; names the file on errors."""
    path = Path(path)
    data = yaml.safe_load(path.read_text()) or {}
    unknown = set(data) - set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    return cls(**{**data, **{k: v for k, v in overrides.items() if v is not None}})
