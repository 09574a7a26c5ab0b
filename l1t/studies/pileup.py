"""Rate vs pileup: each seed's rate and the menu total on zero-bias samples at several mean pileups, with the AD
thresholds held at the values the main sample set (a working point is a threshold in the firmware, not a rate),
and a straight line rate = a + b x pileup fitted per seed by weighted least squares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from l1t.emulator.gt import ScoreChain
from l1t.emulator.menu import Menu
from l1t.events.dataset import DatasetError, read, read_record, read_weights
from l1t.studies.rates import summarize, zero_bias_counts
from l1t.studies.scale import study_fields

__all__ = ["linear_fit", "rate_vs_pileup", "sample_pileup"]


def sample_pileup(path: Path, attrs: Mapping[str, Any]) -> float:
    """A zero-bias file's mean pileup: the generator's Poisson mean, or the recorded per-crossing pileup's mean."""
    if attrs.get("pileup") is not None:
        return float(attrs["pileup"])
    record = read_record(path)
    if record is not None and len(record.pileup):
        return float(np.mean(record.pileup))
    raise DatasetError(f"{path}: no pileup attribute and no recorded pileup: its mean pileup is unknown")


def linear_fit(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, float] | None:
    """rate = intercept + slope x pileup by weighted least squares (1 / err^2; a point with no error takes the
    smallest positive one), with the parameters' errors and chi^2 / ndf; None below two distinct pileups."""
    x, y, err = (np.asarray(a, dtype=np.float64) for a in (x, y, err))
    if len(np.unique(x)) < 2:
        return None
    positive = err[err > 0]
    sigma = np.where(err > 0, err, positive.min() if positive.size else 1.0)
    design = np.stack([np.ones_like(x), x], axis=1) / sigma[:, None]
    cov = np.linalg.inv(design.T @ design)
    intercept, slope = cov @ design.T @ (y / sigma)
    chi2 = float(np.sum(((y - intercept - slope * x) / sigma) ** 2))
    return {
        "intercept_hz": float(intercept),
        "slope_hz_per_pileup": float(slope),
        "intercept_err_hz": float(np.sqrt(cov[0, 0])),
        "slope_err_hz_per_pileup": float(np.sqrt(cov[1, 1])),
        "chi2": chi2,
        "ndf": len(x) - 2,
    }


def _rates(menu: Menu, path: Path, chains: Mapping[str, ScoreChain], bunches: int) -> tuple[float, dict[str, Any]]:
    ev = read(path, fields=study_fields(menu, chains))
    scores = {m: c.score(ev.data) for m, c in chains.items()}
    bits = menu.decisions(ev.data, scores, prescaled=False)
    return sample_pileup(path, ev.attrs), summarize(
        menu, zero_bias_counts(menu, bits, read_weights(path)), len(bits), bunches
    )


def rate_vs_pileup(
    menu: Menu,
    main: tuple[float, dict[str, Any]],
    files: Sequence[Path],
    chains: Mapping[str, ScoreChain],
    bunches: int,
) -> dict[str, Any]:
    """Per seed and for the menu total: rates and errors at each pileup (``main``: the main sample's pileup and
    ``rates.summarize`` results; ``files``: more zero-bias samples, read in memory) and the straight-line fit."""
    points = sorted([main, *(_rates(menu, Path(f), chains, bunches) for f in files)], key=lambda p: p[0])
    pileup = [p for p, _ in points]

    def series(rate: list[float], err: list[float]) -> dict[str, Any]:
        return {"rate_hz": rate, "rate_err_hz": err, "fit": linear_fit(np.array(pileup), np.array(rate), np.array(err))}

    seeds = {
        name: series(
            [r["seeds"][name]["rate_hz"] for _, r in points], [r["seeds"][name]["rate_err_hz"] for _, r in points]
        )
        for name in menu.names
    }
    total = series([r["total_rate_hz"] for _, r in points], [r["total_rate_err_hz"] for _, r in points])
    return {"pileup": pileup, "files": [str(f) for f in files], "seeds": seeds, "total": total}
