"""``l1t trigger``: a trained model's whole trigger path in RTL with the report's thresholds, written with its
``report.json``, ready for the co-simulation bench."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from l1t.atomic import write_text
from l1t.firmware.dut import Dut
from l1t.kinds import TriggerPath, load_trigger

__all__ = ["TriggerFirmware", "trigger_firmware"]


@dataclass
class TriggerFirmware:
    path: TriggerPath
    design: Any  # l1t.firmware.rtl.RtlDesign
    dut: Dut
    cmssw: dict[str, Any]  # the offline emulator's library of the path (``l1t.models.cmssw``), or why not


def trigger_firmware(run_dir: Path, report_dir: Path, out: Path) -> TriggerFirmware:
    """The trigger path of ``run_dir`` with the thresholds of ``report_dir``: ``out/rtl``, ``out/report.json`` and,
    for an AXOL1TL path, ``out/cmssw`` (the run's hls4ml project with the path's input scaling and score, as the
    offline emulator loads it, checked against the emulator)."""
    path = load_trigger(run_dir, report_dir)
    design = path.rtl()
    dut = design.dut(out / "rtl")
    report = {
        "top": design.top,
        "latency_clocks": design.latency,
        "ii": 1,
        "working_points": path.names,
        "thresholds_raw": [int(t) for t in path.block.thresholds],
        "score_type": str(path.block.types["score"]),
        "cmssw": _cmssw(path.block, Path(run_dir), out),
    }
    write_text(out / "report.json", json.dumps(report, indent=1))
    return TriggerFirmware(path, design, dut, report["cmssw"])


def _cmssw(block: Any, run_dir: Path, out: Path) -> dict[str, Any]:
    from l1t.emulator.trigger import GT_INPUT_T, AxoTrigger
    from l1t.models.cmssw import Scaling, Score, cmssw_library

    if not isinstance(block, AxoTrigger):
        return {"skipped": f"{type(block).__name__}: the library carries the AXOL1TL path's scaling and score"}
    if not (run_dir / "hls4ml_prj").is_dir():
        return {"skipped": f"{run_dir / 'hls4ml_prj'} not found"}
    scaling = Scaling([int(v) for v in block.offset], [int(v) for v in block.shift], GT_INPUT_T)
    return cmssw_library(
        run_dir / "hls4ml_prj", out / "cmssw", block.net, name="l1t_axol1tl", scaling=scaling,
        score=Score(block.score_kind),
    )  # fmt: skip
