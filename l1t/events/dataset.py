"""The l1t HDF5 event format (write, validating read) and the ADC2021 format (import, export).

Layout, one group per stream, chunked and compressed (``compression_options``; Blosc LZ4HC by default), stored
in the narrowest integer type of each dataset's ranges (``storage_dtype``) and read back in the types below::

    /regions/et         (N, 18, 14) uint16   calo regions, hwEt LSB 0.5 GeV, 10 bits (CICADA input)
    /objects/jets       (N, 12, 3)  int32    hwPt, hwEta, hwPhi
    /objects/egammas    (N, 12, 4)  int32    hwPt, hwEta, hwPhi, hwIso
    /objects/taus       (N, 12, 4)  int32    hwPt, hwEta, hwPhi, hwIso
    /objects/muons      (N, 8, 4)   int32    hwPt, hwEta, hwPhi, hwQual
    /sums/hw            (N, 4)      int32    hwMET, hwMETphi, hwHT, hwETT
    /objects/jet_towers (N, 2, 16, 4) int32  towers of the two leading L1 jets (dR < 0.8, highest hwEt first):
                                             hwEt, dIEta, dIPhi, hwEtEm; the jet tagger's input (version 2)
    /truth/npu          (N,)        int16    pileup interactions in the crossing (real data: the lumi section's
                                             measured pileup, rounded)
    /truth/process      (N,)        uint8    index into the file attribute ``processes``

A sample combined from pieces by cross section carries a weight per crossing (``read_weights``; unweighted files
weigh 1 each)::

    /truth/weight       (N,)        float64  the crossing's weight, finite and >= 0

Generated files (version 5) carry the hard event's generator-level objects and sums (``TRUTH``, ``read_truth``;
``l1t.events.truth``): truth/muons, truth/egammas, truth/jets (N, 4, 3) float32 and truth/sums (N, 2) float32.

Real data (``l1t convert`` of recorded crossings) adds what the hardware recorded, row-aligned (``RECORD``;
``read_record``)::

    /record/id          (N, 4)      uint64   run, lumi section, event number, bunch crossing
    /record/pileup      (N,)        float32  pileup as recorded (per lumi section in data, generated in simulation)
    /record/decisions   (N, S)      uint8    the GT's final decision of each seed named in the attribute
                                             ``recorded_seeds``: 0, 1, or 255 where the input did not record it

File attributes: ``format`` = "l1t.events", ``version``, ``generator``, ``l1t``, ``process``, ``processes``,
``settings`` (JSON), ``seed``, ``pileup``, ``detector`` (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin  # registers the Blosc filter: files written with lz4hc/zstd read anywhere it is installed
import numba
import numpy as np

from l1t.atomic import atomic_path
from l1t.emulator import calo
from l1t.emulator import fixed as fx
from l1t.emulator.formats import GT_CAPACITY
from l1t.emulator.objects import CALO, MUON
from l1t.events import truth

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_COMPRESSION",
    "FORMAT",
    "NOT_RECORDED",
    "RECORD",
    "RECORD_ID",
    "TRUTH",
    "VERSION",
    "WEIGHT",
    "DatasetError",
    "EventSet",
    "Record",
    "adc2021_blocks",
    "adc2021_events",
    "check_array",
    "compression_options",
    "count",
    "export_adc2021",
    "import_adc2021",
    "open_h5",
    "read",
    "read_blocks",
    "read_record",
    "read_truth",
    "read_weights",
    "storage_dtype",
    "write",
    "writer",
]

FORMAT = "l1t.events"
VERSION = 5  # 2: objects/jet_towers; 3: words stored in the narrowest integer type of their ranges (read as before);
# 4: hwIso is the hardware's two bits (0..3), optional record/* of real data; 5: optional truth objects (TRUTH)
ADDED_IN = {"objects/jet_towers": 2}  # datasets newer than version 1; older files are read without them

# dataset -> (shape after N, dtype, per-field (lo, hi) ranges)
_calo4 = [(0, CALO.pt_max), (-128, 127), (0, CALO.phi_steps - 1), (0, 3)]  # hwIso: bit 0 Iso, bit 1 LooseIso
SCHEMA: dict[str, tuple[tuple[int, ...], str, list[tuple[int, int]]]] = {
    "regions/et": (calo.REGION_GRID, "uint16", [(0, calo.REGION_ET_MAX)]),
    "objects/jets": ((GT_CAPACITY["jets"], 3), "int32", _calo4[:3]),
    "objects/egammas": ((GT_CAPACITY["egammas"], 4), "int32", _calo4),
    "objects/taus": ((GT_CAPACITY["taus"], 4), "int32", _calo4),
    "objects/muons": (
        (GT_CAPACITY["muons"], 4),
        "int32",
        [(0, MUON.pt_max), (-256, 255), (0, MUON.phi_steps - 1), (0, 15)],
    ),
    "sums/hw": (
        (4,),
        "int32",
        [(0, calo.SUM_ET_MAX), (0, CALO.phi_steps - 1), (0, calo.SUM_ET_MAX), (0, calo.SUM_ET_MAX)],
    ),
    "objects/jet_towers": (
        (2, calo.JET_TOWERS, 4),
        "int32",
        [(0, calo.TOWER_ET_MAX), *[(-calo.JET_TOWER_HALF, calo.JET_TOWER_HALF)] * 2, (0, calo.TOWER_ET_MAX)],
    ),
    "truth/npu": ((), "int16", [(0, 1000)]),
    "truth/process": ((), "uint8", [(0, 255)]),
}


WEIGHT = "truth/weight"
RECORD_ID = ("run", "lumi", "event", "bx")
NOT_RECORDED = 255  # a record/decisions entry of a seed the input did not record for that crossing
RECORD: dict[str, tuple[tuple[int, ...] | None, str]] = {  # dataset -> (shape after N, None: (seeds,); dtype)
    "record/id": ((len(RECORD_ID),), "uint64"),
    "record/pileup": ((), "float32"),
    "record/decisions": (None, "uint8"),
}


_PHI = float(np.float32(np.pi))  # a float32 phi reaches pi rounded up
_TRUTH_OBJECT = [(0.0, 14_000.0), (-6.0, 6.0), (-_PHI, _PHI)]  # pT [GeV], eta, phi
TRUTH: dict[str, tuple[tuple[int, ...], list[tuple[float, float]]]] = {  # dataset -> (shape after N, ranges)
    **{f"truth/{family}": ((truth.N_TRUTH, 3), _TRUTH_OBJECT) for family in truth.FAMILIES},
    "truth/sums": ((len(truth.SUMS),), [(0.0, 14_000.0)]),
}


class DatasetError(ValueError):
    """A malformed event file; the message names the file, dataset and value."""


@dataclass
class EventSet:
    """N crossings of L1 content; ``data`` keyed by the schema's dataset paths."""

    data: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data["sums/hw"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]


def _check_shape(name: str, actual: tuple[int, ...], shape: tuple[int, ...], where: str, count: str = "N") -> None:
    """DatasetError naming the file and dataset unless ``actual`` is (count, *shape)."""
    if len(actual) != 1 + len(shape) or tuple(actual[1:]) != shape:
        raise DatasetError(
            f"{where}: dataset {name!r} has shape {actual}, expected ({count}, {', '.join(map(str, shape))})"
        )


def check_array(
    name: str,
    a: np.ndarray,
    shape: tuple[int, ...],
    ranges: list,
    where: str,
    row: str = "event",
    count: str = "N",
    first: int = 0,
) -> None:
    """Validate one dataset of ``row``s: shape (count, *shape), integers (or finite floats for a float schema),
    every field inside its (lo, hi); DatasetError names the file, dataset, field, value and row (``a[0]`` being
    row ``first`` of the file)."""
    _check_shape(name, a.shape, shape, where, count)
    floating = np.issubdtype(a.dtype, np.floating)
    if not floating and not np.issubdtype(a.dtype, np.integer):
        raise DatasetError(f"{where}: dataset {name!r} has dtype {a.dtype}, expected integers")
    fields = a.reshape(len(a), -1, len(ranges))
    if floating and not np.isfinite(fields).all():
        bad = np.argwhere(~np.isfinite(fields))[0]
        raise DatasetError(
            f"{where}: dataset {name!r}: non-finite value at {row} {first + int(bad[0])}, field {int(bad[-1])}"
        )
    for j, (lo, hi) in enumerate(ranges):
        v = fields[..., j]
        if v.size == 0 or (v.min() >= lo and v.max() <= hi):
            continue
        bad = np.argwhere((v < lo) | (v > hi))
        value = v[tuple(bad[0])]
        label = f" field {j}" if len(ranges) > 1 else ""
        raise DatasetError(
            f"{where}: dataset {name!r}{label}: value {value if floating else int(value)} at {row} "
            f"{first + int(bad[0, 0])} outside [{lo}, {hi}]"
        )


def _check(name: str, a: np.ndarray, where: str, first: int = 0) -> None:
    shape, _, ranges = SCHEMA[name]
    check_array(name, a, shape, ranges, where, first=first)


def storage_dtype(ranges: list[tuple[int, int]]) -> np.dtype:
    """The narrowest integer type holding every field range: what a dataset is stored as on disk. Half the bytes
    of int32 for the hardware words, so files are smaller and read faster; ``read`` returns the schema's dtype."""
    return fx.narrowest_int_dtype(min(r[0] for r in ranges), max(r[1] for r in ranges))


COMPRESSIONS = ("lz4hc", "zstd", "gzip", "none")
DEFAULT_COMPRESSION = "lz4hc"


def compression_options(name: str) -> dict[str, Any]:
    """h5py dataset options of a codec. On the zero bias of ``make demo``, counting the objects and sums a rate study
    reads (the whole file, with calo regions and jet towers, in parentheses): ``lz4hc`` (default; Blosc, LZ4HC
    level 9, byte-shuffled): 116 B/crossing (441), decodes 2.9x faster than ``zstd``, the codec for rate studies,
    which read far more than they write (it writes at ~20 us/crossing, far below the generator's cost); ``zstd``
    (Blosc, zstd level 1, bit-shuffled): 111 B/crossing (344), writes 30x faster; ``gzip`` (level 4, shuffled):
    98 B/crossing, readable by any HDF5 library without plugins, 7x slower to decode than ``lz4hc``; ``none``:
    344 B/crossing. Other HDF5 readers find the Blosc filter with
    ``HDF5_PLUGIN_PATH=$(python -c 'import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)')``."""
    if name == "lz4hc":
        return dict(hdf5plugin.Blosc(cname="lz4hc", clevel=9, shuffle=hdf5plugin.Blosc.SHUFFLE))
    if name == "zstd":
        return dict(hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=hdf5plugin.Blosc.BITSHUFFLE))
    if name == "gzip":
        return {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    if name == "none":
        return {}
    raise ValueError(f"unknown compression {name!r}; choose from {', '.join(COMPRESSIONS)}")


def write(path: str | Path, events: EventSet, chunk: int = 4096, compression: str = DEFAULT_COMPRESSION) -> Path:
    """Write an event set (validated first) atomically: a temporary file in the same directory, then rename; with
    crossing weights when ``events`` holds ``WEIGHT``. ``compression``: one of ``COMPRESSIONS`` (see
    ``compression_options``)."""
    n = len(events.data.get("sums/hw", ()))
    chunk = min(chunk, max(n, 1))
    with writer(
        path,
        events.attrs,
        chunk,
        compression,
        weighted=WEIGHT in events.data,
        with_truth=any(name in events.data for name in TRUTH),
    ) as append:
        append(events.data)
    return Path(path)


def _check_extra(name: str, a: np.ndarray, seeds: int, where: str, first: int) -> None:
    """A block of a dataset outside SCHEMA: a finite weight >= 0; truth objects inside their ranges; for record/*,
    its shape, a finite non-negative pileup, decisions 0, 1 or NOT_RECORDED."""
    if name in TRUTH:
        check_array(name, np.asarray(a), *TRUTH[name], where, first=first)
        return
    if name == WEIGHT:
        if len(a):
            check_array(name, np.asarray(a, np.float64), (), [(0, np.inf)], where, first=first)
        return
    shape = RECORD[name][0]
    _check_shape(name, a.shape, (seeds,) if shape is None else shape, where)
    if name == "record/pileup" and len(a):
        check_array(name, a, (), [(0, 1e4)], where, first=first)
    elif name == "record/decisions":
        bad = (a > 1) & (a != NOT_RECORDED)
        if bad.any():
            e, j = (int(i) for i in np.argwhere(bad)[0])
            raise DatasetError(f"{where}: dataset {name!r}: value {a[e, j]} at event {first + e}, seed {j}")


@contextmanager
def writer(
    path: str | Path,
    attrs: dict[str, Any],
    chunk: int = 4096,
    compression: str = DEFAULT_COMPRESSION,
    recorded_seeds: list[str] | None = None,
    weighted: bool = False,
    with_truth: bool = False,
) -> Iterator[Callable[[dict[str, np.ndarray]], None]]:
    """An event file written block by block, in bounded memory: ``append(data)`` validates a block (every schema
    dataset, equal lengths, values in range; errors name the dataset and the event's index in the file) and appends
    it. With ``recorded_seeds`` (real data) the blocks also carry the ``RECORD`` datasets, decisions in that seed
    order; with ``weighted`` they carry ``WEIGHT``, with ``with_truth`` the ``TRUTH`` datasets. The file appears
    at ``path`` only when the ``with`` block completes: a temporary name until then."""
    options = compression_options(compression)
    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        for k, v in attrs.items():
            f.attrs[k] = json.dumps(v) if isinstance(v, dict | list) else v
        layout = {name: (shape, storage_dtype(ranges)) for name, (shape, _, ranges) in SCHEMA.items()}
        if recorded_seeds is not None:
            f.attrs["recorded_seeds"] = json.dumps(list(recorded_seeds))
            for name, (shape, dtype) in RECORD.items():
                layout[name] = ((len(recorded_seeds),) if shape is None else shape, np.dtype(dtype))
        if weighted:
            layout[WEIGHT] = ((), np.dtype(np.float64))
        if with_truth:
            layout |= {name: (shape, np.dtype(np.float32)) for name, (shape, _) in TRUTH.items()}
        sets = {  # (a file recording no seed has decisions of width 0: its chunks keep one column)
            name: f.create_dataset(
                name,
                (0, *shape),
                dtype,
                maxshape=(None, *(None if d == 0 else d for d in shape)),
                chunks=(chunk, *(max(d, 1) for d in shape)),
                **options,
            )
            for name, (shape, dtype) in layout.items()
        }
        count = 0

        def append(data: dict[str, np.ndarray]) -> None:
            nonlocal count
            n = len(data["sums/hw"]) if "sums/hw" in data else 0
            for name in sets:
                if name not in data:
                    raise DatasetError(f"{path}: dataset {name!r} missing from the event set")
                if len(data[name]) != n:
                    raise DatasetError(f"{path}: dataset {name!r} has {len(data[name])} events, expected {n}")
                if name in SCHEMA:
                    _check(name, data[name], str(path), count)
                else:
                    _check_extra(name, data[name], len(recorded_seeds or ()), str(path), count)
            for name, d in sets.items():
                d.resize(count + n, axis=0)
                d[count:] = data[name].astype(d.dtype)
            count += n

        yield append


def count(path: str | Path) -> int:
    """The number of events of an l1t event file (format and version checked; no values read)."""
    path = Path(path)
    with open_h5(path) as f:
        return _validated(f, path, ["sums/hw"])[1]


def _read_extra(f: h5py.File, path: Path, name: str, start: int, stop: int | None, seeds: int = 0) -> np.ndarray:
    """Events [start, stop) of a dataset outside SCHEMA, checked (``_check_extra``) and aligned with sums/hw."""
    total = len(f["sums/hw"])
    if len(f[name]) != total:
        raise DatasetError(f"{path}: dataset {name!r} has {len(f[name])} events, 'sums/hw' has {total}")
    start, stop, _ = slice(start, stop).indices(total)
    a = f[name][start:stop]
    _check_extra(name, a, seeds, str(path), start)
    return a


def read_weights(path: str | Path, start: int = 0, stop: int | None = None) -> np.ndarray | None:
    """The crossings' weights (``WEIGHT``) of events [start, stop), float64; None for an unweighted file."""
    path = Path(path)
    with open_h5(path) as f:
        return None if WEIGHT not in f else _read_extra(f, path, WEIGHT, start, stop).astype(np.float64)


def read_truth(path: str | Path, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray] | None:
    """The ``TRUTH`` datasets of events [start, stop), float32; None for a file without them (older or real data)."""
    path = Path(path)
    with open_h5(path) as f:
        missing = [name for name in TRUTH if name not in f]
        if len(missing) == len(TRUTH):
            return None
        if missing:
            raise DatasetError(f"{path}: incomplete truth: {missing} missing")
        return {name: _read_extra(f, path, name, start, stop).astype(np.float32) for name in TRUTH}


@dataclass
class Record:
    """What the hardware recorded for crossings of real data (``RECORD``), row-aligned with the events."""

    id: np.ndarray  # (N, 4) uint64: run, lumi, event, bx
    pileup: np.ndarray  # (N,) float32
    decisions: np.ndarray  # (N, seeds) uint8: 0, 1, NOT_RECORDED
    seeds: list[str]


def read_record(path: str | Path, start: int = 0, stop: int | None = None) -> Record | None:
    """The ``record/*`` datasets of events [start, stop), None for a file without them (generated events)."""
    path = Path(path)
    with open_h5(path) as f:
        if "record" not in f:
            return None
        missing = [name for name in RECORD if name not in f]
        if missing or "recorded_seeds" not in f.attrs:
            raise DatasetError(f"{path}: incomplete record: {missing or 'attribute recorded_seeds'} missing")
        seeds = json.loads(f.attrs["recorded_seeds"])
        out = {name: _read_extra(f, path, name, start, stop, len(seeds)) for name in RECORD}
        return Record(out["record/id"], out["record/pileup"], out["record/decisions"], seeds)


def open_h5(path: Path) -> h5py.File:
    """An HDF5 file opened for reading; DatasetError naming the file if it cannot be."""
    try:
        return h5py.File(path, "r")
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: not a readable HDF5 file ({err})") from err


def _wanted(f: h5py.File, path: Path, fields: list[str] | None) -> list[str]:
    """The datasets to read (``sums/hw`` first: it defines the event count), after checking format and version."""
    if f.attrs.get("format") != FORMAT:
        raise DatasetError(f"{path}: attribute 'format' is {f.attrs.get('format')!r}, expected {FORMAT!r}")
    version = int(f.attrs.get("version", -1))
    if not 1 <= version <= VERSION:
        raise DatasetError(f"{path}: format version {f.attrs.get('version')!r}, this reader knows 1 to {VERSION}")
    known = [name for name in SCHEMA if ADDED_IN.get(name, 1) <= version]
    wanted = ["sums/hw", *(f for f in (fields or known) if f != "sums/hw")]
    unknown = set(wanted) - set(SCHEMA)
    if unknown:
        raise DatasetError(f"{path}: unknown datasets requested: {sorted(unknown)}")
    for name in wanted:
        if ADDED_IN.get(name, 1) > version:
            raise DatasetError(
                f"{path}: format version {version} has no dataset {name!r} (added in version {ADDED_IN[name]}); "
                "generate the file again"
            )
        if name not in f:
            raise DatasetError(f"{path}: dataset {name!r} missing")
    return wanted


def _attrs(f: h5py.File) -> dict[str, Any]:
    attrs = {}
    for k, v in f.attrs.items():
        if isinstance(v, str) and v[:1] in "[{":
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                pass
        attrs[k] = v.item() if isinstance(v, np.generic) else v
    return attrs


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _widen_in_range(a: np.ndarray, lo: np.ndarray, span: np.ndarray, out: np.ndarray) -> bool:
    """out = a (flat, into the schema's type) in one pass; True if every word lies in its field's range, i.e.
    (word - lo) taken unsigned <= span = hi - lo. lo and span are the field ranges tiled to a period that is a
    multiple of the field count; each position of the period keeps its own flag, so the loop is SIMD code."""
    period = lo.size
    rows = a.size // period
    body = rows * period
    a2, out2 = a[:body].reshape(rows, period), out[:body].reshape(rows, period)
    bad = np.zeros(period, dtype=np.uint32)
    for r in range(rows):
        for i in range(period):
            v = np.int32(a2[r, i])
            out2[r, i] = v
            bad[i] |= np.uint32(np.uint32(v - lo[i]) > span[i])
    for i in range(body, a.size):  # the tail, shorter than a period
        v = np.int32(a[i])
        out[i] = v
        bad[0] |= np.uint32(np.uint32(v - lo[i - body]) > span[i - body])
    return bad.max() == 0


def _tiled_ranges(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(lo, span) of ``_widen_in_range`` for a dataset: its field ranges repeated over 64 to 127 words."""
    ranges = np.array(SCHEMA[name][2], dtype=np.int64)
    tiles = 64 // len(ranges) + 1
    return np.tile(ranges[:, 0], tiles).astype(np.int32), np.tile(ranges[:, 1] - ranges[:, 0], tiles).astype(np.uint32)


def _validated(f: h5py.File, path: Path, fields: list[str] | None) -> tuple[list[str], int]:
    """The datasets to read and the file's event count, after checking format, version, lengths, shapes and
    storage types (the values are checked as they are read)."""
    wanted = _wanted(f, path, fields)
    total = len(f["sums/hw"])
    for name in wanted:
        d = f[name]
        if len(d) != total:
            raise DatasetError(f"{path}: dataset {name!r} has {len(d)} events, 'sums/hw' has {total}")
        _check_shape(name, d.shape, SCHEMA[name][0], str(path))
        if d.dtype.kind not in "iu" or d.dtype.itemsize > 4:
            raise DatasetError(f"{path}: dataset {name!r} has dtype {d.dtype}, expected integers of <= 32 bits")
    return wanted, total


def _stream(
    f: h5py.File,
    path: Path,
    wanted: list[str],
    start: int,
    stop: int,
    block: int,
    target: Callable[[str, int, int], np.ndarray],
) -> Iterator[tuple[int, int]]:
    """Events [start, stop) block by block: each dataset's stored words are decoded into one reused buffer, then
    widened and range-checked in one pass into ``target(name, first, count)`` (a C-contiguous array of the schema's
    type); yields (first, count) once every dataset of the block is in place."""
    stored = {name: np.empty((min(block, max(stop - start, 1)), *f[name].shape[1:]), f[name].dtype) for name in wanted}
    bounds = {name: _tiled_ranges(name) for name in wanted}
    for a in range(start, stop, block):
        m = min(block, stop - a)
        for name in wanted:
            try:
                f[name].read_direct(stored[name], np.s_[a : a + m], np.s_[:m])
            except (OSError, ValueError, TypeError) as err:
                raise DatasetError(f"{path}: dataset {name!r} cannot be read ({err})") from err
            lo, span = bounds[name]
            if not _widen_in_range(stored[name][:m].reshape(-1), lo, span, target(name, a, m).reshape(-1)):
                _check(name, stored[name][:m], str(path), a)  # names the dataset, field, value and event
        yield a, m


def read(path: str | Path, start: int = 0, stop: int | None = None, fields: list[str] | None = None) -> EventSet:
    """Read events [start, stop) of an l1t event file, validating format, schema and value ranges.

    ``fields`` limits the datasets read (``sums/hw`` is always read: it defines the event count)."""
    path = Path(path)
    with open_h5(path) as f:
        wanted, total = _validated(f, path, fields)
        start, stop, _ = slice(start, stop).indices(total)
        n = max(stop - start, 0)
        data = {name: np.empty((n, *SCHEMA[name][0]), dtype=SCHEMA[name][1]) for name in wanted}
        for _ in _stream(
            f, path, wanted, start, stop, 65_536, lambda name, a, m: data[name][a - start : a - start + m]
        ):
            pass
        return EventSet(data, _attrs(f))


def read_blocks(
    path: str | Path, start: int = 0, stop: int | None = None, fields: list[str] | None = None, block: int = 16_384
) -> Iterator[dict[str, np.ndarray]]:
    """Events [start, stop) as consecutive blocks of ``block`` crossings (the last one shorter), each validated
    as ``read`` validates: a stream over a file of any size in a few MB.

    The arrays of a block are views of buffers the next block overwrites (no allocation per block, so memory
    stays warm in cache): copy what must outlive the step."""
    path = Path(path)
    with open_h5(path) as f:
        wanted, total = _validated(f, path, fields)
        start, stop, _ = slice(start, stop).indices(total)
        out = {name: np.empty((block, *SCHEMA[name][0]), dtype=SCHEMA[name][1]) for name in wanted}
        for _, m in _stream(f, path, wanted, start, stop, block, lambda name, a, m: out[name][:m]):
            yield {name: out[name][:m] for name in wanted}


# ADC2021: Particles (N, 19, 4) = MET, 4 electrons, 4 muons, 10 jets x (pT, eta, phi, class); class 1 MET,
# 2 electron, 3 muon, 4 jet; zero-padded.
_ADC_SLOTS = (("met", 1, 1), ("egammas", 4, 2), ("muons", 4, 3), ("jets", 10, 4))


def _to_float(hw: np.ndarray, fmt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = fmt.pt(hw[..., 0])
    eta = hw[..., 1] * fmt.eta_lsb
    phi = (hw[..., 2] + 0.5) * (2 * np.pi / fmt.phi_steps)
    return pt, eta, np.where(phi > np.pi, phi - 2 * np.pi, phi)


def export_adc2021(path: str | Path, events: EventSet) -> Path:
    """Write the ADC2021 ``Particles`` array from hardware objects (floats at the centre of each hw bin). The MET slot
    is always written with its hwMETphi, also when hwMET is 0, so that an import gives back the same words."""
    n = len(events)
    out = np.zeros((n, 19, 4), dtype=np.float32)
    met = np.stack([events["sums/hw"][:, 0], np.zeros(n, dtype=np.int32), events["sums/hw"][:, 1]], axis=1)
    sources = {
        "met": (met[:, None, :], CALO),
        "egammas": (events["objects/egammas"], CALO),
        "muons": (events["objects/muons"], MUON),
        "jets": (events["objects/jets"], CALO),
    }
    slot = 0
    for name, count, cls in _ADC_SLOTS:
        hw, fmt = sources[name]
        hw = hw[:, :count]
        pt, eta, phi = _to_float(hw, fmt)
        if name == "met":
            eta = np.zeros_like(eta)
        present = np.ones(hw.shape[:-1], dtype=bool) if name == "met" else hw[..., 0] > 0
        out[:, slot : slot + count, 0] = np.where(present, pt, 0)
        out[:, slot : slot + count, 1] = np.where(present, eta, 0)
        out[:, slot : slot + count, 2] = np.where(present, phi, 0)
        out[:, slot : slot + count, 3] = np.where(present, cls, 0)
        slot += count
    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("Particles", data=out, compression="gzip")
        f.create_dataset("Particles_Names", data=np.array([b"Pt", b"Eta", b"Phi", b"Class"]))
        classes = [b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"]
        f.create_dataset("Particles_Classes", data=np.array(classes))
    return path


def adc2021_events(p: np.ndarray, where: str, first: int = 0) -> dict[str, np.ndarray]:
    """ADC2021 ``Particles`` rows (n, 19, 4) as l1t event datasets (hw values saturate as the hardware does).

    A calo slot is an object when its hwPt is positive (a pT that rounds to 0 leaves the slot empty, as an export
    writes it); a muon slot when it has a pT or its class (muon hwPt = floor(pT / 0.5 GeV) + 1); the MET slot
    always gives hwMETphi (also when hwMET is 0, and an export keeps it). Bad input raises DatasetError naming
    ``where``, the event (``p[0]`` being event ``first``), object slot and value: a non-finite
    or negative field where a pT belongs, or an object whose class is not its slot's."""
    from l1t.emulator.objects import hw_eta, hw_phi, hw_pt

    if p.ndim != 3 or p.shape[1:] != (19, 4):
        raise DatasetError(f"{where}: dataset 'Particles' has shape {p.shape}, expected (N, 19, 4)")
    p = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(p)):
        e, o, k = (int(i) for i in np.argwhere(~np.isfinite(p))[0])
        raise DatasetError(
            f"{where}: dataset 'Particles': non-finite value at event {first + e}, object {o}, field {k}"
        )
    if (p[..., 0] < 0).any():
        e, o = (int(i) for i in np.argwhere(p[..., 0] < 0)[0])
        raise DatasetError(f"{where}: dataset 'Particles': negative pT {p[e, o, 0]} at event {first + e}, object {o}")
    expected = np.repeat([cls for _, count, cls in _ADC_SLOTS], [count for _, count, _ in _ADC_SLOTS])
    wrong = (p[..., 0] > 0) & (p[..., 3] != expected)
    if wrong.any():
        e, o = (int(i) for i in np.argwhere(wrong)[0])
        raise DatasetError(
            f"{where}: dataset 'Particles': object {o} of event {first + e} has class {p[e, o, 3]:g}, its slot holds "
            f"class {expected[o]}"
        )
    n = len(p)

    def hw(block: np.ndarray, fmt, extra: int | None, always: bool = False) -> np.ndarray:
        fields = [
            hw_pt(block[..., 0], fmt.pt_lsb, fmt.pt_bits, fmt.pt_offset),
            hw_eta(block[..., 1], fmt.eta_lsb, fmt.eta_bits),
            hw_phi(block[..., 2], fmt.phi_steps),
        ]
        if extra is not None:
            fields.append(np.full(block.shape[:-1], extra, dtype=np.int32))
        # a calo pT that rounds to hwPt 0 is no object; a muon (offset 1) is one when its slot holds one: pT > 0 or
        # a 0 GeV muon written with its class, as an export writes hwPt 1
        present = np.ones(block.shape[:-1], dtype=bool) if always else (fields[0] > fmt.pt_offset)
        if fmt.pt_offset and not always:
            present |= block[..., 3] != 0
        return np.where(present[..., None], np.stack(fields, axis=-1), 0).astype(np.int32)

    def pad(a: np.ndarray, k: int) -> np.ndarray:
        return np.concatenate([a, np.zeros((n, k - a.shape[1], a.shape[2]), dtype=np.int32)], axis=1)

    met = hw(p[:, 0:1], CALO, None, always=True)[:, 0]
    return {
        "regions/et": np.zeros((n, *calo.REGION_GRID), dtype=np.uint16),  # not in ADC2021
        "objects/jets": pad(hw(p[:, 9:19], CALO, None), GT_CAPACITY["jets"]),
        "objects/egammas": pad(hw(p[:, 1:5], CALO, 1), GT_CAPACITY["egammas"]),
        "objects/taus": np.zeros((n, GT_CAPACITY["taus"], 4), dtype=np.int32),
        "objects/muons": pad(hw(p[:, 5:9], MUON, 12), GT_CAPACITY["muons"]),
        "sums/hw": np.stack(
            [np.minimum(met[:, 0], calo.SUM_ET_MAX), met[:, 2], np.zeros(n, np.int32), np.zeros(n, np.int32)], axis=1
        ).astype(np.int32),
        "objects/jet_towers": np.zeros((n, 2, calo.JET_TOWERS, 4), dtype=np.int32),  # not in ADC2021
        "truth/npu": np.zeros(n, dtype=np.int16),
        "truth/process": np.zeros(n, dtype=np.uint8),
    }


def adc2021_blocks(path: str | Path, block: int = 100_000) -> Iterator[dict[str, np.ndarray]]:
    """An ADC2021 file as consecutive blocks of l1t event datasets (``adc2021_events``), in bounded memory."""
    path = Path(path)
    with open_h5(path) as f:
        if "Particles" not in f:
            raise DatasetError(f"{path}: no dataset 'Particles' (ADC2021 format)")
        particles = f["Particles"]
        if particles.ndim != 3 or particles.shape[1:] != (19, 4):
            raise DatasetError(f"{path}: dataset 'Particles' has shape {particles.shape}, expected (N, 19, 4)")
        for a in range(0, len(particles), block):
            yield adc2021_events(particles[a : a + block], str(path), a)


def import_adc2021(path: str | Path) -> EventSet:
    """Read a whole ADC2021-format file into hardware objects (``adc2021_events``)."""
    blocks = list(adc2021_blocks(path)) or [adc2021_events(np.zeros((0, 19, 4)), str(path))]
    data = {name: np.concatenate([b[name] for b in blocks]) for name in SCHEMA}
    for name, a in data.items():
        _check(name, a, str(path))
    return EventSet(data, {"source": f"ADC2021 {Path(path).name}"})
