"""``l1t convert``: event files of other formats into l1t event files, block by block, resumable.

Each input file becomes a part (``<out>.parts/part_<i>.h5``, written atomically), then the parts are streamed into
the output, which appears only when complete. A rerun after an interruption skips the parts already written. Memory
stays bounded by the block size whatever the inputs' sizes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from l1t import __version__
from l1t.events import dataset
from l1t.events.dataset import DatasetError

__all__ = ["READERS", "convert"]

Reader = Callable[[Path, int], Iterator[dict[str, np.ndarray]]]
READERS: dict[str, tuple[Reader, str]] = {
    "adc2021": (dataset.adc2021_blocks, "ADC2021 HDF5 (Particles (N, 19, 4): MET, 4 e, 4 mu, 10 jets)"),
}


def convert(
    source: str,
    inputs: list[Path],
    out: Path,
    *,
    block: int = 100_000,
    compression: str = dataset.DEFAULT_COMPRESSION,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Convert ``inputs`` (of format ``source``, a key of ``READERS``) into the l1t event file ``out``; returns
    the number of events. ``progress(n)`` is called with the events of each block converted."""
    if source not in READERS:
        raise ValueError(f"unknown input format {source!r}; the formats are {', '.join(READERS)}")
    if not inputs:
        raise ValueError("no input files")
    missing = [str(p) for p in inputs if not Path(p).is_file()]
    if missing:
        raise DatasetError(f"input file(s) not found: {', '.join(missing)}")
    dataset.compression_options(compression)  # an unknown codec fails before any work
    read, _ = READERS[source]
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    stamp = parts / "inputs.json"
    recipe = {"source": source, "inputs": [str(Path(p).resolve()) for p in inputs], "block": block}
    if stamp.is_file() and json.loads(stamp.read_text()) != recipe:
        raise ValueError(f"{parts} holds parts of another conversion; remove it or choose another output")
    stamp.write_text(json.dumps(recipe))
    attrs = {"source": source, "inputs": [Path(p).name for p in inputs], "l1t": __version__, "generator": "l1t convert"}
    files = []
    for i, path in enumerate(inputs):
        part = parts / f"part_{i:05d}.h5"
        files.append(part)
        if part.is_file():  # written by an earlier, interrupted run
            if progress is not None:
                progress(len(dataset.read(part, fields=["sums/hw"])))
            continue
        with dataset.writer(part, {**attrs, "inputs": [Path(path).name]}, compression="zstd") as append:
            for events in read(Path(path), block):
                append(events)
                if progress is not None:
                    progress(len(events["sums/hw"]))
    total = 0
    with dataset.writer(out, attrs, compression=compression) as append:
        for part in files:
            for events in dataset.read_blocks(part, block=block):
                append(events)
                total += len(events["sums/hw"])
    for f in parts.iterdir():
        f.unlink()
    parts.rmdir()
    return total
