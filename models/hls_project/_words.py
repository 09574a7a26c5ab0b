"""Raw words read out of an hls4ml project by compiling its own C++: weights exactly as its code initialises or
loads them (``weights/*.h`` or, through its own ``load_weights_from_txt``, ``*.txt``), activation tables filled by
its own ``nnet_activation.h``, and every type l1t read from its text checked against the compiler's view.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import l1t.emulator.fixed as fx
from l1t.cpp import NNET_TRACE_SWITCHES, compile_shared, cpp_raw_args, cpp_spelling
from l1t.models.hls_project._source import Array, ProjectError, Source

__all__ = ["Request", "call_top", "io_types", "project_library", "read_words", "runner_part"]


@dataclass(frozen=True)
class Request:
    """``size`` raw words of ``expr`` (an array of element type ``t``, evaluated inside the project's namespace
    after ``setup``), in translation unit ``unit`` (0: the top function's; 1: a wrapper's, ``read_words``)."""

    key: str
    expr: str
    size: int
    t: fx.FixedType
    setup: str = ""
    unit: int = 0


def _prologue(source: Source, top_text: str | None) -> str:
    weights = source.firmware / "weights"
    top = top_text if top_text is not None else f'#include "{source.top_file}"'
    return (
        f"// l1t: project {source.top}, firmware digest {source.digest}\n"
        f'#define WEIGHTS_DIR "{weights}"\n'
        f"{top}\n"
        "#include <type_traits>\n" + NNET_TRACE_SWITCHES
    )


def call_top(source: Source, body_in: str, body_out: str) -> str:
    """Statements declaring the top's arrays, filling the inputs (``body_in``), calling it, and reading the outputs
    (``body_out``)."""
    lines = [f"    {source.qualified(a.cpp_type)} {a.name}[{a.size}];" for a in source.args]
    lines += [f"    unsigned short {name} = 0;" for name in source.size_args]
    lines.append(body_in)
    names = [a.name for a in source.args] + source.size_args
    lines.append(f"    {source.qualified(source.top)}({', '.join(names)});")
    lines.append(body_out)
    return "\n".join(lines)


def project_library(
    source: Source, parts: list[str], prefix: str, top_text: str | None = None, optimize: str = "-O1",
    includes: tuple[Path, ...] = (), separate: tuple[str, ...] = (),
) -> Path:  # fmt: skip
    """Compile the project's top translation unit (or ``top_text`` in its place) with ``parts`` appended (its own
    ap_types and nnet_utils first on the include path), with ``separate`` as a translation unit of its own linked in,
    and load it; a failed ``static_assert`` of l1t's becomes a
    ProjectError naming it."""
    code = _prologue(source, top_text) + "\n".join(parts)
    try:
        path = compile_shared(
            [code, *separate],
            chunks=1 + len(separate),
            includes=[source.firmware, *includes],
            ap_types=source.ap_types,
            optimize=optimize,
            std="c++17",
            prefix=prefix,
        )
    except RuntimeError as err:
        failed = re.findall(r"static assertion failed: (l1t: [^\n]*)", str(err))
        if failed:
            raise ProjectError(f"{source.directory}: {failed[0]}") from None
        raise ProjectError(f"{source.directory}: g++ failed on the project's own C++:\n{err}") from None
    return path


def io_types(source: Source, arrays: list[Array]) -> dict[str, fx.FixedType]:
    """The types of top-function arguments (a word past 64 bits passes as ``fx.LIMBS`` int64)."""
    return {a.name: source.type_of(a.cpp_type, str(source.top_file)) for a in arrays}


def runner_part(source: Source, inputs: list[Array], outputs: list[Array], traced: int) -> str:
    """``l1t_run(n, trace, inputs..., outputs...)``: the top function on n events of raw words, once per event (a
    word past 64 bits as ``fx.LIMBS`` int64); ``traced`` layers' outputs are recorded into ``trace`` by statements a
    traced copy of the top file holds. Its own names start with ``l1t_``: the top's arrays keep the project's."""
    types = io_types(source, inputs + outputs)
    params = [f"const int64_t* {a.name}_raw" for a in inputs] + [f"int64_t* {a.name}_raw" for a in outputs]

    def element(a: Array) -> str:
        """Element l1t_i of event l1t_e in ``a``'s raw words: an int64 lvalue, or a pointer to its limbs if wide."""
        at = f"l1t_e * {a.size} + l1t_i"
        return f"{a.name}_raw + ({at}) * {fx.LIMBS}" if types[a.name].wide else f"{a.name}_raw[{at}]"

    def fill(a: Array) -> str:
        two = "2" if types[a.name].wide else ""
        return f"set_raw{two}<{cpp_raw_args(types[a.name])}>({a.name}[l1t_i], {element(a)});"

    def read(a: Array) -> str:
        if types[a.name].wide:
            return f"raw_of2<{cpp_raw_args(types[a.name])}>({a.name}[l1t_i], {element(a)});"
        return f"{element(a)} = raw_of<{cpp_raw_args(types[a.name])}>({a.name}[l1t_i]);"

    fills = "\n".join(f"    for (int l1t_i = 0; l1t_i < {a.size}; ++l1t_i) {fill(a)}" for a in inputs)
    reads = "\n".join(f"    for (int l1t_i = 0; l1t_i < {a.size}; ++l1t_i) {read(a)}" for a in outputs)
    pointers = "".join(f"  l1t_trace_out[{k}] = l1t_trace[{k}];\n" for k in range(traced))
    event = "    l1t_event = l1t_e;\n" if traced else ""
    return (
        f'extern "C" void l1t_run(int64_t l1t_n, int64_t** l1t_trace, {", ".join(params)}) {{\n{pointers}'
        f"  for (int64_t l1t_e = 0; l1t_e < l1t_n; ++l1t_e) {{\n{event}{call_top(source, fills, reads)}\n  }}\n}}"
    )


def read_words(
    source: Source, requests: list[Request], types: dict[str, fx.FixedType], extra: list[str],
    includes: tuple[Path, ...] = (), separate: list[str] | None = None,
) -> tuple[dict[str, np.ndarray], Path]:  # fmt: skip
    """Raw words of every request, after the top function ran once on zero inputs (which loads text weights), and
    the library they were read from (``extra`` parts compiled into it too, after the top's code, with ``includes``
    on the include path; ``separate``, a second translation unit such as a wrapper's, with the requests of unit 1);
    each ``types`` entry (a C++ type name, project-qualified where needed) is checked to be exactly that type."""
    checks = [
        f'static_assert(std::is_same<{cpp}, {cpp_spelling(t)}>::value, "l1t: {cpp} is not {t} as read from the '
        'project text");'
        for cpp, t in types.items()
    ]
    zero = "\n".join(f"    for (int l1t_i = 0; l1t_i < {a.size}; ++l1t_i) {a.name}[l1t_i] = 0;" for a in source.args)
    parts = [*extra, "\n".join(checks), f'extern "C" void l1t_load() {{\n{call_top(source, zero, "")}\n}}']
    units = [parts, list(separate or [])]
    for i, req in enumerate(requests):
        if req.t.wide:
            raise ProjectError(f"{source.directory}: {req.key} has {req.t} words, past 64 bits")
        using = f"using namespace {source.namespace};" if source.namespace and req.unit == 0 else ""
        units[req.unit].append(
            f'extern "C" void l1t_words_{i}(int64_t* out) {{\n  {using}\n  {req.setup}\n'
            f"  static_assert(std::is_same<std::decay<decltype({req.expr}[0])>::type, {cpp_spelling(req.t)}>::value, "
            f'"l1t: the elements of {req.key} are not {req.t}");\n'
            f"  for (int i = 0; i < {req.size}; ++i) out[i] = raw_of<{cpp_raw_args(req.t)}>({req.expr}[i]);\n}}"
        )
    second = ("\n".join(units[1]),) if separate is not None else ()
    path = project_library(source, parts, "hls_project", includes=includes, separate=second)
    lib = ctypes.CDLL(str(path))
    lib.l1t_load()
    out = {}
    for i, req in enumerate(requests):
        raw = np.empty(req.size, dtype=np.int64)
        getattr(lib, f"l1t_words_{i}")(ctypes.c_void_p(raw.ctypes.data))
        out[req.key] = raw
    return out, path
