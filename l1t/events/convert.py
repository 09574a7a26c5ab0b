"""``l1t convert``: event files of other formats into l1t event files, block by block, resumable.

Each input file becomes a part (``<out>.parts/part_<i>.h5``, written atomically), then the parts are streamed into
the output, which appears only when complete. A rerun after an interruption skips the parts already written. Memory
stays bounded by the block size whatever the inputs' sizes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l1t import __version__
from l1t.events import dataset
from l1t.events.dataset import DatasetError
from l1t.extras import require

__all__ = ["READERS", "Source", "convert"]


@dataclass
class Source:
    """One input file: the seeds whose recorded decisions it carries (None: a format without any) and its blocks
    of l1t event datasets (plus ``dataset.RECORD`` ones when ``seeds`` is not None)."""

    seeds: list[str] | None
    blocks: Callable[[int], Iterator[dict[str, np.ndarray]]]


def _adc2021(path: Path) -> Source:
    return Source(None, lambda block: dataset.adc2021_blocks(path, block))


def _cms_l1ad(path: Path) -> Source:
    from l1t.events import cms_l1ad

    f = cms_l1ad.open_file(path)
    return Source(f.seeds, f.blocks)


READERS: dict[str, tuple[Callable[[Path], Source], str]] = {
    "adc2021": (_adc2021, "ADC2021 HDF5 (Particles (N, 19, 4): MET, 4 e, 4 mu, 10 jets)"),
    "cms-l1ad": (_cms_l1ad, "CMS L1 anomaly-detection parquet (uGT inputs, run/lumi/event/bx, recorded seeds)"),
}


def _union(lists: list[list[str] | None]) -> list[str] | None:
    """The seeds of every input in first-seen order (None when no input records any)."""
    if all(s is None for s in lists):
        return None
    out: list[str] = []
    for seeds in lists:
        out += [s for s in seeds or [] if s not in out]
    return out


def _widen(decisions: np.ndarray, seeds: list[str], union: list[str]) -> np.ndarray:
    """A part's decisions (n, its seeds) in the order of ``union``; seeds it did not record are NOT_RECORDED."""
    out = np.full((len(decisions), len(union)), dataset.NOT_RECORDED, dtype=np.uint8)
    out[:, [union.index(s) for s in seeds]] = decisions
    return out


def _write_part(
    source: str,
    path: Path,
    part: Path,
    attrs: dict,
    block: int,
    compression: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """One input file into its part (written atomically); returns its events."""
    src = READERS[source][0](path)
    n = 0
    with dataset.writer(part, attrs, compression=compression, recorded_seeds=src.seeds) as append:
        for events in src.blocks(block):
            append(events)
            n += len(events["sums/hw"])
            if progress is not None:
                progress(len(events["sums/hw"]))
    return n


def _parts_on_dask(
    source: str,
    todo: list[tuple[Path, Path, dict]],
    block: int,
    compression: str,
    workers: int,
    progress: Callable[[int], None] | None,
) -> None:
    """The parts of many input files written in parallel on a local Dask cluster (one process per worker);
    ``progress`` counts each part's events as it completes. A failing input raises its own error."""
    require("studies", "converting input files in parallel")
    from distributed import Client, LocalCluster, as_completed

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        futures = [
            client.submit(_write_part, source, path, part, attrs, block, compression, pure=False)
            for path, part, attrs in todo
        ]
        for future in as_completed(futures):
            n = future.result()
            if progress is not None:
                progress(n)


def convert(
    source: str,
    inputs: list[Path],
    out: Path,
    *,
    block: int = 100_000,
    compression: str = "zstd",
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> int:
    """Convert ``inputs`` (of format ``source``, a key of ``READERS``) into the l1t event file ``out``; returns
    the number of events. ``progress(n)`` is called with the events of each block converted. The codec defaults to
    zstd: a conversion writes once, and zstd encodes ~13x faster than lz4hc (measured in ``bench/convert.py``). With
    ``workers`` > 1 the input files are converted in parallel on a local Dask cluster, then merged in order."""
    if source not in READERS:
        raise ValueError(f"unknown input format {source!r}; the formats are {', '.join(READERS)}")
    if not inputs:
        raise ValueError("no input files")
    missing = [str(p) for p in inputs if not Path(p).is_file()]
    if missing:
        raise DatasetError(f"input file(s) not found: {', '.join(missing)}")
    dataset.compression_options(compression)  # an unknown codec fails before any work
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    stamp = parts / "inputs.json"
    recipe = {"source": source, "inputs": [str(Path(p).resolve()) for p in inputs], "block": block}
    if stamp.is_file() and json.loads(stamp.read_text()) != recipe:
        raise ValueError(f"{parts} holds parts of another conversion; remove it or choose another output")
    stamp.write_text(json.dumps(recipe))
    attrs = {"source": source, "inputs": [Path(p).name for p in inputs], "l1t": __version__, "generator": "l1t convert"}
    files = [parts / f"part_{i:05d}.h5" for i in range(len(inputs))]
    todo = []
    for path, part in zip(inputs, files, strict=True):
        if part.is_file():  # written by an earlier, interrupted run
            if progress is not None:
                progress(dataset.count(part))
        else:
            todo.append((Path(path), part, {**attrs, "inputs": [Path(path).name]}))
    if workers > 1 and len(todo) > 1:
        _parts_on_dask(source, todo, block, compression, workers, progress)
    else:
        for path, part, part_attrs in todo:
            _write_part(source, path, part, part_attrs, block, compression, progress)
    if len(files) == 1:  # the one part is the output
        files[0].replace(out)
        stamp.unlink()
        parts.rmdir()
        return dataset.count(out)
    records = [dataset.read_record(part, 0, 0) for part in files]
    union = _union([None if r is None else r.seeds for r in records])
    total = 0
    with dataset.writer(out, attrs, compression=compression, recorded_seeds=union) as append:
        for part in files:
            for a in range(0, dataset.count(part), block):
                events = dataset.read(part, a, a + block).data
                if union is not None:
                    r = dataset.read_record(part, a, a + block)
                    if r is None:  # an input without a record among inputs with one
                        raise DatasetError(f"{part}: no recorded decisions, other inputs have them")
                    events |= {"record/id": r.id, "record/pileup": r.pileup}
                    events["record/decisions"] = _widen(r.decisions, r.seeds, union)
                append(events)
                total += len(events["sums/hw"])
    for f in parts.iterdir():
        f.unlink()
    parts.rmdir()
    return total
