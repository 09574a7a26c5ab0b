"""da4ml's adder graphs as l1t checks and uses them: evaluated here with Python integers, every node stays inside
its stated range and width and every output equals x @ kernel, on random and extreme input words."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("da4ml")

import l1t.emulator.fixed as fx
from l1t.firmware.cmvm import AdderGraph, CmvmError, solve


def evaluate(graph: AdderGraph, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """(x @ kernel as the graph computes it, every adder's raw words); x: events x inputs, Python ints."""
    raw = [x[:, i] for i in range(graph.n_inputs)]
    exp = [0] * graph.n_inputs
    nodes = []
    for node in graph.adders:
        total = np.zeros(len(x), dtype=object)
        for t in node.terms:
            k = exp[t.node] + t.shift - node.exp
            assert k >= 0
            total = total + (-1 if t.neg else 1) * raw[t.node] * (1 << k)
        raw.append(total)
        exp.append(node.exp)
        nodes.append(total)
    out = []
    for t in graph.outputs:
        if t is None:
            out.append(np.zeros(len(x), dtype=object))
            continue
        e = exp[t.node] + t.shift
        v = raw[t.node] * (1 << e) if e >= 0 else raw[t.node] // (1 << -e)
        if e < 0:  # the dropped bits must be zero
            assert all(int(r) % (1 << -e) == 0 for r in raw[t.node])
        out.append(-v if t.neg else v)
    return np.stack(out, axis=1), nodes


def extremes(kernel: np.ndarray, t: fx.FixedType, rng: np.random.Generator, n: int) -> np.ndarray:
    """Random words plus, per output, the inputs that make it largest and smallest, and the type's two ends."""
    x = [rng.integers(t.raw_min, t.raw_max, (n, kernel.shape[0]), endpoint=True)]
    for sign in (1, -1):
        x.append(np.where(sign * kernel.T > 0, t.raw_max, t.raw_min))
    x.append(np.full((2, kernel.shape[0]), [[t.raw_min], [t.raw_max]]))
    return np.concatenate(x).astype(object)


@pytest.mark.parametrize(
    ("x_t", "shape", "zeros", "wmax"),
    [
        (fx.ap_fixed(16, 6), (57, 32), 0.25, 31),  # the AXOL1TL encoder's first layer
        (fx.ap_ufixed(8, 3), (16, 8), 0.15, 31),  # after a ReLU: unsigned words
        (fx.ap_fixed(10, 4), (9, 3), 0.0, 511),  # a conv window: wide weights
        (fx.ap_ufixed(1, 1), (20, 5), 0.5, 7),  # one-bit inputs
    ],
)
def test_graph_computes_the_kernel_inside_its_ranges(x_t: fx.FixedType, shape, zeros: float, wmax: int) -> None:
    rng = np.random.default_rng(sum(shape))
    kernel = rng.integers(-wmax, wmax, shape, endpoint=True) * (rng.random(shape) >= zeros)
    kernel[:, 0] = 0  # an output that is always zero
    kernel[1, :] = 0  # an input no output uses
    graph = solve(kernel, x_t)
    x = extremes(kernel, x_t, rng, 2000)
    got, nodes = evaluate(graph, x)
    np.testing.assert_array_equal(got, x @ kernel.astype(object))
    assert graph.outputs[0] is None
    for node, raw in zip(graph.adders, nodes, strict=True):
        assert node.lo <= raw.min() and raw.max() <= node.hi
        lo, hi = (-(1 << (node.width - 1)), (1 << (node.width - 1)) - 1) if node.signed else (0, (1 << node.width) - 1)
        assert lo <= node.lo and node.hi <= hi
    # shared sub-expressions: fewer adders than the one-output-at-a-time sums of canonical signed digits need
    digits = np.vectorize(lambda w: bin(3 * abs(int(w)) ^ abs(int(w))).count("1"))(kernel).sum(axis=0)
    assert len(graph.adders) < int(np.maximum(digits - 1, 0).sum())


def test_unsigned_sums_get_exact_ranges() -> None:
    """A sum of unsigned words is unsigned with the range of its coefficients, whatever da4ml's own interval says."""
    kernel = np.array([[1, 1, 3], [4, 0, 5], [2, 1, 0]])
    graph = solve(kernel, fx.ap_ufixed(8, 8))
    for node in graph.adders:
        if all(not t.neg for t in node.terms):
            assert node.lo >= 0 and not node.signed


def test_too_wide_a_kernel_is_refused() -> None:
    with pytest.raises(CmvmError, match="past 2\\*\\*24"):
        solve(np.array([[1 << 23], [1 << 23]]), fx.ap_fixed(8, 8))
