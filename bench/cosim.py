"""Co-simulation throughput, one run, one table: what each check of the AXOL1TL-like encoder costs in events/s.

Rows: the emulator (numpy), hls4ml's ``predict`` (its C-simulation through ctypes), the project's C++ alone (a g++
-O2 loop calling ``myproject()``: the ceiling of any DUT built on it), and the one cocotb bench on each DUT:
``hls-dpi`` (the hls4ml C++ over DPI-C, Verilator), ``rtl`` (generated Verilog, Verilator and Icarus).
Ratios are to hls4ml ``predict`` measured in the same run. A co-simulation's events/s include the simulator's
start-up (about a second), so long streams show the throughput. Goals: ``rtl`` on Verilator >= 50k events/s,
``hls-dpi`` >= 0.8x the C++ alone.
Run: ``make bench`` or ``python bench/cosim.py [--events 200000] [--icarus-events 5000]``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

import l1t.emulator.fixed as fx
from l1t.firmware import hls_dpi
from l1t.firmware.cosim import run_cosim
from l1t.firmware.rtl import generate
from l1t.models.export import convert, export_hls_model, hls_config
from l1t.models.reference import axol1tl_encoder


def cxx_alone(project_dir: Path, work: Path, n: int) -> float:
    """Events/s of the hls4ml project's top function alone, compiled with g++ -O2, on pseudo-random input words."""
    project = hls_dpi.read_project(project_dir)
    fw = project.directory / "firmware"
    decl = [f"    {t} {p.name}[{p.n}];" for p, t in project.inputs + project.outputs]
    fill = [
        f"        for (int i = 0; i < {p.n}; ++i) {{ state = state * 6364136223846793005ULL + 1;"
        f" {p.name}[i].range({t}::width - 1, 0) = state >> 40; }}"
        for p, t in project.inputs
    ]
    first_out = project.outputs[0][0].name
    args = ", ".join(p.name for p, _ in project.inputs + project.outputs)
    main = "\n".join(
        [
            f'#define WEIGHTS_DIR "{fw / "weights"}"',
            f'#include "{fw / f"{project.top}.cpp"}"',
            '#include "nnet_utils/nnet_helpers.h"',
            "#include <chrono>",
            "#include <cstdio>",
            "namespace nnet { bool trace_enabled = false; std::map<std::string, void *> *trace_outputs = NULL;",
            "size_t trace_type_size = sizeof(double); }",
            "int main() {",
            *decl,
            "    unsigned long long state = 1, check = 0;",
            "    auto t0 = std::chrono::steady_clock::now();",
            f"    for (int k = 0; k < {n}; ++k) {{",
            *fill,
            f"        {project.top}({args});",
            f"        check += {first_out}[0].range().to_uint64();",
            "    }",
            "    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();",
            f'    std::printf("%f %llu\\n", {n} / s, check);',
            "}",
        ]
    )
    src, exe = work / "cxx_alone.cpp", work / "cxx_alone"
    src.write_text(main)
    subprocess.run(
        ["g++", "-O2", "-std=c++17", f"-I{fw}", f"-I{fw / 'ap_types'}", str(src), "-o", str(exe)],
        check=True,
        capture_output=True,
    )
    return float(subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events on Verilator, predict and the emulator")
    parser.add_argument("--icarus-events", type=int, default=5_000, help="events on Icarus (slow on wide designs)")
    args = parser.parse_args()
    n = args.events
    with tempfile.TemporaryDirectory(prefix="l1t-bench-cosim-") as tmp:
        model = axol1tl_encoder(7)
        hls_model = convert(model, Path(tmp) / "prj", config=hls_config(model))
        hls_model.compile()
        net = export_hls_model(hls_model, Path(tmp) / "spec")
        name, shape, t = net.inputs[0]
        raw = np.random.default_rng(1).integers(t.raw_min, t.raw_max, (n, *shape), endpoint=True)
        x = np.ascontiguousarray(fx.to_float(raw, t).reshape(n, -1))
        t0 = time.perf_counter()
        net.run({name: raw}, raw=True)
        t1 = time.perf_counter()
        hls_model.predict(x)
        t2 = time.perf_counter()
        emu_rate, predict_rate = n / (t1 - t0), n / (t2 - t1)
        design = generate(net)
        table = Table(title=f"AXOL1TL-like encoder: events/s per check (ratio to hls4ml predict, {n:,} events)")
        for col in ("check", "events", "mismatches", "build s", "events/s", "vs predict"):
            table.add_column(col, justify="left" if col == "check" else "right")
        table.add_row("emulator (numpy)", f"{n:,}", "-", "-", f"{emu_rate:,.0f}", f"{emu_rate / predict_rate:.1f}x")
        table.add_row("hls4ml predict (C-sim)", f"{n:,}", "-", "-", f"{predict_rate:,.0f}", "1.0x")
        cxx = cxx_alone(Path(tmp) / "prj", Path(tmp), n)
        table.add_row(
            "hls4ml C++ alone (g++ -O2 loop)", f"{n:,}", "-", "-", f"{cxx:,.0f}", f"{cxx / predict_rate:.2f}x"
        )
        runs = [
            ("hls-dpi", "verilator", n, hls_dpi.dut(Path(tmp) / "prj", Path(tmp) / "dpi", latency=design.latency)),
            ("rtl", "verilator", n, design.dut(Path(tmp) / "rtl")),
            ("rtl", "icarus", args.icarus_events, design.dut(Path(tmp) / "rtl")),
        ]
        for kind, sim, m, dut in runs:
            r = run_cosim(dut, net, {name: raw[:m]}, sim, Path(tmp) / "cosim")
            rate = m / r.sim_seconds
            table.add_row(
                f"{kind} on {sim} (cocotb)",
                f"{m:,}",
                str(r.mismatches),
                f"{r.build_seconds:.1f}",
                f"{rate:,.0f}",
                f"{rate / predict_rate:.2f}x",
            )
        Console(width=130).print(table)


if __name__ == "__main__":
    main()
