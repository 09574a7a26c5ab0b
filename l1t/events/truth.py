"""Generator-level truth of the hard interaction, the x axis of turn-on curves: per crossing, the leading muons,
e/gamma (electrons and photons), jets (anti-kt R = 0.4 over the visible final state, clustered with FastJet) and
the generator-level missing E_T and HT, all from the hard event alone (before pileup is added).

Stored in event files from version 5 (``dataset.TRUTH``), float32::

    /truth/muons        (N, 4, 3)  pT [GeV], eta, phi of the four leading muons, zero-padded
    /truth/egammas      (N, 4, 3)  the same of electrons and photons
    /truth/jets         (N, 4, 3)  the same of anti-kt R = 0.4 jets
    /truth/sums         (N, 2)     missing E_T (the visible final state's |sum of pT| within |eta| < 5) and HT
                                   (scalar sum of the jets of pT > 30 GeV, |eta| < 2.4: the L1 HT's definition)

A crossing without a hard event (a soft zero-bias crossing) has all zeros. Generator-level taus (the visible decay
products of a tau lepton) are not kept: the flat particle block has no mother links.
"""

from __future__ import annotations

import numpy as np

from l1t.events.pythia import ParticleBlock
from l1t.extras import require

__all__ = ["FAMILIES", "HT_JET", "JET_R", "N_TRUTH", "SUMS", "absent", "truth_arrays"]

N_TRUTH = 4  # leading objects kept per family
JET_R = 0.4
JET_PT_MIN = 5.0  # GeV: jets below are not kept
HT_JET = (30.0, 2.4)  # (pT min [GeV], |eta| max) of the jets HT sums, as the L1 HT
FAMILIES = ("muons", "egammas", "jets")  # truth/<family>: (N, N_TRUTH, 3)
SUMS = ("met", "ht")  # columns of truth/sums
_PIDS = {"muons": (13,), "egammas": (11, 22)}
_MASS = {211: 0.13957, 321: 0.49368, 2212: 0.93827, 2112: 0.93957, 130: 0.49761, 11: 0.000511, 13: 0.10566}


def _leading(event: np.ndarray, pt: np.ndarray, cols: np.ndarray, n_events: int) -> np.ndarray:
    """(n_events, N_TRUTH, k) of ``cols`` (one row per candidate) for each event's highest-pT candidates."""
    out = np.zeros((n_events, N_TRUTH, cols.shape[1]), dtype=np.float32)
    order = np.lexsort((-pt, event))  # by event, highest pT first
    ev = event[order]
    first = np.searchsorted(ev, ev, side="left")  # index of the event's first candidate in sorted order
    rank = np.arange(len(ev)) - first
    keep = rank < N_TRUTH
    out[ev[keep], rank[keep]] = cols[order[keep]]
    return out


def _jets(block: ParticleBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(event, pt, eta, phi) of every anti-kt R = 0.4 jet above JET_PT_MIN, all events clustered in one call."""
    require("events", "generator-level jets (FastJet)")
    import awkward as ak
    import fastjet
    from fastjet._swig import ClusterSequence

    # FastJet prints its banner to stdout at a process's first clustering, into the generator's progress display;
    # the event generator, an application layer, keeps its output its own
    ClusterSequence.set_fastjet_banner_stream(None)
    pt, eta, phi = (np.asarray(a, dtype=np.float64) for a in (block.pt, block.eta, block.phi))
    mass = np.zeros_like(pt)
    for pid, m in _MASS.items():
        mass[np.abs(block.pid) == pid] = m
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    counts = np.diff(block.offsets)
    particles = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": energy}), counts)
    sequence = fastjet.ClusterSequence(particles, fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R))
    jets = sequence.inclusive_jets(min_pt=JET_PT_MIN)
    n = ak.to_numpy(ak.num(jets))
    jx, jy, jz = (ak.to_numpy(ak.flatten(jets[c])) for c in ("px", "py", "pz"))
    jpt = np.hypot(jx, jy)
    return np.repeat(np.arange(len(counts)), n), jpt, np.arcsinh(jz / np.maximum(jpt, 1e-9)), np.arctan2(jy, jx)


def truth_arrays(block: ParticleBlock) -> dict[str, np.ndarray]:
    """The truth datasets (module docstring) of the events of ``block``: the hard event's visible final state."""
    n = block.n_events
    event = block.event
    out = {}
    for family, pids in _PIDS.items():
        sel = np.isin(np.abs(block.pid), pids)
        cols = np.stack([block.pt[sel], block.eta[sel], block.phi[sel]], axis=1)
        out[f"truth/{family}"] = _leading(event[sel], block.pt[sel], cols, n)
    if n and len(block.pt):
        jev, jpt, jeta, jphi = _jets(block)
    else:
        jev, (jpt, jeta, jphi) = np.zeros(0, dtype=np.int64), (np.zeros(0),) * 3
    out["truth/jets"] = _leading(jev, jpt, np.stack([jpt, jeta, jphi], axis=1), n)
    pt = block.pt.astype(np.float64)
    mex = np.bincount(event, pt * np.cos(block.phi), minlength=n)
    mey = np.bincount(event, pt * np.sin(block.phi), minlength=n)
    in_ht = (jpt > HT_JET[0]) & (np.abs(jeta) < HT_JET[1])
    ht = np.bincount(jev[in_ht], jpt[in_ht], minlength=n)
    out["truth/sums"] = np.stack([np.hypot(mex, mey), ht], axis=1).astype(np.float32)
    return out


def absent(n: int) -> dict[str, np.ndarray]:
    """The truth datasets of ``n`` crossings without a hard event: all zeros."""
    empty = np.zeros(0, dtype=np.float32)
    return truth_arrays(
        ParticleBlock(np.zeros(n + 1, dtype=np.int64), empty.astype(np.int32), empty, empty, empty, empty)
    )
