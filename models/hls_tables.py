"""Lookup tables of hls4ml activations, computed by hls4ml's own C++ (``nnet_activation.h``) and read back raw.

hls4ml fills its sigmoid/tanh/softmax tables at run time with single-precision libm calls. Re-deriving them in
numpy risks one-ulp differences that flip table entries, so each table-driven layer's own rendered config
(``config_cpp``, with its typedefs) is compiled with g++ against the installed hls4ml templates, the table
initialiser hls4ml itself calls is run, and the raw words are returned.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from l1t.cpp import compile_shared, cpp_raw_args
from l1t.emulator.fixed import FixedType, parse
from l1t.extras import require

__all__ = [
    "TABLE_ACTIVATIONS",
    "RenderedConfig",
    "TableRequest",
    "compute_tables",
    "nnet_include",
    "rendered_config",
    "table_requests",
]


def nnet_include() -> Path:
    """Directory holding hls4ml's ``nnet_utils`` headers (Vivado/Vitis templates)."""
    require("ml", "hls4ml's activation tables")
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado"


@dataclass(frozen=True)
class RenderedConfig:
    """Typedefs and integer constants of a layer's rendered C++ config struct (what its C++ is compiled with)."""

    struct: str
    types: dict[str, FixedType]
    constants: dict[str, str]


def rendered_config(layer: Any) -> RenderedConfig:
    """Parse ``layer.get_attr('config_cpp')``; typedefs of named types resolve through the layer's own types."""
    config = layer.get_attr("config_cpp")
    struct = re.search(r"struct\s+(\w+)", config or "")
    if struct is None:
        raise RuntimeError(f"layer {layer.name!r} has no rendered config; convert the model with hls4ml first")
    named = {t.name: t.precision for t in layer.types.values()}
    named[layer.get_input_variable().type.name] = layer.get_input_variable().type.precision
    types = {}
    for value, alias in re.findall(r"typedef\s+([^;]+?)\s+(\w+)\s*;", config):
        value = value.strip()
        precision = named.get(value)
        types[alias] = parse(precision.definition_cpp() if precision is not None else value)
    constants = dict(re.findall(r"static\s+(?:const|constexpr)\s+[\w:]+\s+(\w+)\s*=\s*([^;]+);", config))
    return RenderedConfig(struct.group(1), types, {k: v.strip() for k, v in constants.items()})


@dataclass(frozen=True)
class TableRequest:
    """One table of one layer: the C++ that fills it and the type of its entries."""

    layer: str
    table: str
    size: int
    entry_type: FixedType
    fill: str  # C++ statement filling ``t`` of type ``entry_type[size]`` inside the layer's namespace
    struct: str | None = None  # the config struct ``CFG`` names (None: the layer's first)


def _typedefs(layer: Any) -> list[str]:
    defs = {}
    for named in layer.types.values():
        defs[named.name] = named.definition_cpp()
    for var in (layer.get_input_variable(),):
        defs.setdefault(var.type.name, var.type.definition_cpp())
    return list(defs.values())


# activations hls4ml computes through one table filled by ``nnet::init_<activation>_table``
TABLE_ACTIVATIONS = ("sigmoid", "tanh", "softplus", "softsign", "elu", "selu")


def table_requests(layer: Any) -> list[TableRequest]:
    """Tables an hls4ml layer uses (empty for layers without tables)."""
    if any(cls.__name__ in ("LSTM", "GRU") for cls in type(layer).__mro__):
        return _recurrent_tables(layer)
    if any(cls.__name__ == "LayerNormalization" for cls in type(layer).__mro__):
        table_t = parse(layer.types["table_t"].precision.definition_cpp())
        size = int(rendered_config(layer).constants["table_size"])
        return [TableRequest(layer.name, "table", size, table_t, f"nnet::init_invert_sqr_table<CFG, {size}>(t);")]
    if not any(cls.__name__ == "Activation" for cls in type(layer).__mro__):
        return []  # e.g. a Dense layer keeps its Keras activation name, but hls4ml runs it as a separate layer
    activation = str(layer.get_attr("activation", "")).lower()
    if activation == "softmax":
        cfg = rendered_config(layer)
        impl = cfg.constants["implementation"].rsplit("::", 1)[-1]
        exp_t, inv_t = cfg.types["exp_table_t"], cfg.types["inv_table_t"]
        n_exp, n_inv = int(cfg.constants["exp_table_size"]), int(cfg.constants["inv_table_size"])
        if impl == "stable":
            exp_fill = "nnet::init_exp_table<typename CFG::inp_norm_t, CFG>(t, true);"
        elif impl == "latency":
            # the word type the table is indexed by (in io_stream the input's type is an nnet::array of them)
            exp_fill = f"nnet::init_exp_table<{layer.get_input_variable().type.precision.definition_cpp()}, CFG>(t);"
        else:
            raise NotImplementedError(f"layer {layer.name!r}: softmax implementation {impl!r} is not supported")
        return [
            TableRequest(layer.name, "exp_table", n_exp, exp_t, exp_fill),
            TableRequest(
                layer.name, "inv_table", n_inv, inv_t, "nnet::init_invert_table<typename CFG::inv_inp_t, CFG>(t);"
            ),
        ]
    if activation in TABLE_ACTIVATIONS:
        table_t = parse(layer.types["table_t"].precision.definition_cpp())
        size = int(layer.get_attr("table_size"))
        return [TableRequest(layer.name, "table", size, table_t, f"nnet::init_{activation}_table<CFG, {size}>(t);")]
    return []


def _recurrent_tables(layer: Any) -> list[TableRequest]:
    """An LSTM's or GRU's two activation tables: the recurrent one (``<act>_config<index>_recr``) and the cell's
    (``<act>_config<index>``), both of the layer's table_t."""
    table_t = parse(layer.types["table_t"].precision.definition_cpp())
    size, index = int(layer.get_attr("table_size")), layer.get_attr("index")
    requests = []
    for key, attr, suffix in (("recurrent_table", "recurrent_activation", "_recr"), ("table", "activation", "")):
        activation = str(layer.get_attr(attr)).lower()
        if activation in ("sigmoid", "tanh"):
            struct = f"{activation}_config{index}{suffix}"
            fill = f"nnet::init_{activation}_table<CFG, {size}>(t);"
            requests.append(TableRequest(layer.name, key, size, table_t, fill, struct))
    return requests


_HEADERS = ("nnet_types.h", "nnet_recurrent.h", "nnet_layernorm.h")  # every table initialiser and config base


def _source(index: int, req: TableRequest, layer: Any) -> str:
    struct = req.struct or rendered_config(layer).struct
    ns = f"l1t_table_{index}"
    body = "\n".join(_typedefs(layer)) + "\n" + layer.get_attr("config_cpp")
    return (
        "".join(f'#include "nnet_utils/{header}"\n' for header in _HEADERS) + f"namespace {ns} {{\n{body}\n}}\n"
        f'extern "C" void table_{index}(int64_t* out) {{\n'
        f"  typedef {ns}::{struct} CFG;\n"
        f"  static {_entry_typedef(req)} t[{req.size}];\n"
        f"  using namespace {ns};\n  {req.fill}\n"
        f"  for (int i = 0; i < {req.size}; ++i) out[i] = raw_of<{cpp_raw_args(req.entry_type)}>(t[i]);\n}}\n"
    )


def _entry_typedef(req: TableRequest) -> str:
    typedefs = {"table": "CFG::table_t", "recurrent_table": "CFG::table_t"}
    return {**typedefs, "exp_table": "CFG::exp_table_t", "inv_table": "CFG::inv_table_t"}[req.table]


def compute_tables(layers: list[Any]) -> dict[tuple[str, str], np.ndarray]:
    """Raw contents of every table of the given hls4ml layers, keyed by (layer name, table name)."""
    requests = [(req, layer) for layer in layers for req in table_requests(layer)]
    if not requests:
        return {}
    parts = [_source(i, req, layer) for i, (req, layer) in enumerate(requests)]
    lib = ctypes.CDLL(str(compile_shared(parts, includes=[nnet_include()], prefix="hls_tables")))
    out = {}
    for i, (req, _) in enumerate(requests):
        raw = np.empty(req.size, dtype=np.int64)
        getattr(lib, f"table_{i}")(ctypes.c_void_p(raw.ctypes.data))
        out[(req.layer, req.table)] = raw
    return out
