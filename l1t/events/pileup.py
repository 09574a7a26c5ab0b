"""Pileup: Poisson(<mu>) min-bias interactions per crossing, drawn from a reusable min-bias library."""

from __future__ import annotations

import numpy as np

from l1t.events.pythia import ParticleBlock

__all__ = ["overlay"]


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
    picks = rng.integers(0, library.n_events, int(npu.sum()))
    has_signal = int(signal is not None)
    source = library if signal is None else ParticleBlock.concatenate([signal, library])
    sub = npu + has_signal  # sub-events per crossing
    start = np.repeat(np.cumsum(sub) - sub, sub)
    pos = np.arange(int(sub.sum())) - start
    crossing = np.repeat(np.arange(n), sub)
    pu_rank = np.cumsum(pos >= has_signal) - 1  # running index over the pileup sub-events
    ids = np.where(pos < has_signal, crossing, has_signal * n + picks[np.maximum(pu_rank, 0)] if len(picks) else 0)
    block = source.take(ids)
    block.offsets = block.offsets[np.concatenate([[0], np.cumsum(sub)])]
    return block, npu
