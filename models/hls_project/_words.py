"""Raw words read out of an hls4ml project by compiling its own C++: weights exactly as its code initialises or
loads them (``weights/*.h`` or, through its own ``load_weights_from_txt``, ``*.txt``), activation tables filled by
its own ``nnet_activation.h``, and every type l1t read from its text checked against the compiler's view.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import l1t.emulator.fixed as fx
from l1t.cpp import NNET_TRACE_SWITCHES, STREAM_WORDS, compile_shared, cpp_raw_args, cpp_spelling
from l1t.models.hls_project._source import Array, ProjectError, Source

__all__ = [
    "Request", "call_top", "io_types", "project_library", "read_words", "runner_part", "stream_sizes", "traced_top",
    "words_of",
]  # fmt: skip


@dataclass(frozen=True)
class Request:
    """``size`` raw words of ``expr`` (an array of element type ``t``, or of the C++ integer type ``c_type``,
    evaluated inside the project's namespace after ``setup``), in translation unit ``unit`` (0: the top function's;
    1: a wrapper's, ``read_words``)."""

    key: str
    expr: str
    size: int
    t: fx.FixedType
    setup: str = ""
    unit: int = 0
    c_type: str = ""  # a C++ integer element type (``l1t.cpp.C_INTEGERS``) standing for ``t``


def _prologue(source: Source, top_text: str | None) -> str:
    weights = source.firmware / "weights"
    top = top_text if top_text is not None else f'#include "{source.top_file}"'
    streams = f'#include "hls_stream.h"\n{STREAM_WORDS}' if source.io_stream else ""  # before a traced top uses them
    return (
        f"// l1t: project {source.top}, firmware digest {source.digest}\n"
        f'#define WEIGHTS_DIR "{weights}"\n{streams}'
        f"{top}\n"
        "#include <type_traits>\n" + NNET_TRACE_SWITCHES
    )


def words_of(a: Array) -> str:
    """The C++ array holding a top argument's words: the array itself, or for a stream the words it carries."""
    return f"l1t_words_{a.name}" if a.width else a.name


def call_top(source: Source, inputs: list[Array], body_in: str, body_out: str) -> str:
    """Statements declaring the top's arguments, filling the ``inputs`` (``body_in``, into ``words_of`` each),
    calling the top, and reading the other arguments (``body_out``). A stream argument carries its words as
    ``nnet::array``s of its width, written before the call and read after it (``l1t.cpp.STREAM_WORDS``)."""
    names = {a.name for a in inputs}
    lines, pushes, pops = [], [], []
    for a in source.args:
        if not a.width:
            lines.append(f"    {source.qualified(a.cpp_type)} {a.name}[{a.size}];")
            continue
        element = source.qualified(a.cpp_type)
        lines.append(f"    hls::stream<{element}> {a.name};")
        lines.append(f"    {source.checked(a.cpp_type)} {words_of(a)}[{a.size}];")
        if a.name in names:
            pushes.append(f"    l1t_write<{element}>({words_of(a)}, {a.size}, {a.name});")
        else:
            pops.append(f"    l1t_read<{element}>({a.name}, {a.size}, {words_of(a)});")
    lines += [f"    unsigned short {name} = 0;" for name in source.size_args]
    lines += [body_in, *pushes]
    call = [a.name for a in source.args] + source.size_args
    lines.append(f"    {source.qualified(source.top)}({', '.join(call)});")
    lines += [*pops, body_out]
    return "\n".join(lines)


def traced_top(source: Source, after: list[tuple[int, str]], head: str = "") -> str:
    """The top function's file with statements inserted after the given lines (those after one line in the order
    given), and ``head`` before it."""
    lines = source.top_file.read_text().splitlines()
    for line in sorted({line for line, _ in after}, reverse=True):  # bottom up: line numbers hold
        lines[line:line] = [text for at, text in after if at == line]
    return head + "\n".join(lines)


def stream_sizes(
    source: Source, inputs: list[Array], writes: list[tuple[str, int]], aliases: dict[str, str]
) -> Source:  # fmt: skip
    """``source`` with the words per event of each stream, counted by running the project's own C++ once: an input
    fed more zero words than any layer reads (what is left unread tells what it reads), and each stream's ``size()``
    right after the call that writes it (``writes``: the stream, the line its call ends on); an ``auto&`` alias
    (``aliases``: alias -> stream) has its stream's."""
    budget = 1 << 20  # words fed to each input: 8 to 16 MB of C-simulation words
    fed = {a.name: max(1, budget // a.width) for a in inputs}
    after = [(end, f"    l1t_counts[{k}] = {name}.size();") for k, (name, end) in enumerate(writes)]
    head = f"static int64_t l1t_counts[{max(len(writes), 1)}];\n"
    feed = "\n".join(
        f"    for (int l1t_t = 0; l1t_t < {fed[a.name]}; ++l1t_t) {{ {source.qualified(a.cpp_type)} l1t_v; "
        f"for (int l1t_j = 0; l1t_j < {a.width}; ++l1t_j) l1t_v[l1t_j] = 0; {a.name}.write(l1t_v); }}"
        for a in inputs
    )
    decls = "\n".join(f"    hls::stream<{source.qualified(a.cpp_type)}> {a.name};" for a in source.args)
    sizes = [f"    unsigned short {name} = 0;" for name in source.size_args]
    call = ", ".join([a.name for a in source.args] + source.size_args)
    left = "\n".join(  # counted, then drained: C-simulation warns of a stream destroyed holding words
        f"    l1t_out[{k}] = {a.name}.size(); while (!{a.name}.empty()) {a.name}.read();"
        for k, a in enumerate(source.args)
    )
    part = (
        f'extern "C" void l1t_stream_sizes(int64_t* l1t_out, int64_t* l1t_written) {{\n{decls}\n'
        + "\n".join(sizes) + f"\n{feed}\n    {source.qualified(source.top)}({call});\n{left}\n"
        f"    for (int l1t_k = 0; l1t_k < {len(writes)}; ++l1t_k) l1t_written[l1t_k] = l1t_counts[l1t_k];\n}}"
    )  # fmt: skip
    library = project_library(source, [part], "hls_stream_sizes", traced_top(source, after, head))
    left_words = np.zeros(len(source.args), np.int64)
    written = np.zeros(max(len(writes), 1), np.int64)
    ctypes.CDLL(str(library)).l1t_stream_sizes(
        ctypes.c_void_p(left_words.ctypes.data), ctypes.c_void_p(written.ctypes.data)
    )
    transfers = {name: int(count) for (name, _), count in zip(writes, written, strict=False)}
    for a, left in zip(source.args, left_words, strict=True):
        if a.name in fed:
            if left in (0, fed[a.name]):
                how = f"more than {fed[a.name]} arrays" if left == 0 else "nothing"
                raise ProjectError(f"{source.top_file}: {source.top} reads {how} from the stream {a.name}")
            transfers[a.name] = fed[a.name] - int(left)
        else:
            transfers[a.name] = int(left)
    for alias, target in aliases.items():
        if target in transfers:
            transfers[alias] = transfers[target]

    def sized(a: Array) -> Array:
        if not a.width:
            return a
        if a.name not in transfers:
            raise ProjectError(f"{source.top_file}: no call of {source.top} writes the stream {a.name!r}")
        return replace(a, size=transfers[a.name] * a.width)

    return replace(source, args=[sized(a) for a in source.args], locals={k: sized(a) for k, a in source.locals.items()})


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
            flags=source.cxx_flags,
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
        return f"set_raw{two}<{cpp_raw_args(types[a.name])}>({words_of(a)}[l1t_i], {element(a)});"

    def read(a: Array) -> str:
        if types[a.name].wide:
            return f"raw_of2<{cpp_raw_args(types[a.name])}>({words_of(a)}[l1t_i], {element(a)});"
        return f"{element(a)} = raw_of<{cpp_raw_args(types[a.name])}>({words_of(a)}[l1t_i]);"

    fills = "\n".join(f"    for (int l1t_i = 0; l1t_i < {a.size}; ++l1t_i) {fill(a)}" for a in inputs)
    reads = "\n".join(f"    for (int l1t_i = 0; l1t_i < {a.size}; ++l1t_i) {read(a)}" for a in outputs)
    pointers = "".join(f"  l1t_trace_out[{k}] = l1t_trace[{k}];\n" for k in range(traced))
    event = "    l1t_event = l1t_e;\n" if traced else ""
    return (
        f'extern "C" void l1t_run(int64_t l1t_n, int64_t** l1t_trace, {", ".join(params)}) {{\n{pointers}'
        f"  for (int64_t l1t_e = 0; l1t_e < l1t_n; ++l1t_e) {{\n{event}{call_top(source, inputs, fills, reads)}\n"
        "  }\n}"
    )


def read_words(
    source: Source, inputs: list[Array], requests: list[Request], types: dict[str, fx.FixedType], extra: list[str],
    includes: tuple[Path, ...] = (), separate: list[str] | None = None,
) -> tuple[dict[str, np.ndarray], Path]:  # fmt: skip
    """Raw words of every request, after the top function ran once on zero ``inputs`` (which loads text weights), and
    the library they were read from (``extra`` parts compiled into it too, after the top's code, with ``includes``
    on the include path; ``separate``, a second translation unit such as a wrapper's, with the requests of unit 1);
    each ``types`` entry (a C++ type name, project-qualified where needed) is checked to be exactly that type."""
    checks = [
        f'static_assert(std::is_same<{cpp}, {cpp_spelling(t)}>::value, "l1t: {cpp} is not {t} as read from the '
        'project text");'
        for cpp, t in types.items()
    ]
    zero = "\n".join(f"    for (int l1t_i = 0; l1t_i < {a.size}; ++l1t_i) {words_of(a)}[l1t_i] = 0;" for a in inputs)
    load = call_top(source, inputs, zero, "")
    parts = [*extra, "\n".join(checks), f'extern "C" void l1t_load() {{\n{load}\n}}']
    units = [parts, list(separate or [])]
    for i, req in enumerate(requests):
        if req.t.wide:
            raise ProjectError(f"{source.directory}: {req.key} has {req.t} words, past 64 bits")
        using = f"using namespace {source.namespace};" if source.namespace and req.unit == 0 else ""
        element = req.c_type or cpp_spelling(req.t)
        word = f"(int64_t){req.expr}[i]" if req.c_type else f"raw_of<{cpp_raw_args(req.t)}>({req.expr}[i])"
        units[req.unit].append(
            f'extern "C" void l1t_words_{i}(int64_t* out) {{\n  {using}\n  {req.setup}\n'
            f"  static_assert(std::is_same<std::decay<decltype({req.expr}[0])>::type, {element}>::value, "
            f'"l1t: the elements of {req.key} are not {req.c_type or req.t}");\n'
            f"  for (int i = 0; i < {req.size}; ++i) out[i] = {word};\n}}"
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
