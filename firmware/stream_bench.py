"""cocotb bench: the streaming testbench (``l1t.firmware.stream_tb``) runs every event in the simulator; this bench
only drives its clock, waits for ``done`` (or the cycle budget of a hung DUT) and records the back-pressure stalls.

Driven through the cocotb runner by ``l1t.firmware.cosim`` (configuration in ``$L1T_COSIM_CONFIG``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, with_timeout

PERIOD_NS = 10


@cocotb.test()
async def stream(dut) -> None:
    cfg = json.loads(Path(os.environ["L1T_COSIM_CONFIG"]).read_text())
    # the C++ clock driver: no Python per edge (the testbench samples only at rising edges, with nonblocking
    # assignments, so the write semantics the "py" default guards against do not arise)
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns", impl="gpi").start())
    # expected cycles: n * II / (1 - p) plus the latency and the reset; three times that ends a hung DUT
    budget = int(3 * cfg["events"] * cfg["ii"] / (1 - cfg["gap_probability"])) + cfg["latency"] + 100
    await with_timeout(RisingEdge(dut.done), budget * PERIOD_NS, "ns")
    await RisingEdge(dut.clk)  # the capture files are written at the edge that raised done
    np.savez(cfg["result"], stalls=np.int64(int(dut.stalls.value)))
