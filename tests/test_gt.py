"""The GT as a board block: object words and regions in, AD scores and algorithm bits out, through EMPv2 links."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from l1t.emulator.board import compare_tx, decode_rx, encode_rx, expected_tx
from l1t.emulator.chains import AxoChain, CicadaChain
from l1t.emulator.gt import GlobalTrigger
from l1t.emulator.menu import Menu, MenuError
from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network
from l1t.emulator.objects import InputScaling


def _dense(name: str, n_in: int, n_out: int, result: str) -> dict:
    types = {"result_t": result, "weight_t": "ap_fixed<6,3>", "bias_t": "ap_fixed<6,3>", "accum_t": "ap_fixed<24,12>"}
    return {
        "name": name,
        "op": "dense",
        "inputs": ["x"],
        "shape": [n_out],
        "types": types,
        "arrays": {"weight": f"{name}/weight", "bias": f"{name}/bias"},
    }


def _net(heads: dict[str, tuple[int, str]], n_in: int, in_type: str, w_max: int, rng: np.random.Generator) -> Network:
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "x", "shape": [n_in], "type": in_type}],
        "outputs": list(heads),
        "layers": [_dense(name, n_in, n, t) for name, (n, t) in heads.items()],
    }
    arrays = {}
    for name, (n, _) in heads.items():
        arrays[f"{name}/weight"] = rng.integers(-w_max, w_max + 1, (n_in, n)) * (rng.random((n_in, n)) < 0.5)
        arrays[f"{name}/bias"] = rng.integers(-32, 32, n)
    return Network(spec, arrays)


def _events(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def objs(k: int, pt_max: int, eta: int, phi: int, extra: int | None) -> np.ndarray:
        pt = rng.integers(0, pt_max, (n, k)) * (rng.random((n, k)) < 0.4)
        cols = [np.sort(pt, axis=1)[:, ::-1], rng.integers(-eta, eta, (n, k)), rng.integers(0, phi, (n, k))]
        cols += [] if extra is None else [rng.integers(0, extra, (n, k))]
        return np.stack(cols, axis=2).astype(np.int32) * (cols[0][..., None] > 0)

    return {
        "objects/muons": objs(8, 120, 220, 576, 16),
        "objects/egammas": objs(12, 160, 57, 144, 4),
        "objects/taus": objs(12, 300, 57, 144, 4),
        "objects/jets": objs(12, 900, 110, 144, None),
        "sums/hw": np.stack(
            [rng.integers(0, 700, n), rng.integers(0, 144, n), rng.integers(0, 2000, n), rng.integers(0, 4095, n)],
            axis=1,
        ).astype(np.int32),
        "regions/et": rng.integers(0, 1024, (n, 18, 14)).astype(np.uint16),
    }


MENU = {
    "seeds": {
        "L1_SingleMu22": {"type": "single_muon", "pt": 22.0, "eta_max": 2.4},
        "L1_DoubleEG_25_12": {"type": "double_egamma", "pt": [25.0, 12.0], "eta_max": 2.5},
        "L1_SingleJet180": {"type": "single_jet", "pt": 180.0},
        "L1_HTT360": {"type": "ht", "pt": 360.0, "prescale": 3},
        "L1_ETM150": {"type": "met", "pt": 150.0},
    },
    "ad_seeds": {
        "L1_AXO": {"model": "axol1tl", "working_points": {"Nominal": 5000, "Tight": 1000}},
        "L1_CICADA": {"model": "cicada", "working_points": {"Nominal": 5000}},
    },
}


@pytest.fixture(scope="module")
def gt() -> tuple[GlobalTrigger, dict[str, np.ndarray]]:
    rng = np.random.default_rng(11)
    axo = _net({"mu": (4, "ap_fixed<16,8>"), "logvar": (4, "ap_fixed<16,8>")}, 57, "ap_fixed<10,5>", 31, rng)
    cicada = _net({"score": (1, "ap_ufixed<16,8,AP_TRN,AP_SAT>")}, 252, "ap_ufixed<10,5>", 2, rng)
    scaling = InputScaling(rng.integers(0, 20, 57), rng.integers(0, 5, 57), 5)  # the input type ap_fixed<10,5>
    chains = {
        "axol1tl": AxoChain(axo, scaling),
        "cicada": CicadaChain(cicada),
    }
    ev = _events(3000, rng)
    menu = Menu(MENU)
    for s in menu.seeds:
        if s.kind == "ad":
            menu.set_threshold(
                s.name, int(np.quantile(chains[s.model].score(ev), 0.9 if "Nominal" in s.name else 0.98))
            )
    return GlobalTrigger(menu, chains), ev


def test_links_round_trip_and_bits_follow_the_menu(gt) -> None:
    block, ev = gt
    x = block.from_events(ev)
    rx = encode_rx(block, x, frames=2)
    decoded, frames = decode_rx(block, rx)
    assert frames == 2
    back = block.events(decoded)
    for field in ev:
        np.testing.assert_array_equal(back[field], ev[field], err_msg=field)
    out = block.run(decoded)
    chains = block.chains
    want = block.menu.decisions(ev, {m: c.score(ev) for m, c in chains.items()}, prescaled=False)
    np.testing.assert_array_equal(out["algo_initial"], want)
    np.testing.assert_array_equal(out["l1a"][:, 0], out["algo_final"].any(axis=1))
    htt = block.menu.names.index("L1_HTT360")
    fired = np.flatnonzero(out["algo_initial"][:, htt])
    assert len(fired) > 30  # prescale 3: the 1st, 4th, ... passing event
    np.testing.assert_array_equal(np.flatnonzero(out["algo_final"][:, htt]), fired[::3])
    for j, name in enumerate(block.menu.names):  # every seed fires and none fires always
        assert 0 < out["algo_initial"][:, j].sum() < len(ev["sums/hw"]), name


def test_corrupted_algo_bit_names_the_seed(gt) -> None:
    block, ev = gt
    x = block.from_events(ev)
    expected = expected_tx(block, block.run(x), frames=1)
    assert compare_tx(block, expected, expected).bad_frames == 0
    bit = 24 + 16 + 3  # the two score words, then algo_initial's 4th bit (L1_HTT360)
    data = expected.data.copy()
    data[41, bit // 64] ^= np.uint64(1 << (bit % 64))
    captured = dataclasses.replace(expected, data=data)
    report = compare_tx(block, expected, captured)
    assert report.bad_frames == 1
    assert report.first.event == 41 and report.first.field == "algo_initial[3] (L1_HTT360)"


def test_ad_seed_without_threshold_is_an_error(gt) -> None:
    block, _ = gt
    with pytest.raises(MenuError, match="without a threshold"):
        GlobalTrigger(Menu(MENU), block.chains)
    with pytest.raises(MenuError, match="no model chain"):
        GlobalTrigger(Menu(MENU), {"axol1tl": block.chains["axol1tl"]})
