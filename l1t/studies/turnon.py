"""Turn-on curves: a classic seed's efficiency (unprescaled, from the emulator's decision bits) against the
generator-level quantity it triggers on, in bins of that quantity, with an error-function fit
eff(x) = plateau x Phi((x - mu) / sigma) (unbinned maximum likelihood) and the point where the fit reaches 95 %
efficiency.

The quantity (``truth_quantity``) is the pT of the leading (single seeds) or second (double seeds) generator-level
object of the seed's family inside the seed's |eta| cut, or the generator-level missing E_T or HT of sum seeds
(``l1t.events.truth``). Events without such an object are left out; weighted samples are weighted, with the
uncertainties of ``rates.weighted_fraction``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from l1t.emulator.menu import Menu, Seed
from l1t.events import truth
from l1t.extras import require
from l1t.studies.rates import weighted_fraction

__all__ = [
    "BINS",
    "EFFICIENCY_POINT",
    "MIN_EVENTS",
    "TruthQuantity",
    "erf_turn_on",
    "truth_quantity",
    "turn_on_curve",
    "turn_ons",
]

BINS = 24  # bins of the quantity, from 0 to RANGE x the seed's threshold
RANGE = 3.0
MIN_EVENTS = 30  # events with the quantity above 0 needed for a fit
EFFICIENCY_POINT = 0.95
_FAMILY = {"muon": ("muons", "muon"), "egamma": ("egammas", "e/gamma"), "jet": ("jets", "jet")}
_SUM = {"met": (truth.SUMS.index("met"), "missing E_T"), "ht": (truth.SUMS.index("ht"), "HT")}


@dataclass
class TruthQuantity:
    """What a seed's turn-on is drawn against: a label in physics units, the seed's threshold on it [GeV]."""

    label: str
    threshold_gev: float


def truth_quantity(seed: Seed) -> TruthQuantity | str:
    """The generator-level quantity of ``seed``'s turn-on, or why it has none."""
    mult, _, obj = seed.kind.partition("_")
    if seed.kind in _SUM:
        return TruthQuantity(f"generator-level {_SUM[seed.kind][1]} [GeV]", float(seed.pt_format.pt(seed.hw_pt[0])))
    if obj not in _FAMILY:
        if seed.kind == "always":
            return "it fires on every crossing (no threshold)"
        return "the event files keep no generator-level tau (visible decay products)"
    which = "leading" if mult == "single" else "second"
    eta = f", |eta| < {seed.eta_max:g}" if seed.eta_max is not None else ""
    leg = float(seed.pt_format.pt(seed.hw_pt[-1]))
    return TruthQuantity(f"{which} generator-level {_FAMILY[obj][1]} pT{eta} [GeV]", leg)


def _values(seed: Seed, objects: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per event the seed's generator-level quantity (0 where the event has none)."""
    if seed.kind in _SUM:
        return objects["truth/sums"][:, _SUM[seed.kind][0]].astype(np.float64)
    mult, _, obj = seed.kind.partition("_")
    o = objects[f"truth/{_FAMILY[obj][0]}"]
    pt = o[..., 0].astype(np.float64)
    if seed.eta_max is not None:
        pt = np.where(np.abs(o[..., 1]) < seed.eta_max, pt, 0.0)
    ranked = -np.sort(-pt, axis=1)  # highest first within the window
    return ranked[:, 0 if mult == "single" else 1]


def erf_turn_on(x: np.ndarray, mu: float, sigma: float, plateau: float) -> np.ndarray:
    """plateau x Phi((x - mu) / sigma): the error-function turn-on."""
    from scipy.special import ndtr

    return plateau * ndtr((np.asarray(x, dtype=np.float64) - mu) / sigma)


def _gradient(x: np.ndarray, mu: float, sigma: float, plateau: float) -> tuple[np.ndarray, np.ndarray]:
    """f = ``erf_turn_on`` at x and its gradient over (mu, sigma, plateau), shape (3, len(x))."""
    from scipy.special import ndtr

    z = (x - mu) / sigma
    phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    cdf = ndtr(z)
    return plateau * cdf, np.stack([-plateau * phi / sigma, -plateau * phi * z / sigma, cdf])


def _fit(x: np.ndarray, passed: np.ndarray, w: np.ndarray, threshold: float) -> dict[str, Any] | str:
    """Unbinned weighted binomial maximum likelihood of ``erf_turn_on`` (binning would widen sigma by the bin
    width); errors from the sandwich covariance H^-1 V H^-1 of weighted likelihoods (H with w, V with w^2). A fit
    the sample does not constrain (mu or sigma known to worse than half of mu or all of sigma: a sample above or
    below the whole rise) is refused with the reason."""
    from scipy.optimize import minimize
    from scipy.special import ndtri

    p = passed.astype(np.float64)
    eps = 1e-12

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f, grad = _gradient(x, *theta)
        f = np.clip(f, eps, 1 - eps)
        value = -np.sum(w * (p * np.log(f) + (1 - p) * np.log1p(-f)))
        return float(value), -grad @ (w * (p - f) / (f * (1 - f)))

    top = float(x.max())
    start = (
        threshold,
        max(0.1 * threshold, 1.0),
        max(float(p[x > 2 * threshold].mean()) if (x > 2 * threshold).any() else 0.9, 0.05),
    )
    res = minimize(nll, np.array(start), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, top), (1e-3 * max(threshold, 1.0), top), (1e-6, 1.0)])  # fmt: skip
    if not res.success:
        return f"the fit did not converge ({res.message})"
    mu, sigma, plateau = (float(v) for v in res.x)
    f, grad = _gradient(x, mu, sigma, plateau)
    info = grad / np.sqrt(np.clip(f * (1 - f), eps, None))
    h, v = (info * w) @ info.T, (info * w * w) @ info.T
    try:
        h_inv = np.linalg.inv(h)
        errors = np.sqrt(np.clip(np.diag(h_inv @ v @ h_inv), 0, None))
    except np.linalg.LinAlgError:
        errors = np.full(3, np.nan)
    if not np.isfinite(errors).all() or errors[0] > 0.5 * mu or errors[1] > sigma:
        known = f" ± {errors[0]:.2g}" if np.isfinite(errors[0]) else ", its error unknown"
        return f"the sample does not constrain the rise (mu = {mu:.3g}{known} GeV)"
    point = mu + sigma * float(ndtri(EFFICIENCY_POINT / plateau)) if plateau > EFFICIENCY_POINT else None
    return {"mu": mu, "sigma": sigma, "plateau": plateau, "errors": [float(e) for e in errors], "pt95": point}


def turn_on_curve(x: np.ndarray, passed: np.ndarray, w: np.ndarray, threshold: float) -> dict[str, Any]:
    """Events with quantity ``x`` (0: none), whether they passed and their weights: the efficiency in BINS bins up
    to RANGE x ``threshold`` (overflow in the last) with ``rates.weighted_fraction`` errors, and the erf fit (or
    ``fit_why_not``); with fewer than MIN_EVENTS events, only ``why_not``."""
    edges = np.linspace(0.0, RANGE * max(threshold, 1.0), BINS + 1)
    has = x > 0
    events = int(has.sum())
    if events < MIN_EVENTS:
        return {"events": events, "why_not": f"{events} events with the quantity (at least {MIN_EVENTS} needed)"}
    xs, ps, ws = x[has], passed[has], w[has]
    idx = np.clip(np.digitize(xs, edges) - 1, 0, BINS - 1)  # overflow into the last bin
    tot = np.bincount(idx, ws, BINS)
    tot2 = np.bincount(idx, ws * ws, BINS)
    acc = np.bincount(idx, ws * ps, BINS)
    acc2 = np.bincount(idx, ws * ws * ps, BINS)
    eff, err = weighted_fraction(acc, acc2, tot, tot2)
    n_eff = np.where(tot2 > 0, tot * tot / np.where(tot2 > 0, tot2, 1.0), 0.0)
    return {
        "events": events,
        "edges": edges.tolist(),
        "efficiency": eff.tolist(),
        "efficiency_err": err.tolist(),
        "effective_events": n_eff.tolist(),
    } | _fitted(_fit(xs, ps, ws, threshold))


def _fitted(fit: dict[str, Any] | str) -> dict[str, Any]:
    return {"fit": None, "fit_why_not": fit} if isinstance(fit, str) else {"fit": fit}


def turn_ons(
    menu: Menu,
    samples: Mapping[str, tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray], np.ndarray | None]],
) -> dict[str, dict[str, Any]]:
    """Per classic seed: its quantity and threshold, and per sample (label -> events, truth datasets, weights or
    None) the binned efficiency with the erf fit; ``why_not`` where there is no curve."""
    require("studies", "turn-on fits")
    out: dict[str, dict[str, Any]] = {}
    classic = [s for s in menu.seeds if s.kind != "ad"]
    bits = {label: menu.conditions(classic, ev, None) for label, (ev, _, _) in samples.items()}
    for j, seed in enumerate(classic):
        q = truth_quantity(seed)
        if isinstance(q, str):
            out[seed.name] = {"why_not": q}
            continue
        curves = {}
        for label, (_, objects, weights) in samples.items():
            x = _values(seed, objects)
            w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
            curves[label] = turn_on_curve(x, bits[label][:, j], w, q.threshold_gev)
        out[seed.name] = {"quantity": q.label, "threshold_gev": q.threshold_gev, "samples": curves}
        if not samples:
            out[seed.name]["why_not"] = "no signal sample carries generator-level objects"
    return out
