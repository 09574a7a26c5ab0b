"""An hls4ml project (io_parallel or io_stream) -> an emulator spec, from the project's C++ alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network, SpecError
from l1t.models.hls_project._layers import LayerCall, Signature, every_element, importer_for, own_word_table
from l1t.models.hls_project._proven import STREAM, unproven
from l1t.models.hls_project._source import ALIAS, Array, Call, ProjectError, Source, read_source
from l1t.models.hls_project._words import read_words, runner_part, stream_sizes
from l1t.models.hls_project._wrapper import (
    UNSCALED,
    TopOutput,
    Wrapper,
    emulator_include,
    find_wrapper,
    read_wrapper,
    wrapper_parts,
)

__all__ = ["Project", "import_project", "read_project"]


@dataclass(frozen=True)
class Project:
    """A project read into a spec: its source, the top's inputs and outputs, and the spec with its arrays."""

    source: Source
    inputs: list[Array]
    outputs: list[Array]
    spec: dict[str, Any]
    arrays: dict[str, np.ndarray]
    layer_of: dict[str, str]  # C++ array -> the spec value it holds
    writes: list[tuple[str, str, int]]  # (spec layer, the array its call writes, the line the call ends on)
    layer_uses: dict[str, frozenset[str]]  # per spec layer, the nnet_utils definitions it models
    library: Path  # the project's C++ compiled with l1t's readers and runners (``l1t_run``, ``l1t_path``)
    wrapper: Wrapper | None = None  # the deployed path's scaling and score around the network (``_wrapper``)

    @property
    def uses(self) -> frozenset[str]:
        return frozenset().union(*self.layer_uses.values())

    def network(self) -> Network:
        return Network(self.spec, self.arrays, source=str(self.source.directory))


def _layer_name(comment: str | None, result: Array, taken: set[str]) -> str:
    """hls4ml's trailing comment names the layer; else (or when taken) the output array's name."""
    if comment and re.fullmatch(r"[A-Za-z_][\w.\-/]*", comment) and comment not in taken:
        return comment
    return result.name


def read_project(directory: str | Path, *, allow_unproven: bool = False, wrapper: bool = True) -> Project:
    """Read an hls4ml project's C++ into a spec (its arrays read by compiling the project's own code).

    The ``nnet_utils`` and ``ap_types`` definitions the spec models must be ones l1t is proven against
    (``_proven``); others are refused naming them, unless ``allow_unproven`` (the spec then lists them under
    ``source.unproven``, and only ``verify`` can show it computes what the project does). A deployed package's
    emulator wrapper next to the C++ (``_wrapper``) becomes part of the spec, its input the unscaled trigger words
    and its score an output, unless ``wrapper`` is False."""
    source = read_source(directory)
    signatures = [importer_for(call, source.firmware) for call in source.calls]
    written = [call.args[sig.result] for call, sig in zip(source.calls, signatures, strict=True)]
    twice = sorted({name for name in written if written.count(name) > 1})
    if twice:
        raise ProjectError(f"{source.top_file}: arrays written by more than one layer: {twice}")
    inputs = [a for a in source.args if a.name not in written]
    outputs = [a for a in source.args if a.name in written]
    if not inputs or not outputs:
        raise ProjectError(f"{source.top_file}: {source.top} has {len(inputs)} inputs and {len(outputs)} outputs")
    if source.io_stream:
        _read_once(source, signatures)
        aliases = {call.args[1]: call.args[0] for call in source.calls if call.function == ALIAS}
        writes = [(name, call.end) for call, name in zip(source.calls, written, strict=True) if name not in aliases]
        source = stream_sizes(source, inputs, writes, aliases)
        inputs = [a for a in source.args if a.name not in written]
        outputs = [a for a in source.args if a.name in written]
    checks: dict[str, fx.FixedType] = {}
    values: dict[str, tuple[str, list[int], fx.FixedType]] = {}
    spec_inputs = []
    for a in inputs:
        t = source.type_of(a.cpp_type, f"{source.top_file} argument {a.name}")
        checks[source.checked(a.cpp_type)] = t
        values[a.name] = (a.name, [a.size], t)
        spec_inputs.append({"name": a.name, "shape": [a.size], "type": str(t)})
    layers, views = [], []
    readers: dict[str, list[str]] = {}  # spec value -> the layers that read it
    for call, sig in _dataflow_order(list(zip(source.calls, signatures, strict=True)), set(values)):
        where = f"{source.firmware / call.where}"
        if len(call.args) <= max(*sig.data, sig.result):
            raise ProjectError(f"{where}: nnet::{call.function} with {len(call.args)} arguments")
        data = [source.array(call.args[i], where) for i in sig.data]
        unread = [a.name for a in data if a.name not in values]
        if unread:
            raise ProjectError(f"{where}: nnet::{call.function} reads {unread} before any layer writes them")
        result = source.array(call.args[sig.result], where)
        name = _layer_name(call.comment, result, {v[0] for v in values.values()})
        view = LayerCall(
            call, source, name, data, result,
            inputs=[values[a.name][0] for a in data],
            in_types=[values[a.name][2] for a in data],
            in_shapes=[values[a.name][1] for a in data],
            checks=checks,
        )  # fmt: skip
        if sig.over_n_in:
            every_element(view)
        entry = sig.fn(view)
        entry = own_word_table(view, sig) or entry
        for index, shape in view.spatial.items():
            entry["inputs"][index] = _shape_value(values, data[index].name, shape, spec_inputs, layers, readers, view)
            view.inputs[index] = entry["inputs"][index]
        for index, t in view.casts.items():
            cast = _unique(f"{name}_input{index}_cast", spec_inputs + layers)
            shape = next(e["shape"] for e in spec_inputs + layers if e["name"] == view.inputs[index])
            layers.append({"name": cast, "op": "linear", "inputs": [view.inputs[index]], "shape": list(shape),
                           "types": {"result_t": str(t)}, "attrs": {}})  # fmt: skip
            readers.setdefault(view.inputs[index], []).append(cast)
            entry["inputs"][index] = view.inputs[index] = cast
        for value in view.inputs:
            readers.setdefault(value, []).append(name)
        values[result.name] = (name, entry["shape"], view.result_t)
        layers.append(entry)
        views.append(view)
    if source.io_stream:  # proven per function as io_stream code (``_proven.STREAM``)
        for view in views:
            view.uses = {f"{STREAM}{name}" for name in {*view.uses, view.call.function}}
    unproven_code = unproven(source.nnet_utils, source.ap_types, set().union(*(view.uses for view in views)))
    if unproven_code and not allow_unproven:
        raise ProjectError(
            f"{source.firmware}: these definitions differ from every hls4ml release l1t is proven against, so the "
            f"emulator may not compute what they do: {'; '.join(unproven_code)} (import with --allow-unproven and "
            "run `l1t verify` to compare them event by event)"
        )
    requests = [req for view in views for req, _ in view.requests]
    found = find_wrapper(source.directory, source.firmware) if wrapper else None
    spec_outputs = [values[a.name][0] for a in outputs]
    wrapped, includes, separate = None, (), None
    if found is not None:
        if source.io_stream:
            raise ProjectError(f"{found}: a wrapper around an io_stream top is not read")
        tops = [TopOutput(values[a.name][0], a.size, values[a.name][2]) for a in outputs]
        wrapped = read_wrapper(found, source, [a.name for a in inputs], tops)
        requests += wrapped.requests
        # its own translation unit, as the package's Makefile builds it; a score or output element is one word
        sizes = {values[a.name][0]: a.size for a in outputs}
        separate = wrapper_parts(wrapped, wrapped.input_size, sum(sizes.get(name, 1) for name in wrapped.returns))
        includes = (emulator_include(),)
    extra = [runner_part(source, inputs, outputs, 0)]
    words, library = read_words(source, inputs, requests, checks, extra, includes, separate)
    arrays: dict[str, np.ndarray] = {}
    entries = {entry["name"]: entry for entry in layers}
    for view in views:  # the layers of calls (reshapes read_as added have no arrays)
        entry = entries[view.name]
        own = dict(view.arrays)
        for req, transform in view.requests:
            value = transform(words[req.key])
            if value is not None:  # None: words only checked (a generated im2col)
                own[req.key.split("/", 1)[1]] = value
        for key, value in own.items():
            arrays[f"{entry['name']}/{key}"] = np.asarray(value, dtype=np.int64)
            entry.setdefault("arrays", {})[key] = f"{entry['name']}/{key}"
    if wrapped is not None:
        spec_inputs, spec_outputs = _wrap(wrapped, spec_inputs, spec_outputs, layers, words, arrays)
    spec = _spec(source, spec_inputs, spec_outputs, layers)
    spec["source"]["unproven"] = unproven_code
    if wrapped is not None:
        spec["source"]["wrapper"] = {"file": str(wrapped.path), "class": wrapped.cls, "returns": list(wrapped.returns)}
    written_by: dict[str, int] = {}  # C++ array -> the line after which it holds its value
    for view in views:  # an alias holds its value once its source is written, which may be below its declaration
        written_by[view.result.name] = max([view.call.end, *(written_by.get(a.name, 0) for a in view.data)])
    writes = [(view.name, view.result.name, written_by[view.result.name]) for view in views]
    project = Project(source, inputs, outputs, spec, arrays, {k: v[0] for k, v in values.items()}, writes,
        {view.name: frozenset(view.uses) for view in views}, library, wrapped,
    )  # fmt: skip
    try:
        project.network()
    except SpecError as err:
        raise ProjectError(str(err)) from None
    return project


def _read_once(source: Source, signatures: list[Signature]) -> None:
    """Refuse an io_stream top in which one stream (through any ``auto&`` alias of it) is read by two calls: the
    first empties it (hls4ml copies a stream for each reader with ``clone_stream``)."""
    stream_of = {call.args[1]: call.args[0] for call in source.calls if call.function == ALIAS}
    readers: dict[str, str] = {}
    for call, sig in zip(source.calls, signatures, strict=True):
        if call.function == ALIAS or call.copy:
            continue  # an alias reads nothing; a copy statement reads its stream once for all its outputs
        for index in sig.data:
            stream = stream_of.get(call.args[index], call.args[index])
            if stream in readers:
                raise ProjectError(
                    f"{source.firmware / call.where}: stream {call.args[index]!r} is read here and at "
                    f"{readers[stream]}: the first read empties it"
                )
            readers[stream] = call.where


def _wrap(
    wrapper: Wrapper, inputs: list[dict], outputs: list[str], layers: list[dict], words: dict[str, np.ndarray],
    arrays: dict[str, np.ndarray],
) -> tuple[list[dict], list[str]]:  # fmt: skip
    """Put the wrapper's scaling or copies in front of the network (named as the top's inputs, which the first
    layers read) and its score behind; the spec then takes the unscaled words and returns what ``read_result``
    returns."""
    shapes = {i["name"]: i["shape"] for i in inputs}
    front = [dict(e) for e in wrapper.layers if e["name"] in shapes]
    after = [dict(e) for e in wrapper.layers if e["name"] not in shapes]
    taken = {e["name"] for e in layers} | set(shapes)
    clash = sorted((({UNSCALED} if front else set()) | {e["name"] for e in after}) & taken)
    if clash:
        raise ProjectError(f"{wrapper.path}: the network already has values named {clash}")
    known = {**wrapper.arrays, **{req.key: words[req.key] for req in wrapper.requests}}  # "entry/key": words
    for entry in front + after:
        for key in [k.split("/", 1)[1] for k in known if k.split("/", 1)[0] == entry["name"]]:
            arrays[f"{entry['name']}/{key}"] = known[f"{entry['name']}/{key}"]
            entry.setdefault("arrays", {})[key] = f"{entry['name']}/{key}"
    layers += after
    if front:
        for entry in front:
            entry["shape"] = list(shapes[entry["name"]])
        layers[:0] = front
        inputs = [{"name": UNSCALED, "shape": [wrapper.input_size], "type": str(wrapper.input_t)}]
    return inputs, list(wrapper.returns)


def _dataflow_order(calls: list[tuple[Call, Signature]], given: set[str]) -> list[tuple[Call, Signature]]:
    """The calls in the order their data are written: hls4ml 1.x declares a Reshape/Flatten alias
    (``auto& b = a;``) with the arrays, before the layer that writes ``a``; it takes effect once ``a`` is written."""
    written, out = set(given), []
    waiting: dict[str, list[tuple[Call, Signature]]] = {}

    def emit(item: tuple[Call, Signature]) -> None:
        out.append(item)
        name = item[0].args[item[1].result]
        written.add(name)
        for later in waiting.pop(name, []):
            emit(later)

    for call, sig in calls:
        if call.function == ALIAS and call.args[sig.data[0]] not in written:
            waiting.setdefault(call.args[sig.data[0]], []).append((call, sig))
        else:
            emit((call, sig))
    return out + [item for items in waiting.values() for item in items]  # never written: refused by the caller


_FLAT_OPS = ("reshape", "gather")  # ops whose output shape is only how their flat elements are read


def _shape_value(
    values: dict[str, tuple[str, list[int], fx.FixedType]], array: str, shape: list[int], inputs: list[dict],
    layers: list[dict], readers: dict[str, list[str]], view: LayerCall,
) -> str:  # fmt: skip
    """The spec value holding C++ ``array`` in the ``shape`` a layer reads it in (a convolution or pooling its
    image, a dense its flat vector). io_parallel arrays are flat: a top input, a reshape (``auto&`` alias) or a gather
    (data movement, whose output elements are flat) takes the shape when no other layer has read it yet; any other
    value is read through a reshape of the same words, added to the spec (hls4ml 0.6 writes no alias for a Flatten
    between a convolution and a Dense)."""
    name, old, t = values[array]
    if old == shape:
        return name
    maker = next(e for e in inputs + layers if e["name"] == name)
    if ("op" in maker and maker["op"] not in _FLAT_OPS) or readers.get(name):
        reshape = _unique(f"{name}_as_{view.name}", inputs + layers)
        layers.append({"name": reshape, "op": "reshape", "inputs": [name], "shape": list(shape),
                       "types": {"result_t": str(t)}, "attrs": {}})  # fmt: skip
        readers.setdefault(name, []).append(reshape)
        return reshape
    maker["shape"] = list(shape)
    values[array] = (name, list(shape), t)
    return name


def _unique(name: str, entries: list[dict]) -> str:
    """``name``, or with the first number appended that no entry's name has."""
    taken = {e["name"] for e in entries}
    return next(c for c in (f"{name}{n or ''}" for n in range(len(taken) + 1)) if c not in taken)


def _spec(source: Source, inputs: list[dict], outputs: list[str], layers: list[dict]) -> dict[str, Any]:
    from l1t import __version__

    strategies = sorted({e["attrs"]["strategy"] for e in layers if "strategy" in e["attrs"]})
    return {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "created_by": {"l1t": __version__, "imported_from": "hls4ml project C++"},
        "project": {
            "backend": _backend(source.directory),
            "io_type": "io_stream" if source.io_stream else "io_parallel",
            "strategy": strategies[0] if len(strategies) == 1 else "mixed" if strategies else "Latency",
            "output_dir": str(source.directory),
        },
        "source": {
            "hls4ml_project": str(source.directory),
            "top": source.top,
            "namespace": source.namespace,
            "firmware_digest": source.digest,
        },
        "inputs": inputs,
        "outputs": outputs,
        "layers": layers,
    }


def _backend(directory: Path) -> str:
    cfg = directory / "hls4ml_config.yml"
    found = re.search(r"^Backend:\s*(\w+)", cfg.read_text(), re.MULTILINE) if cfg.is_file() else None
    return found.group(1) if found else "Vivado"


def import_project(
    directory: str | Path, out_dir: str | Path, *, allow_unproven: bool = False, wrapper: bool = True
) -> Network:  # fmt: skip
    """Import an hls4ml project into a spec directory (written atomically) and return it loaded."""
    from l1t.models.export import save_spec

    project = read_project(directory, allow_unproven=allow_unproven, wrapper=wrapper)
    return save_spec(project.spec, project.arrays, out_dir)
