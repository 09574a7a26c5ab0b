"""Events/s of the emulator, hls4ml C-simulation (``hls_model.predict``) and Keras ``predict`` on the same events.

One run, side by side, on the AXOL1TL-like encoder, the CICADA-like student, the L1 tagger, a depthwise-separable
CNN, LSTM and GRU sequence taggers and an MLP whose inferred accumulators are past 64 bits (the emulator's wide
words); the emulator's outputs are checked against hls4ml on every benchmarked event.
Goal: emulator >= 50x hls4ml predict.
Run: ``make bench`` or ``python bench/nn.py [--events 100000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

import l1t.emulator.fixed as fx
from l1t.emulator.allocator import keep_large_blocks
from l1t.models.export import export, hls_config
from l1t.models.reference import ARCHITECTURES


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="timings per side; the best is kept")
    default = ["axol1tl_encoder", "cicada_student", "l1_tagger", "depthwise_cnn", "lstm_tagger", "gru_tagger"]
    parser.add_argument("--models", nargs="*", default=[*default, "wide_mlp"])
    args = parser.parse_args()
    console = Console(width=160)
    table = Table(title=f"{args.events:,} events per model (best of {args.repeat})")
    columns = (
        "model",
        "emulator ev/s",
        "emulator, raw in ev/s",
        "hls4ml predict ev/s",
        "Keras predict ev/s",
        "emu / hls4ml",
        "emu raw / hls4ml",
        "emu / Keras",
    )
    for col in columns:
        table.add_column(col, justify="left" if col == "model" else "right")
    with tempfile.TemporaryDirectory(prefix="l1t-bench-nn-") as tmp:
        for arch in (a for a in ARCHITECTURES if a.name in args.models):
            model = arch.build(7)
            net, hls_model = export(
                model, Path(tmp) / arch.name, config=hls_config(model, overrides=arch.overrides(model))
            )
            hls_model.compile()
            _, shape, t = net.inputs[0]
            rng = np.random.default_rng(1)
            raw = np.clip(np.round(rng.normal(0, 2.0 / t.lsb, (args.events, *shape))), t.raw_min, t.raw_max)
            x = fx.to_float(raw.astype(np.int64), t)
            flat = np.ascontiguousarray(x.reshape(len(x), -1))
            t_emu, emu = timed(lambda x=x, net=net: net.run(x), args.repeat)
            raw_in = net.quantize(x)
            t_raw, _ = timed(lambda raw_in=raw_in, net=net: net.run(raw_in, raw=True), args.repeat)
            t_hls, hls = timed(lambda flat=flat, hls_model=hls_model: hls_model.predict(flat), args.repeat)
            t_keras, _ = timed(lambda x=x, model=model: model.predict(x, batch_size=4096, verbose=0), args.repeat)
            hls = hls if isinstance(hls, list) else [hls]
            for name, ref in zip(net.output_names, hls, strict=True):
                ref_raw = fx.from_float(np.asarray(ref, dtype=np.float64).reshape(len(x), -1), net.types[name])
                if not np.array_equal(ref_raw, emu[name]):
                    raise SystemExit(f"{arch.name}: emulator differs from hls4ml on output {name}; run the tests")
            n = args.events
            table.add_row(
                arch.name,
                f"{n / t_emu:,.0f}",
                f"{n / t_raw:,.0f}",
                f"{n / t_hls:,.0f}",
                f"{n / t_keras:,.0f}",
                f"{t_hls / t_emu:.1f}x",
                f"{t_hls / t_raw:.1f}x",
                f"{t_keras / t_emu:.1f}x",
            )
    console.print(table)
    console.print("emulator outputs equal hls4ml C-simulation on every benchmarked event")


if __name__ == "__main__":
    keep_large_blocks()  # as the l1t command does
    main()
