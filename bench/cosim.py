"""Co-simulation throughput: events/s of the generated RTL under cocotb on Verilator and on Icarus, in one run,
next to the emulator on the same events (AXOL1TL-like encoder). Goal: >= 10,000 events/s on Verilator.
Run: ``make bench`` or ``python bench/cosim.py [--events 20000] [--icarus-events 300]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from firmware.cosim import run_cosim
from firmware.rtl import generate
from models.export import convert, export_hls_model, hls_config
from models.reference import axol1tl_encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events on Verilator")
    parser.add_argument("--icarus-events", type=int, default=300, help="events on Icarus (slow on wide designs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="l1t-bench-cosim-") as tmp:
        model = axol1tl_encoder(7)
        net = export_hls_model(convert(model, Path(tmp) / "prj", config=hls_config(model)), Path(tmp) / "spec")
        design = generate(net)
        name, shape, t = net.inputs[0]
        raw = np.random.default_rng(1).integers(t.raw_min, t.raw_max, (args.events, *shape), endpoint=True)
        t0 = time.perf_counter()
        net.run({name: raw}, raw=True)
        t_emu = time.perf_counter() - t0
        table = Table(title="generated RTL under cocotb vs the emulator (AXOL1TL-like encoder)")
        for col in ("engine", "events", "mismatches", "build s", "events/s", "emulator / engine"):
            table.add_column(col, justify="left" if col == "engine" else "right")
        table.add_row("emulator (numpy)", f"{args.events:,}", "-", "-", f"{args.events / t_emu:,.0f}", "1")
        for sim, n in (("verilator", args.events), ("icarus", args.icarus_events)):
            r = run_cosim(design, net, {name: raw[:n]}, sim, Path(tmp) / sim)
            rate = n / r.sim_seconds
            table.add_row(
                sim,
                f"{n:,}",
                str(r.mismatches),
                f"{r.build_seconds:.1f}",
                f"{rate:,.0f}",
                f"{args.events / t_emu / rate:,.0f}x",
            )
        Console(width=130).print(table)


if __name__ == "__main__":
    main()
