"""Throughput of l1t.emulator.fixed casts against the same casts in compiled C++ (hls4ml's ap_fixed.h, g++ -O2).

Both sides convert the same arrays in one run; the ratio is numpy time / C++ time per element (goal <= 3).
Run: ``make bench`` or ``python bench/fixed.py [--n 2000000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

import l1t.emulator.fixed as fx
from l1t.firmware.ap_types import ApTypesLibrary, RefCase

CASES = [
    RefCase("from_double", (fx.parse("ap_fixed<16,6,AP_RND_CONV,AP_SAT>"),)),
    RefCase("from_double", (fx.parse("ap_fixed<8,3>"),)),
    RefCase("from_double", (fx.parse("ap_ufixed<10,6,AP_RND,AP_SAT>"),)),
    RefCase("cast", (fx.parse("ap_fixed<32,12>"), fx.parse("ap_fixed<16,6,AP_RND,AP_SAT>"))),
    RefCase("cast", (fx.parse("ap_fixed<40,14>"), fx.parse("ap_ufixed<10,6,AP_RND_CONV,AP_SAT>"))),
    RefCase("cast", (fx.parse("ap_fixed<24,10>"), fx.parse("ap_fixed<16,6>"))),
]


def best_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def inputs(case: RefCase, n: int, rng: np.random.Generator) -> np.ndarray:
    if case.op == "from_double":
        t = case.types[0]
        return rng.normal(0.0, t.max / 2, n)  # mostly in range, tails saturate
    src = case.types[0]
    return rng.integers(src.raw_min, src.raw_max, n, endpoint=True, dtype=np.int64) >> rng.integers(0, 4, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="elements per cast")
    parser.add_argument("--repeat", type=int, default=5, help="timings per side; the best is kept")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    console = Console(width=130)
    lib = ApTypesLibrary(CASES, optimize="-O2")
    rng = np.random.default_rng(args.seed)
    table = Table(title=f"fixed-point casts, {args.n:,} elements each (best of {args.repeat})")
    for col in ("cast", "numpy Melem/s", "C++ ap_fixed.h Melem/s", "numpy / C++ time"):
        table.add_column(col, justify="right" if "/" in col else "left")
    ratios = []
    for index, case in enumerate(CASES):
        x = inputs(case, args.n, rng)
        if case.op == "from_double":
            t = case.types[0]
            emulate = lambda x=x, t=t: fx.from_float(x, t)  # noqa: E731
        else:
            src, dst = case.types
            emulate = lambda x=x, src=src, dst=dst: fx.cast(x, src, dst)  # noqa: E731
        if not np.array_equal(emulate(), lib.run(index, x)):
            raise SystemExit(f"bench inputs disagree with ap_fixed.h on {case}: run the tests")
        t_np = best_time(emulate, args.repeat)
        t_cpp = best_time(lambda index=index, x=x: lib.run(index, x), args.repeat)
        ratios.append(t_np / t_cpp)
        label = f"{'double' if case.op == 'from_double' else case.types[0]} -> {case.types[-1]}"
        table.add_row(label, f"{args.n / t_np / 1e6:.1f}", f"{args.n / t_cpp / 1e6:.1f}", f"{t_np / t_cpp:.2f}")
    console.print(table)
    geo = float(np.exp(np.mean(np.log(ratios))))
    verdict = "meets" if max(ratios) <= 3 else "misses"
    console.print(f"numpy / C++ time: geometric mean {geo:.2f}, worst {max(ratios):.2f} ({verdict} the goal of <= 3)")


if __name__ == "__main__":
    main()
