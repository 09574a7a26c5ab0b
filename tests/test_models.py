"""Anomaly-detection models: scores with firmware precisions, metrics, training (CI-sized), export, l1t train."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import l1t.emulator.fixed as fx
from l1t import configs
from l1t.emulator import scores
from l1t.models import metrics

MU_T = fx.ap_fixed(19, 11)
LV_T = fx.ap_fixed(19, 11)


def test_sum_mu2_is_exact() -> None:
    rng = np.random.default_rng(0)
    mu = rng.integers(-(2**14), 2**14, (5000, 8))  # |mu| < 16: sum of squares < 2048, inside SCORE_T
    got = fx.to_float(scores.sum_mu2(mu, MU_T), scores.SCORE_T)
    exact = np.square(fx.to_float(mu, MU_T)).sum(axis=1)
    np.testing.assert_array_equal(got, np.floor(exact / scores.SCORE_T.lsb) * scores.SCORE_T.lsb)
    assert scores.sum_mu2(np.full((1, 8), MU_T.raw_max), MU_T)[0] == scores.SCORE_T.raw_max  # saturates


def test_rz_within_the_stated_error() -> None:
    rng = np.random.default_rng(1)
    mu = rng.integers(-(2**12), 2**12, (20000, 8))
    lv = rng.integers(int(-7.9 * 2**8), int(7.9 * 2**8), (20000, 8))  # inside the table's range
    got = fx.to_float(scores.rz(mu, MU_T, lv, LV_T), scores.SCORE_T)
    mu_f, lv_f = fx.to_float(mu, MU_T), fx.to_float(lv, LV_T)
    exact = scores.rz_float(mu_f, lv_f)
    top = fx.to_float(np.array(scores.SCORE_T.raw_max), scores.SCORE_T)
    inside = exact + scores.rz_bound(mu_f, lv_f) < top
    assert inside.mean() > 0.5
    err = np.abs(got - exact)[inside]
    assert np.all(err <= scores.rz_bound(mu_f, lv_f)[inside])
    assert err.max() > 0  # a table, not the exact function
    assert np.all(got[exact - scores.rz_bound(mu_f, lv_f) > top] == top)  # saturation


def test_exp_table_index_matches_its_definition() -> None:
    lv = np.arange(LV_T.raw_min, LV_T.raw_max + 1, 97)
    idx = scores._table_index(lv, LV_T)
    x = fx.to_float(lv, LV_T)
    step = (scores.EXP_TABLE_MAX - scores.EXP_TABLE_MIN) / scores.EXP_TABLE_SIZE
    expected = np.clip(np.floor((x - scores.EXP_TABLE_MIN) / step), 0, scores.EXP_TABLE_SIZE - 1)
    np.testing.assert_array_equal(idx, expected)


def test_metrics_on_constructed_scores() -> None:
    assert metrics.auc(np.zeros(10), np.ones(10)) == 1.0
    assert metrics.auc(np.zeros(10), np.zeros(10)) == 0.5  # all tied
    b, s = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 4.0])
    assert metrics.auc(b, s) == pytest.approx(((1 + 0.5) / 4 + 1) / 2)  # P(s > b) + P(tie) / 2, per signal
    bkg = np.arange(100_000, dtype=float)
    tpr, thr = metrics.tpr_at_fpr(bkg, np.array([99_990.5, 99_999.5, 5.0]), 1e-4)
    assert thr == 99_989.0 and tpr == pytest.approx(2 / 3)  # 10 background events above the threshold
    assert metrics.rate_fpr(1e3) == pytest.approx(1e3 / (11245.6 * 2544))


def test_input_scaling_is_the_firmware_shift() -> None:
    from l1t.emulator.objects import AXOL1TL_INPUTS, InputScaling

    x = np.resize(np.array([[0, 100, 7], [40, -3, 1000]]), (2, AXOL1TL_INPUTS))
    sc = InputScaling(np.resize([10, 0, 0], AXOL1TL_INPUTS), np.resize([0, 3, 12], AXOL1TL_INPUTS), frac_bits=10)
    t = fx.ap_fixed(16, 6)
    raw = sc.raw(x, t)
    expected = np.clip(np.floor((x - sc.offset) * 2.0 ** (10 - sc.shift)), t.raw_min, t.raw_max)
    np.testing.assert_array_equal(raw, expected)


pytest.importorskip("qkeras")
pytest.importorskip("hls4ml")


def _gt_like(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 200, (n, 57))
    x[:, 1] = 0
    present = rng.random((n, 19)) < 0.6
    present[:, 0] = True
    return x * np.repeat(present, 3, axis=1)


@pytest.fixture(scope="module")
def axo(tmp_path_factory: pytest.TempPathFactory):
    from l1t.emulator.objects import InputScaling
    from l1t.models.axol1tl import AxoConfig, object_mask, train_vae

    cfg = AxoConfig.from_yaml(epochs=4, batch_size=128, patience=0)
    x = _gt_like(3000, 1)
    sc = InputScaling.fit(x, cfg.input_frac_bits)
    xf = sc.raw(x, cfg.input_t) / 2**cfg.input_frac_bits
    m = object_mask(x)
    enc, hist = train_vae(cfg, xf[:2500], m[:2500], xf[2500:], m[2500:], quantized=True, seed=3)
    return cfg, xf, m, enc, hist


def test_pruning_reaches_its_target_and_quantizers_apply(axo) -> None:
    cfg, _, _, enc, hist = axo
    assert len(hist["loss"]) == cfg.epochs
    for layer in enc.layers:
        if layer.get_weights():
            kernel = layer.get_weights()[0]
            assert np.mean(kernel == 0) >= cfg.sparsity - 0.01, layer.name
            q = layer.kernel_quantizer_internal(kernel).numpy()  # the weights the trigger uses
            lsb = 2.0 ** -(cfg.weight_bits[0] - cfg.weight_bits[1] - 1)
            np.testing.assert_array_equal(np.round(q / lsb), q / lsb)


def test_training_is_reproducible(axo) -> None:
    from l1t.models.axol1tl import train_vae

    cfg, xf, m, enc, _ = axo
    again, _ = train_vae(cfg, xf[:2500], m[:2500], xf[2500:], m[2500:], quantized=True, seed=3)
    for a, b in zip(enc.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_exported_encoder_is_bit_exact_and_scores_follow(axo, tmp_path: Path) -> None:
    from l1t.firmware.build import csim_mismatches
    from l1t.models.export import export, hls_config

    _, xf, _, enc, _ = axo
    net, hls_model = export(enc, tmp_path / "spec", project_dir=tmp_path / "prj", config=hls_config(enc))
    assert net.output_names == ["mu", "logvar"]
    assert str(net.layers[0].types["weight_t"]) == "ap_fixed<6,3>"
    assert csim_mismatches(hls_model, net, xf[:2000]) == {"events": 2000, "mismatches": 0}
    emu = net.run({"gt_inputs": fx.from_float(xf[:2000], net.inputs[0][2])}, raw=True)
    mu = fx.to_float(emu["mu"], net.types["mu"])
    lv = fx.to_float(emu["logvar"], net.types["logvar"])
    s = fx.to_float(scores.sum_mu2(emu["mu"], net.types["mu"]), scores.SCORE_T)
    np.testing.assert_allclose(s, np.square(mu).sum(axis=1), atol=scores.SCORE_T.lsb)
    inside = np.all(np.abs(lv) < 7.9, axis=1)
    r = fx.to_float(scores.rz(emu["mu"], net.types["mu"], emu["logvar"], net.types["logvar"]), scores.SCORE_T)
    assert np.all(np.abs(r - scores.rz_float(mu, lv))[inside] <= scores.rz_bound(mu, lv)[inside])


def test_cicada_distillation_target_and_student_export(tmp_path: Path) -> None:
    from l1t.firmware.build import csim_mismatches
    from l1t.models.cicada import CicadaConfig, network_inputs, teacher_target, train_student, train_teacher
    from l1t.models.export import export, hls_config

    cfg = CicadaConfig.from_yaml(epochs=2, teacher_epochs=2, patience=0, sparsity=0.5)
    rng = np.random.default_rng(2)
    x = network_inputs(np.minimum(rng.poisson(6, (1200, 18, 14)), 1023))
    teacher, _ = train_teacher(cfg, x[:1000], x[1000:], seed=1)
    target = teacher_target(teacher, x)
    recon = teacher.predict(x, verbose=0)
    np.testing.assert_allclose(target, np.log1p(32 * np.mean((recon - x) ** 2, axis=(1, 2, 3))), rtol=1e-5)
    student, hist = train_student(cfg, x[:1000], target[:1000], x[1000:], target[1000:], seed=1)
    assert len(hist["loss"]) == 2
    for layer in student.layers:  # the student is pruned to its target
        if layer.get_weights():
            kernel = layer.get_weights()[0]
            assert np.sum(kernel == 0) >= int(0.5 * kernel.size), layer.name
    config = hls_config(student, overrides={"score": {"Precision": {"result": cfg.output_type}}})
    net, hls_model = export(student, tmp_path / "spec", project_dir=tmp_path / "prj", config=config)
    assert str(net.types["score"]) == "ap_ufixed<16,8,AP_TRN,AP_SAT>"
    assert csim_mismatches(hls_model, net, x[:1000]) == {"events": 1000, "mismatches": 0}


@pytest.mark.slow  # each step is covered in the default set: generation, training, export, C-sim
def test_cli_train_axol1tl_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    from typer.testing import CliRunner

    from l1t.cli import app
    from l1t.events.generate import Recipe, run

    zb = run(Recipe("minbias", 600, 10.0, 1, 300, 80), tmp_path / "zb.h5", workers=1)
    sig = run(Recipe("a_4l", 60, 10.0, 2, 60, 80, compression="gzip"), tmp_path / "a4l.h5", workers=1)
    import h5py

    with h5py.File(sig) as f:  # the recipe's codec reaches the file; training reads gzip and lz4hc files alike
        assert "gzip" in f["objects/jets"]._filters
    result = CliRunner().invoke(
        app,
        [
            "train",
            "axol1tl",
            "--data",
            str(zb),
            "--out",
            str(tmp_path / "run"),
            "--signal",
            str(sig),
            "--epochs",
            "2",
            "--seed",
            "4",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["csim_vs_emulator"]["mismatches"] == 0
    assert set(summary["metrics"]["a_4l"]) >= {"float R_z", "quantized sum_mu2", "emulator sum_mu2", "emulator R_z"}
    for plot in ("loss.png", "scores.png", "roc.png"):
        assert (tmp_path / "run" / "plots" / plot).stat().st_size > 1000
    assert (tmp_path / "run" / "spec" / "spec.json").is_file() and (tmp_path / "run" / "model.h5").is_file()
    bad = CliRunner().invoke(app, ["train", "axol1tl", "--data", str(tmp_path / "none.h5"), "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "none.h5" in bad.output
    # the trained model drives the menu's AD seeds in `l1t report`
    rep = CliRunner().invoke(
        app,
        [
            "report",
            "--zero-bias",
            str(zb),
            "--out",
            str(tmp_path / "rep"),
            "--model",
            f"axol1tl={tmp_path / 'run'}",
            "--signal",
            str(sig),
        ],
    )
    assert rep.exit_code == 0, rep.output
    assert "no model for ['cicada', 'tagger']" in " ".join(rep.output.split())
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "L1_AXO_Nominal" in html and "data:image/png;base64," in html and "L1_CICADA" not in html
    assert "L1 accept budget of 100-110 kHz" in html and "L1_AXO_Nominal: pure rate" in html  # the summary first
    assert html.index("<h2>Summary</h2>") < html.index("<h2>Rates</h2>") and "(pure " in html  # signals x seeds
    pytest.importorskip("distributed")
    streamed = CliRunner().invoke(
        app,
        [
            "report",
            "--zero-bias",
            str(zb),
            "--out",
            str(tmp_path / "rep2"),
            "--model",
            f"axol1tl={tmp_path / 'run'}",
            "--dask",
            "--chunk",
            "150",
        ],
    )
    assert streamed.exit_code == 0, streamed.output
    in_memory = json.loads((tmp_path / "rep" / "results.json").read_text())["results"]["seeds"]
    assert json.loads((tmp_path / "rep2" / "results.json").read_text())["results"]["seeds"] == in_memory
    # the whole menu as the GT runs it: board patterns from the events, then the board regression on them
    import dataclasses

    from l1t.emulator.patterns import read_empv2, write_empv2

    gt = [
        "--menu",
        str(configs.path("menus", "default.yaml")),
        "--ad-model",
        f"axol1tl={tmp_path / 'run'}",
        "--report",
        str(tmp_path / "rep"),
    ]
    made = CliRunner().invoke(
        app,
        ["patterns", "--events-file", str(zb), "--out", str(tmp_path / "gt"), "--events", "200", "--frames", "2", *gt],
    )
    assert made.exit_code == 0, made.output
    rx, tx = str(tmp_path / "gt" / "rx.txt"), tmp_path / "gt" / "tx_expected.txt"
    clean = CliRunner().invoke(app, ["compare", "--rx", rx, "--tx", str(tx), *gt])
    assert clean.exit_code == 0 and "200 events, 400 frames, 0 mismatched frames" in " ".join(clean.output.split())
    captured = read_empv2(tx)
    data = captured.data.copy()
    data[2 * 57, 0] ^= np.uint64(1 << 24)  # event 57: the first algorithm bit after the 24-bit score
    write_empv2(tx, dataclasses.replace(captured, data=data))
    bad = CliRunner().invoke(app, ["compare", "--rx", rx, "--tx", str(tx), *gt])
    assert bad.exit_code == 1
    assert "frame 114, link 0 (event 57), algo_initial[0] (L1_SingleMu22)" in " ".join(bad.output.split())
    from l1t.inventory import find_tool

    if find_tool("verilator").usable:  # the trigger path in RTL on the same zero-bias events
        trig = CliRunner().invoke(
            app,
            [
                "trigger",
                "--run",
                str(tmp_path / "run"),
                "--report",
                str(tmp_path / "rep"),
                "--events-file",
                str(zb),
                "--out",
                str(tmp_path / "trig"),
                "--events",
                "300",
                "--simulator",
                "verilator",
                "--write-patterns",
                str(tmp_path / "trig" / "patterns"),
            ],
        )
        assert trig.exit_code == 0, trig.output
        assert "axo_trigger rtl on verilator: 300 events, 0 mismatches" in " ".join(trig.output.split())
        # the offline emulator's library of the same path (scaling, encoder, score), loaded with dlopen
        assert "CMSSW library (dlopen) vs emulator: 10000 events, 0 mismatches" in " ".join(trig.output.split())
        # the RTL's own outputs, as a board capture, against the emulated trigger path: clean, then one bit off
        pat = tmp_path / "trig" / "patterns"
        args = [
            "compare",
            "--rx",
            str(pat / "rx.txt"),
            "--tx",
            str(pat / "tx_rtl_verilator.txt"),
            "--trigger",
            str(tmp_path / "run"),
            "--report",
            str(tmp_path / "rep"),
        ]
        clean = CliRunner().invoke(app, args)
        assert clean.exit_code == 0, clean.output
        assert "300 events, 300 frames, 0 mismatched frames" in " ".join(clean.output.split())
        lines = (pat / "tx_rtl_verilator.txt").read_text().splitlines()
        lines[4 + 17] = lines[4 + 17][:-1] + f"{int(lines[4 + 17][-1], 16) ^ 1:x}"  # score LSB of event 17
        (pat / "tx_rtl_verilator.txt").write_text("\n".join(lines) + "\n")
        bad = CliRunner().invoke(app, args)
        assert bad.exit_code == 1
        assert "first at frame 17, link 0 (event 17), score[0]" in " ".join(bad.output.split())


def test_cicada_mlp_student_is_bit_exact(tmp_path: Path) -> None:
    from l1t.firmware.build import csim_mismatches
    from l1t.models.cicada import CicadaConfig, build_student, network_inputs
    from l1t.models.export import export, hls_config

    cfg = CicadaConfig.from_yaml(student="mlp")
    student = build_student(cfg)
    assert [layer.name for layer in student.layers if layer.get_weights()] == ["dense1", "dense2", "score"]
    config = hls_config(student, overrides={"score": {"Precision": {"result": cfg.output_type}}})
    net, hls_model = export(student, tmp_path / "spec", project_dir=tmp_path / "prj", config=config)
    x = network_inputs(np.random.default_rng(3).integers(0, 1024, (800, 18, 14)))
    assert csim_mismatches(hls_model, net, x) == {"events": 800, "mismatches": 0}
