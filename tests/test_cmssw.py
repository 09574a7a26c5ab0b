"""The offline emulator's library: an hls4ml project behind ``hls4mlEmulator::Model``, built with its Makefile, loaded
with dlopen by the generated loader as the experiment's model loader does, every event compared with the emulator;
with the AXOL1TL path's input scaling in front and its score (sum mu^2, R_z) behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from l1t.emulator import scores
from l1t.emulator.trigger import GT_INPUT_T, AxoTrigger
from l1t.models.cmssw import Scaling, Score, build_cmssw, cmssw_library, run_check, write_cmssw
from l1t.models.hls_project import read_project, stimulus
from tests.test_hls_project import project

pytest.importorskip("hls4ml")


@pytest.mark.slow  # the default set builds and checks a library in test_cli's firmware test
def test_the_library_of_a_project_is_the_emulator(tmp_path: Path) -> None:
    imported = read_project(project("autoencoder-dot", tmp_path))
    net = imported.network()
    lib = write_cmssw(imported, tmp_path / "cmssw", "ae")
    model = (lib.directory / "ae.cpp").read_text()
    assert "class L1T_ae : public hls4mlEmulator::Model" in model
    assert 'extern "C" hls4mlEmulator::Model* create_model()' in model and "destroy_model" in model
    assert "virtual ~Model() = default;" in (lib.directory / "emulator.h").read_text()
    build_cmssw(lib)
    words = stimulus(net, 3000, seed=2)
    got = run_check(lib, words["x"], tmp_path / "words")
    assert np.array_equal(got, net.run(words, raw=True)["loss"])


def test_models_loaded_into_one_job_keep_their_own_tables(tmp_path: Path) -> None:
    """The experiment loads several models into one job. A 1.3.0 and a 0.8.1 project of one model instantiate
    nnet::softmax under one mangled name with different tables: the 0.8.1 library, built by its generated Makefile,
    still computes with its own tables after the other model was loaded and run in the same process."""
    libraries = {}
    for name in ("mlp-resource-rounding", "mlp-0.8.1"):
        imported = read_project(project(name, tmp_path))
        libraries[name] = (imported.network(), write_cmssw(imported, tmp_path / "cmssw" / name, "mlp"))
        build_cmssw(libraries[name][1])
    net, lib = libraries["mlp-0.8.1"]
    words = stimulus(net, 2000, seed=3)
    got = run_check(lib, words["x"], tmp_path / "words", others=[libraries["mlp-resource-rounding"][1].library])
    assert np.array_equal(got, net.run(words, raw=True)["sm"])


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    from l1t.models.export import export, hls_config
    from l1t.models.reference import axol1tl_encoder

    out = tmp_path_factory.mktemp("axo")
    model = axol1tl_encoder(7)
    _, hls_model = export(model, out / "spec", project_dir=out / "prj", config=hls_config(model))
    hls_model.write()
    return read_project(out / "prj"), out


def _scaling(n: int, seed: int) -> Scaling:
    rng = np.random.default_rng(seed)
    return Scaling(rng.integers(-50, 200, n).tolist(), rng.integers(0, 8, n).tolist(), GT_INPUT_T)


@pytest.mark.parametrize("kind", ["R_z", pytest.param("sum_mu2", marks=pytest.mark.slow)])
def test_the_axol1tl_path_with_scaling_and_score_is_the_trigger_emulator(kind: str, encoder: tuple) -> None:
    """GT words -> (x - offset) >> shift into the encoder's input type (saturating) -> encoder -> score, through the
    library, against ``AxoTrigger``'s scaling and ``scores.encoder_score``, on the extremes and random words."""
    imported, out = encoder
    net = imported.network()
    scaling = _scaling(imported.inputs[0].size, seed=3)
    lib = write_cmssw(imported, out / f"cmssw_{kind}", "axo", scaling=scaling, score=Score(kind))
    build_cmssw(lib)
    x = np.random.default_rng(4).integers(-300, 3000, (5000, imported.inputs[0].size))
    x[:3] = np.array([GT_INPUT_T.raw_min, GT_INPUT_T.raw_max, 0])[:, None]
    trigger = AxoTrigger(net, scaling.offset, scaling.shift, [], kind)
    expected = scores.encoder_score(net.run({net.inputs[0][0]: trigger.scale(x)}, raw=True), net.types, kind)
    got = run_check(lib, x, out / f"words_{kind}")[:, 0]
    assert np.array_equal(got, expected)
    assert len(np.unique(expected)) > 1000  # the scores are not degenerate


@pytest.mark.slow
def test_a_wrong_offset_in_the_library_is_caught(encoder: tuple, tmp_path: Path) -> None:
    """The report's check is not vacuous: the library built with one offset changed differs from the emulator."""
    imported, _ = encoder
    scaling = _scaling(imported.inputs[0].size, seed=5)
    report = cmssw_library(
        imported.source.directory, tmp_path / "good", imported.network(), scaling=scaling, events=2000
    )  # fmt: skip
    assert (report["events"], report["mismatches"], report["score"]) == (2000, 0, "sum_mu2")
    lib = write_cmssw(imported, tmp_path / "bad", "axo", scaling=scaling, score=Score("sum_mu2"))
    code = (lib.directory / "axo.cpp").read_text()
    first = f"ap_int<48>({scaling.offset[0]}LL)"
    (lib.directory / "axo.cpp").write_text(code.replace(first, f"ap_int<48>({scaling.offset[0] + 64}LL)", 1))
    build_cmssw(lib)
    net = imported.network()
    x = np.random.default_rng(6).integers(0, 3000, (2000, imported.inputs[0].size))
    raw = AxoTrigger(net, scaling.offset, scaling.shift, []).scale(x)
    expected = scores.encoder_score(net.run({net.inputs[0][0]: raw}, raw=True), net.types, "sum_mu2")
    assert (run_check(lib, x, tmp_path / "words")[:, 0] != expected).any()
