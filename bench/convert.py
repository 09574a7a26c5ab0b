"""Throughput of ``l1t convert --from cms-l1ad`` against reading the same parquet alone, one run.

A parquet file in the CMS L1 anomaly-detection schema (large_list columns of hardware integers, sums as lists of
one, event ids, pileup, recorded seeds in ``seeds/``) with zero-bias-like occupancy is written first. The reference
reads every column the conversion reads into numpy (pyarrow, per record batch: the floor of any reader); the
conversion then validates every word, pads and orders the objects, and writes the l1t event file (per-input part,
then the merged, compressed output). Run: ``make bench`` or ``python bench/convert.py [--events 1000000]``."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from l1t.events.cms_l1ad import COLUMNS, EVENT_COLUMNS, PILEUP_COLUMN, SUM_COLUMNS
from l1t.events.convert import convert

OCCUPANCY = {"objects/muons": 0.3, "objects/egammas": 4.0, "objects/taus": 8.0, "objects/jets": 9.0}  # mean counts
SEEDS = [f"L1_Seed{i}" for i in range(40)]


def write_sample(path: Path, n: int, seed: int) -> Path:
    """``n`` crossings in the data set's schema, written with pyarrow as the data set is."""
    rng = np.random.default_rng(seed)
    cols: dict[str, pa.Array] = {}
    for name, (ordered, fields) in COLUMNS.items():
        cap = 8 if name.endswith("muons") else 12
        counts = np.minimum(rng.poisson(OCCUPANCY[name], n), cap)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        total = int(offsets[-1])
        for k, (col, (lo, hi)) in enumerate(fields):
            v = rng.integers(max(lo, 1) if k == 0 else lo, min(hi, 300) if k == 0 else hi, total, endpoint=True)
            if k == 0 and ordered:  # Et-ordered per crossing: sort descending within each list
                row = np.repeat(np.arange(n), counts)
                v = v[np.lexsort((-v, row))]
            cols[col] = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(v.astype(np.int32)))
    one = pa.array(np.arange(n + 1, dtype=np.int64))
    for col, (lo, hi) in SUM_COLUMNS:
        cols[col] = pa.LargeListArray.from_arrays(one, pa.array(rng.integers(lo, hi, n).astype(np.int32)))
    cols.update({c: pa.array(rng.integers(0, 1000, n).astype(np.uint32)) for c in EVENT_COLUMNS})
    cols[PILEUP_COLUMN] = pa.array(rng.uniform(40, 70, n).astype(np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)
    (path.parent / "seeds").mkdir(exist_ok=True)
    seeds = {s: pa.LargeListArray.from_arrays(one, pa.array(rng.random(n) < 0.01)) for s in SEEDS}
    pq.write_table(pa.table(seeds), path.parent / "seeds" / path.name)
    return path


def read_only(path: Path, block: int) -> int:
    """Every column the conversion reads, into numpy, per record batch (values and offsets)."""
    n = 0
    for f, names in ((path, None), (path.parent / "seeds" / path.name, SEEDS)):
        for batch in pq.ParquetFile(f).iter_batches(batch_size=block, columns=names):
            for arr in batch.columns:
                if pa.types.is_large_list(arr.type):
                    arr.flatten().to_numpy(zero_copy_only=False)
                    np.asarray(arr.offsets)
                else:
                    arr.to_numpy(zero_copy_only=False)
            n += batch.num_rows if f == path else 0
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--block", type=int, default=100_000)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        src = write_sample(Path(tmp) / "zb" / "train-00000.parquet", args.events, 1)
        size = src.stat().st_size + (src.parent / "seeds" / src.name).stat().st_size
        t0 = time.perf_counter()
        n = read_only(src, args.block)
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        m = convert("cms-l1ad", [src], Path(tmp) / "out.h5", block=args.block)
        t_conv = time.perf_counter() - t0
        assert n == m == args.events
        table = Table(title=f"{args.events:,} crossings, parquet {size / 1e6:.1f} MB (with {len(SEEDS)} seeds)")
        for col in ("step", "events/s", "time [s]", "ratio to reading"):
            table.add_column(col, justify="left" if col == "step" else "right")
        table.add_row("read the parquet alone (pyarrow -> numpy)", f"{n / t_read:,.0f}", f"{t_read:.2f}", "1.00")
        table.add_row(
            "l1t convert --from cms-l1ad (zstd)", f"{m / t_conv:,.0f}", f"{t_conv:.2f}",
            f"{t_conv / t_read:.2f}x the time",
        )  # fmt: skip
        console.print(table)


if __name__ == "__main__":
    main()
