"""Fast simulation throughput in one run: L1 jets per second drawn from the conditional VAE (models/fastsim.py)
next to Pythia8 + pileup + detector response + L1 jet finding making the same jets (the reference).
The CVAE is trained first on freshly generated jets (its fidelity is `l1t train fastsim`'s business, not this one's).
Run: ``make bench`` or ``python bench/fastsim.py [--events 400] [--pileup 60]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from l1t.events import jets
from l1t.events.generate import Recipe, run
from l1t.models import fastsim
from l1t.pipelines.fastsim import speed_reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400, help="Pythia8 events per process")
    parser.add_argument("--pileup", type=float, default=60.0)
    parser.add_argument("--jets", type=int, default=100_000, help="jets drawn from the CVAE per process")
    args = parser.parse_args()
    processes = ["qcd_boosted", "zprime_tt"]
    with tempfile.TemporaryDirectory() as tmp:
        recipes = [Recipe(p, 600, 0.0, 3 + k, 300, output="jets") for k, p in enumerate(processes)]
        files = [run(r, Path(tmp) / f"{r.process}.h5", workers=2) for r in recipes]
        parts = [jets.read(f)[0] for f in files]
    x = np.concatenate([fastsim.encode(d["jets/hw"], d["constituents/hw"]) for d in parts])
    cond = np.zeros((len(x), 2), dtype=np.float32)
    cond[len(parts[0]["jets/label"]) :, 1] = 1
    cond[: len(parts[0]["jets/label"]), 0] = 1
    cfg = fastsim.FastSimConfig.from_yaml(epochs=20, patience=0)
    decoder, prior, _ = fastsim.train(cfg, x, cond, x[:500], cond[:500], seed=1)
    table = Table(title=f"L1 jets per second, pileup {args.pileup:g} (ratio to Pythia8 + response, same run)")
    for col in ("process", "Pythia8 + response [jets/s]", "CVAE [jets/s]", "ratio"):
        table.add_column(col, justify="left" if col == "process" else "right")
    for k, process in enumerate(processes):
        slow = speed_reference(process, args.pileup, args.events, seed=5)
        fastsim.sample(decoder, prior, k, 1000, seed=1)  # warm-up
        t0 = time.perf_counter()
        fastsim.sample(decoder, prior, k, args.jets, seed=2)
        fast = args.jets / (time.perf_counter() - t0)
        table.add_row(process, f"{slow:,.0f}", f"{fast:,.0f}", f"{fast / slow:,.0f}x")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
