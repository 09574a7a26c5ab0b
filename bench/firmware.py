"""Firmware resources, one run, one table: the generated RTL of the three reference models and of both trigger tops,
with constant matrix products as da4ml adder graphs and as l1t's own canonical-signed-digit sums (``csd``), through
the same yosys ``synth_xilinx -flatten`` script.

Columns: latency in clocks, LUT/FF/CARRY/DSP/BRAM of each generator and ``logic_delay_ns``, the latest arrival at a
register of yosys ``sta`` with 7-series cell delays (logic only, no routing: a lower bound on the period its clocks
need); ratios are da4ml to csd, measured in the same run. Goal: LUT ratio <= 0.4 on every design, 0 DSP where csd
uses 0, equal or fewer clocks. A design yosys does not finish within --timeout seconds is reported as such.
Run: ``make bench`` or ``python bench/firmware.py [--timeout 900] [--jobs 2] [--graph-depth N]``.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from l1t.emulator.nn import Network
from l1t.emulator.trigger import AxoTrigger, CicadaTrigger
from l1t.firmware.build import YOSYS_TIMEOUT, designs_by_generator, measure
from l1t.models.export import convert, export_hls_model, hls_config
from l1t.models.reference import axol1tl_encoder, cicada_student, l1_tagger

KINDS = ("LUT", "FF", "CARRY", "DSP", "BRAM", "logic_delay_ns")


def exported(build, name: str, work: Path) -> Network:
    model = build(7)
    return export_hls_model(convert(model, work / name / "prj", config=hls_config(model)), work / name / "spec")


def cell(result: dict, kind: str) -> str:
    if kind in result:
        return f"{result[kind]:,}"
    return "timeout" if "timeout" in result else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=YOSYS_TIMEOUT, help="seconds of yosys per design")
    parser.add_argument("--jobs", type=int, default=2, help="yosys runs at once")
    parser.add_argument("--graph-depth", type=int, help="adder levels per clock inside da4ml's graphs (default: whole)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="l1t-bench-firmware-") as tmp:
        work = Path(tmp)
        encoder = exported(axol1tl_encoder, "axol1tl_encoder", work)
        student = exported(cicada_student, "cicada_student", work)
        rng = np.random.default_rng(1)
        axo = AxoTrigger(encoder, rng.integers(-20, 60, 57), rng.integers(0, 7, 57), [100, 1000], "R_z")
        designs = {
            "axol1tl_encoder": encoder,
            "cicada_student": student,
            "l1_tagger": exported(l1_tagger, "l1_tagger", work),
            "AXOL1TL trigger top (R_z)": axo,
            "CICADA trigger top": CicadaTrigger(student, [10, 100]),
        }
        rtl = {
            (name, cmvm): d
            for name, net in designs.items()
            for cmvm, d in designs_by_generator(net, graph_depth=args.graph_depth).items()
        }
        console = Console(width=150)

        def run(key: tuple[str, str]) -> dict:
            result = measure(rtl[key], args.timeout)
            console.print(f"{key[0]} ({key[1]}): {result}")  # progress: yosys takes minutes per design
            return result

        with ThreadPoolExecutor(args.jobs) as pool:  # yosys runs as a subprocess: threads overlap the runs
            results = dict(zip(rtl, pool.map(run, rtl), strict=True))
    table = Table(title="generated RTL, yosys synth_xilinx -flatten: da4ml adder graphs vs csd sums (ratio da4ml/csd)")
    for col in ("design", "generator", "clocks", *KINDS, "LUT ratio"):
        table.add_column(col, justify="left" if col in ("design", "generator") else "right")
    for name in designs:
        new, old = results[(name, "da4ml")], results[(name, "csd")]
        for cmvm, r in (("csd", old), ("da4ml", new)):
            ratio = f"{new['LUT'] / old['LUT']:.2f}" if cmvm == "da4ml" and "LUT" in new and old.get("LUT") else ""
            table.add_row(name, cmvm, str(r["latency_clocks"]), *(cell(r, k) for k in KINDS), ratio)
    console.print(table)


if __name__ == "__main__":
    main()
