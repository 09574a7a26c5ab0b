"""Parametric detector response: particles -> calorimeter trigger towers and L1 muons; then the L1 objects.

Constants come from ``configs/detector.yaml`` (documented there). Every step is vectorized over the particles of
a whole chunk of crossings; the trigger logic itself (towers to regions, jets, e/gamma, taus, sums, sorting) is
in ``l1t.emulator.calo`` and ``l1t.emulator.objects``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, model_validator

from l1t import configs
from l1t.emulator import calo
from l1t.emulator.objects import CALO, MUON, hw_eta, hw_phi, hw_pt, sort_truncate
from l1t.events import jets as jet_tools
from l1t.events.pythia import ParticleBlock
from l1t.schema import Strict, read_yaml, validate

__all__ = ["DEFAULT_CONFIG", "Detector", "DetectorSpec", "L1Event"]

DEFAULT_CONFIG = configs.path("detector.yaml")

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]


class Resolution(Strict):
    """sigma/E = stochastic/sqrt(E) (+) constant, in quadrature."""

    stochastic: NonNegative
    constant: NonNegative


class MuonSystem(Strict):
    eta_max: Positive
    pt_min: NonNegative
    pt_resolution: NonNegative  # relative
    eta_resolution: NonNegative
    phi_resolution: NonNegative
    efficiency: Annotated[float, Field(ge=0, le=1)]


class JetCalibration(Strict):
    """Layer-2 jet energy calibration: raw L1 jet pT bins by their lower edges [GeV, from 0, rising] and one
    multiplicative factor each (``l1t.emulator.calo.calibrate_jets``)."""

    pt_edges: list[NonNegative] = Field(min_length=1)
    factors: list[Positive] = Field(min_length=1)

    @model_validator(mode="after")
    def _bins(self) -> JetCalibration:
        if self.pt_edges[0] != 0 or np.any(np.diff(self.pt_edges) <= 0):
            raise ValueError(f"pt_edges {self.pt_edges} must rise from 0")
        if len(self.factors) != len(self.pt_edges):
            raise ValueError(f"{len(self.factors)} factors for {len(self.pt_edges)} pt_edges: one per bin")
        return self


class JetAlgorithm(Strict):
    seed: NonNegative  # GeV
    eta_max: Positive
    window: Count  # towers per side of the square window (odd: centred on the seed)
    calibration: JetCalibration | None = None  # none: raw jets

    @model_validator(mode="after")
    def _odd(self) -> JetAlgorithm:
        if self.window % 2 == 0:
            raise ValueError(f"window {self.window} must be odd (a square of towers centred on the seed)")
        return self


class EgammaAlgorithm(Strict):
    seed: NonNegative
    eta_max: Positive
    had_over_em: NonNegative
    iso_fraction: NonNegative


class TauAlgorithm(Strict):
    seed: NonNegative
    eta_max: Positive
    iso_fraction: NonNegative


class HtSum(Strict):
    pt_min: NonNegative
    eta_max: Positive


class Multiplicity(Strict):
    """GT multiplicities: objects are sorted by pT and truncated to these counts."""

    jets: Count
    egammas: Count
    taus: Count
    muons: Count


class DetectorSpec(Strict):
    """``configs/detector.yaml`` (documented there): tower grid, resolutions, muon system, L1 calo algorithms."""

    tower_eta_edges: list[NonNegative] = Field(min_length=2)
    hf_eta_edges: list[NonNegative] = Field(min_length=2)
    n_phi: Count
    ecal: Resolution
    hcal: Resolution
    hf: Resolution
    charged_pt_min: NonNegative
    muon: MuonSystem
    jet: JetAlgorithm
    egamma: EgammaAlgorithm
    tau: TauAlgorithm
    ht: HtSum
    multiplicity: Multiplicity

    @model_validator(mode="after")
    def _edges(self) -> DetectorSpec:
        edges, hf = self.tower_eta_edges, self.hf_eta_edges
        if edges[0] != 0 or np.any(np.diff(edges) <= 0) or hf[0] != edges[-1] or np.any(np.diff(hf) <= 0):
            raise ValueError("tower_eta_edges must rise from 0 and hf_eta_edges continue them")
        return self


@dataclass
class L1Event:
    """Hardware-level content of N crossings."""

    regions: np.ndarray  # (N, 18, 14) uint16: CICADA input
    jets: np.ndarray  # (N, 12, 3) hwPt, hwEta, hwPhi
    egammas: np.ndarray  # (N, 12, 4) hwPt, hwEta, hwPhi, hwIso
    taus: np.ndarray  # (N, 12, 4)
    muons: np.ndarray  # (N, 8, 4) hwPt, hwEta, hwPhi, hwQual
    sums: np.ndarray  # (N, 4) hwMET, hwMETphi, hwHT, hwETT
    jet_towers: np.ndarray  # (N, 2, 16, 4) towers of the two leading jets: hwEt, dIEta, dIPhi, hwEtEm

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("regions", "jets", "egammas", "taus", "muons", "sums", "jet_towers")}


class Detector:
    """Calorimeter towers (barrel/endcap to |eta| 3, HF to 5), muon system, and the L1 calo algorithms."""

    def __init__(self, config: dict[str, Any], source: str = "detector config") -> None:
        self.config = validate(DetectorSpec, config, source).model_dump()  # plain values, also stored in event files
        config = self.config
        edges = np.asarray(config["tower_eta_edges"], dtype=np.float64)
        hf = np.asarray(config["hf_eta_edges"], dtype=np.float64)
        self.eta_edges = np.concatenate([-edges[:0:-1], edges])  # signed, barrel/endcap
        self.hf_edges = hf
        self.n_phi = int(config["n_phi"])
        self.eta_centers = 0.5 * (self.eta_edges[1:] + self.eta_edges[:-1])
        self.phi_centers = (np.arange(self.n_phi) + 0.5) * (2 * np.pi / self.n_phi)
        self.n_eta = len(self.eta_centers)
        self.n_hf = 2 * (len(hf) - 1)
        self._edges32, self._hf32 = self.eta_edges.astype(np.float32), hf.astype(np.float32)  # particle eta: float32

    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> Detector:
        path = Path(path) if path is not None else DEFAULT_CONFIG
        return cls(read_yaml(path), str(path))

    def towers(self, p: ParticleBlock, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tower ET in GeV: (EM, hadronic) on the barrel/endcap grid (N, n_eta, n_phi), and HF (N, n_hf, n_phi).

        Each particle's energy is smeared with its calorimeter's resolution (e/gamma: ECAL, others: HCAL, HF in the
        forward region); charged particles below ``charged_pt_min`` and muons deposit nothing; a tower's summed
        ET is clipped at 0."""
        n = p.n_events
        absid = np.abs(p.pid)
        aeta = np.abs(p.eta)
        keep = ((p.charge == 0) | (p.pt >= self.config["charged_pt_min"])) & (absid != 13)
        keep &= aeta < self.hf_edges[-1]
        ev, pt, eta, phi, aeta = p.event[keep], p.pt[keep], p.eta[keep], p.phi[keep], aeta[keep]
        absid = absid[keep]
        forward = aeta >= self.hf_edges[0]
        layer = np.where(forward, 2, np.where((absid == 11) | (absid == 22), 0, 1))
        res = [self.config[k] for k in ("ecal", "hcal", "hf")]
        a = np.array([r["stochastic"] for r in res], dtype=np.float32)[layer]
        c = np.array([r["constant"] for r in res], dtype=np.float32)[layer]
        cosh = np.cosh(eta)
        e = pt * cosh
        et = pt + np.sqrt(a * a * e + (c * e) ** 2) / cosh * rng.standard_normal(len(e), dtype=np.float32)
        row = layer * self.n_eta + np.searchsorted(self._edges32, eta, side="right") - 1  # rows: EM, hadronic, HF
        side = np.searchsorted(self._hf32, aeta[forward], side="right") - 1
        half = self.n_hf // 2
        row[forward] = 2 * self.n_eta + np.where(eta[forward] > 0, half + side, half - 1 - side)
        rows = 2 * self.n_eta + self.n_hf
        iphi = np.minimum((np.mod(phi, 2 * np.pi) * (self.n_phi / (2 * np.pi))).astype(np.int64), self.n_phi - 1)
        flat = (ev * rows + row) * self.n_phi + iphi
        summed = np.bincount(flat, weights=et, minlength=n * rows * self.n_phi).reshape(n, rows, self.n_phi)
        np.maximum(summed, 0, out=summed)
        return summed[:, : self.n_eta], summed[:, self.n_eta : 2 * self.n_eta], summed[:, 2 * self.n_eta :]

    def muons(self, p: ParticleBlock, rng: np.random.Generator) -> np.ndarray:
        """L1 muons (N, k, 4): hwPt, hwEta, hwPhi, hwQual, sorted by pT and truncated to the GT multiplicity."""
        cfg = self.config["muon"]
        k = self.config["multiplicity"]["muons"]
        sel = (np.abs(p.pid) == 13) & (np.abs(p.eta) < cfg["eta_max"]) & (p.pt >= cfg["pt_min"])
        sel &= rng.random(len(p.pid)) < cfg["efficiency"]
        ev = p.event[sel]
        m = int(sel.sum())
        pt = p.pt[sel] * (1 + cfg["pt_resolution"] * rng.standard_normal(m))
        eta = p.eta[sel] + cfg["eta_resolution"] * rng.standard_normal(m)
        phi = p.phi[sel] + cfg["phi_resolution"] * rng.standard_normal(m)
        fields = np.stack(
            [
                hw_pt(pt, MUON.pt_lsb, MUON.pt_bits, MUON.pt_offset),
                hw_eta(eta, MUON.eta_lsb, MUON.eta_bits),
                hw_phi(phi, MUON.phi_steps),
                np.full(m, 12, dtype=np.int32),  # quality: single-muon quality as for a 3-4 station track
            ],
            axis=1,
        )
        # scatter into (N, max multiplicity) then sort and truncate
        counts = np.bincount(ev, minlength=p.n_events)
        width = max(int(counts.max(initial=0)), 1)
        slot = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts)
        dense = np.zeros((p.n_events, width, 4), dtype=np.int32)
        dense[ev, slot] = fields
        return sort_truncate(dense, k)

    def respond(self, p: ParticleBlock, rng: np.random.Generator) -> L1Event:
        """Particles of N crossings -> the L1 event content."""
        em_et, had_et, hf_et = self.towers(p, rng)
        hw = (calo.tower_hw(em_et), calo.tower_hw(had_et), calo.tower_hw(hf_et))
        return self.trigger(*hw, self.muons(p, rng))

    def jets(self, total: np.ndarray) -> np.ndarray:
        """The L1 jets (N, multiplicity, 3) of tower hwEt ``total``: the sliding window, then layer 2's calibration
        when the detector has one (before HT and the GT), sorted by hwPt."""
        cfg, lsb = self.config["jet"], CALO.pt_lsb
        k = self.config["multiplicity"]["jets"]
        jets = calo.jets(total, self.eta_centers, int(cfg["seed"] / lsb), k, cfg["window"])
        if cfg["calibration"] is None:
            return jets
        edges = np.floor(np.asarray(cfg["calibration"]["pt_edges"]) / lsb).astype(np.int64)
        words = np.rint(np.asarray(cfg["calibration"]["factors"]) * (1 << calo.CALIBRATION_BITS)).astype(np.int64)
        return calo.calibrate_jets(jets, edges, words, CALO.pt_max)

    def trigger(self, em: np.ndarray, had: np.ndarray, hf: np.ndarray, muons: np.ndarray) -> L1Event:
        """The L1 algorithms on tower hwEt (EM, hadronic on the barrel/endcap grid; HF) and the L1 muons."""
        total = calo.tower_total(em, had)
        cfg, mult = self.config, self.config["multiplicity"]
        lsb = CALO.pt_lsb
        jets = self.jets(total)
        eg = cfg["egamma"]
        egammas = calo.egammas(
            em,
            had,
            self.eta_centers,
            int(eg["seed"] / lsb),
            mult["egammas"],
            eg["eta_max"],
            eg["had_over_em"],
            eg["iso_fraction"],
        )
        ta = cfg["tau"]
        taus = calo.taus(
            total, self.eta_centers, int(ta["seed"] / lsb), mult["taus"], ta["eta_max"], ta["iso_fraction"]
        )
        ht_eta = int(hw_eta(np.array([cfg["ht"]["eta_max"]]), CALO.eta_lsb, CALO.eta_bits)[0])
        sums = calo.sums(total, self.phi_centers, jets, int(cfg["ht"]["pt_min"] / lsb), ht_eta, forward=hf)
        ev, slot = np.nonzero(jets[:, :2, 0] > 0)
        ieta, iphi = jet_tools.seed_towers(jets[ev, slot], self.eta_centers, self.n_phi)
        jet_towers = np.zeros((len(total), 2, calo.JET_TOWERS, 4), dtype=np.int32)
        jet_towers[ev, slot] = jet_tools.tower_constituents(em, had, self.eta_centers, ev, ieta, iphi)
        return L1Event(calo.regions(total), jets, egammas, taus, muons, sums, jet_towers)
