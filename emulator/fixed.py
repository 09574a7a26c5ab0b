"""Fixed-point types with the semantics of the ``ap_fixed.h`` / ``ap_int.h`` headers.

A hardware quantity is a numpy array of raw bits plus a :class:`FixedType`. The value of a raw integer ``r``
of type ``t`` is ``r * 2**-t.frac_bits``. Every operation works on whole arrays; there is no Python loop per
element.

Words: the raw words of a type that fits ``int64`` (signed up to 64 bits, unsigned up to 63) are ``int64``
arrays, the fast path everything is built for. Wider types (``t.wide``: up to 128 signed, 127 unsigned bits, as
hls4ml's precision inference produces for long accumulations) hold their raw words as Python ints in ``object``
arrays: exact at any width, numpy's elementwise loops, much slower, used only where a type needs it. Every
function returns the word kind of its result type. Add, subtract and multiply produce the exact ``ap_fixed``
result type and require it to fit the same 128-bit limit (cast the operands first otherwise).

Conversions follow the headers that ship with hls4ml bit for bit, including their corner cases: casts from
``double`` decode the IEEE fields as the header does (±inf saturate or wrap like ±2**1024), ``ap_int`` from
``double`` truncates toward zero (and maps negative values above -0.5 to +1, as the header does), and
``AP_WRAP`` with ``N`` saturation bits forces the top ``N`` bits as ``overflow_adjust`` does.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "LIMBS",
    "MAX_SIGNED_WIDTH",
    "MAX_UNSIGNED_WIDTH",
    "WORD_SIGNED_WIDTH",
    "WORD_UNSIGNED_WIDTH",
    "FixedArray",
    "FixedType",
    "OMode",
    "QMode",
    "add",
    "add_type",
    "ap_fixed",
    "ap_int",
    "ap_ufixed",
    "ap_uint",
    "cast",
    "compare",
    "float_words_dtype",
    "from_float",
    "from_limbs",
    "holds",
    "mul",
    "mul_type",
    "parse",
    "saturation_bounds",
    "shift_left",
    "shift_right",
    "sub",
    "sub_type",
    "to_float",
    "to_limbs",
    "words",
    "wrap",
    "wrapped_product_sums",
]

WORD_SIGNED_WIDTH = 64  # widest types whose raw words are int64
WORD_UNSIGNED_WIDTH = 63
MAX_SIGNED_WIDTH = 128  # widest types at all: raw words of wider ones are Python ints (a 128-bit signed range)
MAX_UNSIGNED_WIDTH = 127


class QMode(enum.Enum):
    """Quantization (rounding) modes of ``ap_fixed``."""

    TRN = "AP_TRN"
    TRN_ZERO = "AP_TRN_ZERO"
    RND = "AP_RND"
    RND_ZERO = "AP_RND_ZERO"
    RND_MIN_INF = "AP_RND_MIN_INF"
    RND_INF = "AP_RND_INF"
    RND_CONV = "AP_RND_CONV"


class OMode(enum.Enum):
    """Overflow modes of ``ap_fixed``."""

    WRAP = "AP_WRAP"
    SAT = "AP_SAT"
    SAT_ZERO = "AP_SAT_ZERO"
    SAT_SYM = "AP_SAT_SYM"


def _mode(enum_cls: type[enum.Enum], name: str | enum.Enum) -> enum.Enum:
    if isinstance(name, enum_cls):
        return name
    key = str(name).strip().upper()
    key = key[3:] if key.startswith("AP_") else key
    try:
        return enum_cls[key]
    except KeyError:
        choices = ", ".join(m.name for m in enum_cls)
        raise ValueError(f"unknown {enum_cls.__name__} {name!r}; expected one of {choices}") from None


@dataclass(frozen=True)
class FixedType:
    """``ap_fixed<W, I, Q, O, N>`` / ``ap_ufixed`` / ``ap_int<W>`` / ``ap_uint<W>``.

    ``integer=True`` marks the C++ ``ap_int``/``ap_uint`` family: numerically ``ap_fixed<W, W>``, but
    conversions into it truncate toward zero as C integer conversion does.
    """

    width: int
    int_bits: int
    signed: bool = True
    q_mode: QMode = QMode.TRN
    o_mode: OMode = OMode.WRAP
    n_bits: int = 0
    integer: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "q_mode", _mode(QMode, self.q_mode))
        object.__setattr__(self, "o_mode", _mode(OMode, self.o_mode))
        limit = MAX_SIGNED_WIDTH if self.signed else MAX_UNSIGNED_WIDTH
        if not 1 <= self.width <= limit:
            kind = "signed" if self.signed else "unsigned"
            raise ValueError(f"{self}: width {self.width} out of range; {kind} types have 1 <= W <= {limit}")
        if not 0 <= self.n_bits <= self.width:
            raise ValueError(f"{self}: saturation bits N={self.n_bits} must be within 0..{self.width}")
        if self.integer and (
            self.int_bits != self.width or self.q_mode is not QMode.TRN or self.o_mode is not OMode.WRAP
        ):
            raise ValueError(f"ap_int types have I == W and default modes, got {self!r}")

    @property
    def wide(self) -> bool:
        """Raw words past int64: held as Python ints in object arrays."""
        return self.width > (WORD_SIGNED_WIDTH if self.signed else WORD_UNSIGNED_WIDTH)

    @property
    def wraps(self) -> bool:
        """Assignment to this type wraps modulo 2**W (AP_WRAP without saturation bits): sums into it commute."""
        return self.o_mode is OMode.WRAP and self.n_bits == 0

    @property
    def frac_bits(self) -> int:
        """F = W - I: the raw value is the real value times 2**F."""
        return self.width - self.int_bits

    @property
    def raw_min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def raw_max(self) -> int:
        return (1 << (self.width - self.signed)) - 1

    @property
    def lsb(self) -> float:
        return float(np.ldexp(1.0, -self.frac_bits))

    @property
    def min(self) -> float:
        return float(np.ldexp(float(self.raw_min), -self.frac_bits))

    @property
    def max(self) -> float:
        return float(np.ldexp(float(self.raw_max), -self.frac_bits))

    def __str__(self) -> str:
        if self.integer:
            return f"ap_{'' if self.signed else 'u'}int<{self.width}>"
        args = [str(self.width), str(self.int_bits)]
        tail = [self.q_mode.value, self.o_mode.value, str(self.n_bits)]
        defaults = [QMode.TRN.value, OMode.WRAP.value, "0"]
        while tail and tail[-1] == defaults[len(tail) - 1]:
            tail.pop()
        return f"ap_{'' if self.signed else 'u'}fixed<{','.join(args + tail)}>"

    def __repr__(self) -> str:
        return str(self)


def ap_fixed(
    width: int, int_bits: int, q_mode: QMode | str = QMode.TRN, o_mode: OMode | str = OMode.WRAP, n_bits: int = 0
) -> FixedType:
    """Signed ``ap_fixed<W, I, Q, O, N>``."""
    return FixedType(width, int_bits, True, q_mode, o_mode, n_bits)


def ap_ufixed(
    width: int, int_bits: int, q_mode: QMode | str = QMode.TRN, o_mode: OMode | str = OMode.WRAP, n_bits: int = 0
) -> FixedType:
    """Unsigned ``ap_ufixed<W, I, Q, O, N>``."""
    return FixedType(width, int_bits, False, q_mode, o_mode, n_bits)


def ap_int(width: int) -> FixedType:
    """Signed ``ap_int<W>``."""
    return FixedType(width, width, True, integer=True)


def ap_uint(width: int) -> FixedType:
    """Unsigned ``ap_uint<W>``."""
    return FixedType(width, width, False, integer=True)


_TYPE_RE = re.compile(r"^\s*(?:ap_)?(u?)(fixed|int)\s*<(.*)>\s*$", re.IGNORECASE)


# ap_decl.h's enum ap_o_mode in declaration order: a deployed type may pass one as the int N (``AP_SAT`` is 0)
_O_MODE_VALUES = {"AP_SAT": 0, "AP_SAT_ZERO": 1, "AP_SAT_SYM": 2, "AP_WRAP": 3, "AP_WRAP_SM": 4}


def _saturation_bits(arg: str) -> int:
    """The N argument of ``ap_fixed<W,I,Q,O,N>``: an integer, or an ``ap_o_mode`` enumerator converted to int as
    C++ converts it."""
    return _O_MODE_VALUES[arg] if arg in _O_MODE_VALUES else int(arg)


def holds(outer: FixedType, inner: FixedType) -> bool:
    """Every value of ``inner`` is a value of ``outer`` (a cast from ``inner`` to ``outer`` never rounds or
    overflows). Python ints: raw words of up to 128 bits shift without overflow."""
    shift = outer.frac_bits - inner.frac_bits
    return shift >= 0 and outer.raw_min <= inner.raw_min << shift and inner.raw_max << shift <= outer.raw_max


def parse(text: str) -> FixedType:
    """Parse a C++ or hls4ml precision string.

    Accepts ``ap_fixed<16,6>``, ``ap_ufixed<10,6,AP_RND_CONV,AP_SAT>``, hls4ml's ``fixed<8,3,RND,SAT>``,
    ``ap_int<8>``, ``uint<10>`` and the like.
    """
    m = _TYPE_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"cannot parse precision {text!r}: expected e.g. 'ap_fixed<16,6>' or 'ap_uint<10>'")
    unsigned, family, body = m.group(1), m.group(2).lower(), m.group(3)
    args = [a.strip() for a in body.split(",")]
    try:
        if family == "int":
            if len(args) != 1:
                raise ValueError("integer types take exactly one argument <W>")
            return FixedType(int(args[0]), int(args[0]), not unsigned, integer=True)
        if not 2 <= len(args) <= 5:
            raise ValueError("fixed types take <W,I[,Q[,O[,N]]]>")
        width, int_bits = int(args[0]), int(args[1])
        q_mode = _mode(QMode, args[2]) if len(args) > 2 else QMode.TRN
        o_mode = _mode(OMode, args[3]) if len(args) > 3 else OMode.WRAP
        n_bits = _saturation_bits(args[4]) if len(args) > 4 else 0
        return FixedType(width, int_bits, not unsigned, q_mode, o_mode, n_bits)
    except ValueError as err:
        raise ValueError(f"cannot parse precision {text!r}: {err}") from None


TypeLike = FixedType | str


def _as_type(t: TypeLike) -> FixedType:
    return t if isinstance(t, FixedType) else parse(t)


def _exact(a: ArrayLike) -> np.ndarray:
    """Raw words as Python ints (an object array): exact under any shift, sum or product."""
    a = np.asarray(a)
    return a if a.dtype == object else a.astype(np.int64).astype(object)


def words(raw: ArrayLike, t: TypeLike) -> np.ndarray:
    """Raw words in the kind of type t: int64, or Python ints (an object array) for a wide type. The values must
    already be t's raw words (float words too: see ``float_words_dtype``); an int64 array of a narrow type is
    returned as it is."""
    t = _as_type(t)
    return _exact(raw) if t.wide else np.asarray(raw, dtype=np.int64)


_NARROW_INTS = tuple(np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.int32))


def narrowest_int_dtype(lo: int, hi: int) -> np.dtype:
    """The narrowest of uint8, int8, uint16, int16 and int32 holding every integer in [lo, hi], else int64."""
    for dtype in _NARROW_INTS:
        if np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
            return dtype
    return np.dtype(np.int64)


def word_dtype(t: TypeLike) -> np.dtype:
    """The narrowest integer dtype holding every raw word of t (``narrowest_int_dtype``); object for a wide type.
    Hardware words as event files keep them: ``Network.run`` reads them without widening them to int64 first."""
    t = _as_type(t)
    return np.dtype(object) if t.wide else narrowest_int_dtype(t.raw_min, t.raw_max)


_FLOAT_EXACT = ((np.dtype(np.float32), 24), (np.dtype(np.float64), 53))  # (dtype, its significand bits)


def float_words_dtype(t: TypeLike, at_least: np.dtype | None = None) -> np.dtype | None:
    """The narrowest float type (no narrower than ``at_least``) holding every raw word of t exactly, or None.

    Float words: raw words held as integer values in a float32 (|word| <= 2**24) or float64 (<= 2**53) array. They
    feed BLAS products without a conversion; ``cast`` reads them and returns float words where the target's words
    fit, so a chain of products and activations stays in one float type instead of converting to int64 and back.
    """
    t = _as_type(t)
    reach = max(-t.raw_min, t.raw_max)
    for dtype, bits in _FLOAT_EXACT:
        if reach <= 2**bits and (at_least is None or dtype.itemsize >= at_least.itemsize):
            return dtype
    return None


def _ints(raw: np.ndarray) -> np.ndarray:
    """Float words as int64 (exact: their values are integers); other arrays as they are."""
    return raw.astype(np.int64) if raw.dtype.kind == "f" else raw


LIMBS = MAX_SIGNED_WIDTH // 64  # int64 words that carry a raw word of any type to C++ (l1t.cpp's set_raw2/raw_of2)


def to_limbs(raw: ArrayLike) -> np.ndarray:
    """Raw words (int64 or Python ints) as ``LIMBS`` int64 on a new last axis: the low 64 bits as a signed word, then
    the rest."""
    exact = _exact(raw)
    low = ((exact & ((1 << 64) - 1)) ^ (1 << 63)) - (1 << 63)
    return np.ascontiguousarray(np.stack([low, exact >> 64], axis=-1).astype(np.int64))


def from_limbs(limbs: np.ndarray) -> np.ndarray:
    """``to_limbs`` undone: the raw words as Python ints (an object array)."""
    pairs = np.asarray(limbs).astype(object)
    return (pairs[..., 1] << 64) + (pairs[..., 0] & ((1 << 64) - 1))


def _is_exact(a: ArrayLike) -> bool:
    return np.asarray(a).dtype == object


# ---------------------------------------------------------------------------------------------------------
# Conversion core: every cast into a fixed type goes through _convert.
#
# The source value is m * 2**-k in units of the target LSB, with m an int64 array (|m| <= 2**63) and k an
# integer or int64 array. Right shifts (k > 0) drop bits and round; left shifts (k < 0) are exact or overflow.
# numpy defines shifts by >= 64 (0 for <<, sign fill for >>), which the kernels below rely on.
# ---------------------------------------------------------------------------------------------------------


def _increment(q: QMode, half: np.ndarray, sticky: np.ndarray, neg: np.ndarray, lsb: np.ndarray) -> np.ndarray | int:
    """Rounding increment of mode q from the first dropped bit (half), any later dropped bit (sticky), the sign of
    the source and the LSB of the truncated (floor) result, as quantization_adjust decides it."""
    if q is QMode.TRN:
        return 0
    if q is QMode.RND:
        return half
    if q is QMode.RND_ZERO:
        return half & (neg | sticky)
    if q is QMode.RND_MIN_INF:
        return half & sticky
    if q is QMode.RND_INF:
        return half & (~neg | sticky)
    if q is QMode.RND_CONV:
        return half & (lsb | sticky)
    return neg & (half | sticky)  # TRN_ZERO


def _round_shift(m: np.ndarray, k: np.ndarray | int, q: QMode) -> np.ndarray:
    """floor(m / 2**k) plus the rounding increment of ``q``; requires k >= 1.

    The result has |r| <= 2**62 + 1, so no int64 overflow can occur.
    """
    j = k - 1
    t = m >> j  # floor(m / 2**(k-1)): the kept bits and the first dropped bit ("half")
    r = t >> 1
    if q is QMode.TRN:
        return r
    half = (t & 1).astype(bool)
    sticky = m != (t << j)  # any dropped bit below "half"
    increment = np.asarray(_increment(q, half, sticky, m < 0, (r & 1).astype(bool)))
    return r + (increment.astype(object) if r.dtype == object else increment)  # Python ints stay Python ints


_Q_CODE = {
    QMode.TRN: 0,
    QMode.TRN_ZERO: 1,
    QMode.RND: 2,
    QMode.RND_ZERO: 3,
    QMode.RND_MIN_INF: 4,
    QMode.RND_INF: 5,
    QMode.RND_CONV: 6,
}
_KEEP, _CLIP, _WRAP = 0, 1, 2  # what _cast_words does after rounding


@numba.njit(cache=True, nogil=True, inline="always")
def _round_word(v: int, k: int, q: int, h: int) -> int:
    """v * 2**-k rounded by mode ``q`` (a ``_Q_CODE``), h = 2**(k-1): one add and one arithmetic shift. RND adds h,
    RND_MIN_INF h-1, RND_ZERO h-1 (+1 if negative), RND_INF h (-1 if negative), RND_CONV h-1 (+1 if the kept LSB is
    odd), TRN_ZERO 2**k-1 if negative, TRN nothing; |v| + 2**k must stay below 2**63."""
    if q == 1:  # TRN_ZERO
        v += (v >> 63) & ((h << 1) - 1)
    elif q == 2:  # RND
        v += h
    elif q == 3:  # RND_ZERO
        v += h - 1 + (v < 0)
    elif q == 4:  # RND_MIN_INF
        v += h - 1
    elif q == 5:  # RND_INF
        v += h - (v < 0)
    elif q == 6:  # RND_CONV
        v += ((v >> k) & 1) + h - 1
    return v >> k


@functools.cache
def _cast_words(q: int, after: int) -> Callable[..., None]:
    """The kernel ``kernel(m, k, lo, hi, mask, half, out)``: out = m * 2**-k rounded by mode ``q`` (a ``_Q_CODE``,
    ``_round_word``), then kept, clipped to [lo, hi] or wrapped to the word ``mask`` (``half`` = its sign bit for a
    signed type, 0 otherwise) as ``after`` says; 1 <= k <= 61 and |m| <= 2**61. One pass, no temporaries.

    One kernel per (q, after), compiled on first use: with the mode and the overflow step constants of the
    compiled loop it has no branch per word and runs about twice as fast as one kernel that tests both per word.
    numba's cache keys a closure by its variables' values, so each pair is cached on its own."""

    @numba.njit(cache=True, nogil=True)
    def kernel(m: np.ndarray, k: int, lo: int, hi: int, mask: int, half: int, out: np.ndarray) -> None:
        h = np.int64(1) << (k - 1)
        for i in range(m.size):  # m and out: int64 or float words (exact integers), converted in registers
            v = _round_word(np.int64(m[i]), k, q, h)
            if after == 1:
                v = min(max(v, lo), hi)
            elif after == 2:
                v &= mask
                if half and v >= half:
                    v -= half
                    v -= half
            out[i] = v

    return kernel


@numba.njit(cache=True, nogil=True)
def _rounded_product_sums(x: np.ndarray, w: np.ndarray, k: int, q: int, out: np.ndarray) -> None:
    """out[e, j] += sum_i round(x[e, i] * w[i, j] * 2**-k) (``_round_word``), in int64 arithmetic modulo 2**64."""
    h = np.int64(1) << (k - 1)
    for e in range(x.shape[0]):
        for i in range(x.shape[1]):
            xi = x[e, i]
            for j in range(w.shape[1]):
                out[e, j] += _round_word(xi * w[i, j], k, q, h)


def wrapped_product_sums(
    x: np.ndarray, x_t: FixedType, w: np.ndarray, w_t: FixedType, bias: np.ndarray, acc_t: FixedType
) -> np.ndarray | None:
    """``bias_j + sum_i acc_t(x_i * w_ij)`` for a wrapping ``acc_t`` (AP_WRAP, no saturation bits) with fewer
    fraction bits than the products: each product rounded into acc_t on its own, the sum wrapped, which is the same
    in any order. x: (..., n) raw words of x_t, w: (n, m) of w_t, bias: (m,) of acc_t. None where the compiled
    kernel's limits do not hold (products past 62 bits, or a type past int64): the caller computes it otherwise."""
    p_t = mul_type(x_t, w_t)
    k = p_t.frac_bits - acc_t.frac_bits
    if not acc_t.wraps or not 1 <= k <= 61 or p_t.width > 62 or acc_t.wide:
        return None
    rows = np.ascontiguousarray(x, dtype=np.int64).reshape(-1, x.shape[-1])
    out = np.empty((rows.shape[0], w.shape[1]), dtype=np.int64)
    out[:] = np.asarray(bias, dtype=np.int64)
    _rounded_product_sums(rows, np.ascontiguousarray(w, dtype=np.int64), k, _Q_CODE[acc_t.q_mode], out)
    return wrap(out, acc_t).reshape(*x.shape[:-1], w.shape[1])


def _round_cast(raw: np.ndarray, k: int, dst: FixedType, after: int) -> np.ndarray:
    """``_cast_words`` over an array of any shape (1 <= k <= 61, |raw| <= 2**61): int64 words to int64, float
    words to float words where dst's words fit a float type at least as wide, else to int64."""
    lo, hi = saturation_bounds(dst)
    mask, half = 0, 0
    if after == _WRAP:  # dst.width < 64
        mask = (1 << dst.width) - 1
        half = 1 << (dst.width - 1) if dst.signed else 0
    flat = np.ascontiguousarray(raw).reshape(-1)
    floats = float_words_dtype(dst, flat.dtype) if flat.dtype.kind == "f" else None
    out = np.empty(flat.shape, dtype=floats or np.int64)
    _cast_words(_Q_CODE[dst.q_mode], after)(flat, k, lo, hi, mask, half, out)
    return out.reshape(np.shape(raw))


def wrap(v: np.ndarray, t: FixedType) -> np.ndarray:
    """The low W bits of raw words v, sign-extended for signed types: AP_WRAP without rounding."""
    if t.wide or _is_exact(v):
        r = _exact(v) & ((1 << t.width) - 1)
        if t.signed:  # subtract 2**W where the sign bit is set
            r = r - ((r >> (t.width - 1)) << t.width)
        return words(r, t)
    drop = 64 - t.width
    if drop == 0:
        return v
    if t.signed:
        return (v << drop) >> drop
    return v & ((1 << t.width) - 1)


def _convert(m: np.ndarray, k: np.ndarray | int, dst: FixedType) -> np.ndarray:
    """Raw bits of dst for the exact value m * 2**-k (target LSB units), with dst's Q and O modes."""
    if dst.wide or _is_exact(m):
        return _convert_exact(m, k, dst)
    m = np.asarray(m, dtype=np.int64)
    if np.ndim(k) == 0:
        if k > 0:
            v, fits = _round_shift(m, int(k), dst.q_mode), None
        else:
            v = m << -int(k)
            fits = None if k == 0 else (v >> -int(k)) == m
    else:
        k = np.asarray(k, dtype=np.int64)
        shift_left = k <= 0
        if not shift_left.any():
            v, fits = _round_shift(m, k, dst.q_mode), None
        else:
            sl = np.where(shift_left, -k, 0)
            v = m << sl
            fits = (v >> sl) == m
            if not shift_left.all():
                v = np.where(shift_left, v, _round_shift(m, np.maximum(k, 1), dst.q_mode))
    return _overflow(v, dst, fits, m)


def _convert_exact(m: ArrayLike, k: np.ndarray | int, dst: FixedType) -> np.ndarray:
    """``_convert`` on Python ints, for sources or targets past int64: no intermediate can overflow."""
    m = _exact(m)
    if np.ndim(k) == 0:
        v = _round_shift(m, int(k), dst.q_mode) if k > 0 else m << -int(k)
    else:
        k = _exact(k)
        v = np.where(k > 0, _round_shift(m, np.maximum(k, 1), dst.q_mode), m << np.maximum(-k, 0))
    return words(_overflow(v, dst), dst)


def saturation_bounds(t: FixedType) -> tuple[int, int]:
    """Raw range a value keeps without overflow handling: SAT_SYM on a signed type excludes the minimum."""
    if t.o_mode is OMode.SAT_SYM and t.signed:
        return t.raw_min | 1, t.raw_max  # overflow_adjust saturates underflow to min | 1: -max, or -1 for W == 1
    return t.raw_min, t.raw_max


def _overflow(v: np.ndarray, t: FixedType, fits: np.ndarray | None = None, m: np.ndarray | None = None) -> np.ndarray:
    """Apply t's overflow mode to v, the exact value (or, where ``fits`` is False, its low 64 bits; the sign of
    the value is then that of ``m``)."""
    lo, hi = saturation_bounds(t)
    if fits is None:
        if t.wraps:
            return wrap(v, t)
        if t.o_mode in (OMode.SAT, OMode.SAT_SYM) and not _is_exact(v):  # v is the caller's temporary: clipped in place
            return np.clip(v, lo, hi, out=v) if isinstance(v, np.ndarray) and v.ndim else np.clip(v, lo, hi)
    over = v > hi
    under = v < lo
    if fits is not None:
        over = np.where(fits, over, m > 0)
        under = np.where(fits, under, m < 0)
    if t.o_mode is OMode.WRAP:
        raw = wrap(v, t)
        if t.n_bits:
            raw = _wrap_saturation_bits(raw, over, under, t)
        return raw
    if t.o_mode is OMode.SAT_ZERO:
        return np.where(over | under, 0, v)
    return np.where(over, hi, np.where(under, lo, v))


def _i64(bits: int) -> np.int64:
    """A 64-bit pattern given as a non-negative Python int, as int64."""
    return np.int64(bits - (1 << 64) if bits >= 1 << 63 else bits)


def _pattern(bits: int, like: np.ndarray) -> int | np.int64:
    """A bit pattern (any Python int, ~x included) as an operand for the raw words ``like``."""
    return bits if like.dtype == object else _i64(bits & ((1 << 64) - 1))


def _wrap_saturation_bits(raw: np.ndarray, over: np.ndarray, under: np.ndarray, t: FixedType) -> np.ndarray:
    """AP_WRAP with N saturation bits, as overflow_adjust sets them on overflow or underflow."""
    hit = over | under
    top = ((1 << t.n_bits) - 1) << (t.width - t.n_bits)  # the N most significant bits of the raw word
    if not t.signed:
        return np.where(hit, raw | _pattern(top, raw), raw)  # the header sets them to ones in both directions
    # signed: MSB <- sign of the source, the N-1 bits below it <- its complement
    sign_bit = 1 << (t.width - 1)
    kept = raw & _pattern(~top, raw)
    forced = np.where(under, kept | _pattern(sign_bit, raw), kept | _pattern(top ^ sign_bit, raw))
    return np.where(hit, wrap(forced, t), raw)


def from_float(x: ArrayLike, t: TypeLike) -> np.ndarray:
    """Raw bits of ``t(x)`` for each float64 ``x``, exactly as the ``ap_fixed(double)`` constructor.

    NaN has no fixed-point value and raises ``ValueError`` with its position.
    """
    t = _as_type(t)
    x = np.asarray(x, dtype=np.float64)
    if t.wide:
        _check_nan(x, t)
        return _from_float_bits(x, t)
    if not t.integer:
        with np.errstate(over="ignore", under="ignore"):  # such values take the bit path below
            y = _scale(x, t.frac_bits)
        if x.size and t.frac_bits >= 0:  # scaling up never underflows: only the magnitude limits exactness
            low, high = y.min(), y.max()  # NaN propagates into both
            if -(2.0**62) < low and high < 2.0**62:
                lo, hi = saturation_bounds(t)
                small = -(2.0**31) <= low and high < 2.0**31 - 1
                return _from_scaled_float(y, t, in_range=lo <= np.floor(low) and np.floor(high) + 1 <= hi, small=small)
    _check_nan(x, t)
    if not t.integer:
        magnitude = np.abs(y)
        exact = (magnitude < 2.0**62) & ((magnitude > 2.0**-1000) | (x == 0))
        if exact.all():
            return _from_scaled_float(y, t)
        if exact.any():
            return np.where(exact, _from_scaled_float(np.where(exact, y, 0.0), t), _from_float_bits(x, t))
    return _from_float_bits(x, t)


def _check_nan(x: np.ndarray, t: FixedType) -> None:
    nan = np.isnan(x)
    if nan.any():
        first = tuple(int(i) for i in np.argwhere(nan)[0])
        raise ValueError(f"cannot convert NaN to {t}: {int(nan.sum())} NaN value(s), first at index {first}")


def _from_scaled_float(y: np.ndarray, t: FixedType, in_range: bool = False, small: bool = False) -> np.ndarray:
    """Cast of doubles already scaled by 2**F, exact for 2**-1000 < |y| < 2**62 (or y == 0).

    floor(y) and y - floor(y) are exact in float64 there, so the rounding bits come from the exact fraction.
    ``in_range``: the caller has shown that floor(y) + 1 cannot leave the target range, so no overflow handling.
    ``small``: |y| < 2**31, so the conversion goes through int32 (SIMD float64 -> int32 -> int64 conversions).
    y is a temporary of the caller's: truncation floors it in place.
    """
    floor = np.floor(y, out=y) if t.q_mode is QMode.TRN and y.ndim else np.floor(y)
    r = floor.astype(np.int32).astype(np.int64) if small else floor.astype(np.int64)
    if t.q_mode is not QMode.TRN:
        frac = y - floor
        half = frac >= 0.5
        sticky = (frac != 0.0) & (frac != 0.5)
        r = r + _increment(t.q_mode, half, sticky, y < 0, (r & 1).astype(bool))
    return r if in_range else _overflow(r, t)


def _from_float_bits(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Cast of doubles from their IEEE fields, as the header decodes them (any magnitude, ±inf)."""
    bits = x.view(np.uint64) if x.ndim else x.reshape(1).view(np.uint64)
    expf = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    man = (bits & np.uint64((1 << 52) - 1)).astype(np.int64) | (1 << 52)  # implicit 1, also for subnormals
    negative = (bits >> np.uint64(63)).astype(bool)
    zero = (bits & np.uint64(0x7FFF_FFFF_FFFF_FFFF)) == 0
    # |x| = man * 2**(expf - 1075): in target LSB units that is man * 2**-k with k = 1075 - expf - F
    k = 1075 - t.frac_bits - expf
    if t.integer:
        raw = _int_from_double(man, k, negative, t)
    else:
        raw = _convert(np.where(negative, -man, man), k, t)
    return np.where(zero, 0, raw).reshape(x.shape)


def _int_from_double(man: np.ndarray, k: np.ndarray, negative: np.ndarray, t: FixedType) -> np.ndarray:
    """``ap_int<W>(double)``: truncate |x| toward zero, negate, wrap to W bits (ap_int_base.h).

    The header shifts by >= 54 bits as ``-1`` for negative inputs before negating, so -0.5 < x < 0 gives +1.
    """
    if t.wide:  # left shifts past 64 bits must stay exact
        man, k = _exact(man), _exact(k)
    mag = np.where(k >= 54, np.where(negative, -1, 0), man >> np.minimum(np.maximum(k, 0), 63))
    mag = np.where(k < 0, man << np.minimum(np.maximum(-k, 0), t.width + 1), mag)
    return wrap(np.where(negative, -mag, mag), t)


def cast(raw: ArrayLike, src: TypeLike, dst: TypeLike) -> np.ndarray:
    """Raw bits of ``dst(src_value)``: ap_fixed's assignment between types (rounding, then overflow).

    ``raw``: int64 words, Python ints, or float words (``float_words_dtype``); float words come back as float
    words from the compiled rounding casts (and unchanged where the words stay the same), else as int64."""
    src, dst = _as_type(src), _as_type(dst)
    if src.wide or dst.wide or _is_exact(raw):
        raw = _exact(raw)
        if dst.integer:
            return wrap(_to_int_base(raw, src), dst)
        return _convert_exact(raw, src.frac_bits - dst.frac_bits, dst)
    raw = np.asarray(raw)
    if raw.dtype.kind != "f":
        raw = raw.astype(np.int64, copy=False)
    if dst.integer:
        return wrap(_to_int_base(_ints(raw), src), dst)
    k = src.frac_bits - dst.frac_bits
    lo, hi = saturation_bounds(dst)
    if k <= 0 and -k <= 62 and lo <= src.raw_min << -k and src.raw_max << -k <= hi:
        if k == 0 and raw.dtype.kind == "f":
            return raw  # the same words
        return _ints(raw) << -k  # exact and in range: nothing to round, nothing to saturate or wrap
    if 0 < k <= 61 and src.width <= 62:
        if lo <= src.raw_min >> k and (src.raw_max >> k) + 1 <= hi:
            return _round_cast(raw, k, dst, _KEEP)  # rounding cannot leave the target range
        if dst.o_mode in (OMode.SAT, OMode.SAT_SYM):
            return _round_cast(raw, k, dst, _CLIP)
        if dst.wraps and dst.width < 64:
            return _round_cast(raw, k, dst, _WRAP)
        return _overflow(_round_cast(_ints(raw), k, dst, _KEEP), dst)
    return _convert(_ints(raw), k, dst)


def _to_int_base(raw: np.ndarray, t: FixedType) -> np.ndarray:
    """``ap_fixed::to_ap_int_base()``: the integer part in ap_int<max(I,1)>, truncated toward zero.

    As in the header, I == 0 yields 0, then +1 for negative values, which ap_int<1> reads as -1. For I < 0
    the header leaves the result word uninitialized (undefined behaviour), so the cast is refused.
    """
    if t.int_bits < 0:
        raise ValueError(f"casting {t} (I < 0) to an ap_int type is undefined in ap_fixed.h (to_ap_int_base)")
    if t.integer or t.frac_bits <= 0:
        return raw << -t.frac_bits  # exact; only the low bits matter for the final wrap
    width = max(t.int_bits, 1)
    fraction = raw & ((1 << t.frac_bits) - 1) if t.frac_bits < t.width else raw
    ipart = raw >> t.frac_bits if t.int_bits > 0 else np.zeros_like(raw)
    ipart = ipart + ((raw < 0) & (fraction != 0))
    return wrap(ipart, FixedType(width, width, t.signed, integer=True))


def to_float(raw: ArrayLike, t: TypeLike) -> np.ndarray:
    """float64 value of each raw word (exact below 2**53, else round-half-even like ``to_double``)."""
    t = _as_type(t)
    raw = np.asarray(raw) if _is_exact(raw) else np.asarray(raw, dtype=np.int64)
    return _scale(raw.astype(np.float64), -t.frac_bits)  # Python ints round half-to-even into float64


def _scale(x: np.ndarray, n: int) -> np.ndarray:
    """x * 2**n: a multiply by an exact power of two (much faster than ldexp) while 2**n and ordinary results stay
    normal; ldexp otherwise. Results that overflow or fall below 2**-1000 are handled by the callers."""
    return x * (2.0**n) if abs(n) <= 1000 else np.ldexp(x, n)


# ---------------------------------------------------------------------------------------------------------
# Arithmetic: exact results in ap_fixed's result types (ap_fixed_base::RType), default modes TRN/WRAP.
# ---------------------------------------------------------------------------------------------------------


def _result_type(width: int, int_bits: int, signed: bool, a: FixedType, op: str, b: FixedType) -> FixedType:
    limit = MAX_SIGNED_WIDTH if signed else MAX_UNSIGNED_WIDTH
    if width > limit:
        raise ValueError(
            f"{a} {op} {b} needs a {width}-bit {'signed' if signed else 'unsigned'} raw word, past the "
            f"limit of {limit} bits; cast the operands to narrower types first"
        )
    return FixedType(width, int_bits, signed, integer=a.integer and b.integer)


def mul_type(a: TypeLike, b: TypeLike) -> FixedType:
    """Type of ``a * b``: W = Wa + Wb, I = Ia + Ib, signed if either is."""
    a, b = _as_type(a), _as_type(b)
    return _result_type(a.width + b.width, a.int_bits + b.int_bits, a.signed or b.signed, a, "*", b)


def _plus_int_bits(a: FixedType, b: FixedType) -> int:
    return max(a.int_bits + (b.signed and not a.signed), b.int_bits + (a.signed and not b.signed)) + 1


def add_type(a: TypeLike, b: TypeLike) -> FixedType:
    """Type of ``a + b``: F = max(Fa, Fb), I = max(Ia + (Sb & ~Sa), Ib + (Sa & ~Sb)) + 1."""
    a, b = _as_type(a), _as_type(b)
    i = _plus_int_bits(a, b)
    f = max(a.frac_bits, b.frac_bits)
    return _result_type(i + f, i, a.signed or b.signed, a, "+", b)


def sub_type(a: TypeLike, b: TypeLike) -> FixedType:
    """Type of ``a - b``: as for ``+`` but always signed."""
    a, b = _as_type(a), _as_type(b)
    i = _plus_int_bits(a, b)
    f = max(a.frac_bits, b.frac_bits)
    return _result_type(i + f, i, True, a, "-", b)


def _aligned(raw: ArrayLike, t: FixedType, rt: FixedType) -> np.ndarray:
    """Raw words of t in the kind of the result type rt, aligned to its fraction bits."""
    return words(raw, rt) << (rt.frac_bits - t.frac_bits)


def add(a: ArrayLike, ta: TypeLike, b: ArrayLike, tb: TypeLike) -> tuple[np.ndarray, FixedType]:
    """Exact ``a + b``; returns (raw, result type). No overflow is possible in the result type."""
    ta, tb = _as_type(ta), _as_type(tb)
    rt = add_type(ta, tb)
    return _aligned(a, ta, rt) + _aligned(b, tb, rt), rt


def sub(a: ArrayLike, ta: TypeLike, b: ArrayLike, tb: TypeLike) -> tuple[np.ndarray, FixedType]:
    """Exact ``a - b``; returns (raw, result type)."""
    ta, tb = _as_type(ta), _as_type(tb)
    rt = sub_type(ta, tb)
    return _aligned(a, ta, rt) - _aligned(b, tb, rt), rt


def mul(a: ArrayLike, ta: TypeLike, b: ArrayLike, tb: TypeLike) -> tuple[np.ndarray, FixedType]:
    """Exact ``a * b``; returns (raw, result type)."""
    rt = mul_type(ta, tb)
    return words(a, rt) * words(b, rt), rt


def shift_left(raw: ArrayLike, t: TypeLike, n: ArrayLike) -> np.ndarray:
    """``x << n`` on ap_fixed: same type, raw bits shifted, bits past the MSB lost (no saturation).

    ``n`` may be an array; negative amounts shift right, as ``operator<<(int)`` does.
    """
    t = _as_type(t)
    raw, n = words(raw, t), np.asarray(n, dtype=np.int64)
    if t.wide:
        n = _exact(n)
    left = wrap(raw << np.maximum(n, 0), t)
    return np.where(n < 0, raw >> np.maximum(-n, 0), left) if (n < 0).any() else left


def shift_right(raw: ArrayLike, t: TypeLike, n: ArrayLike) -> np.ndarray:
    """``x >> n`` on ap_fixed: same type, arithmetic shift of the raw bits (no rounding)."""
    return shift_left(raw, t, -np.asarray(n, dtype=np.int64))


def compare(a: ArrayLike, ta: TypeLike, b: ArrayLike, tb: TypeLike) -> np.ndarray:
    """Three-way ``a < b`` / ``a > b`` of ap_fixed's operators: -1, 0 or +1 (int8).

    Exact, except where the header follows C's usual arithmetic conversions: with mixed signedness, when the
    aligned widths are not both below 32 and the unsigned operand is at least as wide as the signed one, the
    bit patterns are compared as unsigned, so a negative signed operand compares greater.
    """
    ta, tb = _as_type(ta), _as_type(tb)
    if ta.wide or tb.wide:
        a, b = _exact(a), _exact(b)
    else:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    result = _exact_compare(a, ta.frac_bits, b, tb.frac_bits)
    if ta.signed == tb.signed:
        return result
    # widths after the header aligns the fraction: the operand with fewer fraction bits is widened
    fa, fb = ta.frac_bits, tb.frac_bits
    wa = max(ta.width + fb - fa + 1, 1) if fa < fb else ta.width
    wb = max(tb.width + fa - fb, 1) if fa > fb else tb.width
    w_signed, w_unsigned = (wa, wb) if ta.signed else (wb, wa)
    if (wa < 32 and wb < 32) or w_unsigned < w_signed:
        return result
    if ta.signed:
        return np.where(a < 0, np.int8(1), result)
    return np.where(b < 0, np.int8(-1), result)


def _exact_compare(a: np.ndarray, fa: int, b: np.ndarray, fb: int) -> np.ndarray:
    """sign(a * 2**-fa - b * 2**-fb) without overflow."""
    if fa < fb:
        return -_exact_compare(b, fb, a, fa)
    d = fa - fb
    # a < b * 2**d  <=>  floor(a / 2**d) < b, and equality needs the dropped bits to be zero
    fl = a >> d
    result = (fl > b).astype(np.int8) - (fl < b).astype(np.int8)
    return np.where(result == 0, (a != (fl << d)).astype(np.int8), result)


@dataclass(frozen=True, eq=False)
class FixedArray:
    """An array of raw bits with its type; arithmetic follows ap_fixed's result-type rules."""

    raw: np.ndarray
    type: FixedType

    @classmethod
    def from_float(cls, x: ArrayLike, t: TypeLike) -> FixedArray:
        t = _as_type(t)
        return cls(from_float(x, t), t)

    def cast(self, t: TypeLike) -> FixedArray:
        t = _as_type(t)
        return FixedArray(cast(self.raw, self.type, t), t)

    def to_float(self) -> np.ndarray:
        return to_float(self.raw, self.type)

    def __add__(self, other: FixedArray) -> FixedArray:
        return FixedArray(*add(self.raw, self.type, other.raw, other.type))

    def __sub__(self, other: FixedArray) -> FixedArray:
        return FixedArray(*sub(self.raw, self.type, other.raw, other.type))

    def __mul__(self, other: FixedArray) -> FixedArray:
        return FixedArray(*mul(self.raw, self.type, other.raw, other.type))

    def __lshift__(self, n: int) -> FixedArray:
        return FixedArray(shift_left(self.raw, self.type, n), self.type)

    def __rshift__(self, n: int) -> FixedArray:
        return FixedArray(shift_right(self.raw, self.type, n), self.type)

    def __repr__(self) -> str:
        return f"FixedArray({self.type}, raw={self.raw!r})"
