"""cocotb bench: stream emulator-made input vectors one per clock, check every output bit against the emulator.

Driven through the cocotb runner by ``firmware.cosim`` (configuration in ``$L1T_COSIM_CONFIG``). The same bench
serves any DUT with hls4ml's ports: ap_clk, ap_rst, ap_start, packed input buses, packed outputs with _ap_vld.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from firmware.cosim import pack_words, unpack_words


@cocotb.test()
async def stream(dut) -> None:
    cfg = json.loads(Path(os.environ["L1T_COSIM_CONFIG"]).read_text())
    vectors = np.load(cfg["vectors"])
    n_events = int(cfg["events"])
    inputs = {p["name"]: pack_words(vectors[f"in/{p['name']}"], p["width"]) for p in cfg["inputs"]}
    rng = random.Random(cfg["seed"])
    got: dict[str, list[int]] = {p["name"]: [] for p in cfg["outputs"]}
    first = cfg["outputs"][0]["name"]

    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    dut.ap_rst.value = 1
    dut.ap_start.value = 0
    for _ in range(3):
        await FallingEdge(dut.ap_clk)
    dut.ap_rst.value = 0

    async def monitor() -> None:
        while len(got[first]) < n_events:
            await RisingEdge(dut.ap_clk)
            await ReadOnly()
            if int(getattr(dut, f"{first}_ap_vld").value):
                for p in cfg["outputs"]:
                    got[p["name"]].append(int(getattr(dut, p["name"]).value))

    watcher = cocotb.start_soon(monitor())
    for i in range(n_events):
        await FallingEdge(dut.ap_clk)
        while rng.random() < cfg["gap_probability"]:  # idle cycles between vectors: ap_start low
            dut.ap_start.value = 0
            await FallingEdge(dut.ap_clk)
        for name, words in inputs.items():
            getattr(dut, name).value = words[i]
        dut.ap_start.value = 1
    await FallingEdge(dut.ap_clk)
    dut.ap_start.value = 0
    for _ in range(cfg["latency"] + 2):
        await FallingEdge(dut.ap_clk)
    watcher.cancel()

    outputs = {p["name"]: unpack_words(got[p["name"]], p["n"], p["elem_width"], p["signed"]) for p in cfg["outputs"]}
    np.savez(cfg["result"], **{f"out/{k}": v for k, v in outputs.items()})
    assert len(got[first]) == n_events, f"{len(got[first])} outputs for {n_events} inputs"
