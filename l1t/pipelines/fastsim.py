"""The fast simulation's jobs around the model (``l1t.models.fastsim``): ``l1t train fastsim`` (train on jet files,
the fidelity table against held-out Pythia jets, the speed against Pythia8 + detector response) and ``l1t generate
--fastsim`` (fast-simulated jets or whole crossings written as event files)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from l1t import __version__
from l1t.atomic import write_text
from l1t.emulator import calo
from l1t.emulator.objects import CALO
from l1t.events import dataset, jets
from l1t.events.detector import Detector
from l1t.events.generate import PROCESS_CODES, Pileup, Recipe, generate_chunk
from l1t.events.pythia import PROCESSES
from l1t.events.pythia import generate as pythia_generate
from l1t.models.fastsim import FastSimConfig, encode, fidelity_table, load, sample, save, train
from l1t.pipelines import TrainingProgress, callbacks

__all__ = ["generate_file", "run_fastsim", "sample_events", "speed_reference"]


SPEED_FIRST = 10  # events of the shorter of the two timed runs


def speed_reference(process: str, pileup: float, n: int, seed: int) -> float:
    """Jets per second of Pythia8 + pileup + detector response + L1 jets for ``process``, measured now: the same chunk
    generated with SPEED_FIRST and with ``n`` events (the first SPEED_FIRST events the same), and the difference in jets
    over the difference in time, so Pythia8's initialization (both runs have it) and the pileup library drop out."""
    if n <= SPEED_FIRST:
        raise ValueError(f"the speed reference needs more than {SPEED_FIRST} events, got {n}")
    pileup_events = Pileup(pythia_generate("minbias", 200, seed)) if pileup > 0 else None
    detector = Detector.from_yaml()

    def timed(events: int) -> tuple[int, float]:
        recipe = Recipe(process, events, pileup, seed, events, 200, output="jets")
        t0 = time.perf_counter()
        made = generate_chunk(recipe, 0, pileup_events, detector)
        return len(made["jets/label"]), time.perf_counter() - t0

    timed(5)  # warm-up: compiled kernels
    (jets_first, t_first), (jets_all, t_all) = timed(SPEED_FIRST), timed(n)
    return (jets_all - jets_first) / (t_all - t_first)


def run_fastsim(
    files: list[Path],
    out: Path,
    *,
    seed: int = 1,
    cfg: FastSimConfig | None = None,
    progress: TrainingProgress | None = None,
    speed_events: int = 150,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the CVAE on jet files (one process each), then per process: the fidelity table of generated vs
    held-out Pythia jets with the truth-vs-truth baseline, and the speed of generation vs Pythia8 + response."""
    cfg = cfg or FastSimConfig.from_yaml()
    t0 = time.perf_counter()
    samples = []
    for path in files:
        data, attrs = jets.read(path)
        samples.append((str(attrs.get("process", path.stem)), float(attrs.get("pileup", 0.0)), data))
    processes = [p for p, _, _ in samples]
    if len(set(processes)) != len(processes):
        raise ValueError(f"one jet file per process, got {processes}")
    xs, conds, tests = [], [], []
    for k, (_, _, data) in enumerate(samples):
        x = encode(data["jets/hw"], data["constituents/hw"])
        idx = np.random.default_rng(seed + k).permutation(len(x))
        n_test = len(x) // 2  # held out: two halves of it make the truth-vs-truth baseline
        tests.append(data["constituents/hw"][idx[:n_test]])
        train_idx = idx[n_test:]
        xs.append(x[train_idx])
        c = np.zeros((len(train_idx), len(samples)), dtype=np.float32)
        c[:, k] = 1
        conds.append(c)
    x, cond = np.concatenate(xs), np.concatenate(conds)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = len(x) // 5
    va, tr = order[:n_val], order[n_val:]
    log(f"training the CVAE on {len(tr)} jets of {', '.join(processes)}")
    cbs = callbacks(progress, "CVAE", cfg.epochs)
    decoder, prior, history = train(cfg, x[tr], cond[tr], x[va], cond[va], seed, cbs)
    save(out, decoder, prior, processes, cfg)
    results = {}
    for k, (process, pileup, _) in enumerate(samples):
        ref = tests[k]
        half = len(ref) // 2
        _, generated = sample(decoder, prior, k, half, seed + 100 + k)
        t1 = time.perf_counter()  # speed on a batch large enough that per-call overheads do not count
        sample(decoder, prior, k, 20_000, seed + 200 + k)
        fast = 20_000 / (time.perf_counter() - t1)
        log(f"{process}: fidelity on {half} jets; Pythia8 + response speed on {speed_events} events")
        table = fidelity_table(ref[:half], {"truth vs truth": ref[half : 2 * half], "CVAE vs truth": generated})
        slow = speed_reference(process, pileup, speed_events, seed)
        results[process] = {"fidelity": table, "jets_per_s": {"cvae": fast, "pythia8_response": slow}}
        results[process]["speed_ratio"] = fast / slow
    summary = {
        "model": "fastsim",
        "generator": "conditional VAE, ex-post Gaussian latent per process",
        "config": asdict(cfg),
        "processes": processes,
        "files": [str(f) for f in files],
        "seed": seed,
        "reference": REFERENCE_ROWS,
        "history": history,
        "results": results,
        "seconds": time.perf_counter() - t0,
    }
    write_text(out / "summary.json", json.dumps(summary, indent=1, default=float))
    return summary


# The FPD paper's gluon-jet table (JetNet, x 1e3; a different data set and feature set: a comparison, not a claim).
REFERENCE_ROWS = [
    {"model": "Truth (FPD paper)", "fpd_x1e3": 0.08},
    {"model": "MPGAN (FPD paper)", "fpd_x1e3": 0.30},
    {"model": "GAPT (FPD paper)", "fpd_x1e3": 0.66},
]


def sample_events(decoder: Any, prior: dict[str, np.ndarray], process_index: int, n: int, seed: int, detector: Any):
    """``n`` crossings, each two fast-simulated jets back to back in phi (a resonance's or a dijet's topology): their
    towers are placed on the tower grid and the L1 algorithms (``Detector.trigger``) run on it, so objects, sums,
    regions and jet towers follow as in the full simulation. Not simulated: the rest of the crossing (underlying
    event, pileup, muons). Returns an ``L1Event``."""
    jet_hw, towers = sample(decoder, prior, process_index, 2 * n, seed)
    jet_hw, towers = jet_hw.reshape(n, 2, 3), towers.reshape(n, 2, calo.JET_TOWERS, 4)
    jet_hw[:, 1, 2] = (jet_hw[:, 0, 2] + CALO.phi_steps // 2) % CALO.phi_steps
    n_eta, n_phi = len(detector.eta_centers), detector.n_phi
    ieta, iphi = jets.seed_towers(jet_hw, detector.eta_centers, n_phi)
    rows = ieta[..., None] + towers[..., 1]
    cols = np.mod(iphi[..., None] + towers[..., 2], n_phi)
    keep = (towers[..., 0] > 0) & (rows >= 0) & (rows < n_eta)
    ev = np.broadcast_to(np.arange(n)[:, None, None], keep.shape)
    flat = ((ev * n_eta + rows) * n_phi + cols)[keep]
    size = n * n_eta * n_phi
    cap = calo.TOWER_ET_MAX
    em = np.minimum(np.bincount(flat, towers[..., 3][keep], size), cap).astype(np.int32).reshape(n, n_eta, n_phi)
    had_et = (towers[..., 0] - towers[..., 3])[keep]
    had = np.minimum(np.bincount(flat, had_et, size), cap).astype(np.int32).reshape(n, n_eta, n_phi)
    hf = np.zeros((n, detector.n_hf, n_phi), dtype=np.int32)
    muons = np.zeros((n, detector.config["multiplicity"]["muons"], 4), dtype=np.int32)
    return detector.trigger(em, had, hf, muons)


def generate_file(
    run_dir: str | Path, process: str, n: int, seed: int, out: str | Path, output: str = "events"
) -> Path:
    """``n`` fast-simulated crossings of ``process`` as an ``l1t.events`` file (``sample_events``), or with
    ``output="jets"`` ``n`` jets as an ``l1t.jets`` file (no particle level: ``particles/features`` is zero)."""
    decoder, prior, processes = load(run_dir)
    if process not in processes:
        raise ValueError(f"{run_dir}: the fast simulation knows {processes}, not {process!r}")
    k = processes.index(process)
    attrs = {"generator": f"l1t fastsim (conditional VAE, {Path(run_dir).resolve()})", "l1t": __version__,
             "process": process, "processes": list(PROCESSES), "seed": seed, "fastsim": True}  # fmt: skip
    if output == "jets":
        jet_hw, towers = sample(decoder, prior, k, n, seed)
        data = {
            "jets/hw": jet_hw,
            "jets/label": np.full(n, int(process in jets.TRUTH_PID), dtype=np.uint8),
            "jets/process": np.full(n, PROCESS_CODES[process], dtype=np.uint8),
            "constituents/hw": towers,
            "particles/features": np.zeros((n, jets.N_PARTICLES, 4), dtype=np.float32),
        }
        return jets.write(out, data, attrs)
    detector = Detector.from_yaml()
    l1 = sample_events(decoder, prior, k, n, seed, detector)
    data = {f"objects/{name}": getattr(l1, name) for name in ("jets", "egammas", "taus", "muons", "jet_towers")}
    data |= {"regions/et": l1.regions, "sums/hw": l1.sums, "truth/npu": np.zeros(n, dtype=np.int16)}
    data["truth/process"] = np.full(n, PROCESS_CODES[process], dtype=np.uint8)
    attrs |= {"pileup": 0.0, "detector": detector.config}
    return dataset.write(out, dataset.EventSet(data, attrs))
