"""ROC, AUC, TPR at a fixed FPR and background rejection at a fixed TPR (higher score = more signal-like),
exact on tied scores."""

from __future__ import annotations

import numpy as np

__all__ = ["auc", "rate_fpr", "rejection_at_tpr", "roc", "tpr_at_fpr"]

F_REV_HZ = 11245.6
COLLIDING_BUNCHES = 2544


def rate_fpr(rate_hz: float, bunches: int = COLLIDING_BUNCHES) -> float:
    """The zero-bias acceptance that gives ``rate_hz``: rate / (f_rev * colliding bunches)."""
    return rate_hz / (F_REV_HZ * bunches)


def roc(background: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds): accept score > threshold, for every distinct score, from accept-none to accept-all."""
    b, s = np.sort(np.asarray(background, float)), np.sort(np.asarray(signal, float))
    thresholds = np.unique(np.concatenate([b, s]))[::-1]
    fpr = (len(b) - np.searchsorted(b, thresholds, side="right")) / len(b)
    tpr = (len(s) - np.searchsorted(s, thresholds, side="right")) / len(s)
    lowest = thresholds[-1] - 1
    return np.concatenate([fpr, [1.0]]), np.concatenate([tpr, [1.0]]), np.concatenate([thresholds, [lowest]])


def auc(background: np.ndarray, signal: np.ndarray) -> float:
    """Area under the ROC curve (= P(signal > background) + P(tie) / 2)."""
    fpr, tpr, _ = roc(background, signal)
    f, t = np.concatenate([[0.0], fpr]), np.concatenate([[0.0], tpr])
    return float(np.sum(np.diff(f) * (t[1:] + t[:-1]) / 2))  # trapezoids: exact for a step ROC with ties


def tpr_at_fpr(background: np.ndarray, signal: np.ndarray, fpr: float) -> tuple[float, float]:
    """(tpr, threshold) at the lowest threshold whose background acceptance (score > threshold) is <= fpr."""
    b = np.sort(np.asarray(background, float))
    allowed = int(np.floor(fpr * len(b)))  # background events that may pass
    threshold = b[len(b) - 1 - allowed] if allowed < len(b) else b[0] - 1
    return float(np.mean(np.asarray(signal) > threshold)), float(threshold)


def rejection_at_tpr(background: np.ndarray, signal: np.ndarray, tpr: float) -> float:
    """1 / background efficiency at the threshold that keeps a fraction ``tpr`` of the signal (score > threshold);
    infinite when no background passes."""
    s = np.sort(np.asarray(signal, float))
    threshold = s[max(len(s) - int(np.ceil(tpr * len(s))) - 1, 0)]
    eff = float(np.mean(np.asarray(background, float) > threshold))
    return float("inf") if eff == 0 else 1 / eff
