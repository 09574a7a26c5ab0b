"""Menu decisions, prescales, rates, threshold inversion and the report, on constructed inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from l1t.emulator.menu import Menu, MenuError, prescale
from l1t.studies import rates
from l1t.studies.report import write_report

SCALE = rates.F_REV_HZ * rates.N_BUNCHES


def _events(n: int) -> dict[str, np.ndarray]:
    return {
        "objects/muons": np.zeros((n, 8, 4), dtype=np.int32),
        "objects/egammas": np.zeros((n, 12, 4), dtype=np.int32),
        "objects/taus": np.zeros((n, 12, 4), dtype=np.int32),
        "objects/jets": np.zeros((n, 12, 3), dtype=np.int32),
        "sums/hw": np.zeros((n, 4), dtype=np.int32),
    }


def test_rate_formula_and_uncertainty() -> None:
    r, e = rates.rate(30, 1_000_000)
    assert r == pytest.approx(SCALE * 3e-5)
    assert e == pytest.approx(SCALE * np.sqrt(3e-5 * (1 - 3e-5) / 1e6))
    assert rates.rate(0, 10) == (0.0, 0.0)


@pytest.mark.parametrize("target", [1e3, 5e3, 2e4, 1e5])
def test_threshold_hits_the_target_within_one_score_step(target: float) -> None:
    s = np.random.default_rng(1).integers(0, 400, 200_000)  # coarse: many ties
    t = rates.threshold_for_rate(s, target)
    below = rates.rate(int((s > t).sum()), len(s))[0]
    above = rates.rate(int((s > t - 1).sum()), len(s))[0]  # one score step looser
    assert below <= target < above


def test_prescale_keeps_every_nth_passing_event() -> None:
    passed = np.array([1, 0, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    np.testing.assert_array_equal(prescale(passed, 3), [1, 0, 0, 0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(prescale(passed, 1), passed)


def test_classic_seed_conditions() -> None:
    menu = Menu(
        {
            "seeds": {
                "mu": {"type": "single_muon", "pt": 22.0, "eta_max": 2.4, "quality": "single"},
                "eg2": {"type": "double_egamma", "pt": [25.0, 12.0]},
                "met": {"type": "met", "pt": 100.0},
                "iso": {"type": "single_egamma", "pt": 10.0, "iso": True},
            }
        }
    )
    ev = _events(5)
    ev["objects/muons"][0, 0] = [45, 10, 0, 12]  # 22 GeV: at threshold (muon hwPt counts from 1)
    ev["objects/muons"][1, 0] = [44, 10, 0, 12]  # 21.5 GeV: below
    ev["objects/muons"][2, 0] = [100, 222, 0, 12]  # bin 222 starts at |eta| 2.409 > 2.4
    ev["objects/muons"][3, 0] = [100, 221, 0, 11]  # the bin holding 2.4, but double-muon quality only
    ev["objects/egammas"][3, :2] = [[50, 0, 0, 0], [24, 0, 0, 1]]  # 25 and 12 GeV, the second isolated
    ev["objects/egammas"][4, :2] = [[50, 0, 0, 2], [23, 0, 0, 0]]  # the first only loosely isolated
    ev["sums/hw"][4, 0] = 200
    bits = menu.decisions(ev)
    assert menu.names == ["mu", "eg2", "met", "iso"]
    np.testing.assert_array_equal(bits[:, 0], [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(bits[:, 1], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(bits[:, 2], [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(bits[:, 3], [0, 0, 0, 1, 0])


def test_seed_words_follow_the_global_trigger() -> None:
    """Thresholds, eta windows and the isolation/quality LUTs in hardware words, as the uGT menu code compares
    them: e/gamma er2p5 keeps hwEta -58..57, tau er2p1 -49..48, muon er2p3 -211..211; SingleMu22 is hwPt >= 45;
    LooseIso is LUT 0xC over hwIso, Iso 0xA; single-muon quality 0xF000, double 0xFF00."""
    menu = Menu(
        {
            "seeds": {
                "eg": {"type": "single_egamma", "pt": 36.0, "eta_max": 2.5},
                "tau": {"type": "single_tau", "pt": 120.0, "eta_max": 2.1},
                "mu": {"type": "single_muon", "pt": 22.0, "eta_max": 2.3, "quality": "single"},
                "mu2": {"type": "double_muon", "pt": [15.0, 7.0], "quality": "double"},
                "loose": {"type": "single_egamma", "pt": 10.0, "iso": "loose"},
            }
        }
    )
    seeds = {s.name: s for s in menu.seeds}
    assert seeds["eg"].hw_pt == [72] and seeds["eg"].hw_eta == (-58, 57)
    assert seeds["tau"].hw_pt == [240] and seeds["tau"].hw_eta == (-49, 48)
    assert seeds["mu"].hw_pt == [45] and seeds["mu"].hw_eta == (-211, 211) and seeds["mu"].lut == 0xF000
    assert seeds["mu2"].hw_pt == [31, 15] and seeds["mu2"].lut == 0xFF00 and seeds["mu2"].hw_eta is None
    assert seeds["loose"].lut & 0xF == 0xC
    ev = _events(6)
    ev["objects/egammas"][0, 0] = [72, -58, 0, 0]
    ev["objects/egammas"][1, 0] = [72, 58, 0, 0]  # outside: the window is asymmetric in bins
    ev["objects/egammas"][2, 0] = [71, 57, 0, 3]  # 35.5 GeV, both isolation bits
    ev["objects/muons"][3, :2] = [[31, 0, 0, 8], [15, 0, 0, 8]]
    ev["objects/muons"][4, :2] = [[31, 0, 0, 8], [15, 0, 0, 7]]  # the second below double-muon quality
    ev["objects/muons"][5, 0] = [45, -211, 0, 12]
    bits = menu.decisions(ev)
    np.testing.assert_array_equal(bits[:, 0], [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(bits[:, 2], [0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(bits[:, 3], [0, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(bits[:, 4], [0, 0, 1, 0, 0, 0])


def _seed(**fields: object) -> dict:
    return {"seeds": {"s": fields}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_seed(type="triple_jet", pt=1), r"seeds\.s\.type: Input should be 'single_muon'.*got 'triple_jet'"),
        (_seed(type="double_muon", pt=5), r"seeds\.s: double_muon takes 2 pt threshold\(s\), got \[5\.0\]"),
        ({"ad_seeds": {"z": {"working_points": {"A": 1}}}}, r"ad_seeds\.z\.model: Field required"),
        (_seed(type="single_muon", pt=22.0, bogus=3), r"seeds\.s\.bogus: Extra inputs.*got 3"),
        (_seed(type="single_muon", pt=-5.0), r"seeds\.s\.pt\.0: .*greater than or equal to 0.*-5\.0"),
        ({"seeds": [{"type": "met", "pt": 50.0}]}, r"seeds: Input should be a valid dictionary"),
        (_seed(type="single_jet", pt=50.0, iso=True), r"seeds\.s: single_jet has no isolation"),
        (_seed(type="single_muon", pt=5.0, iso=True), r"seeds\.s: single_muon has no isolation"),
        (_seed(type="met", pt=50.0, eta_max=2.4), r"seeds\.s: met has no eta_max"),
        (_seed(type="met", pt="50"), r"seeds\.s\.pt\.0: Input should be a valid number.*'50'"),
        (_seed(type="met", pt=50.0, prescale=0), r"seeds\.s\.prescale: .*greater than or equal to 1"),
        (
            {
                "seeds": {"A_x": {"type": "met", "pt": 5.0}},
                "ad_seeds": {"A": {"model": "m", "working_points": {"x": 1}}},
            },
            r"seed names used twice: \['A_x'\]",
        ),
        (
            {"ad_seeds": {"A": {"model": "m", "working_points": {"x": -1}}}},
            r"ad_seeds\.A\.working_points\.x: .*greater than 0",
        ),
    ],
)
def test_bad_menus_name_the_field(config: dict, message: str) -> None:
    """Unknown keys, wrong types, negative thresholds, cuts a seed type has no word for: refused naming the field."""
    with pytest.raises(MenuError, match=f"^menu.yaml: {message}"):
        Menu(config, "menu.yaml")


def test_menu_files_name_file_and_line(tmp_path: Path) -> None:
    assert Menu.from_yaml(Path(__file__).parents[1] / "configs" / "menus" / "default.yaml").seeds
    broken = tmp_path / "broken.yaml"
    broken.write_text("seeds: {a: [1\n")
    with pytest.raises(MenuError, match=r"broken\.yaml: line 2 not valid YAML"):
        Menu.from_yaml(broken)
    with pytest.raises(MenuError, match=r"missing\.yaml: cannot read"):
        Menu.from_yaml(tmp_path / "missing.yaml")


def test_study_sets_ad_thresholds_and_pure_rates(tmp_path: Path) -> None:
    n = 100_000
    rng = np.random.default_rng(2)
    zb = _events(n)
    zb["sums/hw"][:, 0] = rng.integers(0, 300, n)
    menu = Menu(
        {
            "seeds": {"met": {"type": "met", "pt": 145.0}},
            "ad_seeds": {"AD": {"model": "m", "working_points": {"Loose": 20000, "Tight": 5000}}},
        }
    )
    score = rng.integers(0, 1000, n)
    score[zb["sums/hw"][:, 0] >= 290] += 1000  # the AD score overlaps with MET
    sig = _events(1000)
    sig_score = rng.integers(900, 2000, 1000)
    out = rates.study(menu, zb, {"m": score}, {"sig": (sig, {"m": sig_score})})
    for wp, target in (("Loose", 20000), ("Tight", 5000)):
        row = out["seeds"][f"AD_{wp}"]
        assert row["rate_hz"] <= target
        assert row["pure_rate_hz"] <= row["rate_hz"]
    tight = out["seeds"]["AD_Tight"]
    assert tight["overlap_with_classic"] > 0.5  # mostly events MET fires on
    eff = out["signals"]["sig"]["efficiency"]
    assert eff["AD_Loose"] >= eff["AD_Tight"] > 0 and eff["classic_menu"] == 0
    images = {"x": "iVBORw0KGgo="}
    html = write_report(tmp_path, out, images, {"menu": "t", "bunches": 2544}).read_text()
    assert "data:image/png;base64,iVBORw0KGgo=" in html and "AD_Tight" in html
    assert "http" not in html.replace("http-equiv", "")  # self-contained: nothing fetched
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["results"]["seeds"]["AD_Tight"]["threshold_raw"] == menu.seeds[-1].threshold


def _synthetic_file(path: Path, n: int, seed: int) -> dict[str, np.ndarray]:
    """A valid event file with random hardware values (the study only needs well-formed words)."""
    from l1t.events import dataset

    rng = np.random.default_rng(seed)
    data = _events(n)
    data["regions/et"] = rng.poisson(3, (n, 18, 14)).astype(np.uint16)
    data["objects/muons"][:, :2, 0] = rng.integers(0, 80, (n, 2))
    data["objects/egammas"][:, :3, 0] = rng.integers(0, 120, (n, 3))
    data["objects/jets"][:, :4, 0] = rng.integers(0, 500, (n, 4))
    data["sums/hw"][:, 0] = rng.integers(0, 400, n)
    data["truth/npu"] = np.full(n, 60, dtype=np.int16)
    data["truth/process"] = np.zeros(n, dtype=np.uint8)
    data["objects/jet_towers"] = np.zeros((n, 2, 16, 4), dtype=np.int32)
    dataset.write(path, dataset.EventSet(data, {"process": "minbias", "library": 1}))
    return data


def _cicada_chain():
    """A CICADA-like chain: one dense layer over the 18 x 14 regions."""
    from l1t.emulator.chains import CicadaChain
    from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network

    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "regions", "shape": [18, 14, 1], "type": "ap_fixed<16,6>"}],
        "outputs": ["score"],
        "layers": [
            {
                "name": "flat",
                "op": "reshape",
                "inputs": ["regions"],
                "shape": [252],
                "types": {"result_t": "ap_fixed<16,6>"},
            },
            {
                "name": "score",
                "op": "dense",
                "inputs": ["flat"],
                "shape": [1],
                "types": {
                    "result_t": "ap_ufixed<16,8,AP_TRN,AP_SAT>",
                    "weight_t": "ap_fixed<8,2>",
                    "bias_t": "ap_fixed<8,3>",
                    "accum_t": "ap_fixed<32,16>",
                },
                "arrays": {"weight": "w", "bias": "b"},
            },
        ],
    }
    arrays = {"w": np.random.default_rng(3).integers(-20, 40, (252, 1)), "b": np.array([5])}
    return CicadaChain(Network(spec, arrays))


def test_dask_chunked_study_equals_the_in_memory_one(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from l1t.studies.scale import study_chunked

    chain = _cicada_chain()
    zb = _synthetic_file(tmp_path / "zb.h5", 3000, 4)
    config = {
        "seeds": {
            "met": {"type": "met", "pt": 150.0},
            "jet": {"type": "single_jet", "pt": 200.0, "prescale": 3},
            "zb": {"type": "always", "prescale": 50},
        },
        "ad_seeds": {"AD": {"model": "cicada", "prescale": 2, "working_points": {"Loose": 3e6, "Tight": 5e5}}},
    }
    sig = _events(200)
    sig["regions/et"] = np.random.default_rng(5).poisson(8, (200, 18, 14)).astype(np.uint16)
    signals = {"sig": (sig, {"cicada": chain.score(sig)})}
    mem = rates.study(Menu(config), zb, {"cicada": chain.score(zb)}, signals)
    dsk = study_chunked(Menu(config), tmp_path / "zb.h5", {"cicada": chain}, signals, chunk=700, workers=2)
    assert dsk["seeds"] == mem["seeds"]
    for key in ("total_rate_hz", "classic_rate_hz", "zero_bias_events"):
        assert dsk[key] == mem[key], key
    assert dsk["signals"]["sig"]["efficiency"] == mem["signals"]["sig"]["efficiency"]
    assert mem["seeds"]["AD_Tight"]["rate_hz"] > 0 and mem["seeds"]["jet"]["rate_hz"] > 0


def test_object_conditions_equal_the_highest_objects() -> None:
    """Single and double seeds (counts of objects over each threshold) equal the definition on the highest
    qualifying objects (zero-padded), for thresholds in either order or zero, with ties, eta and isolation cuts."""
    from l1t.emulator.menu import Seed

    rng = np.random.default_rng(5)
    n = 2000
    eg = np.stack(
        [
            rng.integers(0, 40, (n, 12)),
            rng.integers(-60, 60, (n, 12)),
            rng.integers(0, 144, (n, 12)),
            rng.integers(0, 4, (n, 12)),
        ],
        axis=2,
    )
    ev = {"sums/hw": np.zeros((n, 4), dtype=np.int32), "objects/egammas": eg}
    menu = Menu({})
    seeds, columns = [], []
    for pts in ([20, 10], [10, 20], [15, 15], [0, 30], [30, 0], [0, 0], [38, 36], [39, 39]):  # high: shortcut
        for eta, lut in ((None, 0xFFFF), ((-41, 40), 0xAAAA), ((-10, 50), 0xCCCC)):
            seed = Seed("L1_DoubleEG", "double_egamma", pts, eta, lut, 1)
            ok = np.ones((n, 12), dtype=bool) if eta is None else (eta[0] <= eg[:, :, 1]) & (eg[:, :, 1] <= eta[1])
            ok &= (lut >> eg[:, :, 3]) & 1 == 1
            top = -np.sort(-np.where(ok, eg[:, :, 0], 0), axis=1)[:, :2]
            expected = (top[:, 0] >= pts[0]) & (top[:, 1] >= pts[1])
            np.testing.assert_array_equal(menu.condition(seed, ev, None), expected, err_msg=f"{pts} {eta} {lut}")
            single = Seed("L1_SingleEG", "single_egamma", pts[:1], eta, lut, 1)
            np.testing.assert_array_equal(menu.condition(single, ev, None), top[:, 0] >= pts[0], err_msg="single")
            seeds += [seed, single]
            columns += [expected, top[:, 0] >= pts[0]]
    ev["objects/muons"] = eg[:, :8]  # a second family and a sum seed among them, in one call
    seeds.insert(3, Seed("L1_SingleMu", "single_muon", [25], (-30, 30), 0xFFFF, 1))
    columns.insert(3, (np.where(np.abs(eg[:, :8, 1]) <= 30, eg[:, :8, 0], 0) >= 25).any(axis=1))
    seeds.insert(6, Seed("L1_HTT", "ht", [1]))
    columns.insert(6, np.zeros(n, dtype=bool))
    np.testing.assert_array_equal(menu.conditions(seeds, ev, None), np.stack(columns, axis=1))


def test_bit_counts_equal_their_definitions() -> None:
    """Per-seed, pure, overlap, total and classic counts of decision bits, against the set definitions (the
    always-firing zero-bias seed and AD seeds are not classic)."""
    menu = Menu(
        {
            "seeds": {
                "mu": {"type": "single_muon", "pt": 22.0},
                "zb": {"type": "always"},
                "ht": {"type": "ht", "pt": 1},
            },
            "ad_seeds": {"AXO": {"model": "axol1tl", "working_points": {"L": 1.0, "T": 0.5}}},
        }
    )
    rng = np.random.default_rng(4)
    bits = rng.random((5000, 5)) < [0.1, 0.02, 0.3, 0.2, 0.05]
    got = rates.count_bits(menu, bits)
    classic_any = bits[:, [0, 2]].any(axis=1)
    np.testing.assert_array_equal(got["seed"], bits.sum(axis=0))
    np.testing.assert_array_equal(got["pure"], (bits & ~classic_any[:, None]).sum(axis=0))
    np.testing.assert_array_equal(got["overlap"], (bits & classic_any[:, None]).sum(axis=0))
    assert got["total"] == bits.any(axis=1).sum() and got["classic"] == classic_any.sum()
    alone = bits & (bits.sum(axis=1) == 1)[:, None]  # unique: no other seed fired
    np.testing.assert_array_equal(got["unique"], alone.sum(axis=0))


def test_weighted_prescales_are_the_expectation_of_the_counters() -> None:
    """On weighted crossings a prescaled seed counts each passing crossing with 1/prescale of its weight; the total
    and pure sums are the probabilities of independent prescalers. Averaged over every phase of the counters (which
    on unweighted crossings are exact), the counters give the same sums."""
    menu = Menu(
        {
            "seeds": {"mu": {"type": "single_muon", "pt": 22.0, "prescale": 4}, "ht": {"type": "ht", "pt": 1}},
            "ad_seeds": {"AXO": {"model": "axol1tl", "working_points": {"L": 1.0}, "prescale": 3}},
        }
    )
    rng = np.random.default_rng(8)
    n = 2000
    passed = rng.random((n, 3)) < [0.4, 0.3, 0.5]
    w = rng.uniform(0.1, 10, n)
    got = rates.zero_bias_counts(menu, passed, w)
    np.testing.assert_allclose(got["seed"], [w @ passed[:, 0] / 4, w @ passed[:, 1], w @ passed[:, 2] / 3])
    p_mu, p_ad = passed[:, 0] / 4, passed[:, 2] / 3
    none_classic = (1 - p_mu) * ~passed[:, 1]
    np.testing.assert_allclose(got["classic"], w @ (1 - none_classic))
    np.testing.assert_allclose(got["total"], w @ (1 - none_classic * (1 - p_ad)))
    np.testing.assert_allclose(got["pure"], [0, 0, w @ (p_ad * none_classic)])
    np.testing.assert_allclose(
        got["unique"],
        [
            w @ (p_mu * ~passed[:, 1] * (1 - p_ad)),
            w @ (passed[:, 1] * (1 - p_mu) * (1 - p_ad)),
            w @ (p_ad * none_classic),
        ],
    )
    # the expectation over the counters' phases: shifting which passing crossing each counter keeps first
    phases = [(a, b) for a in range(4) for b in range(3)]
    mean = {k: 0.0 for k in ("total", "classic")}
    for a, b in phases:
        kept = menu.prescaled(passed, {"mu": a, "AXO_L": b})
        c = rates.count_bits(menu, kept, w)
        for k in mean:
            mean[k] += c[k] / len(phases)
    for k in mean:  # independent prescalers vs counters over one sequence: equal up to the phases' correlation
        assert mean[k] == pytest.approx(got[k], rel=0.02), k
    # the uncertainty is the ratio estimator's, sum w^2 (a - p)^2 / W^2 with a the crossing's acceptance
    a = p_mu
    p = (w @ a) / w.sum()
    _, err = rates.weighted_fraction(got["seed"][0], got["seed_w2"][0], w.sum(), (w * w).sum(), got["seed_w2a2"][0])
    assert err == pytest.approx(np.sqrt((w * w) @ (a - p) ** 2) / w.sum())
    # a prescaled seed that passes every crossing (L1_ZeroBias) has rate f x 1/prescale exactly, with no error
    zb = Menu({"seeds": {"zb": {"type": "always", "prescale": 1000}}})
    out = rates.summarize(zb, rates.zero_bias_counts(zb, np.ones((n, 1), dtype=bool), w), n)
    assert out["seeds"]["zb"]["rate_hz"] == pytest.approx(SCALE / 1000)
    assert out["seeds"]["zb"]["rate_err_hz"] == pytest.approx(0, abs=1e-6 * SCALE / 1000)
    # unweighted crossings keep the GT's counters
    np.testing.assert_array_equal(
        rates.zero_bias_counts(menu, passed)["seed"], menu.prescaled(passed).sum(axis=0).astype(float)
    )


def test_threshold_scan_against_direct_counts(tmp_path: Path) -> None:
    """Every scanned point equals the seed evaluated with the scaled thresholds; at factor 1 the seed's own rate."""
    zb = _synthetic_file(tmp_path / "zb.h5", 2000, 7)
    w = np.random.default_rng(8).exponential(1.0, 2000)
    config = {
        "seeds": {
            "met": {"type": "met", "pt": 60.0},
            "eg": {"type": "double_egamma", "pt": [30.0, 12.0], "eta_max": 2.5},
            "mu": {"type": "single_muon", "pt": 10.0},
        }
    }
    menu = Menu(config)
    scan = rates.threshold_scan(menu, zb, w)
    one = int(np.argmin(np.abs(rates.SCAN_FACTORS - 1.0)))
    assert rates.SCAN_FACTORS[one] == 1.0
    own = rates.study(Menu(config), zb, {}, {}, weights=w)["seeds"]
    for name, s in scan.items():
        assert s["rate_hz"][one] == pytest.approx(own[name]["rate_hz"])
        assert np.all(np.diff(s["rate_hz"]) <= 1e-9)  # higher thresholds never fire more
    met = scan["met"]
    for g, r in zip(met["gev"], met["rate_hz"], strict=True):
        passed = zb["sums/hw"][:, 0] >= int(np.ceil(g / 0.5 - 1e-9))
        assert r == pytest.approx(rates.F_REV_HZ * rates.N_BUNCHES * w[passed].sum() / w.sum())
    assert scan["mu"]["menu_gev"] == 10.0 and scan["eg"]["gev"][one] == 30.0


def test_rate_vs_pileup_fits_a_line_through_each_seeds_rates(tmp_path: Path) -> None:
    """Zero-bias files at pileups 20, 40, 60 in which exactly 10 x pileup crossings pass a MET seed: the rates are
    exact and the fitted slope is 10 crossings per unit of pileup; the AD seed keeps the threshold the main file
    set, so its rate elsewhere is the count of scores above that threshold."""
    from l1t.events import dataset
    from l1t.studies.pileup import linear_fit, rate_vs_pileup
    from l1t.studies.reference import ReferenceError, ReferenceSpec
    from l1t.studies.study import menu_report

    n = 20_000
    chain = _cicada_chain()
    files = {}
    for pu in (20, 40, 60):
        data = _synthetic_file(tmp_path / "tmp.h5", n, pu)
        data["sums/hw"][:, 0] = 0
        data["sums/hw"][: 10 * pu, 0] = 300  # 150 GeV
        data["regions/et"] = (data["regions/et"] * (pu / 40)).astype(np.uint16)  # more pileup, higher scores
        files[pu] = dataset.write(tmp_path / f"zb{pu}.h5", dataset.EventSet(data, {"pileup": float(pu)}))
    menu = Menu({"seeds": {"ETM150": {"type": "met", "pt": 150.0}},
                 "ad_seeds": {"AD": {"model": "cicada", "working_points": {"Nominal": 20000}}}})  # fmt: skip
    main = dataset.read(files[40]).data
    results = rates.study(menu, main, {"cicada": chain.score(main)}, {})
    scan = rate_vs_pileup(menu, (40.0, results), [files[60], files[20]], {"cicada": chain}, rates.N_BUNCHES)
    assert scan["pileup"] == [20.0, 40.0, 60.0]
    met = scan["seeds"]["ETM150"]
    np.testing.assert_allclose(met["rate_hz"], [SCALE * 10 * pu / n for pu in (20, 40, 60)])
    assert met["fit"]["slope_hz_per_pileup"] == pytest.approx(SCALE * 10 / n)
    assert met["fit"]["intercept_hz"] == pytest.approx(0, abs=1e-6) and met["fit"]["ndf"] == 1
    threshold = results["seeds"]["AD_Nominal"]["threshold_raw"]
    for k, pu in enumerate((20, 40, 60)):
        scores = chain.score(dataset.read(files[pu]).data)
        assert scan["seeds"]["AD_Nominal"]["rate_hz"][k] == pytest.approx(SCALE * np.mean(scores > threshold))
    rising = scan["seeds"]["AD_Nominal"]["rate_hz"]
    assert rising[0] < rising[1] < rising[2]
    # the report through l1t report's function: the panel drawn, the pointer to --pileup-scan only without one
    menu_path = tmp_path / "menu.yaml"
    menu_path.write_text("seeds:\n  ETM150: {type: met, pt: 150.0}\n")
    # a reference at pileup 20 is set against the pileup-20 sample's rates, not the main file's
    at_20 = SCALE * 10 * 20 / n
    ref = ReferenceSpec(source="constructed for the test", conditions="pileup 20", pileup=20.0,
                        seeds={"ETM150": {"rate_hz": at_20 / 3}})  # fmt: skip
    study = menu_report(menu_path, files[40], tmp_path / "out", pileup_scan=[files[20]], reference=ref)
    cmp = study.results["reference"]
    assert cmp["pileup"] == 20.0 and cmp["seeds"]["ETM150"]["simulated_hz"] == pytest.approx(at_20)
    assert cmp["seeds"]["ETM150"]["ratio"] == pytest.approx(3) and not cmp["seeds"]["ETM150"]["within"]
    html = study.report.read_text()
    assert "rate_vs_pileup" in html and "--pileup-scan" not in html
    assert "Simulated vs recorded rates" in html and "Outside a factor 2: ETM150" in html
    alone = menu_report(menu_path, files[20], tmp_path / "out4", reference=ref).results  # the main sample at 20
    assert alone["reference"]["seeds"]["ETM150"]["simulated_hz"] == pytest.approx(at_20)
    with pytest.raises(ReferenceError, match=r"pileup 30; the study has pileup 20, 40: add a zero-bias sample"):
        menu_report(menu_path, files[40], tmp_path / "out3", pileup_scan=[files[20]],
                    reference=ref.model_copy(update={"pileup": 30.0}))  # fmt: skip
    assert "--pileup-scan" in menu_report(menu_path, files[40], tmp_path / "out1").report.read_text()
    # a straight line through exact points, and a file whose pileup is unknown is named
    fit = linear_fit(np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0]), np.array([0.1, 0.1, 0.0]))
    assert fit["slope_hz_per_pileup"] == pytest.approx(2) and fit["intercept_hz"] == pytest.approx(1)
    assert linear_fit(np.array([1.0, 1.0]), np.array([1.0, 2.0]), np.ones(2)) is None
    unknown = dataset.write(tmp_path / "nopu.h5", dataset.EventSet(_synthetic_file(tmp_path / "t.h5", 100, 1), {}))
    with pytest.raises(dataset.DatasetError, match=r"nopu\.h5: no pileup attribute"):
        menu_report(menu_path, files[40], tmp_path / "out2", pileup_scan=[unknown])
