"""One importer per ``nnet::`` function of an hls4ml project, registered by the function's name: each
turns one call of the top function (its template arguments, array arguments and config struct) into a spec entry,
the same entry the Keras-path exporter writes for that layer. Functions generated per layer (da4ml's
``dense_da_<N>``) register their family name with ``generated=True``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.cpp import cpp_raw_args, cpp_spelling
from l1t.emulator.nn import PLAIN_ELU_ALPHA_T, RELU_MAX_INT, SELU_LAMBDA_T, X_MINUS_MAX, im2col
from l1t.models.da_graph import DaGraphError, da_matrix
from l1t.models.hls_project._proven import GENERATED_MARK, definitions, tokens, unproven_definitions
from l1t.models.hls_project._source import ALIAS, Array, Call, ProjectError, Source, Struct
from l1t.models.hls_project._words import Request
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
from l1t.models.unrolled import UnrolledError, unrolled_kernel

__all__ = ["WORD_TABLE_BITS", "LayerCall", "every_element", "imported_functions", "importer_for", "own_word_table"]


@dataclass
class LayerCall:
    """One call of the top function as an importer sees it."""

    call: Call
    source: Source
    name: str
    data: list[Array]  # the arrays the layer reads
    result: Array
    inputs: list[str]  # spec names of the values read
    in_types: list[fx.FixedType]
    in_shapes: list[list[int]]
    checks: dict[str, fx.FixedType]  # C++ type -> the type l1t read, checked by the compiler (shared)
    # (request, its words -> the array stored, or None for words only checked)
    requests: list[tuple[Request, Callable[[np.ndarray], np.ndarray | None]]] = field(default_factory=list)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # arrays known without the compiler
    uses: set[str] = field(default_factory=set)  # nnet_utils definitions the entry models (``_proven``)
    spatial: dict[int, list[int]] = field(default_factory=dict)  # input index -> the shape the layer reads it in
    casts: dict[int, fx.FixedType] = field(default_factory=dict)  # input index -> the type its words are cast to first
    config_name: str | None = None  # the config struct read, when not the call's own (``sub_config``)

    @property
    def where(self) -> str:
        return f"{self.call.where} (layer {self.name!r}, nnet::{self.call.function})"

    def read_as(self, index: int, shape: list[int]) -> None:
        """Read input ``index`` (a flat io_parallel array) in ``shape`` (channels last), as convolutions and pooling
        index it; the importer gives the value that shape where it is made (a top input or a reshape)."""
        if self.data[index].size != int(np.prod(shape)):
            raise self.refuse(f"input {self.data[index].name!r} of {self.data[index].size} elements read as {shape}")
        self.spatial[index] = list(shape)

    def cast_first(self, index: int, t: fx.FixedType) -> None:
        """The layer casts each word of input ``index`` to ``t`` before anything else (io_stream pooling into its
        accum_t); the importer puts a ``linear`` cast in front of it."""
        self.casts[index] = t

    def depends(self, *names: str) -> None:
        """The ``nnet_utils`` functions and classes whose arithmetic the entry models."""
        self.uses.update(names)

    def refuse(self, what: str) -> ProjectError:
        return ProjectError(f"{self.source.firmware / self.call.where}: layer {self.name!r}: {what}")

    def sub_config(self, name: str) -> LayerCall:
        """The same call reading another config struct (a conv's ``mult_config``); what it records is shared."""
        if name not in self.source.structs:
            raise self.refuse(f"config {self.config.name} names {name!r}, which parameters.h does not define")
        return replace(self, config_name=name)

    @property
    def config(self) -> Struct:
        if self.config_name is not None:
            return self.source.structs[self.config_name]
        found = [self.source.structs[t] for t in self.call.template if t in self.source.structs]
        if len(found) != 1:
            raise self.refuse(f"nnet::{self.call.function} without exactly one config struct of parameters.h")
        return found[0]

    def const(self, key: str, default: int | None = None) -> int:
        cfg = self.config
        if key not in cfg.constants:
            if default is not None:
                return default
            raise self.refuse(f"config {cfg.name} ({cfg.where}) has no constant {key!r}")
        return self.source.value(cfg.constants[key], f"{cfg.where} {cfg.name}::{key}", cfg)

    def enum(self, key: str) -> str:
        """An enum constant's last name (``nnet::latency`` -> ``latency``)."""
        cfg = self.config
        if key not in cfg.constants:
            raise self.refuse(f"config {cfg.name} ({cfg.where}) has no constant {key!r}")
        return cfg.constants[key].rsplit("::", 1)[-1].strip()

    def alias(self, key: str) -> str | None:
        """The template a config's ``using key = ...`` names (``nnet::product::mult``), without its arguments."""
        value = self.config.aliases.get(key)
        return value.split("<", 1)[0].strip() if value is not None else None

    def config_type(self, key: str) -> fx.FixedType:
        cfg = self.config
        if key not in cfg.typedefs:
            raise self.refuse(f"config {cfg.name} ({cfg.where}) has no typedef {key!r}")
        t = self.source.type_of(cfg.typedefs[key], f"{cfg.where} {cfg.name}::{key}")
        self.checks[f"{self.source.qualified(cfg.name)}::{key}"] = t
        return t

    def template_type(self, index: int) -> fx.FixedType:
        name = self.call.template[index]
        t = self.source.type_of(name, self.where)
        self.checks[self.source.checked(name)] = t
        return t

    @property
    def result_t(self) -> fx.FixedType:
        t = self.source.type_of(self.result.cpp_type, self.where)
        self.checks[self.source.checked(self.result.cpp_type)] = t
        return t

    def words(
        self, key: str, arg: int, size: int, t: fx.FixedType, transform: Callable[[np.ndarray], np.ndarray] = np.asarray
    ) -> None:  # fmt: skip
        """Ask for the raw words of the call's ``arg``-th argument (a weight array) for array ``key``."""
        request = Request(f"{self.name}/{key}", self.call.args[arg], size, t)
        self.requests.append((request, transform))

    def table(self, key: str, size: int, t: fx.FixedType, entry_type: str, fill: str) -> None:
        """Ask for a table filled by the project's own initialiser (``fill`` on ``t``, with ``CFG`` the config)."""
        setup = f"typedef {self.source.qualified(self.config.name)} CFG; static {entry_type} t[{size}]; {fill}"
        self.requests.append((Request(f"{self.name}/{key}", "t", size, t, setup), np.asarray))

    def member(self, key: str) -> fx.FixedType:
        """Ask for the raw word of a static member of the config defined outside it (``static const slope_t
        slope;``, then ``const slope_t config::slope = 0.2;``), as the compiler initialises it; returns its type."""
        cfg = self.config
        if key not in cfg.members:
            raise self.refuse(f"config {cfg.name} ({cfg.where}) declares no static member {key!r}")
        cpp = cfg.members[key]
        t = self.source.type_of(cpp, f"{cfg.where} {cfg.name}::{key}")
        self.checks[self.source.qualified(cpp) if cpp in self.source.typedefs else cpp] = t
        setup = f"typedef {self.source.qualified(cfg.name)} CFG; static {cpp_spelling(t)} t[1] = {{CFG::{key}}};"
        self.requests.append((Request(f"{self.name}/{key}", "t", 1, t, setup), lambda raw: raw.reshape(())))
        return t

    def literal(self, arg: int, t: fx.FixedType) -> np.ndarray:
        """A call argument that is a floating-point literal (``0.2``, ``1.0f``) as the raw word of the parameter
        type ``t`` it is converted to."""
        try:
            value = float(self.call.args[arg].rstrip("fF"))
        except ValueError:
            what = self.call.args[arg]
            raise self.refuse(f"nnet::{self.call.function} parameter {what!r} is not a literal") from None
        return np.asarray(fx.from_float(value, t))

    def entry(self, op: str, types: dict[str, fx.FixedType], shape: list[int] | None = None, **attrs: Any) -> dict:
        return {
            "name": self.name,
            "op": op,
            "inputs": list(self.inputs),
            "shape": list(shape if shape is not None else self.in_shapes[0]),
            "types": {"result_t": str(self.result_t), **{k: str(v) for k, v in types.items()}},
            "attrs": attrs,
        }


Importer = Callable[[LayerCall], dict[str, Any]]


@dataclass(frozen=True)
class Signature:
    """Where a function's arrays are among its call arguments, and its importer."""

    data: tuple[int, ...]
    result: int
    fn: Importer
    generated: bool
    elementwise: bool  # each result word a function of the input word at its position alone (activations)
    over_n_in: bool  # reads and writes its config's n_in elements (activations): refused for arrays of another size


_IMPORTERS: dict[str, Signature] = {}


def _importer(
    *functions: str, data: tuple[int, ...] = (0,), result: int = 1, generated: bool = False, elementwise: bool = False,
    over_n_in: bool = False,
) -> Callable:  # fmt: skip
    """Register ``fn`` as the importer of ``functions``; ``elementwise`` implies ``over_n_in``."""

    def register(fn: Importer) -> Importer:
        for name in functions:
            if name in _IMPORTERS:
                raise ValueError(f"nnet::{name} already has an importer")
            _IMPORTERS[name] = Signature(data, result, fn, generated, elementwise, over_n_in or elementwise)
        return fn

    return register


def imported_functions() -> frozenset[str]:
    """The ``nnet::`` functions a project may call (generated families end in ``_<N>``)."""
    return frozenset(f"{name}_<N>" if sig.generated else name for name, sig in _IMPORTERS.items())


def importer_for(call: Call, path: Path) -> Signature:
    """The importer of a call, refusing functions without one (only generated code is called outside ``nnet::``)."""
    if call.scope == "nnet" and call.function in _IMPORTERS and not _IMPORTERS[call.function].generated:
        return _IMPORTERS[call.function]
    family = re.sub(r"_\d+$", "", call.function)
    if family in _IMPORTERS and _IMPORTERS[family].generated:
        return _IMPORTERS[family]
    known = ", ".join(sorted(imported_functions()))
    raise ProjectError(f"{path / call.where}: {call.scope}::{call.function} is not imported (imported: {known})")


# ------------------------------------------------------------------------------------------------------------
# dense
# ------------------------------------------------------------------------------------------------------------

_STRATEGIES = {"latency": "Latency", "resource": "Resource", "resource_unrolled": "ResourceUnrolled"}
_KERNELS = {"Latency": "DenseLatency", "Resource": "DenseResource", "ResourceUnrolled": "dense_resource_unrolled_"}
_DENSE_CODE = {
    "Latency": ("dense", "dense_latency", "DenseLatency"),
    "Resource": (
        "dense", "dense_resource", "dense_resource_rf_leq_nin", "dense_resource_rf_gt_nin_rem0",
        "dense_resource_rf_gt_nin", "DenseResource_rf_leq_nin", "DenseResource_rf_gt_nin_rem0",
    ),
    "ResourceUnrolled": ("dense", "DenseKernel"),  # the generated kernel itself is read by ``unrolled``
}  # fmt: skip


def _product(v: LayerCall, units: bool = False, operand: tuple[str, int, int] | None = None) -> str:
    """The config's ``nnet::product`` class (``mult``; with ``units`` also a binary or ternary weight's, which
    ``_kernel`` reads as its factor), recorded as a definition the layer models; or, for a ``mult`` no release
    proves, checked on every word the layer multiplies (``_checked_mult``, given the ``operand``: the config's
    typedef of the words it multiplies the data by, the call argument holding them and their number)."""
    product = (v.alias("product") or "").rsplit("::", 1)[-1]
    accepted = ("mult", *(UNIT_PRODUCTS if units else ()))
    if product not in accepted:
        raise v.refuse(f"product {v.alias('product')!r} (imported: {', '.join(accepted)})")
    v.depends("cast")
    if not (product == "mult" and operand is not None and _checked_mult(v, *operand)):
        v.depends("Product", product)
    return product


MULT_CHECK_WORDS = 1 << 28  # the most products of data word and weight word ``_checked_mult`` runs per layer
MULT_CHECK_WEIGHT_BITS = 20  # the widest weight word it checks (a table of 2**20 flags marks the words present)


def _checked_mult(v: LayerCall, key: str, arg: int, size: int) -> bool:
    """Whether the project's ``nnet::product::mult``, a definition no release proves (a deployed package's edit, such
    as binding its multiplier to fabric), is checked instead on this layer's words: its ``product(a, w)`` must have
    the type of ``a * w`` and equal it for every word ``a`` of the layer's data_T and every word ``w`` of its
    ``size`` weights (call argument ``arg``, config typedef ``key``), with ``x_T`` and ``w_T`` the only template
    parameters. The check runs the expression the kernels call, ``CONFIG_T::template product<data_T, weight_t>``,
    so whatever the classes behind it are. A difference is refused naming the layer; a layer with more products
    than ``MULT_CHECK_WORDS`` to run, or a ``mult`` of another form, is not checked (its code stays unproven)."""
    if v.source.io_stream or not unproven_definitions(v.source.nnet_utils, {"Product", "mult"}):
        return False  # io_stream code is proven with its headers whole
    forms = [re.match(r"template<(?:class|typename) \w+,(?:class|typename) \w+>class mult\b", d)
             for d in _project_definitions(v, "mult")]  # fmt: skip
    x_t, w_t = v.template_type(0), v.config_type(key)
    weights = v.call.args[arg]
    runs = min(size, 1 << w_t.width) << x_t.width
    if not forms or not all(forms) or x_t.wide or w_t.width > MULT_CHECK_WEIGHT_BITS or runs > MULT_CHECK_WORDS:
        return False
    cfg = v.source.qualified(v.config.name)
    setup = (
        f"static int64_t t[1];\n  using l1t_a_t = {v.source.qualified(v.call.template[0])};\n"
        f"  using l1t_w_t = {cfg}::{key};\n  using l1t_p = {cfg}::template product<l1t_a_t, l1t_w_t>;\n"
        "  static_assert(std::is_same<decltype(l1t_p::product(l1t_a_t(), l1t_w_t())), "
        'decltype(l1t_a_t() * l1t_w_t())>::value, "l1t: nnet::product::mult does not return the type of a * w");\n'
        f"  static bool l1t_seen[{1 << w_t.width}] = {{}};\n"
        f"  for (int64_t l1t_j = 0; l1t_j < {size}; ++l1t_j)"
        f" l1t_seen[raw_of<{cpp_raw_args(w_t)}>({weights}[l1t_j]) - ({w_t.raw_min})] = true;\n"
        "  l1t_a_t l1t_a; l1t_w_t l1t_w; t[0] = 0;\n"
        f"  for (int64_t l1t_j = 0; l1t_j < {1 << w_t.width}; ++l1t_j) {{\n"
        "    if (!l1t_seen[l1t_j]) continue;\n"
        f"    set_raw<{cpp_raw_args(w_t)}>(l1t_w, {w_t.raw_min} + l1t_j);\n"
        f"    for (int64_t l1t_k = 0; l1t_k < {1 << x_t.width}; ++l1t_k) {{\n"
        f"      set_raw<{cpp_raw_args(x_t)}>(l1t_a, {x_t.raw_min} + l1t_k);\n"
        "      if (l1t_p::product(l1t_a, l1t_w) != l1t_a * l1t_w) ++t[0];\n"
        "    }\n  }"
    )

    def none_differ(raw: np.ndarray) -> None:
        if raw[0]:
            raise v.refuse(
                f"the project's nnet::product::mult, which no release proves, differs from the exact product "
                f"a * w on {int(raw[0])} of this layer's {x_t} data words times its {w_t} weight words"
            )

    v.requests.append(
        (Request(f"{v.name}/mult {v.config.name}", "t", 1, fx.ap_int(64), setup, c_type="int64_t"), none_differ)
    )
    return True


def _strategy(v: LayerCall) -> str:
    strategy = _STRATEGIES.get(v.enum("strategy"))
    if strategy is None:
        raise v.refuse(f"strategy {v.config.constants['strategy']!r} (imported: {', '.join(_STRATEGIES)})")
    return strategy


def _kernel(
    v: LayerCall, strategy: str, n_in: int, n_out: int, layout: Callable[[np.ndarray], np.ndarray] | None = None,
    product: str = "mult", convolution: bool = False,
) -> dict[str, fx.FixedType]:  # fmt: skip
    """The config's weight_t, bias_t and accum_t, with the weights (arguments 2 and 3) requested: Resource only
    where the accumulator makes the order irrelevant, its kernels reading the weights transposed, outputs first, as
    hls4ml writes them for that strategy; ``layout``, when given, makes the (n_in, n_out) kernel from the raw weight
    words instead. A binary or ternary ``product`` multiplies by the factor each word stands for
    (``sums.unit_weights``), which the spec holds as weight_t ``UNIT_WEIGHT_T``."""
    weight_t, bias_t, accum_t = v.config_type("weight_t"), v.config_type("bias_t"), v.config_type("accum_t")
    if strategy == "Resource" and (error := reuse_factor_error(n_in, n_out, v.const("reuse_factor", 1), convolution)):
        raise v.refuse(error)
    if strategy != "Latency" or v.source.io_stream:
        _order_free(v, accum_t, f"{strategy} strategy" + (" in io_stream" if v.source.io_stream else ""))
    if layout is None:
        transposed = strategy != "Latency"
        layout = (lambda raw: raw.reshape(n_out, n_in).T) if transposed else (lambda raw: raw.reshape(n_in, n_out))
    if product in UNIT_PRODUCTS:
        v.words("weight", 2, n_in * n_out, weight_t, lambda raw: unit_weights(product, layout(raw)))
        weight_t = UNIT_WEIGHT_T
    else:
        v.words("weight", 2, n_in * n_out, weight_t, layout)
    v.words("bias", 3, n_out, bias_t)
    return {"weight_t": weight_t, "bias_t": bias_t, "accum_t": accum_t}


def _order_free(v: LayerCall, accum_t: fx.FixedType, what: str) -> None:
    """Refuse a sum whose order differs from Latency's io_parallel one unless its accumulator makes order
    irrelevant."""
    if not order_free(accum_t):
        raise v.refuse(
            f"{what} with accum_t {accum_t}: its summation order differs from Latency's and only a wrapping "
            "accumulator (AP_WRAP, no saturation bits) is exact in any order"
        )


def _unrolled_layout(v: LayerCall, kernel: str, n_in: int, n_out: int) -> Callable[[np.ndarray], np.ndarray]:
    """The (n_in, n_out) kernel a ResourceUnrolled layer's generated class multiplies (``unrolled``), from the raw
    weight words: each statement's word, zero where no statement reads one."""
    path = v.source.nnet_utils / "nnet_code_gen.h"
    if not kernel or not path.is_file():
        raise v.refuse(f"ResourceUnrolled with kernel {kernel or None!r} and without its generated class in {path}")
    try:
        index, mask = unrolled_kernel(path.read_text(), kernel.rsplit("::", 1)[-1], n_in, n_out)
    except UnrolledError as err:
        raise v.refuse(f"{path.name}: {err}") from None
    return lambda raw: np.where(mask, raw[index], 0)


@_importer("dense", data=(0,), result=1)
def _dense(v: LayerCall) -> dict[str, Any]:
    """nnet::dense: Latency, or Resource and ResourceUnrolled where the accumulator makes the order irrelevant (the
    Resource kernels read the weights transposed, outputs first, as hls4ml writes them for that strategy; the
    ResourceUnrolled one is generated code, read by ``unrolled``)."""
    n_in, n_out = v.const("n_in"), v.const("n_out")
    strategy = _strategy(v)
    kernel = v.alias("kernel")
    if kernel is not None and not kernel.rsplit("::", 1)[-1].startswith(_KERNELS[strategy]):
        raise v.refuse(f"{strategy} strategy with kernel {kernel!r}")
    product = _product(v, units=True, operand=("weight_t", 2, n_in * n_out))
    v.depends(*_DENSE_CODE[strategy])
    if v.data[0].size != n_in or v.result.size != n_out:
        raise v.refuse(f"arrays of {v.data[0].size} and {v.result.size} for n_in = {n_in}, n_out = {n_out}")
    v.read_as(0, [n_in])  # the product runs over the whole array, whatever shape the layer before gave it
    layout = _unrolled_layout(v, kernel or "", n_in, n_out) if strategy == "ResourceUnrolled" else None
    types = _kernel(v, strategy, n_in, n_out, layout, product)
    return v.entry("dense", types, [n_out], strategy=strategy, reuse_factor=v.const("reuse_factor", 1))


@_importer("dense_da", data=(0,), result=1, generated=True)
def _dense_da(v: LayerCall) -> dict[str, Any]:
    """da4ml's adder graph (``nnet_code_gen.h``): its exact matrix, proven lossless, in an accumulator holding the
    exact sum (``sums.exact_accum``)."""
    path = v.source.nnet_utils / "nnet_code_gen.h"
    if not path.is_file():
        raise v.refuse(f"nnet::{v.call.function} without {path}")
    if v.source.io_stream:
        raise v.refuse("distributed arithmetic in io_stream (its stream kernels are not proven)")
    x_t, n_in, n_out = v.in_types[0], v.data[0].size, v.result.size
    try:
        kernel, bias = da_matrix(path.read_text(), v.call.function, x_t, n_in, n_out)
    except DaGraphError as err:
        raise v.refuse(f"{path.name}: {err}") from None
    v.depends("bit_shift")
    (weight, weight_t), (bias, bias_t) = dyadic_words(kernel), dyadic_words(bias)
    try:
        accum_t = exact_accum(x_t, weight, weight_t, bias, bias_t)
    except ValueError as err:
        raise v.refuse(str(err)) from None
    v.arrays.update(weight=weight, bias=bias)
    types = {"weight_t": weight_t, "bias_t": bias_t, "accum_t": accum_t}
    return v.entry("dense", types, [n_out], strategy="distributed_arithmetic", reuse_factor=1)


# ------------------------------------------------------------------------------------------------------------
# convolutions and pooling (channels last)
# ------------------------------------------------------------------------------------------------------------

_AXES = {1: ("width",), 2: ("height", "width")}
_PADS = {"height": ("pad_top", "pad_bottom"), "width": ("pad_left", "pad_right")}
IM2COL_T = fx.FixedType(32, 32, True)  # the index words a fill_buffer is run on (im2col check)


def _spatial(function: str) -> int:
    return 2 if "2d" in function else 1


def _geometry(v: LayerCall, spatial: int, prefix: str) -> tuple[list[int], dict[str, list[int]]]:
    """The input shape (channels last) and kernel/stride/pads of a conv (``prefix`` filt) or pool (pool) config,
    refusing an output size other than the windows that fit."""
    axes = _AXES[spatial]
    channels = v.const("n_chan")
    if spatial == 1 and "in_width" not in v.config.constants:  # pooling1d_config: n_in / n_out
        in_dims, out_dims = [v.const("n_in")], [v.const("n_out")]
    else:
        in_dims = [v.const(f"in_{a}") for a in axes]
        out_dims = [v.const(f"out_{a}") for a in axes]
    geometry = {
        "kernel": [v.const(f"{prefix}_{a}") for a in axes],
        "stride": [v.const(f"stride_{a}") for a in axes],
        "pads": [v.const(p, 0) for a in axes for p in _PADS[a]],
    }
    if v.const("dilation", 1) != 1:
        raise v.refuse(f"dilation {v.const('dilation')}")
    fits = [
        (n + geometry["pads"][2 * i] + geometry["pads"][2 * i + 1] - geometry["kernel"][i]) // geometry["stride"][i] + 1
        for i, n in enumerate(in_dims)
    ]
    if fits != out_dims:
        raise v.refuse(f"output {out_dims} for input {in_dims} and {geometry} (the windows that fit: {fits})")
    v.read_as(0, [*in_dims, channels])
    return out_dims, geometry


def _fill_buffer(v: LayerCall, in_shape: list[int], out_dims: list[int], geometry: dict[str, list[int]]) -> None:
    """A generated ``fill_buffer`` (the im2col hls4ml writes per layer into ``nnet_code_gen.h``) is run on index
    words, every partition, and must place exactly the cells im2col places, in output order."""
    cfg = v.source.qualified(v.config.name)
    n_part, n_pix, positions = v.const("n_partitions"), v.const("n_pixels"), int(np.prod(out_dims))
    n_in, window = int(np.prod(in_shape)), int(np.prod(geometry["kernel"])) * in_shape[-1]
    if n_part * n_pix != positions:
        raise v.refuse(f"{n_part} partitions of {n_pix} pixels for {positions} output positions")
    size = positions * window
    setup = (
        f"typedef {cpp_spelling(IM2COL_T)} T;\n"
        f"  static T d[{n_in}]; static T buf[{n_pix}][{window}]; static T t[{size}];\n"
        f"  for (int i = 0; i < {n_in}; ++i) d[i] = i + 1;\n"
        f"  for (unsigned p = 0; p < {n_part}; ++p) {{\n"
        f"    for (int i = 0; i < {n_pix * window}; ++i) buf[i / {window}][i % {window}] = -1;\n"
        f"    {cfg}::template fill_buffer<T, {cfg}>::fill_buffer(d, buf, p);\n"
        f"    for (int i = 0; i < {n_pix * window}; ++i)\n"
        f"      t[p * {n_pix * window} + i] = buf[i / {window}][i % {window}];\n"
        "  }"
    )
    index = np.arange(1, n_in + 1).reshape(1, *in_shape)  # 0 is a padded cell, -1 one left unwritten
    geometry_t = (tuple(geometry["kernel"]), tuple(geometry["stride"]), tuple(geometry["pads"]))
    expected = im2col(index, *geometry_t, 0, tuple(out_dims)).reshape(-1, window)

    def check(raw: np.ndarray) -> None:
        got = raw.reshape(-1, window)
        if not np.array_equal(got, expected):
            row, col = np.argwhere(got != expected)[0]
            raise v.refuse(
                f"its fill_buffer ({v.alias('fill_buffer')}) places input cell {got[row, col] - 1} at position {row}, "
                f"window element {col}; im2col places {expected[row, col] - 1} (-1: zero padding, -2: not written)"
            )

    v.requests.append((Request(f"{v.name}/im2col", "t", size, IM2COL_T, setup), check))


def _stream_window(v: LayerCall, geometry: dict[str, list[int]]) -> None:
    """What an io_stream convolution or pooling computes as io_parallel's does: its line-buffer kernels, without
    padding (hls4ml writes a zero-padding layer before it; the kernels assert on any), and pooling windows that do
    not overlap (the stream pooling asserts on any other). The encoded kernels read a pixel table generated per
    project, which is not read here."""
    if not v.source.io_stream:
        return
    if any(geometry["pads"]):
        raise v.refuse(f"an io_stream kernel with padding {geometry['pads']}")
    if "pool_op" in v.config.constants and geometry["stride"] != geometry["kernel"]:
        raise v.refuse(f"io_stream pooling with stride {geometry['stride']} and window {geometry['kernel']}")
    implementation = v.enum("implementation") if "implementation" in v.config.constants else None
    if implementation != "linebuffer":  # without the constant, the base config's default, which is not read here
        raise v.refuse(f"io_stream implementation {implementation!r} (imported: linebuffer)")


def _mult_product(v: LayerCall, operand: tuple[str, int, int]) -> str:
    """The ``nnet::product`` of a convolution's ``mult_config`` (hls4ml >= 0.7; ``_product``), else ``mult``."""
    mult = v.config.typedefs.get("mult_config")
    return _product(v.sub_config(mult), operand=operand) if mult is not None else "mult"


def _window_products(v: LayerCall, spatial: int, out_dims: list[int], geometry: dict[str, list[int]]) -> None:
    """What every convolution's products share: its ``mult_config`` (hls4ml >= 0.7; its product read by
    ``_mult_product``) with the types of the layer's own config, and its generated ``fill_buffer`` checked to be
    im2col."""
    mult = v.config.typedefs.get("mult_config")
    if mult is not None:  # the products go through the mult_config's product and cast
        inner = v.sub_config(mult)
        for key in ("weight_t", "accum_t"):
            t = v.config_type(key)
            if key in inner.config.typedefs and inner.config_type(key) != t:
                raise v.refuse(f"{mult}::{key} {inner.config_type(key)} differs from {v.config.name}::{key} {t}")
    if v.alias("fill_buffer") is not None and not v.source.io_stream:  # stream kernels keep line buffers instead
        v.depends(f"FillConv{spatial}DBuffer")
        _fill_buffer(v, v.spatial[0], out_dims, geometry)


def _project_definitions(v: LayerCall, name: str) -> list[str]:
    """Every definition of ``name`` in the project's io_parallel ``nnet_utils`` headers."""
    headers = [p for p in sorted(v.source.nnet_utils.glob("*.h")) if not p.stem.endswith("_stream")]
    return [d for p in headers for d in definitions(p.read_text(errors="replace"), name)]


def _dispatches_on_strategy(v: LayerCall) -> bool:
    """Whether the project's definition of the called function picks its kernel by the config (its strategy or
    ``conv_kernel``), as hls4ml >= 0.7's pointwise convolutions do; hls4ml 0.6's is the Latency kernel itself."""
    return any("strategy" in d or "conv_kernel" in d for d in _project_definitions(v, v.call.function))


def _pointwise_class(name: str, chunks: int) -> str:
    """The kernel class hls4ml 1.0 and 1.1 generate for a pointwise Conv1D with the Latency strategy in io_parallel
    (``pointwise_conv_<index>``), as tokens without ``nnet::`` qualifiers: the input cut into ``chunks`` (the reuse
    factor) runs of whole pixels, ``pointwise_conv_1d_latency_cl`` on each, and its outputs joined in order."""
    n_in = "CONFIG_T::in_width * CONFIG_T::n_chan / CONFIG_T::reuse_factor"
    n_out = "CONFIG_T::out_width * CONFIG_T::n_filt / CONFIG_T::reuse_factor"
    per_chunk = " ".join(
        f"pointwise_conv_1d_latency_cl<data_T, res_T, CONFIG_T>(data_tmp[{k}], res_tmp[{k}], weights, biases);"
        for k in range(chunks)
    )
    text = f"""
        template <class data_T, class res_T, typename CONFIG_T>
        class {name} : public Conv1DKernel<data_T, res_T, CONFIG_T> {{
          public:
            static void conv(data_T data[CONFIG_T::in_width * CONFIG_T::n_chan],
                             res_T res[CONFIG_T::out_width * CONFIG_T::n_filt],
                             typename CONFIG_T::weight_t weights[CONFIG_T::n_chan * CONFIG_T::n_filt],
                             typename CONFIG_T::bias_t biases[CONFIG_T::n_filt]) {{
                data_T data_tmp[CONFIG_T::reuse_factor][{n_in}];
                res_T res_tmp[CONFIG_T::reuse_factor][{n_out}];
                RFInputLoop: for (int jj = 0; jj < CONFIG_T::reuse_factor; jj++) {{
                    InnerInputLoop: for (int ii = 0; ii < {n_in}; ii++) {{
                        data_tmp[jj][ii] = data[jj * {n_in} + ii];
                    }}
                }}
                {per_chunk}
                RFOutputLoop: for (int jj = 0; jj < CONFIG_T::reuse_factor; jj++) {{
                    InnerOutputLoop: for (int ii = 0; ii < {n_out}; ii++) {{
                        res[jj * {n_out} + ii] = res_tmp[jj][ii];
                    }}
                }}
            }}
        }}"""
    return tokens(text)


def _pointwise_kernel(v: LayerCall, kernel: str, spatial: int, strategy: str, geometry: dict[str, list[int]]) -> None:
    """A generated pointwise kernel (``_pointwise_class``) must be that class, word for word, and its chunks whole
    runs of output pixels, each computed as the whole layer computes them (stride 1, no padding): then the layer is
    ``pointwise_conv_1d_latency_cl`` over every pixel."""
    name, chunks = kernel.rsplit("::", 1)[-1], v.const("reuse_factor", 1)
    path = v.source.nnet_utils / "nnet_code_gen.h"
    if spatial != 1 or strategy != "Latency":
        raise v.refuse(f"{strategy} strategy with the generated conv_kernel {kernel!r}")
    text = path.read_text(errors="replace").split(GENERATED_MARK, 1)[-1] if path.is_file() else ""
    found = [d.replace("nnet::", "") for d in definitions(text, name)]
    if found != [_pointwise_class(name, chunks)]:
        raise v.refuse(
            f"{path.name}: the generated class {name} is not the pointwise kernel hls4ml writes for a reuse factor "
            f"of {chunks}"
            if found
            else f"no generated class {name} in {path}"
        )
    width = v.const("in_width")
    if chunks > 1 and (width % chunks or geometry["stride"] != [1] or any(geometry["pads"])):
        raise v.refuse(
            f"{name} cuts {width} pixels into {chunks} runs with stride {geometry['stride']} and pads "
            f"{geometry['pads']}: each run would not compute its pixels as the whole layer does"
        )
    v.depends("pointwise_conv_1d_latency_cl")


@_importer("conv_1d_cl", "conv_2d_cl", "pointwise_conv_1d_cl", "pointwise_conv_2d_cl", data=(0,), result=1)
def _conv(v: LayerCall) -> dict[str, Any]:
    """conv_{1,2}d_cl (and pointwise_conv_{1,2}d_cl, the same kernels on a 1x1 window): im2col, then per output
    position the dense_latency arithmetic of its ``mult_config`` (products and sum in ``accum_t``, cast to the
    result); Resource where the accumulator makes the order irrelevant (its kernels read the weights transposed)."""
    spatial = _spatial(v.call.function)
    strategy = _strategy(v)
    if strategy != "Latency" and v.call.function.startswith("pointwise") and not _dispatches_on_strategy(v):
        strategy = "Latency"  # hls4ml 0.6's: it reads even a Resource layer's (transposed) weights as Latency's
    if strategy == "ResourceUnrolled":  # hls4ml generates that kernel for Dense only
        raise v.refuse("a convolution with the ResourceUnrolled strategy")
    kernel = v.alias("conv_kernel")  # hls4ml >= 1.0 dispatches through it
    kernel_name = kernel.rsplit("::", 1)[-1] if kernel is not None else None
    generated = kernel_name is not None and re.fullmatch(r"pointwise_conv_\w+", kernel_name) is not None
    if kernel_name is not None and kernel_name != f"Conv{spatial}D{strategy}" and not generated:
        raise v.refuse(f"{strategy} strategy with conv_kernel {kernel!r}")
    out_dims, geometry = _geometry(v, spatial, "filt")
    if generated:
        _pointwise_kernel(v, kernel, spatial, strategy, geometry)
    _stream_window(v, geometry)
    if v.source.io_stream and v.call.function.startswith("pointwise") and strategy != "Latency":
        raise v.refuse(f"an io_stream pointwise convolution with the {strategy} strategy (it differs: hls4ml 1.3)")
    in_shape, n_filt = v.spatial[0], v.const("n_filt")
    if v.result.size != int(np.prod(out_dims)) * n_filt:
        raise v.refuse(f"result array of {v.result.size} for output {out_dims} x {n_filt} filters")
    n_in = int(np.prod(geometry["kernel"])) * in_shape[-1]
    product = _mult_product(v, ("weight_t", 2, n_in * n_filt))  # hls4ml 0.6's kernels multiply directly
    types = _kernel(v, strategy, n_in, n_filt, product=product, convolution=not v.source.io_stream)
    _window_products(v, spatial, out_dims, geometry)
    v.depends(v.call.function, f"conv_{spatial}d_{strategy.lower()}_cl")  # hls4ml 0.6's multiplies and casts there
    return v.entry(f"conv{spatial}d", types, [*out_dims, n_filt], **geometry, strategy=strategy,
                   reuse_factor=v.const("reuse_factor", 1))  # fmt: skip


@_importer("depthwise_conv_1d_cl", "depthwise_conv_2d_cl", data=(0,), result=1)
def _depthwise_conv(v: LayerCall) -> dict[str, Any]:
    """depthwise_conv_{1,2}d_cl (Latency; a SeparableConv is one, then a pointwise convolution): each channel's
    window sum, a convolution with the kernel ``sums.depthwise_kernel``."""
    spatial = _spatial(v.call.function)
    strategy = _strategy(v)
    if strategy != "Latency":
        raise v.refuse(f"depthwise convolution with the {strategy} strategy (hls4ml's C++ asserts on it)")
    out_dims, geometry = _geometry(v, spatial, "filt")
    _stream_window(v, geometry)
    channels = v.spatial[0][-1]
    if v.const("n_filt") != channels or v.result.size != int(np.prod(out_dims)) * channels:
        raise v.refuse(f"{v.const('n_filt')} filters of {channels} channels (only a depth multiplier of 1)")
    taps = int(np.prod(geometry["kernel"]))
    types = {key: v.config_type(key) for key in ("weight_t", "bias_t", "accum_t")}
    if v.source.io_stream:
        _order_free(v, types["accum_t"], "a depthwise convolution in io_stream")
    v.words("weight", 2, taps * channels, types["weight_t"], lambda raw: depthwise_kernel(raw.reshape(taps, channels)))
    v.words("bias", 3, channels, types["bias_t"])
    _mult_product(v, ("weight_t", 2, taps * channels))
    _window_products(v, spatial, out_dims, geometry)
    v.depends(v.call.function, f"depthwise_conv_{spatial}d_latency_cl")
    return v.entry(f"conv{spatial}d", types, [*out_dims, channels], **geometry, strategy=strategy,
                   reuse_factor=v.const("reuse_factor", 1))  # fmt: skip


def _index_run(v: LayerCall, check: Callable[[np.ndarray], np.ndarray | None]) -> None:
    """Run the call's own function on index words: element i of the inputs, counted across them in order, holds
    i + 1, and every output element starts at -1 (so 0 out is a zero written, -1 an element not written); ``check``
    judges the output words, and what it returns is stored as the layer's ``index``. A stream function runs on
    streams of ``nnet::array``s of index words, as wide as the project's."""
    sizes, n_out = [a.size for a in v.data], v.result.size
    offsets = np.cumsum([0, *sizes])
    fill = "".join(
        f"  static T d{k}[{n}]; for (int i = 0; i < {n}; ++i) d{k}[i] = {offsets[k]} + i + 1;\n"
        for k, n in enumerate(sizes)
    )
    if v.source.io_stream:
        _index_run_streams(v, check, fill)
        return
    template = ", ".join(v.source.qualified(a) if a in v.source.structs else "T" for a in v.call.template)
    setup = (
        f"typedef {cpp_spelling(IM2COL_T)} T;\n{fill}"
        f"  static T t[{n_out}]; for (int i = 0; i < {n_out}; ++i) t[i] = -1;\n"
        f"  nnet::{v.call.function}<{template}>({', '.join(f'd{k}' for k in range(len(sizes)))}, t);"
    )
    v.requests.append((Request(f"{v.name}/index", "t", n_out, IM2COL_T, setup), check))


def _index_run_streams(v: LayerCall, check: Callable[[np.ndarray], np.ndarray | None], fill: str) -> None:
    """``_index_run`` of a stream function, its inputs' index words filled into arrays ``d<k>`` by ``fill``: its
    template's stream types (those that are not config structs: the inputs' then the result's, or one for all of
    them) become ``nnet::array``s of index words of the same widths, and the words move through streams of them."""
    arrays = [*v.data, v.result]
    streams = [a for a in v.call.template if a not in v.source.structs]
    shared = len(streams) == 1 and len({a.width for a in arrays}) == 1
    if len(streams) != len(arrays) and not shared:
        raise v.refuse(f"template <{', '.join(v.call.template)}> for {len(arrays)} streams")
    names = iter(f"S{k}" for k in range(len(arrays)))
    template = ", ".join(v.source.qualified(a) if a in v.source.structs else next(names) for a in v.call.template)
    types = "".join(f"  typedef nnet::array<T, {a.width}> S{k};\n" for k, a in enumerate(arrays))
    writes = "".join(
        f"  hls::stream<S{k}> s{k}; l1t_write<S{k}>(d{k}, {a.size}, s{k});\n" for k, a in enumerate(v.data)
    )
    out, last = v.result, len(arrays) - 1
    setup = (
        f"typedef {cpp_spelling(IM2COL_T)} T;\n{types}{fill}{writes}"
        f"  hls::stream<S{last}> r; static T t[{out.size}]; for (int i = 0; i < {out.size}; ++i) t[i] = -1;\n"
        f"  nnet::{v.call.function}<{template}>({', '.join(f's{k}' for k in range(len(v.data)))}, r);\n"
        f"  for (int i = 0; i < {out.transfers} && !r.empty(); ++i) {{ S{last} w = r.read(); "
        f"for (int j = 0; j < {out.width}; ++j) t[i * {out.width} + j] = w[j]; }}"
    )
    v.requests.append((Request(f"{v.name}/index", "t", out.size, IM2COL_T, setup), check))


_MOVEMENT = (
    "zeropad1d_cl", "zeropad2d_cl", "cropping1d_cl", "cropping2d_cl", "resize_nearest", "transpose", "transpose_2d",
    "transpose_3d",
)  # fmt: skip


@_importer(*_MOVEMENT)
def _movement(v: LayerCall) -> dict[str, Any]:
    """Data movement (zero padding, cropping, nearest-neighbour resizing, transposition): which input element each
    output element takes is read by running the project's own function on index words (``_index_run``); the layer
    is then a gather, each element cast to res_T as the function assigns it."""
    v.depends(v.call.function)
    n_in, n_out = v.data[0].size, v.result.size

    def index(raw: np.ndarray) -> np.ndarray:
        bad = np.flatnonzero((raw < 0) | (raw > n_in))
        if bad.size:
            what = "is not written" if raw[bad[0]] == -1 else f"holds {raw[bad[0]]}, not an input element"
            raise v.refuse(f"run on index words, output element {bad[0]} {what}")
        return raw - 1  # -1: a zero

    in_shape, out_shape = _images(v, n_in, n_out)
    if len(in_shape) > 1:
        v.read_as(0, in_shape)
    _index_run(v, index)
    return v.entry("gather", {}, out_shape)


def _images(v: LayerCall, n_in: int, n_out: int) -> tuple[list[int], list[int]]:
    """The input and output images (channels last) a data movement's config describes: a transpose's from_shape
    and to_shape; else the in_/out_ (resize: plain and new_) height and width constants with n_chan, 1D without a
    height and for a resize of height 1 to 1. Flat where the config describes no image of the array's size."""
    cfg = v.config
    if "from_shape" in cfg.arrays and "to_shape" in cfg.arrays:
        shapes = [list(cfg.arrays["from_shape"]), list(cfg.arrays["to_shape"])]
    else:
        resize = v.call.function == "resize_nearest"
        keys = (
            [("height", "width"), ("new_height", "new_width")]
            if resize
            else [("in_height", "in_width"), ("out_height", "out_width")]
        )
        one_d = resize and v.const("height", 1) == v.const("new_height", 1) == 1
        shapes = [
            [*([v.const(h)] if h in cfg.constants and not one_d else []), v.const(w), v.const("n_chan", 1)]
            if w in cfg.constants else []
            for h, w in keys
        ]  # fmt: skip
    return tuple(s if s and int(np.prod(s)) == n else [n] for s, n in zip(shapes, (n_in, n_out), strict=True))


_POOL_MODES = {"Max": "max", "Average": "average"}
IN_DATA_T = ":data_t"  # the suffix of the names of hls4ml < 1.0's pooling definitions, which reduce in data_T


def _pools_in_data_type(v: LayerCall) -> bool:
    """Whether the project's io_parallel ``pool_op`` is hls4ml < 1.0's: no accum_t, the reduction in the input type
    (``T pool_op(T (&x)[N])``)."""
    found = _project_definitions(v, "pool_op")
    return bool(found) and not any("accum_t" in d for d in found)


_AVG_OVERLOAD = re.compile(r"\bavg\((\w+)(?:<([^<>]*)>)?\(&x\)\[N\]\)")


def _data_type_reduction(v: LayerCall, n: int, mode: str) -> fx.FixedType:
    """The type hls4ml < 1.0's ``pool_op`` reduces ``n`` words of the input type x_t in: ``T max(T x[N])`` compares
    and returns them in x_t; ``avg`` is the project's overload for x_t's C++ type. hls4ml's own overloads sum a plain
    ``ap_fixed<W, I>`` (``ap_int<W>``) in ``ap_fixed<W + c, I + c>`` (``ap_int<W + c>``), c = ceillog2(N), which
    holds every sum, and any other type in itself (``T avg(T (&x)[N])``: ``T y = 0; y += x[i];``, each partial sum
    overflowing as x_t does); a project may add wide overloads for more types (``ap_fixed<W, I, Q, O, M>``,
    ``ap_ufixed``, ``ap_uint``), whose sums then hold every sum too. Either divides by N in place (the quotient
    truncated toward zero in the same LSB), and the result is exact in x_t, as the function returns it."""
    x_t = v.in_types[0]
    if mode == "max":
        return x_t
    family = ("ap_int" if x_t.signed else "ap_uint") if x_t.integer else ("ap_fixed" if x_t.signed else "ap_ufixed")
    defaults = (x_t.q_mode is fx.QMode.TRN, x_t.o_mode is fx.OMode.WRAP, x_t.n_bits == 0)  # past W, I: Q, O, N
    applies = []  # whether the sum of each overload taking x_t's type is wide
    generic = False
    for d in _project_definitions(v, "avg"):
        found = _AVG_OVERLOAD.search(d)
        if found is None:
            continue
        name, params = found.group(1), (found.group(2) or "").split(",")
        if any(p.startswith("AP_") for p in params):
            raise v.refuse(f"nnet_pooling.h: an avg overload for one mode ({name}<{found.group(2)}>) is not read")
        generic |= name == "T"
        if name == family and (x_t.integer or all(defaults[len(params) - 2 :])):  # its parameters cover the rest
            applies.append(f"{name}<W+ceillog2(N)" in d)
    if not applies:
        if not generic:
            raise v.refuse(f"hls4ml < 1.0 average pooling over {x_t}: nnet_pooling.h has no avg for it")
        return x_t
    if not all(applies):
        raise v.refuse(f"hls4ml < 1.0 average pooling over {x_t}: its avg overload is not a sum wide enough to hold it")
    c = max(1, (n - 1).bit_length())  # nnet_helpers.h's ceillog2: 1 for N <= 2
    if x_t.integer:
        return fx.FixedType(x_t.width + c, x_t.width + c, x_t.signed, integer=True)
    return fx.FixedType(x_t.width + c, x_t.int_bits + c, x_t.signed)


def _data_type_windows(v: LayerCall, geometry: dict[str, list[int]], mode: str) -> None:
    """Refuse the windows hls4ml < 1.0's pooling{1,2}d_cl computes otherwise than the reduction over each window: it
    walks a window by the stride (so must equal it), pads only at the image's edges and rescales an average by
    ``data_T(pool size) / img_overlap``, which is 1 only without padding and where data_T holds each pool size."""
    if any(geometry["pads"]) or geometry["kernel"] != geometry["stride"]:
        raise v.refuse(
            f"hls4ml < 1.0 pooling (no accum_t) with window {geometry['kernel']}, stride {geometry['stride']} and "
            f"padding {geometry['pads']}: imported only with the window equal to the stride and no padding"
        )
    x_t = v.in_types[0]
    for size in geometry["kernel"] if mode == "average" else ():
        as_data_t = fx.to_float(fx.from_float(np.array([float(size)]), x_t), x_t)[0]
        if as_data_t != size:
            raise v.refuse(f"hls4ml < 1.0 average pooling rescales by {x_t}({size}) / {size}, which is not 1")


@_importer("pooling1d_cl", "pooling2d_cl", "global_pooling1d_cl", "global_pooling2d_cl")
def _pool(v: LayerCall) -> dict[str, Any]:
    """pooling{1,2}d_cl: max or average over each window in ``accum_t``; the global ones, one window over the whole
    input."""
    spatial = _spatial(v.call.function)
    mode = _POOL_MODES.get(v.enum("pool_op"))
    if mode is None:
        raise v.refuse(f"pool_op {v.config.constants['pool_op']!r} (imported: {', '.join(_POOL_MODES)})")
    n_filt = v.const("n_filt")
    if v.call.function.startswith("global"):
        axes = _AXES[spatial]
        in_dims = [v.const("n_in")] if spatial == 1 else [v.const(f"in_{a}") for a in axes]
        v.read_as(0, [*in_dims, n_filt])
        geometry = {"kernel": in_dims, "stride": in_dims, "pads": [0] * (2 * spatial)}
        shape, count_pad = [n_filt], False
    else:
        out_dims, geometry = _geometry(v, spatial, "pool")
        _stream_window(v, geometry)
        shape, count_pad = [*out_dims, n_filt], bool(v.const("count_pad", 0))
    if v.result.size != int(np.prod(shape)):
        raise v.refuse(f"result array of {v.result.size} for output shape {shape}")
    reduce = "max" if mode == "max" else "avg"
    if not v.source.io_stream and _pools_in_data_type(v):
        if not v.call.function.startswith("global"):
            _data_type_windows(v, geometry, mode)
        v.depends(*(f"{name}@{mode}{IN_DATA_T}" for name in (v.call.function, "pool_op", reduce)))
        accum_t = _data_type_reduction(v, int(np.prod(geometry["kernel"])), mode)
        return v.entry("pool", {"accum_t": accum_t}, shape, **geometry, mode=mode, count_pad=count_pad)
    v.depends(*(f"{name}@{mode}" for name in (v.call.function, "pool_op", reduce, "pad_val")))
    accum_t = v.config_type("accum_t")
    if v.source.io_stream and not fx.holds(accum_t, v.in_types[0]):  # io_parallel reduces the inputs themselves
        v.cast_first(0, accum_t)  # io_stream casts each into accum_t first
    if v.source.io_stream and mode == "average":  # a tree of sums (nnet::reduce), io_parallel's one by one
        _order_free(v, accum_t, "io_stream average pooling")
    return v.entry("pool", {"accum_t": accum_t}, shape, **geometry, mode=mode, count_pad=count_pad)


# ------------------------------------------------------------------------------------------------------------
# activations
# ------------------------------------------------------------------------------------------------------------


@_importer("linear", "relu", elementwise=True)
def _plain_activation(v: LayerCall) -> dict[str, Any]:
    v.depends(v.call.function)
    return v.entry(v.call.function, {})


@_importer("leaky_relu", data=(0,), result=2, elementwise=True)
def _leaky_relu(v: LayerCall) -> dict[str, Any]:
    """nnet::leaky_relu<data_T, param_T, res_T, CONFIG_T>(data, alpha, res), alpha a literal converted to param_T as
    the call converts it; hls4ml < 1.0's leaky_relu<data_T, res_T, CONFIG_T> takes alpha as a data_T."""
    if len(v.call.template) not in (3, 4):
        raise v.refuse(f"leaky_relu with {len(v.call.template)} template arguments")
    v.depends("leaky_relu")
    param_t = v.template_type(1 if len(v.call.template) == 4 else 0)
    v.arrays["alpha"] = v.literal(1, param_t)
    return v.entry("leaky_relu", {"param_t": param_t})


@_importer("relu_max", *RELU_MAX_INT, elementwise=True)
def _relu_max(v: LayerCall) -> dict[str, Any]:
    """nnet::relu_max<data_T, res_T, MAX_INT, CONFIG_T> and the relu6 / relu1 that call it."""
    v.depends("relu_max", v.call.function)
    if v.call.function in RELU_MAX_INT:
        top = RELU_MAX_INT[v.call.function]
    else:
        try:
            top = int(v.call.template[2])
        except (IndexError, ValueError):
            raise v.refuse(f"relu_max without an integer MAX_INT ({v.call.template})") from None
    return v.entry("relu_max", {}, max_int=top)


@_importer("prelu", data=(0,), result=2, over_n_in=True)
def _prelu(v: LayerCall) -> dict[str, Any]:
    """nnet::prelu<data_T, param_T, res_T, CONFIG_T>(data, alpha, res): one alpha word per element."""
    v.depends("prelu")
    param_t = v.template_type(1)
    v.words("alpha", 1, v.data[0].size, param_t)
    return v.entry("prelu", {"param_t": param_t})


@_importer("hard_sigmoid", "hard_tanh", elementwise=True)
def _hard_activation(v: LayerCall) -> dict[str, Any]:
    """nnet::hard_sigmoid / hard_tanh: ``slope * x + shift`` clamped to [0, 1] (hard_tanh: then ``2 v - 1``), slope
    and shift the config's static members as the compiler initialises them."""
    v.depends(v.call.function)
    return v.entry(v.call.function, {f"{key}_t": v.member(key) for key in ("slope", "shift")})


@_importer(ALIAS)
def _alias(v: LayerCall) -> dict[str, Any]:
    """``auto& out = in;``: how hls4ml writes Reshape and Flatten (the same words, or the same stream)."""
    return v.entry("reshape", {}, [v.result.size])


@_importer("clone_stream", "repack_stream")
def _stream_copy(v: LayerCall) -> dict[str, Any]:
    """io_stream's copy of a stream for each of its readers (``_source.COPIES``: one call per copy) and its repacking
    into ``nnet::array``s of another width (a Reshape or Flatten): the same words in the same order."""
    if v.data[0].size != v.result.size:
        raise v.refuse(f"{v.data[0].size} words in, {v.result.size} out")
    v.depends(v.call.function)
    return v.entry("reshape", {}, [v.result.size])


def _own_table(v: LayerCall, activation: str | None = None, key: str = "table") -> fx.FixedType:
    """Ask for an activation's table (the call's own by default), filled by the project's own
    ``init_<activation>_table`` with the config ``v`` reads; returns its table_t."""
    size, table_t = v.const("table_size"), v.config_type("table_t")
    fill = f"nnet::init_{activation or v.call.function}_table<CFG, {size}>(t);"
    v.table(key, size, table_t, "CFG::table_t", fill)
    return table_t


LAMBDA_IN_RES_T = "@lambda_res_t"  # the name hls4ml < 1.2's selu is proven under: res_T(1.0507...) * x


@_importer("sigmoid", "tanh", "softplus", "softsign", "selu", elementwise=True)
def _table_activation(v: LayerCall) -> dict[str, Any]:
    """A table activation (selu: on the negative side; lambda * x on the other, lambda the ap_ufixed<16,1> constant
    of io_parallel's nnet::selu, or hls4ml < 1.2's ``res_T(1.0507...)``) with its table from the project's own
    initialiser."""
    if v.call.function != "selu":
        v.depends(v.call.function)
        return v.entry(v.call.function, {"table_t": _own_table(v)})
    in_res_t = any(re.search(r"res_T\s*\(\s*1\.0507", d) for d in _project_definitions(v, "selu"))
    v.depends(f"selu{LAMBDA_IN_RES_T}" if in_res_t else "selu")
    lambda_t = v.result_t if in_res_t else SELU_LAMBDA_T
    return v.entry("selu", {"table_t": _own_table(v), "lambda_t": lambda_t})


@_importer("elu", data=(0,), result=-1, elementwise=True)
def _elu(v: LayerCall) -> dict[str, Any]:
    """nnet::elu: x for x >= 0, else ``alpha * table[index]``; alpha the literal of elu<data_T, param_T, res_T,
    CONFIG_T>(data, alpha, res) converted to param_T (res_T in the three-type form of hls4ml < 1.0), or the
    ap_uint<1> 1 of elu<data_T, res_T, CONFIG_T>(data, res)."""
    v.depends("elu")
    if len(v.call.args) == 3 and len(v.call.template) in (3, 4):  # template argument 1: param_T, or res_T before 1.0
        param_t = v.template_type(1)
        v.arrays["alpha"] = v.literal(1, param_t)
    elif len(v.call.template) == 3 and len(v.call.args) == 2:
        param_t = PLAIN_ELU_ALPHA_T
        v.arrays["alpha"] = np.asarray(fx.from_float(1.0, param_t))
    else:
        raise v.refuse(f"elu with {len(v.call.template)} template and {len(v.call.args)} call arguments")
    return v.entry("elu", {"param_t": param_t, "table_t": _own_table(v)})


def every_element(v: LayerCall) -> None:
    """Refuse a call over its config's ``n_in`` elements (an activation, softmax, normalize) whose arrays hold
    another number: the C++ would leave the rest of its result unwritten, or read and write fewer elements than the
    spec."""
    n_in = v.const("n_in")
    if not v.data[0].size == v.result.size == n_in:
        raise v.refuse(f"arrays of {v.data[0].size} and {v.result.size} elements for n_in = {n_in}")


WORD_TABLE_BITS = 18  # the widest input type an activation is tabulated for: 2**18 words, each run twice


def own_word_table(v: LayerCall, sig: Signature) -> dict[str, Any] | None:
    """An elementwise call whose definitions no release proves, as a ``word_table``: the project's own call run on
    every word of its input type, so the emulator computes what that code computes whatever it is. Each word is run
    twice, at two positions of the array and among other words (the second pass starts one word earlier); a word
    whose two results differ (its result depends on its position, on the call's other words, or on an earlier
    call) is refused. None, and the modelled entry stands, for proven code, an io_stream kernel, or an input wider
    than ``WORD_TABLE_BITS``."""
    if not sig.elementwise or v.source.io_stream or not unproven_definitions(v.source.nnet_utils, v.uses):
        return None
    x_t, n_in = v.in_types[0], v.data[0].size
    if x_t.wide or x_t.width > WORD_TABLE_BITS:
        return None
    n, res_t = 1 << x_t.width, v.result_t
    args = list(v.call.args)
    args[sig.data[0]], args[sig.result] = "l1t_x", "l1t_y"
    word = f"({n} + l1t_b + l1t_j) % {n}"  # the word at position l1t_j of the call at l1t_b, as an index
    setup = (
        f"static {cpp_spelling(res_t)} t[{2 * n}];\n"
        f"  static {v.source.qualified(v.data[0].cpp_type)} l1t_x[{n_in}];\n"
        f"  static {v.source.qualified(v.result.cpp_type)} l1t_y[{n_in}];\n"
        "  for (int64_t l1t_pass = 0; l1t_pass < 2; ++l1t_pass)\n"
        f"    for (int64_t l1t_b = -l1t_pass; l1t_b < {n}; l1t_b += {n_in}) {{\n"
        f"      for (int64_t l1t_j = 0; l1t_j < {n_in}; ++l1t_j)"
        f" set_raw<{cpp_raw_args(x_t)}>(l1t_x[l1t_j], {x_t.raw_min} + {word});\n"
        f"      nnet::{v.call.function}<{', '.join(v.call.template)}>({', '.join(args)});\n"
        f"      for (int64_t l1t_j = 0; l1t_j < {n_in}; ++l1t_j) t[l1t_pass * {n} + {word}] = l1t_y[l1t_j];\n"
        "    }"
    )

    def first_pass(raw: np.ndarray) -> np.ndarray:
        differ = np.flatnonzero(raw[:n] != raw[n:])
        if differ.size:
            k = int(differ[0])
            x = fx.to_float(x_t.raw_min + k, x_t)
            raise v.refuse(
                f"nnet::{v.call.function} is tabulated word by word, its code differing from every proven release, "
                f"but it is not elementwise: input {x} gives {fx.to_float(raw[k], res_t)} at one position of the "
                f"array and {fx.to_float(raw[n + k], res_t)} at another"
            )
        return raw[:n]

    v.requests = [(Request(f"{v.name}/table", "t", 2 * n, res_t, setup), first_pass)]
    v.arrays, v.uses = {}, set()
    return v.entry("word_table", {})


@_importer("softmax", over_n_in=True)
def _softmax(v: LayerCall) -> dict[str, Any]:
    """softmax_stable / softmax_latency over one vector, their exp and inverse tables from the project's own
    initialisers. hls4ml < 1.2 (one ``table_size``, no accum_t) sums in exp_table_t, indexes the inverse table by
    the sum's exp_table_t bits, and in stable forms ``x - max`` in ``ap_fixed<W, I, AP_RND, AP_SAT>`` of data_T
    and passes it as a data_T."""
    implementation = v.enum("implementation")
    if implementation not in ("stable", "latency"):
        raise v.refuse(f"softmax implementation {implementation!r} (imported: stable, latency)")
    if v.const("n_outer", 1) != 1 or v.const("n_inner", 1) != 1:
        raise v.refuse("softmax over a multi-dimensional input")
    if v.data[0].width and v.data[0].width != v.data[0].size:  # the stream kernels normalise each array on its own
        raise v.refuse(f"io_stream softmax over each array of {v.data[0].width} of its {v.data[0].size} words")
    v.depends("softmax", f"softmax_{implementation}", "softmax_idx_from_real_val", "reduce", "Op_max", "Op_add")
    data_t, data_cpp = v.template_type(0), v.source.checked(v.call.template[0])
    types = {key: v.config_type(key) for key in ("exp_table_t", "inv_table_t")}
    attrs: dict[str, Any] = {"implementation": implementation}
    if "exp_table_size" not in v.config.constants:  # hls4ml < 1.2
        n_exp = n_inv = v.const("table_size")
        types |= {"accum_t": types["exp_table_t"], "inv_inp_t": types["exp_table_t"]}
        if implementation == "stable":
            norm_t = fx.FixedType(data_t.width, data_t.int_bits, True, fx.QMode.RND, fx.OMode.SAT)
            types |= {"inp_norm_t": norm_t, "index_t": data_t}
            attrs["difference"] = X_MINUS_MAX
        exp_fill = f"nnet::init_exp_table<{data_cpp}, CFG>(t);"
        inv_fill = "nnet::init_invert_table<typename CFG::exp_table_t, CFG>(t);"
    else:
        n_exp, n_inv = v.const("exp_table_size"), v.const("inv_table_size")
        keys = ["accum_t", "inv_inp_t"] + (["inp_norm_t"] if implementation == "stable" else [])
        types |= {key: v.config_type(key) for key in keys}
        exp_fill = (
            "nnet::init_exp_table<typename CFG::inp_norm_t, CFG>(t, true);"
            if implementation == "stable"
            else f"nnet::init_exp_table<{data_cpp}, CFG>(t);"
        )
        inv_fill = "nnet::init_invert_table<typename CFG::inv_inp_t, CFG>(t);"
    v.table("exp_table", n_exp, types["exp_table_t"], "CFG::exp_table_t", exp_fill)
    v.table("inv_table", n_inv, types["inv_table_t"], "CFG::inv_table_t", inv_fill)
    return v.entry("softmax", types, **attrs)


# ------------------------------------------------------------------------------------------------------------
# recurrent layers
# ------------------------------------------------------------------------------------------------------------

# stack function -> (spec op, gates, the config typedef naming its recurrent activation's config)
_RECURRENT = {"lstm_stack": ("lstm", 4, "ACT_CONFIG_LSTM"), "gru_stack": ("gru", 3, "ACT_CONFIG_GRU")}
_RECURRENT_ACTIVATIONS = ("sigmoid", "tanh", "relu")  # nnet::activation's classes


def _mult_config(v: LayerCall, key: str) -> LayerCall:
    """The call reading the dense config a recurrent config names as ``key`` (``mult_config1`` / ``mult_config2``)."""
    if key not in v.config.typedefs:
        raise v.refuse(f"config {v.config.name} has no {key}")
    return v.sub_config(v.config.typedefs[key])


def _recurrent_product(v: LayerCall, key: str, n_in: int, n_out: int, types: dict[str, fx.FixedType]) -> None:
    """A step's product (``mult_config1``: the input, ``mult_config2``: the state): Latency dense_latency with the
    layer's accum_t and the weight and bias types ``types`` names."""
    inner = _mult_config(v, key)
    kernel = inner.alias("kernel")
    latency_kernel = kernel is None or kernel.rsplit("::", 1)[-1].startswith("DenseLatency")
    if _strategy(inner) != "Latency" or not latency_kernel:
        raise v.refuse(f"{key} {inner.config.name} is not a Latency dense (kernel {kernel!r})")
    _product(inner)
    for name, t in types.items():
        if inner.config_type(name) != t:
            raise v.refuse(f"{inner.config.name}::{name} {inner.config_type(name)} differs from the layer's {t}")
    if (inner.const("n_in"), inner.const("n_out")) != (n_in, n_out):
        raise v.refuse(f"{inner.config.name} multiplies {inner.const('n_in')} by {inner.const('n_out')}")


@_importer(*_RECURRENT, data=(0,), result=1)
def _recurrent(v: LayerCall) -> dict[str, Any]:
    """nnet::lstm_stack / gru_stack (io_parallel, Keras gate order): per step the two dense_latency products of
    ``mult_config1`` (input) and ``mult_config2`` (state) into accum_t, the gates through the recurrent activation
    and the activation (``nnet::activation`` classes, their tables from the project's own initialisers); the state
    starts at zero in every event, with ``use_static`` or not."""
    op, gates, act_key = _RECURRENT[v.call.function]
    if len(v.call.template) != 3 or len(v.call.args) != 6:
        raise v.refuse(f"{v.call.function} with {len(v.call.args)} arguments (imported: data, res and the weights)")
    n_in, n_state, steps, steps_out = (v.const(k) for k in ("n_in", "n_state", "n_sequence", "n_sequence_out"))
    if v.const("n_out") != n_state or v.const("pytorch_order", 0) or steps_out not in (1, steps):
        raise v.refuse(f"{v.call.function} with n_out {v.const('n_out')}, n_state {n_state}, "
                       f"n_sequence_out {steps_out} or pytorch_order")  # fmt: skip
    types = {key: v.config_type(key) for key in ("accum_t", "weight_t", "bias_t")}
    state = _mult_config(v, "mult_config2")
    for key in ("weight_t", "bias_t"):  # hls4ml < 1.1 types the state's product only in mult_config2
        own = f"recurrent_{key}"
        types[own] = v.config_type(own) if own in v.config.typedefs else state.config_type(key)
    acc = {"accum_t": types["accum_t"]}
    _recurrent_product(v, "mult_config1", n_in, gates * n_state, {**acc, "weight_t": types["weight_t"],
                                                                   "bias_t": types["bias_t"]})  # fmt: skip
    _recurrent_product(v, "mult_config2", n_state, gates * n_state, {**acc, "weight_t": types["recurrent_weight_t"],
                                                                      "bias_t": types["recurrent_bias_t"]})  # fmt: skip
    v.read_as(0, [steps, n_in])
    v.words("weight", 2, n_in * gates * n_state, types["weight_t"], lambda raw: raw.reshape(n_in, -1))
    v.words("recurrent_weight", 3, n_state * gates * n_state, types["recurrent_weight_t"],
            lambda raw: raw.reshape(n_state, -1))  # fmt: skip
    v.words("bias", 4, gates * n_state, types["bias_t"])
    v.words("recurrent_bias", 5, gates * n_state, types["recurrent_bias_t"])
    attrs = {"n_state": n_state, "return_sequences": steps_out > 1}
    for attr, alias, config_key, table in (
        ("recurrent_activation", "activation_recr", act_key, "recurrent_table"),
        ("activation", "activation", "ACT_CONFIG_T", "table"),
    ):
        name = (v.alias(alias) or "").rsplit("::", 1)[-1]
        if name not in _RECURRENT_ACTIVATIONS or config_key not in v.config.typedefs:
            raise v.refuse(f"{alias} {v.alias(alias)!r} (imported: nnet::activation::{_RECURRENT_ACTIVATIONS})")
        attrs[attr] = name
        v.depends(name)
        if name != "relu":
            types[f"{table}_t"] = _own_table(v.sub_config(v.config.typedefs[config_key]), name, table)
    static = "_static" if v.const("use_static", 1) else ""
    v.depends(v.call.function, f"{op}{static}", "dense", "dense_latency", "DenseLatency")
    shape = [steps, n_state] if steps_out > 1 else [n_state]
    return v.entry(op, types, shape, **attrs)


# ------------------------------------------------------------------------------------------------------------
# normalization and merges
# ------------------------------------------------------------------------------------------------------------


@_importer("normalize", data=(0,), result=1, over_n_in=True)
def _normalize(v: LayerCall) -> dict[str, Any]:
    """nnet::normalize: ``product(x, scale) + bias`` per element (BatchNormalization, ApplyAlpha)."""
    v.depends("normalize")
    n_in, n_filt = v.const("n_in"), v.const("n_filt", -1)
    width = v.data[0].width
    if width and n_filt != -1 and width % n_filt:  # the stream kernel indexes the scales by the place in each array
        raise v.refuse(f"io_stream normalize with {n_filt} scales over arrays of {width} words")
    scale_t, bias_t = v.config_type("scale_t"), v.config_type("bias_t")
    n_scale = n_in if n_filt == -1 else n_filt
    _product(v, operand=("scale_t", 2, n_scale))
    v.words("scale", 2, n_scale, scale_t)
    v.words("bias", 3, n_scale, bias_t)
    return v.entry("batchnorm", {"scale_t": scale_t, "bias_t": bias_t}, n_filt=n_filt)


@_importer("layernormalize", data=(0,), result=1)
def _layernorm(v: LayerCall) -> dict[str, Any]:
    """nnet::layernormalize over the last axis of (seq_len, n_in / seq_len), its 1/sqrt table from the project's own
    ``init_invert_sqr_table``."""
    n_in, seq = v.const("n_in"), v.const("seq_len")
    if not seq or n_in % seq or v.data[0].size != n_in:
        raise v.refuse(f"n_in {n_in} in seq_len {seq} rows, for an input of {v.data[0].size}")
    _product(v)
    v.depends("layernormalize", "layernorm_1d")
    types = {key: v.config_type(key) for key in ("scale_t", "bias_t", "accum_t", "table_t")}
    v.words("scale", 2, n_in // seq, types["scale_t"])
    v.words("bias", 3, n_in // seq, types["bias_t"])
    size = v.const("table_size")
    v.table("table", size, types["table_t"], "CFG::table_t", f"nnet::init_invert_sqr_table<CFG, {size}>(t);")
    return v.entry("layernorm", types, [seq, n_in // seq], table_range_power2=v.const("table_range_power2"))


HALVED = "@halved"  # the name hls4ml < 1.2's ``average`` is proven under: (data1 + data2) / (res_T)2


def _averages_by_division(v: LayerCall) -> bool:
    """Whether the project's io_parallel ``average`` is hls4ml < 1.2's ``(data1[i] + data2[i]) / (res_T)2``."""
    return any(re.search(r"/\s*\(\s*res_T\s*\)\s*2\b", d) for d in _project_definitions(v, "average"))


_MERGES = ("add", "subtract", "multiply", "average", "maximum", "minimum")


@_importer(*_MERGES, data=(0, 1), result=2)
def _merge(v: LayerCall) -> dict[str, Any]:
    """Element by element over the ``n_elem`` elements of two arrays of that size (a broadcast, which hls4ml writes
    as a merge over the smaller input, would leave result elements unwritten)."""
    n_elem = v.const("n_elem")
    if not v.data[0].size == v.data[1].size == v.result.size == n_elem:
        unwritten = (
            f"; elements {n_elem} to {v.result.size - 1} of {v.result.name!r} are never written, and what "
            "reads them reads uninitialised memory"
            if n_elem < v.result.size
            else ""
        )
        raise v.refuse(
            f"{v.call.function} of {v.data[0].size} and {v.data[1].size} elements into {v.result.size} over n_elem "
            f"{n_elem}: only arrays of one size, every element written, are merged{unwritten}"
        )
    if not v.data[0].width == v.data[1].width == v.result.width:  # stream kernels pair words by place in arrays
        raise v.refuse(f"io_stream merge of arrays of {v.data[0].width} and {v.data[1].width} words")
    if v.call.function == "average" and not v.source.io_stream and _averages_by_division(v):
        res_t = v.result_t
        if res_t.frac_bits < 0 or 2 << res_t.frac_bits > res_t.raw_max:
            raise v.refuse(f"hls4ml < 1.2 average divides by ({res_t})2, which is not 2 with a whole LSB")
        v.depends(f"average{HALVED}")
        return v.entry("average_halved", {})
    v.depends(v.call.function)
    return v.entry(v.call.function, {})


@_importer("concatenate1d", data=(0, 1), result=2)
def _concatenate1d(v: LayerCall) -> dict[str, Any]:
    if v.data[0].size + v.data[1].size != v.result.size:
        raise v.refuse(f"concatenation of {v.data[0].size} and {v.data[1].size} elements into {v.result.size}")
    v.depends("concatenate1d")
    return v.entry("concatenate", {}, [v.result.size], axis=0)


@_importer("concatenate2d", "concatenate3d", data=(0, 1), result=2)
def _concatenate(v: LayerCall) -> dict[str, Any]:
    """concatenate2d / 3d along the config's axis (Keras's, the batch axis counted, negative from the end, as the
    C++ dispatches on it); the project's own function, run on index words (``_index_run``), must place exactly the
    elements that concatenation places."""
    ndim = 2 if v.call.function.endswith("2d") else 3
    shapes = [[v.const(f"n_elem{k}_{d}") for d in range(ndim)] for k in (1, 2)]
    axis = int(v.config.constants.get("axis", "0"))
    event_axis = axis - 1 if axis > 0 else axis + ndim
    others = [d for d in range(ndim) if d != event_axis]
    if not 0 <= event_axis < ndim or any(shapes[0][d] != shapes[1][d] for d in others):
        raise v.refuse(f"concatenation of {shapes[0]} and {shapes[1]} along axis {axis}")
    for k, shape in enumerate(shapes):
        v.read_as(k, shape)
    v.depends(v.call.function, f"{v.call.function}_{event_axis}")
    n1 = int(np.prod(shapes[0]))
    parts = [
        np.arange(1, n1 + 1).reshape(shapes[0]),
        np.arange(n1 + 1, n1 + 1 + int(np.prod(shapes[1]))).reshape(shapes[1]),
    ]
    expected = np.concatenate(parts, axis=event_axis)

    def check(raw: np.ndarray) -> None:
        if not np.array_equal(raw, expected.ravel()):
            at = int(np.flatnonzero(raw != expected.ravel())[0])
            raise v.refuse(f"run on index words, output element {at} holds input element {raw[at] - 1}; the "
                           f"concatenation along axis {axis} places {expected.ravel()[at] - 1} there")  # fmt: skip

    _index_run(v, check)
    return v.entry("concatenate", {}, list(expected.shape), axis=event_axis)


@_importer("embedding", data=(0,), result=1)
def _embedding(v: LayerCall) -> dict[str, Any]:
    """nnet::embedding: ``res[j * n_out + i] = embeddings[data[j] * n_out + i]``."""
    n_in, n_out, vocab = v.const("n_in"), v.const("n_out"), v.const("vocab_size")
    if (v.data[0].size, v.result.size) != (n_in, n_in * n_out):
        raise v.refuse(f"arrays of {v.data[0].size} and {v.result.size} for n_in {n_in}, n_out {n_out}")
    embeddings_t = v.config_type("embeddings_t")
    v.words("embeddings", 2, vocab * n_out, embeddings_t)
    v.depends("embedding")
    return v.entry("embedding", {"embeddings_t": embeddings_t}, [n_in, n_out])


@_importer("dot1d", data=(0, 1), result=2)
def _dot1d(v: LayerCall) -> dict[str, Any]:
    """nnet::dot1d of two vectors: the sum over its config's n_in elements of each, into one."""
    n_in, n_out = v.const("n_in"), v.const("n_out", 1)
    if not v.data[0].size == v.data[1].size == n_in or v.result.size != 1 or n_out != 1:
        sizes = f"{v.data[0].size} and {v.data[1].size} elements into {v.result.size}"
        raise v.refuse(f"dot1d of {sizes} for n_in = {n_in}, n_out = {n_out}: only whole arrays into one element")
    _product(v)
    v.depends("dot1d")
    return v.entry("dot", {"accum_t": v.config_type("accum_t")}, [1])
