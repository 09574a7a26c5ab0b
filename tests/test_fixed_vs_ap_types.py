"""l1t.emulator.fixed against the ap_types headers shipped with hls4ml, compiled with g++: raw bits equal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from l1t.emulator.fixed import QMode
from l1t.firmware.ap_types import ApTypesLibrary, RefCase
from l1t.firmware.fixed_check import case_inputs, default_cases, double_values, emulate, type_matrix

from .conftest import assert_raw_equal

CASES = default_cases()
N_DEFAULT = 4000


@pytest.fixture(scope="module")
def reference() -> ApTypesLibrary:
    return ApTypesLibrary(CASES)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c.op}-{'-'.join(map(str, c.types))}" for c in CASES])
def test_matches_ap_types(reference: ApTypesLibrary, index: int) -> None:
    case = CASES[index]
    rng = np.random.default_rng(index)
    a, b = case_inputs(case, N_DEFAULT, rng)
    assert_raw_equal(case, (a, b), reference.run(index, a, b), emulate(case, a, b))


@pytest.mark.parametrize("index", [i for i, c in enumerate(CASES) if c.op in ("add", "sub", "mul")][:40])
def test_result_types_match_ap_types(reference: ApTypesLibrary, index: int) -> None:
    rt = CASES[index].result_type
    assert reference.result_info(index) == (rt.width, rt.int_bits, rt.signed)


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
