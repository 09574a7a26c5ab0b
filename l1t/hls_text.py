"""The text of an hls4ml project directory as every reader of it needs it: the project's name, the macros and typedefs
of ``firmware/defines.h``, and the integer expressions its C++ sizes arrays with. Shared by the hls-dpi DUT
(``l1t.firmware.hls_dpi``) and the project importer (``l1t.models.hls_project``)."""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

__all__ = [
    "NNET_ARRAY",
    "STREAM_ARG",
    "ProjectError",
    "evaluate",
    "firmware_dir",
    "project_name",
    "read_defines",
    "strip_block_comments",
    "top_file",
]


STREAM_ARG = re.compile(r"hls::stream\s*<\s*([\w:]+)\s*>\s*&\s*(\w+)")  # an io_stream argument: (type, name)
NNET_ARRAY = re.compile(r"nnet::array\s*<\s*(.+)\s*,\s*([^,<>]+)>")  # an io_stream element: (word type, words)


class ProjectError(ValueError):
    """An hls4ml project l1t cannot read exactly; the message names the file (and line) and the construct."""


def strip_block_comments(text: str) -> str:
    """``/* ... */`` removed, newlines kept so line numbers stay."""
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def firmware_dir(directory: Path) -> Path:
    """The directory of a project's C++ (``<top>.cpp``, ``defines.h``, ``parameters.h``, ``nnet_utils/``): hls4ml's
    ``firmware/``; the directory itself; or its one subdirectory holding a ``parameters.h``, as deployed emulator
    packages lay it out (``NN/`` next to the wrapper class)."""
    if (directory / "firmware").is_dir():
        return directory / "firmware"
    if (directory / "parameters.h").is_file():
        return directory
    found = sorted(p.parent for p in directory.glob("*/parameters.h"))
    if len(found) == 1:
        return found[0]
    where = f"{len(found)} subdirectories with a parameters.h" if found else "no parameters.h in it or one level down"
    raise ProjectError(f"{directory}: not an hls4ml project (no firmware/ directory, {where})")


_WRAPPER_PREDICT = re.compile(
    r"public\s+hls4mlEmulator::Model\b.*?\bpredict\s*\(\s*\)\s*(?:override\s*)?\{\s*(?:\w+::)?(\w+)\s*\(", re.S
)


def project_name(directory: Path) -> str:
    """The top function's name: ``ProjectName`` of ``hls4ml_config.yml``; else the function a deployed package's
    emulator wrapper (a class deriving from ``hls4mlEmulator::Model``) calls first in ``predict()``; else the one
    ``<top>.cpp`` with a ``<top>.h`` in the C++ directory (``firmware_dir``; among several, the one with hls4ml's
    ``<top>_bridge.cpp``, or the one calling ``nnet::`` layers)."""
    firmware = firmware_dir(directory)
    for cfg in ("hls4ml_config.yml", "hls4ml_config.yaml"):
        path = directory / cfg
        if path.is_file():
            m = re.search(r"^ProjectName:\s*['\"]?(\w+)", path.read_text(), re.MULTILINE)
            if m:
                return m.group(1)
    for wrapper in sorted({*directory.glob("*.cpp"), *firmware.parent.glob("*.cpp")}):
        m = _WRAPPER_PREDICT.search(strip_block_comments(wrapper.read_text(errors="replace")))
        if m:
            return m.group(1)
    candidates = [
        p.stem
        for p in sorted(firmware.glob("*.cpp"))
        if p.stem not in ("parameters", "defines") and (firmware / f"{p.stem}.h").is_file()
    ]
    if len(candidates) > 1:
        bridged = [stem for stem in candidates if (directory / f"{stem}_bridge.cpp").is_file()]
        layered = [stem for stem in candidates if "nnet::" in (firmware / f"{stem}.cpp").read_text(errors="replace")]
        candidates = bridged or layered
    if len(candidates) != 1:
        raise ProjectError(
            f"{directory}: no hls4ml_config.yml naming the project, no emulator wrapper calling it, and no single "
            f"{firmware.name}/<top>.cpp with a <top>.h (and a <top>_bridge.cpp, or nnet:: layers)"
        )
    return candidates[0]


def top_file(firmware: Path, top: str) -> Path:
    """The ``.cpp`` defining ``void top(...) {``: ``<top>.cpp``, else the one file of the C++ directory defining it
    (a deployed package may name the file otherwise)."""
    own = firmware / f"{top}.cpp"
    if own.is_file():
        return own
    pattern = re.compile(rf"\bvoid\s+{top}\s*\([^;{{]*\)\s*\{{")
    found = [
        p for p in sorted(firmware.glob("*.cpp")) if pattern.search(strip_block_comments(p.read_text(errors="replace")))
    ]
    if len(found) != 1:
        raise ProjectError(f"{firmware}: {len(found)} files define 'void {top}(...) {{' ({[p.name for p in found]})")
    return found[0]


def read_defines(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """``#define`` macros (and integer constants, ``static const int N_INPUT_1_1 = 57;`` or ``inline constexpr int``,
    as deployed packages write them) and ``typedef`` names of a ``defines.h``'s text: ({name: value}, {name: C++
    type})."""
    text = re.sub(r"//[^\n]*", "", strip_block_comments(text))
    macros = dict(re.findall(r"^\s*#define\s+(\w+)\s+(.+?)\s*$", text, re.MULTILINE))
    integer = r"(?:unsigned\s+)?(?:int|long|size_t|unsigned)"
    constant = rf"^\s*(?:(?:static|inline)\s+)*(?:const|constexpr)\s+{integer}\s+(\w+)\s*=\s*([^;]+);"
    macros |= dict(re.findall(constant, text, re.MULTILINE))
    typedefs = {name: cpp.strip() for cpp, name in re.findall(r"typedef\s+([^;]+?)\s+(\w+)\s*;", text)}
    return macros, typedefs


_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_FUNCTIONS = {"DIV_ROUNDUP": lambda a, b: -(-a // b), "MIN": min, "MAX": max}


_BOOLS = {"false": 0, "true": 1}  # C++ bool literals (``static const bool count_pad = false;``)


def evaluate(expr: str, names: dict[str, str], where: str, _depth: int = 0) -> int:
    """An integer expression of the C++ (``8``, ``N_LAYER_2``, ``n_in * n_out``, ``DIV_ROUNDUP(a, b)``), its names
    taken from ``names`` (macros, struct constants) as text; refused naming ``where`` otherwise."""
    if _depth > 20:
        raise ProjectError(f"{where}: {expr!r} refers to itself")

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in _BOOLS:
            return _BOOLS[node.id]
        if isinstance(node, ast.Name) and node.id in names:
            return evaluate(names[node.id], names, where, _depth + 1)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
            return _FUNCTIONS[node.func.id](*(ev(a) for a in node.args))
        raise ProjectError(f"{where}: cannot evaluate {expr!r}")

    text = re.sub(r"(?<=\d)[uUlL]+\b", "", expr.strip()).replace("/", "//")
    try:
        return ev(ast.parse(text, mode="eval").body)
    except SyntaxError:
        raise ProjectError(f"{where}: cannot evaluate {expr!r}") from None
