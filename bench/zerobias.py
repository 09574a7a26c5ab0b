"""Zero bias in one run, same crossings and workers: the pT-hat-stratified, weighted generation (min-bias library
sized to pileup/0.005, CMS QCD pT-hat edges) against the reference, the unstratified generation with the former
2,000-event library. Prints wall seconds per crossing (everything: Pythia8 libraries and hard events, pileup,
detector, file), the largest share of crossings any library event is in, and every classic seed's rate with its
uncertainty, so the cost of the rates' credibility is on the same page as the rates.
Run: ``python bench/zerobias.py [--crossings 4000] [--pileup 60] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from l1t.emulator.menu import Menu
from l1t.events import dataset
from l1t.events.generate import ZERO_BIAS_BINS, Recipe, run
from l1t.studies import rates

MENU = Path(__file__).resolve().parents[1] / "configs" / "menus" / "default.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crossings", type=int, default=4000)
    parser.add_argument("--pileup", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    recipes = {
        "reference: library 2,000, unstratified": Recipe("minbias", args.crossings, args.pileup, 7, library=2000),
        "stratified, library pileup/0.005": Recipe(
            "minbias", args.crossings, args.pileup, 7, pthat_bins=ZERO_BIAS_BINS
        ),
    }
    seconds, found, shares = {}, {}, {}
    menu = Menu.from_yaml(MENU)
    menu.keep_ad_models(set())
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, recipe) in enumerate(recipes.items()):
            t0 = time.perf_counter()
            path = run(recipe, Path(tmp) / f"zb{k}.h5", workers=args.workers)
            seconds[name] = time.perf_counter() - t0
            ev = dataset.read(path)
            shares[name] = ev.attrs["pileup_max_share"]
            found[name] = rates.study(menu, ev.data, {}, {}, rates.N_BUNCHES, dataset.read_weights(path), {})
    ref = next(iter(recipes))
    table = Table(title=f"zero bias, {args.crossings:,} crossings at pileup {args.pileup:g}, {args.workers} workers")
    table.add_column("")
    for name in recipes:
        table.add_column(name, justify="right")
    table.add_row("ms per crossing", *(f"{1e3 * seconds[n] / args.crossings:.1f}" for n in recipes))
    table.add_row("vs reference", *(f"{seconds[n] / seconds[ref]:.2f}x" for n in recipes))
    table.add_row("max share of crossings per library event", *(f"{shares[n]:.2%}" for n in recipes))
    totals = (f"{found[n]['total_rate_hz'] / 1e3:.1f} ± {found[n]['total_rate_err_hz'] / 1e3:.1f}" for n in recipes)
    table.add_row("menu total [kHz]", *totals)
    for seed in found[ref]["seeds"]:
        table.add_row(seed, *(f"{found[n]['seeds'][seed]['rate_hz'] / 1e3:.3g} ± "
                              f"{found[n]['seeds'][seed]['rate_err_hz'] / 1e3:.2g}" for n in recipes))  # fmt: skip
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
