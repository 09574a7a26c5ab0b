"""Constant matrix-vector products through da4ml: the optimized graph of two-input adders (shared sub-expressions,
shifts for free) that computes ``x @ kernel`` for integer input words and an integer kernel.

da4ml finds the graph; this module turns it into l1t's ``AdderGraph`` and proves it, independently of da4ml's own
bookkeeping: every node's exact coefficients over the inputs are carried through the graph, the outputs' must equal
the kernel, and each node's width comes from the exact range of its linear function over the input type (da4ml
0.5.2's own intervals can have the wrong sign, e.g. [-318.75, 0] for a sum of two unsigned inputs). Every quantity
is a raw integer: the inputs are the layer's input words, the kernel is the raw weight matrix, so each output is the
exact integer sum that dense_latency accumulates before its bias and casts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from l1t.emulator.fixed import FixedType
from l1t.extras import require

__all__ = ["AdderGraph", "CmvmError", "Node", "Term", "solve"]

# da4ml solves with a float32 kernel, and the coefficients below are float64: every raw weight, and every partial
# coefficient (bounded by the sum of a column's magnitudes times its shifts), must be an integer they hold exactly
_FLOAT32_EXACT = 1 << 24
_ADDER_SIZE = 1  # da4ml's cost model: cost per adder bit (its tracer's default hardware configuration)


class CmvmError(ValueError):
    """A kernel da4ml cannot take exactly, or a graph that does not reproduce it."""


@dataclass(frozen=True)
class Term:
    """``(-1 if neg else 1) * node * 2**shift``."""

    node: int
    shift: int = 0
    neg: bool = False

    def scaled(self, shift: int, neg: bool) -> Term:
        return Term(self.node, self.shift + shift, self.neg ^ neg)


@dataclass(frozen=True)
class Node:
    """One adder (or a negation): the sum of its one or two terms, value ``raw * 2**exp`` with ``raw`` in [lo, hi],
    exact over the input type's range."""

    terms: tuple[Term, ...]
    exp: int
    lo: int
    hi: int

    @property
    def signed(self) -> bool:
        return self.lo < 0

    @property
    def width(self) -> int:
        """The fewest bits that hold every raw value (two's complement when signed)."""
        if self.signed:
            return max((-self.lo - 1).bit_length(), self.hi.bit_length()) + 1
        return max(self.hi.bit_length(), 1)


@dataclass(frozen=True)
class AdderGraph:
    """Nodes 0 .. n_inputs-1 are the input words (exp 0); node n_inputs + k is ``adders[k]``. ``outputs[j]`` is the
    term that equals column j of x @ kernel (None: a zero column). An output's exp plus shift may be negative: the
    dropped bits are zero, because the graph's coefficients equal the integer kernel."""

    n_inputs: int
    adders: tuple[Node, ...]
    outputs: tuple[Term | None, ...]


def solve(kernel: np.ndarray, x_t: FixedType) -> AdderGraph:
    """da4ml's adder graph for ``x @ kernel``, every x a raw word of ``x_t``, checked as the module says; solved once
    per kernel and input range in a process (da4ml's search takes seconds to tens of seconds on a layer).

    Raises CmvmError when a weight is past float32's exact integers or the graph does not compute the kernel."""
    kernel = np.asarray(kernel, dtype=np.int64)
    return _solve(kernel.tobytes(), kernel.shape, x_t.raw_min, x_t.raw_max)


@functools.lru_cache(maxsize=64)
def _solve(data: bytes, shape: tuple[int, ...], raw_min: int, raw_max: int) -> AdderGraph:
    require("hdl", "constant matrix products through da4ml")
    from da4ml.cmvm.api import solve as da4ml_solve
    from da4ml.cmvm.types import QInterval

    kernel = np.frombuffer(data, dtype=np.int64).reshape(shape)
    n_in = kernel.shape[0]
    column_sum = int(np.abs(kernel).sum(axis=0).max()) if kernel.size else 0
    if column_sum >= _FLOAT32_EXACT:
        raise CmvmError(f"a column's weights sum to {column_sum}, past 2**24")
    interval = QInterval(float(raw_min), float(raw_max), 1.0)
    pipeline = da4ml_solve(kernel.astype(np.float32), qintervals=[interval] * n_in, adder_size=_ADDER_SIZE)

    coef = list(np.eye(n_in))  # each node's coefficients over the inputs (dyadic rationals, exact in float64)
    adders: list[Node] = []
    refs: list[Term | None] = [Term(i) for i in range(n_in)]
    exp = [0] * n_in
    for stage in pipeline.solutions:
        buf: list[Term | None] = []
        for op in stage.ops:
            if op.opcode == -1:  # an input of the stage, times 2**inp_shift
                r = refs[op.id0]
                buf.append(None if r is None else r.scaled(int(stage.inp_shifts[op.id0]), False))
            elif op.opcode in (0, 1):  # buf[id0] +/- buf[id1] * 2**data
                b = buf[op.id1]
                b = None if b is None else b.scaled(int(op.data), op.opcode == 1)
                buf.append(_add(buf[op.id0], b, coef, exp, adders, (raw_min, raw_max)))
            else:
                raise CmvmError(f"da4ml operation {op.opcode} in a constant matrix product")
        refs = [
            None if idx < 0 or buf[idx] is None else buf[idx].scaled(int(shift), bool(neg))
            for idx, shift, neg in zip(stage.out_idxs, stage.out_shifts, stage.out_negs, strict=True)
        ]
    got = np.stack([_value(r, coef) if r is not None else np.zeros(n_in) for r in refs], axis=1)
    if not np.array_equal(got, kernel.astype(np.float64)):
        raise CmvmError("da4ml's adder graph does not compute the kernel")
    return AdderGraph(n_in, tuple(adders), tuple(refs))


def _value(t: Term, coef: list[np.ndarray]) -> np.ndarray:
    return (-1.0 if t.neg else 1.0) * np.ldexp(coef[t.node], t.shift)


def _add(
    a: Term | None, b: Term | None, coef: list[np.ndarray], exp: list[int], adders: list[Node], x_range: tuple[int, int]
) -> Term | None:
    """The node for a + b (an operand that is zero adds nothing; a lone positive operand is itself)."""
    terms = tuple(t for t in (a, b) if t is not None)
    if not terms:
        return None
    if len(terms) == 1 and not terms[0].neg:
        return terms[0]
    c = sum(_value(t, coef) for t in terms)
    e = min(exp[t.node] + t.shift for t in terms)  # the structural LSB: every operand's shift into it is >= 0
    raw = np.ldexp(c, -e)  # raw = x @ raw for integer words x: integer coefficients
    k = raw.astype(np.int64)
    if not np.array_equal(k, raw):
        raise CmvmError("an adder's coefficients are not integers at its least significant bit")
    ends = np.stack([k * x_range[0], k * x_range[1]])
    lo, hi = int(ends.min(axis=0).sum()), int(ends.max(axis=0).sum())
    if lo == hi == 0:  # a node that is zero for every input
        return None
    coef.append(c)
    exp.append(e)
    adders.append(Node(terms, e, lo, hi))
    return Term(len(exp) - 1)
