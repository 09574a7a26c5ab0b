"""An hls4ml io_parallel project -> an emulator spec, from the project's C++ alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network, SpecError
from l1t.models.hls_project._layers import LayerCall, importer_for
from l1t.models.hls_project._proven import unproven
from l1t.models.hls_project._source import Array, ProjectError, Source, read_source
from l1t.models.hls_project._words import read_words, runner_part

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
    library: Path  # the project's C++ compiled with l1t's readers and runner (``l1t_run``)

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


def read_project(directory: str | Path, *, allow_unproven: bool = False) -> Project:
    """Read an hls4ml io_parallel project's C++ into a spec (its arrays read by compiling the project's own code).

    The ``nnet_utils`` and ``ap_types`` definitions the spec models must be ones l1t is proven against
    (``_proven``); others are refused naming them, unless ``allow_unproven`` (the spec then lists them under
    ``source.unproven``, and only ``verify`` can show it computes what the project does)."""
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
    checks: dict[str, fx.FixedType] = {}
    values: dict[str, tuple[str, list[int], fx.FixedType]] = {}
    spec_inputs = []
    for a in inputs:
        t = source.type_of(a.cpp_type, f"{source.top_file} argument {a.name}")
        checks[source.qualified(a.cpp_type)] = t
        values[a.name] = (a.name, [a.size], t)
        spec_inputs.append({"name": a.name, "shape": [a.size], "type": str(t)})
    layers, views = [], []
    for call, sig in zip(source.calls, signatures, strict=True):
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
        entry = sig.fn(view)
        values[result.name] = (name, entry["shape"], view.result_t)
        layers.append(entry)
        views.append(view)
    unproven_code = unproven(source.firmware, set().union(*(view.uses for view in views)))
    if unproven_code and not allow_unproven:
        raise ProjectError(
            f"{source.firmware}: these definitions differ from every hls4ml release l1t is proven against, so the "
            f"emulator may not compute what they do: {'; '.join(unproven_code)} (import with --allow-unproven and "
            "run `l1t verify` to compare them event by event)"
        )
    requests = [req for view in views for req, _ in view.requests]
    words, library = read_words(source, requests, checks, [runner_part(source, inputs, outputs, 0)])
    arrays: dict[str, np.ndarray] = {}
    for entry, view in zip(layers, views, strict=True):
        own = dict(view.arrays)
        for req, transform in view.requests:
            own[req.key.split("/", 1)[1]] = transform(words[req.key])
        for key, value in own.items():
            arrays[f"{entry['name']}/{key}"] = np.asarray(value, dtype=np.int64)
            entry.setdefault("arrays", {})[key] = f"{entry['name']}/{key}"
    spec = _spec(source, spec_inputs, [values[a.name][0] for a in outputs], layers)
    spec["source"]["unproven"] = unproven_code
    writes = [(view.name, view.result.name, view.call.end) for view in views]
    project = Project(source, inputs, outputs, spec, arrays, {k: v[0] for k, v in values.items()}, writes,
        {view.name: frozenset(view.uses) for view in views}, library,
    )  # fmt: skip
    try:
        project.network()
    except SpecError as err:
        raise ProjectError(str(err)) from None
    return project


def _spec(source: Source, inputs: list[dict], outputs: list[str], layers: list[dict]) -> dict[str, Any]:
    from l1t import __version__

    strategies = sorted({e["attrs"]["strategy"] for e in layers if "strategy" in e["attrs"]})
    return {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "created_by": {"l1t": __version__, "imported_from": "hls4ml project C++"},
        "project": {
            "backend": _backend(source.directory),
            "io_type": "io_parallel",
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


def import_project(directory: str | Path, out_dir: str | Path, *, allow_unproven: bool = False) -> Network:
    """Import an hls4ml io_parallel project into a spec directory (written atomically) and return it loaded."""
    from l1t.models.export import save_spec

    project = read_project(directory, allow_unproven=allow_unproven)
    return save_spec(project.spec, project.arrays, out_dir)
