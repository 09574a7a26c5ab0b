"""cocotb bench: stream emulator-made input vectors one per clock, check every output bit against the emulator.

Driven through the cocotb runner by ``l1t.firmware.cosim`` (configuration in ``$L1T_COSIM_CONFIG``). The same bench
serves every DUT with hls4ml's ports (``l1t.firmware.dut``): it drives ``ap_start`` and each input bus with its
``_ap_vld``, holds a vector until the DUT takes it (``ap_ready``), and collects outputs when ``_ap_vld`` is high.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

from l1t.firmware.cosim import pack_words, unpack_words


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
    start, ready = dut.ap_start, dut.ap_ready
    in_valid = [getattr(dut, f"{name}_ap_vld") for name in inputs]
    dut.ap_rst.value = 1
    start.value = 0
    for v in in_valid:
        v.value = 0
    for _ in range(3):
        await FallingEdge(dut.ap_clk)
    dut.ap_rst.value = 0

    # One loop per clock. At the falling edge the outputs registered at the last rising edge are stable: they are
    # sampled, then the next vector (or an idle cycle) is driven. A driven vector is held until the DUT takes it:
    # once the new values settle (ReadOnly), ap_ready says whether the coming rising edge takes it.
    valid = getattr(dut, f"{first}_ap_vld")
    out_ports = [(p["name"], getattr(dut, p["name"])) for p in cfg["outputs"]]
    in_ports = [(getattr(dut, name), words) for name, words in inputs.items()]
    # expected cycles: n * II / (1 - p) plus the latency; three times that ends a hung DUT
    budget = int(3 * n_events * cfg["ii"] / (1 - cfg["gap_probability"])) + cfg["latency"] + 100
    sent, holding, taken, stalls = 0, False, False, 0
    for _ in range(budget):
        await FallingEdge(dut.ap_clk)
        if int(valid.value):
            for name, port in out_ports:
                got[name].append(int(port.value))
        if len(got[first]) == n_events:
            break
        if taken:
            sent, holding = sent + 1, False
        elif holding:
            stalls += 1
        if not holding:
            if sent < n_events and rng.random() >= cfg["gap_probability"]:
                for port, words in in_ports:
                    port.value = words[sent]
                holding = True
            start.value = int(holding)
            for v in in_valid:
                v.value = int(holding)
        if holding:
            await ReadOnly()
            taken = bool(int(ready.value))
        else:
            taken = False

    outputs = {p["name"]: unpack_words(got[p["name"]], p["n"], p["elem_width"], p["signed"]) for p in cfg["outputs"]}
    np.savez(cfg["result"], **{f"out/{k}": v for k, v in outputs.items()}, stalls=np.int64(stalls))
    assert len(got[first]) == n_events, f"{len(got[first])} outputs for {n_events} inputs"
