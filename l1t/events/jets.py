"""Boosted jets with constituents, at L1 granularity (trigger towers) and at particle level, for jet taggers.

Per crossing, the two highest-pT L1 jets (``l1t.emulator.calo.jets`` on the detector's towers) that a tagger takes
(``calo.TAGGER_JET_PT_MIN``, ``calo.TAGGER_JET_ETA_MAX``) are kept. In samples with a truth particle (the tops of
``zprime_tt``) a jet is labelled 1 when one lies within dR < 0.6 of its axis, and jets without one are dropped; the
other samples give label-0 jets.

HDF5 layout (format ``l1t.jets``), M jets::

    /jets/hw              (M, 3)      int32    hwPt, hwEta, hwPhi of the L1 jet
    /jets/label           (M,)        uint8    1 matched to the truth particle, 0 otherwise
    /jets/process         (M,)        uint8    index into the file attribute ``processes``
    /constituents/hw      (M, 16, 4)  int32    towers in dR < 0.8, highest hwEt first: hwEt, dIEta, dIPhi, hwEtEm
    /particles/features   (M, 64, 4)  float32  hard-scatter particles in dR < 0.8, highest pT first:
                                               pT [GeV], d_eta, d_phi, kind (``KINDS``)

Constituent offsets are in towers from the jet's seed tower; zero rows are padding (hwEt 0, pT 0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from l1t.atomic import atomic_path
from l1t.emulator import calo
from l1t.emulator.objects import CALO, hw_eta
from l1t.events import dataset
from l1t.events.dataset import DatasetError
from l1t.events.pythia import ParticleBlock

__all__ = [
    "FORMAT",
    "KINDS",
    "N_PARTICLES",
    "SCHEMA",
    "TRUTH_PID",
    "jet_arrays",
    "read",
    "seed_towers",
    "tower_constituents",
    "write",
]

FORMAT = "l1t.jets"
VERSION = 1
N_PARTICLES = 64
RADIUS = 0.8
MATCH_RADIUS = 0.6
TRUTH_PID = {"zprime_tt": 6}  # process -> the truth particle a signal jet is matched to
KINDS = ("charged hadron", "neutral hadron", "photon", "electron", "muon")

SCHEMA: dict[str, tuple[tuple[int, ...], str, list[tuple[float, float]]]] = {
    "jets/hw": ((3,), "int32", [(0, CALO.pt_max), (-128, 127), (0, CALO.phi_steps - 1)]),
    "jets/label": ((), "uint8", [(0, 1)]),
    "jets/process": ((), "uint8", [(0, 255)]),
    "constituents/hw": (
        (calo.JET_TOWERS, 4),
        "int32",
        [(0, calo.TOWER_ET_MAX), *[(-calo.JET_TOWER_HALF, calo.JET_TOWER_HALF)] * 2, (0, calo.TOWER_ET_MAX)],
    ),
    "particles/features": ((N_PARTICLES, 4), "float32", [(0, 14000), (-RADIUS, RADIUS), (-RADIUS, RADIUS), (0, 4)]),
}


def _kind(pid: np.ndarray, charge: np.ndarray) -> np.ndarray:
    a = np.abs(pid)
    return np.select([a == 13, a == 11, a == 22, charge != 0], [4, 3, 2, 0], 1).astype(np.float32)


def _dphi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.mod(a - b + np.pi, 2 * np.pi) - np.pi


def seed_towers(hw: np.ndarray, eta_centers: np.ndarray, n_phi: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each L1 jet's seed tower from its (hwPt, hwEta, hwPhi) (any leading shape)."""
    ieta = np.searchsorted(hw_eta(eta_centers, CALO.eta_lsb, CALO.eta_bits), hw[..., 1])
    return np.minimum(ieta, len(eta_centers) - 1), (hw[..., 2] * n_phi // CALO.phi_steps).astype(np.int64)


def tower_constituents(
    em: np.ndarray, had: np.ndarray, eta_centers: np.ndarray, ev: np.ndarray, ieta: np.ndarray, iphi: np.ndarray
) -> np.ndarray:
    """Towers in dR < 0.8 of each jet (crossing ``ev``, seed tower (ieta, iphi)), the ``calo.JET_TOWERS`` of highest
    hwEt first: (M, 16, 4) = hwEt (EM + hadronic, saturated), dIEta, dIPhi, hwEtEm; zero rows pad."""
    total = calo.tower_total(em, had)
    _, n_eta, n_phi = total.shape
    d = np.arange(-calo.JET_TOWER_HALF, calo.JET_TOWER_HALF + 1)
    pe = ieta[:, None, None] + d[None, :, None]  # a square patch around each seed; phi wraps, eta is cut
    pp = np.mod(iphi[:, None, None] + d[None, None, :], n_phi)
    inside = (pe >= 0) & (pe < n_eta)
    pe_c = np.clip(pe, 0, n_eta - 1)
    et = np.where(inside, total[ev[:, None, None], pe_c, pp], 0)
    et_em = np.where(inside, em[ev[:, None, None], pe_c, pp], 0)
    dr = np.hypot(eta_centers[pe_c] - eta_centers[ieta][:, None, None], d[None, None, :] * (2 * np.pi / n_phi))
    et = np.where(dr < RADIUS, et, 0).reshape(len(ev), -1)
    order = np.argsort(-et, axis=1, kind="stable")[:, : calo.JET_TOWERS]
    fields = [
        np.take_along_axis(et, order, axis=1),
        np.take_along_axis(np.broadcast_to(d[None, :, None], dr.shape).reshape(len(ev), -1), order, axis=1),
        np.take_along_axis(np.broadcast_to(d[None, None, :], dr.shape).reshape(len(ev), -1), order, axis=1),
        np.take_along_axis(et_em.reshape(len(ev), -1), order, axis=1),
    ]
    return np.stack(fields, axis=2).astype(np.int32) * (fields[0][..., None] > 0)


def jet_arrays(
    em: np.ndarray,
    had: np.ndarray,
    eta_centers: np.ndarray,
    l1: np.ndarray,
    particles: ParticleBlock,
    truth: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Jets of N crossings from their tower hwEt (EM and hadronic, (N, n_eta, n_phi)), their two leading L1 jets
    ``l1`` (N, 2, 3) as the detector makes them (``Detector.jets``) and hard-scatter particles.

    ``truth`` (N, k, 3) holds (pT, eta, phi) of the truth particles to match, or is None (all jets label 0)."""
    n_phi = em.shape[2]
    ev, slot = np.nonzero(calo.tagger_jets(l1))
    hw = l1[ev, slot]
    ieta, iphi = seed_towers(hw, eta_centers, n_phi)
    eta = eta_centers[ieta]
    phi = (iphi + 0.5) * (2 * np.pi / n_phi)
    label = np.zeros(len(ev), dtype=np.uint8)
    if truth is not None:
        t = truth[ev]  # (M, k, 3)
        dr = np.hypot(t[:, :, 1] - eta[:, None], _dphi(t[:, :, 2], phi[:, None]))
        keep = np.flatnonzero(((t[:, :, 0] > 0) & (dr < MATCH_RADIUS)).any(axis=1))
        ev, hw, ieta, iphi, eta, phi = ev[keep], hw[keep], ieta[keep], iphi[keep], eta[keep], phi[keep]
        label = np.ones(len(keep), dtype=np.uint8)
    constituents = tower_constituents(em, had, eta_centers, ev, ieta, iphi)

    # particles: every (jet, particle of its crossing) pair inside the cone, ranked by pT within the jet
    counts = np.diff(particles.offsets)[ev]
    pair_jet = np.repeat(np.arange(len(ev)), counts)
    pair_p = np.repeat(particles.offsets[ev] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(
        int(counts.sum())
    )
    deta = particles.eta[pair_p] - eta[pair_jet]
    dphi = _dphi(particles.phi[pair_p], phi[pair_jet])
    cone = np.hypot(deta, dphi) < RADIUS
    pair_jet, pair_p, deta, dphi = pair_jet[cone], pair_p[cone], deta[cone], dphi[cone]
    order = np.lexsort((-particles.pt[pair_p], pair_jet))
    pair_jet, pair_p, deta, dphi = pair_jet[order], pair_p[order], deta[order], dphi[order]
    first = np.searchsorted(pair_jet, np.arange(len(ev)))
    rank = np.arange(len(pair_jet)) - first[pair_jet]
    top = rank < N_PARTICLES
    feats = np.zeros((len(ev), N_PARTICLES, 4), dtype=np.float32)
    sel = pair_p[top]
    feats[pair_jet[top], rank[top]] = np.stack(
        [particles.pt[sel], deta[top], dphi[top], _kind(particles.pid[sel], particles.charge[sel])], axis=1
    )
    return {
        "jets/hw": hw.astype(np.int32),
        "jets/label": label,
        "constituents/hw": constituents,
        "particles/features": feats,
    }


def _check(name: str, a: np.ndarray, where: str) -> None:
    shape, _, ranges = SCHEMA[name]
    dataset.check_array(name, a, shape, ranges, where, row="jet", count="M")


def write(path: str | Path, data: dict[str, np.ndarray], attrs: dict[str, Any]) -> Path:
    """Write jets (validated first) atomically."""
    path = Path(path)
    m = len(data["jets/label"])
    for name in SCHEMA:
        if name not in data or len(data[name]) != m:
            raise DatasetError(f"{path}: dataset {name!r} missing or not {m} jets long")
        _check(name, data[name], str(path))
    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        for k, v in attrs.items():
            f.attrs[k] = json.dumps(v) if isinstance(v, dict | list) else v
        for name, (shape, dtype, _) in SCHEMA.items():
            f.create_dataset(
                name,
                data=data[name].astype(dtype),
                chunks=(max(min(4096, m), 1), *shape),
                compression="gzip",
                shuffle=True,
            )
    return path


def read(path: str | Path, start: int = 0, stop: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Jets [start, stop) of an ``l1t.jets`` file, validated; (datasets, attributes)."""
    path = Path(path)
    with dataset.open_h5(path) as f:
        if f.attrs.get("format") != FORMAT or int(f.attrs.get("version", -1)) != VERSION:
            raise DatasetError(
                f"{path}: format {f.attrs.get('format')!r} version {f.attrs.get('version')!r}, "
                f"expected {FORMAT!r} version {VERSION}"
            )
        data = {}
        for name in SCHEMA:
            if name not in f:
                raise DatasetError(f"{path}: dataset {name!r} missing")
            data[name] = f[name][start:stop]
            _check(name, data[name], str(path))
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
    if len({len(a) for a in data.values()}) != 1:
        raise DatasetError(f"{path}: datasets have different lengths {[len(a) for a in data.values()]}")
    return data, attrs
