"""Which ``nnet_utils`` code the emulator is proven against. A project carries its own ``nnet_utils`` and
``ap_types``, written by whichever hls4ml made it (or edited by hand); each importer names the functions and classes
whose arithmetic its spec entry models, and the project's definitions of them must be ones a fixture proved bit-exact
(``proven.json``: for each name, the fingerprints of the definitions proven, with the hls4ml versions that ship
them). A definition that differs is refused naming the file and the function: it may compute something else.

A fingerprint hashes every definition of the name (function bodies and classes) in the project's non-stream
``nnet_utils`` headers (``nnet_code_gen.h`` only above hls4ml's insertion mark: below it is code generated per
project, which the importers judge themselves) with comments, ``#pragma`` lines and white space removed; the
ap_types headers are hashed whole. In an io_stream project, whose stream kernels call one another across the
``*_stream.h`` headers, a name is proven as ``io_stream/<name>``: its fingerprint hashes every ``nnet_utils`` header
whole (the generated part of ``nnet_code_gen.h`` aside), so any change in them is refused until proven."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

__all__ = [
    "AP_TYPES_FILES", "GENERATED_MARK", "PROVEN_FILE", "STREAM", "definitions", "fingerprint", "proven", "tokens",
    "unproven", "unproven_definitions",
]  # fmt: skip

PROVEN_FILE = Path(__file__).with_name("proven.json")
AP_TYPES_FILES = ("ap_fixed_base.h", "ap_int_base.h", "ap_fixed_ref.h", "ap_int_ref.h", "ap_common.h", "ap_decl.h")


def _clean(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"^\s*#\s*pragma[^\n]*", " ", text, flags=re.M)


def tokens(text: str) -> str:
    """``text`` with white space kept only between two word characters (formatting changes do not count)."""
    return re.sub(r"(?<!\w) | (?!\w)", "", re.sub(r"\s+", " ", text))


def _matching(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """Index just past the bracket closing the one at ``start``."""
    depth = 0
    for i in range(start, len(text)):
        depth += (text[i] == open_ch) - (text[i] == close_ch)
        if depth == 0:
            return i + 1
    return len(text)


def definitions(text: str, name: str) -> list[str]:
    """The definitions of ``name`` in C++ ``text``: ``class/struct name ... {...}`` and ``name(...) [const] {...}``,
    each with what precedes it since the previous declaration (template header, return type), as tokens
    (``tokens``), comments and ``#pragma`` lines removed."""
    text = _clean(text)
    found = []
    for m in re.finditer(rf"\b(?:class|struct)\s+{name}\b[^;{{()]*\{{|\b{name}\s*\(", text):
        if m.group(0).endswith("("):
            close = _matching(text, m.end() - 1, "(", ")")
            after = re.match(r"\s*(?:const\s*)?\{", text[close:])
            if after is None:
                continue  # a call or a declaration
            brace = close + after.end() - 1
        else:
            brace = m.end() - 1
        start = max(text.rfind(c, 0, m.start()) for c in ";{}") + 1
        found.append(tokens(text[start : _matching(text, brace, "{", "}")]))
    return found


GENERATED_MARK = "// hls4ml insert code"  # nnet_code_gen.h: hls4ml's template above, the project's own code below


def _shared_part(path: Path) -> str:
    """A header's text without what hls4ml generates per project into ``nnet_code_gen.h`` (below GENERATED_MARK: the
    im2col ``fill_buffer``s, distributed-arithmetic graphs and ResourceUnrolled kernels), which the importers judge
    on their own, by running or reading them; a ``dense`` method of a generated kernel is not a definition of
    ``nnet::dense``."""
    text = path.read_text(errors="replace")
    return text.split(GENERATED_MARK, 1)[0] if path.name == "nnet_code_gen.h" else text


STREAM = "io_stream/"  # the prefix of a name proven in io_stream projects


def fingerprint(nnet_utils: Path, name: str) -> str:
    """The fingerprint of every definition of ``name`` in a ``nnet_utils`` directory's non-stream headers. A name
    ``function@mode`` fingerprints ``function``, proven separately per mode (a max pooling layer does not prove the
    code an average pooling runs); an ``io_stream/`` name, every header whole."""
    if name.startswith(STREAM):
        whole = [f"{p.name}\n{tokens(_clean(_shared_part(p)))}" for p in sorted(nnet_utils.glob("*.h"))]
        return hashlib.sha256("\n".join(whole).encode()).hexdigest()[:16]
    name = name.split("@", 1)[0]
    parts = []
    for path in sorted(nnet_utils.glob("*.h")):
        if path.stem.endswith("_stream"):
            continue
        parts += definitions(_shared_part(path), name)
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def ap_types_fingerprint(ap_types: Path, file: str) -> str:
    path = ap_types / file
    text = tokens(_clean(path.read_text(errors="replace"))) if path.is_file() else ""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def proven() -> dict[str, dict[str, list[str]]]:
    """{name: {fingerprint: [hls4ml versions]}}; ap_types files under ``ap_types/<file>``."""
    return json.loads(PROVEN_FILE.read_text()) if PROVEN_FILE.is_file() else {}


def unproven_definitions(nnet_utils: Path, names: set[str]) -> list[str]:
    """The names whose definitions in the project's ``nnet_utils`` directory no fixture proved, each as
    ``file: name``."""
    table = proven()
    out = []
    for name in sorted(names):
        if fingerprint(nnet_utils, name) not in table.get(name, {}):
            if name.startswith(STREAM):
                out.append(f"{nnet_utils.name}/*.h: {name} (every header as a whole)")
                continue
            files = [
                p.name
                for p in sorted(nnet_utils.glob("*.h"))
                if not p.stem.endswith("_stream") and definitions(_shared_part(p), name.split("@")[0])
            ]
            out.append(f"{nnet_utils.name}/{', '.join(files) or '(no definition)'}: {name}")
    return out


def unproven(nnet_utils: Path, ap_types: Path, names: set[str]) -> list[str]:
    """``unproven_definitions``, and the ``ap_types`` files the project is built with that no fixture proved."""
    table = proven()
    out = unproven_definitions(nnet_utils, names)
    for file in AP_TYPES_FILES:
        if ap_types_fingerprint(ap_types, file) not in table.get(f"ap_types/{file}", {}):
            out.append(f"ap_types/{file}")
    return out
