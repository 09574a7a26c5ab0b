"""Crossings assembled from interactions: a signal event (if any) plus pileup drawn from min-bias libraries.

Library events are drawn as a stream of random permutations of the library, so within one draw of ``d`` events no
library event is used more than ``ceil(d / size)`` times: a rare hard event in the library cannot appear in more
crossings than any other, which is what makes a library's reuse a stated, bounded fraction of the crossings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from l1t.events.pythia import ParticleBlock

__all__ = ["Draw", "assemble", "balanced_picks", "overlay"]


@dataclass
class Draw:
    """``counts[c]`` events of ``library`` in crossing ``c``; ``picks`` fixes which (in crossing order), otherwise
    they are drawn by ``balanced_picks``."""

    library: ParticleBlock
    counts: np.ndarray
    picks: np.ndarray | None = None


def balanced_picks(size: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` indices into a library of ``size`` events: consecutive random permutations of the library, so
    every event is drawn either floor or ceil(draws / size) times."""
    if draws == 0:
        return np.zeros(0, dtype=np.int64)
    rounds = -(-draws // size)
    return rng.permuted(np.tile(np.arange(size, dtype=np.int64), (rounds, 1)), axis=1).ravel()[:draws]


def assemble(n: int, draws: Sequence[Draw], rng: np.random.Generator) -> tuple[ParticleBlock, list[np.ndarray]]:
    """``n`` crossings, each the concatenation of its events from every draw in order (so a signal event given
    first stays first); returns the particles and, per draw, how many crossings each library event appears in."""
    sources, ids, crossing, uses = [], [], [], []
    base = 0
    per_crossing = np.zeros(n, dtype=np.int64)
    for d in draws:
        counts = np.asarray(d.counts, dtype=np.int64)
        if counts.shape != (n,) or (counts < 0).any():
            raise ValueError(f"a draw needs {n} non-negative counts, got shape {counts.shape}")
        total = int(counts.sum())
        picks = balanced_picks(d.library.n_events, total, rng) if d.picks is None else np.asarray(d.picks)
        if len(picks) != total:
            raise ValueError(f"{len(picks)} picks for {total} drawn events")
        where = np.repeat(np.arange(n), counts)
        pairs = np.unique(where * d.library.n_events + picks)  # a library event counts once per crossing
        uses.append(np.bincount(pairs % d.library.n_events, minlength=d.library.n_events))
        sources.append(d.library)
        ids.append(picks + base)
        crossing.append(where)
        base += d.library.n_events
        per_crossing += counts
    order = np.argsort(np.concatenate(crossing), kind="stable")  # by crossing; draws keep their order within one
    block = ParticleBlock.concatenate(sources).take(np.concatenate(ids)[order])
    block.offsets = block.offsets[np.concatenate([[0], np.cumsum(per_crossing)])]
    return block, uses


def overlay(
    library: ParticleBlock, n: int, mu: float, rng: np.random.Generator, signal: ParticleBlock | None = None
) -> tuple[ParticleBlock, np.ndarray]:
    """``n`` crossings: the signal event (if any) plus Poisson(``mu``) library events each; returns the crossings'
    particles and the number of pileup interactions per crossing."""
    if signal is not None and signal.n_events != n:
        raise ValueError(f"{signal.n_events} signal events for {n} crossings")
    if mu < 0:
        raise ValueError(f"pileup must be >= 0, got {mu}")
    npu = rng.poisson(mu, n)
    first = [] if signal is None else [Draw(signal, np.ones(n, dtype=np.int64), np.arange(n))]
    block, _ = assemble(n, [*first, Draw(library, npu)], rng)
    return block, npu
