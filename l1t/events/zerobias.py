"""Zero bias stratified in pT-hat: the hard tail of the crossings from 2 -> 2 QCD bins, weighted by cross section.

A crossing at mean pileup mu holds Poisson(mu) inelastic interactions. Split them by the pT-hat of each interaction
(for soft QCD, of its hardest multiparton interaction) into the soft part below the first edge and B bins above; by
Poisson thinning the counts are independent, Poisson(lambda_soft) and Poisson(lambda_b) with

    lambda_b = mu * sigma_b / sigma_inel,    lambda_soft = mu - sum_b lambda_b.

Stratum b (b = 0..B-1) holds the crossings whose hardest bin is b: no interaction in bins above b, at least one in
b, so its probability is

    P_b = exp(-sum_{i>b} lambda_i) * (1 - exp(-lambda_b)),    P_soft = exp(-sum_b lambda_b),

and given the stratum the counts are zero-truncated Poisson(lambda_b) in b, Poisson(lambda_i) in every bin below,
Poisson(lambda_soft) soft. The strata partition all crossings exactly (sum P = 1), so generating N_s crossings of
stratum s and giving each the weight N * P_s / N_s makes an unbiased zero-bias sample of N crossings whose rare
tails are populated: a seed firing in 1e-5 of crossings is measured from the high bins, not from a library event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Stratum", "bins", "counts", "plan", "probabilities", "rates", "sizes", "zero_truncated_poisson"]


@dataclass(frozen=True)
class Stratum:
    """The crossings whose hardest interaction lies in ``pthat`` ([low, high) GeV, high None: open; None: soft)."""

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


def sizes(events: int, hard_fraction: float, n_bins: int) -> list[int]:
    """Crossings per stratum, soft first: ``1 - hard_fraction`` of ``events`` soft, the rest split evenly over the
    bins."""
    n_soft = round(events * (1 - hard_fraction))
    hard = np.full(n_bins, (events - n_soft) // n_bins)
    hard[: (events - n_soft) % n_bins] += 1
    return [n_soft, *hard.tolist()]


def plan(edges: Sequence[float], events: int, hard_fraction: float, lam: np.ndarray) -> list[Stratum]:
    """The strata of ``events`` crossings (``sizes``) with their probabilities and weights."""
    probs = probabilities(lam)
    ranges = [None, *bins(edges)]
    return [
        Stratum(r, n, float(p), events * float(p) / n if n else 0.0)
        for r, n, p in zip(ranges, sizes(events, hard_fraction, len(lam)), probs, strict=True)
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
    """Per crossing of stratum ``stratum`` (-1 soft, else the bin): the soft interactions, then per bin those in
    addition to the one leading event of the stratum's own bin."""
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
