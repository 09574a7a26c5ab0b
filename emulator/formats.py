"""Bit packing of hardware words: raw fixed-point arrays <-> packed buses <-> 64-bit link words.

One layout serves the HDL buses and the board links: element ``j`` of an event occupies bits
``[j*W, (j+1)*W)`` of the event's bit string (element 0 in the least significant bits). On links the bit string is
cut into 64-bit words, word ``k`` holding bits ``[64k, 64k+64)``; an event is one packet of ``frames`` frames on
``links`` links, word ``k`` on link ``k % links`` at frame ``k // links`` of the packet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l1t.emulator.calo import SUM_ET_BITS

__all__ = [
    "GT_CAPACITY",
    "OBJECT_WORDS",
    "Field",
    "LinkLayout",
    "field_at",
    "from_words",
    "pack_bits",
    "pack_objects",
    "to_words",
    "unpack_bits",
    "unpack_objects",
]


def _bits(raw: np.ndarray, width: int) -> np.ndarray:
    """Raw words (N, n) -> their bit strings (N, n * width) as uint8 0/1, element 0's LSB first."""
    raw = np.asarray(raw, dtype=np.int64).reshape(len(raw), -1)
    return ((raw[:, :, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(len(raw), -1)


def _words(bits: np.ndarray, n: int, width: int, signed: bool) -> np.ndarray:
    """Bit strings (N, >= n * width) -> raw words (N, n), sign-extended for signed types."""
    words = (bits[:, : n * width].reshape(len(bits), n, width).astype(np.int64) << np.arange(width)).sum(axis=2)
    if signed and width < 64:  # a 64-bit sum already wraps to the two's-complement value in int64
        half = 1 << (width - 1)  # minus 2**W as twice 2**(W-1): each fits int64 up to W = 63
        words = np.where(words >> (width - 1) & 1, words - half - half, words)
    return words


def pack_bits(raw: np.ndarray, width: int, n_bytes: int | None = None) -> np.ndarray:
    """Raw words (N, n) of ``width`` bits -> (N, n_bytes) uint8, little-endian bit string per event."""
    bits = _bits(raw, width)
    packed = np.packbits(bits, axis=1, bitorder="little")
    n_bytes = packed.shape[1] if n_bytes is None else n_bytes
    if n_bytes < packed.shape[1]:
        raise ValueError(f"{bits.shape[1] // width} x {width} bits do not fit in {n_bytes} bytes")
    return np.pad(packed, ((0, 0), (0, n_bytes - packed.shape[1])))


def unpack_bits(data: np.ndarray, n: int, width: int, signed: bool) -> np.ndarray:
    """(N, bytes) uint8 little-endian bit strings -> raw words (N, n), sign-extended for signed types."""
    data = np.asarray(data, dtype=np.uint8).reshape(len(data), -1)
    bits = np.unpackbits(data, axis=1, bitorder="little")
    if bits.shape[1] < n * width:
        raise ValueError(f"{data.shape[1]} bytes per event hold fewer than {n} x {width} bits")
    return _words(bits, n, width, signed)


Field = tuple[int, int, bool]  # (elements, width, signed)


def to_words(fields: list[tuple[np.ndarray, int]], n_words: int) -> np.ndarray:
    """Several raw arrays (N, n_i) of width W_i, concatenated bit strings -> (N, n_words) uint64 link words."""
    bits = [_bits(raw, w) for raw, w in fields]
    allbits = np.concatenate(bits, axis=1)
    if allbits.shape[1] > 64 * n_words:
        raise ValueError(f"{allbits.shape[1]} bits do not fit in {n_words} 64-bit words")
    allbits = np.pad(allbits, ((0, 0), (0, 64 * n_words - allbits.shape[1])))
    return np.packbits(allbits, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def from_words(words: np.ndarray, fields: list[Field]) -> list[np.ndarray]:
    """(N, n_words) uint64 link words -> one raw array (N, n_i) per field, in order."""
    words = np.ascontiguousarray(np.asarray(words, dtype=np.uint64)).astype("<u8")
    bits = np.unpackbits(words.view(np.uint8).reshape(len(words), -1), axis=1, bitorder="little")
    out, lo, needed = [], 0, sum(n * w for n, w, _ in fields)
    if needed > bits.shape[1]:
        raise ValueError(f"{bits.shape[1]} bits per event hold fewer than the fields' {needed}")
    for n, w, signed in fields:
        out.append(_words(bits[:, lo:], n, w, signed))
        lo += n * w
    return out


def field_at(fields: list[Field], names: list[str], bit: int) -> tuple[str, int, int]:
    """The field element holding bit ``bit`` of the concatenated string: (name, element, bit within element)."""
    lo = 0
    for (n, w, _), name in zip(fields, names, strict=True):
        if bit < lo + n * w:
            return name, (bit - lo) // w, (bit - lo) % w
        lo += n * w
    return "padding", 0, bit - lo


@dataclass(frozen=True)
class LinkLayout:
    """Where one event's bits go on the links: ``n_words`` 64-bit words over ``links`` links in ``frames`` frames."""

    n_words: int
    links: int
    frames: int

    @classmethod
    def for_bits(cls, bits: int, frames: int = 1) -> LinkLayout:
        """The fewest links that carry ``bits`` per event in ``frames`` frames."""
        if frames < 1:
            raise ValueError(f"frames per event must be at least 1, got {frames}")
        n_words = -(-bits // 64)
        return cls(n_words, -(-n_words // frames), frames)

    def to_frames(self, words: np.ndarray) -> np.ndarray:
        """(N, n_words) words -> (N * frames, links) frames; unused slots are zero."""
        slots = np.zeros((len(words), self.frames * self.links), dtype=np.uint64)
        slots[:, : self.n_words] = words
        return slots.reshape(len(words) * self.frames, self.links)

    def from_frames(self, frames: np.ndarray) -> np.ndarray:
        """(N * frames, links) frames -> (N, n_words) words."""
        frames = np.asarray(frames, dtype=np.uint64)
        if frames.shape[1] != self.links or len(frames) % self.frames:
            raise ValueError(
                f"{frames.shape[0]} frames x {frames.shape[1]} links do not make whole events of "
                f"{self.frames} frames x {self.links} links"
            )
        return frames.reshape(-1, self.frames * self.links)[:, : self.n_words]


# One 64-bit link word per GT object: (field bits, signed) from the least significant bit up; bit 63 is unused.
OBJECT_WORDS: dict[str, list[tuple[int, bool]]] = {
    "jets": [(11, False), (8, True), (8, False)],  # hwPt, hwEta, hwPhi
    "egammas": [(11, False), (8, True), (8, False), (2, False)],  # + hwIso
    "taus": [(11, False), (8, True), (8, False), (2, False)],
    "muons": [(9, False), (9, True), (10, False), (4, False)],  # hwPt, hwEta, hwPhi, hwQual
    "sums": [
        (SUM_ET_BITS, False),
        (8, False),
        (SUM_ET_BITS, False),
        (SUM_ET_BITS, False),
    ],  # hwMET, hwMETphi, hwHT, hwETT
}


# Objects per event the GT receives of each kind (one OBJECT_WORDS word each), in link order; the sums are one word
GT_CAPACITY = {"muons": 8, "egammas": 12, "taus": 12, "jets": 12, "sums": 1}


def pack_objects(objects: np.ndarray, kind: str) -> np.ndarray:
    """Objects (N, k, fields) of one kind -> (N, k) uint64 link words (``OBJECT_WORDS`` layout).

    Raises ValueError naming the field and value when a field does not fit its bits."""
    objects = np.asarray(objects, dtype=np.int64)
    word = np.zeros(objects.shape[:-1], dtype=np.uint64)
    lo = 0
    for j, (bits, signed) in enumerate(OBJECT_WORDS[kind]):
        v = objects[..., j]
        lim = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        bad = np.argwhere((v < lim[0]) | (v > lim[1]))
        if bad.size:
            raise ValueError(f"{kind} field {j}: value {int(v[tuple(bad[0])])} does not fit {bits} bits")
        word |= (v & ((1 << bits) - 1)).astype(np.uint64) << np.uint64(lo)
        lo += bits
    return word


def unpack_objects(words: np.ndarray, kind: str) -> np.ndarray:
    """(N, k) uint64 link words -> objects (N, k, fields) int32."""
    words = np.asarray(words, dtype=np.uint64)
    fields, lo = [], 0
    for bits, signed in OBJECT_WORDS[kind]:
        v = ((words >> np.uint64(lo)) & np.uint64((1 << bits) - 1)).astype(np.int64)
        if signed:
            v = np.where(v >> (bits - 1) & 1, v - (1 << bits), v)
        fields.append(v)
        lo += bits
    return np.stack(fields, axis=-1).astype(np.int32)
