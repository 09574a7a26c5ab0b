"""Rates, thresholds for target rates, pure rates and overlaps, signal efficiencies: from decision bits.

Zero-bias crossings may carry weights w (a sample combined from pieces by cross section; unweighted files weigh 1):
rate = f_rev x colliding bunches x p, p = sum of w over accepted crossings / sum of w over all, with the
uncertainty from the sums of squared weights, sigma_p^2 = ((1 - p)^2 S_acc + p^2 S_rej) / W^2 (S: sums of w^2 of
the accepted and rejected crossings; W: the sum of w), which for unit weights is the binomial p (1 - p) / N.
Prescales apply by counters on unweighted crossings, as their expectation on weighted ones (``zero_bias_counts``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numba
import numpy as np

from l1t.emulator.menu import Menu
from l1t.models import metrics

__all__ = [
    "F_REV_HZ",
    "N_BUNCHES",
    "SCAN_FACTORS",
    "count_bits",
    "rate",
    "rate_curve",
    "set_thresholds",
    "signal_study",
    "study",
    "summarize",
    "threshold_for_rate",
    "threshold_scan",
    "weighted_fraction",
    "weighted_rate",
    "zero_bias_counts",
]

F_REV_HZ = metrics.F_REV_HZ
N_BUNCHES = metrics.COLLIDING_BUNCHES


def weighted_fraction(
    accepted_w: np.ndarray | float,
    accepted_w2: np.ndarray | float,
    total_w: np.ndarray | float,
    total_w2: np.ndarray | float,
    accepted_w2a2: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(p, sigma_p) of the accepted fraction from the sums of weights and of squared weights of the accepted and of
    all crossings (the module's formula), elementwise; p = 0 where there is no weight at all. A crossing may be
    accepted in part, a in [0, 1] (an expected prescale): then ``accepted_w`` and ``accepted_w2`` are the sums of
    w a and w^2 a, ``accepted_w2a2`` that of w^2 a^2, and sigma_p^2 = sum w^2 (a - p)^2 / W^2, the ratio
    estimator's variance, which for a in {0, 1} is the module's formula."""
    acc, acc2, tot, tot2 = (np.asarray(a, dtype=np.float64) for a in (accepted_w, accepted_w2, total_w, total_w2))
    acc_sq = acc2 if accepted_w2a2 is None else np.asarray(accepted_w2a2, dtype=np.float64)
    safe = np.where(tot > 0, tot, 1.0)
    p = np.where(tot > 0, acc / safe, 0.0)
    terms = acc_sq + p**2 * tot2
    var = acc_sq - 2 * p * acc2 + p**2 * tot2  # a difference of near-equal terms when every a is alike:
    var = np.where(var > 1e-12 * terms, var, 0.0) / safe**2  # below their rounding, it is 0
    return p, np.sqrt(var)


def weighted_rate(
    accepted_w: float,
    accepted_w2: float,
    total_w: float,
    total_w2: float,
    bunches: int = N_BUNCHES,
    accepted_w2a2: float | None = None,
) -> tuple[float, float]:
    """(rate, uncertainty) in Hz from the sums of weights and of squared weights of the accepted and of all
    crossings (see the module's formula; ``accepted_w2a2`` as in ``weighted_fraction``)."""
    if total_w <= 0:
        raise ValueError("no zero-bias crossings")
    p, err = weighted_fraction(accepted_w, accepted_w2, total_w, total_w2, accepted_w2a2)
    scale = F_REV_HZ * bunches
    return scale * float(p), scale * float(err)


def rate(accepted: int, total: int, bunches: int = N_BUNCHES) -> tuple[float, float]:
    """(rate, binomial uncertainty) in Hz of ``accepted`` of ``total`` unweighted crossings."""
    return weighted_rate(accepted, accepted, total, total, bunches)


def threshold_for_rate(
    scores: np.ndarray,
    target_hz: float,
    bunches: int = N_BUNCHES,
    total: int | None = None,
    weights: np.ndarray | None = None,
    total_weight: float | None = None,
) -> int:
    """The lowest threshold on the score's discrete values with rate(score > threshold) <= target.

    ``scores`` may be only the highest scores of ``total`` crossings (of total weight ``total_weight`` when
    ``weights`` are given: enough of them that more than the target passes); the result is the same as with all."""
    s = np.asarray(scores).reshape(-1)
    if weights is None:
        total = len(s) if total is None else total
        allowed = int(np.floor(target_hz / (F_REV_HZ * bunches) * total + 1e-9))
        if allowed >= len(s):
            return int(s.min()) - 1
        k = len(s) - 1 - allowed  # the (allowed + 1)-th highest score, by selection rather than a full sort
        return int(np.partition(s, k)[k])
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    total_weight = float(w.sum()) if total_weight is None else total_weight
    allowed_w = target_hz / (F_REV_HZ * bunches) * total_weight * (1 + 1e-12)
    values, inverse = np.unique(s, return_inverse=True)
    above = np.cumsum(np.bincount(inverse, weights=w, minlength=len(values))[::-1])[::-1]  # weight at >= value
    passing = np.append(above[1:], 0.0)  # weight strictly above each value
    ok = np.flatnonzero(passing <= allowed_w)  # thresholds at a value: score > value passes
    if above[0] <= allowed_w:
        return int(values[0]) - 1
    return int(values[ok[0]])


def rate_curve(scores: np.ndarray, bunches: int = N_BUNCHES, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds, rate in Hz of score > threshold) at up to ``points`` of the score's distinct values."""
    s = np.sort(np.asarray(scores).reshape(-1))
    values = np.unique(s)
    if len(values) > points:
        values = values[np.linspace(0, len(values) - 1, points).astype(int)]
    passing = len(s) - np.searchsorted(s, values, side="right")
    return values, F_REV_HZ * bunches * passing / len(s)


def study(
    menu: Menu,
    zero_bias: dict[str, np.ndarray],
    zb_scores: dict[str, np.ndarray],
    signals: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    bunches: int = N_BUNCHES,
    weights: np.ndarray | None = None,
    signal_weights: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Set the AD thresholds from their target rates, then rates, pure rates, overlaps and efficiencies; with
    ``weights`` (per zero-bias crossing) and ``signal_weights`` (per signal, per event) everything is weighted."""
    n = len(zero_bias["sums/hw"])
    set_thresholds(menu, zb_scores, n, bunches, weights)
    passed = menu.decisions(zero_bias, zb_scores, prescaled=False)
    out = summarize(menu, zero_bias_counts(menu, passed, weights), n, bunches)
    out["signals"] = signal_study(menu, signals, zb_scores, signal_weights)
    out["threshold_scan"] = threshold_scan(menu, zero_bias, weights, bunches)
    return out


SCAN_FACTORS = np.linspace(0.5, 2.0, 31)  # a classic seed's thresholds, all legs scaled together


def threshold_scan(
    menu: Menu,
    events: dict[str, np.ndarray],
    weights: np.ndarray | None = None,
    bunches: int = N_BUNCHES,
    factors: np.ndarray = SCAN_FACTORS,
) -> dict[str, dict[str, Any]]:
    """Per classic object or sum seed: the unprescaled zero-bias rate [Hz] and its error with every threshold of
    the seed scaled by each factor (in GeV, then converted to the hardware word as the menu does), against the
    leading threshold in GeV; ``menu_gev`` is the menu's own."""
    seeds = [s for s in menu.seeds if s.kind not in ("always", "ad")]
    w = np.ones(len(events["sums/hw"])) if weights is None else np.asarray(weights, dtype=np.float64)
    total, total2 = float(w.sum()), float((w * w).sum())
    copies, gev = [], {}
    for s in seeds:
        fmt = s.pt_format
        legs = [float(fmt.pt(hw)) for hw in s.hw_pt]
        gev[s.name] = (legs[0], [legs[0] * f for f in factors])
        copies += [dataclasses.replace(s, hw_pt=[fmt.hw_threshold(g * f) for g in legs]) for f in factors]
    bits = menu.conditions(copies, events, None)
    acc, acc2 = w @ bits, (w * w) @ bits
    out = {}
    for k, s in enumerate(seeds):
        cols = range(k * len(factors), (k + 1) * len(factors))
        hz = [weighted_rate(float(acc[c]), float(acc2[c]), total, total2, bunches) for c in cols]
        out[s.name] = {"menu_gev": gev[s.name][0], "gev": gev[s.name][1], "rate_hz": [r for r, _ in hz],
                       "rate_err_hz": [e for _, e in hz]}  # fmt: skip
    return out


def set_thresholds(
    menu: Menu,
    scores: dict[str, np.ndarray],
    total: int,
    bunches: int = N_BUNCHES,
    weights: np.ndarray | dict[str, np.ndarray] | None = None,
    total_weight: float | None = None,
) -> None:
    """Each AD working point's threshold for its target rate, from each model's zero-bias scores (all ``total``
    of them, or only enough of the highest: see ``threshold_for_rate``); ``weights`` per crossing (or per model,
    aligned with a model's top scores, with ``total_weight`` the whole sample's)."""
    for ad, wps in menu.working_points.items():
        model = menu.ad_models[ad]
        w = weights.get(model) if isinstance(weights, dict) else weights
        for wp, target in wps.items():
            t = threshold_for_rate(scores[model], target, bunches, total, w, total_weight)
            menu.set_threshold(f"{ad}_{wp}", t)


@numba.njit(cache=True, nogil=True)
def _count_bits(
    bits: np.ndarray,
    q: np.ndarray,
    w: np.ndarray,
    classic: np.ndarray,
    seed: np.ndarray,
    pure: np.ndarray,
    unique: np.ndarray,
    sums: np.ndarray,
) -> None:
    """One pass over (N, seeds) bits with crossing weights w, a set bit of seed j accepting with probability q[j]
    independently of the other seeds (q = 1: the bits are the decisions). Per seed, the crossing's acceptance a
    (the probability it accepts; pure: and no classic seed does; unique: and no other seed does) is added as the
    sums of w a, w^2 a and w^2 a^2 into rows 0, 1, 2 of ``seed``/``pure``/``unique`` (3, seeds); into ``sums``
    (3, 3) those of any seed, any classic seed, and all crossings (a = 1). With q = 1 every a is 0 or 1."""
    for e in range(bits.shape[0]):
        none = 1.0  # P(no seed accepts)
        none_classic = 1.0
        certain = 0  # set bits that accept for sure: their factor 1 - q is 0
        others = 1.0  # the product of the other factors
        for j in range(bits.shape[1]):
            if bits[e, j]:
                none *= 1.0 - q[j]
                if classic[j]:
                    none_classic *= 1.0 - q[j]
                if q[j] >= 1.0:
                    certain += 1
                else:
                    others *= 1.0 - q[j]
        we, we2 = w[e], w[e] * w[e]
        _add(sums, 0, we, we2, 1.0 - none)
        _add(sums, 1, we, we2, 1.0 - none_classic)
        _add(sums, 2, we, we2, 1.0)
        for j in range(bits.shape[1]):
            if bits[e, j]:
                _add(seed, j, we, we2, q[j])
                if not classic[j]:  # a classic seed that accepts is never without one
                    _add(pure, j, we, we2, q[j] * none_classic)
                if q[j] >= 1.0:  # P(no other seed accepts)
                    alone = others if certain == 1 else 0.0
                else:
                    alone = others / (1.0 - q[j]) if certain == 0 else 0.0
                _add(unique, j, we, we2, q[j] * alone)


@numba.njit(cache=True, nogil=True, inline="always")
def _add(out: np.ndarray, j: int, w: float, w2: float, a: float) -> None:
    out[0, j] += w * a
    out[1, j] += w2 * a
    out[2, j] += w2 * a * a


def count_bits(
    menu: Menu, bits: np.ndarray, weights: np.ndarray | None = None, acceptance: np.ndarray | None = None
) -> dict[str, Any]:
    """Sums over zero-bias decision bits (N, seeds), of the crossings' weights (1 when not given) and their squares:
    per seed, per seed without any classic seed (pure), per seed with one (overlap), per seed without any other seed
    (unique), any seed (total), any classic seed, all crossings (``sumw``); the ``*_w2`` keys hold the sums of
    w^2 a, the ``*_w2a2`` keys those of w^2 a^2 (``weighted_fraction``). Sums of chunks add up. ``acceptance``: per
    seed, the probability that a set bit accepts (default 1; see ``zero_bias_counts``)."""
    classic = np.array([s.kind not in ("ad", "always") for s in menu.seeds], dtype=bool)
    seed, pure, unique = (np.zeros((3, len(menu.seeds))) for _ in range(3))
    sums = np.zeros((3, 3))
    w = np.ones(len(bits)) if weights is None else np.asarray(weights, dtype=np.float64)
    q = np.ones(len(menu.seeds)) if acceptance is None else np.asarray(acceptance, dtype=np.float64)
    _count_bits(np.ascontiguousarray(bits, dtype=bool), q, w, classic, seed, pure, unique, sums)
    out: dict[str, Any] = {}
    for key, a in (("seed", seed), ("pure", pure), ("unique", unique), ("total", sums[:, 0]),
                   ("classic", sums[:, 1])):  # fmt: skip
        out[key], out[f"{key}_w2"], out[f"{key}_w2a2"] = a[0], a[1], a[2]
    out["overlap"] = seed[0] - pure[0]
    out["sumw"], out["sumw2"] = sums[0, 2], sums[1, 2]
    return out


def zero_bias_counts(
    menu: Menu, passed: np.ndarray, weights: np.ndarray | None = None, counters: dict[str, int] | None = None
) -> dict[str, Any]:
    """``count_bits`` of unprescaled bits (N, seeds) with the menu's prescales applied: on unweighted crossings as
    the GT applies them, by counters (``counters``: their state at the first crossing); on weighted crossings as
    their expectation, each passing crossing accepted with probability 1 / prescale. A counter would keep every
    N-th crossing, and a weighted sample's crossings come in order of their strata: it would keep the crossings
    of particular strata, whose weights differ by orders of magnitude."""
    if weights is None:
        return count_bits(menu, menu.prescaled(passed, counters))
    return count_bits(menu, passed, weights, np.array([1.0 / s.prescale for s in menu.seeds]))


def summarize(menu: Menu, counts: dict[str, Any], n: int, bunches: int = N_BUNCHES) -> dict[str, Any]:
    """Rates with their uncertainties from ``count_bits`` sums over ``n`` zero-bias crossings: every seed's rate and
    unique rate (no other seed fires), and for the AD seeds the pure rate and the overlap with the classic seeds
    (thresholds as set on the menu)."""
    w, w2 = float(counts["sumw"]), float(counts["sumw2"])

    def hz(key: str, j: int | None = None) -> tuple[float, float]:
        a, a2, a2a2 = (counts[k] if j is None else counts[k][j] for k in (key, f"{key}_w2", f"{key}_w2a2"))
        return weighted_rate(float(a), float(a2), w, w2, bunches, float(a2a2))

    out: dict[str, Any] = {"zero_bias_events": n, "seeds": {}, "signals": {}}
    out["zero_bias_weight"], out["zero_bias_effective_events"] = w, w * w / w2 if w2 > 0 else 0.0
    out["total_rate_hz"], out["total_rate_err_hz"] = hz("total")
    out["classic_rate_hz"], out["classic_rate_err_hz"] = hz("classic")
    targets = {f"{ad}_{wp}": target for ad, wps in menu.working_points.items() for wp, target in wps.items()}
    for j, s in enumerate(menu.seeds):
        row: dict[str, Any] = {"kind": s.kind, "prescale": s.prescale}
        row["rate_hz"], row["rate_err_hz"] = hz("seed", j)
        row["unique_rate_hz"], row["unique_rate_err_hz"] = hz("unique", j)
        if s.kind == "ad":
            row["threshold_raw"] = s.threshold
            row["model"] = s.model
            row["target_hz"] = targets[s.name]
            row["pure_rate_hz"], row["pure_rate_err_hz"] = hz("pure", j)
            row["overlap_with_classic"] = float(counts["overlap"][j] / counts["seed"][j]) if counts["seed"][j] else 0.0
        out["seeds"][s.name] = row
    return out


def signal_study(
    menu: Menu,
    signals: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    zb_scores: dict[str, np.ndarray],
    weights: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Per signal: efficiency of every seed (no prescales), of the classic menu, AD pure efficiencies (weighted by
    the signal's event weights when given), and, when the zero-bias scores are given, each AD score's AUC and TPR
    at FPR 1e-5. Thresholds must already be set."""
    classic = np.array([s.kind not in ("ad", "always") for s in menu.seeds])
    out: dict[str, Any] = {}
    for name, (events, sc) in signals.items():
        sb = menu.decisions(events, sc, prescaled=False)
        w = (weights or {}).get(name)
        w = np.ones(len(sb)) if w is None else np.asarray(w, dtype=np.float64)
        total = float(w.sum()) or 1.0

        def eff_of(passed: np.ndarray, w: np.ndarray = w, total: float = total) -> float:
            return float(w[passed].sum() / total)

        c_any = sb[:, classic].any(axis=1)
        eff = {"classic_menu": eff_of(c_any)}
        for j, s in enumerate(menu.seeds):
            eff[s.name] = eff_of(sb[:, j])
            if s.kind == "ad":
                eff[f"{s.name} pure"] = eff_of(sb[:, j] & ~c_any)
        ad_metrics = {}
        for model, zb_s in zb_scores.items():
            if model in sc:
                tpr, _ = metrics.tpr_at_fpr(zb_s, sc[model], 1e-5)
                ad_metrics[model] = {"auc": metrics.auc(zb_s, sc[model]), "tpr_at_fpr_1e-5": tpr}
        out[name] = {"events": len(events["sums/hw"]), "efficiency": eff, "scores": ad_metrics}
    return out
