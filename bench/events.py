"""Event-input throughput in one run: crossings/s of pileup overlay + detector response + L1 objects at <mu> = 60,
next to Pythia8 generating min-bias events (the reference). Goal: one crossing costs less than one min-bias event.
Also the generator-level truth of hard QCD events (FastJet anti-kt 0.4 and the leading objects) against Pythia8
generating those events: the cost truth adds to a signal file.
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
from l1t.events.pythia import generate, hard_qcd, run
from l1t.events.truth import truth_arrays


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
    # hard QCD (pT-hat > 30 GeV): Pythia8 per event, then the truth of the same events
    n_hard = max(args.pythia_events // 3, 20)
    t1 = time.perf_counter()
    run(hard_qcd(30.0, None), 20, 8)
    t2 = time.perf_counter()
    hard = run(hard_qcd(30.0, None), 20 + n_hard, 8).block
    t_hard = time.perf_counter() - t2 - (t2 - t1)
    truth_arrays(hard.take(np.arange(5)))  # FastJet loaded before timing
    t1 = time.perf_counter()
    truth_arrays(hard)
    t_truth = time.perf_counter() - t1
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
    truth = Table(title="generator-level truth of hard QCD events (ratio to Pythia8 making them, same run)")
    for col in ("step", "events per second", "vs Pythia8 hard QCD"):
        truth.add_column(col, justify="left" if col == "step" else "right")
    hard_rate = (20 + n_hard) / t_truth
    truth.add_row("Pythia8 hard QCD, pT-hat > 30 GeV", f"{n_hard / t_hard:,.0f}", "1.0x")
    truth.add_row("truth: anti-kt 0.4 (FastJet), leading objects, MET, HT", f"{hard_rate:,.0f}",
                  f"{hard_rate / (n_hard / t_hard):.1f}x")  # fmt: skip
    Console(width=120).print(truth)


if __name__ == "__main__":
    main()
