"""Reading an hls4ml project's C++ (io_parallel arrays or io_stream ``hls::stream``s): the top function's signature
and body, the typedefs and macros of ``defines.h``, and the config structs of ``parameters.h``.

Only the constructs hls4ml writes (0.6 through 1.3) are read; anything else in the top function is refused naming
the file, line and statement, so a hand edit that changes what the firmware computes is never skipped silently.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import l1t.emulator.fixed as fx
from l1t.cpp import ap_types_include
from l1t.hls_text import (
    NNET_ARRAY,
    STREAM_ARG,
    ProjectError,
    evaluate,
    firmware_dir,
    project_name,
    read_defines,
    strip_block_comments,
)
from l1t.hls_text import top_file as find_top_file

__all__ = ["ALIAS", "COPIES", "Array", "Call", "ProjectError", "Source", "Struct", "read_source"]


@dataclass(frozen=True)
class Array:
    """A top-function argument or a layer's output: a C++ array ``cpp_type name[size]``, or (``width`` > 0) an
    ``hls::stream<cpp_type>`` of ``nnet::array``s of ``width`` words, ``size`` words per event in all (the number
    the project's C++ writes, ``_words.stream_sizes``; 0 until known)."""

    name: str
    cpp_type: str
    size: int
    width: int = 0

    @property
    def transfers(self) -> int:
        """The ``nnet::array``s a stream carries per event."""
        return self.size // self.width


@dataclass(frozen=True)
class Call:
    """One ``nnet::function<template>(args);`` statement of the top function (``scope``: the namespace it is called
    in, ``nnet`` but for generated code, which newer hls4ml puts in the project's namespace); ``comment`` is hls4ml's
    trailing layer name when present."""

    function: str
    template: list[str]
    args: list[str]
    comment: str | None
    where: str  # "file:line" of the statement's first line
    end: int  # the line the statement ends on
    scope: str = "nnet"
    copy: int = 0  # which output of a statement copying one stream into several (``COPIES``) the call writes


@dataclass
class Struct:
    """A config struct of ``parameters.h``: its integer/enum constants, typedefs, template aliases and the types of
    its static members defined outside it (``static const slope_t slope;``)."""

    name: str
    base: str  # "" for a struct without a base
    where: str
    constants: dict[str, str] = field(default_factory=dict)
    typedefs: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    arrays: dict[str, list[int]] = field(default_factory=dict)  # static pointer members to integer arrays


@dataclass(frozen=True)
class Source:
    """What an hls4ml project's C++ says, as text; ``digest`` hashes every file under ``firmware/``."""

    directory: Path
    top: str
    namespace: str | None
    top_file: Path
    args: list[Array]  # the top function's array arguments, in order
    locals: dict[str, Array]
    calls: list[Call]
    typedefs: dict[str, str]
    macros: dict[str, str]
    structs: dict[str, Struct]
    size_args: list[str]  # older hls4ml's ``unsigned short &const_size_in_1`` arguments
    digest: str
    firmware: Path  # the C++ directory (``hls_text.firmware_dir``)
    cxx_flags: tuple[str, ...] = ()  # what the package's Makefile compiles with that changes what g++ accepts

    @property
    def io_stream(self) -> bool:
        """The top passes ``hls::stream``s (hls4ml's io_stream) rather than arrays."""
        return any(a.width for a in self.args)

    @property
    def ap_types(self) -> Path:
        """The project's own ``ap_types``; a deployed package without them is built against the experiment's HLS
        headers, which are the ones hls4ml ships (the fingerprint check holds them to it)."""
        own = self.firmware / "ap_types"
        return own if own.is_dir() else ap_types_include()

    @property
    def nnet_utils(self) -> Path:
        """The directory of the project's ``nnet_*.h`` headers: ``nnet_utils/``, or the one ``parameters.h`` or
        ``defines.h`` includes them from (a deployed package may name it otherwise, e.g. ``nn_utils/``)."""
        own = self.firmware / "nnet_utils"
        if own.is_dir():
            return own
        for header in ("parameters.h", "defines.h"):
            text = (self.firmware / header).read_text(errors="replace")
            if m := re.search(r'^\s*#\s*include\s+"([\w./-]+)/nnet_\w+\.h"', text, re.M):
                return self.firmware / m.group(1)
        return own

    def qualified(self, name: str) -> str:
        """A name of the project's namespace as C++ outside it spells it."""
        return f"{self.namespace}::{name}" if self.namespace else name

    def stream_width(self, name: str) -> int:
        """The words of the ``nnet::array`` a stream element type stands for; 0 for any other type."""
        m = NNET_ARRAY.fullmatch(_resolved(self.typedefs, name))
        return self.value(m.group(2), f"{self.firmware / 'defines.h'}: {name}") if m else 0

    def checked(self, name: str) -> str:
        """The C++ spelling of a type name as the compiler checks it: an ``nnet::array``'s element type for a stream
        element type, qualified with the project's namespace where it is the project's."""
        cpp = self.qualified(name) if name in self.typedefs else name
        return f"{cpp}::value_type" if self.stream_width(name) else cpp

    def type_of(self, name: str, where: str) -> fx.FixedType:
        """The ap_fixed/ap_int type a typedef name (or a type spelled out) stands for; a stream element type's
        ``nnet::array`` stands for its element type."""
        text = _resolved(self.typedefs, name)
        if m := NNET_ARRAY.fullmatch(text):
            text = _resolved(self.typedefs, m.group(1))
        try:
            return fx.parse(text)
        except ValueError as err:
            raise ProjectError(f"{where}: type {name!r} = {text!r}: {err}") from None

    def array(self, name: str, where: str) -> Array:
        for arr in [*self.args, *self.locals.values()]:
            if arr.name == name:
                return arr
        raise ProjectError(f"{where}: {name!r} is not an argument or a declared array of {self.top}")

    def value(self, expr: str, where: str, struct: Struct | None = None) -> int:
        """An integer expression of the C++ (``8``, ``N_LAYER_2``, ``n_in * n_out``, ``DIV_ROUNDUP(a, b)``) with the
        project's macros and the struct's constants."""
        return evaluate(expr, {**self.macros, **(struct.constants if struct else {})}, where)


def _resolved(typedefs: dict[str, str], name: str) -> str:
    """What a typedef name finally stands for."""
    seen, text = [], name.strip()
    while text in typedefs and text not in seen:
        seen.append(text)
        text = typedefs[text]
    return text


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split at ``sep`` outside <>, (), [] and {}."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    return [*parts, tail] if tail or parts else []


def _digest(firmware: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in firmware.rglob("*") if p.is_file() and p.suffix in (".h", ".hpp", ".cpp", ".txt")):
        h.update(str(path.relative_to(firmware)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


_ARRAY_ARG = re.compile(r"(?:const\s+)?([\w:]+(?:<[^>]*>)?)\s+(\w+)\s*\[([^\]]+)\]")
_STREAM_DECL = re.compile(r"^hls::stream\s*<\s*([\w:]+)\s*>\s*(\w+)\s*(?:\(\s*\"[^\"]*\"\s*\))?\s*;$")
_SIZE_ARG = re.compile(r"unsigned\s+short\s*&\s*(\w+)")
_DECL = re.compile(r"^([\w:]+(?:<[^;]*>)?)\s+(\w+)\s*\[([^\]]+)\]\s*;$")
_CALL = re.compile(r"^(\w+)::(\w+)\s*<(.*)>\s*\((.*)\)\s*;$", re.S)
_ASSIGN = re.compile(r"^(\w+)\s*=\s*([\w\s*+]+);$")
_ALIAS = re.compile(r"^auto\s*&\s*(\w+)\s*=\s*(\w+)\s*;$")  # io_parallel Reshape/Flatten: the same array
ALIAS = "auto&"  # the function name an alias statement is read as (no nnet:: function can have it)


def read_source(directory: str | Path) -> Source:
    """Read an hls4ml project directory (its ``firmware/`` C++, or wherever ``firmware_dir`` finds it); the sizes of
    its streams are 0 until ``_words.stream_sizes`` counts them."""
    directory = Path(directory).resolve()
    firmware = firmware_dir(directory)
    top = project_name(directory)
    for path in (firmware / "defines.h", firmware / "parameters.h"):
        if not path.is_file():
            raise ProjectError(f"{directory}: missing {path.relative_to(directory)}")
    top_file = find_top_file(firmware, top)
    macros, typedefs = read_defines(strip_block_comments((firmware / "defines.h").read_text()))
    structs = _read_structs(firmware / "parameters.h")
    text = strip_block_comments(top_file.read_text())
    namespace = _namespace(text)
    signature = re.search(rf"\bvoid\s+{top}\s*\(([^)]*)\)\s*\{{", text)
    if signature is None:
        raise ProjectError(f"{top_file}: no definition 'void {top}(...) {{'")
    sig_where = f"{top_file}:{text[: signature.start()].count(chr(10)) + 1}"
    args, size_args = [], []
    for arg in split_top_level(signature.group(1)):
        if m := _SIZE_ARG.fullmatch(arg):
            size_args.append(m.group(1))
        elif m := _ARRAY_ARG.fullmatch(arg):
            cpp_t, name, size = m.groups()
            args.append(Array(name, cpp_t, evaluate(size, macros, sig_where)))
        elif m := STREAM_ARG.fullmatch(arg):
            args.append(_stream(m.group(1), m.group(2), typedefs, macros, sig_where))
        else:
            raise ProjectError(
                f"{sig_where}: argument {arg!r} of {top} is neither an io_parallel array 'type name[size]' nor an "
                "io_stream 'hls::stream<type> &name'"
            )
    if len({bool(a.width) for a in args}) > 1:
        raise ProjectError(f"{sig_where}: {top} passes both arrays and streams")
    body_start = signature.end()
    body = _body(text, body_start, f"{top_file}:{sig_where}")
    first_line = text[:body_start].count("\n") + 1
    locals_, calls = {}, []
    for line_no, end, statement, comment in _statements(body, first_line, top_file):
        where = f"{top_file.name}:{line_no}"
        if m := _DECL.match(statement):
            cpp_t, name, size = m.groups()
            locals_[name] = Array(name, cpp_t, evaluate(size, macros, where))
        elif m := _STREAM_DECL.match(statement):
            locals_[m.group(2)] = _stream(m.group(1), m.group(2), typedefs, macros, where)
        elif m := _CALL.match(statement):
            scope, function, template, call_args = m.groups()
            template_args, args_ = split_top_level(template), split_top_level(call_args)
            if function in COPIES and len(args_) > 2:  # one stream read into several: a copy each
                calls += [
                    Call(function, template_args, [args_[0], a], comment, where, end, scope, k)
                    for k, a in enumerate(args_[1:])
                ]
            else:
                calls.append(Call(function, template_args, args_, comment, where, end, scope))
        elif m := _ALIAS.match(statement):
            name, target = m.groups()
            aliased = next((a for a in [*args, *locals_.values()] if a.name == target), None)
            if aliased is None:
                raise ProjectError(f"{top_file}:{line_no}: {target!r} is aliased before it is declared")
            locals_[name] = replace(aliased, name=name)
            calls.append(Call(ALIAS, [], [target, name], comment, where, end))
        elif (m := _ASSIGN.match(statement)) and m.group(1) in size_args:
            continue  # older hls4ml reports the array sizes through reference arguments
        else:
            raise ProjectError(f"{top_file}:{line_no}: statement not understood: {statement!r}")
    return Source(
        directory, top, namespace, top_file, args, locals_, calls, typedefs, macros, structs, size_args,
        _digest(firmware), firmware, package_flags(directory, firmware),
    )  # fmt: skip


PERMISSIVE = "-fpermissive"  # accepts some ill-formed code (e.g. a name a template uses before it is declared)


def package_flags(directory: Path, firmware: Path) -> tuple[str, ...]:
    """The g++ flags of a deployed package's Makefiles (the project's, its C++ directory's or the repository's around
    it) that decide whether its C++ compiles at all: ``-fpermissive``, which they pass in ``CXXFLAGS``."""
    makefiles = [place / "Makefile" for place in dict.fromkeys((firmware, directory, directory.parent))]
    for makefile in (m for m in makefiles if m.is_file()):
        flags = re.findall(r"^\s*CXXFLAGS\s*[:+?]?=(.*)$", makefile.read_text(errors="replace"), flags=re.M)
        if any(PERMISSIVE in line.split() for line in flags):
            return (PERMISSIVE,)
    return ()


COPIES = ("clone_stream",)  # io_stream functions writing what they read to each of several streams


def _stream(cpp_t: str, name: str, typedefs: dict[str, str], macros: dict[str, str], where: str) -> Array:
    """An ``hls::stream`` of ``cpp_t``, which must be an ``nnet::array`` typedef (its size is not known yet)."""
    text = _resolved(typedefs, cpp_t)
    m = NNET_ARRAY.fullmatch(text)
    if m is None:
        raise ProjectError(f"{where}: stream {name!r} of {cpp_t!r} = {text!r}, not an nnet::array")
    return Array(name, cpp_t, 0, evaluate(m.group(2), macros, where))


def _namespace(text: str) -> str | None:
    found = re.findall(r"^\s*namespace\s+(\w+)\s*\{", text, re.MULTILINE)
    if len(found) > 1:
        raise ProjectError(f"nested or several namespaces {found} around the top function are not read")
    return found[0] if found else None


def _body(text: str, start: int, where: str) -> str:
    depth = 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise ProjectError(f"{where}: unbalanced braces in the top function")


_CSIM_ONLY = re.compile(  # loading weights from text files, saving layer outputs for C-simulation traces
    r"static\s+bool\s+loaded_weights\s*=\s*false\s*;|if\s*\(\s*!\s*loaded_weights\s*\)\s*\{|"
    r"nnet::load_weights_from_txt\s*<[^;]*>\s*\([^;]*\)\s*;|loaded_weights\s*=\s*true\s*;|\}|"
    r"nnet::save_layer_output\s*<[^;]*>\s*\([^;]*\)\s*;"
)


_EXPONENT_HINT = (  # hls4ml's power-of-two weights and scales (QKeras quantized_po2, alpha="auto_po2")
    " (exponent-typed weights, a sign and an exponent per word, are not imported)"
)


def _conditional_blocks(lines: list[str], first_line: int, path: Path) -> set[int]:
    """The offsets of lines inside ``#if``/``#ifdef``/``#ifndef`` blocks of the top function that only load the
    weights from text files or save layer outputs for C-simulation traces (hls4ml's ``#ifndef __SYNTHESIS__``, or a
    deployed package's own macro such as ``#ifdef LOAD_WEIGHTS_FROM_TXT``): they change no value the top computes,
    and the weights are the ones the compiled project reads, which is where l1t reads them. Any other conditional
    code is refused."""
    skipped: set[int] = set()
    depth, start = 0, 0
    for offset, raw in enumerate(lines):
        code = raw.partition("//")[0].strip()
        if not code.startswith("#"):
            continue
        directive = code[1:].strip()
        if directive.startswith("if"):
            depth += 1
            start = offset if depth == 1 else start
        elif directive.startswith(("else", "elif")):
            raise ProjectError(f"{path}:{first_line + offset}: preprocessor directive {code!r} in the top function")
        elif directive.startswith("endif") and depth:
            depth -= 1
            if depth == 0:
                block = " ".join(
                    line.partition("//")[0] for line in lines[start + 1 : offset] if not line.strip().startswith("#")
                )
                if rest := _CSIM_ONLY.sub("", block).strip():
                    opening, first = lines[start].strip(), rest.split(";")[0].strip() + ";"
                    raise ProjectError(
                        f"{path}:{first_line + start}: preprocessor block {opening!r} in the top function holds more "
                        f"than the loading of weights from text files and C-simulation traces: {first!r}"
                        + (_EXPONENT_HINT if "exponent" in first else "")
                    )
                skipped.update(range(start, offset + 1))
    return skipped


def _statements(body: str, first_line: int, path: Path) -> list[tuple[int, int, str, str | None]]:
    """(first line, last line, statement, trailing comment) of the top function; ``#pragma`` lines and conditional
    blocks that only load weights from text files (``_conditional_blocks``) are skipped."""
    out: list[tuple[int, int, str, str | None]] = []
    lines = body.splitlines()
    skipped = _conditional_blocks(lines, first_line, path)
    pending, pending_line = "", 0
    for offset, raw in enumerate(lines):
        if offset in skipped:
            continue
        line_no = first_line + offset
        code, _, comment = raw.partition("//")
        code = code.strip()
        if code.startswith("#"):
            if not code[1:].strip().startswith("pragma"):
                raise ProjectError(f"{path}:{line_no}: preprocessor directive {code!r} in the top function")
            continue
        if not code:
            continue
        if not pending:
            pending_line = line_no
        pending = f"{pending} {code}".strip()
        if pending.endswith(";") or pending.endswith("}"):
            out.append((pending_line, line_no, pending, comment.strip() or None))
            pending = ""
    if pending:
        raise ProjectError(f"{path}:{pending_line}: statement not understood: {pending!r}")
    return out


_MEMBER_CONST = re.compile(r"^static\s+(?:const|constexpr)\s+(?:const\s+)?([\w:]+)\s+(\w+)\s*=\s*(.+);$", re.S)
_MEMBER_DECL = re.compile(r"^static\s+(?:const|constexpr)\s+(?:const\s+)?([\w:]+(?:<[^;=]*>)?)\s+(\w+)\s*;$")
_INT_ARRAY = re.compile(r"\bunsigned\s+(\w+)\s*\[\s*\d+\s*\]\s*=\s*\{\s*(\d+(?:\s*,\s*\d+)*)\s*\}\s*;")
_POINTER_MEMBER = re.compile(r"\bconst\s+unsigned\s*\*\s*const\s+(\w+)::(\w+)\s*=\s*(\w+)\s*;")
_MEMBER_TYPEDEF = re.compile(r"^typedef\s+(.+?)\s+(\w+)\s*;$", re.S)
_MEMBER_ALIAS = re.compile(r"^template\s*<[^>]*>\s*using\s+(\w+)\s*=\s*(.+);$", re.S)


def _read_structs(path: Path) -> dict[str, Struct]:
    text = strip_block_comments(path.read_text())
    text = "\n".join(line.split("//")[0] for line in text.splitlines())
    structs = {}
    for m in re.finditer(r"struct\s+(\w+)\s*(?::\s*([\w:]+)\s*)?\{", text):
        where = f"{path.name}:{text[: m.start()].count(chr(10)) + 1}"
        struct = Struct(m.group(1), m.group(2) or "", where)
        body = _body(text, m.end(), where)
        for member in (s.strip() for s in split_top_level(body, ";")):
            member = " ".join(member.split()) + ";"
            if mm := _MEMBER_CONST.match(member):
                struct.constants[mm.group(2)] = mm.group(3).strip()
            elif mm := _MEMBER_DECL.match(member):
                struct.members[mm.group(2)] = mm.group(1).strip()
            elif mm := _MEMBER_TYPEDEF.match(member):
                struct.typedefs[mm.group(2)] = mm.group(1).strip()
            elif mm := _MEMBER_ALIAS.match(member):
                struct.aliases[mm.group(1)] = mm.group(2).strip()
        structs[struct.name] = struct
    # ``const unsigned* const config2::from_shape = config2_from_shape;`` with ``unsigned config2_from_shape[3] =
    # {2, 5, 4};`` (transpose configs): the values of integer arrays a struct's static pointers point to
    values = {m.group(1): [int(v) for v in m.group(2).split(",")] for m in _INT_ARRAY.finditer(text)}
    for m in _POINTER_MEMBER.finditer(text):
        if m.group(1) in structs and m.group(3) in values:
            structs[m.group(1)].arrays[m.group(2)] = values[m.group(3)]
    return structs
