"""``make_firmware``'s resource report: every constant-matrix-product generator through the same yosys script, side
by side, and a yosys run that does not finish in time reported as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("da4ml")

from l1t.emulator.nn import Network
from l1t.firmware.build import make_firmware, yosys_resources
from l1t.firmware.rtl import CMVM
from l1t.inventory import find_tool
from tests.test_nn_spec import ARRAYS, SPEC

needs_yosys = pytest.mark.skipif(not find_tool("yosys").usable, reason="yosys not found (apt-get install -y yosys)")


@needs_yosys
@pytest.mark.parametrize("cmvm", CMVM)
def test_report_holds_every_generator_side_by_side(cmvm: str, tmp_path: Path) -> None:
    net = Network(SPEC, ARRAYS)
    report = make_firmware(net, tmp_path, cmvm=cmvm, csim_events=0)
    assert report["cmvm"] == cmvm and json.loads((tmp_path / "report.json").read_text()) == report
    generators = report["generators"]
    assert next(iter(generators)) == cmvm and set(generators) == set(CMVM)
    assert generators[cmvm] == {"latency_clocks": report["latency_clocks"], **report["resources"]}
    for measured in generators.values():
        assert measured["latency_clocks"] == report["latency_clocks"]  # the generator changes logic, not clocks
        assert measured["LUT"] > 0 and measured["tool"].startswith("Yosys")


@needs_yosys
def test_yosys_past_its_time_is_reported(tmp_path: Path) -> None:
    from l1t.firmware.rtl import generate

    design = generate(Network(SPEC, ARRAYS))
    result = yosys_resources(design.write(tmp_path), design.top, timeout=0.01)
    assert result == {"timeout": "yosys synth_xilinx did not finish myproject in 0 s"}
