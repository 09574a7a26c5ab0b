"""L1 jet tagger and its GNN teacher on Pythia8 jets: training, distillation, bit-exact export, RTL and hls4ml C++
under cocotb on real jets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from l1t import configs

pytest.importorskip("pythia8mc")
pytest.importorskip("hls4ml")


@pytest.fixture(scope="module")
def jet_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from l1t.events.generate import Recipe, run

    d = tmp_path_factory.mktemp("jets")
    return [
        run(Recipe("qcd_boosted", 300, 0.0, 11, 150, output="jets"), d / "qcd.h5", workers=2),
        run(Recipe("zprime_tt", 300, 0.0, 12, 150, output="jets"), d / "top.h5", workers=2),
    ]


def test_gnn_beats_a_random_baseline(jet_files: list[Path]) -> None:
    from l1t.events import jets
    from l1t.models import metrics
    from l1t.models.gnn import predict_logits, train_gnn

    parts = [jets.read(f)[0] for f in jet_files]
    p = np.concatenate([d["particles/features"] for d in parts])
    y = np.concatenate([d["jets/label"] for d in parts]).astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(y))
    tr, te = idx[: int(0.7 * len(y))], idx[int(0.7 * len(y)) :]
    cfg = {"k": 8, "channels": [16, 16], "dense": 32, "epochs": 15, "learning_rate": 3e-3}
    model, _ = train_gnn(cfg, p[tr], y[tr], p[te], y[te], seed=1, batch_size=32)
    z = predict_logits(model, p[te])
    assert metrics.auc(z[y[te] == 0], z[y[te] == 1]) > 0.8  # random: 0.5


@pytest.fixture(scope="module")
def tagger_run(jet_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`l1t train tagger` on the small jet set, with short trainings."""
    from typer.testing import CliRunner

    from l1t.cli import app

    tmp = tmp_path_factory.mktemp("tagger")
    cfg = yaml.safe_load(configs.path("models", "tagger.yaml").read_text())
    cfg.update(epochs=10, batch_size=32, patience=0, gnn={**cfg["gnn"], "epochs": 3, "channels": [16, 16]})
    (tmp / "tagger.yaml").write_text(yaml.safe_dump(cfg))
    run = tmp / "run"
    args = ["train", "tagger", "--data", str(jet_files[0]), "--signal", str(jet_files[1]), "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--config", str(tmp / "tagger.yaml"), "--seed", "3"])
    assert result.exit_code == 0, result.output
    return run


def test_cli_train_tagger_exports_a_bit_exact_trigger_network(
    jet_files: list[Path], tagger_run: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from l1t.cli import app

    run = tagger_run
    summary = json.loads((run / "summary.json").read_text())
    assert summary["csim_vs_emulator"]["mismatches"] == 0 and summary["csim_vs_emulator"]["events"] > 100
    rows = summary["metrics"]
    assert set(rows) == {
        "GNN (float, particles)",
        "L1 tagger, labels (quantized)",
        "L1 tagger, distilled (quantized)",
        "L1 tagger, distilled (emulator)",
    }
    assert rows["L1 tagger, distilled (emulator)"]["auc"] > 0.7
    assert rows["L1 tagger, distilled (emulator)"]["auc"] == pytest.approx(
        rows["L1 tagger, distilled (quantized)"]["auc"], abs=0.02
    )
    assert min(summary["sparsity"].values()) >= 0.45  # pruned to the configured 50%
    assert (run / "plots" / "rejection.png").stat().st_size > 1000
    # one class only is a clear error
    bad = CliRunner().invoke(app, ["train", "tagger", "--data", str(jet_files[0]), "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "every jet has label 0" in " ".join(bad.output.split())


@pytest.mark.parametrize(
    ("kind", "simulator"),
    [("rtl", "verilator"), ("rtl", "icarus"), pytest.param("hls-dpi", "verilator", marks=pytest.mark.slow)],
)  # hls-dpi of a trained network: test_dut_matches_emulator in the default set
def test_trained_tagger_firmware_matches_the_emulator_on_jets(
    jet_files: list[Path], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, kind: str, simulator: str
) -> None:
    pytest.importorskip("cocotb")
    from l1t.emulator.calo import tagger_input_raw
    from l1t.events import jets
    from l1t.firmware import hls_dpi
    from l1t.firmware.cosim import run_cosim
    from l1t.firmware.rtl import generate
    from l1t.inventory import find_tool
    from l1t.models.export import export, hls_config
    from l1t.models.tagger import TaggerConfig, network_inputs, train_tagger

    if not find_tool("verilator" if simulator == "verilator" else "iverilog").usable:
        pytest.skip(f"{simulator} not found")
    parts = [jets.read(f)[0] for f in jet_files]
    towers = np.concatenate([d["constituents/hw"] for d in parts])
    y = np.concatenate([d["jets/label"] for d in parts]).astype(np.float32)
    cfg = TaggerConfig.from_yaml(epochs=4, patience=0)
    x = network_inputs(towers)
    model, _ = train_tagger(cfg, x, y, x[:200], y[:200], seed=5)
    net, hls_model = export(model, tmp_path / "spec", project_dir=tmp_path / "prj", config=hls_config(model))
    hls_model.write()
    raw = {net.inputs[0][0]: tagger_input_raw(towers, net.inputs[0][2])}
    dut = generate(net).dut(tmp_path / "rtl") if kind == "rtl" else hls_dpi.dut(tmp_path / "prj", tmp_path / "dpi")
    report = run_cosim(dut, net, raw, simulator, tmp_path / "cosim", gap_probability=0.2, seed=2)
    assert report.mismatches == 0 and report.events == len(towers), report.summary()


@pytest.fixture(scope="module")
def fastsim_run(jet_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`l1t train fastsim` on the small jet set, with a short training."""
    from typer.testing import CliRunner

    from l1t.cli import app

    tmp = tmp_path_factory.mktemp("fastsim")
    cfg = yaml.safe_load(configs.path("models", "fastsim.yaml").read_text())
    cfg.update(epochs=30, patience=0, batch_size=64)
    (tmp / "fastsim.yaml").write_text(yaml.safe_dump(cfg))
    run = tmp / "run"
    args = ["train", "fastsim", "--data", str(jet_files[0]), "--signal", str(jet_files[1]), "--out", str(run)]
    result = CliRunner().invoke(app, [*args, "--config", str(tmp / "fastsim.yaml")])
    assert result.exit_code == 0, result.output
    return run


def test_fastsim_reports_fidelity_and_writes_jet_and_event_files(fastsim_run: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from l1t.cli import app
    from l1t.events import dataset, jets

    summary = json.loads((fastsim_run / "summary.json").read_text())
    assert summary["processes"] == ["qcd_boosted", "zprime_tt"]
    for r in summary["results"].values():
        truth, cvae = r["fidelity"]["truth vs truth"], r["fidelity"]["CVAE vs truth"]
        assert truth["fpd_x1e3"] < cvae["fpd_x1e3"] and set(cvae["w1_tower"]) == {"hwEt", "dIEta", "dIPhi", "hwEtEm"}
        assert r["speed_ratio"] > 10  # one decoder pass per jet vs Pythia8 + response
    gen = ["generate", "--process", "zprime_tt", "--events", "500", "--fastsim", str(fastsim_run)]
    made = CliRunner().invoke(app, [*gen, "-o", str(tmp_path / "top_jets.h5"), "--jets"])
    assert made.exit_code == 0, made.output
    data, attrs = jets.read(tmp_path / "top_jets.h5")  # the schema's ranges hold for generated jets
    assert len(data["jets/label"]) == 500 and data["jets/label"].all() and attrs["fastsim"]
    assert (np.diff(data["constituents/hw"][:, :, 0], axis=1) <= 0).all()
    made = CliRunner().invoke(app, [*gen, "-o", str(tmp_path / "top.h5")])
    assert made.exit_code == 0, made.output
    ev = dataset.read(tmp_path / "top.h5")  # whole crossings: the L1 algorithms ran on the generated towers
    assert len(ev) == 500 and (ev["objects/jets"][:, 1, 0] > 0).mean() > 0.8
    assert (ev["sums/hw"][:, 2] > 0).all() and (ev["objects/jet_towers"][:, 0, 0, 0] > 0).all()
    wrong = ["generate", "--process", "a_4l", "--events", "5", "-o", str(tmp_path / "x.h5")]
    unknown = CliRunner().invoke(app, [*wrong, "--fastsim", str(fastsim_run)])
    assert unknown.exit_code == 2 and "not 'a_4l'" in unknown.output


def test_tagger_seed_in_rates_report_and_the_gt_board_block(
    tagger_run: Path, fastsim_run: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from l1t.cli import app
    from l1t.events.generate import Recipe, run

    zb = run(Recipe("minbias", 400, 20.0, 21, 200, 100), tmp_path / "zb.h5", workers=2)
    top = run(Recipe("zprime_tt", 100, 20.0, 22, 100, 100), tmp_path / "top.h5", workers=1)
    fast = tmp_path / "top_fastsim.h5"  # fast-simulated crossings are a sample like any other
    gen = ["generate", "--process", "zprime_tt", "--events", "300", "-o", str(fast), "--fastsim", str(fastsim_run)]
    assert CliRunner().invoke(app, gen).exit_code == 0
    args = ["report", "--zero-bias", str(zb), "--model", f"tagger={tagger_run}", "--signal", str(top)]
    args += ["--signal", str(fast)]
    rep = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "rep")])
    assert rep.exit_code == 0, rep.output
    results = json.loads((tmp_path / "rep" / "results.json").read_text())["results"]
    loose = results["seeds"]["L1_TopTag_Loose"]
    assert loose["rate_hz"] <= 5000 and "threshold_raw" in loose
    eff = results["signals"]["zprime_tt"]["efficiency"]["L1_TopTag_Loose"]
    assert eff > 0.3  # boosted tops pass the tagger seed; zero bias at this threshold does not
    assert len(results["signals"]) == 2  # the fast-simulated sample is reported next to the Pythia one
    streamed = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "rep2"), "--dask", "--chunk", "150"])
    assert streamed.exit_code == 0, streamed.output
    assert json.loads((tmp_path / "rep2" / "results.json").read_text())["results"]["seeds"] == results["seeds"]
    # the menu with the tagger seed as a board block: its rx carries the jets' towers; clean round trip
    gt = [
        "--menu",
        str(configs.path("menus", "default.yaml")),
        "--ad-model",
        f"tagger={tagger_run}",
        "--report",
        str(tmp_path / "rep"),
    ]
    made = CliRunner().invoke(app, ["patterns", "--events-file", str(top), "--out", str(tmp_path / "gt"), *gt])
    assert made.exit_code == 0, made.output
    pat = tmp_path / "gt"
    clean = CliRunner().invoke(app, ["compare", "--rx", str(pat / "rx.txt"), "--tx", str(pat / "tx_expected.txt"), *gt])
    assert clean.exit_code == 0 and "100 events, 100 frames, 0 mismatched frames" in " ".join(clean.output.split())
