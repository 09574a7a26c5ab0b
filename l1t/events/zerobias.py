"""Zero bias stratified in pT-hat: the hard tail of the crossings from 2 -> 2 QCD bins, weighted by cross section.

A crossing at mean pileup mu holds Poisson(mu) inelastic interactions. Split them by the pT of each interaction's
hardest scattering (``pythia.hardest_scattering``: the 2 -> 2 process or any multiparton interaction) into the
soft part below the first edge and B bins of 2 -> 2 QCD above; by Poisson thinning the counts are independent,
Poisson(lambda_soft) and Poisson(lambda_b) with

    lambda_b = mu * sigma_b / sigma_inel,    lambda_soft = mu - sum_b lambda_b.

Stratum b (b = 0..B-1) holds the crossings whose hardest bin is b: no interaction in bins above b, at least one in
b, so its probability is

    P_b = exp(-sum_{i>b} lambda_i) * (1 - exp(-lambda_b)),    P_soft = exp(-sum_b lambda_b),

and given the stratum the counts are zero-truncated Poisson(lambda_b) in b, Poisson(lambda_i) in every bin below,
Poisson(lambda_soft) soft. The strata partition all crossings exactly (sum P = 1), so generating N_s crossings of
stratum s and giving each the weight N * P_s / N_s makes an unbiased zero-bias sample of N crossings whose rare
tails are populated: a seed firing in 1e-5 of crossings is measured from the high bins, not from a library event.
Left out: diffractive events with a scattering above the first edge (not 2 -> 2 QCD, and cut from the soft library),
about 2 % of the non-diffractive ones at 15 GeV, so hard seeds' rates are low by about that much.
Half of the crossings follow the strata's probabilities and half are spread evenly over them (``sizes``).

Min bias below the first edge can still, rarely, make a seed's object by itself (several collinear multiparton
scatterings and their strings: one event in 12,000 made a 46 GeV e/gamma cluster at pT-hat 8 GeV). Reused from a
library, such an event would put its trigger into every crossing it is drawn into. So the soft library is split:
an event that on its own gives an L1 object or sum above ``ACTIVE_HW`` is *active*, and the active events form the
topmost class of the same construction (lambda_active = lambda_soft * active fraction). Each active event leads
exactly one crossing of the active stratum and is not drawn anywhere else, so that stratum's weight and sum of
squared weights carry the true (Poisson) statistics of the library's rare events; the quiet events, which cannot
fire a seed alone, are reused as pileup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from l1t.emulator.calo import SUM_INDEX

__all__ = [
    "ACTIVE_HW",
    "Stratum",
    "active",
    "bins",
    "counts",
    "plan",
    "probabilities",
    "rates",
    "sizes",
    "zero_truncated_poisson",
]

# An interaction is active when on its own it makes one of these hardware words or more (hwPt in 0.5 GeV; muons
# count from 1): e/gamma 10 GeV, tau 20 GeV, jet 30 GeV, muon 5 GeV; MET 30 GeV, HT 50 GeV. Below any physics seed,
# and rare in min bias below 15 GeV pT-hat (6 events in 12,000).
ACTIVE_HW = {"egammas": 20, "taus": 40, "jets": 60, "muons": 11, "met": 60, "ht": 100}


@dataclass(frozen=True)
class Stratum:
    """The crossings whose highest class of interaction is ``label``: "soft", a pT-hat bin ``pthat`` ([low, high)
    GeV, high None: open) or "soft active"."""

    label: str
    pthat: tuple[float, float | None] | None
    crossings: int
    probability: float
    weight: float  # N * probability / crossings: the crossings each generated one stands for


def rates(mu: float, sigma_inel: float, sigma_bins: Sequence[float]) -> tuple[float, np.ndarray]:
    """(lambda_soft, lambda_b): mean interactions per crossing below the first edge and in each bin."""
    lam = mu * np.asarray(sigma_bins, dtype=np.float64) / sigma_inel
    if lam.sum() >= mu:
        raise ValueError(f"the pT-hat bins' cross sections ({lam.sum() / mu * sigma_inel:.4g} mb) exceed the "
                         f"inelastic cross section ({sigma_inel:.4g} mb)")  # fmt: skip
    return mu - float(lam.sum()), lam


def probabilities(lam: np.ndarray) -> np.ndarray:
    """[P_soft, P_0, ..., P_{B-1}]: the probability of a crossing falling in each stratum (sums to 1)."""
    above = np.concatenate([np.cumsum(lam[::-1])[::-1][1:], [0.0]])  # sum over the bins above each
    return np.concatenate([[np.exp(-lam.sum())], np.exp(-above) * -np.expm1(-lam)])


def bins(edges: Sequence[float]) -> list[tuple[float, float | None]]:
    """The pT-hat bins [low, high) of increasing ``edges``; the last is open (high None)."""
    lows = [float(e) for e in edges]
    return list(zip(lows, [*lows[1:], None][: len(lows)], strict=True))


def sizes(events: int, probs: np.ndarray) -> list[int]:
    """Crossings per stratum: half of ``events`` in proportion to the strata's probabilities (where the crossings
    are), half evenly over the strata (the tails); at least one each."""
    share = 0.5 * np.asarray(probs) + 0.5 / len(probs)
    n = np.maximum(np.floor(events * share).astype(np.int64), 1)
    n[np.argmax(share)] += events - int(n.sum())
    if n.min() < 1:
        raise ValueError(f"{events} crossings are too few for {len(probs)} strata")
    return n.tolist()


def active(l1: Any) -> np.ndarray:
    """Per crossing of the L1 content ``l1`` (an ``L1Event`` of single interactions): whether it is active."""
    hit = np.zeros(len(l1.sums), dtype=bool)
    for name, word in ACTIVE_HW.items():
        values = l1.sums[:, SUM_INDEX[name]] if name in SUM_INDEX else getattr(l1, name)[:, 0, 0]
        hit |= values >= word
    return hit


def plan(edges: Sequence[float], events: int, lam: np.ndarray, n_active: int = 0) -> list[Stratum]:
    """The strata: soft, one per pT-hat bin (``lam``: their lambda, then lambda_active when ``n_active`` > 0) and the
    active stratum of ``n_active`` crossings; the other ``events - n_active`` crossings as ``sizes`` says."""
    probs = probabilities(lam)
    has_active = int(n_active > 0)
    labels = ["soft"] + [f"{lo:g}-{hi:g}" if hi else f"{lo:g}-∞" for lo, hi in bins(edges)]
    labels += ["soft active"] * has_active
    ranges = [None, *bins(edges)] + [None] * has_active
    n = sizes(events - n_active, probs[: len(probs) - has_active]) + [n_active] * has_active
    return [
        Stratum(label, r, k, float(p), events * float(p) / k)
        for label, r, k, p in zip(labels, ranges, n, probs, strict=True)
    ]


def zero_truncated_poisson(lam: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of Poisson(``lam``) conditioned on >= 1, by inversion of its CDF."""
    u = rng.uniform(0.0, 1.0, n)
    k = np.ones(n, dtype=np.int64)
    # P(K = k | K >= 1) = lam^k e^-lam / (k! (1 - e^-lam)); walk up the CDF until it passes u (a few steps)
    term = lam * np.exp(-lam) / -np.expm1(-lam)
    cdf = np.full(n, term)
    j = 1
    while (cdf < u).any() and j < 1000:
        j += 1
        term *= lam / j
        k += cdf < u
        cdf += term
    return k


def counts(stratum: int, n: int, lam_soft: float, lam: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Per crossing of stratum ``stratum`` (-1 soft, else the class: a bin, or the active soft events last): the
    (quiet) soft interactions, then per class those in addition to the one leading event of the stratum's own."""
    soft = rng.poisson(lam_soft, n)
    per_bin = []
    for b, lam_b in enumerate(lam):
        if b < stratum:
            per_bin.append(rng.poisson(lam_b, n))
        elif b == stratum:
            per_bin.append(zero_truncated_poisson(float(lam_b), n, rng) - 1)
        else:
            per_bin.append(np.zeros(n, dtype=np.int64))
    return (soft, *per_bin)
