"""Export Keras/QKeras models through hls4ml into an emulator spec (``spec.json`` + ``arrays.npz``).

The hls4ml model is built with ``io_parallel`` and the Latency strategy; every precision in the spec is read from
the hls4ml model after its optimizer passes (the types its C++ is compiled with), weights are taken from the same
decimal strings hls4ml writes into the project, and lookup tables from hls4ml's own table initialisers.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import emulator.fixed as fx
from emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network
from firmware.hls_tables import compute_tables, rendered_config
from l1t.atomic import atomic_path

__all__ = ["UnsupportedLayer", "convert", "export", "export_hls_model", "hls_config"]


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
) -> Any:
    """hls4ml model (io_parallel, Latency) of a Keras/QKeras model; not compiled.

    When the configuration traces layers, the project is also written with hls4ml's trace points (as
    ``hls_model.trace`` would), so its per-layer outputs can be read from the project directory later."""
    import hls4ml

    config = config or hls_config(model)
    hls_model = hls4ml.converters.convert_from_keras_model(
        model,
        hls_config=config,
        output_dir=str(output_dir),
        backend=backend,
        io_type="io_parallel",
        part=part,
        clock_period=clock_period,
    )
    if any(layer.get("Trace") for layer in config.get("LayerName", {}).values()):
        hls_model.config.trace_output = True
    return hls_model


# ------------------------------------------------------------------------------------------------------------
# hls4ml layer -> spec entry, one function per hls4ml layer class (looked up along the class hierarchy)
# ------------------------------------------------------------------------------------------------------------

Exporter = Callable[[Any, dict[str, np.ndarray]], dict[str, Any]]
_EXPORTERS: dict[str, Exporter] = {}


def _exporter(*class_names: str) -> Callable[[Exporter], Exporter]:
    def register(fn: Exporter) -> Exporter:
        for name in class_names:
            _EXPORTERS[name] = fn
        return fn

    return register


def _type(layer: Any, key: str) -> str:
    return str(fx.parse(layer.types[key].precision.definition_cpp()))


def _weight(layer: Any, key: str) -> tuple[np.ndarray, str]:
    """Raw words of a weight exactly as C-sim sees them: hls4ml's decimal strings, parsed, cast to weight_t."""
    var = layer.weights[key]
    t = fx.parse(var.type.precision.definition_cpp())
    values = np.array([float(s) for s in var], dtype=np.float64)
    return fx.from_float(values, t).reshape(var.data.shape), str(t)


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
    arrays[name] = np.asarray(value, dtype=np.int64)
    entry.setdefault("arrays", {})[key] = name


@_exporter("Dense")
def _dense(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    product = layer.get_attr("product_type", "mult")
    if str(layer.get_attr("strategy", "latency")).lower() != "latency" or product not in ("mult", None):
        raise UnsupportedLayer(f"layer {layer.name!r}: only Latency dense with plain multiplications is supported")
    weight, weight_t = _weight(layer, "weight")
    bias, bias_t = _weight(layer, "bias")
    types = {"weight_t": weight_t, "bias_t": bias_t, "accum_t": _type(layer, "accum_t")}
    entry = _entry(layer, "dense", types)
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


def _conv(spatial: int) -> Exporter:
    def export_conv(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        if str(layer.get_attr("strategy", "latency")).lower() != "latency":
            raise UnsupportedLayer(f"layer {layer.name!r}: only the Latency strategy is supported")
        weight, weight_t = _weight(layer, "weight")
        bias, bias_t = _weight(layer, "bias")
        types = {"weight_t": weight_t, "bias_t": bias_t, "accum_t": _type(layer, "accum_t")}
        entry = _entry(layer, f"conv{spatial}d", types, **_geometry(layer, spatial))
        _store(arrays, entry, "weight", weight.reshape(-1, int(layer.get_attr("n_filt"))))
        _store(arrays, entry, "bias", bias.ravel())
        return entry

    return export_conv


_exporter("Conv1D")(_conv(1))
_exporter("Conv2D")(_conv(2))


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


_SIMPLE_ACTIVATIONS = {"linear", "relu", "sigmoid", "tanh"}


@_exporter("Activation")
def _activation(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    activation = str(layer.get_attr("activation")).lower()
    if activation not in _SIMPLE_ACTIVATIONS:
        raise UnsupportedLayer(f"layer {layer.name!r}: activation {activation!r} is not supported")
    types = {"table_t": _type(layer, "table_t")} if activation in ("sigmoid", "tanh") else {}
    return _entry(layer, activation, types)


@_exporter("ParametrizedActivation")
def _parametrized_activation(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    activation = str(layer.get_attr("activation")).lower()
    if activation not in ("leaky_relu", "leakyrelu"):
        raise UnsupportedLayer(f"layer {layer.name!r}: activation {activation!r} is not supported")
    param_t = fx.parse(layer.types["param_t"].precision.definition_cpp())
    entry = _entry(layer, "leaky_relu", {"param_t": str(param_t)})
    _store(arrays, entry, "alpha", fx.from_float(float(layer.get_attr("activ_param")), param_t))
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


@_exporter("BatchNormalization")
def _batchnorm(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    scale, scale_t = _weight(layer, "scale")
    bias, bias_t = _weight(layer, "bias")
    entry = _entry(layer, "batchnorm", {"scale_t": scale_t, "bias_t": bias_t}, n_filt=int(layer.get_attr("n_filt")))
    _store(arrays, entry, "scale", scale.ravel())
    _store(arrays, entry, "bias", bias.ravel())
    return entry


@_exporter("Merge")
def _merge(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    op = str(layer.get_attr("op")).lower()
    if op not in ("add", "subtract", "multiply"):
        raise UnsupportedLayer(f"layer {layer.name!r}: merge op {op!r} is not supported")
    return _entry(layer, op, {})


@_exporter("Concatenate")
def _concatenate(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return _entry(layer, "concatenate", {}, axis=int(layer.get_attr("axis")))


@_exporter("Reshape")
def _reshape(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return _entry(layer, "reshape", {})


def _export_layer(layer: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    for cls in type(layer).__mro__:
        if cls.__name__ in _EXPORTERS:
            return _EXPORTERS[cls.__name__](layer, arrays)
    raise UnsupportedLayer(
        f"layer {layer.name!r} of type {getattr(layer, 'class_name', type(layer).__name__)} is not supported by the "
        f"emulator (supported hls4ml layers: {', '.join(sorted(_EXPORTERS))})"
    )


def export_hls_model(hls_model: Any, out_dir: str | Path, *, source: dict[str, Any] | None = None) -> Network:
    """Write the spec of an already converted hls4ml model to ``out_dir`` (atomically) and return it loaded."""
    import hls4ml

    from l1t import __version__

    if str(hls_model.config.get_config_value("IOType")) != "io_parallel":
        raise ValueError("only io_parallel hls4ml models can be exported")
    arrays: dict[str, np.ndarray] = {}
    inputs, layers = [], []
    input_names = set(hls_model.inputs)
    for layer in hls_model.get_layers():
        if layer.name in input_names:
            var = layer.get_output_variable()
            inputs.append({"name": layer.name, "shape": [int(d) for d in var.shape], "type": _type(layer, "result_t")})
            continue
        layers.append(_export_layer(layer, arrays))
    for (layer_name, table), raw in compute_tables(list(hls_model.get_layers())).items():
        entry = next(e for e in layers if e["name"] == layer_name)
        _store(arrays, entry, table, raw)
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "created_by": {"l1t": __version__, "hls4ml": hls4ml.__version__},
        "project": {
            "backend": str(hls_model.config.get_config_value("Backend")),
            "io_type": "io_parallel",
            "strategy": "Latency",
            "output_dir": str(hls_model.config.get_output_dir()),
        },
        "source": source or {},
        "inputs": inputs,
        "outputs": list(hls_model.outputs),
        "layers": layers,
    }
    out_dir = Path(out_dir)
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
) -> tuple[Network, Any]:
    """Convert a Keras/QKeras model with hls4ml and export its spec; returns (network, hls4ml model)."""
    project_dir = Path(project_dir) if project_dir is not None else Path(out_dir) / "hls4ml_prj"
    hls_model = convert(model, project_dir, config=config)
    network = export_hls_model(hls_model, out_dir, source={"keras_model": getattr(model, "name", None)})
    return network, hls_model
