"""Hardware objects and calo trigger logic against direct (loop) computations on small inputs."""

from __future__ import annotations

import numpy as np
import pytest

from l1t.emulator import calo
from l1t.emulator.objects import CALO, MUON, axol1tl_vector, hw_eta, hw_phi, hw_pt, scale_inputs, sort_truncate


def test_hw_quantization_and_saturation() -> None:
    np.testing.assert_array_equal(hw_pt(np.array([-1.0, 0.49, 0.5, 10.26, 1e9]), 0.5, 9), [0, 0, 1, 20, 511])
    np.testing.assert_array_equal(
        hw_eta(np.array([0.0, 0.0435, -0.0436, 100.0, -100.0]), CALO.eta_lsb, 8), [0, 1, -1, 127, -128]
    )
    np.testing.assert_array_equal(hw_phi(np.array([0.0, np.pi, -1e-9, 2 * np.pi]), 144), [0, 72, 143, 0])
    assert MUON.pt_max == 511 and CALO.pt_max == 2047


def test_sort_truncate_orders_by_pt_and_pads() -> None:
    objs = np.array([[[5, 1, 1], [0, 9, 9], [7, 2, 2], [5, 3, 3]]])
    out = sort_truncate(objs, 6)
    np.testing.assert_array_equal(out[0, :, 0], [7, 5, 5, 0, 0, 0])
    np.testing.assert_array_equal(out[0, 1:3, 1], [1, 3])  # ties keep input order
    assert np.all(out[0, 3:] == 0)  # empty objects are all-zero


def test_sort_truncate_mixed_batch_matches_per_event_sort() -> None:
    """Events already in order take the truncation shortcut, the others the stable sort: both equal a per-event
    stable sort on decreasing hwPt, with ties (many, from a small pT range), zeros and negative words."""
    rng = np.random.default_rng(3)
    objs = rng.integers(-2, 6, (400, 12, 3))
    objs[::2, :, 0] = -np.sort(-objs[::2, :, 0], axis=1)  # half the events arrive sorted
    for n in (4, 12, 14):
        got = sort_truncate(objs, n)
        for event, o in enumerate(objs):
            ranked = sorted(range(12), key=lambda i, o=o: -o[i, 0])[:n]  # Python's sort is stable
            expected = np.zeros((n, 3), dtype=objs.dtype)
            expected[: len(ranked)] = [o[i] if o[i, 0] > 0 else np.zeros(3, dtype=o.dtype) for i in ranked]
            np.testing.assert_array_equal(got[event], expected, err_msg=f"event {event}, n {n}")


def test_axol1tl_vector_layout() -> None:
    n = 3
    rng = np.random.default_rng(0)
    met = np.stack([rng.integers(0, 4096, n), rng.integers(0, 144, n)], axis=1)
    eg = rng.integers(1, 100, (n, 12, 4))
    mu = rng.integers(1, 100, (n, 8, 4))
    jets = rng.integers(1, 100, (n, 12, 3))
    v = axol1tl_vector(met, eg, mu, jets)
    assert v.shape == (n, 57)
    np.testing.assert_array_equal(v[:, 0], met[:, 0])
    np.testing.assert_array_equal(v[:, 1], 0)
    np.testing.assert_array_equal(v[:, 2], met[:, 1])
    for e in range(n):
        top_eg = sorted(eg[e, :, 0], reverse=True)[:4]
        np.testing.assert_array_equal(v[e, 3:15:3], top_eg)
        np.testing.assert_array_equal(v[e, 27:57:3], sorted(jets[e, :, 0], reverse=True)[:10])


def test_axol1tl_vector_is_sort_truncate_per_family() -> None:
    """The one-pass vector equals ``sort_truncate`` of each family: sorted and unsorted events, ties, empty slots,
    fewer slots than the vector takes (2 muons for 4 places)."""
    rng = np.random.default_rng(2)
    n = 500
    met = np.stack([rng.integers(0, 4096, n), rng.integers(0, 144, n)], axis=1)
    eg, mu, jets = (rng.integers(-1, 6, (n, k, f)) for k, f in ((12, 4), (2, 4), (12, 3)))
    jets[::3, :, 0] = -np.sort(-jets[::3, :, 0], axis=1)
    v = axol1tl_vector(met, eg, mu, jets).reshape(n, 19, 3)
    np.testing.assert_array_equal(v[:, 1:5], sort_truncate(eg[:, :, :3], 4))
    np.testing.assert_array_equal(v[:, 5:9], sort_truncate(mu[:, :, :3], 4))
    np.testing.assert_array_equal(v[:, 9:19], sort_truncate(jets, 10))


def test_scale_inputs_shift_and_saturate() -> None:
    x = np.array([[0, 100, -50]])
    np.testing.assert_array_equal(scale_inputs(x, [10, 0, 0], [1, 2, 3], -8, 20), [[-5, 20, -7]])


def _box_loop(t: np.ndarray, size: int) -> np.ndarray:
    n, ne, nphi = t.shape
    h = size // 2
    out = np.zeros_like(t, dtype=np.int64)
    for e in range(n):
        for i in range(ne):
            for j in range(nphi):
                for di in range(-h, h + 1):
                    for dj in range(-h, h + 1):
                        if 0 <= i + di < ne:
                            out[e, i, j] += t[e, i + di, (j + dj) % nphi]
    return out


@pytest.mark.parametrize("size", [3, 5, 9])
def test_box_sum_matches_loops(size: int) -> None:
    t = np.random.default_rng(size).integers(0, 20, (2, 12, 16))
    np.testing.assert_array_equal(calo.box_sum(t, size), _box_loop(t, size))


def test_local_maxima_unique_on_ties_and_wraps_phi() -> None:
    t = np.zeros((1, 10, 12), dtype=np.int64)
    t[0, 4, 0] = t[0, 4, 11] = 9  # neighbours across the phi wrap, equal ET
    t[0, 8, 6] = 3
    seeds = calo.local_maxima(t, 3, threshold=4)
    assert seeds.sum() == 1 and seeds[0, 4, 11]  # the later position wins the tie; 3 is below threshold
    brute = np.zeros_like(seeds)
    key = t[0] * 120 + np.arange(120).reshape(10, 12)
    for i in range(10):
        for j in range(12):
            win = [key[a, b % 12] for a in range(max(i - 1, 0), min(i + 2, 10)) for b in range(j - 1, j + 2)]
            brute[0, i, j] = key[i, j] == max(win) and t[0, i, j] >= 4
    np.testing.assert_array_equal(seeds, brute)


def test_regions_tile_and_saturate() -> None:
    t = np.random.default_rng(1).integers(0, 40, (3, 56, 72))
    t[0, :4, :4] = 511  # 16 x 511 saturates the 10-bit region
    r = calo.regions(t)
    assert r.shape == (3, 18, 14) and r.dtype == np.uint16
    assert r[0, 0, 0] == 1023
    assert r[1, 5, 3] == t[1, 12:16, 20:24].sum()


def test_single_deposit_jet_and_saturation() -> None:
    eta_centers = np.linspace(-2.95, 2.95, 56)
    t = np.zeros((2, 56, 72), dtype=np.int64)
    t[0, 30, 10] = 100  # 50 GeV in one tower
    t[1, 30, 10:13] = 511  # saturated towers
    jets = calo.jets(t, eta_centers, seed=8, k=12)
    # pileup estimate: the rings' total x 9/72, floored
    assert jets[0, 0, 0] == 100 - 100 * 9 // 72
    assert jets[0, 0, 2] == 2 * 10 + 1 and jets[0, 0, 1] == hw_eta(eta_centers[30:31], CALO.eta_lsb, 8)[0]
    assert jets[0, 1:, 0].sum() == 0
    assert jets[1, 0, 0] == 3 * 511 - 3 * 511 * 9 // 72 and jets[1, 0, 2] == 2 * 12 + 1


def test_egamma_veto_and_isolation() -> None:
    eta_centers = np.linspace(-2.95, 2.95, 56)
    em = np.zeros((3, 56, 72), dtype=np.int64)
    had = np.zeros_like(em)
    em[:, 28, 30] = 40
    had[1, 28, 30] = 30  # H/E = 0.75: vetoed
    em[2, 26, 32] = 20  # activity in the 5x5 ring: not isolated
    eg = calo.egammas(em, had, eta_centers, seed=4, k=12, eta_max=2.5, had_over_em=0.5, iso_fraction=0.3)
    assert eg[0, 0, 0] == 40 and eg[0, 0, 3] == 1
    assert eg[1, :, 0].sum() == 0
    assert eg[2, 0, 0] == 40 and eg[2, 0, 3] == 0
