"""Time of the emulator's two exact convolution paths on the same events: tap sums (``_tap_sums``) against the band
product (``_band_weights`` on BLAS), per geometry, and the path ``_conv``'s rule (``BAND_COLUMNS``,
``BAND_OVER_TAPS``) picks. Both paths' outputs are compared word for word.

Reference: the band product, measured in the same run. Goal: the rule picks the faster path (within noise).
Run: ``make bench`` or ``python bench/conv_paths.py [--events 100000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from l1t.emulator import nn
from l1t.emulator.allocator import keep_large_blocks
from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network

# (input spatial shape, kernel, stride, channels, filters): the CICADA student's 3x3 at stride 2 first
GEOMETRIES = [
    ((18, 14), (3, 3), (2, 2), 1, 3),
    ((18, 14), (3, 3), (2, 2), 1, 2),
    ((18, 14), (3, 3), (2, 2), 2, 3),
    ((24, 20), (3, 3), (2, 2), 1, 3),
    ((18, 14), (2, 2), (2, 2), 1, 4),
    ((18, 14), (3, 3), (1, 1), 1, 4),
    ((16, 16), (3, 3), (1, 1), 8, 16),
    ((32,), (3,), (1,), 8, 8),
]


def spec(spatial: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], channels: int, filters: int):
    out = [(n - k) // s + 1 for n, k, s in zip(spatial, kernel, stride, strict=True)]
    types = {"result_t": "ap_ufixed<10,6,AP_RND_CONV,AP_SAT>", "weight_t": "ap_fixed<6,2>", "bias_t": "ap_fixed<6,2>",
             "accum_t": "ap_fixed<30,14>"}  # fmt: skip
    layer = {"name": "conv", "op": f"conv{len(spatial)}d", "inputs": ["x"], "shape": [*out, filters], "types": types,
             "attrs": {"kernel": list(kernel), "stride": list(stride), "pads": [0] * (2 * len(spatial))},
             "arrays": {"weight": "w", "bias": "b"}}  # fmt: skip
    return {"format": SPEC_FORMAT, "version": SPEC_VERSION, "outputs": ["conv"], "layers": [layer],
            "inputs": [{"name": "x", "shape": [*spatial, channels], "type": "ap_fixed<10,4>"}]}  # fmt: skip


def best_ms(net: Network, x: np.ndarray, repeat: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = net.run({"x": x}, raw=True)["conv"]
        best = min(best, time.perf_counter() - start)
    return best * 1e3, out


def runs_tap_sums(net: Network, x: np.ndarray) -> bool:
    """Whether ``net`` computes its convolution as tap sums under the rule in force."""
    calls, kernel = [], nn._tap_sums

    def counted(*args: object) -> None:
        calls.append(1)
        kernel(*args)

    nn._tap_sums = counted
    try:
        net.run({"x": x}, raw=True)
    finally:
        nn._tap_sums = kernel
    return bool(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    keep_large_blocks()
    rng = np.random.default_rng(0)
    table = Table(title=f"exact convolution paths, {args.events:,} events of int16 words (best of {args.repeat})")
    for col in ("input", "kernel", "stride", "C -> F", "tap sums ms", "band ms", "taps / band", "rule picks", "equal"):
        table.add_column(col, justify="right")
    rule = nn.BAND_COLUMNS, nn.BAND_OVER_TAPS
    for spatial, kernel, stride, channels, filters in GEOMETRIES:
        w = rng.integers(-32, 32, (int(np.prod(kernel)) * channels, filters))
        net = Network(spec(spatial, kernel, stride, channels, filters), {"w": w, "b": rng.integers(-8, 8, filters)})
        x = rng.integers(-512, 512, (args.events, *spatial, channels)).astype(np.int16)
        nn.BAND_COLUMNS, nn.BAND_OVER_TAPS = 10**9, 0  # tap sums
        taps_ms, taps_out = best_ms(net, x, args.repeat)
        nn.BAND_COLUMNS = 0  # the band
        band_ms, band_out = best_ms(net, x, args.repeat)
        nn.BAND_COLUMNS, nn.BAND_OVER_TAPS = rule
        picks = "taps" if runs_tap_sums(net, x[:1]) else "band"
        shape = ["x".join(map(str, dims)) for dims in (spatial, kernel, stride)]
        times = (f"{taps_ms:.1f}", f"{band_ms:.1f}", f"{taps_ms / band_ms:.2f}")
        table.add_row(*shape, f"{channels} -> {filters}", *times, picks, str(np.array_equal(taps_out, band_out)))
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
