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


def trigger_firmware(run_dir: Path, report_dir: Path, out: Path) -> TriggerFirmware:
    """The trigger path of ``run_dir`` with the thresholds of ``report_dir``: ``out/rtl`` and ``out/report.json``."""
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
    }
    write_text(out / "report.json", json.dumps(report, indent=1))
    return TriggerFirmware(path, design, dut)
