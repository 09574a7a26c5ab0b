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
from cocotb.triggers import FallingEdge

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

    # One loop, one trigger per clock: at each falling edge the outputs registered at the last rising edge are
    # stable, so they are sampled, then the next vector (or an idle cycle) is driven.
    valid = getattr(dut, f"{first}_ap_vld")
    out_ports = [(p["name"], getattr(dut, p["name"])) for p in cfg["outputs"]]
    in_ports = [(getattr(dut, name), words) for name, words in inputs.items()]
    # expected cycles: n / (1 - p) vectors and idles, plus the latency; three times that ends a hung DUT
    sent, budget = 0, int(3 * n_events / (1 - cfg["gap_probability"])) + cfg["latency"] + 100
    for _ in range(budget):
        await FallingEdge(dut.ap_clk)
        if int(valid.value):
            for name, port in out_ports:
                got[name].append(int(port.value))
        if len(got[first]) == n_events:
            break
        if sent < n_events and rng.random() >= cfg["gap_probability"]:
            for port, words in in_ports:
                port.value = words[sent]
            dut.ap_start.value = 1
            sent += 1
        else:
            dut.ap_start.value = 0  # idle cycle: ap_start low between vectors, or all vectors sent

    outputs = {p["name"]: unpack_words(got[p["name"]], p["n"], p["elem_width"], p["signed"]) for p in cfg["outputs"]}
    np.savez(cfg["result"], **{f"out/{k}": v for k, v in outputs.items()})
    assert len(got[first]) == n_events, f"{len(got[first])} outputs for {n_events} inputs"
