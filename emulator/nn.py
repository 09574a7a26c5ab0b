"""Fixed-point executor of exported networks with the semantics of hls4ml's io_parallel / Latency C++.

A network spec is a directory with ``spec.json`` (graph, per-layer precisions read from hls4ml after its
optimizer passes) and ``arrays.npz`` (raw integer weights and lookup tables). :class:`Network` runs batches of
events as raw integer arrays, layer by layer, with no Python loop over events.

Each op is one handler registered by name (``@handler("dense")``); adding a layer type means adding one
function. Specs naming an op without a handler fail at load with the layer's name and op.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike

import l1t.emulator.fixed as fx
from l1t.emulator.blas import serial_blas
from l1t.emulator.fixed import FixedType, OMode

__all__ = [
    "SELU_LAMBDA_T",
    "SPEC_FORMAT",
    "SPEC_VERSION",
    "X_MINUS_MAX",
    "Layer",
    "Mismatch",
    "Network",
    "SpecError",
    "TraceDifference",
    "compare_outputs",
    "compare_traces",
    "handler",
    "im2col",
    "supported_ops",
]

SPEC_FORMAT = "l1t.nn-spec"
SPEC_VERSION = 2  # 2: a concatenate's ``axis`` counts the axes of one event (0 .. ndim - 1), as ``shape`` does
READABLE_VERSIONS = (1, 2)


class SpecError(ValueError):
    """A network spec is malformed, of another version, or uses an op without a handler."""


@dataclass
class Layer:
    """One layer of a spec: op, inputs, output shape, precisions (``*_t``), attributes and raw arrays."""

    name: str
    op: str
    inputs: list[str]
    shape: tuple[int, ...]
    types: dict[str, FixedType]
    attrs: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    derived: dict[Any, tuple[np.ndarray, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for a in self.arrays.values():  # derived arrays are cached: replace an array to change it, never edit it
            a.flags.writeable = False

    def derive(self, key: Any, source: str, make: Callable[[np.ndarray], Any]) -> Any:
        """``make(arrays[source])``, computed once per ``key`` and again whenever ``arrays[source]`` is replaced."""
        array = self.arrays[source]
        hit = self.derived.get(key)
        if hit is None or hit[0] is not array:
            hit = self.derived[key] = (array, make(array))
        return hit[1]

    @property
    def result_t(self) -> FixedType:
        return self.types["result_t"]


Handler = Callable[..., np.ndarray]
Check = Callable[[Layer, list[FixedType]], None]
_HANDLERS: dict[str, Handler] = {}
_CHECKS: dict[str, Check] = {}
_WIDE: set[str] = set()
_FLOATS: set[str] = set()


def handler(
    op: str, check: Check | None = None, *, wide: bool = False, floats: bool = False
) -> Callable[[Handler], Handler]:
    """Register the function computing ``op``: ``fn(layer, inputs, input_types) -> raw output``, and optionally
    ``check(layer, input_types)``, run at load, which raises ValueError for a layer the function cannot compute
    exactly (e.g. an intermediate past int64 in a function without a wide path). ``wide``: the function computes
    exactly on words past int64 (``fx.FixedType.wide``: Python ints), so its types may be up to 128 bits wide.
    ``floats``: the function also reads float words (``fx.float_words_dtype``) and integer words narrower than int64
    (a network input's words as given: ``Network._input_words``), and takes ``floats=``: when True
    (every reader of the output reads float words too) it may return them, so the words of a chain of such
    layers stay in the BLAS products' float type; when False it returns int64 or Python ints."""

    def register(fn: Handler) -> Handler:
        if op in _HANDLERS:
            raise ValueError(f"op {op!r} already has a handler ({_HANDLERS[op].__qualname__})")
        _HANDLERS[op] = fn
        if check is not None:
            _CHECKS[op] = check
        if wide:
            _WIDE.add(op)
        if floats:
            _FLOATS.add(op)
        return fn

    return register


def supported_ops() -> frozenset[str]:
    """The ops with a registered handler: the spec vocabulary ``Network`` runs."""
    return frozenset(_HANDLERS)


def wide_ops() -> frozenset[str]:
    """The ops that also run on types past 64 bits (up to 128, as hls4ml's precision inference produces)."""
    return frozenset(_WIDE)


def _narrow(*types: FixedType) -> None:
    """Refuse an intermediate type past int64 in a function that computes it on int64 words."""
    for t in types:
        if t.wide:
            raise ValueError(f"an intermediate {t} is past 64 bits, and this op has no wide path")


def _product_fits(layer: Layer, in_types: list[FixedType]) -> None:
    """x * weight_t in full precision (every product a dense or convolution forms) fits 128 bits."""
    fx.mul_type(in_types[0], layer.types["weight_t"])


# ------------------------------------------------------------------------------------------------------------
# Dense and the integer dot product
# ------------------------------------------------------------------------------------------------------------


def integer_matmul(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, int]:
    """Exact ``x @ w`` on raw integers (x: (..., n), w: (n, m)); modulo 2**64 where it cannot be exact.

    Every partial sum of any order is bounded by max|x| * max_j sum_i |w_ij|, with max|x| taken over the values
    actually present. Below 2**24 float32 BLAS holds it exactly, below 2**53 float64 BLAS does; otherwise numpy's
    int64 matmul is used, which wraps modulo 2**64 (so results reduced modulo 2**W, W <= 64, are still exact).
    Returns the product and that bound.
    """
    total, bound = _blas_product(x, w)
    return _from_blas(total), bound


def _blas_product(
    x: np.ndarray,
    w: np.ndarray,
    x_t: FixedType | None = None,
    layer: Layer | None = None,
    acc_t: FixedType | None = None,
) -> tuple[np.ndarray, int]:
    """``x @ w`` in the type ``_exact_dtype`` proves exact (not yet converted back to integers), and the bound.
    With the ``layer`` whose weight w is, w is converted to each BLAS type once."""
    dtype, bound = _exact_dtype(x, w, x_t, layer, acc_t)
    w_blas = w.astype(dtype) if layer is None else layer.derive(("blas", dtype), "weight", lambda a: a.astype(dtype))
    return _to_blas(x, dtype) @ w_blas, bound


def _column_bound(w: np.ndarray) -> int:
    """max_j sum_i |w_ij|: the largest sum of weight magnitudes feeding one output."""
    return int(np.abs(w.reshape(-1, w.shape[-1])).sum(axis=0).max(initial=0))


def _exact_dtype(
    x: np.ndarray,
    w: np.ndarray,
    x_t: FixedType | None = None,
    layer: Layer | None = None,
    acc_t: FixedType | None = None,
) -> tuple[type, int]:
    """(dtype, bound): float32 / float64 if they hold every partial sum of x @ w exactly, else int64 (exact modulo
    2**64), or Python ints (object) for words past int64 or a wide accumulator ``acc_t`` that needs more than the
    low 64 bits; ``bound`` bounds |every partial sum| (see integer_matmul). When x's type ``x_t`` alone proves
    float32 exact, the values are not scanned. With the ``layer`` whose weight w is, w's column bound is computed
    once."""
    column = _column_bound(w) if layer is None else layer.derive(("column",), "weight", _column_bound)
    if x_t is not None and (by_type := max(-x_t.raw_min, x_t.raw_max) * column) < 2**24:
        return np.float32, by_type
    bound = max(-int(x.min(initial=0)), int(x.max(initial=0))) * column
    if x.dtype == object:  # words past int64: Python-int products, exact at any size
        return object, bound
    if bound < 2**24:
        return np.float32, bound
    if bound < 2**53:
        return np.float64, bound
    return (object if acc_t is not None and acc_t.wide else np.int64), bound  # int64 is exact modulo 2**64


@numba.njit(cache=True, nogil=True)
def _words_to_float32(x: np.ndarray, out: np.ndarray) -> None:
    """Integer words below 2**24 in magnitude to float32, exactly. The direct conversion is one vector instruction
    per lane group (vcvtqq2ps from int64); a detour through int32 would compile to one scalar conversion per word."""
    for i in range(x.size):
        out[i] = x[i]


def _to_blas(x: np.ndarray, dtype: type) -> np.ndarray:
    """Words (integers of any width, or float words) in the BLAS type (or Python ints): float words of that type as
    they are; integer words to float32 in one compiled pass (|x| < 2**24)."""
    if dtype is object:
        return fx.words(x, fx.ap_int(fx.MAX_SIGNED_WIDTH))
    if x.dtype == dtype:
        return x
    if dtype is not np.float32 or x.dtype.kind == "f":
        return x.astype(dtype)
    out = np.empty(x.shape, dtype=np.float32)
    _words_to_float32(np.ascontiguousarray(x).reshape(-1), out.reshape(-1))
    return out


@numba.njit(cache=True, nogil=True)
def _biased_words(total: np.ndarray, scale: float, bias: np.ndarray, out: np.ndarray) -> None:
    for r in range(total.shape[0]):
        for j in range(total.shape[1]):
            out[r, j] = np.int64(total[r, j] * scale + bias[j])


@numba.njit(cache=True, nogil=True)
def _biased_in_place(total: np.ndarray, scale: np.floating, bias: np.ndarray) -> None:
    """total = total * scale + bias, row by row, in total's float type (exact: see ``_add_bias_wrapped``)."""
    for r in range(total.shape[0]):
        for j in range(total.shape[1]):
            total[r, j] = total[r, j] * scale + bias[j]


def _from_blas(total: np.ndarray) -> np.ndarray:
    """Exact integer-valued BLAS results back to int64 (float32 ones are below 2**24, so int32 holds them); Python
    ints stay as they are."""
    if total.dtype == object:
        return total
    return total.astype(np.int32).astype(np.int64) if total.dtype == np.float32 else total.astype(np.int64)


def _add_bias_wrapped(
    total: np.ndarray, bound: int, shift: int, bias: np.ndarray, acc_t: FixedType, floats: bool = False
) -> np.ndarray:
    """``wrap(total << shift + bias)`` in accum_t from an exact BLAS (or int64) product, skipping the wrap when the
    bound proves it is the identity. When the shifted, biased sum is still exact in the product's float type, the
    shift (a power-of-two scale) and the bias are applied there, before the one conversion to integers; with
    ``floats`` and no wrap to apply, they are applied in place and the float words returned."""
    reach = (bound << shift) + int(np.abs(bias).max(initial=0))
    exact = {np.dtype(np.float32): 2**24, np.dtype(np.float64): 2**53}.get(total.dtype, 0)
    in_range = acc_t.raw_min <= -reach and reach <= acc_t.raw_max
    rows = (-1, total.shape[-1])
    if reach < exact and floats and in_range:  # every partial value is an integer below 2**24 (2**53): exact
        _biased_in_place(total.reshape(rows), total.dtype.type(2.0**shift), bias.astype(total.dtype))
        return total
    if reach < exact:  # total * 2**shift + bias is an exact float: one compiled pass to int64
        acc = np.empty(total.shape, dtype=np.int64)
        _biased_words(total.reshape(rows), 2.0**shift, bias.astype(total.dtype), acc.reshape(rows))
    else:
        acc = (_from_blas(total) << shift) + bias
    return acc if in_range else fx.wrap(acc, acc_t)


def _exact_sum_shift(x_t: FixedType, w_t: FixedType, acc_t: FixedType) -> int | None:
    """Left shift aligning products to accum_t when the casts commute with the sum (wrapping accum_t that holds
    every product exactly), so one exact integer matmul and a final wrap give hls4ml's bits; else None."""
    shift = acc_t.frac_bits - fx.mul_type(x_t, w_t).frac_bits
    return shift if acc_t.wraps and shift >= 0 else None


def _accumulate_products(
    x: np.ndarray,
    x_t: FixedType,
    w: np.ndarray,
    w_t: FixedType,
    bias: np.ndarray,
    acc_t: FixedType,
    layer: Layer | None = None,
    floats: bool = False,
) -> np.ndarray:
    """hls4ml's dense_latency: ``acc`` starts at the bias (already in accum_t, one per output), each product is cast
    to accum_t, then ``acc += mult`` in index order.

    With a wrapping accumulator that holds every product exactly, the casts commute with the sum, so one exact
    integer matmul and a final wrap give the same bits. With a wrapping accumulator that does not (products
    rounded into it), each product is rounded on its own and the wrapped sum is the same in any order: one compiled
    pass (``fx.wrapped_product_sums``). Otherwise (saturating accum_t, or words past int64) the products and partial
    sums are cast one input at a time, vectorized over events and outputs. x may be float words; with ``floats``
    so may the result be (``_add_bias_wrapped``).
    """
    shift = _exact_sum_shift(x_t, w_t, acc_t)
    if shift is not None:
        total, bound = _blas_product(x, w, x_t, layer, acc_t)
        return _add_bias_wrapped(total, bound, shift, bias, acc_t, floats)
    x = fx.words(x, x_t)
    if x.dtype != object and (summed := fx.wrapped_product_sums(x, x_t, w, w_t, bias, acc_t)) is not None:
        return summed
    acc = np.broadcast_to(bias, (*x.shape[:-1], bias.size))
    for i in range(x.shape[-1]):
        product = fx.cast(*fx.mul(x[..., i, None], x_t, w[i], w_t), acc_t)
        total, total_t = fx.add(acc, acc_t, product, acc_t)
        acc = fx.cast(total, total_t, acc_t)
    return acc


def _to_result(layer: Layer, words: np.ndarray, t: FixedType) -> np.ndarray:
    """Words of type t (an accum_t, or the input of a layer that only reshapes) as the layer's result_t
    (``res[i] = cast<res_T>(acc[i])``), with no copy when the types agree: handlers never write to their inputs."""
    return words if t == layer.result_t else fx.cast(words, t, layer.result_t)


@handler("dense", _product_fits, wide=True, floats=True)
def _dense(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType], floats: bool = False) -> np.ndarray:
    (x,), (x_t,) = inputs, in_types
    acc_t = layer.types["accum_t"]
    bias = fx.cast(layer.arrays["bias"], layer.types["bias_t"], acc_t)
    w, w_t = layer.arrays["weight"], layer.types["weight_t"]
    acc = _accumulate_products(x, x_t, w, w_t, bias, acc_t, layer, floats)
    return _to_result(layer, acc, acc_t)


def _pad(x: np.ndarray, pads: tuple[int, ...], value: float = 0) -> np.ndarray:
    """A channels-last batch (N, *spatial, C) padded by ``pads`` (before, after per spatial axis) with ``value``."""
    if not any(pads):
        return x
    width = [(0, 0)] + [(pads[2 * d], pads[2 * d + 1]) for d in range(x.ndim - 2)] + [(0, 0)]
    return np.pad(x, width, constant_values=value)


def im2col(
    x: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    pad_value: int,
    out: tuple[int, ...],
) -> np.ndarray:
    """Sliding windows of a channels-last batch x (N, *spatial, C), padded with ``pad_value``.

    Returns (N, *out, *kernel, C): position first, then kernel offsets, then channel (hls4ml's im2col order).
    """
    spatial = len(kernel)
    padded = _pad(x, pads, pad_value)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel, axis=tuple(range(1, spatial + 1)))
    index = (slice(None), *(slice(0, o * st, st) for o, st in zip(out, stride, strict=True)))
    windows = windows[index]  # (N, *out, C, *kernel)
    return np.moveaxis(windows, 1 + spatial, -1)


def _band_weights(
    w: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], rest_in: tuple[int, ...], out: tuple[int, ...]
) -> np.ndarray:
    """The kernel (K, F), K in hls4ml's order (kernel offsets, then channel), as one matrix acting on a band of
    ``kernel[0]`` whole input rows: (kernel[0] * prod(rest_in) * C, prod(out[1:]) * F).

    Column (position p along the other spatial axes, filter f) holds the kernel at the input cells that window p
    covers and zeros elsewhere. For 1D convolutions the band is the window itself and the matrix the kernel.
    """
    channels, filters = w.shape[0] // int(np.prod(kernel)), w.shape[1]
    wk = w.reshape(*kernel, channels, filters)
    band = np.zeros((kernel[0], *rest_in, channels, *out[1:], filters), dtype=w.dtype)
    for pos in np.ndindex(*out[1:]):
        for offset in np.ndindex(*kernel[1:]):
            cell = tuple(p * s + o for p, s, o in zip(pos, stride[1:], offset, strict=True))
            band[(slice(None), *cell, slice(None), *pos, slice(None))] = wk[(slice(None), *offset)]
    return band.reshape(kernel[0] * int(np.prod(rest_in)) * channels, -1)


@numba.njit(cache=True, nogil=True)
def _int64_bands(events: np.ndarray, span: int, step: int, out: np.ndarray) -> None:
    """out[n * rows_out + r, j] = events[n, r * step + j] for j < span: int64 words into ``out``'s BLAS type (float32
    / float64 exactly, as ``_exact_dtype`` proved, or int64), one vector conversion (vcvtqq2ps) per lane group."""
    rows_out = out.shape[0] // events.shape[0]
    for n in range(events.shape[0]):
        for r in range(rows_out):
            src, dst = events[n], out[n * rows_out + r]
            for j in range(span):
                dst[j] = src[r * step + j]


def _bands(x: np.ndarray, kernel_rows: int, row_stride: int, rows_out: int, dtype: type) -> np.ndarray:
    """(N * rows_out, kernel_rows * R) in the BLAS type ``dtype``: for each event and output row, the
    ``kernel_rows`` input rows it reads, each flattened (R = the rest of the row: other spatial axes and channels).

    Those rows follow one another in a C-ordered event, so each band is one run of the event's words, copied and
    converted in one pass: by numpy's casting copy of the strided runs (vectorized for narrow integer and float
    words; Python ints after ``_to_blas``), or for int64 words by a compiled loop (numpy 1.26 converts int64 to
    float32 one word at a time)."""
    rows = np.ascontiguousarray(x.reshape(x.shape[0], x.shape[1], -1))
    width = rows.shape[-1]
    span = kernel_rows * width
    out = np.empty((x.shape[0], rows_out, span), dtype=dtype)
    if rows.dtype == np.int64 and dtype is not object:
        _int64_bands(rows.reshape(len(rows), -1), span, row_stride * width, out.reshape(-1, span))
        return out.reshape(-1, span)
    rows = _to_blas(rows, dtype) if dtype is object else rows
    item = rows.strides[-1]
    out[...] = np.lib.stride_tricks.as_strided(
        rows, shape=out.shape, strides=(rows.strides[0], row_stride * width * item, item), writeable=False
    )
    return out.reshape(-1, span)


def _tap_table(
    w: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[int, ...], in_shape: tuple[int, ...],
    out: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(taps, weights), both (prod(out) * F, T): for output o = position * F + filter, the flat input index and the
    weight word of each of its T taps, the taps in padding or of zero weight dropped (an output with fewer than T
    taps is filled with weight 0 at index 0)."""
    positions, filters = int(np.prod(out)), w.shape[1]
    index = np.arange(int(np.prod(in_shape))).reshape(1, *in_shape)
    cols = im2col(index, kernel, stride, pads, -1, out).reshape(positions, -1)  # -1: a tap in padding
    taps, weights = np.repeat(cols, filters, axis=0), np.tile(w.T, (positions, 1))
    keep = (taps >= 0) & (weights != 0)
    order = np.argsort(~keep, axis=1, kind="stable")[:, : max(int(keep.sum(axis=1).max(initial=0)), 1)]

    def kept(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.take_along_axis(np.where(keep, a, 0), order, axis=1))

    return kept(taps), kept(weights)


@numba.njit(cache=True, nogil=True)
def _tap_sums(x: np.ndarray, taps: np.ndarray, weights: np.ndarray, out: np.ndarray, block: int) -> None:
    """out[n, o] = sum_t x[n, taps[o, t]] * weights[o, t] in out's float type (exact: every partial sum is an integer
    below its significand, as ``_exact_dtype`` proved, so the order does not matter). Each block of events is turned
    inputs by events, so each tap is one multiply-add over a vector of events, and the sums turned back."""
    n_events, n_in = x.shape
    n_out, n_taps = taps.shape
    rows = np.empty((block, n_in), out.dtype)
    turned = np.empty((n_in, block), out.dtype)
    acc = np.empty((n_out, block), out.dtype)
    for start in range(0, n_events, block):
        m = min(block, n_events - start)
        for e in range(m):  # the words to the float type along rows (vector conversions), then turned
            for i in range(n_in):
                rows[e, i] = x[start + e, i]
        for i in range(n_in):
            for e in range(m):
                turned[i, e] = rows[e, i]
        for o in range(n_out):
            a, first, w = acc[o], turned[taps[o, 0]], weights[o, 0]
            for e in range(m):
                a[e] = first[e] * w
            for t in range(1, n_taps):
                src, w = turned[taps[o, t]], weights[o, t]
                for e in range(m):
                    a[e] += src[e] * w
        for e in range(m):
            for o in range(n_out):
                out[start + e, o] = acc[o, e]


# Events per block of ``_tap_sums``: a block's words, turned words and sums stay in L1/L2. Measured on the CICADA
# student (bench/import.py's project; its 3x3 convolution reads 252 words into 144 sums of 9 taps), int16 words, per
# 1e5 events: 32 events 41.2 ms, 64 39.3 ms, 128 42.8 ms, 256 46.7 ms, 1,024 55.3 ms
TAP_BLOCK = 64
# A convolution runs as tap sums when its band product is skinny (fewer columns than BAND_COLUMNS: BLAS is slow on
# such products) and mostly zeros (at least BAND_OVER_TAPS multiply-adds per tap multiply-add: a band holds whole
# input rows). Measured per 1e5 events on ap_fixed<10,4> words into a rounding, saturating result: 3x3 kernels at
# stride 2 on 18x14 and 24x20 inputs (bands of 42 to 84 rows by 12 to 27 columns) take 62-116 ms as tap sums against
# 78-136 ms as bands; at stride 1 (48 to 224 columns) the band is faster (194 against 232 ms and more), and a 2x2
# kernel at stride 2 (28 by 28) takes 126 ms as a band, 135 ms as tap sums. The CICADA student's whole network:
# 39.3 ms against 47.4 ms. ``bench/conv_paths.py`` measures both paths on these geometries
BAND_COLUMNS = 28
BAND_OVER_TAPS = 4


def _conv(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType], floats: bool = False) -> np.ndarray:
    """conv_1d/2d_latency_cl: im2col, then dense_latency's arithmetic per output position.

    With a wrapping accumulator that holds products exactly (the usual case) the sum is exact in any order, so each
    output row is one BLAS product of the input rows under the kernel (in the float type that holds every partial
    sum exactly) with the kernel laid out as a band matrix (``_band_weights``): one copy and one matrix product per
    layer, with no per-window gathering. Where the band would mostly multiply zeros (a small kernel sliding along
    long rows, or a pruned kernel), each output is summed over its own taps instead (``_tap_sums``).
    """
    (x,), (x_t,) = inputs, in_types
    a = layer.attrs
    kernel, stride, pads = tuple(a["kernel"]), tuple(a["stride"]), tuple(a["pads"])
    out = tuple(layer.shape[:-1])
    acc_t, w, w_t = layer.types["accum_t"], layer.arrays["weight"], layer.types["weight_t"]
    bias = fx.cast(layer.arrays["bias"], layer.types["bias_t"], acc_t)
    shift = _exact_sum_shift(x_t, w_t, acc_t)
    if shift is not None:
        dtype, bound = _exact_dtype(x, w, x_t, layer, acc_t)
        in_shape = x.shape[1:]
        taps, words = layer.derive(
            ("taps", in_shape), "weight", lambda a: _tap_table(a, kernel, stride, pads, in_shape, out)
        )
        padded = [n + pads[2 * d] + pads[2 * d + 1] for d, n in enumerate(in_shape[:-1])]
        band_shape = (kernel[0] * int(np.prod(padded[1:])) * in_shape[-1], int(np.prod(out[1:])) * w.shape[1])
        skinny, sparse = band_shape[1] < BAND_COLUMNS, out[0] * np.prod(band_shape) >= BAND_OVER_TAPS * taps.size
        if dtype in (np.float32, np.float64) and skinny and sparse:
            total = np.empty((x.shape[0], taps.shape[0]), dtype=dtype)
            weights = layer.derive(("tap weights", dtype, in_shape), "weight", lambda _: words.astype(dtype))
            _tap_sums(np.ascontiguousarray(x.reshape(x.shape[0], -1)), taps, weights, total, TAP_BLOCK)
        else:
            x = _pad(x, pads)
            rest = x.shape[2:-1]
            band = layer.derive(
                ("band", dtype, rest), "weight", lambda a: _band_weights(a, kernel, stride, rest, out).astype(dtype)
            )
            total = _bands(x, kernel[0], stride[0], out[0], dtype) @ band
            total = total.reshape(x.shape[0], -1)  # (N, prod(out) * F): the bias is added along whole events
        acc = _add_bias_wrapped(total, bound, shift, np.tile(bias, int(np.prod(out))), acc_t, floats)
        return _to_result(layer, acc.reshape(x.shape[0], *layer.shape), acc_t)
    cols = im2col(fx.words(x, x_t), kernel, stride, pads, 0, out)
    cols = cols.reshape(*cols.shape[: 1 + len(kernel)], -1)
    return _to_result(layer, _accumulate_products(cols, x_t, w, w_t, bias, acc_t), acc_t)


handler("conv1d", _product_fits, wide=True, floats=True)(_conv)
handler("conv2d", _product_fits, wide=True, floats=True)(_conv)


@handler("pool", wide=True)
def _pool(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """pooling1d_cl / pooling2d_cl: max or average over each window; padded cells are left out of averages."""
    (x,), (x_t,) = inputs, in_types
    a = layer.attrs
    kernel, stride, pads = tuple(a["kernel"]), tuple(a["stride"]), tuple(a["pads"])
    spatial = x.shape[1:-1]  # a global pooling's output drops these axes: its windows cover them once
    out = tuple((spatial[i] + pads[2 * i] + pads[2 * i + 1] - kernel[i]) // stride[i] + 1 for i in range(len(kernel)))
    acc_t = layer.types["accum_t"]
    if a["mode"] == "max":
        pad = x_t.raw_min if x_t.signed else 1 << (x_t.width - 1)  # pad_val: a word with only the MSB set
        windows = im2col(x, kernel, stride, pads, pad, out)
        best = windows.reshape(*windows.shape[: 1 + len(kernel)], -1, windows.shape[-1]).max(axis=-2)
        return fx.cast(fx.cast(best, x_t, acc_t), acc_t, layer.result_t).reshape(len(x), *layer.shape)
    windows = im2col(x, kernel, stride, pads, 0, out)
    cells = windows.reshape(*windows.shape[: 1 + len(kernel)], -1, windows.shape[-1])
    acc = np.zeros(cells.shape[:-2] + cells.shape[-1:], dtype=np.int64)
    for k in range(cells.shape[-2]):  # y += x[i], in window order
        acc = fx.cast(*fx.add(acc, acc_t, cells[..., k, :], x_t), acc_t)
    if a["count_pad"]:
        count = np.full(out, int(np.prod(kernel)))
    else:
        inside = np.ones((1, *x.shape[1:-1], 1), dtype=np.int64)  # padded with 0: the cells a window really has
        count = im2col(inside, kernel, stride, pads, 0, out).reshape(*out, -1).sum(-1)
    count = fx.words(count[..., None], acc_t)
    quotient = np.where(acc < 0, -((-acc) // count), acc // count)  # sdiv/udiv: truncation toward zero
    # |quotient| <= |acc|: it stays in accum_t
    return fx.cast(quotient, acc_t, layer.result_t).reshape(len(x), *layer.shape)


# ------------------------------------------------------------------------------------------------------------
# Activations (nnet_activation.h)
# ------------------------------------------------------------------------------------------------------------


@handler("linear", wide=True, floats=True)
def _linear(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType], floats: bool = False) -> np.ndarray:
    (x,), (x_t,) = inputs, in_types
    return fx.cast(x if floats else fx.words(x, x_t), x_t, layer.result_t)


@handler("relu", wide=True, floats=True)
def _relu(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType], floats: bool = False) -> np.ndarray:
    (x,), (x_t,) = inputs, in_types
    x, out_t = x if floats else fx.words(x, x_t), layer.result_t
    if not out_t.signed and out_t.o_mode in (OMode.SAT, OMode.SAT_SYM, OMode.SAT_ZERO):
        return fx.cast(x, x_t, out_t)  # the cast already sends every negative value to 0
    return fx.cast(np.maximum(x, 0), x_t, out_t)  # res_T(0) is 0 in every type


@handler("leaky_relu", wide=True)
def _leaky_relu(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    (x,), (x_t,) = inputs, in_types
    alpha, alpha_t = layer.arrays["alpha"], layer.types["param_t"]
    scaled, scaled_t = fx.mul(alpha, alpha_t, x, x_t)
    return np.where(x > 0, fx.cast(x, x_t, layer.result_t), fx.cast(scaled, scaled_t, layer.result_t))


def _int_of(raw: np.ndarray, frac_bits: int) -> np.ndarray:
    """C++ ``int(v)`` of the exact value ``v = raw * 2**-frac_bits``: truncation toward zero."""
    if frac_bits < 0:
        return raw << -frac_bits
    return np.where(raw < 0, -((-raw) >> frac_bits), raw >> frac_bits)


def _table_index(x: np.ndarray, x_t: FixedType, size: int, span: int) -> np.ndarray:
    """``int(x * size / span) + size / 2`` clamped to the table, as nnet::sigmoid/tanh compute it.

    The product and quotient are exact ap_fixed values truncated toward zero by the conversion to int, so the
    index is trunc(raw * size / (span * 2**F)); |raw * size| stays far below 2**63 for widths hls4ml uses.
    """
    q = _int_of(x * size, x_t.frac_bits + int(np.log2(span)))
    return np.clip(q + (span // 2) * size // span, 0, size - 1)


def _table_activation(span: int) -> Handler:
    def run(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
        (x,), (x_t,) = inputs, in_types
        table = layer.arrays["table"]
        index = _table_index(x, x_t, table.size, span)
        return fx.cast(table[index], layer.types["table_t"], layer.result_t)

    return run


handler("sigmoid")(_table_activation(16))
handler("tanh")(_table_activation(8))
handler("softplus")(_table_activation(16))
handler("softsign")(_table_activation(16))


def _negative_table_index(x: np.ndarray, x_t: FixedType, size: int) -> np.ndarray:
    """``int(x * size / -8)`` for x < 0, clamped to the table, as nnet::elu/selu compute it: the exact quotient is
    positive, so both truncations toward zero are one floor."""
    return np.minimum(_int_of(-np.minimum(x, 0) * size, x_t.frac_bits + 3), size - 1)


PLAIN_ELU_ALPHA_T = fx.ap_uint(1)  # nnet::elu without a parameter calls the parametrized one with ap_uint<1>(1.0)


@handler("elu")
def _elu(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::elu: x for x >= 0, else ``alpha * elu_table[index]`` (alpha an ap_uint<1> 1 for plain ELU)."""
    (x,), (x_t,) = inputs, in_types
    table, table_t = layer.arrays["table"], layer.types["table_t"]
    scaled, scaled_t = fx.mul(layer.arrays["alpha"], layer.types["param_t"], table, table_t)
    negative = fx.cast(scaled, scaled_t, layer.result_t)[_negative_table_index(x, x_t, table.size)]
    return np.where(x >= 0, fx.cast(x, x_t, layer.result_t), negative)


SELU_LAMBDA_T = fx.ap_ufixed(16, 1)  # nnet::selu's ``selu_const_t`` (io_parallel)
SELU_LAMBDA = 1.0507009873554805


@handler("selu")
def _selu(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::selu: ``lambda * x`` for x >= 0 with lambda converted to ``lambda_t`` (ap_ufixed<16,1> in io_parallel,
    the input type in io_stream), else ``selu_table[index]``."""
    (x,), (x_t,) = inputs, in_types
    table, table_t = layer.arrays["table"], layer.types["table_t"]
    lambda_t = layer.types.get("lambda_t", SELU_LAMBDA_T)
    positive = fx.cast(*fx.mul(x, x_t, fx.from_float(SELU_LAMBDA, lambda_t), lambda_t), layer.result_t)
    negative = fx.cast(table, table_t, layer.result_t)[_negative_table_index(x, x_t, table.size)]
    return np.where(x >= 0, positive, negative)


@handler("prelu")
def _prelu(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::prelu: x for x > 0, else ``alpha[i] * x`` with one alpha per element."""
    (x,), (x_t,) = inputs, in_types
    flat = x.reshape(len(x), -1)
    scaled, scaled_t = fx.mul(flat, x_t, layer.arrays["alpha"], layer.types["param_t"])
    out = np.where(flat > 0, fx.cast(flat, x_t, layer.result_t), fx.cast(scaled, scaled_t, layer.result_t))
    return out.reshape(x.shape)


RELU_MAX_INT = {"relu6": 6, "relu1": 1}  # nnet::relu6 / relu1 call relu_max<..., MAX_INT>


@handler("relu_max")
def _relu_max(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::relu_max<..., MAX_INT> (relu6, relu1): 0 below 0, the int MAX_INT assigned to res_T above it (an exact
    comparison of the value), else x cast to res_T."""
    (x,), (x_t,) = inputs, in_types
    top = int(layer.attrs["max_int"])
    k = x_t.frac_bits  # value > top  <=>  raw > top * 2**k, or raw > floor(top / 2**-k) for k < 0 (raw an integer)
    above = x > (top << k if k >= 0 else top >> -k)
    top_word = fx.cast(np.int64(top), fx.ap_int(32), layer.result_t)
    return np.where(x < 0, 0, np.where(above, top_word, fx.cast(x, x_t, layer.result_t)))


def _hard_sigmoid_raw(layer: Layer, x: np.ndarray, x_t: FixedType) -> tuple[np.ndarray, FixedType]:
    """``slope * x + shift`` in full precision, then 1 above 1 and 0 below 0 (``datareg = 1`` assigns the int 1 to
    that type)."""
    v, v_t = fx.add(*fx.mul(x, x_t, layer.arrays["slope"], layer.types["slope_t"]), layer.arrays["shift"],
                    layer.types["shift_t"])  # fmt: skip
    one = fx.cast(np.int64(1), fx.ap_int(32), v_t)
    return np.where(v > (1 << v_t.frac_bits), one, np.maximum(v, 0)), v_t


def _hard_fits(layer: Layer, in_types: list[FixedType]) -> None:
    v_t = fx.add_type(fx.mul_type(in_types[0], layer.types["slope_t"]), layer.types["shift_t"])
    _narrow(v_t)
    FixedType(v_t.width + 2, v_t.int_bits + 2, True)  # 2 v - 1 of hard_tanh


@handler("hard_sigmoid", _hard_fits)
def _hard_sigmoid(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    return fx.cast(*_hard_sigmoid_raw(layer, inputs[0], in_types[0]), layer.result_t)


@handler("hard_tanh", _hard_fits)
def _hard_tanh(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::hard_tanh: ``2 * sigmoid - 1`` of the clamped hard sigmoid, exact, cast to res_T."""
    v, v_t = _hard_sigmoid_raw(layer, inputs[0], in_types[0])
    return fx.cast(2 * v - (1 << v_t.frac_bits), FixedType(v_t.width + 2, v_t.int_bits + 2, True), layer.result_t)


def _per_channel(layer: Layer, key: str, x: np.ndarray) -> np.ndarray:
    """A per-channel array over an event's elements as nnet::normalize indexes it: element i (flattened) takes
    value ``i % n_filt`` (``n_filt`` = -1: value i), so a flat array of whole pixels takes its channels in turn."""
    size = int(np.prod(x.shape[1:]))
    return layer.derive(("per_element", size), key, lambda a: np.resize(a, size)).reshape(x.shape[1:])


def _repeats_per_element(*keys: str) -> Check:
    """Each array ``key`` repeats a whole number of times over the layer's elements (``_per_channel``)."""

    def check(layer: Layer, in_types: list[FixedType]) -> None:
        size = int(np.prod(layer.shape))
        for key in keys:
            n = layer.arrays[key].size
            if n == 0 or size % n:
                raise ValueError(f"{key} holds {n} values, which do not repeat over the layer's {size} elements")

    return check


@handler("bn_binary_tanh", _repeats_per_element("threshold"))
def _bn_binary_tanh(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """normalize_binary_tanh: 1 where x >= threshold (both in the input type), else 0, as ap_uint<1>."""
    x = inputs[0]
    return (x >= _per_channel(layer, "threshold", x)).astype(np.int64)


@handler("bn_ternary_tanh", _repeats_per_element("threshold_hi", "threshold_lo"))
def _bn_ternary_tanh(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """normalize_ternary_tanh: 1 above threshold_hi, -1 at or below threshold_lo, else 0, as ap_int<2>."""
    x = inputs[0]
    hi, lo = _per_channel(layer, "threshold_hi", x), _per_channel(layer, "threshold_lo", x)
    return np.where(x > hi, 1, np.where(x <= lo, -1, 0)).astype(np.int64)


_SIGN_T = fx.ap_int(2)  # the int constants -1, 0, 1 nnet::binary_tanh and ternary_tanh assign


@handler("binary_tanh")
def _binary_tanh(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """+1 for x >= 0, else -1, cast to res_T; into exactly ap_uint<1>, -1 becomes 0 (``binary_cast``)."""
    x, res_t = inputs[0], layer.result_t
    if res_t == fx.ap_uint(1):
        return (x >= 0).astype(np.int64)
    return fx.cast(np.where(x >= 0, 1, -1), _SIGN_T, res_t)


@handler("ternary_tanh")
def _ternary_tanh(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """``2 * x`` stored back in the input type, then +1 above 1, 0 in (-1, 1], -1 below, cast to res_T."""
    (x,), (x_t,) = inputs, in_types
    doubled = fx.cast(2 * x, FixedType(x_t.width + 1, x_t.int_bits + 1, x_t.signed), x_t)
    one = 1 << x_t.frac_bits
    sign = np.where(doubled > one, 1, np.where(doubled > -one, 0, -1))
    return fx.cast(sign, _SIGN_T, layer.result_t)


def _top_bits(x: np.ndarray, t: FixedType, size: int) -> np.ndarray:
    """softmax_idx_from_real_val: the top ceil(log2(size)) bits of the raw word, as unsigned."""
    n = int(np.ceil(np.log2(size)))
    return (fx.wrap(x, FixedType(t.width, t.width, False, integer=True)) >> (t.width - n)) & ((1 << n) - 1)


def _tree_reduce(values: list[np.ndarray], op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """nnet::reduce: balanced binary tree, left part the largest power of two below n."""
    n = len(values)
    if n == 1:
        return values[0]
    left = 1 << int(np.floor(np.log2(n - 1))) if n > 1 else 0
    return op(_tree_reduce(values[:left], op), _tree_reduce(values[left:], op))


X_MINUS_MAX = "x_minus_max"  # softmax_stable's difference to the maximum as hls4ml < 1.2 forms it


def _softmax_fits(layer: Layer, in_types: list[FixedType]) -> None:
    difference = layer.attrs.get("difference", "max_minus_x")
    if difference not in ("max_minus_x", X_MINUS_MAX):
        raise ValueError(f"softmax difference {difference!r} is neither 'max_minus_x' nor {X_MINUS_MAX!r}")


@handler("softmax", _softmax_fits)
def _softmax(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """softmax_stable / softmax_latency over the last axis (n_slice = its length).

    stable: the difference to the maximum (``max - x``, or ``x - max`` with ``difference: x_minus_max`` as hls4ml
    < 1.2 writes it) assigned to inp_norm_t, then passed as ``index_t`` (default: inp_norm_t itself) whose top bits
    index the exp table. hls4ml < 1.2 has accum_t = inv_inp_t = exp_table_t (the importer writes them so)."""
    (x,), (x_t,) = inputs, in_types
    t = layer.types
    exp_table, inv_table = layer.arrays["exp_table"], layer.arrays["inv_table"]
    if layer.attrs["implementation"] == "stable":
        x_max = _tree_reduce(list(np.moveaxis(x, -1, 0)), np.maximum)[..., None]
        minuend, subtrahend = (x, x_max) if layer.attrs.get("difference") == X_MINUS_MAX else (x_max, x)
        diff, diff_t = fx.sub(minuend, x_t, subtrahend, x_t)
        norm_t, index_t = t["inp_norm_t"], t.get("index_t", t["inp_norm_t"])
        index = _top_bits(fx.cast(fx.cast(diff, diff_t, norm_t), norm_t, index_t), index_t, exp_table.size)
    else:
        index = _top_bits(x, x_t, exp_table.size)
    acc_t = t["accum_t"]
    exp_res = fx.cast(exp_table[index], t["exp_table_t"], acc_t)

    def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return fx.cast(*fx.add(a, acc_t, b, acc_t), acc_t)

    exp_sum = fx.cast(_tree_reduce(list(np.moveaxis(exp_res, -1, 0)), add), acc_t, t["inv_inp_t"])
    inv = inv_table[_top_bits(exp_sum, t["inv_inp_t"], inv_table.size)]
    prod, prod_t = fx.mul(exp_res, acc_t, inv[..., None], t["inv_table_t"])
    return fx.cast(prod, prod_t, layer.result_t)


# ------------------------------------------------------------------------------------------------------------
# Normalization, merges, reshapes
# ------------------------------------------------------------------------------------------------------------


def _normalize_fits(layer: Layer, in_types: list[FixedType]) -> None:
    _repeats_per_element("scale", "bias")(layer, in_types)
    fx.add_type(fx.mul_type(in_types[0], layer.types["scale_t"]), layer.types["bias_t"])


@handler("batchnorm", _normalize_fits, wide=True)
def _batchnorm(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::normalize: product(x, scale) + bias, cast to res_T; scale/bias per channel (``_per_channel``)."""
    (x,), (x_t,) = inputs, in_types
    scale, bias = _per_channel(layer, "scale", x), _per_channel(layer, "bias", x)
    prod, prod_t = fx.mul(x, x_t, scale, layer.types["scale_t"])
    total, total_t = fx.add(prod, prod_t, bias, layer.types["bias_t"])
    return fx.cast(total, total_t, layer.result_t)


def _merge_fits(op_type: Callable[[FixedType, FixedType], FixedType]) -> Check:
    def check(layer: Layer, in_types: list[FixedType]) -> None:
        op_type(*in_types)

    return check


def _merge_operands(layer: Layer, inputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The two inputs as hls4ml's merges read them: flat, element ``i`` of the output taking ``data1[i % n1]`` and
    ``data2[i % n2]`` (the smaller input repeats)."""
    n = int(np.prod(layer.shape))
    flat = [x.reshape(len(x), -1) for x in inputs]
    return tuple(f if f.shape[1] == n else f[:, np.arange(n) % f.shape[1]] for f in flat)


def _binary_merge(op: Callable) -> Handler:
    def run(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
        a, b = _merge_operands(layer, inputs)
        value, value_t = op(a, in_types[0], b, in_types[1])
        return fx.cast(value, value_t, layer.result_t).reshape(len(a), *layer.shape)

    return run


def _average(a: np.ndarray, a_t: FixedType, b: np.ndarray, b_t: FixedType) -> tuple[np.ndarray, FixedType]:
    """``(a + b) * ap_ufixed<1,0>(0.5)``: the exact sum with one more fractional bit."""
    total, total_t = fx.add(a, a_t, b, b_t)
    return total, FixedType(total_t.width + 1, total_t.int_bits, total_t.signed)


def _average_type(a_t: FixedType, b_t: FixedType) -> FixedType:
    t = fx.add_type(a_t, b_t)
    return FixedType(t.width + 1, t.int_bits, t.signed)


def _halved(a: np.ndarray, a_t: FixedType, b: np.ndarray, b_t: FixedType) -> tuple[np.ndarray, FixedType]:
    """``(a + b) / (res_T)2`` (hls4ml < 1.2's average, for a res_T that holds 2 with no negative fraction bits):
    ap_fixed division, whose quotient keeps the dividend's LSB, of the exact sum by 2: truncated toward zero."""
    total, total_t = fx.add(a, a_t, b, b_t)
    return _int_of(total, 1), total_t


def _select(pick_first: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    """maximum/minimum: ``data1 > data2 ? static_cast<res_T>(data1) : static_cast<res_T>(data2)``. Both operands are
    held exactly in their sum's type, where the comparison and the chosen value are the same as in their own."""

    def op(a: np.ndarray, a_t: FixedType, b: np.ndarray, b_t: FixedType) -> tuple[np.ndarray, FixedType]:
        common = fx.add_type(a_t, b_t)
        a_c, b_c = fx.cast(a, a_t, common), fx.cast(b, b_t, common)
        return np.where(pick_first(a_c, b_c), a_c, b_c), common

    return op


handler("add", _merge_fits(fx.add_type), wide=True)(_binary_merge(fx.add))
handler("subtract", _merge_fits(fx.sub_type), wide=True)(_binary_merge(fx.sub))
handler("multiply", _merge_fits(fx.mul_type), wide=True)(_binary_merge(fx.mul))
handler("average", _merge_fits(_average_type), wide=True)(_binary_merge(_average))
handler("average_halved", _merge_fits(fx.add_type), wide=True)(_binary_merge(_halved))
handler("maximum", _merge_fits(fx.add_type), wide=True)(_binary_merge(_select(np.greater)))
handler("minimum", _merge_fits(fx.add_type), wide=True)(_binary_merge(_select(np.less)))


def _dot_fits(layer: Layer, in_types: list[FixedType]) -> None:
    _narrow(fx.mul_type(*in_types))


@handler("dot", _dot_fits)
def _dot(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """dot1d: ``mult[i] = product(a[i], b[i])`` cast to accum_t, ``acc += mult[i]`` in index order from 0 in accum_t,
    ``res = acc`` cast to res_T. A vector with itself (a squared norm) is the same function."""
    (a, b), (a_t, b_t) = inputs, in_types
    acc_t = layer.types["accum_t"]
    p_t = fx.mul_type(a_t, b_t)
    n = a.shape[-1]
    shift = _exact_sum_shift(a_t, b_t, acc_t)
    if shift is not None and p_t.width + shift + int(n).bit_length() <= 63:  # wrap(exact sum) in int64
        acc = fx.wrap((a * b).sum(axis=-1, keepdims=True) << shift, acc_t)
    else:
        acc = np.zeros((len(a), 1), dtype=np.int64)
        for i in range(n):
            product = fx.cast(a[:, i, None] * b[:, i, None], p_t, acc_t)
            acc = fx.cast(*fx.add(acc, acc_t, product, acc_t), acc_t)
    return _to_result(layer, acc, acc_t)


def _concatenate_axis(layer: Layer, in_types: list[FixedType]) -> None:
    axis, ndim = layer.attrs.get("axis"), len(layer.shape)
    if not isinstance(axis, int) or not 0 <= axis < ndim or ndim > 3:
        raise ValueError(
            f"concatenate axis {axis!r} is not an axis of its {ndim}-d output (hls4ml concatenates 1-, 2- and 3-d "
            "tensors)"
        )


@handler("concatenate", _concatenate_axis, wide=True)
def _concatenate(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """concatenate1d/2d/3d: each part cast to res_T (``res[i] = data[j]``), joined along one axis of the event."""
    parts = [fx.cast(x, t, layer.result_t) for x, t in zip(inputs, in_types, strict=True)]
    return np.concatenate(parts, axis=1 + int(layer.attrs["axis"]))  # the batch axis comes first


def _gather_fits(layer: Layer, in_types: list[FixedType]) -> None:
    index = layer.arrays["index"]
    if index.shape != (int(np.prod(layer.shape)),):
        raise ValueError(f"gather index of shape {index.shape} for an output of shape {tuple(layer.shape)}")


@handler("gather", _gather_fits, wide=True)
def _gather(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """Data movement (zero padding, cropping, nearest-neighbour resizing, transposition): output element ``j`` of an
    event is its input element ``index[j]`` (both flat in C order) cast to res_T, or 0 where ``index[j] < 0``."""
    (x,), (x_t,) = inputs, in_types
    flat, index = x.reshape(len(x), -1), layer.arrays["index"]
    if index.max(initial=-1) >= flat.shape[1]:
        raise ValueError(f"layer {layer.name!r}: gather index {int(index.max())} of an input of {flat.shape[1]} values")
    out = flat[:, np.maximum(index, 0)]
    if (index < 0).any():
        out = np.where(index < 0, 0, out)
    return fx.cast(out, x_t, layer.result_t).reshape(len(x), *layer.shape)


@handler("embedding")
def _embedding(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::embedding: ``res[j * n_out + i] = embeddings[data[j] * n_out + i]``, the index the exact value converted
    to int (truncated toward zero), the entry cast to res_T. An index outside the table reads past it in C++: refused
    naming the layer, event and value."""
    (x,), (x_t,) = inputs, in_types
    table, n_out = layer.arrays["embeddings"], int(layer.shape[-1])
    exact = x.reshape(len(x), -1, 1) * n_out + (np.arange(n_out) << x_t.frac_bits)  # value * 2**F
    index = _int_of(exact, x_t.frac_bits)
    bad = np.argwhere((index < 0) | (index >= table.size))
    if bad.size:
        e, j, _ = bad[0]
        value = fx.to_float(x.reshape(len(x), -1)[e, j], x_t)
        raise ValueError(
            f"layer {layer.name!r}: event {e}, input {j} = {value} is outside its {table.size // n_out} rows"
        )
    return fx.cast(table[index], layer.types["embeddings_t"], layer.result_t).reshape(len(x), *layer.shape)


def _word_table_fits(layer: Layer, in_types: list[FixedType]) -> None:
    """One result word per word of the input type."""
    (x_t,) = in_types
    size = layer.arrays["table"].size
    if x_t.wide or size != 1 << x_t.width:
        raise ValueError(f"its table holds {size} words, not one per word of its input type {x_t}")


@handler("word_table", _word_table_fits)
def _word_table(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """An elementwise function given as its result word for every input word: ``table[x - raw_min]``. An imported
    activation whose code differs from every proven release is emulated so, its table computed by that code itself
    (``l1t.models.hls_project``)."""
    (x,), (x_t,) = inputs, in_types
    return layer.arrays["table"][x - x_t.raw_min]


_RECURRENT_SPANS = {"sigmoid": 16, "tanh": 8}  # the table activations of nnet::activation (relu needs no table)


def _recurrent_activation(
    kind: str, x: np.ndarray, x_t: FixedType, table: np.ndarray | None, table_t: FixedType, out_t: FixedType
) -> np.ndarray:
    """nnet::activation::{sigmoid, tanh, relu} as nnet_recr_activations.h calls them: the table index from the input
    type, the entry cast to the output type."""
    if kind == "relu":
        return fx.cast(np.maximum(x, 0), x_t, out_t)
    return fx.cast(table[_table_index(x, x_t, table.size, _RECURRENT_SPANS[kind])], table_t, out_t)


def _lstm_fits(layer: Layer, in_types: list[FixedType]) -> None:
    acc_t, res_t = layer.types["accum_t"], layer.result_t
    for kind in (layer.attrs["activation"], layer.attrs["recurrent_activation"]):
        if kind not in ("relu", *_RECURRENT_SPANS):
            raise ValueError(f"recurrent activation {kind!r} is not one of nnet::activation's")
    _narrow(
        fx.mul_type(in_types[0], layer.types["weight_t"]),
        fx.mul_type(res_t, layer.types["recurrent_weight_t"]),
        fx.add_type(fx.mul_type(acc_t, acc_t), fx.mul_type(res_t, acc_t)),  # the cell state update, exact
    )


class _Recurrent:
    """An LSTM's or GRU's step machinery: its biases in accum_t, the two dense_latency products of a step, and its
    recurrent activation and activation (``_recurrent_activation``) into accum_t."""

    def __init__(self, layer: Layer) -> None:
        self.a, self.attrs, self.types = layer.arrays, layer.attrs, layer.types
        self.acc_t, self.res_t, self.n = layer.types["accum_t"], layer.result_t, int(layer.attrs["n_state"])
        self.bias = fx.cast(self.a["bias"], self.types["bias_t"], self.acc_t)
        self.recurrent_bias = fx.cast(self.a["recurrent_bias"], self.types["recurrent_bias_t"], self.acc_t)

    def products(self, x: np.ndarray, x_t: FixedType, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``W x + b`` and ``U h + b_r``, each as dense_latency accumulates it in accum_t."""
        pre = _accumulate_products(x, x_t, self.a["weight"], self.types["weight_t"], self.bias, self.acc_t)
        pre_r = _accumulate_products(
            h, self.res_t, self.a["recurrent_weight"], self.types["recurrent_weight_t"], self.recurrent_bias, self.acc_t
        )
        return pre, pre_r

    def recurrent(self, v: np.ndarray, v_t: FixedType) -> np.ndarray:
        table_t = self.types.get("recurrent_table_t", self.acc_t)
        return _recurrent_activation(
            self.attrs["recurrent_activation"], v, v_t, self.a.get("recurrent_table"), table_t, self.acc_t
        )

    def activation(self, v: np.ndarray, v_t: FixedType) -> np.ndarray:
        table_t = self.types.get("table_t", self.acc_t)
        return _recurrent_activation(self.attrs["activation"], v, v_t, self.a.get("table"), table_t, self.acc_t)

    def output(self, steps: list[np.ndarray]) -> np.ndarray:
        return np.stack(steps, axis=1) if self.attrs["return_sequences"] else steps[-1]


@handler("lstm", _lstm_fits)
def _lstm(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::lstm_stack with lstm_static (state zeroed at the first step of every event): per step, two dense_latency
    products into accum_t (input and recurrent weights, Keras gate order i, f, c, o), their sum cast to accum_t, the
    recurrent activation on i, f, o and the activation on c (accum_t -> accum_t), ``s = c * i + s * f`` exact and cast
    to res_T, ``h = o * act(s)`` with act's index from res_T, cast to res_T. Returns every step's h or the last."""
    (x,), (x_t,) = inputs, in_types
    r = _Recurrent(layer)
    acc_t, res_t, n = r.acc_t, r.res_t, r.n
    h = np.zeros((len(x), n), dtype=np.int64)
    s = np.zeros((len(x), n), dtype=np.int64)
    steps = []
    for t in range(x.shape[1]):
        pre, pre_r = r.products(x[:, t], x_t, h)
        gates = fx.cast(*fx.add(pre, acc_t, pre_r, acc_t), acc_t)
        ifo = r.recurrent(np.concatenate([gates[:, : 2 * n], gates[:, 3 * n :]], axis=1), acc_t)
        c = r.activation(gates[:, 2 * n : 3 * n], acc_t)
        i, f, o = ifo[:, :n], ifo[:, n : 2 * n], ifo[:, 2 * n :]
        s = fx.cast(*fx.add(*fx.mul(c, acc_t, i, acc_t), *fx.mul(s, res_t, f, acc_t)), res_t)
        h = fx.cast(*fx.mul(o, acc_t, r.activation(s, res_t), acc_t), res_t)
        steps.append(h)
    return r.output(steps)


def _gru_fits(layer: Layer, in_types: list[FixedType]) -> None:
    _lstm_fits(layer, in_types)
    acc_t, res_t = layer.types["accum_t"], layer.result_t
    one_minus_z = fx.sub_type(fx.ap_int(32), acc_t)
    fx.add_type(fx.mul_type(acc_t, one_minus_z), fx.mul_type(res_t, acc_t))  # the state update, exact


@handler("gru", _gru_fits)
def _gru(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::gru_stack with gru_static (Keras order z, r, h): per step, the two dense_latency products into accum_t,
    ``z, r = recurrent_act(x_zr + h_zr)``, ``c = act(x_h + (r * h_h))`` (each sum and product cast to accum_t), and
    ``h = c * (1 - z) + h * z`` exact, cast to res_T."""
    (x,), (x_t,) = inputs, in_types
    rec = _Recurrent(layer)
    acc_t, res_t, n = rec.acc_t, rec.res_t, rec.n
    one_t = fx.ap_int(32)
    h = np.zeros((len(x), n), dtype=np.int64)
    steps = []
    for t in range(x.shape[1]):
        pre, pre_r = rec.products(x[:, t], x_t, h)
        zr = rec.recurrent(fx.cast(*fx.add(pre[:, : 2 * n], acc_t, pre_r[:, : 2 * n], acc_t), acc_t), acc_t)
        z, r = zr[:, :n], zr[:, n:]
        gated = fx.cast(*fx.mul(r, acc_t, pre_r[:, 2 * n :], acc_t), acc_t)
        c = rec.activation(fx.cast(*fx.add(pre[:, 2 * n :], acc_t, gated, acc_t), acc_t), acc_t)
        keep, keep_t = fx.sub(np.ones_like(z), one_t, z, acc_t)
        h = fx.cast(*fx.add(*fx.mul(c, acc_t, keep, keep_t), *fx.mul(h, res_t, z, acc_t)), res_t)
        steps.append(h)
    return rec.output(steps)


@handler("time_split")
def _time_split(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """TimeDistributed's start (read_time_step_*d): each time step becomes its own row, so the wrapped layers run on
    (events x steps) rows until ``time_merge``; values cast to res_T."""
    (x,), (x_t,) = inputs, in_types
    return fx.cast(x, x_t, layer.result_t).reshape(-1, *layer.shape)


@handler("time_merge")
def _time_merge(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """TimeDistributed's end (write_time_step_*d): the rows of one event's steps back in time order."""
    (x,), (x_t,) = inputs, in_types
    return fx.cast(x, x_t, layer.result_t).reshape(-1, *layer.shape)


def _layernorm_fits(layer: Layer, in_types: list[FixedType]) -> None:
    acc_t = layer.types["accum_t"]
    fx.add_type(fx.mul_type(fx.mul_type(acc_t, layer.types["table_t"]), layer.types["scale_t"]), layer.types["bias_t"])
    reach = acc_t.width + int(layer.arrays["table"].size).bit_length() + int(layer.attrs["table_range_power2"])
    if reach > 63:  # the table index is computed exactly on the raw word
        raise ValueError(f"accum_t {acc_t} times the table size needs {reach} bits, past int64")


@handler("layernorm", _layernorm_fits)
def _layernorm(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """nnet::layernormalize over the last axis: in accum_t, the sum of the inputs in order, mean = sum * (1 / dim),
    the differences, the sum of their squares in order, var = that * (1 / dim); 1/sqrt(var) from hls4ml's table at
    ``int(var * table_size * 2**table_range_power2)`` (clamped); ``diff * table * scale + bias`` exact, cast to
    res_T."""
    (x,), (x_t,) = inputs, in_types
    acc_t, table = layer.types["accum_t"], layer.arrays["table"]
    dim = int(layer.shape[-1])
    rows = fx.cast(x.reshape(-1, dim), x_t, acc_t)
    k_inv = fx.from_float(1.0 / dim, acc_t)

    def ordered_sum(values: np.ndarray) -> np.ndarray:
        total = np.zeros(len(values), dtype=np.int64)
        for i in range(dim):
            total = fx.cast(*fx.add(total, acc_t, values[:, i], acc_t), acc_t)
        return total

    mean = fx.cast(*fx.mul(ordered_sum(rows), acc_t, k_inv, acc_t), acc_t)
    diff = fx.cast(*fx.sub(rows, acc_t, mean[:, None], acc_t), acc_t)
    squares = fx.cast(*fx.mul(diff, acc_t, diff, acc_t), acc_t)
    var = fx.cast(*fx.mul(ordered_sum(squares), acc_t, k_inv, acc_t), acc_t)
    index = _int_of(var * table.size * (1 << int(layer.attrs["table_range_power2"])), acc_t.frac_bits)
    inv = table[np.clip(index, 0, table.size - 1)][:, None]
    v, v_t = fx.mul(*fx.mul(diff, acc_t, inv, layer.types["table_t"]), layer.arrays["scale"], layer.types["scale_t"])
    out = fx.cast(*fx.add(v, v_t, layer.arrays["bias"], layer.types["bias_t"]), layer.result_t)
    return out.reshape(len(x), *layer.shape)


@handler("reshape", wide=True, floats=True)
def _reshape(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType], floats: bool = False) -> np.ndarray:
    """Reshape/Flatten: io_parallel arrays are flat in C order, so only the shape changes (a view when the type
    stays too)."""
    (x,), (x_t,) = inputs, in_types
    x = x if floats else fx.words(x, x_t)
    return _to_result(layer, x.reshape(x.shape[0], *layer.shape), x_t)


# ------------------------------------------------------------------------------------------------------------
# A deployed trigger path's blocks around the network (its emulator wrapper's C++)
# ------------------------------------------------------------------------------------------------------------


@handler("offset_shift")
def _offset_shift(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """Input scaling of a deployed path, per feature i:
    ``work_t d = x[i] - offset[i]; res_T r = d >> shift[i];`` -- the exact difference assigned to work_t, its word
    shifted inside work_t (ap_fixed's ``>>``: arithmetic, dropped bits lost; a negative amount shifts left, the top
    bits lost), then converted to res_T with res_T's rounding and overflow modes."""
    (x,), (x_t,) = inputs, in_types
    offset, offset_t, work_t = layer.arrays["offset"], layer.types["offset_t"], layer.types["work_t"]
    d = fx.cast(*fx.sub(x, x_t, offset, offset_t), work_t)
    shift = np.clip(layer.arrays["shift"], -63, 63)  # past the word's width both ways every bit is gone already
    return fx.cast(fx.shift_right(d, work_t, shift), work_t, layer.result_t)


DOUBLE_BITS = 53  # the significand of an IEEE double: integers of up to 53 bits convert to it exactly


def _offset_divide_fits(layer: Layer, in_types: list[FixedType]) -> None:
    """The difference converts to a double exactly (at most 53 significant bits), and no divisor is zero."""
    diff_t = fx.sub_type(in_types[0], layer.types["offset_t"])
    if diff_t.width > DOUBLE_BITS:
        raise ValueError(f"x - offset is {diff_t}, past the {DOUBLE_BITS} bits a double holds exactly")
    if layer.types["divisor_t"].width > DOUBLE_BITS or not layer.arrays["divisor"].all():
        raise ValueError("a divisor is zero or past the bits a double holds exactly")


@handler("offset_divide", _offset_divide_fits)
def _offset_divide(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """Input scaling of a deployed path in floating point, per feature i:
    ``double d = x[i] - offset[i]; double q = d / divisor[i]; out[i] = static_cast<res_T>(q);`` -- the exact
    difference as a double (exact: ``_offset_divide_fits``), the IEEE double quotient (numpy's float64 division is
    the same correctly rounded operation), then res_T's ``ap_fixed(double)`` constructor."""
    (x,), (x_t,) = inputs, in_types
    d, d_t = fx.sub(x, x_t, layer.arrays["offset"], layer.types["offset_t"])
    divisor = fx.to_float(layer.arrays["divisor"], layer.types["divisor_t"])
    return fx.from_float(fx.to_float(d, d_t) / divisor, layer.result_t)


@handler("square_sum")
def _square_sum(layer: Layer, inputs: list[np.ndarray], in_types: list[FixedType]) -> np.ndarray:
    """A score as a deployed wrapper computes it: ``squares[i] = x[i] * x[i]`` assigned to square_t, then
    ``nnet::reduce<square_t, N, nnet::Op_add<square_t>>`` (each sum assigned to square_t), converted to res_T."""
    (x,), (x_t,) = inputs, in_types
    sq_t = layer.types["square_t"]
    squares = fx.cast(*fx.mul(x, x_t, x, x_t), sq_t).reshape(len(x), -1)

    def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return fx.cast(*fx.add(a, sq_t, b, sq_t), sq_t)

    total = _tree_reduce(list(squares.T), add)
    return fx.cast(total, sq_t, layer.result_t).reshape(len(x), 1)


# ------------------------------------------------------------------------------------------------------------
# Network
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """One differing output word: the event, output, element, the reference's word and the word compared."""

    event: int
    output: str
    element: int
    expected: int
    got: int

    def __str__(self) -> str:
        return f"event {self.event}, output {self.output!r}[{self.element}]: expected {self.expected}, got {self.got}"


def compare_outputs(
    expected: dict[str, np.ndarray], got: dict[str, np.ndarray]
) -> tuple[np.ndarray, Mismatch | None]:  # fmt: skip
    """Per event, whether any word of any output differs (outputs by name, (events, elements) each, ``got``
    reshaped to ``expected``), and the first differing word (lowest event, then output order, then element)."""
    bad: np.ndarray | None = None
    first = None
    for name, ref in expected.items():
        ref = np.asarray(ref).reshape(len(ref), -1)
        mine = np.asarray(got[name]).reshape(ref.shape)
        diff = ref != mine
        bad = diff.any(axis=1) if bad is None else bad | diff.any(axis=1)
        if diff.any():
            e, j = (int(v) for v in np.argwhere(diff)[0])
            if first is None or e < first.event:
                first = Mismatch(e, name, j, int(ref[e, j]), int(mine[e, j]))
    return (bad if bad is not None else np.zeros(0, dtype=bool)), first


@dataclass(frozen=True)
class TraceDifference:
    """First difference between two traces: layer (in execution order), flat neuron index, event, values."""

    layer: str
    event: int
    neuron: int
    expected: float
    got: float
    n_events: int

    def __str__(self) -> str:
        return (
            f"first difference in layer {self.layer!r}, neuron {self.neuron}, event {self.event}: "
            f"expected {self.expected!r}, got {self.got!r} ({self.n_events} events differ in this layer)"
        )


# float32 bytes of the widest layer per step of ``Network.run``. Measured per 1e5 events (best of 5, bench/import.py's
# projects): the CICADA student on int64 / int16 words 58.5 / 45.8 ms at 2 MiB (one core's L2), 51.9 / 40.8 ms at
# 8 MiB, 55.5 / 46.8 ms at 32 MiB; the AXOL1TL encoder 14.0 ms at 2 MiB and 13.3 ms at 8 MiB, the pruned MLP 5.3
# and 5.0 ms (capped at 32,768 events)
CHUNK_BYTES = 2**23


class Network:
    """A loaded spec; ``run`` and ``trace`` take float or raw inputs and return raw outputs."""

    def __init__(self, spec: dict[str, Any], arrays: dict[str, np.ndarray], source: str = "<memory>") -> None:
        self.source = source
        if spec.get("format") != SPEC_FORMAT:
            raise SpecError(f"{source}: not an l1t network spec (format {spec.get('format')!r})")
        if spec.get("version") not in READABLE_VERSIONS:
            raise SpecError(
                f"{source}: spec version {spec.get('version')!r}, this l1t reads versions {READABLE_VERSIONS}"
            )
        spec = _upgrade(spec, source)
        self.spec = spec
        try:
            self.inputs = [(i["name"], tuple(i["shape"]), fx.parse(i["type"])) for i in spec["inputs"]]
            self.output_names = list(spec["outputs"])
            self.layers = [self._layer(entry, arrays) for entry in spec["layers"]]
        except (KeyError, TypeError) as err:
            raise SpecError(f"{source}: malformed spec, missing or bad field {err}") from None
        self.types = {name: t for name, _, t in self.inputs} | {layer.name: layer.result_t for layer in self.layers}
        known = set(self.types)
        for layer in self.layers:
            missing = [i for i in layer.inputs if i not in known]
            if missing:
                raise SpecError(f"{source}: layer {layer.name!r} reads unknown input(s) {missing}")
        for name in self.output_names:
            if name not in known:
                raise SpecError(f"{source}: output {name!r} is not a layer of the spec")
        for layer in self.layers:
            in_types = [self.types[i] for i in layer.inputs]
            wide = [f"{key} {t}" for key, t in layer.types.items() if t.wide]
            wide += [f"input {i!r} {self.types[i]}" for i in layer.inputs if self.types[i].wide]
            if wide and layer.op not in _WIDE:
                raise SpecError(
                    f"{source}: layer {layer.name!r} (op {layer.op!r}): {', '.join(wide)} past 64 bits; the ops that "
                    f"run on wider words are {', '.join(sorted(_WIDE))}"
                )
            if layer.op in _CHECKS:
                try:
                    _CHECKS[layer.op](layer, in_types)
                except ValueError as err:
                    raise SpecError(f"{source}: layer {layer.name!r}: {err}") from None

    def _layer(self, entry: dict[str, Any], arrays: dict[str, np.ndarray]) -> Layer:
        name, op = entry["name"], entry["op"]
        if op not in _HANDLERS:
            raise SpecError(
                f"{self.source}: layer {name!r} has op {op!r}, which the emulator does not support "
                f"(supported: {', '.join(sorted(_HANDLERS))})"
            )
        try:
            types = {k: fx.parse(v) for k, v in entry["types"].items()}
        except ValueError as err:
            raise SpecError(f"{self.source}: layer {name!r}: {err}") from None
        own = {}
        for key, array_name in entry.get("arrays", {}).items():
            if array_name not in arrays:
                raise SpecError(f"{self.source}: layer {name!r} needs array {array_name!r}, absent from arrays.npz")
            own[key] = np.asarray(arrays[array_name], dtype=np.int64)
        return Layer(name, op, list(entry["inputs"]), tuple(entry["shape"]), types, entry.get("attrs", {}), own)

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Load ``spec.json`` + ``arrays.npz`` from a spec directory."""
        path = Path(path)
        spec_file, arrays_file = path / "spec.json", path / "arrays.npz"
        for f in (spec_file, arrays_file):
            if not f.is_file():
                raise SpecError(f"{path}: missing {f.name}; export a model with l1t.models.export first")
        try:
            spec = json.loads(spec_file.read_text())
        except json.JSONDecodeError as err:
            raise SpecError(f"{spec_file}: invalid JSON ({err})") from None
        with np.load(arrays_file) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return cls(spec, arrays, source=str(path))

    def output_shape(self, name: str) -> tuple[int, ...]:
        """Shape (without the event axis) of an output or layer."""
        return next(layer.shape for layer in self.layers if layer.name == name)

    @property
    def output_types(self) -> dict[str, FixedType]:
        return {name: self.types[name] for name in self.output_names}

    def quantize(self, x: ArrayLike | dict[str, ArrayLike]) -> dict[str, np.ndarray]:
        """Float inputs -> raw input words, as hls4ml's bridge does (``input_t(double)``); shapes are checked."""
        given = x if isinstance(x, dict) else {self.inputs[0][0]: x}
        out = {}
        for name, shape, t in self.inputs:
            if name not in given:
                raise ValueError(f"{self.source}: input {name!r} not given")
            value = np.asarray(given[name], dtype=np.float64)
            value = value.reshape(value.shape[0], *shape) if value.ndim >= 1 and value.size else value
            if value.shape[1:] != shape:
                raise ValueError(f"{self.source}: input {name!r} has shape {value.shape[1:]}, expected {shape}")
            out[name] = fx.from_float(value, t)
        return out

    def trace(
        self, x: ArrayLike | dict[str, ArrayLike], *, raw: bool = False, replay: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Every layer's raw output (event axis first), in execution order. With ``replay`` (raw outputs of some
        layers, from another implementation), each layer reads those instead of the emulator's own: every layer is
        then judged on its own inputs."""
        values = self._execute(x, raw, replay or {})
        return {name: fx.words(v, self.types[name]) for name, v in values.items()}

    @functools.cached_property
    def _readers(self) -> dict[str, set[str]]:
        """The ops reading each input or layer output."""
        readers: dict[str, set[str]] = {}
        for layer in self.layers:
            for i in layer.inputs:
                readers.setdefault(i, set()).add(layer.op)
        return readers

    @functools.cached_property
    def _float_outputs(self) -> set[str]:
        """The layers that may hand float words on (``handler(floats=True)``): their op reads and writes them, and
        so does every layer reading them. Outputs are converted at the end."""
        return {
            layer.name
            for layer in self.layers
            if layer.op in _FLOATS and self._readers.get(layer.name, set()) <= _FLOATS
        }

    def _input_words(self, name: str, given: ArrayLike, t: FixedType) -> np.ndarray:
        """Raw input words as the layers reading them take them. Narrow integer words (int8 to int32, as event files
        keep hardware words) go as they are to layers that read float words: those convert any integer words into
        their BLAS type or through ``fx.cast``, so the words are read once, not first widened to int64."""
        given = np.asarray(given)
        readers = self._readers.get(name, {""})
        if given.dtype.kind in "iu" and given.dtype.itemsize < 8 and not t.wide and readers <= _FLOATS:
            return given
        return fx.words(given, t)

    def _execute(
        self, x: ArrayLike | dict[str, ArrayLike], raw: bool, replay: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Every layer's output words: int64, Python ints past 64 bits, or float words (``_float_outputs``)."""
        if raw:
            given = x if isinstance(x, dict) else {self.inputs[0][0]: x}
            values = {name: self._input_words(name, given[name], t) for name, _, t in self.inputs if name in given}
        else:
            values = self.quantize(x)
        floats = self._float_outputs
        for layer in self.layers:
            ins = [np.asarray(replay[i]).reshape(values[i].shape) if i in replay else values[i] for i in layer.inputs]
            types = [self.types[i] for i in layer.inputs]
            if layer.op in _FLOATS:
                out = _HANDLERS[layer.op](layer, ins, types, floats=layer.name in floats)
            else:
                out = _HANDLERS[layer.op](layer, ins, types)
            keep = out.dtype.kind == "f" and layer.name in floats
            values[layer.name] = out if keep else fx.words(out, layer.result_t)  # int64, or Python ints
        return values

    @property
    def chunk(self) -> int:
        """Events per step of ``run``: the power of two (1,024 to 32,768) at which the widest layer's float32
        words fill about ``CHUNK_BYTES``, so each layer's temporaries stay in the last-level cache while the fixed
        cost of each step (a handler call and a BLAS call per layer) is spread over many events."""
        widest = max(int(np.prod(shape)) for shape in [s for _, s, _ in self.inputs] + [la.shape for la in self.layers])
        return int(np.clip(2 ** int(np.log2(CHUNK_BYTES / (4 * widest))), 1024, 32768))

    def run(
        self, x: ArrayLike | dict[str, ArrayLike], *, raw: bool = False, chunk: int | None = None
    ) -> dict[str, np.ndarray]:
        """Raw outputs of the network, by output name, flattened per event as hls4ml returns them.

        Events are processed ``chunk`` at a time (default: ``self.chunk``) so the intermediate arrays stay in cache
        (results do not depend on it). BLAS runs on one thread meanwhile (``l1t.emulator.blas``; restored after).
        Applications that run many chunks also keep the temporaries' blocks in the heap
        (``l1t.emulator.allocator.keep_large_blocks``, a process-wide choice the ``l1t`` command makes).
        """
        chunk = chunk or self.chunk
        given = x if isinstance(x, dict) else {self.inputs[0][0]: x}
        given = {k: np.asarray(v) for k, v in given.items()}
        n = len(next(iter(given.values())))
        parts = []
        with serial_blas():
            for start in range(0, max(n, 1), chunk):
                part = {k: v[start : start + chunk] for k, v in given.items()}
                values = self._execute(part, raw, {})
                for name in self.output_names:
                    values[name] = fx.words(values[name], self.types[name])
                parts.append({name: values[name].reshape(values[name].shape[0], -1) for name in self.output_names})
        if len(parts) == 1:
            return parts[0]
        return {name: np.concatenate([p[name] for p in parts]) for name in self.output_names}

    def raw_trace(self, values: dict[str, ArrayLike]) -> dict[str, np.ndarray]:
        """Float per-layer values (e.g. ``hls_model.trace`` with float64 inputs) as raw words of each layer's type."""
        out = {}
        for name, v in values.items():
            if name in self.types:
                v = np.asarray(v, dtype=np.float64)
                out[name] = fx.from_float(v.reshape(v.shape[0], -1), self.types[name])
        return out

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def run_float(self, x: ArrayLike | dict[str, ArrayLike]) -> dict[str, np.ndarray]:
        """Outputs as float64 values (exact for widths up to 53 bits)."""
        out = self.run(x)
        return {name: fx.to_float(v, self.types[name]) for name, v in out.items()}


def _upgrade(spec: dict[str, Any], source: str) -> dict[str, Any]:
    """A version-1 spec in version 2's terms. Version 1 stored a concatenate's Keras axis (the batch axis counted,
    negative axes from the end); version 2 stores the axis within one event."""
    if spec["version"] == SPEC_VERSION:
        return spec
    layers = []
    for entry in spec.get("layers", []):
        if entry.get("op") == "concatenate":
            axis, ndim = int(entry["attrs"]["axis"]), len(entry["shape"])
            if axis == 0:
                raise SpecError(f"{source}: layer {entry['name']!r} concatenates along the batch axis")
            entry = {**entry, "attrs": {**entry["attrs"], "axis": axis - 1 if axis > 0 else axis + ndim}}
        layers.append(entry)
    return {**spec, "version": SPEC_VERSION, "layers": layers}


def _scalar(v: Any) -> Any:
    """A numpy scalar as its Python value; Python ints (wide words) as they are."""
    return v.item() if isinstance(v, np.generic) else v


def compare_traces(
    expected: dict[str, np.ndarray], got: dict[str, np.ndarray], order: list[str]
) -> TraceDifference | None:
    """The first layer (in ``order``) and neuron where two traces differ, or None if every layer agrees.

    Both traces hold one array per layer with the event axis first; they are compared flat per event.
    """
    for name in order:
        if name not in expected or name not in got:
            continue
        e = np.asarray(expected[name]).reshape(len(expected[name]), -1)
        g = np.asarray(got[name]).reshape(len(got[name]), -1)
        diff = e != g
        if diff.any():
            event, neuron = (int(v) for v in np.argwhere(diff)[0])
            return TraceDifference(
                name, event, neuron, _scalar(e[event, neuron]), _scalar(g[event, neuron]), int(diff.any(axis=1).sum())
            )
    return None
