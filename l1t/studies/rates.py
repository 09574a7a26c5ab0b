"""Rates, thresholds for target rates, pure rates and overlaps, signal efficiencies: from decision bits.

rate = f_rev x colliding bunches x (accepted / total zero-bias crossings), with the binomial uncertainty.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emulator.menu import Menu
from models import metrics

__all__ = ["F_REV_HZ", "N_BUNCHES", "rate", "rate_curve", "signal_study", "study", "threshold_for_rate"]

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
    s = np.sort(np.asarray(scores).reshape(-1))[::-1]
    total = len(s) if total is None else total
    allowed = int(np.floor(target_hz / (F_REV_HZ * bunches) * total + 1e-9))
    if allowed >= len(s):
        return int(s[-1]) - 1
    return int(s[allowed])


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
    for ad, wps in menu.working_points.items():
        model = next(s.model for s in menu.seeds if s.name.startswith(f"{ad}_"))
        for wp, target in wps.items():
            menu.set_threshold(f"{ad}_{wp}", threshold_for_rate(zb_scores[model], target, bunches))
    bits = menu.decisions(zero_bias, zb_scores)
    classic = np.array([s.kind not in ("ad", "always") for s in menu.seeds])
    classic_any = bits[:, classic].any(axis=1)
    out: dict[str, Any] = {"zero_bias_events": n, "seeds": {}, "signals": {}}
    r, e = rate(int(bits.any(axis=1).sum()), n, bunches)
    out["total_rate_hz"], out["total_rate_err_hz"] = r, e
    r, e = rate(int(classic_any.sum()), n, bunches)
    out["classic_rate_hz"], out["classic_rate_err_hz"] = r, e
    for j, s in enumerate(menu.seeds):
        row: dict[str, Any] = {"kind": s.kind, "prescale": s.prescale}
        row["rate_hz"], row["rate_err_hz"] = rate(int(bits[:, j].sum()), n, bunches)
        if s.kind == "ad":
            row["threshold_raw"] = s.threshold
            pure = bits[:, j] & ~classic_any
            row["pure_rate_hz"], row["pure_rate_err_hz"] = rate(int(pure.sum()), n, bunches)
            row["overlap_with_classic"] = float((bits[:, j] & classic_any).sum() / max(bits[:, j].sum(), 1))
        out["seeds"][s.name] = row
    out["signals"] = signal_study(menu, signals, zb_scores)
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
