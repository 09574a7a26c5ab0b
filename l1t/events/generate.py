"""``l1t generate``: Pythia8 events + pileup + detector response -> an l1t HDF5 event file, by chunks.

Every chunk is seeded from (seed, chunk index) alone, so the file's content does not depend on the number of
workers or on interruptions. Finished chunks are kept in ``<out>.parts/``; a rerun continues from them, and the
final file is written under a temporary name and renamed, so it is never half-written.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from l1t.atomic import atomic_path
from l1t.emulator import calo
from l1t.events import dataset, jets, pythia
from l1t.events.detector import Detector
from l1t.events.pileup import overlay
from l1t.events.pythia import PROCESSES, ParticleBlock

__all__ = ["Recipe", "generate_chunk", "run"]

PROCESS_CODES = {name: i for i, name in enumerate(PROCESSES)}


@dataclass(frozen=True)
class Recipe:
    """What to generate; stored in the file's attributes."""

    process: str
    events: int
    pileup: float = 60.0
    seed: int = 1
    chunk: int = 500
    library: int = 2000  # min-bias events in the pileup library
    detector: str | None = None  # YAML path; None = configs/detector.yaml
    output: str = "events"  # "events" (l1t.events file) or "jets" (l1t.jets file: tagger jets with constituents)
    compression: str = dataset.DEFAULT_COMPRESSION  # event files: one of dataset.COMPRESSIONS

    def __post_init__(self) -> None:
        if self.process not in PROCESSES:
            raise ValueError(f"unknown process {self.process!r}; choose from {', '.join(PROCESSES)}")
        if self.events < 1 or self.chunk < 1 or self.library < 1:
            raise ValueError("events, chunk and library must be positive")
        if self.pileup < 0:
            raise ValueError(f"pileup must be >= 0, got {self.pileup}")
        if self.output not in ("events", "jets"):
            raise ValueError(f"output must be 'events' or 'jets', got {self.output!r}")
        dataset.compression_options(self.compression)  # ValueError naming the choices


def _seeds(seed: int, key: int) -> tuple[int, np.random.Generator]:
    ss = np.random.SeedSequence([seed, key])
    return 1 + int(ss.generate_state(1)[0] % 899_999_999), np.random.default_rng(ss)


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def _library_path(recipe: Recipe, parts: Path) -> Path:
    """The pileup library's file, generated (seeded from the recipe) if it is not there yet."""
    path = parts / "minbias_library.npz"
    if not path.is_file():
        py_seed, _ = _seeds(recipe.seed, 1_000_000)
        _save_npz(path, pythia.generate("minbias", recipe.library, py_seed).arrays())
    return path


def _load_library(path: Path) -> ParticleBlock:
    """The library, read once per process and file version (every chunk a worker makes shares it)."""
    st = path.stat()
    return _read_library(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=1)
def _read_library(path: str, mtime_ns: int, size: int) -> ParticleBlock:
    with np.load(path) as f:
        return ParticleBlock(**{k: f[k] for k in f.files})


def generate_chunk(recipe: Recipe, index: int, library: ParticleBlock | None, detector: Detector) -> dict:
    """The content of chunk ``index`` (crossings [index * chunk, ...)) as arrays of the output's schema."""
    n = min(recipe.chunk, recipe.events - index * recipe.chunk)
    py_seed, rng = _seeds(recipe.seed, index)
    signal, truth = None, None
    if recipe.process == "minbias" and recipe.pileup > 0:
        particles, npu = overlay(library, n, recipe.pileup, rng)  # zero bias: pileup interactions only
    else:
        signal, truth = pythia.generate_with_truth(recipe.process, n, py_seed, jets.TRUTH_PID.get(recipe.process))
        if recipe.pileup > 0:
            particles, npu = overlay(library, n, recipe.pileup, rng, signal=signal)
        else:
            particles, npu = signal, np.full(n, int(recipe.process == "minbias"), dtype=np.int64)
    code = PROCESS_CODES[recipe.process]
    if recipe.output == "jets":
        em, had, _ = detector.towers(particles, rng)
        out = jets.jet_arrays(
            calo.tower_hw(em),
            calo.tower_hw(had),
            detector.eta_centers,
            detector.config["jet"],
            particles if signal is None else signal,
            truth if recipe.process in jets.TRUTH_PID else None,
        )
        return out | {"jets/process": np.full(len(out["jets/label"]), code, dtype=np.uint8)}
    l1 = detector.respond(particles, rng)
    return {
        "regions/et": l1.regions,
        "objects/jets": l1.jets,
        "objects/egammas": l1.egammas,
        "objects/taus": l1.taus,
        "objects/muons": l1.muons,
        "sums/hw": l1.sums,
        "objects/jet_towers": l1.jet_towers,
        "truth/npu": npu.astype(np.int16),
        "truth/process": np.full(n, code, dtype=np.uint8),
    }


def _work(recipe: Recipe, index: int, parts: str) -> int:
    parts_dir = Path(parts)
    library = _load_library(_library_path(recipe, parts_dir)) if recipe.pileup > 0 else None
    detector = Detector.from_yaml(recipe.detector)
    arrays = generate_chunk(recipe, index, library, detector)
    _save_npz(parts_dir / f"chunk_{index:05d}.npz", {k.replace("/", "__"): v for k, v in arrays.items()})
    return index


def run(
    recipe: Recipe,
    out: str | Path,
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Generate ``recipe`` into ``out``; ``progress(done, total)`` is called as chunks finish."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(exist_ok=True)
    stamp = parts / "recipe.json"
    if stamp.is_file() and json.loads(stamp.read_text()) != asdict(recipe):
        raise ValueError(f"{parts} holds chunks of a different recipe; remove it or choose another output")
    stamp.write_text(json.dumps(asdict(recipe)))
    detector = Detector.from_yaml(recipe.detector)
    if recipe.pileup > 0:
        _library_path(recipe, parts)  # generated once, before the workers share it
    n_chunks = -(-recipe.events // recipe.chunk)
    todo = [i for i in range(n_chunks) if not (parts / f"chunk_{i:05d}.npz").is_file()]
    done = n_chunks - len(todo)
    if progress:
        progress(done, n_chunks)
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_work, recipe, i, str(parts)) for i in todo]
            for fut in as_completed(futures):
                fut.result()
                done += 1
                if progress:
                    progress(done, n_chunks)
    else:
        for i in todo:
            _work(recipe, i, str(parts))
            done += 1
            if progress:
                progress(done, n_chunks)
    chunks = []
    for i in range(n_chunks):
        with np.load(parts / f"chunk_{i:05d}.npz") as f:
            chunks.append({k.replace("__", "/"): f[k] for k in f.files})
    data = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    from l1t import __version__

    attrs = {
        "generator": pythia.pythia_version(),
        "l1t": __version__,
        "process": recipe.process,
        "processes": list(PROCESSES),
        "settings": {"process": PROCESSES[recipe.process], "common": pythia.COMMON},
        "seed": recipe.seed,
        "pileup": recipe.pileup,
        "library": recipe.library,
        "detector": detector.config,
    }
    if recipe.output == "jets":
        jets.write(out, data, attrs)
    else:
        dataset.write(out, dataset.EventSet(data, attrs), compression=recipe.compression)
    for f in parts.iterdir():
        f.unlink()
    parts.rmdir()
    return out
