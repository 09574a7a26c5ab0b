"""Event-input throughput in one run: crossings/s of pileup overlay + detector response + L1 objects at <mu> = 60,
next to Pythia8 generating min-bias events (the reference). Goal: one crossing costs less than one min-bias event.
Run: ``make bench`` or ``python bench/events.py [--crossings 2000] [--pythia-events 300]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from l1t.events.detector import Detector
from l1t.events.pileup import overlay
from l1t.events.pythia import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crossings", type=int, default=2000)
    parser.add_argument("--pythia-events", type=int, default=300)
    parser.add_argument("--pileup", type=float, default=60.0)
    args = parser.parse_args()
    # Pythia8's per-event cost without its initialization: the difference of two runs of different lengths
    t0 = time.perf_counter()
    generate("minbias", 20, seed=7)
    t1 = time.perf_counter()
    library = generate("minbias", 20 + args.pythia_events, seed=7)
    t_pythia = time.perf_counter() - t1 - (t1 - t0)
    detector = Detector.from_yaml()
    rng = np.random.default_rng(1)
    chunk = 500
    t_overlay = t_response = 0.0
    done = 0
    while done < args.crossings:
        n = min(chunk, args.crossings - done)
        t1 = time.perf_counter()
        particles, _ = overlay(library, n, args.pileup, rng)
        t2 = time.perf_counter()
        detector.respond(particles, rng)
        t3 = time.perf_counter()
        t_overlay += t2 - t1
        t_response += t3 - t2
        done += n
    py_rate = args.pythia_events / t_pythia
    table = Table(title=f"event inputs, pileup {args.pileup:g} (ratio to Pythia8 min-bias events/s, same run)")
    for col in ("step", "per second", "vs one Pythia8 min-bias event"):
        table.add_column(col, justify="left" if col == "step" else "right")
    table.add_row("Pythia8 min-bias (initialization excluded)", f"{py_rate:,.0f} events", "1.0x")
    for name, t in (
        ("overlay", t_overlay),
        ("response + L1 objects", t_response),
        ("crossing total", t_overlay + t_response),
    ):
        rate = args.crossings / t
        table.add_row(name, f"{rate:,.0f} crossings", f"{rate / py_rate:.2f}x")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
