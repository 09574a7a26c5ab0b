"""The rate study over a chunked zero-bias HDF5 file with Dask: the numbers of ``rates.study``, in bounded memory.

Pass 1 (parallel over chunks): each chunk is read once; each AD model's scores, the classic seeds' unprescaled
bits and the crossings' weights stay on the workers (one word per crossing and model, one bit per crossing and
seed), of which each chunk's highest scores travel with their weights, down to where their weight exceeds what the
loosest working point lets through (ties included), and each classic seed's passing count. The thresholds for the
target rates follow exactly from the merged lists: a lower threshold would let through more than a chunk's list
alone, and above every chunk's last score the lists hold every crossing. So does every seed's passing count per
chunk, hence the prescale counters' state at the start of each chunk. Pass 2 (parallel): per chunk, the prescaled
decision bits and their sums of weights (per seed, menu total, classic total, pure, overlap). Only sums and the
top lists travel.
A local cluster runs by default; ``scheduler`` connects to an existing dask.distributed cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from l1t.emulator.allocator import keep_large_blocks
from l1t.emulator.gt import ScoreChain
from l1t.emulator.menu import Menu
from l1t.events import dataset
from l1t.extras import require
from l1t.studies import rates

__all__ = ["chunk_ranges", "study_chunked", "study_fields", "top_weight"]


def chunk_ranges(path: str | Path, chunk: int) -> list[tuple[int, int]]:
    n = dataset.count(path)
    return [(a, min(a + chunk, n)) for a in range(0, n, chunk)]


def study_fields(menu: Menu, chains: dict[str, ScoreChain]) -> list[str]:
    return sorted(set(menu.fields).union(*(c.fields for c in chains.values())))


def _prepare(path: str, start: int, stop: int, chains: dict[str, ScoreChain], menu: Menu) -> dict[str, Any]:
    """What a chunk keeps on its worker between the passes: each model's score words, the classic seeds'
    unprescaled bits (packed) and their passing counts, read and computed once, in cache-sized blocks of the file."""
    classic_seeds = [s for s in menu.seeds if s.kind != "ad"]
    weights = dataset.read_weights(path, start, stop)
    scores: dict[str, list[np.ndarray]] = {m: [] for m in chains}
    classic, counts = [], np.zeros(len(classic_seeds), dtype=np.int64)
    for ev in dataset.read_blocks(path, start, stop, fields=study_fields(menu, chains)):
        bits = menu.conditions(classic_seeds, ev, None)
        if classic_seeds:  # per seed: the column of each set bit
            counts += np.bincount(np.flatnonzero(bits) % len(classic_seeds), minlength=len(classic_seeds))
        classic.append(np.packbits(bits, axis=1))
        for m, c in chains.items():
            scores[m].append(c.score(ev))
    return {
        "scores": {m: np.concatenate(s) for m, s in scores.items()},
        "classic": np.concatenate(classic),
        "classic_counts": {s.name: int(c) for s, c in zip(classic_seeds, counts, strict=True)},
        "weights": np.ones(stop - start) if weights is None else weights,
        "weighted": weights is not None,
    }


def _unprescaled(held: dict[str, Any], menu: Menu) -> np.ndarray:
    """A chunk's unprescaled bits (N, seeds): classic ones as kept, AD ones from the scores and thresholds."""
    ad = np.array([s.kind == "ad" for s in menu.seeds], dtype=bool)
    n = len(held["classic"])
    out = np.empty((n, len(menu.seeds)), dtype=bool)
    out[:, ~ad] = np.unpackbits(held["classic"], axis=1, count=int((~ad).sum()))
    for j in np.flatnonzero(ad):
        s = menu.seeds[j]
        out[:, j] = held["scores"][s.model] > s.threshold if s.threshold is not None else False
    return out


def _sumw(held: dict[str, Any]) -> float:
    return float(held["weights"].sum())


def top_weight(scores: np.ndarray, weights: np.ndarray, allowed: float) -> np.ndarray:
    """Indices of the highest scores, down to the first whose cumulative weight exceeds ``allowed``, and every
    crossing tied with that last score: all a threshold letting through at most ``allowed`` needs."""
    order = np.argsort(-scores, kind="stable")
    cut = int(np.searchsorted(np.cumsum(weights[order]), allowed, side="right")) + 1
    if cut >= len(order):
        return order
    last = scores[order[cut - 1]]
    return order[: int(np.searchsorted(-scores[order], -last, side="right"))]


def _pass1(held: dict[str, Any], menu: Menu, allowed: float) -> dict[str, Any]:
    top, top_w = {}, {}
    for m, s in held["scores"].items():
        keep = top_weight(s, held["weights"], allowed)
        top[m], top_w[m] = s[keep], held["weights"][keep]
    return {"top": top, "top_weights": top_w, "counts": held["classic_counts"]}


def _pass2(held: dict[str, Any], menu: Menu, counters: dict[str, int]) -> dict[str, Any]:
    weights = held["weights"] if held["weighted"] else None
    return rates.zero_bias_counts(menu, _unprescaled(held, menu), weights, counters)


def study_chunked(
    menu: Menu,
    zero_bias: str | Path,
    chains: dict[str, ScoreChain],
    signals: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    *,
    chunk: int = 100_000,
    scheduler: str | None = None,
    workers: int = 2,
    bunches: int = rates.N_BUNCHES,
    signal_weights: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """``rates.study`` over a zero-bias file in chunks on a Dask cluster; the same results."""
    require("studies", "the Dask study")
    from distributed import Client, LocalCluster

    path = str(zero_bias)
    ranges = chunk_ranges(path, chunk)
    n = ranges[-1][1]
    loosest = max((max(wps.values()) for wps in menu.working_points.values()), default=0.0)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            if cluster is not None:  # workers this study started: their allocator keeps the chunks' temporaries
                client.run(keep_large_blocks)
            # the scores stay on the workers between the passes (one word per crossing and model)
            held = [client.submit(_prepare, path, a, b, chains, menu, pure=False) for a, b in ranges]
            total_w = sum(client.gather([client.submit(_sumw, h) for h in held]))
            allowed = loosest / (rates.F_REV_HZ * bunches) * total_w * (1 + 1e-12)
            first = client.gather([client.submit(_pass1, h, menu, allowed) for h in held])
            # thresholds from the merged top lists: exact (see the module's note)
            merged = {m: np.concatenate([p["top"][m] for p in first]) for m in chains}
            merged_w = {m: np.concatenate([p["top_weights"][m] for p in first]) for m in chains}
            rates.set_thresholds(menu, merged, n, bunches, merged_w, total_w)
            # every seed's passing count per chunk -> the prescale counters at each chunk's start
            per_chunk = []
            for p in first:
                c = dict(p["counts"])
                for s in menu.seeds:
                    if s.kind == "ad":
                        c[s.name] = int((p["top"][s.model] > s.threshold).sum())
                per_chunk.append(c)
            offsets, running = [], dict.fromkeys(menu.names, 0)
            for c in per_chunk:
                offsets.append(dict(running))
                running = {name: running[name] + c[name] for name in menu.names}
            second = client.gather([client.submit(_pass2, h, menu, off) for h, off in zip(held, offsets, strict=True)])
            del held
    finally:
        if cluster is not None:
            cluster.close()
    counts = {key: sum(p[key] for p in second) for key in second[0]}
    out = rates.summarize(menu, counts, n, bunches)
    out["signals"] = rates.signal_study(menu, signals, {}, signal_weights)
    return out
