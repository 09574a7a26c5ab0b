"""L1 hardware objects: hwPt/hwEta/hwPhi quantization, pT sorting and truncation, the AXOL1TL input vector.

Conventions (CMS Phase-1 GT-like): calo objects and sums have hwPt LSB 0.5 GeV, hwEta LSB 0.087/2 (signed),
hwPhi 144 steps of 2 pi; muons hwPt LSB 0.5 GeV, hwEta LSB 0.010875, hwPhi 576 steps. Values beyond a field's
range saturate, as the hardware does. Objects are arrays (N, k, fields) with hwPt in field 0, zero-padded.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "AXOL1TL_LAYOUT",
    "CALO",
    "GT_FIELDS",
    "MUON",
    "HwFormat",
    "axol1tl_vector",
    "gt_vector",
    "hw_eta",
    "hw_phi",
    "hw_pt",
    "scale_inputs",
    "sort_truncate",
]


class HwFormat:
    """LSBs and bit widths of one object family."""

    def __init__(self, pt_lsb: float, pt_bits: int, eta_lsb: float, eta_bits: int, phi_steps: int) -> None:
        self.pt_lsb, self.pt_bits = pt_lsb, pt_bits
        self.eta_lsb, self.eta_bits = eta_lsb, eta_bits
        self.phi_steps = phi_steps

    @property
    def pt_max(self) -> int:
        return (1 << self.pt_bits) - 1


CALO = HwFormat(pt_lsb=0.5, pt_bits=11, eta_lsb=0.087 / 2, eta_bits=8, phi_steps=144)
MUON = HwFormat(pt_lsb=0.5, pt_bits=9, eta_lsb=0.010875, eta_bits=9, phi_steps=576)


def hw_pt(pt: np.ndarray, lsb: float, bits: int) -> np.ndarray:
    """floor(pT / LSB), saturated at 2**bits - 1 (negative inputs give 0)."""
    return np.clip(np.floor(np.asarray(pt, dtype=np.float64) / lsb), 0, (1 << bits) - 1).astype(np.int32)


def hw_eta(eta: np.ndarray, lsb: float, bits: int) -> np.ndarray:
    """round(eta / LSB) as a signed ``bits``-bit integer, saturated."""
    lim = (1 << (bits - 1)) - 1
    return np.clip(np.rint(np.asarray(eta, dtype=np.float64) / lsb), -lim - 1, lim).astype(np.int32)


def hw_phi(phi: np.ndarray, steps: int) -> np.ndarray:
    """floor(phi / (2 pi / steps)) with phi taken in [0, 2 pi)."""
    x = np.mod(np.asarray(phi, dtype=np.float64), 2 * np.pi) * (steps / (2 * np.pi))
    return np.minimum(np.floor(x), steps - 1).astype(np.int32)


def sort_truncate(objects: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """Per event, the ``n`` objects of highest hwPt (field 0), in decreasing hwPt; ties keep input order.

    ``objects`` is (N, k, fields); entries with hwPt <= 0 are empty (all-zero). The result is (N, n, fields),
    zero-padded, written into ``out`` when given. Events already in order (the usual case: each upstream board sends
    its objects sorted) are only truncated; the stable sort runs on the others.
    """
    objects = np.asarray(objects)
    n_ev, k, f = objects.shape
    out = np.zeros((n_ev, n, f), dtype=objects.dtype) if out is None else out
    kept = min(n, k)
    pt = np.ascontiguousarray(objects[:, :, 0])
    rise = np.flatnonzero(pt.reshape(-1)[1:] > pt.reshape(-1)[:-1])  # i: hwPt[i + 1] > hwPt[i], events back to back
    unsorted = np.unique(rise[rise % k != k - 1] // k)  # rises inside an event, not across two
    out[:, :kept] = objects[:, :kept]
    out[:, kept:] = 0
    if len(unsorted):
        order = np.argsort(-pt[unsorted], axis=1, kind="stable")[:, :kept]
        out[unsorted, :kept] = np.take_along_axis(objects[unsorted], order[:, :, None], axis=1)
    head = out[:, :kept]
    head *= (head[:, :, 0] > 0).repeat(f).reshape(head.shape)  # a full-shape mask: no 3-wide inner loops
    return out


# (object, count) in the order of the 57 AXOL1TL inputs, each object contributing (hwPt, hwEta, hwPhi)
AXOL1TL_LAYOUT = (("met", 1), ("egammas", 4), ("muons", 4), ("jets", 10))


def axol1tl_vector(met: np.ndarray, egammas: np.ndarray, muons: np.ndarray, jets: np.ndarray) -> np.ndarray:
    """The 57-integer AXOL1TL input: MET (hwPt, 0, hwPhi), 4 egammas, 4 muons, 10 jets, pT-ordered, zero-padded.

    ``met`` is (N, 2) = (hwPt, hwPhi); the object arrays are sorted (N, k, >= 3) with (hwPt, hwEta, hwPhi) first.
    """
    n = len(met)
    out = np.empty((n, 19, 3), dtype=np.int32)  # one slot per object, filled in place
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = met[:, 0], 0, met[:, 1]
    slot = 1
    for objs, count in ((egammas, 4), (muons, 4), (jets, 10)):
        sort_truncate(objs[:, :, :3], count, out[:, slot : slot + count])
        slot += count
    return out.reshape(n, 57)


GT_FIELDS = ("sums/hw", "objects/egammas", "objects/muons", "objects/jets")  # event-file datasets of the vector


def gt_vector(events: Mapping[str, np.ndarray]) -> np.ndarray:
    """``axol1tl_vector`` of event-file datasets (``GT_FIELDS``)."""
    return axol1tl_vector(
        events["sums/hw"][:, :2], events["objects/egammas"], events["objects/muons"], events["objects/jets"]
    )


def scale_inputs(x: np.ndarray, offset: np.ndarray, shift: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Firmware input scaling: ``(x - offset) >> shift`` per feature (arithmetic shift; a negative shift is a left
    shift), saturated to [lo, hi]."""
    x = np.asarray(x, dtype=np.int64) - np.asarray(offset, dtype=np.int64)
    shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), x.shape[-1:])
    right = shift >= 0
    if right.all():
        x = x >> shift
    elif not right.any():
        x = x << -shift
    else:  # features shifted either way: each group at once
        x[..., right] >>= shift[right]
        x[..., ~right] <<= -shift[~right]
    return np.clip(x, lo, hi, out=x)
