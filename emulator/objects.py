"""L1 hardware objects: hwPt/hwEta/hwPhi quantization, pT sorting and truncation, the AXOL1TL input vector.

Conventions (CMS Phase-1 GT-like, as the uGT scales define them): calo objects and sums have hwPt LSB 0.5 GeV,
hwEta LSB 0.087/2 (signed; bin i spans [i, i+1) LSB), hwPhi 144 steps of 2 pi; muons hwPt LSB 0.5 GeV with an
offset of one (hwPt 0 is no muon, pT = (hwPt - 1) x 0.5 GeV), hwEta LSB 0.010875 (bin i centred on i LSB), hwPhi
576 steps. Values beyond a field's range saturate, as the hardware does. Objects are arrays (N, k, fields) with
hwPt in field 0, zero-padded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from l1t.emulator.fixed import FixedType

__all__ = [
    "AXOL1TL_INPUTS",
    "AXOL1TL_LAYOUT",
    "AXOL1TL_OBJECTS",
    "CALO",
    "GT_FIELDS",
    "MUON",
    "HwFormat",
    "InputScaling",
    "axol1tl_vector",
    "gt_vector",
    "hw_eta",
    "hw_phi",
    "hw_pt",
    "scale_inputs",
    "sort_truncate",
]


class HwFormat:
    """LSBs, bit widths and bin conventions of one object family.

    ``pt_offset``: the hwPt of a 0 GeV object (pT = (hwPt - pt_offset) x pt_lsb; hwPt 0 is always "no object").
    ``eta_floor``: hwEta bin i spans [i, i+1) x eta_lsb (calo); otherwise it is centred on i x eta_lsb (muons)."""

    def __init__(
        self,
        pt_lsb: float,
        pt_bits: int,
        eta_lsb: float,
        eta_bits: int,
        phi_steps: int,
        pt_offset: int = 0,
        eta_floor: bool = False,
    ) -> None:
        self.pt_lsb, self.pt_bits, self.pt_offset = pt_lsb, pt_bits, pt_offset
        self.eta_lsb, self.eta_bits, self.eta_floor = eta_lsb, eta_bits, eta_floor
        self.phi_steps = phi_steps

    @property
    def pt_max(self) -> int:
        return (1 << self.pt_bits) - 1

    def pt(self, hw: np.ndarray | int) -> np.ndarray:
        """pT [GeV] of hwPt words: (hwPt - pt_offset) x pt_lsb, 0 for words below the offset."""
        return np.maximum(np.asarray(hw) - self.pt_offset, 0) * self.pt_lsb

    def hw_threshold(self, pt: float) -> int:
        """The lowest hwPt of an object with pT >= ``pt`` GeV, as the GT compares: ceil(pt / LSB) + offset
        (a 22 GeV muon seed: hwPt >= 45; a 36 GeV e/gamma seed: hwPt >= 72)."""
        return int(np.ceil(pt / self.pt_lsb - 1e-9)) + self.pt_offset

    def eta_window(self, eta_max: float) -> tuple[int, int]:
        """The hwEta bins a cut |eta| <= ``eta_max`` keeps, as the GT's eta windows do: every bin that contains a
        point of [-eta_max, eta_max] (calo 2.5: [-58, 57], i.e. |eta| <= 2.523; muon 2.3: [-211, 211])."""
        x = eta_max / self.eta_lsb
        if self.eta_floor:
            return -int(np.floor(x + 1e-9)) - 1, int(np.floor(x + 1e-9))
        hi = int(np.floor(x + 0.5 - 1e-9))
        return -hi, hi


CALO = HwFormat(pt_lsb=0.5, pt_bits=11, eta_lsb=0.087 / 2, eta_bits=8, phi_steps=144, eta_floor=True)
MUON = HwFormat(pt_lsb=0.5, pt_bits=9, eta_lsb=0.010875, eta_bits=9, phi_steps=576, pt_offset=1)


def hw_pt(pt: np.ndarray, lsb: float, bits: int, offset: int = 0) -> np.ndarray:
    """floor(pT / LSB) + offset, saturated at 2**bits - 1 (negative inputs give ``offset``)."""
    hw = np.floor(np.asarray(pt, dtype=np.float64) / lsb)
    return np.clip(hw, 0, (1 << bits) - 1 - offset).astype(np.int32) + np.int32(offset)


def hw_eta(eta: np.ndarray, lsb: float, bits: int) -> np.ndarray:
    """round(eta / LSB) as a signed ``bits``-bit integer, saturated."""
    lim = (1 << (bits - 1)) - 1
    return np.clip(np.rint(np.asarray(eta, dtype=np.float64) / lsb), -lim - 1, lim).astype(np.int32)


def hw_phi(phi: np.ndarray, steps: int) -> np.ndarray:
    """floor(phi / (2 pi / steps)) with phi taken in [0, 2 pi)."""
    x = np.mod(np.asarray(phi, dtype=np.float64), 2 * np.pi) * (steps / (2 * np.pi))
    return np.minimum(np.floor(x), steps - 1).astype(np.int32)


@numba.njit(cache=True, nogil=True, inline="always")
def _leading(objects: np.ndarray, e: int, fields: int, out: np.ndarray, slot: int, n: int, order: np.ndarray) -> None:
    """Event e: its ``n`` leading objects (first ``fields`` fields) into ``out[e, slot : slot + n]``, empties
    zeroed, in the order of a stable sort on decreasing hwPt. Objects that arrive in order (as each upstream board
    sends them) are copied directly; otherwise an insertion sort orders their indices."""
    k = objects.shape[1]
    kept = min(n, k)
    in_order = True
    for j in range(1, k):
        in_order &= objects[e, j, 0] <= objects[e, j - 1, 0]
    for j in range(k):
        order[j] = j
    if not in_order:
        for j in range(1, k):
            cur, i = j, j
            while i > 0 and objects[e, order[i - 1], 0] < objects[e, cur, 0]:  # strictly lower moves: stable
                order[i] = order[i - 1]
                i -= 1
            order[i] = cur
    for j in range(kept):
        src = order[j]
        present = objects[e, src, 0] > 0
        for c in range(fields):
            out[e, slot + j, c] = objects[e, src, c] * present
    for j in range(kept, n):
        for c in range(fields):
            out[e, slot + j, c] = 0


@numba.njit(cache=True, nogil=True)
def _sort_truncate(objects: np.ndarray, out: np.ndarray) -> None:
    order = np.empty(objects.shape[1], dtype=np.int64)
    for e in range(objects.shape[0]):
        _leading(objects, e, objects.shape[2], out, 0, out.shape[1], order)


def sort_truncate(objects: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """Per event, the ``n`` objects of highest hwPt (field 0), in decreasing hwPt; ties keep input order.

    ``objects`` is (N, k, fields); entries with hwPt <= 0 are empty (all-zero). The result is (N, n, fields),
    zero-padded, written into ``out`` when given (any integer dtype holding the words).
    """
    objects = np.asarray(objects)
    if objects.ndim != 3:
        raise ValueError(f"objects must be (N, k, fields), got shape {objects.shape}")
    out = np.empty((len(objects), n, objects.shape[2]), dtype=objects.dtype) if out is None else out
    _sort_truncate(objects, out)
    return out


# (object, count) in the order of the AXOL1TL inputs, each object contributing (hwPt, hwEta, hwPhi)
AXOL1TL_LAYOUT = (("met", 1), ("egammas", 4), ("muons", 4), ("jets", 10))
AXOL1TL_OBJECTS = sum(n for _, n in AXOL1TL_LAYOUT)
AXOL1TL_INPUTS = 3 * AXOL1TL_OBJECTS  # 57


@numba.njit(cache=True, nogil=True)
def _axol1tl_vector(
    met: np.ndarray,
    egammas: np.ndarray,
    muons: np.ndarray,
    jets: np.ndarray,
    n_egammas: int,
    n_muons: int,
    n_jets: int,
    out: np.ndarray,
) -> None:
    order = np.empty(max(egammas.shape[1], muons.shape[1], jets.shape[1]), dtype=np.int64)
    for e in range(out.shape[0]):
        out[e, 0, 0], out[e, 0, 1], out[e, 0, 2] = met[e, 0], 0, met[e, 1]
        _leading(egammas, e, 3, out, 1, n_egammas, order)
        _leading(muons, e, 3, out, 1 + n_egammas, n_muons, order)
        _leading(jets, e, 3, out, 1 + n_egammas + n_muons, n_jets, order)


def axol1tl_vector(met: np.ndarray, egammas: np.ndarray, muons: np.ndarray, jets: np.ndarray) -> np.ndarray:
    """The AXOL1TL input (``AXOL1TL_INPUTS`` integers): MET (hwPt, 0, hwPhi), 4 egammas, 4 muons, 10 jets,
    pT-ordered, zero-padded
    (``sort_truncate`` per family), one pass over the events.

    ``met`` is (N, 2) = (hwPt, hwPhi); the object arrays are (N, k, >= 3) with (hwPt, hwEta, hwPhi) first.
    """
    arrays = [np.asarray(a) for a in (met, egammas, muons, jets)]
    n = len(arrays[0])
    for name, a in zip(("met", "egammas", "muons", "jets"), arrays, strict=True):
        if len(a) != n or a.ndim != (2 if name == "met" else 3) or a.shape[-1] < (2 if name == "met" else 3):
            raise ValueError(f"axol1tl_vector: {name} has shape {a.shape} (events: {n})")
    counts = [count for _, count in AXOL1TL_LAYOUT[1:]]  # e/gammas, muons, jets after the MET slot
    out = np.empty((n, 1 + sum(counts), 3), dtype=np.int32)
    _axol1tl_vector(*arrays, *counts, out)
    return out.reshape(n, -1)


GT_FIELDS = ("sums/hw", "objects/egammas", "objects/muons", "objects/jets")  # event-file datasets of the vector


def gt_vector(events: Mapping[str, np.ndarray]) -> np.ndarray:
    """``axol1tl_vector`` of event-file datasets (``GT_FIELDS``)."""
    return axol1tl_vector(
        events["sums/hw"][:, :2], events["objects/egammas"], events["objects/muons"], events["objects/jets"]
    )


@numba.njit(cache=True, nogil=True)
def _scale_inputs(x: np.ndarray, offset: np.ndarray, shift: np.ndarray, lo: int, hi: int, out: np.ndarray) -> None:
    for e in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = np.int64(x[e, j]) - offset[j]
            v = v >> shift[j] if shift[j] >= 0 else v << -shift[j]
            out[e, j] = min(max(v, lo), hi)


def scale_inputs(x: np.ndarray, offset: np.ndarray, shift: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Firmware input scaling: ``(x - offset) >> shift`` per feature (arithmetic shift; a negative shift is a left
    shift), saturated to [lo, hi]; int64 words of x's shape (..., F)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.int64)
    features = x.shape[-1:] if x.ndim else (1,)
    offset = np.ascontiguousarray(np.broadcast_to(np.asarray(offset, dtype=np.int64), features))
    shift = np.ascontiguousarray(np.broadcast_to(np.asarray(shift, dtype=np.int64), features))
    rows = x.reshape(-1, features[0])
    out = np.empty(rows.shape, dtype=np.int64)
    _scale_inputs(rows, offset, shift, int(lo), int(hi), out)
    return out.reshape(x.shape)


@dataclass
class InputScaling:
    """The AXOL1TL firmware's input scaling per feature: ``raw = sat((x - offset) >> (shift - F))`` in the encoder's
    input type, F = ``frac_bits`` (``scale_inputs``)."""

    offset: np.ndarray  # (AXOL1TL_INPUTS,) int
    shift: np.ndarray  # (AXOL1TL_INPUTS,) int, power-of-two exponent of the feature's spread
    frac_bits: int

    def __post_init__(self) -> None:
        self.offset = np.asarray(self.offset, dtype=np.int64)
        self.shift = np.asarray(self.shift, dtype=np.int64)
        if self.offset.shape != (AXOL1TL_INPUTS,) or self.shift.shape != (AXOL1TL_INPUTS,):
            raise ValueError(
                f"AXOL1TL input scaling needs {AXOL1TL_INPUTS} offsets and shifts, "
                f"got {self.offset.shape} and {self.shift.shape}"
            )

    @classmethod
    def fit(cls, x: np.ndarray, frac_bits: int) -> InputScaling:
        """Offsets at the mean, shifts at ceil(log2 std) (>= 0) of the training inputs."""
        x = np.asarray(x, dtype=np.float64)
        offset = np.rint(x.mean(axis=0)).astype(np.int64)
        shift = np.maximum(np.ceil(np.log2(np.maximum(x.std(axis=0), 1.0))), 0).astype(np.int64)
        return cls(offset, shift, frac_bits)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InputScaling:
        return cls(np.asarray(d["offset"]), np.asarray(d["shift"]), int(d["frac_bits"]))

    def raw(self, x: np.ndarray, t: FixedType) -> np.ndarray:
        """Raw input words (N, AXOL1TL_INPUTS) of type t."""
        return scale_inputs(x, self.offset, self.shift - self.frac_bits, t.raw_min, t.raw_max)

    def as_dict(self) -> dict[str, Any]:
        return {"offset": self.offset.tolist(), "shift": self.shift.tolist(), "frac_bits": self.frac_bits}
