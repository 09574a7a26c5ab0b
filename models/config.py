"""Model configurations: dataclasses filled from YAML through a pydantic schema, command-line overrides applied.

Each configuration dataclass sets ``__pydantic_config__ = STRICT``: unknown keys, wrong types and values outside the
ranges its field annotations state are errors naming the file, the field and the value (``l1t.schema``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field, Strict

import l1t.emulator.fixed as fx
from l1t.schema import STRICT, read_yaml, validate

__all__ = ["STRICT", "Bits", "Count", "Fraction", "NonNegative", "Patience", "Precision", "Rate", "Widths", "from_yaml"]

T = TypeVar("T")

Count = Annotated[int, Strict(), Field(ge=1)]  # epochs, batch size, layer widths, latent dimension
Widths = Annotated[list[Count], Strict(), Field(min_length=1)]  # hidden layer sizes
Rate = Annotated[float, Strict(), Field(gt=0)]  # learning rates, temperatures
Fraction = Annotated[float, Strict(), Field(ge=0, lt=1)]  # sparsity: the pruned fraction of weights
Bits = Annotated[list[Annotated[int, Strict(), Field(ge=0)]], Strict(), Field(min_length=2, max_length=2)]  # [W, I]
NonNegative = Annotated[float, Strict(), Field(ge=0)]
Patience = Annotated[int, Strict(), Field(ge=0)]  # EarlyStopping patience in epochs (0 allowed)


def _precision(text: str) -> str:
    fx.parse(text)  # raises ValueError naming the string
    return text


Precision = Annotated[str, Strict(), AfterValidator(_precision)]  # an ap_fixed / ap_int type


def from_yaml(cls: type[T], path: str | Path, overrides: dict[str, Any]) -> T:
    """``cls`` from the YAML file at ``path`` with the non-None ``overrides`` on top, validated against its schema."""
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(data).__name__} {data!r}")
    given = {k: v for k, v in overrides.items() if v is not None}
    source = f"{path} with {', '.join(f'{k}={v!r}' for k, v in given.items())}" if given else str(path)
    return validate(cls, {**data, **given}, source)
