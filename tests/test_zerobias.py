"""Zero bias stratified in pT-hat: the strata's probabilities, the draws, bounded library reuse, and two samples of
different seeds and libraries agreeing on every classic seed's rate within 2 sigma."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from l1t.emulator.menu import Menu
from l1t.events import dataset, zerobias
from l1t.events.generate import ZERO_BIAS_BINS, Recipe, run
from l1t.events.pileup import Draw, assemble, balanced_picks
from l1t.events.pythia import ParticleBlock
from l1t.studies import rates

DEFAULT_MENU = Path(__file__).resolve().parents[1] / "configs" / "menus" / "default.yaml"


def test_strata_partition_the_crossings_as_poisson_counts_do() -> None:
    """Draw Poisson counts per bin directly, classify each crossing by its hardest bin: the fractions are the strata's
    probabilities, and given the stratum the counts are distributed as ``counts`` draws them."""
    rng = np.random.default_rng(1)
    lam = np.array([0.4, 0.15, 0.05])
    probs = zerobias.probabilities(lam)
    assert probs.sum() == pytest.approx(1.0, abs=1e-15)
    n = 400_000
    direct = rng.poisson(lam, (n, 3))
    hardest = np.where(direct.any(axis=1), 2 - np.argmax(direct[:, ::-1] > 0, axis=1), -1)
    for s in range(-1, 3):
        frac = np.mean(hardest == s)
        assert abs(frac - probs[s + 1]) < 4 * np.sqrt(probs[s + 1] * (1 - probs[s + 1]) / n)
        if s < 0:
            continue
        sel = direct[hardest == s]
        _, *drawn = zerobias.counts(s, len(sel), 1.0, lam, rng)
        drawn = np.stack(drawn, axis=1)
        drawn[:, s] += 1  # the stratum's leading event
        for b in range(3):
            assert abs(drawn[:, b].mean() - sel[:, b].mean()) < 5 * sel[:, b].std() / np.sqrt(len(sel)) + 1e-12
        assert (drawn[:, s + 1 :] == 0).all() and (drawn[:, s] >= 1).all()


def test_zero_truncated_poisson() -> None:
    rng = np.random.default_rng(2)
    for lam in (1e-4, 0.1, 3.0):
        k = zerobias.zero_truncated_poisson(lam, 200_000, rng)
        mean = lam / -np.expm1(-lam)
        var = mean * (1 + lam - mean)
        assert k.min() >= 1 and abs(k.mean() - mean) < 5 * np.sqrt(var / len(k)) + 1e-9


def test_weights_sum_to_the_crossings() -> None:
    lam = np.array([0.1, 0.02, 0.003])
    strata = zerobias.plan([30, 50, 80], 1000, lam)
    probs = zerobias.probabilities(lam)
    assert sum(s.crossings for s in strata) == 1000
    for s, p in zip(strata, probs, strict=True):  # half by probability, half evenly
        assert abs(s.crossings - 1000 * (p / 2 + 1 / 8)) <= len(strata)  # the remainder goes to the largest
    assert sum(s.weight * s.crossings for s in strata) == pytest.approx(1000)
    assert strata[0].pthat is None and strata[1].pthat == (30.0, 50.0) and strata[3].pthat == (80.0, None)
    assert [s.label for s in strata] == ["soft", "30-50", "50-80", "80-∞"]
    with_active = zerobias.plan([30, 50, 80], 1000, np.append(lam, 0.01), 7)
    assert with_active[-1].label == "soft active" and with_active[-1].crossings == 7
    assert sum(s.crossings for s in with_active) == 1000
    assert sum(s.weight * s.crossings for s in with_active) == pytest.approx(1000)
    with pytest.raises(ValueError, match="exceed the inelastic cross section"):
        zerobias.rates(60, 1.0, [0.7, 0.5])


def _block(n: int, first: int) -> ParticleBlock:
    """``n`` events of one particle each, whose pid numbers the event from ``first``."""
    ones = np.ones(n, dtype=np.float32)
    return ParticleBlock(np.arange(n + 1, dtype=np.int64), np.arange(first, first + n, dtype=np.int32),
                         np.zeros(n, dtype=np.int8), ones, ones, ones)  # fmt: skip


def test_balanced_picks_bound_every_events_reuse() -> None:
    rng = np.random.default_rng(3)
    picks = balanced_picks(70, 1000, rng)
    uses = np.bincount(picks, minlength=70)
    assert uses.min() == 1000 // 70 and uses.max() == -(-1000 // 70)
    signal, library = _block(50, 10_000), _block(40, 0)
    counts = rng.poisson(3.0, 50)
    block, (sig_uses, lib_uses) = assemble(50, [Draw(signal, np.ones(50), np.arange(50)), Draw(library, counts)], rng)
    first = block.pid[block.offsets[:-1]]
    np.testing.assert_array_equal(first, np.arange(10_000, 10_050))  # each crossing starts with its signal event
    np.testing.assert_array_equal(np.diff(block.offsets), counts + 1)
    in_crossing = [set(block.pid[a + 1 : b]) for a, b in zip(block.offsets[:-1], block.offsets[1:], strict=True)]
    np.testing.assert_array_equal(lib_uses, [sum(e in c for c in in_crossing) for e in range(40)])
    assert (sig_uses == 1).all()


@pytest.fixture(scope="module")
def two_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    pytest.importorskip("pythia8mc")
    d = tmp_path_factory.mktemp("zb")
    common = {"events": 1200, "pileup": 20.0, "chunk": 300, "pthat_bins": (30, 70, 200), "hard_library": 40}
    return [
        run(Recipe("minbias", seed=seed, library=library, **common), d / f"zb{seed}.h5", workers=2)
        for seed, library in ((11, 1000), (12, 1200))
    ]


def test_stratified_file(two_samples: list[Path]) -> None:
    path = two_samples[0]
    ev = dataset.read(path)
    w = dataset.read_weights(path)
    assert w.sum() == pytest.approx(1200) and (w > 0).all()
    strata = ev.attrs["strata"]
    n_active = ev.attrs["active_library_events"]
    assert strata[-1]["label"] == "soft active" and strata[-1]["crossings"] == n_active > 0
    assert [s["crossings"] for s in strata[:-1]] == zerobias.sizes(
        1200 - n_active, [s["probability"] for s in strata[:-1]]
    )
    assert sum(s["probability"] for s in strata) == pytest.approx(1.0)
    assert 20 / 1000 <= ev.attrs["pileup_max_share"] <= 1.3 * 20 / 1000  # about mu / library, no outlier
    assert ev.attrs["cross_sections_mb"]["inelastic"][0] > 50
    assert abs(ev["truth/npu"].mean() - 20) < 5 * np.sqrt(20 / 1200)
    # the strata are ordered soft, 30-70, 70-200, >200 GeV: the leading jet follows the pT-hat of its stratum
    jet_pt = ev["objects/jets"][:, 0, 0] / 2
    strata = strata[:-1]
    bounds = np.cumsum([0] + [s["crossings"] for s in strata])
    means = [jet_pt[a:b].mean() for a, b in itertools.pairwise(bounds)]
    assert np.all(np.diff(means) > 0) and means[-1] > 150


def _assert_rates_agree(paths: list[Path]) -> None:
    """Every classic seed of the default menu: the two files' rates within 2 sigma (the errors from sum w^2)."""
    found = []
    for path in paths:
        menu = Menu.from_yaml(DEFAULT_MENU)
        menu.keep_ad_models(set())
        ev = dataset.read(path)
        found.append(rates.study(menu, ev.data, {}, {}, rates.N_BUNCHES, dataset.read_weights(path), {})["seeds"])
    for name, a in found[0].items():
        b = found[1][name]
        sigma = np.hypot(a["rate_err_hz"], b["rate_err_hz"])  # 0 for L1_ZeroBias: f / prescale on any sample
        tolerance = 2 * sigma + 1e-12 * max(a["rate_hz"], b["rate_hz"])  # summation order's rounding
        assert abs(a["rate_hz"] - b["rate_hz"]) <= tolerance, (name, a["rate_hz"], b["rate_hz"], sigma)


def test_two_samples_agree_on_every_classic_seed(two_samples: list[Path]) -> None:
    """Different seeds, different min-bias and hard libraries: every classic seed's rate agrees within 2 sigma."""
    _assert_rates_agree(two_samples)


@pytest.mark.slow
def test_two_full_samples_agree_on_every_classic_seed(tmp_path: Path) -> None:
    """As above at the demo's conditions: pileup 60, CMS's pT-hat edges, the default library (12,000 events)."""
    pytest.importorskip("pythia8mc")
    paths = [run(Recipe("minbias", 8000, 60.0, seed, pthat_bins=ZERO_BIAS_BINS), tmp_path / f"zb{seed}.h5")
             for seed in (21, 22)]  # fmt: skip
    for path in paths:
        attrs = dataset.read(path, 0, 1).attrs
        assert attrs["library"] == 12_000 and attrs["pileup_max_share"] <= 1.3 * 60 / 12_000
    _assert_rates_agree(paths)


def test_report_of_stratified_zero_bias(two_samples: list[Path], tmp_path: Path) -> None:
    """The report states how the zero bias was made: pileup, library reuse, the strata with their weights."""
    from l1t.studies.study import menu_report

    study = menu_report(DEFAULT_MENU, two_samples[0], tmp_path / "rep", note=lambda _: None)
    page = study.report.read_text()
    assert "no library event is in more than" in page and "<td>200-∞</td>" in page
    assert "weighted: sum of weights 1200" in page and "<h2>Summary</h2>" in page
    # its hard interactions are a weighted QCD sample for the turn-on curves
    assert study.results["turn_on_samples"] == ["zero bias (QCD)"] and "<h2>Turn-on curves</h2>" in page
    jet = study.results["turn_ons"]["L1_SingleJet180"]["samples"]["zero bias (QCD)"]
    assert jet["events"] > 0 and len(jet["efficiency"]) == len(jet["edges"]) - 1
