"""Weighted zero bias: rates, uncertainties from the sums of squared weights, thresholds for target rates, pure
rates, efficiencies and the Dask path, against direct computations; unit weights give the unweighted numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from l1t.emulator.menu import Menu
from l1t.events import dataset
from l1t.studies import rates
from tests.test_menu_rates import _events, _synthetic_file

SCALE = rates.F_REV_HZ * rates.N_BUNCHES
MENU = {
    "seeds": {
        "met": {"type": "met", "pt": 150.0},
        "jet": {"type": "single_jet", "pt": 200.0, "prescale": 3},
        "zb": {"type": "always", "prescale": 50},
    },
    "ad_seeds": {"AD": {"model": "m", "working_points": {"Loose": 3e6, "Tight": 5e5}}},
}


def test_unit_weights_give_the_binomial_rate() -> None:
    for k, n in ((0, 10), (3, 10), (30, 1_000_000), (10, 10)):
        r, e = rates.weighted_rate(k, k, n, n)
        assert r == pytest.approx(SCALE * k / n) and e == pytest.approx(SCALE * np.sqrt(k / n * (1 - k / n) / n))


def test_weighted_uncertainty_matches_a_bootstrap() -> None:
    """The delta-method error of a weighted fraction against the spread of 2000 Poisson-bootstrap replicas."""
    rng = np.random.default_rng(1)
    n = 20_000
    w = rng.lognormal(0, 1.5, n)  # weights spanning decades, as pT-hat bins combined by cross section
    passed = rng.random(n) < 0.05 + 0.1 * (w > 5)
    r, e = rates.weighted_rate(w[passed].sum(), (w[passed] ** 2).sum(), w.sum(), (w**2).sum())
    assert r == pytest.approx(SCALE * w[passed].sum() / w.sum())
    replicas = rng.poisson(1.0, (2000, n)) * w
    spread = np.std((replicas[:, passed].sum(axis=1) / replicas.sum(axis=1)) * SCALE)
    assert e == pytest.approx(spread, rel=0.1)


@pytest.mark.parametrize("target", [2e3, 5e4, 1e6, 2e7])
def test_weighted_threshold_is_the_lowest_within_the_target(target: float) -> None:
    rng = np.random.default_rng(2)
    s = rng.integers(0, 300, 30_000)  # coarse: many ties
    w = rng.exponential(1.0, 30_000) * np.where(s > 250, 0.1, 1.0)
    t = rates.threshold_for_rate(s, target, weights=w)
    values = np.unique(s)
    hz = {v: SCALE * w[s > v].sum() / w.sum() for v in np.append(values, values[0] - 1)}
    within = [v for v, r in hz.items() if r <= target]
    assert t == min(within)
    ones = rates.threshold_for_rate(s, target, weights=np.ones(len(s)))
    assert ones == rates.threshold_for_rate(s, target)  # unit weights: the unweighted threshold


def test_count_bits_sums_weights_and_squares() -> None:
    menu = Menu(MENU)
    rng = np.random.default_rng(3)
    bits = rng.random((4000, 5)) < [0.1, 0.05, 0.02, 0.3, 0.1]
    w = rng.exponential(2.0, 4000)
    got = rates.count_bits(menu, bits, w)
    classic_any = bits[:, [0, 1]].any(axis=1)
    np.testing.assert_allclose(got["seed"], (bits * w[:, None]).sum(axis=0))
    np.testing.assert_allclose(got["seed_w2"], (bits * w[:, None] ** 2).sum(axis=0))
    np.testing.assert_allclose(got["pure"], ((bits & ~classic_any[:, None]) * w[:, None]).sum(axis=0))
    assert got["total"] == pytest.approx(w[bits.any(axis=1)].sum())
    assert got["classic_w2"] == pytest.approx((w[classic_any] ** 2).sum()) and got["sumw"] == pytest.approx(w.sum())


def test_duplicated_crossings_equal_doubled_weights() -> None:
    """A sample with every crossing twice and one with each crossing at weight 2 have the same rates and
    thresholds, and half-weight crossings count half."""
    rng = np.random.default_rng(4)
    zb = _events(3000)
    zb["sums/hw"][:, 0] = rng.integers(0, 400, 3000)
    score = rng.integers(0, 500, 3000)
    twice = {k: np.concatenate([v, v]) for k, v in zb.items()}
    a = rates.study(Menu(MENU), twice, {"m": np.concatenate([score, score])}, {})
    b = rates.study(Menu(MENU), zb, {"m": score}, {}, weights=np.full(3000, 2.0))
    for name in ("met", "AD_Loose", "AD_Tight"):
        assert b["seeds"][name]["rate_hz"] == pytest.approx(a["seeds"][name]["rate_hz"])
        assert b["seeds"][name].get("threshold_raw") == a["seeds"][name].get("threshold_raw")


def test_weighted_files_read_back_and_bad_weights_are_named(tmp_path: Path) -> None:
    data = _synthetic_file(tmp_path / "u.h5", 50, 1)
    assert dataset.read_weights(tmp_path / "u.h5") is None  # unweighted
    data[dataset.WEIGHT] = np.linspace(0.5, 3.0, 50)
    path = dataset.write(tmp_path / "w.h5", dataset.EventSet(data, {"process": "qcd"}))
    np.testing.assert_array_equal(dataset.read_weights(path), data[dataset.WEIGHT])
    np.testing.assert_array_equal(dataset.read_weights(path, 10, 20), data[dataset.WEIGHT][10:20])
    np.testing.assert_array_equal(dataset.read(path)["sums/hw"], data["sums/hw"])
    for bad, what in ((-1.0, r"value -1.0 at event 7"), (np.nan, r"non-finite value at event 7")):
        data[dataset.WEIGHT][7] = bad
        with pytest.raises(dataset.DatasetError, match=rf"'truth/weight'.*{what}"):
            dataset.write(tmp_path / "bad.h5", dataset.EventSet(data, {}))
        assert not (tmp_path / "bad.h5").exists()


def test_training_refuses_weighted_zero_bias(tmp_path: Path) -> None:
    """Losses, splits and FPR points count crossings once: a weighted file is refused, naming it, before training."""
    from l1t.pipelines.training import run_axol1tl, run_cicada

    data = _synthetic_file(tmp_path / "u.h5", 20, 3)
    data[dataset.WEIGHT] = np.full(20, 0.5)
    path = dataset.write(tmp_path / "w.h5", dataset.EventSet(data, {"process": "minbias"}))
    for train in (run_axol1tl, run_cicada):
        with pytest.raises(ValueError, match=r"w\.h5: weighted zero bias"):
            train([path], tmp_path / "run")


def test_dask_study_of_a_weighted_file_equals_the_in_memory_one(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from l1t.studies.scale import study_chunked
    from tests.test_menu_rates import _cicada_chain

    chain = _cicada_chain()
    rng = np.random.default_rng(5)
    zb = _synthetic_file(tmp_path / "plain.h5", 3000, 4)
    w = rng.lognormal(0, 1.0, 3000)
    dataset.write(tmp_path / "zb.h5", dataset.EventSet(zb | {dataset.WEIGHT: w}, {"process": "minbias"}))
    config = {**MENU, "ad_seeds": {"AD": {"model": "cicada", "prescale": 2, "working_points": {"L": 3e6, "T": 5e5}}}}
    sig = _events(200)
    sig["regions/et"] = rng.poisson(8, (200, 18, 14)).astype(np.uint16)
    signals = {"sig": (sig, {"cicada": chain.score(sig)})}
    sig_w = {"sig": rng.exponential(1.0, 200)}
    mem = rates.study(Menu(config), zb, {"cicada": chain.score(zb)}, signals, weights=w, signal_weights=sig_w)
    dsk = study_chunked(Menu(config), tmp_path / "zb.h5", {"cicada": chain}, signals, chunk=700, workers=2,
                        signal_weights=sig_w)  # fmt: skip
    for name, row in mem["seeds"].items():
        assert dsk["seeds"][name].get("threshold_raw") == row.get("threshold_raw"), name
        for key in ("rate_hz", "rate_err_hz", "pure_rate_hz"):
            if key in row:
                assert dsk["seeds"][name][key] == pytest.approx(row[key], rel=1e-9), (name, key)
    assert dsk["total_rate_hz"] == pytest.approx(mem["total_rate_hz"], rel=1e-9)
    assert dsk["signals"]["sig"]["efficiency"] == pytest.approx(mem["signals"]["sig"]["efficiency"])
    unweighted = rates.study(Menu(config), zb, {"cicada": chain.score(zb)}, signals)
    assert mem["seeds"]["met"]["rate_hz"] != pytest.approx(unweighted["seeds"]["met"]["rate_hz"], rel=1e-3)
    assert mem["zero_bias_effective_events"] < 3000 == unweighted["zero_bias_effective_events"]
