"""``l1t generate``: Pythia8 events + pileup + detector response -> an l1t HDF5 event file, by chunks.

Every chunk is seeded from (seed, chunk index) alone, so the file's content does not depend on the number of
workers or on interruptions. Finished chunks are kept in ``<out>.parts/``; a rerun continues from them, and the
final file is written under a temporary name and renamed, so it is never half-written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from l1t.atomic import atomic_path, write_text
from l1t.cpp import cache_dir
from l1t.emulator import calo
from l1t.events import dataset, jets, pythia, zerobias
from l1t.events.detector import Detector
from l1t.events.pileup import Draw, assemble
from l1t.events.pythia import PROCESSES, ParticleBlock
from l1t.events.truth import absent, truth_arrays

__all__ = ["Pileup", "Recipe", "generate_chunk", "run"]

PROCESS_CODES = {name: i for i, name in enumerate(PROCESSES)}
MAX_SHARE = 0.005  # zero bias by default: no min-bias library event in more than this fraction of the crossings
SIGNAL_LIBRARY = 2000  # the pileup library under a signal (its own event dominates the crossing)
# pT-hat edges [GeV] of CMS's QCD samples (15-30, 30-50, ..., 470 and above)
ZERO_BIAS_BINS = (15.0, 30.0, 50.0, 80.0, 120.0, 170.0, 300.0, 470.0)
SOFT_QCD = PROCESSES["minbias"]  # the min-bias library's settings
PIECE = 1000  # library events per generation task
SIGMA_EVENTS = 50_000  # process-level events per cross section (0.2 % statistical error)
SIGMA_SEED = 1  # one seed for every cross section: a setting's cross section is the same number in every file


@dataclass(frozen=True)
class Recipe:
    """What to generate; stored in the file's attributes."""

    process: str
    events: int
    pileup: float = 60.0
    seed: int = 1
    chunk: int = 500
    library: int | None = None  # min-bias events in the pileup library; None: pileup / MAX_SHARE for zero bias
    detector: str | None = None  # YAML path; None = configs/detector.yaml
    output: str = "events"  # "events" (l1t.events file) or "jets" (l1t.jets file: tagger jets with constituents)
    compression: str = dataset.DEFAULT_COMPRESSION  # event files: one of dataset.COMPRESSIONS
    pthat_bins: tuple[float, ...] = ()  # zero bias: pT-hat edges [GeV] of the weighted hard strata (last bin open)
    hard_library: int = 200  # zero bias with pthat_bins: at least this many events per bin for the additional hard
    # interactions, and lambda_b / MAX_SHARE where the bin's mean count per crossing lambda_b needs more

    def __post_init__(self) -> None:
        if self.process not in PROCESSES:
            raise ValueError(f"unknown process {self.process!r}; choose from {', '.join(PROCESSES)}")
        if self.events < 1 or self.chunk < 1 or (self.library is not None and self.library < 1):
            raise ValueError("events, chunk and library must be positive")
        if self.pileup < 0:
            raise ValueError(f"pileup must be >= 0, got {self.pileup}")
        if self.output not in ("events", "jets"):
            raise ValueError(f"output must be 'events' or 'jets', got {self.output!r}")
        dataset.compression_options(self.compression)  # ValueError naming the choices
        object.__setattr__(self, "pthat_bins", tuple(float(e) for e in self.pthat_bins))
        if self.pthat_bins:
            edges = np.asarray(self.pthat_bins)
            if self.process != "minbias" or self.output != "events" or self.pileup <= 0:
                raise ValueError("pT-hat bins stratify zero bias: process minbias, event output, pileup > 0")
            if edges[0] <= 0 or (np.diff(edges) <= 0).any():
                raise ValueError(f"pT-hat edges must be positive and increasing, got {list(self.pthat_bins)}")
            if self.hard_library < 1:
                raise ValueError("hard_library must be positive")
            if self.events < 2 * (len(edges) + 1):
                raise ValueError(f"{self.events} crossings are too few for {len(edges) + 1} strata")

    @property
    def library_size(self) -> int:
        """Min-bias events in the pileup library."""
        if self.library is not None:
            return self.library
        if self.process != "minbias":
            return SIGNAL_LIBRARY
        return max(math.ceil(round(self.pileup / MAX_SHARE, 6)), 1)

    def bins(self) -> list[tuple[float, float | None]]:
        return zerobias.bins(self.pthat_bins)


@dataclass
class Pileup:
    """What a chunk draws its interactions from: the min-bias library (for stratified zero bias its quiet events), and
    for stratified zero bias one library per pT-hat bin, the active soft events, the strata and the mean interactions
    per crossing (quiet soft, then per class: the bins and the active events)."""

    soft: ParticleBlock | None
    hard: list[ParticleBlock] = field(default_factory=list)
    active: ParticleBlock | None = None  # the soft library's active events (zerobias.active), each leading one crossing
    strata: list[zerobias.Stratum] = field(default_factory=list)
    lam_soft: float = 0.0
    lam: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _seeds(seed: int, key: int) -> tuple[int, np.random.Generator]:
    ss = np.random.SeedSequence([seed, key])
    return 1 + int(ss.generate_state(1)[0] % 899_999_999), np.random.default_rng(ss)


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def _chunks(recipe: Recipe, strata: list[zerobias.Stratum] | None) -> list[tuple[int, int, int]]:
    """(stratum, first crossing within it, crossings) of every chunk in file order; stratum -1: soft or unstratified."""
    sizes = [st.crossings for st in strata] if strata else [recipe.events]
    return [(s - 1, i, min(recipe.chunk, n - i)) for s, n in enumerate(sizes) for i in range(0, n, recipe.chunk)]


def _cached(name: str, parts: Path, make: Callable[[Path], object]) -> Path:
    """``name`` in the user's cache (``l1t.cpp.cache_dir() / "pythia"``), made once by ``make(path)`` and kept for
    every later file; in ``parts`` when the cache cannot be written."""
    for directory in (cache_dir() / "pythia", parts):
        path = directory / name
        if path.is_file():
            return path
        try:
            with atomic_path(path, suffix=path.suffix) as tmp:
                make(tmp)
            return path
        except OSError:  # an unwritable cache: the parts directory
            continue
    raise OSError(f"cannot write {name} to {parts}")


def _setting_key(lines: Sequence[str], *extra: object) -> str:
    """A Pythia setting's identity: the Pythia version, l1t's common settings and the setting's own lines."""
    text = "\n".join([pythia.pythia_version(), *pythia.COMMON, *lines, *map(str, extra)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _mpi_init(lines: list[str], parts: Path) -> Path:
    """The saved multiparton-interaction tables of ``lines``: computed once (seeded, so always the same tables)."""
    return _cached(f"mpi_{_setting_key(lines)}.dat", parts, lambda tmp: pythia.save_mpi_init(lines, tmp))


def _cross_section(lines: list[str], parts: Path) -> tuple[float, float]:
    """Pythia8's cross section of ``lines`` and its error [mb], from SIGMA_EVENTS events with the fixed seed
    SIGMA_SEED: a property of the setting, computed once and shared by every file (0.2 % for a pT-hat bin)."""

    def make(tmp: Path) -> None:
        tmp.write_text(json.dumps(pythia.cross_section(lines, SIGMA_SEED, SIGMA_EVENTS)))

    path = _cached(f"sigma_{_setting_key(lines, SIGMA_SEED, SIGMA_EVENTS)}.json", parts, make)
    sigma, err = json.loads(path.read_text())
    return sigma, err


def _setting_tables(lines: tuple[str, ...], parts: str, sigma: bool) -> None:
    """One Pythia setting's MPI tables and, for weighted strata, its cross section, into the caches (a pool task)."""
    _mpi_init(list(lines), Path(parts))
    if sigma:
        _cross_section(list(lines), Path(parts))


def _cross_sections(recipe: Recipe, parts: Path) -> dict[str, Any]:
    """Inelastic and per-bin cross sections [mb] with their errors."""
    return {
        "inelastic": _cross_section(SOFT_QCD, parts),
        "bins": [_cross_section(pythia.hard_qcd(*b), parts) for b in recipe.bins()],
    }


def _lambdas(recipe: Recipe, parts: Path) -> tuple[float, np.ndarray]:
    """lambda_soft and lambda_b of stratified zero bias (from the cross sections)."""
    xs = _cross_sections(recipe, parts)
    return zerobias.rates(recipe.pileup, xs["inelastic"][0], [s for s, _ in xs["bins"]])


def _soft_field(recipe: Recipe, parts: Path, key: str) -> np.ndarray:
    """One array of every piece of the soft library, concatenated (``active``: per event; ``tried``: per piece)."""
    out = []
    for name, *_ in _library_tasks(recipe, parts):
        if name.startswith("minbias_"):
            with np.load(parts / f"{name}.npz") as f:
                out.append(np.atleast_1d(f[key]))
    return np.concatenate(out)


def _strata(recipe: Recipe, parts: Path, flags: np.ndarray) -> tuple[float, np.ndarray, list[zerobias.Stratum]]:
    """lambda of the quiet soft events, lambda per class (the bins, then the active soft events if the library has
    any: ``flags`` per soft-library event) and the strata of stratified zero bias."""
    lam_soft, lam = _lambdas(recipe, parts)
    n_active = int(flags.sum())
    q = n_active / len(flags)  # the active fraction of min bias below the first edge
    if n_active:
        lam = np.append(lam, lam_soft * q)
    return lam_soft * (1 - q), lam, zerobias.plan(recipe.pthat_bins, recipe.events, lam, n_active)


def _library_tasks(recipe: Recipe, parts: Path) -> list[tuple[str, int, int]]:
    """(name, key, events) of the library pieces: min bias, and per pT-hat bin its hard library, sized so that none of
    its events is in more than about MAX_SHARE of the crossings (needs the cross sections)."""
    size = recipe.library_size
    tasks = [(f"minbias_{k:04d}", k, min(PIECE, size - k * PIECE)) for k in range(-(-size // PIECE))]
    if not recipe.pthat_bins:
        return tasks
    _, lam = _lambdas(recipe, parts)
    sizes = [max(recipe.hard_library, math.ceil(lam_b / MAX_SHARE)) for lam_b in lam]
    return tasks + [(f"hard_{b:02d}", 1000 + b, n) for b, n in enumerate(sizes)]


def _make_library(recipe: Recipe, name: str, key: int, n: int, parts: str) -> str:
    path = Path(parts) / f"{name}.npz"
    if not path.is_file():
        py_seed, _ = _seeds(recipe.seed, 1_000_000 + key)
        if name.startswith("hard_"):
            lines = pythia.hard_qcd(*recipe.bins()[key - 1000])
            made = pythia.run(lines, n, py_seed, mpi_init=_mpi_init(lines, Path(parts)))
        else:
            lines = SOFT_QCD
            cut = recipe.pthat_bins[0] if recipe.pthat_bins else None
            made = pythia.run(lines, n, py_seed, max_pthat=cut, mpi_init=_mpi_init(lines, Path(parts)))
        arrays = made.block.arrays() | {"tried": np.array(made.tried)}
        if not name.startswith("hard_") and recipe.pthat_bins:  # its own L1 content decides whether it is reused
            _, rng = _seeds(recipe.seed, 4_000_000 + key)
            arrays["active"] = zerobias.active(Detector.from_yaml(recipe.detector).respond(made.block, rng))
        _save_npz(path, arrays)
    return name


def _load_pileup(recipe: Recipe, parts: Path) -> Pileup:
    """The pileup of ``recipe``, read once per process and parts directory (every chunk a worker makes shares it)."""
    stamp = parts / "recipe.json"
    return _read_pileup(recipe, str(parts), stamp.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _read_pileup(recipe: Recipe, parts: str, stamp: int) -> Pileup:
    def block(name: str) -> ParticleBlock:
        with np.load(Path(parts) / f"{name}.npz") as f:
            return ParticleBlock(**{k: f[k] for k in f.files if k not in ("tried", "active")})

    names = [t[0] for t in _library_tasks(recipe, Path(parts))]
    soft = ParticleBlock.concatenate([block(n) for n in names if n.startswith("minbias_")])
    if not recipe.pthat_bins:
        return Pileup(soft)
    flags = _soft_field(recipe, Path(parts), "active")
    quiet, active = soft.take(np.flatnonzero(~flags)), soft.take(np.flatnonzero(flags))
    lam_soft, lam, strata = _strata(recipe, Path(parts), flags)
    hard = [block(n) for n in names if n.startswith("hard_")]
    return Pileup(quiet, hard, active if flags.any() else None, strata, lam_soft, lam)


def generate_chunk(recipe: Recipe, index: int, pileup: Pileup | None, detector: Detector) -> dict:
    """The content of chunk ``index`` (in file order) as arrays of the output's schema; for stratified zero bias
    with the crossings' weights, and with ``_uses/*``: per library event, the crossings of the chunk it is in."""
    stratum, first, n = _chunks(recipe, pileup.strata if pileup else None)[index]
    py_seed, rng = _seeds(recipe.seed, index)
    signal, truth, draws, extra = None, None, [], {}
    if stratum == len(recipe.pthat_bins):  # the active stratum: each active soft event leads one crossing
        signal = pileup.active.take(np.arange(first, first + n))
    elif stratum >= 0:  # a hard stratum of zero bias: its leading 2 -> 2 QCD event, then the rest of the crossing
        lines = pythia.hard_qcd(*recipe.bins()[stratum])
        signal = pythia.run(lines, n, py_seed).block
    elif recipe.process != "minbias" or recipe.pileup == 0:
        signal, truth = pythia.generate_with_truth(recipe.process, n, py_seed, jets.TRUTH_PID.get(recipe.process))
    if signal is not None:
        draws.append(Draw(signal, np.ones(n, dtype=np.int64), np.arange(n)))
    if pileup is not None and pileup.strata:
        soft, *per_class = zerobias.counts(stratum, n, pileup.lam_soft, pileup.lam, rng)
        classes = pileup.hard + ([pileup.active] if pileup.active is not None else [])
        draws += [Draw(pileup.soft, soft)] + [Draw(lib, c) for lib, c in zip(classes, per_class, strict=True)]
        st = pileup.strata[stratum + 1]
        extra["truth/weight"] = np.full(n, st.weight)
    elif pileup is not None and recipe.pileup > 0:
        draws.append(Draw(pileup.soft, rng.poisson(recipe.pileup, n)))
    if pileup is not None and len(draws) > (signal is not None):
        particles, uses = assemble(n, draws, rng)
        npu = sum(d.counts for d in draws) - (recipe.process != "minbias")
        libs = ["soft"] + [f"hard_{b:02d}" for b in range(len(pileup.hard))] + ["active"]
        extra |= {f"_uses/{name}": u for name, u in zip(libs, uses[signal is not None :], strict=False)}
    else:
        particles = signal
        npu = np.full(n, int(recipe.process == "minbias"), dtype=np.int64)
    code = PROCESS_CODES[recipe.process]
    if recipe.output == "jets":
        em, had, _ = detector.towers(particles, rng)
        em, had = calo.tower_hw(em), calo.tower_hw(had)
        out = jets.jet_arrays(
            em,
            had,
            detector.eta_centers,
            detector.jets(calo.tower_total(em, had))[:, :2],
            particles if signal is None else signal,
            truth if recipe.process in jets.TRUTH_PID else None,
        )
        return out | {"jets/process": np.full(len(out["jets/label"]), code, dtype=np.uint8)}
    l1 = detector.respond(particles, rng)
    hard = truth_arrays(signal) if signal is not None else absent(n)
    return (
        hard
        | {
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
        | extra
    )


def _work(recipe: Recipe, index: int, parts: str) -> int:
    parts_dir = Path(parts)
    pileup = _load_pileup(recipe, parts_dir) if recipe.pileup > 0 else None
    detector = Detector.from_yaml(recipe.detector)
    arrays = generate_chunk(recipe, index, pileup, detector)
    _save_npz(parts_dir / f"chunk_{index:05d}.npz", {k.replace("/", "__"): v for k, v in arrays.items()})
    return index


def _pool_map(fn: Callable[..., Any], args: list[tuple], workers: int, step: Callable[[], None]) -> None:
    """``fn(*a)`` for every ``a``, on ``workers`` processes when there is more than one task; ``step`` after each."""
    if workers > 1 and len(args) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for fut in as_completed([pool.submit(fn, *a) for a in args]):
                fut.result()
                step()
    else:
        for a in args:
            fn(*a)
            step()


def _provenance(recipe: Recipe, parts: Path, uses: dict[str, np.ndarray]) -> dict[str, Any]:
    """The pileup's attributes: library sizes, the largest share of crossings any library event is in and, for
    stratified zero bias, the cross sections and the strata with their weights."""
    out: dict[str, Any] = {"library": recipe.library_size}
    if "soft" in uses:
        out["pileup_max_share"] = float(uses["soft"].max()) / recipe.events
    if not recipe.pthat_bins:
        return out
    xs = _cross_sections(recipe, parts)
    flags = _soft_field(recipe, parts, "active")
    _, _, strata = _strata(recipe, parts, flags)
    tried = int(_soft_field(recipe, parts, "tried").sum())
    hard_share = max(float(u.max()) for k, u in uses.items() if k.startswith("hard_"))
    _, lam_bins = _lambdas(recipe, parts)
    return out | {
        "active_library_events": int(flags.sum()),
        "active_hw": zerobias.ACTIVE_HW,
        "pthat_bins": list(recipe.pthat_bins),
        "hard_library": [n for name, _, n in _library_tasks(recipe, parts) if name.startswith("hard_")],
        "hard_library_max_share": hard_share / recipe.events,
        "cross_sections_mb": xs,
        # min bias above the first edge is rejected from the soft library; the bins' cross sections predict it
        "soft_rejected_fraction": 1 - recipe.library_size / tried,
        "soft_rejected_expected": float(lam_bins.sum()) / recipe.pileup,
        "strata": [
            {
                "label": st.label,
                "pthat": list(st.pthat) if st.pthat else None,
                "crossings": st.crossings,
                "probability": st.probability,
                "weight": st.weight,
            }
            for st in strata
        ],
    }


def run(
    recipe: Recipe,
    out: str | Path,
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Generate ``recipe`` into ``out``; ``progress(done, total)`` is called as library pieces and chunks finish."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(exist_ok=True)
    stamp = parts / "recipe.json"
    if stamp.is_file() and json.loads(stamp.read_text()) != json.loads(json.dumps(asdict(recipe))):
        raise ValueError(f"{parts} holds chunks of a different recipe; remove it or choose another output")
    write_text(stamp, json.dumps(asdict(recipe)))
    detector = Detector.from_yaml(recipe.detector)
    libraries = []
    if recipe.pileup > 0:  # the shared pieces first: the settings' MPI tables and cross sections, library events
        settings = [SOFT_QCD, *(pythia.hard_qcd(*b) for b in recipe.bins())]
        tables = [(tuple(lines), str(parts), bool(recipe.pthat_bins)) for lines in settings]
        _pool_map(_setting_tables, tables, workers, lambda: None)
        libraries = [t for t in _library_tasks(recipe, parts) if not (parts / f"{t[0]}.npz").is_file()]
    done, total = 0, len(libraries)

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    _pool_map(_make_library, [(recipe, *t, str(parts)) for t in libraries], workers, step)
    # the chunks follow from the strata, and the active stratum from the soft library
    strata = _strata(recipe, parts, _soft_field(recipe, parts, "active"))[2] if recipe.pthat_bins else None
    n_chunks = len(_chunks(recipe, strata))
    todo = [i for i in range(n_chunks) if not (parts / f"chunk_{i:05d}.npz").is_file()]
    done, total = len(libraries) + n_chunks - len(todo), len(libraries) + n_chunks
    if progress:
        progress(done, total)
    _pool_map(_work, [(recipe, i, str(parts)) for i in todo], workers, step)
    chunks = []
    for i in range(n_chunks):
        with np.load(parts / f"chunk_{i:05d}.npz") as f:
            chunks.append({k.replace("__", "/"): f[k] for k in f.files})
    uses = {k.removeprefix("_uses/"): sum(c[k] for c in chunks) for k in chunks[0] if k.startswith("_uses/")}
    data = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0] if not k.startswith("_uses/")}
    from l1t import __version__

    attrs = {
        "generator": pythia.pythia_version(),
        "l1t": __version__,
        "process": recipe.process,
        "processes": list(PROCESSES),
        "settings": {"process": PROCESSES[recipe.process], "common": pythia.COMMON},
        "seed": recipe.seed,
        "pileup": recipe.pileup,
        "detector": detector.config,
    } | (_provenance(recipe, parts, uses) if recipe.pileup > 0 else {})
    if recipe.output == "jets":
        jets.write(out, data, attrs)
    else:
        dataset.write(out, dataset.EventSet(data, attrs), compression=recipe.compression)
    for f in parts.iterdir():
        f.unlink()
    parts.rmdir()
    return out
