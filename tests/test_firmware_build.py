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
    timing = report["timing"]
    assert timing["logic_delay_ns"] == report["resources"]["logic_delay_ns"] > 0
    assert timing["logic_fits_period"] == (timing["logic_delay_ns"] <= report["clock_period_ns"])
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


_CHAIN = """
module {name}(input clk, input [11:0] a, b, c, d, output reg [15:0] y);
{body}
endmodule
"""


@needs_yosys
def test_logic_delay_is_timed_between_registers(tmp_path: Path) -> None:
    """``logic_delay_ns`` grows with the adders in one clock and stops at registers: three adders in one clock take
    longer than the same logic split over two clocks, which takes longer than one adder."""

    def delay(name: str, body: str) -> float:
        verilog = tmp_path / f"{name}.v"
        verilog.write_text(_CHAIN.format(name=name, body=body))
        result = yosys_resources(verilog, name)
        assert result["LUT"] > 0
        return result["logic_delay_ns"]

    one = delay("one", "  always @(posedge clk) y <= a + b;")
    three = delay("three", "  always @(posedge clk) y <= (((a + b) ^ c) + d ^ a) + (b ^ c);")
    split = delay(
        "split",
        "  reg [15:0] s;\n  always @(posedge clk) begin s <= (a + b) ^ c; y <= (s + d ^ a) + (b ^ c); end",
    )
    assert 0 < one < split < three
