"""The CMS Level-1 anomaly-detection data set (parquet) as l1t event blocks, word for word.

The data set (CC0; Zenodo 10.5281/zenodo.21787779, mirrored as ``CERN/anomaly_detection_cmsl1t``) holds what the
global trigger (uGT) received in 2025 zero-bias crossings and in simulated samples: one parquet row per crossing,
columns ``<collection>_<branch>`` of jagged per-crossing lists of hardware integers (bunch crossing 0 only), the
energy sums as lists of length one, the event's ``run``, ``lumi``, ``event``, ``bx`` and ``nPV_True``, and the
uGT's final decision of each unprescaled seed (``L1_*`` columns, in the file or in the row-aligned
``seeds/<same file name>`` next to it; plain booleans or lists of one). ``COLUMNS`` maps every column read to the
l1t word it becomes; the hardware words are copied unchanged (same LSBs, offsets and bin conventions as
``l1t.emulator.objects``), so the emulator's menu sees what the uGT saw:

- muons (at most 8, ordered here by hwPt as the uGT's muon inputs): ``muonIEt`` is hwPt (0.5 GeV, hwPt 0 no muon,
  pT = (hwPt - 1) x 0.5 GeV), ``muonIEtaAtVtx`` / ``muonIPhiAtVtx`` are hwEta (0.010875) / hwPhi (2 pi / 576),
  the coordinates extrapolated to the vertex that the uGT's muon conditions use; ``muonQual`` is hwQual (4 bits).
- e/gamma, tau (at most 12 each), jets (at most 12), Et-ordered as the calorimeter trigger sends them: ``IEt`` hwPt
  (0.5 GeV), ``IEta`` hwEta (0.0435, bin i spans [i, i+1)), ``IPhi`` hwPhi (2 pi / 144), ``egIso`` / ``tauIso``
  hwIso (bit 0 "Iso", bit 1 "LooseIso").
- sums: ``MET_Et``, ``MET_phi``, ``HT_Et``, ``ET_Et`` are hwMET, hwMETphi, hwHT, hwETT (0.5 GeV; 2 pi / 144).
- ``run``, ``lumi``, ``event``, ``bx`` -> record/id; ``nPV_True`` -> record/pileup (and truth/npu, rounded); the
  seed columns and ``L1bit`` (the OR of the recorded seeds) -> record/decisions.

Not in the data set, so zero in the event file: calorimeter regions and jet towers (the CICADA and tagger inputs).
An object whose hwPt is 0 (a muon marked invalid) leaves its slot empty, as in every l1t event file. Bad input is
refused naming the file, column, row and value: a missing column, a column of the wrong type, a word outside its
bits, more objects than the uGT's capacity, calorimeter objects out of Et order, a sum that is not exactly one
entry, a missing or non-boolean decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from l1t.emulator import calo
from l1t.emulator.formats import GT_CAPACITY
from l1t.emulator.objects import CALO, MUON, sort_truncate
from l1t.events.dataset import SCHEMA, DatasetError
from l1t.extras import require

__all__ = ["COLUMNS", "EVENT_COLUMNS", "SUM_COLUMNS", "CmsL1adFile", "open_file"]

_CALO_ETA = (-128, 127)
_CALO_PHI = (0, CALO.phi_steps - 1)
_ISO = (0, 3)

# l1t dataset -> (ordered in the file, [(column, (lo, hi)) per field of the l1t word])
COLUMNS: dict[str, tuple[bool, list[tuple[str, tuple[int, int]]]]] = {
    "objects/muons": (
        False,
        [
            ("muons_muonIEt", (0, MUON.pt_max)),
            ("muons_muonIEtaAtVtx", (-256, 255)),
            ("muons_muonIPhiAtVtx", (0, MUON.phi_steps - 1)),
            ("muons_muonQual", (0, 15)),
        ],
    ),
    "objects/egammas": (
        True,
        [
            ("egammas_egIEt", (0, 511)),
            ("egammas_egIEta", _CALO_ETA),
            ("egammas_egIPhi", _CALO_PHI),
            ("egammas_egIso", _ISO),
        ],
    ),
    "objects/taus": (
        True,
        [
            ("taus_tauIEt", (0, 511)),
            ("taus_tauIEta", _CALO_ETA),
            ("taus_tauIPhi", _CALO_PHI),
            ("taus_tauIso", _ISO),
        ],
    ),
    "objects/jets": (
        True,
        [("jets_jetIEt", (0, CALO.pt_max)), ("jets_jetIEta", _CALO_ETA), ("jets_jetIPhi", _CALO_PHI)],
    ),
}
# sums/hw fields, each a list of exactly one word per crossing
SUM_COLUMNS = [
    ("MET_Et", (0, calo.SUM_ET_MAX)),
    ("MET_phi", _CALO_PHI),
    ("HT_Et", (0, calo.SUM_ET_MAX)),
    ("ET_Et", (0, calo.SUM_ET_MAX)),
]
EVENT_COLUMNS = ("run", "lumi", "event", "bx")  # -> record/id, in dataset.RECORD_ID order
PILEUP_COLUMN = "nPV_True"
ORDER_COLUMN = "order"  # the data set's event index (-1: dropped by its preprocessing); aligns seeds files
L1BIT = "L1bit"


def _is_seed(name: str) -> bool:
    return name.startswith("L1_") or name == L1BIT


def _where_row(offsets: np.ndarray, flat_index: int) -> int:
    """The row of element ``flat_index`` of a list column with these (zero-based) offsets."""
    return int(np.searchsorted(offsets, flat_index, side="right")) - 1


class _Block:
    """One record batch of one file: typed access to its columns, errors naming the file, column and row."""

    def __init__(self, batch: Any, where: str, first: int) -> None:
        self.batch, self.where, self.first = batch, where, first
        self.names = set(batch.schema.names)
        self.n = batch.num_rows

    def error(self, column: str, row: int, what: str) -> DatasetError:
        return DatasetError(f"{self.where}: column {column!r}, row {self.first + row}: {what}")

    def column(self, name: str) -> Any:
        if name not in self.names:
            raise DatasetError(f"{self.where}: column {name!r} missing")
        arr = self.batch.column(name)
        if arr.null_count:
            row = int(np.flatnonzero(np.asarray(arr.is_null()))[0])
            raise self.error(name, row, "no value (null)")
        return arr

    def lists(self, name: str, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """A list-of-integers column: (offsets from 0, int64 values), every value inside [lo, hi]."""
        import pyarrow as pa

        arr = self.column(name)
        if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)) or not pa.types.is_integer(
            arr.type.value_type
        ):
            raise DatasetError(f"{self.where}: column {name!r} has type {arr.type}, expected a list of integers")
        offsets = np.asarray(arr.offsets, dtype=np.int64)
        offsets = offsets - offsets[0]
        flat = arr.flatten()
        if flat.null_count:
            i = int(np.flatnonzero(np.asarray(flat.is_null()))[0])
            raise self.error(name, _where_row(offsets, i), "a null object word")
        values = flat.to_numpy(zero_copy_only=False).astype(np.int64)
        if values.size and (values.min() < lo or values.max() > hi):
            i = int(np.flatnonzero((values < lo) | (values > hi))[0])
            raise self.error(name, _where_row(offsets, i), f"value {values[i]} outside [{lo}, {hi}]")
        return offsets, values

    def scalars(self, name: str, kind: str) -> np.ndarray:
        """A column of one number per row (``kind``: "integer" or "number")."""
        import pyarrow as pa

        arr = self.column(name)
        ok = pa.types.is_integer(arr.type) or (kind == "number" and pa.types.is_floating(arr.type))
        if not ok:
            raise DatasetError(f"{self.where}: column {name!r} has type {arr.type}, expected {kind}s")
        values = arr.to_numpy(zero_copy_only=False)
        if kind == "number" and not np.all(np.isfinite(values)):
            raise self.error(name, int(np.flatnonzero(~np.isfinite(values))[0]), "non-finite value")
        if (values < 0).any():
            row = int(np.flatnonzero(values < 0)[0])
            raise self.error(name, row, f"negative value {values[row]}")
        return values

    def decisions(self, name: str) -> np.ndarray:
        """A seed column: booleans (or 0/1), plain or as lists of exactly one."""
        import pyarrow as pa

        arr = self.column(name)
        if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            offsets = np.asarray(arr.offsets, dtype=np.int64)
            counts = np.diff(offsets)
            if (counts != 1).any():
                row = int(np.flatnonzero(counts != 1)[0])
                raise self.error(name, row, f"{counts[row]} decisions, expected exactly 1")
            arr = arr.flatten()
            if arr.null_count:
                raise self.error(name, int(np.flatnonzero(np.asarray(arr.is_null()))[0]), "no value (null)")
        if not (pa.types.is_boolean(arr.type) or pa.types.is_integer(arr.type)):
            raise DatasetError(f"{self.where}: column {name!r} has type {arr.type}, expected booleans")
        values = arr.to_numpy(zero_copy_only=False).astype(np.int64)
        if ((values != 0) & (values != 1)).any():
            row = int(np.flatnonzero((values != 0) & (values != 1))[0])
            raise self.error(name, row, f"decision {values[row]} is not 0 or 1")
        return values.astype(np.uint8)

    def objects(self, dataset: str) -> np.ndarray:
        """The l1t word array (n, capacity, fields) of one collection."""
        ordered, fields = COLUMNS[dataset]
        cap = GT_CAPACITY[dataset.split("/")[1]]
        out = np.zeros((self.n, cap, len(fields)), dtype=np.int32)
        offsets = None
        for k, (name, (lo, hi)) in enumerate(fields):
            offs, values = self.lists(name, lo, hi)
            if offsets is None:
                counts = np.diff(offs)
                if (counts > cap).any():
                    row = int(np.flatnonzero(counts > cap)[0])
                    raise self.error(name, row, f"{counts[row]} objects, more than the capacity of {cap}")
                offsets = offs
                rows = np.repeat(np.arange(self.n), counts)
                slots = np.arange(len(values)) - np.repeat(offs[:-1], counts)
            elif not np.array_equal(offs, offsets):
                row = int(np.flatnonzero(offs != offsets)[0]) - 1
                raise self.error(name, max(row, 0), f"a different object count than column {fields[0][0]!r}")
            if k == 0 and ordered and len(values) > 1:
                rising = (values[1:] > values[:-1]) & (rows[1:] == rows[:-1])
                if rising.any():
                    i = int(np.flatnonzero(rising)[0]) + 1
                    raise self.error(name, int(rows[i]), f"objects out of Et order ({values[i - 1]} then {values[i]})")
            out[rows, slots, k] = values
        out *= (out[:, :, :1] > 0).astype(np.int32)  # hwPt 0 (an invalid muon): an empty slot
        return out if ordered else sort_truncate(out, cap)

    def sums(self) -> np.ndarray:
        out = np.zeros((self.n, len(SUM_COLUMNS)), dtype=np.int32)
        for k, (name, (lo, hi)) in enumerate(SUM_COLUMNS):
            offsets, values = self.lists(name, lo, hi)
            counts = np.diff(offsets)
            if (counts != 1).any():
                row = int(np.flatnonzero(counts != 1)[0])
                raise self.error(name, row, f"{counts[row]} entries, expected exactly 1 (crossing 0's sum)")
            out[:, k] = values
        return out


@dataclass
class CmsL1adFile:
    """One parquet file of the data set (and its row-aligned seeds file, if any)."""

    path: Path
    seeds_path: Path | None
    seeds: list[str]  # the recorded decisions, in file order: the events file's seeds first

    def blocks(self, block: int) -> Iterator[dict[str, np.ndarray]]:
        """Consecutive blocks of ``block`` crossings as l1t event datasets plus record/*."""
        import pyarrow.parquet as pq

        events = pq.ParquetFile(self.path)
        own = [s for s in self.seeds if s in set(events.schema_arrow.names)]
        columns = self._columns(events.schema_arrow.names) + own
        batches = events.iter_batches(batch_size=block, columns=columns)
        side: Iterator[Any] | None = None
        extra = [s for s in self.seeds if s not in own]
        if self.seeds_path is not None:
            seeds_file = pq.ParquetFile(self.seeds_path)
            aligned = [ORDER_COLUMN] if ORDER_COLUMN in seeds_file.schema_arrow.names else []
            side = seeds_file.iter_batches(batch_size=block, columns=extra + aligned)
        first = 0
        for batch in batches:
            b = _Block(batch, str(self.path), first)
            data = self._events(b)
            decisions = [b.decisions(s) for s in own]
            if side is not None:
                s = _Block(next(side), str(self.seeds_path), first)
                if s.n != b.n:
                    raise DatasetError(f"{self.seeds_path}: {s.n} rows where {self.path} has {b.n} (row {first})")
                if ORDER_COLUMN in s.names and ORDER_COLUMN in b.names:
                    mine, theirs = (np.asarray(x.column(ORDER_COLUMN)) for x in (b, s))
                    if not np.array_equal(mine, theirs):
                        row = int(np.flatnonzero(mine != theirs)[0])
                        raise s.error(ORDER_COLUMN, row, f"{theirs[row]} where {self.path} has {mine[row]}")
                decisions += [s.decisions(name) for name in extra]
            data["record/decisions"] = np.stack(decisions, axis=1) if decisions else np.zeros((b.n, 0), dtype=np.uint8)
            first += b.n
            yield data

    @staticmethod
    def _columns(available: list[str]) -> list[str]:
        names = [c for _, fields in COLUMNS.values() for c, _ in fields]
        names += [c for c, _ in SUM_COLUMNS] + list(EVENT_COLUMNS) + [PILEUP_COLUMN]
        return names + ([ORDER_COLUMN] if ORDER_COLUMN in available else [])

    @staticmethod
    def _events(b: _Block) -> dict[str, np.ndarray]:
        n = b.n
        data = {name: b.objects(name) for name in COLUMNS}
        data["sums/hw"] = b.sums()
        data["record/id"] = np.stack([b.scalars(c, "integer").astype(np.uint64) for c in EVENT_COLUMNS], axis=1)
        pileup = b.scalars(PILEUP_COLUMN, "number").astype(np.float32)
        data["record/pileup"] = pileup
        data["truth/npu"] = np.minimum(np.rint(pileup), SCHEMA["truth/npu"][2][0][1]).astype(np.int16)
        data["truth/process"] = np.zeros(n, dtype=np.uint8)
        data["regions/et"] = np.zeros((n, *calo.REGION_GRID), dtype=np.uint16)  # not in the data set
        data["objects/jet_towers"] = np.zeros((n, 2, calo.JET_TOWERS, 4), dtype=np.int32)  # not in the data set
        return data


def open_file(path: str | Path) -> CmsL1adFile:
    """A data-set parquet file ready to stream; its seeds file is ``seeds/<name>`` next to it when that exists.
    DatasetError naming the file when it is not parquet or lacks a column."""
    require("parquet", "reading CMS L1 anomaly-detection parquet files")
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        events = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        raise DatasetError(f"{path}: not a readable parquet file ({err})") from err
    names = events.schema_arrow.names
    missing = [c for c in CmsL1adFile._columns(names) if c not in names]
    if missing:
        raise DatasetError(f"{path}: column {missing[0]!r} missing (CMS L1 AD format: {len(missing)} missing)")
    seeds = [c for c in names if _is_seed(c)]
    seeds_path = path.parent / "seeds" / path.name
    if seeds_path.is_file():
        try:
            side = pq.ParquetFile(seeds_path)
        except (OSError, pa.ArrowException) as err:
            raise DatasetError(f"{seeds_path}: not a readable parquet file ({err})") from err
        if side.metadata.num_rows != events.metadata.num_rows:
            raise DatasetError(f"{seeds_path}: {side.metadata.num_rows} rows, {path} has {events.metadata.num_rows}")
        seeds += [c for c in side.schema_arrow.names if _is_seed(c) and c not in seeds]
    else:
        seeds_path = None
    return CmsL1adFile(path, seeds_path, seeds)
