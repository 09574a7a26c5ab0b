"""Rates, thresholds for target rates, pure rates and overlaps, signal efficiencies: from decision bits.

rate = f_rev x colliding bunches x (accepted / total zero-bias crossings), with the binomial uncertainty.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from l1t.emulator.menu import Menu
from l1t.models import metrics

__all__ = [
    "F_REV_HZ",
    "N_BUNCHES",
    "count_bits",
    "rate",
    "rate_curve",
    "set_thresholds",
    "signal_study",
    "study",
    "summarize",
    "threshold_for_rate",
]

F_REV_HZ = metrics.F_REV_HZ
N_BUNCHES = metrics.COLLIDING_BUNCHES


def rate(accepted: int, total: int, bunches: int = N_BUNCHES) -> tuple[float, float]:
    """(rate, binomial uncertainty) in Hz."""
    if total <= 0:
        raise ValueError("no zero-bias crossings")
    p = accepted / total
    scale = F_REV_HZ * bunches
    return scale * p, scale * np.sqrt(p * (1 - p) / total)


def threshold_for_rate(scores: np.ndarray, target_hz: float, bunches: int = N_BUNCHES, total: int | None = None) -> int:
    """The lowest threshold on the score's discrete values with rate(score > threshold) <= target.

    ``scores`` may be only the highest scores of ``total`` crossings (enough of them: more than the target lets
    through); the result is the same as with all of them."""
    s = np.asarray(scores).reshape(-1)
    total = len(s) if total is None else total
    allowed = int(np.floor(target_hz / (F_REV_HZ * bunches) * total + 1e-9))
    if allowed >= len(s):
        return int(s.min()) - 1
    k = len(s) - 1 - allowed  # the (allowed + 1)-th highest score, by selection rather than a full sort
    return int(np.partition(s, k)[k])


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
) -> dict[str, Any]:
    """Set the AD thresholds from their target rates, then rates, pure rates, overlaps and efficiencies."""
    n = len(zero_bias["sums/hw"])
    set_thresholds(menu, zb_scores, n, bunches)
    out = summarize(menu, count_bits(menu, menu.decisions(zero_bias, zb_scores)), n, bunches)
    out["signals"] = signal_study(menu, signals, zb_scores)
    return out


def set_thresholds(menu: Menu, scores: dict[str, np.ndarray], total: int, bunches: int = N_BUNCHES) -> None:
    """Each AD working point's threshold for its target rate, from each model's zero-bias scores (all ``total``
    of them, or only enough of the highest: see ``threshold_for_rate``)."""
    for ad, wps in menu.working_points.items():
        for wp, target in wps.items():
            menu.set_threshold(f"{ad}_{wp}", threshold_for_rate(scores[menu.ad_models[ad]], target, bunches, total))


@numba.njit(cache=True, nogil=True)
def _count_bits(bits: np.ndarray, classic: np.ndarray, seed: np.ndarray, pure: np.ndarray) -> tuple[int, int]:
    """One pass over (N, seeds) bits: per-seed and pure counts (added into ``seed``/``pure``), any-seed and
    any-classic-seed counts (returned)."""
    total = 0
    classic_total = 0
    for e in range(bits.shape[0]):
        fired = False
        fired_classic = False
        for j in range(bits.shape[1]):
            if bits[e, j]:
                fired = True
                fired_classic |= classic[j]
        total += fired
        classic_total += fired_classic
        for j in range(bits.shape[1]):
            if bits[e, j]:
                seed[j] += 1
                pure[j] += not fired_classic
    return total, classic_total


def count_bits(menu: Menu, bits: np.ndarray) -> dict[str, Any]:
    """Counts of zero-bias decision bits (N, seeds): per seed, per seed without any classic seed (pure), per seed
    with one (overlap), any seed (total), any classic seed. Counts of chunks add up."""
    classic = np.array([s.kind not in ("ad", "always") for s in menu.seeds], dtype=bool)
    seed = np.zeros(len(menu.seeds), dtype=np.int64)
    pure = np.zeros(len(menu.seeds), dtype=np.int64)
    total, classic_total = _count_bits(np.ascontiguousarray(bits, dtype=bool), classic, seed, pure)
    return {"seed": seed, "pure": pure, "overlap": seed - pure, "total": total, "classic": classic_total}


def summarize(menu: Menu, counts: dict[str, Any], n: int, bunches: int = N_BUNCHES) -> dict[str, Any]:
    """Rates with binomial errors from ``count_bits`` counts over ``n`` zero-bias crossings; pure rates and the
    overlap with the classic seeds for the AD seeds (thresholds as set on the menu)."""
    out: dict[str, Any] = {"zero_bias_events": n, "seeds": {}, "signals": {}}
    out["total_rate_hz"], out["total_rate_err_hz"] = rate(counts["total"], n, bunches)
    out["classic_rate_hz"], out["classic_rate_err_hz"] = rate(counts["classic"], n, bunches)
    for j, s in enumerate(menu.seeds):
        row: dict[str, Any] = {"kind": s.kind, "prescale": s.prescale}
        row["rate_hz"], row["rate_err_hz"] = rate(int(counts["seed"][j]), n, bunches)
        if s.kind == "ad":
            row["threshold_raw"] = s.threshold
            row["pure_rate_hz"], row["pure_rate_err_hz"] = rate(int(counts["pure"][j]), n, bunches)
            row["overlap_with_classic"] = float(counts["overlap"][j] / max(counts["seed"][j], 1))
        out["seeds"][s.name] = row
    return out


def signal_study(
    menu: Menu,
    signals: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    zb_scores: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Per signal: efficiency of every seed (no prescales), of the classic menu, AD pure efficiencies, and, when
    the zero-bias scores are given, each AD score's AUC and TPR at FPR 1e-5. Thresholds must already be set."""
    classic = np.array([s.kind not in ("ad", "always") for s in menu.seeds])
    out: dict[str, Any] = {}
    for name, (events, sc) in signals.items():
        sb = menu.decisions(events, sc, prescaled=False)
        c_any = sb[:, classic].any(axis=1)
        eff = {"classic_menu": float(c_any.mean())}
        for j, s in enumerate(menu.seeds):
            eff[s.name] = float(sb[:, j].mean())
            if s.kind == "ad":
                eff[f"{s.name} pure"] = float((sb[:, j] & ~c_any).mean())
        ad_metrics = {}
        for model, zb_s in zb_scores.items():
            if model in sc:
                tpr, _ = metrics.tpr_at_fpr(zb_s, sc[model], 1e-5)
                ad_metrics[model] = {"auc": metrics.auc(zb_s, sc[model]), "tpr_at_fpr_1e-5": tpr}
        out[name] = {"events": len(events["sums/hw"]), "efficiency": eff, "scores": ad_metrics}
    return out
