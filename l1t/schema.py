"""Configuration files checked against pydantic schemas, with errors that name the file, the field and the value.

Every YAML format l1t reads (menus, the detector, model configurations) is a schema built on :class:`Strict`:
unknown keys, values of the wrong type (no silent conversion of strings or lists), and values outside their stated
range are errors. :func:`validate` turns pydantic's report into one line per problem, e.g.
``menu.yaml: seeds.L1_SingleMu22.pt: Input should be greater than or equal to 0 (got -5.0)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

__all__ = ["STRICT", "Strict", "describe", "read_yaml", "validate"]

STRICT = ConfigDict(extra="forbid")  # for configuration dataclasses, whose field types carry pydantic.Strict()
T = TypeVar("T")


class Strict(BaseModel):
    """Base of l1t's config schemas: unknown keys and wrong types are errors; a validated config is immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def describe(err: ValidationError, source: str) -> str:
    """One line per problem: source, dotted field path, pydantic's message and the offending value."""
    lines = []
    for e in err.errors(include_url=False):
        where = "".join(f"{p}." for p in e["loc"])[:-1] + ": " if e["loc"] else ""
        message = e["msg"].removeprefix("Value error, ")  # a validator's own sentence
        shown = "" if isinstance(e["input"], dict) else f" (got {e['input']!r})"  # a whole section: its path says it
        lines.append(f"{source}: {where}{message}{shown}")
    return "\n".join(lines)


def validate(schema: type[T], data: Any, source: str, error: type[ValueError] = ValueError) -> T:
    """``data`` checked against ``schema`` (a :class:`Strict` model, or a dataclass carrying ``STRICT`` whose field
    types are strict); raises ``error`` with :func:`describe`'s message."""
    try:
        return TypeAdapter(schema).validate_python(data)
    except ValidationError as err:
        raise error(describe(err, source)) from None


def read_yaml(path: str | Path, error: type[ValueError] = ValueError) -> Any:
    """The YAML document at ``path`` (None for an empty file); unreadable or malformed files raise ``error`` naming
    the file (and line, for a syntax error)."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except OSError as err:
        raise error(f"{path}: cannot read ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise error(f"{path}:{where} not valid YAML ({getattr(err, 'problem', None) or err})") from None
