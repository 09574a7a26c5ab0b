"""The devices under test of a firmware directory written by ``l1t firmware``: the generated RTL as it would go to
the board (``rtl``), hls4ml's C++ behind DPI-C (``hls-dpi``) and vendor-made Verilog (``vendor``) of its project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import l1t.emulator.fixed as fx
from l1t.firmware.dut import DUT_KINDS, Dut, DutUnavailable, Port

__all__ = ["firmware_dut", "read_report"]


def read_report(firmware_dir: Path) -> dict[str, Any]:
    """The directory's ``report.json``; a directory without one is refused naming it."""
    path = firmware_dir / "report.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run `l1t firmware` first")
    return json.loads(path.read_text())


def _ports(entries: list[dict[str, Any]]) -> list[Port]:
    return [Port(e["name"], e["elements"], fx.parse(e["type"])) for e in entries]


def _rtl(firmware_dir: Path, report: dict[str, Any], project: Path, latency: int | None) -> Dut:
    rtl_file = firmware_dir / "rtl" / f"{report['top']}.v"
    if not rtl_file.is_file():
        raise DutUnavailable(f"{rtl_file} not found; run `l1t firmware` first")
    ins, outs = _ports(report["inputs"]), _ports(report["outputs"])
    return Dut("rtl", report["top"], [rtl_file], report["latency_clocks"], ins, outs)


def _hls_dpi(firmware_dir: Path, report: dict[str, Any], project: Path, latency: int | None) -> Dut:
    from l1t.firmware import hls_dpi

    out = firmware_dir / "cosim" / "hls-dpi"
    return hls_dpi.dut(project, out, latency=latency, default_latency=report["latency_clocks"])


def _vendor(firmware_dir: Path, report: dict[str, Any], project: Path, latency: int | None) -> Dut:
    from l1t.firmware import vendor

    return vendor.dut(project, firmware_dir / "cosim" / "vendor")


# kind -> (builder, whether it is built from the hls4ml project)
_BUILDERS = {"hls-dpi": (_hls_dpi, True), "rtl": (_rtl, False), "vendor": (_vendor, True)}


def firmware_dut(kind: str, firmware_dir: Path, *, project: Path | None = None, latency: int | None = None) -> Dut:
    """The DUT of one kind (``DUT_KINDS``) for ``firmware_dir``; ``project`` overrides its ``hls4ml_prj``, ``latency``
    the hls-dpi timing (else the project's synthesis report, else the generated RTL's). Raises DutUnavailable."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown DUT {kind!r}; choose from {', '.join(DUT_KINDS)}")
    build, from_project = _BUILDERS[kind]
    report = read_report(firmware_dir)
    project = project or firmware_dir / "hls4ml_prj"
    if from_project and not (project / "firmware").is_dir():
        raise DutUnavailable(f"no hls4ml project at {project}; give one with --project")
    return build(firmware_dir, report, project, latency)
