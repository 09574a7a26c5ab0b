"""Export Keras/QKeras models through hls4ml into an emulator spec (``spec.json`` + ``arrays.npz``).

The hls4ml model is built with ``io_parallel`` and the Latency strategy; every precision in the spec is read from
the hls4ml model after its optimizer passes (the types its C++ is compiled with), weights are taken from the same
decimal strings hls4ml writes into the project, and lookup tables from hls4ml's own table initialisers.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.atomic import atomic_path
from l1t.emulator.nn import (
    PLAIN_ELU_ALPHA_T,
    RELU_MAX_INT,
    SELU_LAMBDA_T,
    SPEC_FORMAT,
    SPEC_VERSION,
    Network,
    SpecError,
)
from l1t.extras import require
from l1t.models.da_graph import DaGraphError, da_matrix
from l1t.models.hls_tables import TABLE_ACTIVATIONS, compute_tables, rendered_config
from l1t.models.sums import (
    UNIT_PRODUCTS,
    UNIT_WEIGHT_T,
    depthwise_kernel,
    dyadic_words,
    exact_accum,
    order_free,
    reuse_factor_error,
    unit_weights,
)

__all__ = [
    "SUPPORTED_IO",
    "SUPPORTED_STRATEGIES",
    "UnsupportedLayer",
    "convert",
    "export",
    "export_hls_model",
    "exported_layers",
    "hls_config",
    "save_spec",
    "with_strategy",
]


class UnsupportedLayer(ValueError):
    """An hls4ml layer the emulator has no handler for."""


def hls_config(
    model: Any,
    *,
    default_precision: str = "ap_fixed<16,6>",
    overrides: dict[str, dict[str, Any]] | None = None,
    trace: bool = False,
) -> dict[str, Any]:
    """hls4ml configuration with per-layer ('name') granularity, optionally overridden per layer."""
    require("ml", "hls4ml conversion")
    import hls4ml

    with warnings.catch_warnings():  # Keras 2.15 warns when QKeras quantizers are serialized as constraints
        warnings.filterwarnings("ignore", message=r"The .keras.constraints.serialize\(\). API")
        config = hls4ml.utils.config_from_keras_model(
            model, granularity="name", backend="Vitis", default_precision=default_precision
        )
    config["Model"]["Strategy"] = "Latency"
    for name, layer_cfg in (overrides or {}).items():
        if name not in config["LayerName"]:
            raise KeyError(f"override for layer {name!r}, which the model does not have")
        for key, value in layer_cfg.items():
            if isinstance(value, dict):
                config["LayerName"][name].setdefault(key, {}).update(value)
            else:
                config["LayerName"][name][key] = value
    if trace:
        for layer_cfg in config["LayerName"].values():
            layer_cfg["Trace"] = True
    return config


def convert(
    model: Any,
    output_dir: str | Path,
    *,
    config: dict[str, Any] | None = None,
    part: str = "xcvu13p-flga2577-2-e",
    clock_period: float = 5.0,
    backend: str = "Vitis",
    io_type: str = "io_parallel",
) -> Any:
    """hls4ml model of a Keras/QKeras model (io_parallel unless ``io_type`` says otherwise); not compiled.

    When the configuration traces layers, the project is also written with hls4ml's trace points (as
    ``hls_model.trace`` would), so its per-layer outputs can be read from the project directory later."""
    require("ml", "hls4ml conversion")
    import hls4ml

    config = config or hls_config(model)
    hls_model = hls4ml.converters.convert_from_keras_model(
        model,
        hls_config=config,
        output_dir=str(output_dir),
        backend=backend,
        io_type=io_type,
        part=part,
        clock_period=clock_period,
    )
    if any(layer.get("Trace") for layer in config.get("LayerName", {}).values()):
        hls_model.config.trace_output = True
    return hls_model


# ------------------------------------------------------------------------------------------------------------
# hls4ml layer -> spec entry, one function per hls4ml layer class, looked up by the layer's exact class: a
# subclass (DepthwiseConv2D of Conv2D, Dot of Merge) computes something else and needs its own exporter.
# ------------------------------------------------------------------------------------------------------------

Exporter = Callable[[Any, dict[str, np.ndarray]], dict[str, Any]]
_EXPORTERS: dict[str, Exporter] = {}
SUPPORTED_IO = ("io_parallel", "io_stream")  # io_stream: the layer classes of STREAM_PROVEN
# Resource and ResourceUnrolled sum the same cast products in another order: exported where the accumulator makes
# the order irrelevant (``_require_order_free``), refused otherwise. distributed_arithmetic (da4ml's adder graphs)
# computes the exact sum and casts it to result_t: exported with an accumulator that holds that sum (``_exact_accum``).
SUPPORTED_STRATEGIES = ("Latency", "Resource", "ResourceUnrolled", "distributed_arithmetic")
# Keras classes that become the layers hls4ml's distributed-arithmetic pass takes (its Dense, Conv1D, Conv2D)
DA_KERAS_LAYERS = ("Dense", "QDense", "Conv1D", "QConv1D", "Conv2D", "QConv2D")


def with_strategy(config: dict[str, Any], model: Any, strategy: str, reuse_factor: int = 1) -> dict[str, Any]:
    """``config`` (from ``hls_config``) with ``strategy`` and ``reuse_factor`` on every layer, except the
    distributed-arithmetic strategy: hls4ml's pass takes only constant matrix products (``DA_KERAS_LAYERS``) at
    reuse factor 1 and raises on any other layer, so only those take it and the rest keep their strategy."""
    if strategy not in SUPPORTED_STRATEGIES:
        raise UnsupportedLayer(f"strategy {strategy!r} (supported: {SUPPORTED_STRATEGIES})")
    if strategy == "distributed_arithmetic":
        if reuse_factor != 1:
            raise UnsupportedLayer(f"distributed_arithmetic takes reuse factor 1, got {reuse_factor}")
        for layer in model.layers:
            if type(layer).__name__ in DA_KERAS_LAYERS and layer.name in config["LayerName"]:
                config["LayerName"][layer.name].update(Strategy=strategy, ReuseFactor=1)
        return config
    config["Model"].update(Strategy=strategy, ReuseFactor=reuse_factor)
    for layer_cfg in config["LayerName"].values():
        layer_cfg.update(Strategy=strategy, ReuseFactor=reuse_factor)
    return config


def exported_layers() -> frozenset[str]:
    """The hls4ml layer classes the exporter reads; any other is refused naming the layer and its class."""
    return frozenset(_EXPORTERS)


def _exporter(*class_names: str) -> Callable[[Exporter], Exporter]:
    def register(fn: Exporter) -> Exporter:
        for name in class_names:
            if name in _EXPORTERS:
                raise ValueError(f"hls4ml layer class {name!r} already has an exporter")
            _EXPORTERS[name] = fn
        return fn

    return register


def layer_class(layer: Any) -> str:
    """The hls4ml layer class of ``layer``: its own class, or the one a backend wrapped (``VitisDense`` -> Dense)."""
    return next(cls.__name__ for cls in type(layer).__mro__ if "_wrapped" not in cls.__dict__)


def _parse(layer: Any, definition: str, what: str) -> fx.FixedType:
    try:
        return fx.parse(definition)
    except ValueError as err:
        raise UnsupportedLayer(f"layer {layer.name!r}: {what} {definition}: {err}") from None


def _type(layer: Any, key: str) -> str:
    return str(_parse(layer, layer.types[key].precision.definition_cpp(), key))


_EXPONENT = re.compile(r"\{\s*([01])(?:\.0*)?\s*,\s*(-?\d+)(?:\.0*)?\s*\}")


def _weight(layer: Any, key: str) -> tuple[np.ndarray, str]:
    """Raw words of a weight exactly as C-sim sees them: hls4ml's decimal strings, parsed, cast to weight_t.

    Power-of-two weights (QKeras ``quantized_po2``, written as ``{sign, exponent}``) become the exact fixed-point
    values ±2**exponent in the narrowest type holding them all, where ``_po2_weight`` proves hls4ml's
    shift-based product computes exactly those products."""
    var = layer.weights[key]
    if _is_exponent(var):
        return _po2_weight(layer, key, var)
    t = _parse(layer, var.type.precision.definition_cpp(), f"{key} type")
    values = np.array([float(s) for s in var], dtype=np.float64)
    return fx.from_float(values, t).reshape(var.data.shape), str(t)


_MULTIPLICANDS = ("weight", "scale")  # the weights nnet::product multiplies the input by (dense/conv, normalize)


def _is_exponent(var: Any) -> bool:
    """A weight stored as {sign, exponent} pairs (hls4ml's ExponentType, or a backend's type derived from it)."""
    from hls4ml.model.types import ExponentType

    return isinstance(var.type, ExponentType)


def _po2_weight(layer: Any, key: str, var: Any) -> tuple[np.ndarray, str]:
    """nnet::product::weight_exponential computes ``r_T(x) << e`` (negated for sign 0) in
    r_T = ap_fixed<2 (We + Wx), We + Wx>, dropping bits shifted out on either side. The weights are returned as the
    exact values ±2**e; refused unless r_T holds every x * 2**e exactly (and its negation), so that the emulator's
    exact products are hls4ml's."""
    exponent_t = _parse(layer, var.type.precision.definition_cpp(), f"{key} exponent type")
    words = [str(s).strip() for s in var]
    parsed = [_EXPONENT.fullmatch(w) for w in words]
    bad = next((w for w, m in zip(words, parsed, strict=True) if m is None), None)
    if key not in _MULTIPLICANDS or bad is not None:
        raise UnsupportedLayer(f"layer {layer.name!r}: power-of-two {key} {bad or words[0]!r} is not supported")
    sign = np.array([int(m.group(1)) for m in parsed], dtype=np.int64)
    exponent = np.array([int(m.group(2)) for m in parsed], dtype=np.int64)
    lo, hi = int(exponent.min()), int(exponent.max())
    if lo < exponent_t.raw_min or hi > exponent_t.raw_max:
        raise UnsupportedLayer(f"layer {layer.name!r}: a weight exponent in [{lo}, {hi}] overflows {exponent_t}")
    x_t = _parse(layer, layer.get_input_variable().type.precision.definition_cpp(), "input type")
    r_bits = exponent_t.width + x_t.width  # integer and fractional bits of r_T
    x_int = x_t.int_bits + (0 if x_t.signed else 1)  # integer bits of a signed type holding every x
    if x_t.frac_bits + max(-lo, 0) > r_bits or x_int + max(hi, 0) >= r_bits:
        raise UnsupportedLayer(
            f"layer {layer.name!r}: power-of-two product of {x_t} by 2**[{lo}, {hi}] loses bits in hls4ml's "
            f"ap_fixed<{2 * r_bits},{r_bits}> product type"
        )
    t = fx.FixedType(max(hi, 0) + 2 + max(-lo, 0), max(hi, 0) + 2, True)  # ±2**e exactly, for every e in [lo, hi]
    raw = np.where(sign == 1, 1, -1) << (exponent + t.frac_bits)
    return raw.reshape(var.data.shape), str(t)


def _entry(layer: Any, op: str, types: dict[str, str], **attrs: Any) -> dict[str, Any]:
    shape = [int(d) for d in layer.get_output_variable().shape]
    return {
        "name": layer.name,
        "op": op,
        "inputs": list(layer.inputs),
        "shape": shape,
        "types": {"result_t": _type(layer, "result_t"), **types},
        "attrs": attrs,
    }


def _store(arrays: dict[str, np.ndarray], entry: dict[str, Any], key: str, value: np.ndarray) -> None:
    name = f"{entry['name']}/{key}"
    value = np.asarray(value)
    if value.dtype == object and value.size and not (-(2**63) <= value.min() and value.max() < 2**63):
        raise UnsupportedLayer(f"layer {entry['name']!r}: {key} holds words past 64 bits, which a spec cannot store")
    arrays[name] = value.astype(np.int64)
    entry.setdefault("arrays", {})[key] = name


def _strategy(layer: Any) -> str:
    """The layer's strategy as ``SUPPORTED_STRATEGIES`` spells it; others are refused."""
    strategy = str(layer.get_attr("strategy", "latency"))
    known = {s.lower().replace("_", ""): s for s in SUPPORTED_STRATEGIES}
    key = strategy.lower().replace("_", "")  # hls4ml spells ResourceUnrolled 'resource_unrolled' internally
    if key not in known:
        raise UnsupportedLayer(f"layer {layer.name!r}: strategy {strategy!r} (supported: {SUPPORTED_STRATEGIES})")
    return known[key]


_CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv2DBatchnorm", "PointwiseConv1D", "PointwiseConv2D")  # conv_*_resource_cl


def _require_order_free(layer: Any, what: str) -> None:
    """Refuse a sum whose order differs from Latency's io_parallel one unless the layer's accumulator makes order
    irrelevant (``sums.order_free``)."""
    if not order_free(fx.parse(_type(layer, "accum_t"))):
        raise UnsupportedLayer(
            f"layer {layer.name!r}: {what} with accum_t {_type(layer, 'accum_t')}: its summation order differs from "
            "Latency's and only a wrapping accumulator (AP_WRAP, no saturation bits) is exact in any order"
        )


def _product_weights(layer: Any) -> tuple[np.ndarray, str, np.ndarray, str, dict[str, Any]]:
    """Weight and bias of a dense/conv layer as raw words, weight in (inputs, outputs) order, and the strategy
    attributes for the spec. Resource strategies store the weights transposed (outputs first): undone here; they
    are accepted only where the accumulation order does not matter."""
    strategy = _strategy(layer)
    if strategy == "distributed_arithmetic":  # the matrix da4ml's adder graph computes, proven exact
        weight, weight_t, bias, bias_t = _da_weights(layer)
        return weight, weight_t, bias, bias_t, {"strategy": strategy, "reuse_factor": 1}
    weight, weight_t = _weight(layer, "weight")
    bias, bias_t = _weight(layer, "bias")
    if (product := _check_product(layer, "weight")) in UNIT_PRODUCTS:  # binary/ternary words: their factors
        weight, weight_t = unit_weights(product, weight), str(UNIT_WEIGHT_T)
    if strategy in ("Resource", "ResourceUnrolled"):
        _require_order_free(layer, f"{strategy} strategy")
        if layer.get_attr("_weights_transposed", False):
            weight = np.moveaxis(weight, 0, -1)  # (outputs, ...) -> (..., outputs)
    reuse_factor = int(layer.get_attr("reuse_factor", 1))
    if strategy == "Resource":
        n_out = weight.shape[-1]
        parallel = str(layer.model.config.get_config_value("IOType")) == "io_parallel"
        convolution = parallel and layer.class_name in _CONVOLUTIONS
        if error := reuse_factor_error(weight.size // n_out, n_out, reuse_factor, convolution):
            raise UnsupportedLayer(f"layer {layer.name!r}: {error}")
    attrs = {"strategy": strategy, "reuse_factor": reuse_factor}
    return weight, weight_t, bias, bias_t, attrs


def _da_weights(layer: Any) -> tuple[np.ndarray, str, np.ndarray, str]:
    """A distributed_arithmetic layer's kernel and bias, read back from its adder graph (``da_graph``), each as raw
    words of the narrowest type holding every coefficient exactly."""
    code = layer.get_attr("da_codegen")
    function = f"dense_da_{layer.get_attr('index')}"
    x_t = _parse(layer, layer.get_input_variable().type.precision.definition_cpp(), "input type")
    n_out = int(layer.get_attr("n_filt", 0) or layer.get_attr("n_out"))
    rows = int(re.search(rf"{function}\s*\(\s*inp_t\s+model_inp\[(\d+)\]", code.code).group(1))
    try:
        kernel, bias = da_matrix(code.code, function, x_t, rows, n_out)
    except DaGraphError as err:
        raise UnsupportedLayer(f"layer {layer.name!r}: {err}") from None
    (weight, weight_t), (bias, bias_t) = dyadic_words(kernel), dyadic_words(bias)
    return weight, str(weight_t), bias, str(bias_t)


def _accum_type(layer: Any, strategy: dict[str, Any], weight: np.ndarray, weight_t: str, bias: np.ndarray,
                bias_t: str) -> str:  # fmt: skip
    """accum_t as the layer's C++ accumulates: its own, or for distributed_arithmetic the exact sum's type."""
    if strategy["strategy"] != "distributed_arithmetic":
        return _type(layer, "accum_t")
    return str(_exact_accum(layer, weight, fx.parse(weight_t), bias, fx.parse(bias_t)))


def _exact_accum(layer: Any, weight: np.ndarray, w_t: fx.FixedType, bias: np.ndarray, b_t: fx.FixedType) -> Any:
    """``sums.exact_accum`` for the layer's input type."""
    x_t = _parse(layer, layer.get_input_variable().type.precision.definition_cpp(), "input type")
    try:
        return exact_accum(x_t, weight, w_t, bias, b_t)
    except ValueError as err:
        raise UnsupportedLayer(f"layer {layer.name!r}: {err}") from None


def _check_product(layer: Any, key: str) -> str:
    """The layer's product (``_product_kind``), refusing products other than ``mult``, ``weight_exponential``
    (exact for the weights ``_po2_weight`` accepted) and the binary and ternary weights' (``sums.unit_weights``),
    and a product that does not match how the weight is stored."""
    product = _product_kind(layer)
    if product not in ("mult", "weight_exponential", *UNIT_PRODUCTS):
        raise UnsupportedLayer(f"layer {layer.name!r}: product {product!r} is not supported")
    if (product == "weight_exponential") != _is_exponent(layer.weights[key]):
        raise UnsupportedLayer(f"layer {layer.name!r}: product {product!r} with {key} type {layer.weights[key].type}")
    return product


def _product_kind(layer: Any) -> str:
    """The nnet::product the layer's C++ multiplies with (``mult`` unless hls4ml chose another)."""
    config = layer.get_attr("config_cpp") or ""
    found = re.search(r"using\s+product\s*=\s*nnet::product::(\w+)", config)
    return found.group(1) if found else str(layer.get_attr("product_type", None) or "mult")


@_exporter("Dense")
def _dense(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    weight, weight_t, bias, bias_t, strategy = _product_weights(layer)
    accum_t = _accum_type(layer, strategy, weight, weight_t, bias, bias_t)
    types = {"weight_t": weight_t, "bias_t": bias_t, "accum_t": accum_t}
    entry = _entry(layer, "dense", types, **strategy)
    _store(arrays, entry, "weight", weight.reshape(int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))))
    _store(arrays, entry, "bias", bias)
    return entry


def _geometry(layer: Any, spatial: int) -> dict[str, Any]:
    """Kernel, stride and padding of a 1D/2D conv or pool, in (height, width) order."""
    dims = ("height", "width")[2 - spatial :]
    prefix = "filt" if layer.get_attr("filt_width") is not None else "pool"
    pad_names = [("pad_top", "pad_bottom"), ("pad_left", "pad_right")][2 - spatial :]
    return {
        "kernel": [int(layer.get_attr(f"{prefix}_{d}")) for d in dims],
        "stride": [int(layer.get_attr(f"stride_{d}")) for d in dims],
        "pads": [int(layer.get_attr(p, 0)) for pair in pad_names for p in pair],
    }


def _conv(spatial: int, depthwise: bool = False) -> Exporter:
    """conv_{1,2}d_latency_cl; depthwise: depthwise_conv_{1,2}d_latency_cl, a convolution with the kernel
    ``sums.depthwise_kernel``."""

    def export_conv(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        if str(layer.get_attr("data_format", "channels_last")) != "channels_last":
            raise UnsupportedLayer(f"layer {layer.name!r}: only channels_last convolutions are supported")
        if int(layer.get_attr("dilation", 1) or 1) != 1:
            raise UnsupportedLayer(f"layer {layer.name!r}: dilated convolutions are not supported")
        weight, weight_t, bias, bias_t, strategy = _product_weights(layer)
        accum_t = _accum_type(layer, strategy, weight, weight_t, bias, bias_t)
        types = {"weight_t": weight_t, "bias_t": bias_t, "accum_t": accum_t}
        entry = _entry(layer, f"conv{spatial}d", types, **_geometry(layer, spatial), **strategy)
        channels = int(layer.get_attr("n_chan"))
        if depthwise:
            if strategy["strategy"] != "Latency":
                raise UnsupportedLayer(f"layer {layer.name!r}: depthwise convolution with {strategy['strategy']}")
            if int(layer.get_attr("depth_multiplier", 1)) != 1:
                raise UnsupportedLayer(f"layer {layer.name!r}: depthwise convolution with depth_multiplier != 1")
            weight = depthwise_kernel(weight.reshape(-1, channels))  # (kernel offsets, channel)
        _store(arrays, entry, "weight", weight.reshape(-1, int(layer.get_attr("n_filt"))))
        _store(arrays, entry, "bias", bias.ravel())
        return entry

    return export_conv


_exporter("Conv1D", "PointwiseConv1D")(_conv(1))
_exporter("Conv2D", "Conv2DBatchnorm", "PointwiseConv2D")(_conv(2))
_exporter("DepthwiseConv1D")(_conv(1, depthwise=True))
_exporter("DepthwiseConv2D")(_conv(2, depthwise=True))


def _pool(spatial: int) -> Exporter:
    def export_pool(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        mode = str(layer.get_attr("pool_op")).lower()
        if mode not in ("max", "average"):
            raise UnsupportedLayer(f"layer {layer.name!r}: pooling op {mode!r} is not supported")
        attrs = {**_geometry(layer, spatial), "mode": mode, "count_pad": bool(layer.get_attr("count_pad", False))}
        return _entry(layer, "pool", {"accum_t": _type(layer, "accum_t")}, **attrs)

    return export_pool


_exporter("Pooling1D")(_pool(1))
_exporter("Pooling2D")(_pool(2))


# Activation names -> emulator op; those in TABLE_ACTIVATIONS also carry their table (hls_tables)
_ACTIVATIONS = {
    "linear": "linear",
    "relu": "relu",
    "binary_tanh": "binary_tanh",
    "ternary_tanh": "ternary_tanh",
    **{name: name for name in TABLE_ACTIVATIONS},
    **{name: "relu_max" for name in RELU_MAX_INT},
}


@_exporter("Activation", "TernaryTanh")
def _activation(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    activation = str(layer.get_attr("activation")).lower()
    if activation not in _ACTIVATIONS:
        raise UnsupportedLayer(f"layer {layer.name!r}: activation {activation!r} is not supported")
    types = {"table_t": _type(layer, "table_t")} if activation in TABLE_ACTIVATIONS else {}
    if activation == "elu":
        types["param_t"] = str(PLAIN_ELU_ALPHA_T)
    if activation == "selu":  # lambda is an ap_ufixed<16,1> in io_parallel, the input's own type in io_stream
        stream = str(layer.model.config.get_config_value("IOType")) == "io_stream"
        types["lambda_t"] = _type_of_input(layer) if stream else str(SELU_LAMBDA_T)
    relu_max = {"max_int": RELU_MAX_INT[activation]} if activation in RELU_MAX_INT else {}
    entry = _entry(layer, _ACTIVATIONS[activation], types, **relu_max)
    if activation == "elu":
        _store(arrays, entry, "alpha", fx.from_float(1.0, PLAIN_ELU_ALPHA_T))
    return entry


@_exporter("ParametrizedActivation")
def _parametrized_activation(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """leaky_relu and elu with their parameter, the literal hls4ml writes converted to param_t."""
    activation = {"leakyrelu": "leaky_relu"}.get(*[str(layer.get_attr("activation")).lower()] * 2)
    if activation not in ("leaky_relu", "elu"):
        raise UnsupportedLayer(f"layer {layer.name!r}: activation {activation!r} is not supported")
    param_t = fx.parse(_type(layer, "param_t"))
    types = {"param_t": str(param_t)} | ({"table_t": _type(layer, "table_t")} if activation == "elu" else {})
    entry = _entry(layer, activation, types)
    _store(arrays, entry, "alpha", fx.from_float(float(layer.get_attr("activ_param", 1.0)), param_t))
    return entry


@_exporter("PReLU")
def _prelu(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    alpha, alpha_t = _weight(layer, "param")
    n_in = int(layer.get_attr("n_in"))
    if alpha.size != n_in:
        raise UnsupportedLayer(f"layer {layer.name!r}: {alpha.size} PReLU parameters for {n_in} inputs")
    entry = _entry(layer, "prelu", {"param_t": alpha_t})
    _store(arrays, entry, "alpha", alpha.ravel())
    return entry


@_exporter("HardActivation")
def _hard_activation(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """hard_sigmoid / hard_tanh (Keras, and QKeras quantized_sigmoid / quantized_tanh): slope and shift are the
    config's constants, the literals hls4ml writes converted to slope_t and shift_t."""
    activation = str(layer.get_attr("activation")).lower()
    if activation not in ("hard_sigmoid", "hard_tanh"):
        raise UnsupportedLayer(f"layer {layer.name!r}: activation {activation!r} is not supported")
    types = {key: _type(layer, key) for key in ("slope_t", "shift_t")}
    entry = _entry(layer, activation, types)
    for key in ("slope", "shift"):
        _store(arrays, entry, key, fx.from_float(float(layer.get_attr(key)), fx.parse(types[f"{key}_t"])))
    return entry


@_exporter("BatchNormalizationQuantizedTanh")
def _bn_quantized_tanh(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """normalize_binary_tanh / normalize_ternary_tanh: batch normalization fused with a binary or ternary
    activation into per-channel thresholds on the input (in the input type)."""
    quantize = int(layer.get_attr("quantize"))
    if quantize not in (2, 3):
        raise UnsupportedLayer(f"layer {layer.name!r}: quantize={quantize} is not supported")
    keys = ["threshold"] if quantize == 2 else ["threshold_hi", "threshold_lo"]
    entry = _entry(layer, "bn_binary_tanh" if quantize == 2 else "bn_ternary_tanh", {},
                   n_filt=int(layer.get_attr("n_filt")))  # fmt: skip
    x_t = _parse(layer, layer.get_input_variable().type.precision.definition_cpp(), "input type")
    for key in keys:
        raw, t = _weight(layer, key)
        if fx.parse(t) != x_t:  # the C++ passes them as data_T arrays
            raise UnsupportedLayer(f"layer {layer.name!r}: {key} of type {t}, input {x_t}")
        _store(arrays, entry, key, raw.ravel())
    return entry


@_exporter("Softmax")
def _softmax(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Types and sizes from the rendered config: hls4ml derives inp_norm_t (and a default accum_t) there."""
    cfg = rendered_config(layer)
    impl = cfg.constants["implementation"].rsplit("::", 1)[-1]
    if impl not in ("stable", "latency"):
        raise UnsupportedLayer(f"layer {layer.name!r}: softmax implementation {impl!r} is not supported")
    if int(cfg.constants.get("n_outer", "1")) != 1 or int(cfg.constants.get("n_inner", "1")) != 1:
        raise UnsupportedLayer(f"layer {layer.name!r}: softmax over a multi-dimensional input is not supported")
    keys = ["exp_table_t", "inv_table_t", "accum_t", "inv_inp_t"] + (["inp_norm_t"] if impl == "stable" else [])
    return _entry(layer, "softmax", {k: str(cfg.types[k]) for k in keys}, implementation=impl)


@_exporter("BatchNormalization", "ApplyAlpha")
def _batchnorm(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """nnet::normalize: ``product(x, scale) + bias`` per element, cast to res_T (ApplyAlpha is the same function)."""
    scale, scale_t = _weight(layer, "scale")
    bias, bias_t = _weight(layer, "bias")
    _check_product(layer, "scale")
    entry = _entry(layer, "batchnorm", {"scale_t": scale_t, "bias_t": bias_t}, n_filt=int(layer.get_attr("n_filt")))
    _store(arrays, entry, "scale", scale.ravel())
    _store(arrays, entry, "bias", bias.ravel())
    return entry


_MERGE_OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum")


@_exporter("Merge")
def _merge(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    op = str(layer.get_attr("op")).lower()
    if op not in _MERGE_OPS:
        raise UnsupportedLayer(f"layer {layer.name!r}: merge op {op!r} is not supported")
    return _entry(layer, op, {})


@_exporter("Dot")
def _dot(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """nnet::dot1d of two vectors (hls4ml's only Dot)."""
    product = _product_kind(layer)
    if product != "mult":
        raise UnsupportedLayer(f"layer {layer.name!r}: dot product {product!r} is not supported")
    return _entry(layer, "dot", {"accum_t": _type(layer, "accum_t")})


def _type_of_input(layer: Any) -> str:
    return str(_parse(layer, layer.get_input_variable().type.precision.definition_cpp(), "input type"))


@_exporter("LSTM", "GRU")
def _recurrent(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """nnet::lstm_stack / gru_stack (io_parallel, Latency, static or not: the same arithmetic for a fresh event)."""
    kind = layer_class(layer)
    unsupported = [
        attr for attr in ("return_state", "pass_initial_states", "time_major", "pytorch") if layer.get_attr(attr, False)
    ]
    if str(layer.get_attr("direction", "forward")) != "forward":
        unsupported.append(f"direction {layer.get_attr('direction')!r}")
    if unsupported:
        raise UnsupportedLayer(f"layer {layer.name!r}: {kind} with {', '.join(unsupported)} is not supported")
    if _strategy(layer) != "Latency":
        raise UnsupportedLayer(f"layer {layer.name!r}: {kind} with the {_strategy(layer)} strategy is not supported")
    types = {key: _type(layer, key) for key in ("accum_t", "table_t")}
    entry_arrays = {}
    products = set(re.findall(r"nnet::product::(\w+)", layer.get_attr("config_cpp") or ""))
    if products != {"mult"}:
        raise UnsupportedLayer(f"layer {layer.name!r}: {kind} products {sorted(products)} (only 'mult' is supported)")
    for key in ("weight", "recurrent_weight", "bias", "recurrent_bias"):
        entry_arrays[key], types[f"{key}_t"] = _weight(layer, key)
    types["recurrent_table_t"] = types["table_t"]
    n_state = int(entry_arrays["recurrent_weight"].shape[0])
    entry = _entry(
        layer, kind.lower(), types, n_state=n_state, return_sequences=bool(layer.get_attr("return_sequences", False)),
        activation=str(layer.get_attr("activation")).lower(),
        recurrent_activation=str(layer.get_attr("recurrent_activation")).lower(),
    )  # fmt: skip
    for key, value in entry_arrays.items():
        _store(arrays, entry, key, value)
    return entry


@_exporter("TimeDistributed")
def _time_distributed(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """hls4ml writes a TimeDistributed wrapper as a start node (read one time step), the wrapped layers, and an end
    node named ``<start>_end`` (write the step back), inside one loop over the steps."""
    start = layer.get_attr("wrapped_layer").name == layer.name + "_end"
    return _entry(layer, "time_split" if start else "time_merge", {}, steps=int(layer.get_attr("n_time_steps")))


@_exporter("LayerNormalization")
def _layernorm(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """nnet::layernormalize; its 1/sqrt table comes from hls4ml's initialiser (``hls_tables``)."""
    if _product_kind(layer) != "mult":
        raise UnsupportedLayer(f"layer {layer.name!r}: layer normalization product {_product_kind(layer)!r}")
    scale, scale_t = _weight(layer, "scale")
    bias, bias_t = _weight(layer, "bias")
    types = {"scale_t": scale_t, "bias_t": bias_t, **{key: _type(layer, key) for key in ("accum_t", "table_t")}}
    power = int(rendered_config(layer).constants["table_range_power2"])
    entry = _entry(layer, "layernorm", types, table_range_power2=power)
    _store(arrays, entry, "scale", scale.ravel())
    _store(arrays, entry, "bias", bias.ravel())
    return entry


@_exporter("Embedding")
def _embedding(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    table, table_t = _weight(layer, "embeddings")
    entry = _entry(layer, "embedding", {"embeddings_t": table_t})
    _store(arrays, entry, "embeddings", table.ravel())
    return entry


def _input_shape(layer: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in layer.get_input_variable().shape)


def _channels_last(layer: Any) -> None:
    if str(layer.get_attr("data_format", "channels_last")) != "channels_last":
        raise UnsupportedLayer(f"layer {layer.name!r}: only channels_last is supported")


def _gather(layer: Any, arrays: dict[str, np.ndarray], index: np.ndarray) -> dict[str, Any]:
    """A data-movement layer as the input element each output element takes (-1: a zero)."""
    if tuple(index.shape) != tuple(int(d) for d in layer.get_output_variable().shape):
        raise UnsupportedLayer(f"layer {layer.name!r}: output shape {index.shape} differs from hls4ml's")
    entry = _entry(layer, "gather", {})
    _store(arrays, entry, "index", index.ravel())
    return entry


def _positions(layer: Any) -> np.ndarray:
    """Flat C-order position of every input element, in the input's shape."""
    shape = _input_shape(layer)
    return np.arange(int(np.prod(shape))).reshape(shape)


def _padding(spatial: int) -> Exporter:
    """zeropad1d_cl / zeropad2d_cl: zeros around the image, every element cast to res_T."""

    def export_padding(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        _channels_last(layer)
        sides = [("pad_top", "pad_bottom"), ("pad_left", "pad_right")][2 - spatial :]
        widths = [(int(layer.get_attr(a)), int(layer.get_attr(b))) for a, b in sides] + [(0, 0)]
        return _gather(layer, arrays, np.pad(_positions(layer), widths, constant_values=-1))

    return export_padding


def _cropping(spatial: int) -> Exporter:
    """cropping1d_cl / cropping2d_cl: the image without its cropped borders."""

    def export_cropping(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        _channels_last(layer)
        sides = [("crop_top", "crop_bottom"), ("crop_left", "crop_right")][2 - spatial :]
        positions = _positions(layer)
        cut = tuple(
            slice(int(layer.get_attr(a)), positions.shape[k] - int(layer.get_attr(b))) for k, (a, b) in enumerate(sides)
        )
        return _gather(layer, arrays, positions[cut])

    return export_cropping


_exporter("ZeroPadding1D")(_padding(1))
_exporter("ZeroPadding2D")(_padding(2))
_exporter("Cropping1D")(_cropping(1))
_exporter("Cropping2D")(_cropping(2))


@_exporter("Resize")
def _resize(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """resize_nearest (UpSampling1D/2D): output pixel (i, j) takes input pixel ((i * y_ratio) >> 16,
    (j * x_ratio) >> 16) with ratio = (in << 16) / out + 1, the integer arithmetic of nnet_image.h."""
    _channels_last(layer)
    if str(layer.get_attr("algorithm", "nearest")) != "nearest":
        raise UnsupportedLayer(f"layer {layer.name!r}: resize algorithm {layer.get_attr('algorithm')!r}")
    height, width = int(layer.get_attr("in_height", 1)), int(layer.get_attr("in_width"))
    new_height, new_width = int(layer.get_attr("out_height", 1)), int(layer.get_attr("out_width"))
    channels = int(layer.get_attr("n_chan"))
    y = (np.arange(new_height) * (((height << 16) // new_height) + 1)) >> 16
    x = (np.arange(new_width) * (((width << 16) // new_width) + 1)) >> 16
    pixel = (y[:, None] * width + x[None, :]) * channels
    index = pixel[:, :, None] + np.arange(channels)
    return _gather(layer, arrays, index.reshape(layer.get_output_variable().shape))


@_exporter("Transpose")
def _transpose(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """nnet::transpose: output element i takes the input element the permutation sends to it."""
    perm = [int(p) for p in layer.get_attr("perm")]
    positions = _positions(layer)
    if sorted(perm) != list(range(positions.ndim)):
        raise UnsupportedLayer(f"layer {layer.name!r}: permutation {perm} of a {positions.ndim}-d input")
    return _gather(layer, arrays, positions.transpose(perm))


def _global_pool(spatial: int) -> Exporter:
    """global_pooling1d_cl / global_pooling2d_cl: pooling1d/2d's arithmetic with one window over the whole image
    (keepdims changes only the Keras shape: hls4ml's output is the n_filt values either way)."""

    def export_global_pool(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        _channels_last(layer)
        mode = str(layer.get_attr("pool_op")).lower()
        if mode not in ("max", "average"):
            raise UnsupportedLayer(f"layer {layer.name!r}: pooling op {mode!r} is not supported")
        kernel = list(_input_shape(layer)[:-1])
        attrs = {"kernel": kernel, "stride": kernel, "pads": [0] * (2 * spatial), "mode": mode, "count_pad": False}
        return _entry(layer, "pool", {"accum_t": _type(layer, "accum_t")}, **attrs)

    return export_global_pool


_exporter("GlobalPooling1D")(_global_pool(1))
_exporter("GlobalPooling2D")(_global_pool(2))


@_exporter("Concatenate")
def _concatenate(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """hls4ml keeps the Keras axis (batch axis counted, negative from the end); the spec stores the event's axis."""
    axis, ndim = int(layer.get_attr("axis")), len(layer.get_output_variable().shape)
    if axis == 0 or not -ndim <= axis <= ndim:
        raise UnsupportedLayer(f"layer {layer.name!r}: concatenate along axis {axis} of a {ndim}-d input")
    return _entry(layer, "concatenate", {}, axis=axis - 1 if axis > 0 else axis + ndim)


@_exporter("Reshape", "Repack")
def _reshape(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """A Reshape, and io_stream's Repack of it into arrays of another width: the same words."""
    return _entry(layer, "reshape", {})


def _export_layer(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    kind = layer_class(layer)
    if kind not in _EXPORTERS:
        raise UnsupportedLayer(
            f"layer {layer.name!r} of type {kind} is not supported by the emulator "
            f"(supported hls4ml layers: {', '.join(sorted(_EXPORTERS))})"
        )
    return _EXPORTERS[kind](layer, arrays)


# hls4ml layer classes whose io_stream C++ is proven bit-exact against the emulator (tests/test_hls4ml_layers.py runs
# every coverage row in io_stream too); any other class in an io_stream model is refused naming the layer. Stream
# convolutions and dense layers traverse their sums in their own order: accepted where that order cannot matter.
STREAM_PROVEN = frozenset(
    {
        "Activation", "ApplyAlpha", "BatchNormalization", "BatchNormalizationQuantizedTanh", "Clone", "Concatenate",
        "Conv1D", "Conv2D", "Cropping1D", "Cropping2D", "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "Embedding",
        "GlobalPooling1D", "GlobalPooling2D", "GRU", "HardActivation", "LSTM", "Merge", "ParametrizedActivation",
        "PointwiseConv1D", "PointwiseConv2D", "Pooling1D", "Pooling2D", "PReLU", "Repack", "Reshape", "Resize",
        "Softmax", "Transpose", "ZeroPadding1D", "ZeroPadding2D",
    }
)  # fmt: skip
_SUMMING = {"Dense", "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "PointwiseConv1D", "PointwiseConv2D"}


_POOLING = ("Pooling1D", "Pooling2D", "GlobalPooling1D", "GlobalPooling2D")


def _check_stream(layer: Any) -> None:
    kind = layer_class(layer)
    if kind not in STREAM_PROVEN:
        raise UnsupportedLayer(f"layer {layer.name!r} of type {kind}: not proven bit-exact in io_stream")
    if kind in ("Pooling1D", "Pooling2D"):  # the stream kernels assert on anything else (C-sim aborts)
        geometry = _geometry(layer, int(kind[-2]))
        if any(geometry["pads"]) or geometry["stride"] != geometry["kernel"]:
            raise UnsupportedLayer(f"layer {layer.name!r}: io_stream pooling needs stride == pool size and no padding")
    if kind in _SUMMING and _strategy(layer) == "distributed_arithmetic":
        raise UnsupportedLayer(f"layer {layer.name!r}: io_stream {kind} with distributed_arithmetic is not proven")
    if kind in _POOLING and str(layer.get_attr("pool_op")).lower() == "average":  # a tree of sums (nnet::reduce)
        _require_order_free(layer, "io_stream average pooling")
    if kind.startswith("PointwiseConv") and _strategy(layer) != "Latency":  # differs from the emulator (hls4ml 1.3)
        raise UnsupportedLayer(f"layer {layer.name!r}: io_stream {kind} with {_strategy(layer)} is not proven")
    if kind in _SUMMING:
        _require_order_free(layer, f"io_stream {kind}")


def _stream_pool_cast(layer: Any, entry: dict[str, Any]) -> dict[str, Any] | None:
    """io_stream pooling casts each input into its accum_t before the reduction (io_parallel reduces the inputs
    themselves): where accum_t does not hold the input type, a ``linear`` cast in front of the pool, which then reads
    it (named as the project importer names it)."""
    if layer_class(layer) not in _POOLING:
        return None
    accum_t, x_t = fx.parse(_type(layer, "accum_t")), fx.parse(_type_of_input(layer))
    if fx.holds(accum_t, x_t):
        return None
    name = f"{layer.name}_input0_cast"
    shape = [int(d) for d in layer.get_input_variable().shape]
    cast = {"name": name, "op": "linear", "inputs": entry["inputs"][:1], "shape": shape,
            "types": {"result_t": str(accum_t)}, "attrs": {}}  # fmt: skip
    entry["inputs"][0] = name
    return cast


def _check_read_once(hls_model: Any) -> None:
    """Refuse an io_stream model in which two layers read one stream: in its C++ the first read empties it, so the
    second computes on nothing (hls4ml inserts a Clone for each value two layers read, but not always)."""
    readers: dict[str, str] = {}
    for layer in hls_model.get_layers():
        if layer.name in hls_model.inputs:  # an input layer reads nothing of the model's
            continue
        for name in layer.inputs:
            if name in readers:
                raise UnsupportedLayer(
                    f"layer {layer.name!r}: io_stream value {name!r} is also read by layer {readers[name]!r}; in "
                    "hls4ml's C++ the first read empties the stream"
                )
            readers[name] = layer.name


def export_hls_model(hls_model: Any, out_dir: str | Path, *, source: dict[str, Any] | None = None) -> Network:
    """Write the spec of an already converted hls4ml model to ``out_dir`` (atomically) and return it loaded."""
    require("ml", "hls4ml conversion")
    import hls4ml

    from l1t import __version__

    io_type = str(hls_model.config.get_config_value("IOType"))
    if io_type not in SUPPORTED_IO:
        raise UnsupportedLayer(f"{hls_model.config.get_output_dir()}: io type {io_type!r} (supported: {SUPPORTED_IO})")
    arrays: dict[str, np.ndarray] = {}
    inputs, layers = [], []
    input_names = set(hls_model.inputs)
    copies: dict[str, str] = {}  # io_stream Clone outputs -> the value they copy

    def source_of(name: str) -> str:
        return copies.get(name, name)

    if io_type == "io_stream":
        _check_read_once(hls_model)
    for layer in hls_model.get_layers():
        if layer.name in input_names:
            var = layer.get_output_variable()
            inputs.append({"name": layer.name, "shape": [int(d) for d in var.shape], "type": _type(layer, "result_t")})
            continue
        if io_type == "io_stream":
            _check_stream(layer)
        if layer_class(layer) == "Clone":  # clone_stream: each output an element-wise copy of the input stream
            copies.update({out: source_of(layer.inputs[0]) for out in layer.outputs})
            continue
        entry = _export_layer(layer, arrays)
        entry["inputs"] = [source_of(name) for name in entry["inputs"]]
        cast = _stream_pool_cast(layer, entry) if io_type == "io_stream" else None
        layers += [cast, entry] if cast is not None else [entry]
    for (layer_name, table), raw in compute_tables(list(hls_model.get_layers())).items():
        entry = next(e for e in layers if e["name"] == layer_name)
        _store(arrays, entry, table, raw)
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "created_by": {"l1t": __version__, "hls4ml": hls4ml.__version__},
        "project": {
            "backend": str(hls_model.config.get_config_value("Backend")),
            "io_type": io_type,
            "strategy": str(hls_model.config.get_config_value("Strategy")),
            "output_dir": str(hls_model.config.get_output_dir()),
        },
        "source": source or {},
        "inputs": inputs,
        "outputs": [source_of(name) for name in hls_model.outputs],
        "layers": layers,
    }
    try:
        return save_spec(spec, arrays, out_dir)
    except SpecError as err:
        raise UnsupportedLayer(str(err)) from None


def save_spec(spec: dict[str, Any], arrays: dict[str, np.ndarray], out_dir: str | Path) -> Network:
    """Check the emulator runs ``spec`` (SpecError otherwise, before anything is written), then write ``spec.json``
    and ``arrays.npz`` atomically and return the network loaded back."""
    out_dir = Path(out_dir)
    Network(spec, arrays, source=str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(out_dir / "arrays.npz", lambda f: np.savez_compressed(f, **arrays))
    _write_atomic(out_dir / "spec.json", lambda f: f.write(json.dumps(spec, indent=1).encode()))
    return Network.load(out_dir)


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write through a temporary file in the same directory, then rename: readers never see half a file."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def export(
    model: Any,
    out_dir: str | Path,
    *,
    project_dir: str | Path | None = None,
    config: dict[str, Any] | None = None,
    io_type: str = "io_parallel",
) -> tuple[Network, Any]:
    """Convert a Keras/QKeras model with hls4ml and export its spec; returns (network, hls4ml model)."""
    project_dir = Path(project_dir) if project_dir is not None else Path(out_dir) / "hls4ml_prj"
    hls_model = convert(model, project_dir, config=config, io_type=io_type)
    network = export_hls_model(hls_model, out_dir, source={"keras_model": getattr(model, "name", None)})
    return network, hls_model
