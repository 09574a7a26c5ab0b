"""The emulator against a project's own C++: the top function compiled with g++ (the way an offline emulator library
is built) and called once per event, on the same raw input words; on a mismatch, the project compiled again with a
trace point after every layer names the first layer and neuron that differ."""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

import numpy as np

import l1t.emulator.fixed as fx
from l1t.cpp import cpp_raw_args
from l1t.emulator.nn import Mismatch, Network, TraceDifference, compare_outputs, compare_traces
from l1t.models.hls_project._import import Project
from l1t.models.hls_project._source import ProjectError
from l1t.models.hls_project._words import io_types, project_library, runner_part, traced_top

__all__ = ["Mismatch", "ProjectRunner", "Verification", "stimulus", "verify"]


def stimulus(net: Network, n: int, seed: int) -> dict[str, np.ndarray]:
    """Raw input words per input: the extremes, zero and ±1 LSB first, then half uniform over the whole range and
    half near zero (within about ±2.0), where a network's inputs usually lie. An input an embedding reads takes
    the words of its rows, first and last first (the C++ reads past its table on any other)."""
    rng = np.random.default_rng(seed)
    rows = {la.inputs[0]: la.arrays["embeddings"].size // la.shape[-1] for la in net.layers if la.op == "embedding"}
    words = {}
    for name, shape, t in net.inputs:
        size = (n, *shape)
        if name in rows:
            raw = rng.integers(0, rows[name], size) << t.frac_bits
            raw[: min(n, 2)] = np.array([0, rows[name] - 1])[: min(n, 2)].reshape(-1, *[1] * len(shape)) << t.frac_bits
            words[name] = raw
            continue
        wide = rng.integers(t.raw_min, t.raw_max, size, endpoint=True)
        narrow = np.clip(np.round(rng.normal(0, 2.0 / t.lsb, size)), t.raw_min, t.raw_max).astype(np.int64)
        raw = np.where(rng.random(size) < 0.5, wide, narrow)
        for i, value in enumerate([t.raw_min, t.raw_max, 0, min(1, t.raw_max), max(-1, t.raw_min)][:n]):
            raw[i] = value
        words[name] = raw
    return words


class ProjectRunner:
    """The project's top function called once per event: the library ``read_project`` compiled (-O1), or compiled
    again with ``optimize``; with ``trace``, a copy of the top function's file with each of those layers' output
    arrays recorded after its call."""

    def __init__(self, project: Project, trace: list[str] | None = None, optimize: str | None = None) -> None:
        self.project = project
        self.traced = [w for w in project.writes if w[0] in (trace or [])]
        source = project.source
        self.sizes = [source.array(var, str(source.top_file)).size for _, var, _ in self.traced]
        if trace is None and optimize is None:
            self.lib = ctypes.CDLL(str(project.library))
            return
        part = runner_part(source, project.inputs, project.outputs, len(self.traced))
        top_text = self._traced_top() if trace is not None else None
        self.lib = ctypes.CDLL(str(project_library(source, [part], "hls_project_run", top_text, optimize or "-O0")))

    def _traced_top(self) -> str:
        """The top function's file recording each traced layer's output words after its call; a stream's are read
        and written back, so the layers after it read what they would have."""
        source, net = self.project.source, self.project.network()
        result_t = {layer.name: layer.result_t for layer in net.layers}
        after = []
        for k, (name, var, end) in enumerate(self.traced):
            array, raw = source.array(var, str(source.top_file)), f"raw_of<{cpp_raw_args(result_t[name])}>"
            at = f"l1t_trace_out[{k}][l1t_event * {array.size} + l1t_i]"
            words = var
            if array.width:  # the stream's words, read out and written back
                words, element = f"l1t_w{k}", source.qualified(array.cpp_type)
                copy = f"static {source.checked(array.cpp_type)} {words}[{array.size}]; "
                copy += f"l1t_read<{element}>({var}, {array.size}, {words}); "
                copy += f"l1t_write<{element}>({words}, {array.size}, {var});"
                after.append((end, f"    {copy}"))
            after.append((end, f"    for (int l1t_i = 0; l1t_i < {array.size}; ++l1t_i) {at} = {raw}({words}[l1t_i]);"))
        head = f"static int64_t* l1t_trace_out[{max(len(self.traced), 1)}];\nstatic int64_t l1t_event;\n"
        return traced_top(source, after, head)

    def run(self, words: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Raw outputs (events, elements) by spec output name, and the traced layers' raw outputs by layer name,
        for raw inputs by spec input name."""
        ins, outs = self.project.inputs, self.project.outputs
        types = io_types(self.project.source, ins + outs)
        n = len(words[self.project.layer_of[ins[0].name]])
        given = []
        for a in ins:
            raw = words[self.project.layer_of[a.name]].reshape(n, -1)
            given.append(fx.to_limbs(raw) if types[a.name].wide else np.ascontiguousarray(raw, np.int64))
        got = [np.empty((n, a.size, fx.LIMBS) if types[a.name].wide else (n, a.size), np.int64) for a in outs]
        traces = [np.empty((n, size), np.int64) for size in self.sizes]
        pointers = (ctypes.c_void_p * max(len(traces), 1))(*(t.ctypes.data for t in traces))
        self.lib.l1t_run(ctypes.c_int64(n), pointers, *(ctypes.c_void_p(a.ctypes.data) for a in given + got))
        outputs = {
            self.project.layer_of[a.name]: fx.from_limbs(g) if types[a.name].wide else g
            for a, g in zip(outs, got, strict=True)
        }
        return outputs, {name: t for (name, _, _), t in zip(self.traced, traces, strict=True)}


class WrappedRunner:
    """A deployed path whole: the wrapper's ``create_model()`` model (its scaling, the top function, its score)
    called once per event through ``prepare_input``/``predict``/``read_result``, from the library ``read_project``
    compiled with the wrapper in it."""

    def __init__(self, project: Project) -> None:
        if project.wrapper is None:
            raise ProjectError(f"{project.source.directory}: no emulator wrapper was read")
        self.project = project
        self.lib = ctypes.CDLL(str(project.library))
        self.lib.l1t_path.restype = ctypes.c_int64

    def run(self, words: dict[str, np.ndarray], network: Network) -> dict[str, np.ndarray]:
        """Every word ``read_result`` returns, split into the spec's outputs (events, elements), for unscaled raw
        words of the spec's input."""
        ((name, _, _),) = network.inputs
        given = np.ascontiguousarray(words[name].reshape(len(words[name]), -1), np.int64)
        sizes = [int(np.prod(network.output_shape(out))) for out in network.output_names]
        out = np.empty((len(given), sum(sizes)), np.int64)
        found = self.lib.l1t_path(ctypes.c_int64(len(given)), ctypes.c_void_p(given.ctypes.data),
                                  ctypes.c_void_p(out.ctypes.data))  # fmt: skip
        wrapper = self.project.wrapper
        if found != sum(sizes):
            raise ProjectError(
                f"{wrapper.path}: read_result returned {found} words per event ({wrapper.result_cpp}); the spec's "
                f"outputs {network.output_names} hold {sum(sizes)}"
            )
        cuts = np.cumsum(sizes)[:-1]
        return dict(zip(network.output_names, np.split(out, cuts, axis=1), strict=True))


@dataclass(frozen=True)
class Verification:
    """The outcome of ``verify``: events compared, events that differ, the first differing word and layer."""

    events: int
    mismatches: int
    first: Mismatch | None
    layer: TraceDifference | None
    project_seconds: float
    emulator_seconds: float
    wrapped: bool = False  # through the package's emulator wrapper

    def __str__(self) -> str:
        lines = [f"{self.events} events, {self.mismatches} mismatches"]
        if self.first is not None:
            lines.append(f"first: {self.first} (expected: the project's C++, got: the emulator)")
        if self.layer is not None:
            lines.append(str(self.layer))
        elif self.first is not None and self.wrapped:
            lines.append("every network layer agrees on the emulator's scaled inputs of those events: the difference "
                         "is in the wrapper's scaling or score")  # fmt: skip
        return "\n".join(lines)


def verify(project: Project, network: Network, words: dict[str, np.ndarray]) -> Verification:
    """Run the project's C++ (a deployed package: through its wrapper, ``WrappedRunner``) and ``network`` on the same
    raw words and compare every output word."""
    start = time.perf_counter()
    if project.wrapper is not None:
        expected = WrappedRunner(project).run(words, network)
    else:
        expected, _ = ProjectRunner(project).run(words)
    project_seconds = time.perf_counter() - start
    start = time.perf_counter()
    got = network.run(words, raw=True)
    emulator_seconds = time.perf_counter() - start
    missing = [name for name in network.output_names if name not in expected]
    if missing:
        raise ProjectError(f"{project.source.directory}: the spec's outputs {missing} are not the project's")
    bad_events, first = compare_outputs({name: expected[name] for name in network.output_names}, got)
    layer = None
    if first is not None:
        layer = first_layer(project, network, words, np.flatnonzero(bad_events)[:256])
    return Verification(len(bad_events), int(bad_events.sum()), first, layer, project_seconds, emulator_seconds,
                        project.wrapper is not None)  # fmt: skip


def first_layer(
    project: Project, network: Network, words: dict[str, np.ndarray], events: np.ndarray
) -> TraceDifference | None:  # fmt: skip
    """The first layer and neuron where the traced project and the emulator differ on ``events`` (layers whose
    words are past 64 bits are not traced)."""
    names = [layer.name for layer in network.layers if not layer.result_t.wide]
    picked = {name: w[events] for name, w in words.items()}
    got = network.trace(picked, raw=True)
    if project.wrapper is not None:  # the network on the emulator's scaling of these events
        picked = {a.name: np.asarray(got[a.name]) for a in project.inputs}
    _, expected = ProjectRunner(project, trace=names).run(picked)
    found = compare_traces(expected, got, network.layer_names)
    if found is None:
        return None
    event = int(events[found.event])
    return TraceDifference(found.layer, event, found.neuron, found.expected, found.got, found.n_events)
