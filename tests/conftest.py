from __future__ import annotations

import numpy as np

import emulator.fixed as fx
from firmware.ap_types import RefCase


def emulate(case: RefCase, a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The emulator's answer for a reference case."""
    t = case.types
    if case.op == "from_double":
        return fx.from_float(a, t[0])
    if case.op == "to_double":
        return fx.to_float(a, t[0])
    if case.op == "cast":
        return fx.cast(a, t[0], t[1])
    if case.op == "shl":
        return fx.shift_left(a, t[0], b)
    if case.op == "shr":
        return fx.shift_right(a, t[0], b)
    if case.op == "cmp":
        return fx.compare(a, t[0], b, t[1]).astype(np.int64)
    return {"add": fx.add, "sub": fx.sub, "mul": fx.mul}[case.op](a, t[0], b, t[1])[0]


def assert_raw_equal(case: RefCase, inputs: tuple, expected: np.ndarray, got: np.ndarray) -> None:
    """Assert bit equality; on failure name the case, the count and the first differing input."""
    if expected.dtype.kind == "f":
        same = expected.view(np.int64) == got.view(np.int64)
    else:
        same = expected == got
    if same.all():
        return
    bad = np.flatnonzero(~same)
    i = int(bad[0])
    shown = ", ".join(repr(x[i].item()) for x in inputs if x is not None)
    raise AssertionError(
        f"{case.op}{tuple(str(t) for t in case.types)}: {bad.size} of {same.size} differ; first at index {i}: "
        f"input(s) {shown}: ap_types {expected[i]!r}, emulator {got[i]!r}"
    )
