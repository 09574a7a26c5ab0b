"""FPD, KPD and W1 against their closed forms on Gaussian samples."""

from __future__ import annotations

import numpy as np
import pytest

from l1t.models import fidelity


def test_frechet_distance_closed_form() -> None:
    d = 5
    mu = np.arange(d) * 0.3
    assert fidelity.frechet_distance(np.zeros(d), np.eye(d), mu, np.eye(d)) == pytest.approx(mu @ mu)
    # isotropic covariances: d (s1 - s2)^2
    assert fidelity.frechet_distance(np.zeros(d), 4 * np.eye(d), np.zeros(d), np.eye(d)) == pytest.approx(d * 1.0)


def test_fpd_vanishes_for_one_distribution_and_follows_a_shifted_mean() -> None:
    rng = np.random.default_rng(0)
    real = rng.standard_normal((20_000, 4))
    kw = {"min_samples": 2_000, "max_samples": 8_000, "batches": 8, "points": 5}
    same, err = fidelity.fpd(real, rng.standard_normal((20_000, 4)), **kw)
    assert same < 3e-3 and err < 3e-3
    shift = np.array([0.3, 0.0, -0.2, 0.0])
    value, _ = fidelity.fpd(real, rng.standard_normal((20_000, 4)) + shift, **kw)
    scale = np.abs(real).max(axis=0)  # the reference normalises by the real sample's max |x|
    assert value == pytest.approx(float(((shift / scale) ** 2).sum()), rel=0.15)
    bigger, _ = fidelity.fpd(real, rng.standard_normal((20_000, 4)) + 2 * shift, **kw)
    assert bigger == pytest.approx(4 * value, rel=0.15)


def test_kpd_is_zero_within_error_for_one_distribution_and_grows_with_a_shift() -> None:
    rng = np.random.default_rng(1)
    real = rng.standard_normal((10_000, 3))
    same, err = fidelity.kpd(real, rng.standard_normal((10_000, 3)), batches=10, batch_size=1_000)
    assert abs(same) < 3 * err + 1e-5
    values = [fidelity.kpd(real, rng.standard_normal((10_000, 3)) + s, batch_size=1_000)[0] for s in (0.3, 0.6)]
    assert values[0] > 10 * max(err, 1e-6) and values[1] > 2 * values[0]


def test_w1_closed_forms() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal((200_000, 2))
    b = np.stack([rng.standard_normal(200_000) + 0.5, 2 * rng.standard_normal(200_000)], axis=1)
    mean, std = fidelity.w1(a, b, batches=3, samples=100_000)
    # shift: |delta|; scale: |s1 - s2| sqrt(2 / pi)
    assert mean == pytest.approx([0.5, np.sqrt(2 / np.pi)], rel=0.03)
    assert (std < 0.01).all()


def test_bad_features_are_named() -> None:
    with pytest.raises(ValueError, match="same features"):
        fidelity.fpd(np.zeros((10, 2)), np.zeros((10, 3)))
    bad = np.ones((10, 2))
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="generated features: non-finite value at sample 7"):
        fidelity.kpd(np.ones((10, 2)), bad)


def test_jet_features_of_two_massless_constituents() -> None:
    # two 100 GeV constituents at d_eta = +-0.2: m^2 = 2 pT^2 (cosh(0.4) - 1)
    pt = np.array([[100.0, 100.0, 0.0]])
    f = fidelity.jet_features(pt, np.array([[0.2, -0.2, 0.0]]), np.zeros((1, 3)))
    assert f[0, 1] == pytest.approx(np.sqrt(2 * 100.0**2 * (np.cosh(0.4) - 1)))
    assert f[0, 2] == 2 and f[0, 3] == pytest.approx(0.2) and f[0, 5] == pytest.approx(0.5)


def test_fpd_with_a_constant_feature_is_finite() -> None:
    rng = np.random.default_rng(3)
    real = rng.standard_normal((4000, 3))
    gen = rng.standard_normal((4000, 3))
    gen[:, 2] = 0.5  # a generator that always gives one value: a singular covariance
    value, _ = fidelity.fpd(real, gen, min_samples=500, max_samples=2000, batches=4, points=3)
    assert np.isfinite(value) and value > 0.05
