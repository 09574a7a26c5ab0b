"""``make firmware``: hls4ml project with its C-simulation checked against the emulator, generated Verilog, vendor
build where the tools exist, and ``report.json`` (latency, II, resource estimates)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.atomic import write_text
from l1t.emulator.nn import Network
from l1t.emulator.trigger import AxoTrigger, CicadaTrigger
from l1t.firmware.rtl import CMVM, DEFAULT_CMVM, RtlDesign, generate
from l1t.firmware.trigger import generate_trigger
from l1t.inventory import find_tool

__all__ = ["check_csim", "csim_mismatches", "designs_by_generator", "make_firmware", "measure", "yosys_resources"]

_YOSYS_CELLS = {
    "LUT": r"LUT\d",
    "FF": r"FD[A-Z]*",
    "DSP": r"DSP48E\d?",
    "BRAM": r"RAMB\d+\w*",
    "CARRY": r"CARRY\d",
}


YOSYS_TIMEOUT = 900.0  # seconds per design; a design yosys cannot finish in time is reported as such
# yosys's Xilinx (7-series) cell models with their specify delays, read over synth_xilinx's black boxes so that
# ``sta`` can time the netlist: clock-to-Q, then LUT, CARRY4, MUXF and DSP delays to each register's D
_TIMED_CELLS = "read_verilog -lib -specify -overwrite +/xilinx/cells_sim.v"


def yosys_resources(verilog: Path, top: str, timeout: float = YOSYS_TIMEOUT) -> dict[str, Any]:
    """LUT/FF/CARRY/DSP/BRAM counts from yosys ``synth_xilinx -flatten`` (an estimate; vendor synthesis differs) and
    ``logic_delay_ns``: the latest arrival at a register of yosys ``sta`` with the 7-series cell delays of yosys's
    Xilinx library, logic only (no routing, which vendor timing adds, often as much again), so a lower bound on the
    clock period the design's stages need; ``{"timeout": ...}`` when yosys does not finish within ``timeout``
    seconds."""
    tool = find_tool("yosys")
    if not tool.usable:
        return {"skipped": "yosys not found (apt-get install -y yosys)"}
    with tempfile.TemporaryDirectory(prefix="l1t-yosys-") as tmp:
        stat, sta = Path(tmp) / "stat.txt", Path(tmp) / "sta.txt"
        script = (
            f"read_verilog {verilog}; synth_xilinx -top {top} -flatten; tee -q -o {stat} stat; "
            f"{_TIMED_CELLS}; tee -q -o {sta} sta"
        )
        try:
            res = subprocess.run([tool.path, "-q", "-p", script], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"timeout": f"yosys synth_xilinx did not finish {top} in {timeout:.0f} s"}
        if res.returncode:
            return {"error": f"yosys failed: {res.stderr[-2000:]}"}
        text, timing = stat.read_text(), sta.read_text()
    cells = {name: int(count) for name, count in re.findall(r"^\s+(\w+)\s+(\d+)\s*$", text, re.MULTILINE)}
    out = {
        kind: sum(c for name, c in cells.items() if re.fullmatch(pattern, name))
        for kind, pattern in _YOSYS_CELLS.items()
    }
    if (arrival := re.search(r"Latest arrival time in '[^']*' is (\d+)", timing)) is not None:
        out["logic_delay_ns"] = int(arrival[1]) / 1000  # the library's delays are in ps
    out["tool"] = f"{tool.version}, synth_xilinx"
    return out


def measure(design: RtlDesign, timeout: float = YOSYS_TIMEOUT) -> dict[str, Any]:
    """A design's latency in clocks and its yosys resources (``yosys_resources``)."""
    with tempfile.TemporaryDirectory(prefix="l1t-rtl-") as tmp:
        return {"latency_clocks": design.latency, **yosys_resources(design.write(tmp), design.top, timeout)}


def designs_by_generator(
    net: Network | AxoTrigger | CicadaTrigger,
    *,
    top: str = "myproject",
    stages: int | None = None,
    generators: tuple[str, ...] = CMVM,
    graph_depth: int | None = None,
) -> dict[str, RtlDesign]:
    """The RTL of ``net`` (a network, or a trigger path for ``generate_trigger``) from each constant-matrix-product
    generator in ``generators`` (``l1t.firmware.rtl.CMVM``); ``graph_depth``: adder levels per clock inside da4ml's
    graphs (csd sums have none)."""
    if isinstance(net, Network):
        return {cmvm: generate(net, top=top, stages=stages, cmvm=cmvm, graph_depth=graph_depth) for cmvm in generators}
    return {cmvm: generate_trigger(net, cmvm=cmvm, graph_depth=graph_depth) for cmvm in generators}


def csim_mismatches(hls_model: Any, net: Network, x: np.ndarray) -> dict[str, int]:
    """Compile the hls4ml project (C-simulation), run it on float inputs ``x`` (exact in the input type), and
    compare its outputs with the emulator's, raw, on every event."""
    hls_model.compile()
    events = len(x)
    y = hls_model.predict(np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(events, -1)))
    y = y if isinstance(y, list) else [y]
    name, _, t = net.inputs[0]
    emu = net.run({name: fx.from_float(x, t)}, raw=True)
    mismatched = set()
    for out_name, v in zip(net.output_names, y, strict=True):
        ref = fx.from_float(np.asarray(v, dtype=np.float64).reshape(events, -1), net.types[out_name])
        mismatched.update(int(e) for e in np.argwhere(ref != emu[out_name])[:, 0])
    return {"events": events, "mismatches": len(mismatched)}


def check_csim(hls_model: Any, net: Network, events: int, seed: int) -> dict[str, Any]:
    """``csim_mismatches`` on random input words covering the input type's whole range."""
    _, shape, t = net.inputs[0]
    raw = np.random.default_rng(seed).integers(t.raw_min, t.raw_max, (events, *shape), endpoint=True)
    return csim_mismatches(hls_model, net, fx.to_float(raw, t))


def _vendor_build(hls_model: Any) -> dict[str, Any]:
    for tool in ("vitis_hls", "vivado"):
        if not find_tool(tool).usable:
            return {"skipped": f"{tool} not found"}
    report = hls_model.build(csim=False, synth=True, cosim=False, export=False)
    return {"ran": True, "hls4ml_report": report}


def make_firmware(
    net: Network,
    out_dir: str | Path,
    *,
    hls_model: Any | None = None,
    clock_period: float = 5.0,
    top: str = "myproject",
    resources: bool = True,
    csim_events: int = 10_000,
    seed: int = 1,
    stages: int | None = None,
    cmvm: str = DEFAULT_CMVM,
    graph_depth: int | None = None,
) -> dict[str, Any]:
    """Write ``rtl/<top>.v`` and ``report.json`` into ``out_dir``; returns the report.

    With ``hls_model`` (the hls4ml model the spec was exported from), its C-simulation is compiled and compared with
    the emulator and the vendor build runs if vitis_hls and vivado are on PATH. ``stages``: register stages of the
    generated RTL, ``cmvm`` its constant matrix products and ``graph_depth`` the adder levels per clock inside
    da4ml's graphs (``l1t.firmware.rtl.generate``). With ``resources``, the
    report's ``generators`` holds every generator's resources and clocks from the same yosys script, side by side.
    """
    out_dir = Path(out_dir)
    (out_dir / "rtl").mkdir(parents=True, exist_ok=True)
    design: RtlDesign = generate(net, top=top, stages=stages, cmvm=cmvm, graph_depth=graph_depth)
    verilog = out_dir / "rtl" / f"{top}.v"
    write_text(verilog, design.verilog)
    report: dict[str, Any] = {
        "top": top,
        "clock_period_ns": clock_period,
        "latency_clocks": design.latency,
        "latency_ns": design.latency * clock_period,
        "ii": 1,
        "inputs": [{"name": p.name, "elements": p.n, "type": str(p.type)} for p in design.inputs],
        "outputs": [{"name": p.name, "elements": p.n, "type": str(p.type)} for p in design.outputs],
        "cmvm": cmvm,
        "graph_depth": graph_depth,
        "generator": design.stats,
        "resources": yosys_resources(verilog, top) if resources else {"skipped": "not requested"},
    }
    if (delay := report["resources"].get("logic_delay_ns")) is not None:
        report["timing"] = {
            "logic_delay_ns": delay,
            "clock_period_ns": clock_period,
            "logic_fits_period": delay <= clock_period,
            "basis": "yosys sta, 7-series cell delays, logic only (routing adds to it)",
        }
    if resources:  # every generator side by side, with the same yosys script
        others = designs_by_generator(
            net, top=top, stages=stages, generators=tuple(k for k in CMVM if k != cmvm), graph_depth=graph_depth
        )
        mine = {"latency_clocks": design.latency, **report["resources"]}
        report["generators"] = {cmvm: mine} | {k: measure(d) for k, d in others.items()}
    if hls_model is not None:
        report["hls4ml"] = {
            "project": str(hls_model.config.get_output_dir()),
            "csim_vs_emulator": check_csim(hls_model, net, csim_events, seed),
            "vendor": _vendor_build(hls_model),
        }
    write_text(out_dir / "report.json", json.dumps(report, indent=1, default=str))
    if Path(net.source).is_dir() and Path(net.source).resolve() != (out_dir / "spec").resolve():
        shutil.copytree(net.source, out_dir / "spec", dirs_exist_ok=True)  # firmware dir = spec + RTL + report
    return report
