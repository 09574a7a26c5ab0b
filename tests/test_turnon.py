"""Generator-level truth in event files (l1t.events.truth) and turn-on curves with their erf fits."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from l1t.emulator.menu import Menu
from l1t.emulator.objects import CALO
from l1t.events import dataset, truth
from l1t.events.pythia import ParticleBlock
from l1t.studies import turnon
from l1t.studies.rates import weighted_fraction
from l1t.studies.report import plots, write_report

pytest.importorskip("scipy")


def _block(rows: list[list[tuple[int, float, float, float]]]) -> ParticleBlock:
    """Per-event lists of (pid, pT, eta, phi)."""
    counts = [len(r) for r in rows]
    a = np.array([p for r in rows for p in r], dtype=np.float64).reshape(-1, 4)
    return ParticleBlock(
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        a[:, 0].astype(np.int32),
        np.zeros(len(a), dtype=np.int8),
        a[:, 1].astype(np.float32),
        a[:, 2].astype(np.float32),
        a[:, 3].astype(np.float32),
    )


def test_truth_objects_of_known_events() -> None:
    pytest.importorskip("fastjet")
    rows = [
        # two muons, an electron, a photon, and two pions 0.1 apart (one jet) opposite a lone pion (another jet)
        [(13, 30.0, 0.5, 0.0), (-13, 50.0, -1.0, 2.0), (11, 20.0, 2.0, -1.0), (22, 70.0, 0.0, 1.0),
         (211, 40.0, 1.0, 3.0), (211, 20.0, 1.0, 2.9), (-211, 35.0, 0.0, -0.5)],
        [],  # an event with nothing visible
        [(13, 10.0, 0.1, 0.1)] * 6,  # more muons than are kept
    ]  # fmt: skip
    t = truth.truth_arrays(_block(rows))
    assert set(t) == set(dataset.TRUTH)
    mu = t["truth/muons"]
    np.testing.assert_allclose(mu[0, :3], [[50, -1, 2], [30, 0.5, 0], [0, 0, 0]])
    np.testing.assert_allclose(mu[2, :, 0], [10] * truth.N_TRUTH)
    np.testing.assert_allclose(t["truth/egammas"][0, :2, 0], [70, 20])
    assert not t["truth/muons"][1].any() and not t["truth/sums"][1].any()
    jets = t["truth/jets"][0]
    # every particle is a jet of its own but the two close pions; the merged jet's pT is its vector sum
    merged = np.hypot(40 * np.cos(3.0) + 20 * np.cos(2.9), 40 * np.sin(3.0) + 20 * np.sin(2.9))
    np.testing.assert_allclose(jets[:, 0], sorted([70, merged, 50, 35], reverse=True), rtol=1e-4)
    px = sum(p * np.cos(phi) for _, p, _, phi in rows[0])
    py = sum(p * np.sin(phi) for _, p, _, phi in rows[0])
    met, ht = t["truth/sums"][0]
    np.testing.assert_allclose(met, np.hypot(px, py), rtol=1e-5)
    # HT: jets above 30 GeV with |eta| < 2.4 (muons are visible particles too); the 30 GeV muon's jet is not above
    np.testing.assert_allclose(ht, 70 + merged + 50 + 35, rtol=1e-4)
    none = truth.absent(3)
    assert all(v.shape == (3, *dataset.TRUTH[k][0]) and not v.any() for k, v in none.items())


def test_truth_datasets_round_trip_and_are_checked(tmp_path: Path) -> None:
    n = 50
    rng = np.random.default_rng(1)
    data = {name: np.zeros((n, *shape), dtype=dtype) for name, (shape, dtype, _) in dataset.SCHEMA.items()}
    objs = {name: rng.uniform(0, 1, (n, *shape)).astype(np.float32) for name, (shape, _) in dataset.TRUTH.items()}
    path = dataset.write(tmp_path / "t.h5", dataset.EventSet(data | objs, {}))
    back = dataset.read_truth(path, 10, 20)
    for name, a in objs.items():
        np.testing.assert_array_equal(back[name], a[10:20], err_msg=name)
    plain = dataset.write(tmp_path / "plain.h5", dataset.EventSet(data, {}))
    assert dataset.read_truth(plain) is None
    with h5py.File(path, "r+") as f:
        f["truth/jets"][7, 1, 1] = 9.0
    with pytest.raises(dataset.DatasetError, match=r"t\.h5.*'truth/jets' field 1: value 9.0 at event 7 outside"):
        dataset.read_truth(path)
    bad = data | objs | {"truth/sums": np.full((n, 2), np.nan, dtype=np.float32)}
    with pytest.raises(dataset.DatasetError, match="'truth/sums': non-finite value at event 0"):
        dataset.write(tmp_path / "bad.h5", dataset.EventSet(bad, {}))
    assert not (tmp_path / "bad.h5").exists()


def test_erf_fit_recovers_a_known_resolution() -> None:
    """Events whose measured pT is the true pT smeared by a Gaussian of 3 GeV, cut at 36 GeV, with 2 % lost: the
    fit gives mu = 36, sigma = 3, plateau 0.98, and the 95 % point from them."""
    rng = np.random.default_rng(5)
    x = rng.uniform(0.1, 108, 200_000)
    passed = (x + rng.normal(0, 3, x.size) >= 36) & (rng.uniform(size=x.size) > 0.02)
    c = turnon.turn_on_curve(x, passed, np.ones(x.size), 36.0)
    fit = c["fit"]
    assert abs(fit["mu"] - 36) < 0.1 and abs(fit["sigma"] - 3) < 0.15 and abs(fit["plateau"] - 0.98) < 0.003
    from scipy.special import ndtri

    assert fit["pt95"] == pytest.approx(fit["mu"] + fit["sigma"] * ndtri(0.95 / fit["plateau"]))
    # weights: each event weighing 2 is each event twice
    twice = turnon.turn_on_curve(np.repeat(x[:20_000], 2), np.repeat(passed[:20_000], 2), np.ones(40_000), 36.0)
    weighted = turnon.turn_on_curve(x[:20_000], passed[:20_000], np.full(20_000, 2.0), 36.0)
    np.testing.assert_allclose(weighted["efficiency"], twice["efficiency"])
    # below the plateau the 95 % point does not exist; too few events give no curve, and say so
    low = turnon.turn_on_curve(x, passed & (rng.uniform(size=x.size) < 0.9), np.ones(x.size), 36.0)
    assert low["fit"]["pt95"] is None
    few = turnon.turn_on_curve(x[:10], passed[:10], np.ones(10), 36.0)
    assert "edges" not in few and "10 events" in few["why_not"]
    # a sample entirely above the rise draws its points but refuses a fit it cannot constrain
    above = x > 60
    high = turnon.turn_on_curve(x[above], passed[above], np.ones(above.sum()), 36.0)
    assert high["fit"] is None and "does not constrain the rise" in high["fit_why_not"]


def test_turn_ons_of_a_menu_equal_their_definition(tmp_path: Path) -> None:
    """Per bin, the efficiency is the fraction of events with the seed's quantity in the bin that pass the seed's
    emulated condition; the quantity is the leading (or second) truth object inside the seed's |eta| cut."""
    n = 4000
    rng = np.random.default_rng(7)
    ev = {name: np.zeros((n, *shape), dtype=dtype) for name, (shape, dtype, _) in dataset.SCHEMA.items()}
    objs = {name: np.zeros((n, *shape), dtype=np.float32) for name, (shape, _) in dataset.TRUTH.items()}
    pt = rng.uniform(1, 100, (n, 2))
    eta = rng.uniform(-3, 3, (n, 2))
    objs["truth/egammas"][:, :2, 0], objs["truth/egammas"][:, :2, 1] = pt, eta
    measured = np.clip(pt + rng.normal(0, 2, pt.shape), 0, None)
    ev["objects/egammas"][:, :2, 0] = np.floor(2 * measured)  # hwPt, LSB 0.5 GeV
    ev["objects/egammas"][:, :2, 1] = np.floor(eta / CALO.eta_lsb)
    objs["truth/sums"][:, 1] = rng.uniform(0, 800, n)
    ev["sums/hw"][:, 2] = np.floor(2 * objs["truth/sums"][:, 1] * rng.normal(1, 0.1, n)).clip(0, 4095)
    menu = Menu(
        {
            "seeds": {
                "EG": {"type": "single_egamma", "pt": 36.0, "eta_max": 2.5},
                "DEG": {"type": "double_egamma", "pt": [25.0, 12.0], "eta_max": 2.5},
                "HT": {"type": "ht", "pt": 360.0},
                "Tau": {"type": "single_tau", "pt": 120.0},
                "ZB": {"type": "always"},
            }
        }
    )
    weights = rng.uniform(0.5, 2, n)
    out = turnon.turn_ons(menu, {"sig": (ev, objs, weights)})
    bits = menu.decisions(ev, None, prescaled=False)
    inside = np.where(np.abs(eta) < 2.5, pt, 0)
    quantity = {"EG": inside.max(axis=1), "DEG": inside.min(axis=1), "HT": objs["truth/sums"][:, 1]}
    for j, name in enumerate(["EG", "DEG", "HT"]):
        c = out[name]["samples"]["sig"]
        edges = np.asarray(c["edges"])
        q = quantity[name].astype(np.float32).astype(np.float64)
        has = q > 0
        k = np.clip(np.digitize(q, edges) - 1, 0, len(edges) - 2)
        for b in range(len(edges) - 1):
            sel = has & (k == b)
            want, _ = weighted_fraction(
                (weights * bits[:, j])[sel].sum(), (weights**2 * bits[:, j])[sel].sum(), weights[sel].sum(),
                (weights**2)[sel].sum(),
            )  # fmt: skip
            assert c["efficiency"][b] == pytest.approx(float(want), abs=1e-12), (name, b)
        assert abs(c["fit"]["mu"] - out[name]["threshold_gev"]) < 0.1 * out[name]["threshold_gev"]
    assert out["DEG"]["threshold_gev"] == 12.0 and "|eta| < 2.5" in out["DEG"]["quantity"]
    assert "tau" in out["Tau"]["why_not"] and "every crossing" in out["ZB"]["why_not"]
    # the report draws them and tabulates the fits
    results = {"seeds": {}, "signals": {}, "total_rate_hz": 0.0, "total_rate_err_hz": 0.0, "classic_rate_hz": 0.0,
               "zero_bias_events": 1, "turn_ons": out, "turn_on_samples": ["sig"]}  # fmt: skip
    pytest.importorskip("mplhep")
    images = plots({}, {}, results)
    assert "turn_ons" in images
    html = write_report(tmp_path, results, images, {"menu": "m", "bunches": 2544}).read_text()
    assert "<h2>Turn-on curves</h2>" in html and "95 % point [GeV]" in html
    saved = json.loads((tmp_path / "results.json").read_text())["results"]["turn_ons"]
    assert saved["EG"]["samples"]["sig"]["fit"]["pt95"] == out["EG"]["samples"]["sig"]["fit"]["pt95"]
