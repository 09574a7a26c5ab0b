"""Facts about the sums of dense and convolution layers, shared by the Keras-path exporter and the project importer:
when the accumulation order cannot matter, and the exact type of a distributed-arithmetic layer's sum."""

from __future__ import annotations

import numpy as np

import l1t.emulator.fixed as fx

__all__ = ["dyadic_words", "exact_accum", "order_free"]


def order_free(x_t: fx.FixedType, w_t: fx.FixedType, acc_t: fx.FixedType) -> bool:
    """Whether the accumulation order cannot change the result: a wrapping accum_t (no saturation bits) with at
    least the products' fractional bits makes each cast a reduction modulo 2**W, and a sum of such residues is the
    residue of the sum, in any order."""
    return acc_t.wraps and acc_t.frac_bits >= fx.mul_type(x_t, w_t).frac_bits


def exact_accum(
    x_t: fx.FixedType, weight: np.ndarray, w_t: fx.FixedType, bias: np.ndarray, b_t: fx.FixedType
) -> fx.FixedType:  # fmt: skip
    """A wrapping type holding every ``bias + sum x * w`` exactly, for the worst input of type ``x_t``: da4ml's adder
    graph computes that sum without loss (its intermediate types are derived from the same bounds) and the layer's
    output is its cast to result_t, so the emulator's dense arithmetic in this type gives the same bits. Raises
    ValueError past 64 bits."""
    frac = max(x_t.frac_bits + w_t.frac_bits, b_t.frac_bits)
    x_max = max(abs(x_t.raw_min), abs(x_t.raw_max))
    w = np.abs(weight.reshape(-1, np.shape(weight)[-1])).astype(object)
    bound = (w.sum(axis=0) * x_max) * (1 << (frac - x_t.frac_bits - w_t.frac_bits))
    bound = bound + np.abs(bias.ravel()).astype(object) * (1 << (frac - b_t.frac_bits))
    width = int(max(bound)).bit_length() + 1
    if width > 64:
        raise ValueError(f"distributed_arithmetic sum needs {width} bits, past int64")
    return fx.FixedType(width, width - frac, True)


def dyadic_words(values: np.ndarray) -> tuple[np.ndarray, fx.FixedType]:
    """Exact rationals with power-of-two denominators -> (raw words, the narrowest signed type holding them)."""
    frac = max((int(v.denominator).bit_length() - 1 for v in values.ravel()), default=0)
    raw = np.array([int(v * (1 << frac)) for v in values.ravel()], dtype=np.int64).reshape(values.shape)
    width = max(int(np.abs(raw).max(initial=0)).bit_length() + 1, 2)
    return raw, fx.FixedType(width, width - frac, True)
