"""l1t.emulator.fixed against the ap_types headers shipped with hls4ml, compiled with g++: raw bits equal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from l1t.emulator.fixed import FixedType, OMode, QMode
from l1t.firmware.ap_types import ApTypesLibrary, RefCase
from l1t.firmware.fixed_check import (
    case_inputs,
    default_cases,
    double_values,
    emulate,
    type_matrix,
    wide_cases,
)

from .conftest import assert_raw_equal

CASES = default_cases()
WIDE = wide_cases()
N_DEFAULT = 4000


def _ids(cases: list[RefCase]) -> list[str]:
    return [f"{c.op}-{'-'.join(map(str, c.types))}" for c in cases]


@pytest.fixture(scope="module")
def reference() -> ApTypesLibrary:
    return ApTypesLibrary(CASES)


@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids(CASES))
def test_matches_ap_types(reference: ApTypesLibrary, index: int) -> None:
    case = CASES[index]
    rng = np.random.default_rng(index)
    a, b = case_inputs(case, N_DEFAULT, rng)
    assert_raw_equal(case, (a, b), reference.run(index, a, b), emulate(case, a, b))


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c.op in ("add", "sub", "mul")][:40])
def test_result_types_match_ap_types(reference: ApTypesLibrary, index: int) -> None:
    rt = CASES[index].result_type
    assert reference.result_info(index) == (rt.width, rt.int_bits, rt.signed)


@pytest.fixture(scope="module")
def wide_reference() -> ApTypesLibrary:
    return ApTypesLibrary(WIDE)


@pytest.mark.parametrize("index", range(len(WIDE)), ids=_ids(WIDE))
def test_wide_words_match_ap_types(wide_reference: ApTypesLibrary, index: int) -> None:
    """Types of 65..128 bits (Python-int words): every operation bit-equal with the headers' ap_private path."""
    case = WIDE[index]
    a, b = case_inputs(case, N_DEFAULT, np.random.default_rng([7, index]))
    got = emulate(case, a, b)
    rt = case.result_type
    assert rt is None or got.dtype == (object if rt.wide else np.int64)
    assert_raw_equal(case, (a, b), wide_reference.run(index, a, b), got)


@pytest.mark.parametrize("index", [i for i, c in enumerate(WIDE) if c.op in ("add", "sub", "mul")][::4])
def test_wide_result_types_match_ap_types(wide_reference: ApTypesLibrary, index: int) -> None:
    rt = WIDE[index].result_type
    assert wide_reference.result_info(index) == (rt.width, rt.int_bits, rt.signed)


def test_one_rounding_mode_flip_is_caught_on_wide_words() -> None:
    """The two-word transfer is not vacuous: RND_CONV in C++ against RND in the emulator differs on a 96-bit type."""
    cpp_type = FixedType(96, 40, True, QMode.RND_CONV, OMode.SAT)
    case = RefCase("cast", (FixedType(100, 40), cpp_type))  # 4 fraction bits dropped: ties are common
    lib = ApTypesLibrary([case])
    a, _ = case_inputs(case, 2000, np.random.default_rng(3))
    expected = lib.run(0, a)
    assert_raw_equal(case, (a,), expected, emulate(case, a, None))
    flipped = RefCase("cast", (case.types[0], dataclasses.replace(cpp_type, q_mode=QMode.RND)))
    with pytest.raises(AssertionError, match="differ; first at index"):
        assert_raw_equal(case, (a,), expected, emulate(flipped, a, None))


def test_one_rounding_mode_flip_is_caught() -> None:
    """The comparison sees a single-mode difference: RND_CONV in C++ against RND in the emulator."""
    conv = type_matrix(per_combo=1, seed=5)[0]
    cpp_type = dataclasses.replace(conv, q_mode=QMode.RND_CONV)
    emu_type = dataclasses.replace(conv, q_mode=QMode.RND)
    case = RefCase("from_double", (cpp_type,))
    lib = ApTypesLibrary([case])
    x = double_values(cpp_type, 2000, np.random.default_rng(0))
    expected = lib.run(0, x)
    with pytest.raises(AssertionError, match="differ; first at index"):
        assert_raw_equal(case, (x,), expected, emulate(RefCase("from_double", (emu_type,)), x, None))


@pytest.mark.slow
@pytest.mark.parametrize("q_mode", list(QMode), ids=lambda q: q.name)
def test_fuzz_one_million_per_mode_pair(q_mode: QMode) -> None:
    """>= 1e6 random doubles per (Q, O) pair over 16 types each (signed and unsigned, W 1..64), and 1e5
    random raw words per fixed-to-fixed cast between them."""
    types = [t for t in type_matrix(per_combo=8, seed=99) if t.q_mode is q_mode]
    cases = [RefCase("from_double", (t,)) for t in types]
    cases += [RefCase("cast", (types[(i * 5 + 3) % len(types)], t)) for i, t in enumerate(types)]
    lib = ApTypesLibrary(cases)
    per_type = {}
    for index, case in enumerate(cases):
        rng = np.random.default_rng(1000 + index)
        pair = case.types[-1].o_mode
        n = 1_000_000 // 8 if case.op == "from_double" else 100_000
        a, b = case_inputs(case, n, rng)
        assert_raw_equal(case, (a, b), lib.run(index, a, b), emulate(case, a, b))
        per_type[pair] = per_type.get(pair, 0) + (a.size if case.op == "from_double" else 0)
    assert all(count >= 1_000_000 for count in per_type.values()), per_type
