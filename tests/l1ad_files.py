"""Small parquet files in the CMS L1 anomaly-detection data set's schema, written with pyarrow as the data set
writes them: one row per crossing, ``large_list`` columns of hardware integers, sums as lists of one, event ids,
``nPV_True`` (float32 as in recorded data), ``order``, and the recorded seed decisions in ``seeds/<name>``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CAPACITY = {"muons": 8, "egammas": 12, "taus": 12, "jets": 12}
BRANCHES = {
    "muons": ("muonIEt", "muonIEtaAtVtx", "muonIPhiAtVtx", "muonQual"),
    "egammas": ("egIEt", "egIEta", "egIPhi", "egIso"),
    "taus": ("tauIEt", "tauIEta", "tauIPhi", "tauIso"),
    "jets": ("jetIEt", "jetIEta", "jetIPhi"),
}
RANGES = {  # per branch, the words drawn: (lo, hi) inclusive
    "muonIEt": (1, 300), "muonIEtaAtVtx": (-225, 225), "muonIPhiAtVtx": (0, 575), "muonQual": (0, 15),
    "egIEt": (1, 511), "egIEta": (-60, 60), "egIPhi": (0, 143), "egIso": (0, 3),
    "tauIEt": (1, 511), "tauIEta": (-60, 60), "tauIPhi": (0, 143), "tauIso": (0, 3),
    "jetIEt": (1, 2047), "jetIEta": (-100, 100), "jetIPhi": (0, 143),
}  # fmt: skip
SEEDS = ("L1_SingleMu22", "L1_SingleEG36er2p5", "L1_HTT360er", "L1_SingleJet180")


def events(n: int, seed: int, first_event: int = 1) -> dict[str, list]:
    """Column name -> per-row Python values (what pyarrow writes)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, list] = {}
    for coll, branches in BRANCHES.items():
        counts = rng.integers(0, CAPACITY[coll] + 1, n)
        counts[:3] = [0, CAPACITY[coll], 1]  # empty, full, one
        words = {b: [rng.integers(*RANGES[b], c, endpoint=True).tolist() for c in counts] for b in branches}
        if coll != "muons":  # the calorimeter trigger sends Et-ordered objects; the muons arrive unordered
            et = branches[0]
            words[et] = [sorted(v, reverse=True) for v in words[et]]
        for b in branches:
            cols[f"{coll}_{b}"] = words[b]
    for name, hi in (("MET_Et", 4095), ("MET_phi", 143), ("HT_Et", 4095), ("ET_Et", 4095), ("MHT_Et", 4095)):
        cols[name] = [[int(v)] for v in rng.integers(0, hi, n, endpoint=True)]
    cols["HT_Et"][0] = [720]  # HTT360er at threshold
    cols["run"] = [396102] * n
    cols["lumi"] = (1 + np.arange(n) // 7).tolist()
    cols["event"] = (first_event + np.arange(n)).tolist()
    cols["bx"] = rng.integers(0, 3564, n).tolist()
    cols["nPV_True"] = rng.uniform(40, 70, n).astype(np.float32).tolist()
    cols["order"] = np.arange(n).tolist()
    return cols


def write(path: Path, cols: dict[str, list], seeds: dict[str, list] | None = None, types: dict | None = None) -> Path:
    """One events file and, with ``seeds``, its ``seeds/<name>`` file (decisions as lists of one boolean)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def typed(name: str, values: list) -> pa.Array:
        if types and name in types:
            return pa.array(values, type=types[name])
        if name in ("run", "lumi", "bx"):
            return pa.array(values, type=pa.uint32())
        if name == "event":
            return pa.array(values, type=pa.uint64())
        if name == "nPV_True":
            return pa.array(values, type=pa.float32())
        if name == "order":
            return pa.array(values, type=pa.int64())
        return pa.array(values, type=pa.large_list(pa.int32()))

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({k: typed(k, v) for k, v in cols.items()}), path)
    if seeds is not None:
        side = {k: pa.array([[bool(x)] for x in v], type=pa.large_list(pa.bool_())) for k, v in seeds.items()}
        side["order"] = pa.array(cols["order"], type=pa.int64())
        (path.parent / "seeds").mkdir(exist_ok=True)
        pq.write_table(pa.table(side), path.parent / "seeds" / path.name)
    return path
