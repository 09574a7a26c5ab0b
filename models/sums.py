"""Facts about the sums of dense and convolution layers, shared by the Keras-path exporter and the project importer:
when the accumulation order cannot matter, and the exact type of a distributed-arithmetic layer's sum."""

from __future__ import annotations

import numpy as np

import l1t.emulator.fixed as fx

__all__ = [
    "UNIT_PRODUCTS",
    "UNIT_WEIGHT_T",
    "depthwise_kernel",
    "dyadic_words",
    "exact_accum",
    "order_free",
    "unit_weights",
]


def order_free(acc_t: fx.FixedType) -> bool:
    """Whether the accumulation order cannot change the result: every kernel (Latency, Resource, io_stream) casts
    each product into accum_t on its own, then adds in accum_t. With a wrapping accum_t (AP_WRAP, no saturation
    bits) each cast is the product rounded by accum_t's mode (a function of that product alone) reduced modulo
    2**W, and a sum of residues is the residue of the sum, in any order. A saturating accum_t is order-dependent."""
    return acc_t.wraps


def reuse_factor_error(n_in: int, n_out: int, reuse_factor: int, convolution: bool) -> str | None:
    """Why hls4ml's Resource kernels reject a reuse factor for an ``n_in`` x ``n_out`` product, or None. Each walks
    its weights in blocks of ``ceil(n_in * n_out / RF)``, which must be whole rows of ``n_out`` unless
    ``RF >= n_in``, and the io_parallel convolution kernels (``conv_{1,2}d_resource_cl``) take ``RF <= n_in`` only;
    their C++ asserts both. l1t builds a project's C++ with NDEBUG (ap_types assert on legal casts), where a kernel
    that breaks them computes what its index walk happens to read, which is not the layer."""
    if reuse_factor < n_in and -(-n_in * n_out // reuse_factor) % n_out:
        return (
            f"reuse factor {reuse_factor} for {n_in} inputs and {n_out} outputs: hls4ml's Resource kernel asserts "
            "'The current Reuse Factor is not allowed'"
        )
    if convolution and reuse_factor > n_in:
        return f"reuse factor {reuse_factor} above the {n_in} inputs of a window: hls4ml's convolution kernel asserts"
    return None


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


def depthwise_kernel(per_channel: np.ndarray) -> np.ndarray:
    """A depthwise kernel (kernel offsets, channels) as the convolution kernel (offsets x channels, channels) that is
    zero between different channels. depthwise_conv_{1,2}d_latency_cl sums each channel's products (cast to
    accum_t, bias first, kernel offsets in order); the convolution adds the same products in the same order, and
    the zero ones, which leave an accum_t value unchanged in every mode."""
    taps, channels = per_channel.shape
    kernel = np.zeros((taps, channels, channels), dtype=per_channel.dtype)
    kernel[:, np.arange(channels), np.arange(channels)] = per_channel
    return kernel.reshape(taps * channels, channels)


UNIT_WEIGHT_T = fx.ap_int(2)  # the factor -1, 0 or +1 a binary or ternary weight stands for
UNIT_PRODUCTS = ("weight_binary", "weight_ternary")  # nnet::product classes that multiply by such a factor


def unit_weights(product: str, raw: np.ndarray) -> np.ndarray:
    """The factor each weight word of ``nnet::product::weight_binary`` / ``weight_ternary`` multiplies x by, as raw
    words of ``UNIT_WEIGHT_T``: binary returns -x for the word 0 and x otherwise; ternary 0 for 0, -x for -1 and x
    otherwise (ap_int<2>'s -2 included). Their result type, decltype(-x), holds that exactly, so each is the exact
    product of x and the factor, which the emulator forms and casts as it does any product."""
    if product == "weight_binary":
        return np.where(raw == 0, -1, 1)
    if product == "weight_ternary":
        return np.where(raw == 0, 0, np.where(raw == -1, -1, 1))
    raise ValueError(f"product {product!r} is not one of {UNIT_PRODUCTS}")
