"""Pythia8 (PyPI ``pythia8mc``) generation of the physics processes, as flat particle blocks.

A :class:`ParticleBlock` holds the final-state particles of many events as flat arrays with event offsets (the
layout awkward calls a ListOffsetArray), so everything downstream is vectorized over particles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from l1t.extras import require

__all__ = [
    "PROCESSES",
    "Generated",
    "ParticleBlock",
    "cross_section",
    "generate",
    "generate_with_truth",
    "hard_qcd",
    "hardest_scattering",
    "pythia_version",
    "run",
    "save_mpi_init",
]

# Settings per process at sqrt(s) = 13.6 TeV. Signals follow the ADC2021 set; masses where Pythia can make them.
PROCESSES: dict[str, list[str]] = {
    "minbias": ["SoftQCD:inelastic = on"],
    "qcd": ["HardQCD:all = on", "PhaseSpace:pTHatMin = 30."],
    # scalar leptoquark pairs, m = 1 TeV, each LQ -> b tau
    "lq_btau": [
        "LeptoQuark:gg2LQLQbar = on",
        "LeptoQuark:qqbar2LQLQbar = on",
        "42:m0 = 1000.",
        "42:oneChannel = 1 1.0 0 5 -15",
    ],
    # CP-odd A -> ZZ -> 4 leptons (e, mu); m_A = 200 GeV so that both Z are on shell (Pythia gives no width below)
    "a_4l": [
        "Higgs:useBSM = on",
        "HiggsBSM:gg2A3 = on",
        "36:m0 = 200.",
        "HiggsA3:coup2Z = 1.",
        "36:onMode = off",
        "36:onIfMatch = 23 23",
        "23:onMode = off",
        "23:onIfAny = 11 13",
    ],
    # charged Higgs, m = 60 GeV, -> tau nu
    "hpm_taunu": [
        "Higgs:useBSM = on",
        "HiggsBSM:ffbar2H+- = on",
        "37:m0 = 60.",
        "37:onMode = off",
        "37:onIfAny = 15",
    ],
    # neutral scalar, m = 60 GeV, -> tau tau
    "h0_tautau": ["HiggsSM:gg2H = on", "25:m0 = 60.", "25:onMode = off", "25:onIfMatch = 15 -15"],
    # Hidden Valley dark shower: Z' (1 TeV) -> dark quarks, dark-QCD shower, dark mesons (20 GeV) -> d dbar
    "darkshower": [
        "HiddenValley:ffbar2Zv = on",
        "4900023:m0 = 1000.",
        "4900023:onMode = off",
        "4900023:onIfAny = 4900101",
        "HiddenValley:Ngauge = 3",
        "HiddenValley:nFlav = 1",
        "HiddenValley:fragment = on",
        "HiddenValley:FSR = on",
        "HiddenValley:alphaOrder = 1",
        "HiddenValley:Lambda = 10.",
        "HiddenValley:pTminFSR = 11.",
        "HiddenValley:spinFv = 0",
        "4900101:m0 = 10.",
        "4900111:m0 = 20.",
        "4900113:m0 = 20.",
        "4900111:oneChannel = 1 1.0 91 1 -1",
        "4900113:oneChannel = 1 1.0 91 1 -1",
    ],
    # boosted jets for tagging: all-hadronic t tbar from a 2 TeV Z' (tops at pT ~ 0.5-1 TeV), QCD at the same pT
    "zprime_tt": [
        "NewGaugeBoson:ffbar2gmZZprime = on",
        "Zprime:gmZmode = 3",
        "32:m0 = 2000.",
        "32:onMode = off",
        "32:onIfAny = 6",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4 5",
    ],
    "qcd_boosted": ["HardQCD:all = on", "PhaseSpace:pTHatMin = 500.", "PhaseSpace:pTHatMax = 1100."],
}
COMMON = [
    "Beams:eCM = 13600.",
    "Next:numberCount = 0",
    "Init:showChangedSettings = off",
    "Init:showProcesses = off",
    "Init:showChangedParticleData = off",
    "Print:quiet = on",
]
INVISIBLE = {12, 14, 16, 1000022, 1000012, 1000014, 1000016}


def pythia_version() -> str:
    from importlib import metadata

    return f"pythia8mc {metadata.version('pythia8mc')}"


@dataclass
class ParticleBlock:
    """Final-state visible particles of N events: flat columns and ``offsets`` (N + 1)."""

    offsets: np.ndarray  # int64
    pid: np.ndarray  # int32
    charge: np.ndarray  # int8
    pt: np.ndarray  # float32, GeV
    eta: np.ndarray  # float32
    phi: np.ndarray  # float32, (-pi, pi]

    @property
    def n_events(self) -> int:
        return len(self.offsets) - 1

    @property
    def event(self) -> np.ndarray:
        """Event index of every particle."""
        return np.repeat(np.arange(self.n_events), np.diff(self.offsets))

    def take(self, events: np.ndarray) -> ParticleBlock:
        """A new block of the given events (repeats allowed), in that order."""
        events = np.asarray(events, dtype=np.int64)
        counts = np.diff(self.offsets)[events]
        offsets = np.concatenate([[0], np.cumsum(counts)])
        index = np.repeat(self.offsets[events] - offsets[:-1], counts) + np.arange(offsets[-1])
        return ParticleBlock(
            offsets, self.pid[index], self.charge[index], self.pt[index], self.eta[index], self.phi[index]
        )

    @staticmethod
    def concatenate(blocks: list[ParticleBlock]) -> ParticleBlock:
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for b in blocks:
            offsets.append(b.offsets[1:] + base)
            base += int(b.offsets[-1])
        cols = {k: np.concatenate([getattr(b, k) for b in blocks]) for k in ("pid", "charge", "pt", "eta", "phi")}
        return ParticleBlock(np.concatenate(offsets), **cols)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("offsets", "pid", "charge", "pt", "eta", "phi")}


def hard_qcd(pthat_min: float, pthat_max: float | None) -> list[str]:
    """Settings of all 2 -> 2 QCD processes with pT-hat in [pthat_min, pthat_max) (``None``: no upper edge)."""
    return [
        "HardQCD:all = on",
        f"PhaseSpace:pTHatMin = {pthat_min:g}",
        f"PhaseSpace:pTHatMax = {-1 if pthat_max is None else pthat_max:g}",
    ]


@dataclass
class Generated:
    """Events from one Pythia8 run: the particles, the truth objects and how many events were tried (accepted plus
    those rejected by a pT-hat cut)."""

    block: ParticleBlock
    truth: np.ndarray
    tried: int


def _pythia(lines: Sequence[str], seed: int, extra: Sequence[str] = ()) -> Any:
    require("events", "Pythia8 generation")
    import pythia8mc

    if not 1 <= seed <= 900_000_000:
        raise ValueError(f"Pythia8 seeds run from 1 to 900,000,000, got {seed}")
    py = pythia8mc.Pythia("", False)
    for line in [*lines, *COMMON, *extra, "Random:setSeed = on", f"Random:seed = {seed}"]:
        if not py.readString(line):
            raise RuntimeError(f"Pythia8 rejected the setting {line!r}")
    if not py.init():
        raise RuntimeError(f"Pythia8 failed to initialize {'; '.join(lines)}")
    return py


def _mpi_settings(path: Path, save: bool) -> list[str]:
    # reuseInit 1 computes the multiparton-interaction tables and saves them, 2 reads them (9 s -> 0.3 s for min bias)
    return [f"MultipartonInteractions:reuseInit = {1 if save else 2}", f"MultipartonInteractions:initFile = {path}"]


def save_mpi_init(lines: Sequence[str], path: Path) -> Path:
    """Compute the multiparton-interaction tables of the settings ``lines`` once and save them to ``path``; every
    later run given ``mpi_init=path`` reads them instead of recomputing (same tables, same events)."""
    _pythia(lines, 1, _mpi_settings(path, save=True))
    return path


def cross_section(lines: Sequence[str], seed: int, events: int = 50_000) -> tuple[float, float]:
    """Pythia8's cross section of the settings ``lines`` and its statistical error, in mb, from ``events`` events at
    process level only (0.2 % for 50,000 events of a 2 -> 2 QCD pT-hat bin; analytic for soft QCD)."""
    py = _pythia(lines, seed, ["PartonLevel:all = off", "HadronLevel:all = off"])
    for _ in range(events):
        py.next()
    info = py.infoPython()
    return float(info.sigmaGen()), float(info.sigmaErr())


def run(
    lines: Sequence[str],
    n: int,
    seed: int,
    *,
    truth_pid: int | None = None,
    n_truth: int = 2,
    eta_max: float = 5.0,
    max_pthat: float | None = None,
    mpi_init: Path | None = None,
) -> Generated:
    """``n`` events of the settings ``lines``, seeded (``seed`` in 1..900,000,000): the visible final state within
    ``|eta| < eta_max``, and per event (pT, eta, phi) of up to ``n_truth`` particles with ``|id| == truth_pid`` in
    their last copy before decay (e.g. the top quarks of a resonance), zero-padded: (n, n_truth, 3). Events whose
    ``hardest_scattering`` reaches ``max_pthat`` are rejected and counted."""
    py = _pythia(lines, seed, _mpi_settings(mpi_init, save=False) if mpi_init is not None else ())
    counts, cols = [], []
    truth = np.zeros((n, n_truth, 3), dtype=np.float32)
    tried = 0
    while len(counts) < n:
        if not py.next():
            continue
        tried += 1
        if max_pthat is not None and hardest_scattering(py.event) >= max_pthat:
            continue
        event = py.event
        if truth_pid is not None:
            last = [
                (p.pT(), p.eta(), p.phi())
                for p in event
                if p.idAbs() == truth_pid and event[p.daughter1()].idAbs() != truth_pid
            ][:n_truth]
            if last:
                truth[len(counts), : len(last)] = last
        # every final particle, read from the event's particle list in one call; the visibility and acceptance
        # cuts follow on the arrays (one Python call per attribute is the cost here: 0.27 vs 0.40 ms per min-bias
        # event when the cuts were Python calls too)
        rows = [(p.id(), p.charge(), p.pT(), p.eta(), p.phi()) for p in event.particles() if p.isFinal()]
        counts.append(len(rows))
        cols.extend(rows)
    a = np.array(cols, dtype=np.float64).reshape(-1, 5)
    pid = np.abs(a[:, 0])
    keep = ~np.isin(pid, list(INVISIBLE)) & (pid < 4900000) & (np.abs(a[:, 3]) < eta_max)
    event_of = np.repeat(np.arange(len(counts)), counts)
    a = a[keep]
    block = ParticleBlock(
        np.concatenate([[0], np.cumsum(np.bincount(event_of[keep], minlength=len(counts)))]).astype(np.int64),
        a[:, 0].astype(np.int32),
        np.rint(a[:, 1]).astype(np.int8),
        a[:, 2].astype(np.float32),
        a[:, 3].astype(np.float32),
        a[:, 4].astype(np.float32),
    )
    return Generated(block, truth, tried)


# Pythia8 status codes of the outgoing partons of the hardest subprocess (23) and of the multiparton interactions (33)
_SCATTERED = (23, 33)


def hardest_scattering(event: Any) -> float:
    """The largest pT [GeV] among the outgoing partons of every scattering of the event: the 2 -> 2 process and all
    multiparton interactions, also those inside diffractive systems, whose hard scatterings ``Info.pTHat()`` does not
    report (above 15 GeV: 10 of the 465 such events in 20,000 min-bias events)."""
    return max((p.pT() for p in event.particles() if abs(p.status()) in _SCATTERED), default=0.0)


def _settings(process: str) -> list[str]:
    if process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}; choose from {', '.join(PROCESSES)}")
    return PROCESSES[process]


def generate(process: str, n: int, seed: int, eta_max: float = 5.0) -> ParticleBlock:
    """``n`` events of ``process`` with Pythia8, seeded (``seed`` in 1..900,000,000); visible final state."""
    return run(_settings(process), n, seed, eta_max=eta_max).block


def generate_with_truth(
    process: str, n: int, seed: int, truth_pid: int | None, eta_max: float = 5.0, n_truth: int = 2
) -> tuple[ParticleBlock, np.ndarray]:
    """``generate`` plus the truth particles of ``run``."""
    made = run(_settings(process), n, seed, truth_pid=truth_pid, n_truth=n_truth, eta_max=eta_max)
    return made.block, made.truth
