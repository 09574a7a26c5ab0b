"""Check l1t.emulator.fixed against the compiled ap_types reference: type matrices, probing inputs, comparison.

Used by the test suite and by ``l1t selfcheck``, which runs the same comparison on the user's own hls4ml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator.fixed import (
    MAX_SIGNED_WIDTH,
    MAX_UNSIGNED_WIDTH,
    WORD_UNSIGNED_WIDTH,
    FixedType,
    OMode,
    QMode,
    ap_int,
    ap_uint,
    from_float,
)
from l1t.firmware.ap_types import ApTypesLibrary, RefCase

WIDTHS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 18, 24, 25, 31, 32, 33, 40, 48, 52, 53, 54, 55, 60, 62, 63, 64)
WIDE_WIDTHS = (64, 65, 66, 69, 75, 80, 96, 104, 111, 120, 127, 128)  # 64: wide only when unsigned
I_KINDS = ("negative", "zero", "inside", "equal", "above")


def _int_bits(kind: str, width: int, rng: np.random.Generator) -> int:
    if kind == "negative":
        return -int(rng.integers(1, 9))
    if kind == "zero":
        return 0
    if kind == "inside":
        return int(rng.integers(1, width)) if width > 1 else 1
    if kind == "equal":
        return width
    return width + int(rng.integers(1, 11))


def type_matrix(per_combo: int, seed: int, wide: bool = False) -> list[FixedType]:
    """Types for every (Q, O, signedness): ``per_combo`` each, cycling the position of I relative to W
    (below 0, 0, inside, = W, above W) and spreading W over 1..64 (or, ``wide``, over the widths past int64 up to
    128); WRAP also gets N = 1..3 saturation bits."""
    rng = np.random.default_rng(seed)
    types = []
    combo = 0
    for q in QMode:
        for o in OMode:
            for signed in (True, False):
                limit = MAX_SIGNED_WIDTH if signed else MAX_UNSIGNED_WIDTH
                widths = WIDE_WIDTHS if wide else WIDTHS
                pool = [w for w in widths if w <= limit and FixedType(w, w, signed).wide == wide]
                for j in range(per_combo):
                    width = pool[(combo * 7 + j * 11 + int(rng.integers(0, 3))) % len(pool)]
                    kind = I_KINDS[(combo + j) % len(I_KINDS)]
                    n_bits = 0
                    if o is OMode.WRAP and j % 2 == 1 and width > 1:
                        n_bits = int(rng.integers(1, min(3, width) + 1))
                    types.append(FixedType(width, _int_bits(kind, width, rng), signed, q, o, n_bits))
                combo += 1
    return types


def integer_types() -> list[FixedType]:
    return [ap_int(w) for w in (1, 2, 8, 16, 33, 64)] + [ap_uint(w) for w in (1, 7, 10, 32, 63)]


def raw_values(t: FixedType, n: int, rng: np.random.Generator) -> np.ndarray:
    """Edges of t's range plus random raw words, uniform and with random magnitude (Python ints for a wide t)."""
    lo, hi = t.raw_min, t.raw_max
    edges = sorted({v for v in (lo, lo + 1, -1, 0, 1, 2, hi - 1, hi) if lo <= v <= hi})
    shrink = rng.integers(0, t.width, size=n - n // 2 - len(edges)).astype(np.int64)
    if not t.wide:
        uniform = rng.integers(lo, hi, size=n // 2, endpoint=True, dtype=np.int64)
        scaled = rng.integers(lo, hi, size=shrink.size, endpoint=True, dtype=np.int64) >> shrink
        return np.concatenate([np.array(edges, dtype=np.int64), uniform, scaled])

    def uniform_wide(size: int) -> np.ndarray:  # two 64-bit draws per word, reduced onto [lo, hi]
        high, low = (rng.integers(0, 2**63, size=size, dtype=np.int64).astype(object) for _ in range(2))
        return lo + ((high << 63) + low) % (hi - lo + 1)

    edges = np.array(edges, dtype=object)
    return np.concatenate([edges, uniform_wide(n // 2), uniform_wide(shrink.size) >> shrink.astype(object)])


def double_values(t: FixedType, n: int, rng: np.random.Generator) -> np.ndarray:
    """Doubles that probe every rounding and overflow path of a cast into t.

    Edge raws (min, max, just past either, far past) with offsets of 0, +-1/4, +-1/2 (ties), +-3/4 LSB;
    special doubles (+-0, +-inf, subnormals, huge); random values on a grid 2**-8 finer than the LSB over 1.25x
    the range (ties occur); log-uniform magnitudes from far below the LSB to far above the range.
    """
    lo, hi, f = t.raw_min, t.raw_max, t.frac_bits
    anchors = [lo, lo + 1, -1, 0, 1, hi - 1, hi, hi + 1, lo - 1, 2 * hi + 2, 2 * lo - 2, hi + (1 << 12), lo - (1 << 12)]
    offsets = np.array([0.0, 0.25, -0.25, 0.5, -0.5, 0.75, -0.75])
    edge = (np.array(anchors, dtype=np.float64)[:, None] + offsets[None, :]).ravel()
    edge = np.ldexp(edge, -f)
    tiny = np.nextafter(0.0, 1.0)
    special = np.array([0.0, -0.0, np.inf, -np.inf, tiny, -tiny, 1e-300, -1e-300, 1e300, -1e300, 1.0, -1.0, 0.5, -0.5])
    n_grid = (n - edge.size - special.size) // 2
    span = (hi - lo) * 1.25 + 8
    grid = np.round(rng.uniform(lo - span / 8, hi + span / 8, n_grid) * 256) / 256
    grid = np.ldexp(grid, -f)
    n_log = n - edge.size - special.size - n_grid
    expo = rng.uniform(-f - 12, t.int_bits + 12, n_log)
    logu = np.ldexp(rng.uniform(1.0, 2.0, n_log), np.floor(expo).astype(np.int64)) * rng.choice([-1.0, 1.0], n_log)
    return np.concatenate([edge, special, grid, logu])


def shift_amounts(t: FixedType, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, t.width + 3, size=size, dtype=np.int64)


def default_cases(seed: int = 20261124) -> list[RefCase]:
    """The default-set matrix: every (Q, O, S) from double, plus casts, arithmetic, shifts, compares."""
    rng = np.random.default_rng(seed)
    conv = type_matrix(per_combo=4, seed=seed)
    ints = integer_types()
    cases = [RefCase("from_double", (t,)) for t in conv + ints]
    # casts: fixed -> fixed across all modes, plus fixed <-> ap_int
    for dst in conv:
        src = conv[int(rng.integers(0, len(conv)))]
        cases.append(RefCase("cast", (src, dst)))
    defined = [t for t in conv if t.int_bits >= 0]  # to_ap_int_base is undefined for I < 0
    for i, it in enumerate(ints):
        cases += [RefCase("cast", (defined[(i * 37) % len(defined)], it)), RefCase("cast", (it, conv[i * 13]))]
    small = [t for t in type_matrix(per_combo=1, seed=seed + 1) if t.width <= 31] + ints[:3] + ints[6:9]
    for op in ("add", "sub", "mul"):
        for _ in range(30):
            a = small[int(rng.integers(0, len(small)))]
            b = small[int(rng.integers(0, len(small)))]
            if op == "mul" and a.width + b.width > WORD_UNSIGNED_WIDTH:
                continue
            cases.append(RefCase(op, (a, b)))
    for t in conv[::7]:
        cases += [RefCase("shl", (t,)), RefCase("shr", (t,)), RefCase("to_double", (t,))]
    for t in conv[3::9]:
        cases.append(RefCase("cmp", (t, conv[int(rng.integers(0, len(conv)))])))
    # mixed signedness around the 32-bit threshold of the header's usual-arithmetic-conversion rule
    for wa, ia, wb, ib in ((40, 10, 40, 20), (33, 3, 16, 8), (8, 4, 8, 2), (31, 5, 31, 9), (16, 2, 48, 40)):
        cases += [RefCase("cmp", (FixedType(wa, ia), FixedType(wb, ib, False)))]
        cases += [RefCase("cmp", (FixedType(wb, ib, False), FixedType(wa, ia)))]
    return cases


def wide_cases(seed: int = 20261201) -> list[RefCase]:
    """Types past int64 (65..128 bits): from double, casts into, out of and between them, arithmetic whose result
    is wide (also of two narrow operands), shifts, to_double and compares."""
    rng = np.random.default_rng(seed)
    wide = type_matrix(per_combo=2, seed=seed, wide=True)
    narrow = [t for t in type_matrix(per_combo=1, seed=seed + 1) if t.width >= 16]
    cases = [RefCase("from_double", (t,)) for t in [*wide, ap_int(100), ap_uint(72)]]
    for i, dst in enumerate(wide):
        cases.append(RefCase("cast", (wide[(i * 5 + 3) % len(wide)], dst)))
        cases.append(RefCase("cast", (narrow[i % len(narrow)], dst)))
        cases.append(RefCase("cast", (dst, narrow[(i * 3 + 1) % len(narrow)])))
    defined = [t for t in wide if t.int_bits >= 0]  # to_ap_int_base is undefined for I < 0
    for i, it in enumerate((ap_int(100), ap_int(16), ap_uint(90))):
        cases += [RefCase("cast", (defined[(i * 11) % len(defined)], it)), RefCase("cast", (it, wide[i * 7]))]
    operands = wide + narrow
    for op in ("add", "sub", "mul"):
        made = 0
        while made < 16:
            a = operands[int(rng.integers(0, len(operands)))]
            b = operands[int(rng.integers(0, len(operands)))]
            try:
                rt = RefCase(op, (a, b)).result_type
            except ValueError:  # past 128 bits
                continue
            if rt.wide:
                cases.append(RefCase(op, (a, b)))
                made += 1
    for t in wide[::5]:
        cases += [RefCase("shl", (t,)), RefCase("shr", (t,)), RefCase("to_double", (t,))]
    for i, t in enumerate(wide[1::6]):
        other = wide[(i * 13) % len(wide)] if i % 2 else narrow[i % len(narrow)]
        if t.signed == other.signed:  # mixed signedness of wide words follows other rules: not modelled
            cases += [RefCase("cmp", (t, other)), RefCase("cmp", (other, t))]
    return cases


def case_inputs(case: RefCase, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs for a reference case: doubles for from_double, raw words otherwise."""
    t = case.types
    if case.op == "from_double":
        return double_values(t[0], n, rng), None
    a = raw_values(t[0], n, rng)
    if case.op in ("cast", "to_double"):
        return a, None
    if case.op in ("shl", "shr"):
        return a, shift_amounts(t[0], a.size, rng)
    b = raw_values(t[1], a.size, rng)
    if case.op == "cmp":  # make equal values common: b takes a's value where it is representable
        same = from_float(np.ldexp(a[::3].astype(np.float64), -t[0].frac_bits), t[1])
        b[::3] = same
    return a, b


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


@dataclass(frozen=True)
class Mismatch:
    """The first difference between the reference and the emulator on one case."""

    case: RefCase
    count: int
    total: int
    index: int
    inputs: tuple
    expected: object
    got: object

    def __str__(self) -> str:
        shown = ", ".join(repr(x) for x in self.inputs)
        return (
            f"{self.case.op}{tuple(str(t) for t in self.case.types)}: {self.count} of {self.total} differ; "
            f"first at index {self.index}: input(s) {shown}: ap_types {self.expected!r}, emulator {self.got!r}"
        )


def find_mismatch(case: RefCase, inputs: tuple, expected: np.ndarray, got: np.ndarray) -> Mismatch | None:
    """Compare raw bits (float outputs by their bit patterns); None when every element is equal."""
    if expected.dtype.kind == "f":
        same = expected.view(np.int64) == np.asarray(got, dtype=np.float64).view(np.int64)
    else:
        same = np.asarray(expected == got, dtype=bool)
    if same.all():
        return None
    bad = np.flatnonzero(~same)
    i = int(bad[0])

    def value(x: np.ndarray) -> object:
        v = np.asarray(x)[i]
        return v.item() if isinstance(v, np.generic) else v  # Python ints (wide words) as they are

    shown = tuple(value(x) for x in inputs if x is not None)
    return Mismatch(case, int(bad.size), int(same.size), i, shown, value(expected), value(got))


def run_check(
    cases: list[RefCase],
    n: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, list[Mismatch]]:
    """Run every case on ``n`` probing inputs against the compiled headers; returns (values compared, mismatches)."""
    lib = ApTypesLibrary(cases)
    compared, mismatches = 0, []
    for index, case in enumerate(cases):
        a, b = case_inputs(case, n, np.random.default_rng([seed, index]))
        found = find_mismatch(case, (a, b), lib.run(index, a, b), emulate(case, a, b))
        compared += a.size
        if found is not None:
            mismatches.append(found)
        if progress is not None:
            progress(index + 1)
    return compared, mismatches
