"""The emulator wrapper a deployed trigger path is packaged with: a C++ class deriving from
``hls4mlEmulator::Model`` next to the network's C++, which scales the trigger inputs into the network's input type
before the top function and turns its output into the trigger score after it.

``read_wrapper`` reads the wrapper's text into the spec entries that do the same (``offset_shift`` or
``offset_divide`` in front, ``gather`` or ``square_sum`` behind) and what ``read_result`` returns. It reads only what
it models:

* ``predict()`` is the top function on the scaled array or the member arrays (writing one or several outputs),
  then optionally ``loss = score(result);`` of one of them;
* ``prepare_input`` scales the words into the top's one input, or copies runs of them into the top's inputs
  (``for (int i = 0; i < N; i++) { member[i] = p[OFFSET + i]; }``, one loop per input, each element converted into
  the member's type as ap_fixed's assignment does: a ``gather`` per input);
* the scaling is one loop over constant arrays (their words read by compiling the package's headers):
  ``work_t d = in[i] - OFFSETS[i]; res_t r = d >> SHIFTS[i]; out[i] = r;``, or in floating point
  ``double d = in[i] - OFFSETS[i]; double q = d / DIVISORS[i]; out[i] = static_cast<res_t>(q);``;
* the score is one output element (``loss = result[K]; return loss;``) or the sum of squares through
  ``nnet::reduce`` with ``nnet::Op_add``;
* ``read_result`` fills an array with a network output, or a ``std::pair`` whose slots each hold a network output
  (a ``std::array`` copied element by element), one element of one, or the score.

Any other statement in those functions is refused naming the file, line and statement. ``verify`` compiles the
wrapper itself with the network (``WrappedRunner``) and compares every word it returns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import l1t.emulator.fixed as fx
from l1t.cpp import C_INTEGERS, cpp_spelling
from l1t.hls_text import read_defines, strip_block_comments
from l1t.models.hls_project._source import ProjectError, Source, split_top_level
from l1t.models.hls_project._words import Request

__all__ = ["SCALINGS", "UNSCALED", "TopOutput", "Wrapper", "find_wrapper", "read_wrapper"]

UNSCALED = "unscaled"  # the spec input of a wrapped path: the trigger words before the wrapper's scaling

_BASE = re.compile(r"\bclass\s+(\w+)\s*(?:final\s*)?:\s*public\s+hls4mlEmulator::Model\b")


@dataclass(frozen=True)
class Wrapper:
    """What a deployed wrapper does around the network, as spec entries and the words ``read_result`` returns."""

    path: Path
    cls: str
    input_cpp: str  # the element type prepare_input reads (a pointer to an array of it)
    input_t: fx.FixedType
    input_size: int  # the words prepare_input reads per event
    result_cpp: str  # the type read_result fills
    returns: tuple[str, ...]  # the spec values read_result returns, in order (the network's outputs, "score", ...)
    layers: tuple[dict, ...]  # spec entries: the scaling or copies (named as the top's inputs), the score, an element
    requests: tuple[Request, ...]  # the scaling's offset and shift words (read by compiling the wrapper)
    arrays: dict[str, np.ndarray]  # "entry/key" arrays known from the text (the elements a gather takes)
    headers: tuple[Path, ...]  # the package's own headers (their content keys the compiled library)
    checks: dict[str, fx.FixedType]  # the type names the wrapper's statements use, as read (``static_assert``-ed)
    result_count: int = 0  # read_result fills one object (0) or an array of this many (``p[i] = result[i]``)

    @property
    def scales(self) -> bool:
        return any(e["op"] in SCALINGS for e in self.layers)

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for path in (self.path, *self.headers):
            h.update(path.read_bytes())
        return h.hexdigest()[:20]


def find_wrapper(directory: Path, firmware: Path) -> Path | None:
    """The one ``.cpp`` of the package (the project directory, or next to the C++ directory) defining a class that
    derives from ``hls4mlEmulator::Model``; None without one."""
    places = {directory, firmware.parent}
    found = sorted(
        p for place in places for p in place.glob("*.cpp") if _BASE.search(strip_block_comments(p.read_text()))
    )
    if len(found) > 1:
        raise ProjectError(f"{directory}: several emulator wrappers {[str(p) for p in found]}; keep one")
    return found[0] if found else None


@dataclass(frozen=True)
class _Function:
    name: str
    params: list[str]
    returns: str
    body: list[tuple[int, str]]  # (line, statement) with loops flattened: ``for (...) {`` and ``}`` kept as such


def _functions(text: str, start: int) -> dict[str, _Function]:
    """The member functions defined in the class body starting at ``start`` (bodies skipped while scanning)."""
    out: dict[str, _Function] = {}
    pattern = re.compile(r"(?:virtual\s+)?([\w:<>,\s*&]+?)\s+(\w+)\s*\(([^)]*)\)\s*(?:const\s*)?(?:override\s*)?\{")
    pos = start
    while (m := pattern.search(text, pos)) is not None:
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += (text[i] == "{") - (text[i] == "}")
            i += 1
        returns = re.sub(r"\b(?:public|private|protected)\s*:|\b(?:virtual|inline|static)\b", "", m.group(1)).strip()
        first_line = text[: m.end()].count("\n") + 1
        body = _statements(text[m.end() : i - 1], first_line)
        out.setdefault(m.group(2), _Function(m.group(2), split_top_level(m.group(3)), returns, body))
        pos = i
    return out


def _statements(body: str, first_line: int) -> list[tuple[int, str]]:
    """(line, statement) of a function body, white space collapsed: each ``...;``, and ``for (...) {`` and ``}`` as
    entries of their own (a ``for`` without braces gets them)."""
    out: list[tuple[int, str]] = []
    pos, close_after = 0, []  # close_after: a braceless for's statement count at which to emit its "}"
    while pos < len(body):
        while pos < len(body) and body[pos].isspace():
            pos += 1
        if pos >= len(body):
            break
        line = first_line + body.count("\n", 0, pos)
        if body[pos] in "{}":
            out.append((line, body[pos]))
            pos += 1
            continue
        if re.match(r"for\s*\(", body[pos:]):
            open_at = body.index("(", pos)
            depth, i = 0, open_at
            while i < len(body):
                depth += (body[i] == "(") - (body[i] == ")")
                i += 1
                if depth == 0:
                    break
            head = " ".join(body[pos:i].split())
            rest = body[i:].lstrip()
            if rest.startswith("{"):
                pos = len(body) - len(rest) + 1
            else:
                pos, close_after = i, [*close_after, len(out) + 2]
            out.append((line, f"{head} {{"))
            continue
        end = body.find(";", pos)
        end = len(body) if end < 0 else end
        out.append((line, " ".join(body[pos : end + 1].split())))
        pos = end + 1
        while close_after and len(out) == close_after[-1]:
            out.append((line, "}"))
            close_after.pop()
    return out


def _for(var: str) -> str:
    """``for (int i = 0; i < N; i++) {`` as ``_statements`` writes it, the index in group ``var`` and the bound (an
    integer expression) in ``var_n``."""
    index, again = rf"(?P<{var}>\w+)", rf"(?P={var})"
    step = rf"(?:{again}\+\+|\+\+{again})"
    bound = rf"(?P<{var}_n>[^;]+?)"
    return rf"for ?\( ?(?:unsigned int|int|unsigned) {index} ?= ?0 ?; ?{again} ?< ?{bound} ?; ?{step} ?\) ?\{{"


def _pointer(statement: str, arg: str) -> re.Match | None:
    """``T* p = std::any_cast<T*>(arg);``, with groups ``cast`` (T) and ``name`` (p)."""
    return re.fullmatch(
        rf".+?\s*\*\s*(?P<name>\w+)\s*=\s*std::any_cast<\s*(?P<cast>.+?)\s*\*\s*>\(\s*{arg}\s*\);", statement
    )


def _any_cast(fn: _Function, arg: str, where: str) -> str:
    """The ``T`` of ``T* p = std::any_cast<T*>(arg);`` in ``fn``."""
    for _, st in fn.body:
        if m := _pointer(st, arg):
            return m["cast"]
    raise ProjectError(f"{where}: {fn.name} has no 'T* p = std::any_cast<T*>({arg});'")


def read_wrapper(path: Path, source: Source, top_inputs: list[str], outputs: list[TopOutput]) -> Wrapper:
    """Read a wrapper (``find_wrapper``) around the network whose top reads ``top_inputs`` and writes ``outputs``
    (in the top's argument order); refuse anything it does other than the forms this module reads."""
    text = strip_block_comments(path.read_text())
    text = "\n".join(line.split("//")[0] for line in text.splitlines())
    m = _BASE.search(text)
    fns = _functions(text, m.end())
    where = f"{path}"
    for name in ("prepare_input", "predict", "read_result"):
        if name not in fns:
            raise ProjectError(f"{where}: class {m.group(1)} has no {name}()")
    typedefs = {**source.typedefs, **_header_typedefs(path.parent)}
    checks: dict[str, fx.FixedType] = {}  # the wrapper's own type names as read, checked by the compiler

    def type_of(cpp: str, what: str, check: bool = True) -> fx.FixedType:
        name = cpp.split("::")[-1].strip()
        seen = 0
        while name in typedefs and seen < 20:
            name, seen = typedefs[name].split("::")[-1].strip(), seen + 1
        try:
            t = fx.parse(name)
        except ValueError as err:
            raise ProjectError(f"{where}: {what} has type {cpp!r}, not an ap_fixed/ap_int type ({err})") from None
        if check:
            checks[cpp.strip()] = t
        return t

    # predict(): the top on the scaled array, then the score of one of its results
    body = [st for _, st in fns["predict"].body]
    top = re.fullmatch(rf"(?:\w+::)?{source.top}\(([\w\s,]*)\);", body[0]) if body else None
    args = [a.strip() for a in top.group(1).split(",")] if top else []
    score_call = re.fullmatch(r"(\w+)\s*=\s*(\w+)\(\s*(\w+)\s*\);", body[1]) if len(body) > 1 else None
    fed = dict(zip(args, top_inputs, strict=False))  # the wrapper's member arrays the top reads
    members = dict(zip(args[len(top_inputs) :], outputs, strict=False))  # and those it writes
    if (
        len(args) != len(top_inputs) + len(outputs)
        or len(body) > 2
        or (len(body) == 2 and (score_call is None or score_call.group(3) not in members))
    ):
        given = "scaled" if len(top_inputs) == 1 else ", ".join(f"input{k}" for k in range(len(top_inputs)))
        results = "result" if len(outputs) == 1 else ", ".join(f"result{k}" for k in range(len(outputs)))
        raise ProjectError(
            f"{where}: predict() is not '{source.top}({given}, {results}); loss = score(result);' (the score "
            f"optional): {body}"
        )
    if len(set(args)) != len(args):
        twice = next(a for a in args if args.count(a) > 1)
        raise ProjectError(f"{where}: predict() passes {twice} to {source.top} twice")

    input_cpp = _any_cast(fns["prepare_input"], "input", where)
    input_t = type_of(input_cpp, "prepare_input's input")
    layers, arrays, requests = [], {}, []
    _, copies = _copies(fns["prepare_input"].body, lambda expr: source.value(expr, where)) or (None, [])
    if copies:  # runs of the words copied into the top's inputs, each converted into its type
        entries, input_size = _gathers(copies, fed, input_t, path, source)
        layers += entries
        arrays |= {f"{e['name']}/index": e.pop("index") for e in entries}
    elif len(top_inputs) == 1:
        (scaled, top_input), input_size = next(iter(fed.items())), source.array(top_inputs[0], where).size
        scaler_name = _prepared(fns["prepare_input"], scaled, path, lambda e: source.value(e, where), input_size)
        scaler = fns.get(scaler_name)
        if scaler is None:
            raise ProjectError(f"{where}: prepare_input() calls {scaler_name}(), which the class does not define")
        scale, requests, scaled_t = _scaling(scaler, path, top_input, type_of, source)
        if scaled_t != input_t:
            raise ProjectError(f"{where}: prepare_input reads {input_cpp} but {scaler.name} scales {scaled_t}")
        layers.append(scale)
    else:
        raise ProjectError(
            f"{path}:{fns['prepare_input'].body[0][0] if fns['prepare_input'].body else '?'}: prepare_input() of a "
            f"top with {len(top_inputs)} inputs is not 'T* p = std::any_cast<T*>(input);' and one loop per input "
            f"copying a run of p into it ('member[i] = p[OFFSET + i];')"
        )
    score_var = None
    if score_call is not None:
        score_var, scored = score_call.group(1), members[score_call.group(3)]
        score, own = _score(fns, score_call.group(2), path, scored, source, type_of)
        layers.append(score)
        arrays |= {f"score/{key}": value for key, value in own.items()}
    result_cpp = _any_cast(fns["read_result"], "result", where)
    returns, picks, result_count = _read_result(fns["read_result"], result_cpp, members, score_var, source, type_of,
                                                path)  # fmt: skip
    for entry, index in picks:  # one element of an output, taken into its own type: before the score
        layers.insert(len(layers) - (score_var is not None), entry)
        arrays[f"{entry['name']}/index"] = np.array([index], dtype=np.int64)
    headers = tuple(sorted(path.parent.glob("*.h")))
    return Wrapper(path, m.group(1), input_cpp, input_t, input_size, result_cpp, tuple(returns), tuple(layers),
                   tuple(requests), arrays, headers, checks, result_count)  # fmt: skip


def _prepared(fn: _Function, scaled: str, path: Path, value: Callable[[str], int], size: int) -> str:
    """The scaling function prepare_input calls, after checking it does nothing else: ``T* p =
    std::any_cast<T*>(input);``, at most one loop copying all ``size`` words of ``p`` into a member array
    (``_copies``), and ``scale(inputs, scaled);`` on ``p`` or that copy."""
    body = fn.body
    head = _copies(body[:-1], value) if len(body) >= 2 else None
    source = None
    if head is not None and not head[1]:
        source = head[0]
    elif head is not None and len(head[1]) == 1 and (head[1][0].offset, head[1][0].count) == (0, size):
        source = head[1][0].member
    call = re.fullmatch(rf"(\w+)\(\s*{source}\s*,\s*{scaled}\s*\);", body[-1][1]) if source else None
    if call is None:
        raise ProjectError(
            f"{path}:{body[0][0] if body else '?'}: prepare_input() is not 'T* p = std::any_cast<T*>(input);' [a loop "
            f"copying p[i]] ['scale(p, {scaled});']: {[st for _, st in body]}"
        )
    return call.group(1)


@dataclass(frozen=True)
class _Copy:
    """``for (int i = 0; i < count; i++) { member[i] = p[offset + i]; }`` in prepare_input, at ``line``."""

    member: str
    offset: int
    count: int
    line: int


def _copies(body: list[tuple[int, str]], value: Callable[[str], int]) -> tuple[str, list[_Copy]] | None:
    """The pointer's name and the loops of a prepare_input body that is only ``T* p = std::any_cast<T*>(input);``
    and loops each copying a run of ``p`` into a member array: ``member[i] = p[OFFSET + i];`` (the offset an integer
    expression on either side of ``i``, or none; ``std::any_cast<T>(p[...])`` too); None when it is anything else."""
    pointer = _pointer(body[0][1], "input") if body else None
    if pointer is None or (len(body) - 1) % 3:
        return None
    out = []
    for k in range(1, len(body), 3):
        (line, head), (_, statement), (_, close) = body[k : k + 3]
        loop = re.fullmatch(_for("i"), head)
        if loop is None or close != "}":
            return None
        i, word = loop["i"], pointer["name"]
        run = rf"(?:(?P<before>[^\[\]]+?) ?\+ ?)?{i}(?: ?\+ ?(?P<after>[^\[\]]+?))?"
        copy = re.fullmatch(rf"(\w+)\[{i}\] ?= ?(std::any_cast<[^>]+>\( ?)?{word}\[{run}\](?(2) ?\));", statement)
        if copy is None:
            return None
        offsets = [e for e in (copy["before"], copy["after"]) if e is not None]
        if len(offsets) > 1:
            return None
        out.append(_Copy(copy.group(1), value(offsets[0]) if offsets else 0, value(loop["i_n"]), line))
    return pointer["name"], out


def _gathers(
    copies: list[_Copy], fed: dict[str, str], input_t: fx.FixedType, path: Path, source: Source
) -> tuple[list[dict], int]:
    """The spec entries of prepare_input's copies: for each top input, a ``gather`` named as it, of the words its
    loop copies (under ``index``), each converted from the words' type ``input_t`` into the input's type as ap_fixed
    assignment does; none when the one input takes all the words as they are. Also the words read per event. Each
    input must be filled whole by one loop."""
    filled: dict[str, _Copy] = {}
    for copy in copies:
        where = f"{path}:{copy.line}"
        if copy.member not in fed:
            raise ProjectError(f"{where}: prepare_input() copies into {copy.member}, which predict() does not pass to "
                               f"{source.top} as an input")  # fmt: skip
        if copy.member in filled:
            raise ProjectError(f"{where}: prepare_input() copies into {copy.member} twice")
        size = source.array(fed[copy.member], where).size
        if copy.count != size or copy.offset < 0:
            raise ProjectError(
                f"{where}: prepare_input() copies {copy.count} words from offset {copy.offset} into {copy.member}, "
                f"which holds {size}"
            )
        filled[copy.member] = copy
    missing = [member for member in fed if member not in filled]
    if missing:
        raise ProjectError(f"{path}: prepare_input() fills no {missing}, which predict() passes to {source.top}")
    types = {m: source.type_of(source.array(name, str(path)).cpp_type, str(path)) for m, name in fed.items()}
    size = max(c.offset + c.count for c in copies)
    if len(copies) == 1 and copies[0].offset == 0 and types[copies[0].member] == input_t:
        return [], size  # the words go to the top as they are
    entries = [
        {"name": fed[c.member], "op": "gather", "inputs": [UNSCALED], "shape": [c.count],
         "types": {"result_t": str(types[c.member])}, "attrs": {},
         "index": np.arange(c.offset, c.offset + c.count, dtype=np.int64)}
        for c in copies
    ]  # fmt: skip
    return entries, size


@dataclass(frozen=True)
class TopOutput:
    """An output array of the top function: its spec name, words per event and type."""

    name: str
    size: int
    type: fx.FixedType


def _read_result(
    fn: _Function, result_cpp: str, members: dict[str, TopOutput], score_var: str | None, source: Source, type_of,
    path: Path,
) -> tuple[list[str], list[tuple[dict, int]], int]:  # fmt: skip
    """What ``read_result`` hands back, in order: the spec values (an output array, one element of one, the score),
    the ``gather`` entries (with their index) that take an element, and the count of objects the result pointer
    points to (0: one object). Each slot of a ``std::pair`` (``p->first``, ``p->second``), or the pointed-to array or
    object, is written once by one of ``for (...) { p->first[i] = out[i]; }`` (every element, into a std::array of
    the output's own type), ``p->first = out[K];`` or ``p->first = score;``; any other statement is refused."""
    where = f"{path}:{fn.body[0][0] if fn.body else '?'}"
    pointer = _pointer(fn.body[0][1], "result")
    if pointer is None:
        raise ProjectError(f"{where}: read_result does not begin with 'T* p = std::any_cast<T*>(result);'")
    p = pointer["name"]
    pair = re.fullmatch(r"std::pair\s*<(.*)>", result_cpp.strip())
    slot_types = {"": result_cpp}  # the pointed-to object (or array), or the pair's two slots
    if pair:
        slot_types = dict(zip(("first", "second"), split_top_level(pair.group(1)), strict=True))
    slot = r"->(first|second)" if pair else "()"
    filled: dict[str, str] = {}  # slot -> the spec value it holds
    picks: list[tuple[dict, int]] = []
    count = 0
    body = fn.body[1:]
    k = 0
    while k < len(body):
        line, st = body[k]
        loop = re.fullmatch(_for("i"), st)
        if loop and k + 2 < len(body) and body[k + 2][1] == "}":
            i = loop["i"]
            copy = re.fullmatch(rf"\*?{p}{slot}\[{i}\] ?= ?(\w+)\[{i}\];", body[k + 1][1])
            out = members.get(copy.group(2)) if copy else None
            if out is None or source.value(loop["i_n"], f"{path}:{line}") != out.size:
                raise ProjectError(
                    f"{path}:{line}: read_result's loop does not copy every element of a network output: "
                    f"{st} {body[k + 1][1]}"
                )
            name = copy.group(1) or ""
            if pair:
                array = re.fullmatch(r"std::array\s*<\s*(.+?)\s*,\s*(\w+)\s*>", slot_types[name].strip())
                if array is None or source.value(array.group(2), where) != out.size:
                    raise ProjectError(f"{path}:{line}: {p}->{name} is {slot_types[name]}, not a std::array of "
                                       f"the {out.size} words of {copy.group(2)}")  # fmt: skip
                element_cpp = array.group(1)
            else:
                element_cpp, count = result_cpp, out.size
            if type_of(element_cpp, f"read_result's {element_cpp}") != out.type:
                raise ProjectError(f"{path}:{line}: read_result copies {copy.group(2)} ({out.type}) into "
                                   f"{element_cpp}, another type")  # fmt: skip
            filled, k = _fill(filled, name, out.name, path, line), k + 3
            continue
        element = re.fullmatch(rf"\*?{p}{slot} ?= ?(\w+)\[(\w+)\];", st)
        scored = re.fullmatch(rf"\*?{p}{slot} ?= ?(\w+);", st)
        if element and element.group(2) in members:
            out, index = members[element.group(2)], source.value(element.group(3), f"{path}:{line}")
            if not 0 <= index < out.size:
                raise ProjectError(f"{path}:{line}: read_result reads element {index} of {out.size}")
            name = element.group(1) or ""
            entry = {"name": f"{out.name}_{index}", "op": "gather", "inputs": [out.name], "shape": [1],
                     "types": {"result_t": str(type_of(slot_types[name], "read_result's element"))},
                     "attrs": {"wrapper": f"{path.name}: read_result"}}  # fmt: skip
            picks.append((entry, index))
            filled = _fill(filled, name, entry["name"], path, line)
        elif scored and score_var is not None and scored.group(2) == score_var:
            filled = _fill(filled, scored.group(1) or "", "score", path, line)
        else:
            raise ProjectError(f"{path}:{line}: read_result statement {st!r} is not one l1t reads")
        k += 1
    if sorted(filled) != sorted(slot_types):
        raise ProjectError(f"{where}: read_result fills {sorted(filled) or 'nothing'} of {result_cpp}")
    return [filled[name] for name in slot_types], picks, count


def _fill(filled: dict[str, str], slot: str, value: str, path: Path, line: int) -> dict[str, str]:
    if slot in filled:
        raise ProjectError(f"{path}:{line}: read_result writes {slot or 'its result'} twice")
    return {**filled, slot: value}


def _header_typedefs(package: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for header in sorted(package.glob("*.h")):
        out.update(read_defines(header.read_text(errors="replace"))[1])
    return out


def _array_type(name: str, path: Path, type_of) -> tuple[fx.FixedType, str]:
    """The element type of a constant array the package's headers declare (``const T name[N] = {...};``), and its
    C++ integer type name when it is one (``l1t.cpp.C_INTEGERS``: ``int norm[20]``), else ""."""
    short = name.split("::")[-1]
    element = r"((?:(?:unsigned|signed)\s+)?[\w:]+(?:<[^;]*?>)?)"
    for header in sorted(path.parent.glob("*.h")):
        m = re.search(rf"(?:static\s+)?(?:const\s+)?{element}\s+{short}\s*\[", header.read_text())
        if m is None:
            continue
        cpp = " ".join(m.group(1).split())
        if cpp in C_INTEGERS:
            width, signed = C_INTEGERS[cpp]
            return (fx.ap_int(width) if signed else fx.ap_uint(width)), cpp
        return type_of(m.group(1), f"{header.name}: {short}", check=False), ""  # checked where its words are read
    raise ProjectError(f"{path}: no header next to it declares the array {name!r}")


SCALINGS = ("offset_shift", "offset_divide")  # the spec ops a wrapper's input scaling becomes


def _scaling(
    fn: _Function, path: Path, top_input: str, type_of, source: Source
) -> tuple[dict, list[Request], fx.FixedType]:  # fmt: skip
    """The scaling function's loop, as an entry named as the top's input: ``offset_shift`` for
    ``work_t d = in[i] - OFFSETS[i]; res_t r = d >> SHIFTS[i]; out[i] = r;``, ``offset_divide`` for
    ``double d = in[i] - OFFSETS[i]; double q = d / DIVISORS[i]; out[i] = static_cast<res_t>(q);``."""
    if len(fn.params) != 2:
        raise ProjectError(f"{path}: scaling function {fn.name}({', '.join(fn.params)}) does not take (in, out)")
    (in_cpp, in_name), (out_cpp, out_name) = (re.match(r"(.+?)\s+(\w+)\s*\[", p).groups() for p in fn.params)
    body = [st for _, st in fn.body]
    loop = re.fullmatch(_for("i"), body[0]) if body else None
    n = source.array(top_input, str(path)).size
    if loop is None or len(body) != 5 or body[4] != "}" or source.value(loop["i_n"], str(path)) != n:
        raise ProjectError(
            f"{path}:{fn.body[0][0] if fn.body else '?'}: {fn.name} is not one loop of three statements over the "
            f"{n} inputs"
        )
    i = loop.group("i")
    input_t, out_t = type_of(in_cpp, f"{fn.name}'s input"), type_of(out_cpp, f"{fn.name}'s output")
    diff = re.fullmatch(rf"([\w:]+) (\w+) ?= ?{in_name}\[{i}\] ?- ?([\w:]+)\[{i}\];", body[1])
    scaled = re.fullmatch(rf"([\w:]+) (\w+) ?= ?(\w+) ?(>>|/) ?([\w:]+)\[{i}\];", body[2])
    store = re.fullmatch(rf"{out_name}\[{i}\] ?= ?(?:static_cast<\s*([\w:]+)\s*>\(\s*(\w+)\s*\)|(\w+));", body[3])
    stored = (store.group(2) or store.group(3)) if store else None
    double = diff is not None and scaled is not None and {diff.group(1), scaled.group(1)} == {"double"}
    if not (diff and scaled and store and scaled.group(3) == diff.group(2) and stored == scaled.group(2)) or (
        scaled.group(4) == "/" and not double
    ):
        raise ProjectError(
            f"{path}:{fn.body[1][0]}: {fn.name}'s loop is neither 'work_t d = {in_name}[{i}] - OFFSETS[{i}]; "
            f"res_t r = d >> SHIFTS[{i}]; {out_name}[{i}] = r;' nor 'double d = {in_name}[{i}] - OFFSETS[{i}]; "
            f"double q = d / DIVISORS[{i}]; {out_name}[{i}] = static_cast<res_t>(q);': {body[1:4]}"
        )
    if store.group(1) is not None and type_of(store.group(1), "the stored value") != out_t:
        raise ProjectError(f"{path}: {fn.name} casts to {store.group(1)} and stores into an array of {out_t}")
    offsets, scales = diff.group(3), scaled.group(5)
    (offset_t, offset_c), (scale_t, scale_c) = _array_type(offsets, path, type_of), _array_type(scales, path, type_of)
    entry = {"name": top_input, "inputs": [UNSCALED], "shape": [n],  # the importer gives it the top input's shape
             "attrs": {"wrapper": f"{path.name}: {fn.name}", "offsets": offsets}}  # fmt: skip
    if scaled.group(4) == "/":
        entry |= {"op": "offset_divide", "types": {"result_t": str(out_t), "offset_t": str(offset_t),
                                                   "divisor_t": str(scale_t)}}  # fmt: skip
        entry["attrs"]["divisors"], key = scales, "divisor"
    else:
        result_t, work_t = type_of(scaled.group(1), "the shifted value"), type_of(diff.group(1), "the difference")
        if result_t != out_t:
            raise ProjectError(f"{path}: {fn.name} stores its {result_t} values into an array of {out_t}")
        if scale_t.frac_bits != 0:
            raise ProjectError(f"{path}: shift amounts {scales} of type {scale_t} are not integers")
        entry |= {"op": "offset_shift", "types": {"result_t": str(out_t), "work_t": str(work_t),
                                                  "offset_t": str(offset_t)}}  # fmt: skip
        entry["attrs"]["shifts"], key = scales, "shift"
    requests = [
        Request(f"{top_input}/offset", offsets, n, offset_t, unit=1, c_type=offset_c),
        Request(f"{top_input}/{key}", scales, n, scale_t, unit=1, c_type=scale_c),
    ]
    return entry, requests, input_t


def _score(
    fns: dict[str, _Function], name: str, path: Path, output: TopOutput, source: Source, type_of
) -> tuple[dict, dict[str, np.ndarray]]:  # fmt: skip
    """The score function of the network output ``output``: one element, or the sum of its squares through
    nnet::reduce."""
    fn = fns.get(name)
    if fn is None:
        raise ProjectError(f"{path}: predict() calls {name}(), which the class does not define")
    (arg,) = [re.match(r".+?\s+(\w+)\s*\[", p).group(1) for p in fn.params] or [None]
    body = [st for _, st in fn.body]
    result_t = type_of(fn.returns, f"{fn.name}'s result")
    entry = {"name": "score", "inputs": [output.name], "shape": [1], "types": {"result_t": str(result_t)},
             "attrs": {"wrapper": f"{path.name}: {fn.name}"}}  # fmt: skip
    text = " ".join(body)
    element = re.fullmatch(rf"(?:[\w:]+ (\w+); \1 ?= ?{arg}\[(\d+)\]; return \1;|return {arg}\[(\d+)\];)", text)
    if element is not None:
        index = int(element.group(2) or element.group(3))
        return {**entry, "op": "gather"}, {"index": np.array([index], dtype=np.int64)}
    squares = re.fullmatch(
        rf"(?P<sq_t>[\w:]+) (?P<sq>\w+)\[(?P<sq_n>\w+)\]; (?P<sum_t>[\w:]+) (?P<sum>\w+); {_for('k')} "
        rf"(?P=sq)\[(?P=k)\] ?= ?{arg}\[(?P=k)\] ?\* ?{arg}\[(?P=k)\]; \}} "
        rf"nnet::Op_add<\s*(?P<op_t>[\w:]+)\s*> (?P<op>\w+); "
        rf"(?P=sum) ?= ?nnet::reduce<\s*(?P=op_t)\s*,\s*(?P<red_n>\w+)\s*,\s*"
        rf"nnet::Op_add<\s*(?P=op_t)\s*>\s*>\(\s*(?P=sq)\s*,\s*(?P=op)\s*\); return (?P=sum);",
        text,
    )
    if squares is None:
        raise ProjectError(
            f"{path}:{fn.body[0][0] if fn.body else '?'}: score function {fn.name} is neither one element of "
            f"{arg} nor the sum of its squares through nnet::reduce: {body}"
        )
    sizes = {source.value(squares[key], str(path)) for key in ("sq_n", "k_n", "red_n")}
    if sizes != {output.size}:
        raise ProjectError(f"{path}: {fn.name} squares {sorted(sizes)} elements of an output of {output.size}")
    square_t = type_of(squares["sq_t"], "the squares")
    if type_of(squares["op_t"], "the reduction") != square_t or type_of(squares["sum_t"], "the sum") != result_t:
        raise ProjectError(f"{path}: {fn.name} sums in a type other than its squares' or returns another")
    entry["types"]["square_t"] = str(square_t)
    return {**entry, "op": "square_sum"}, {}


_FLATTEN = """\
template <class T> static void l1t_flat(const T& v, int64_t*& out, int64_t* end) {
  T ones; ones.V = -1;
  int64_t r = v.range(T::width - 1, 0).to_int64();
  if (ones < 0 && T::width < 64 && ((r >> (T::width - 1)) & 1)) r -= (int64_t)1 << T::width;
  if (out < end) *out = r;
  ++out;
}
template <class T, std::size_t N> static void l1t_flat(const std::array<T, N>& v, int64_t*& out, int64_t* end) {
  for (const T& e : v) l1t_flat(e, out, end);
}
template <class T, std::size_t N> static void l1t_flat(const T (&v)[N], int64_t*& out, int64_t* end) {
  for (const T& e : v) l1t_flat(e, out, end);
}
template <class A, class B> static void l1t_flat(const std::pair<A, B>& v, int64_t*& out, int64_t* end) {
  l1t_flat(v.first, out, end);
  l1t_flat(v.second, out, end);
}
"""


def emulator_include() -> Path:
    """A directory holding ``emulator.h`` (``l1t.cpp.HLS4ML_EMULATOR_H``), which deployed wrappers include."""
    from l1t.atomic import write_text
    from l1t.cpp import HLS4ML_EMULATOR_H, cache_dir

    directory = cache_dir() / "include"
    header = directory / "emulator.h"
    if not header.is_file() or header.read_text() != HLS4ML_EMULATOR_H:
        directory.mkdir(parents=True, exist_ok=True)
        write_text(header, HLS4ML_EMULATOR_H)
    return directory


def wrapper_parts(wrapper: Wrapper, n_in: int, n_words: int) -> list[str]:
    """The wrapper's own C++ (included whole) and ``l1t_path(n, in, out)``: per event, raw unscaled words through
    ``prepare_input``, ``predict`` and ``read_result`` of a model made by its ``create_model()``, as the experiment's
    emulator calls it; every word ``read_result`` returns, in order. Returns the words per event it found (-1 when
    ``create_model`` fails); the caller checks it is ``n_words``."""
    t = wrapper.input_t
    result = (
        f"{wrapper.result_cpp} result[{wrapper.result_count}];"
        if wrapper.result_count
        else (f"{wrapper.result_cpp} result;")
    )
    checks = "\n".join(
        f'static_assert(std::is_same<{cpp}, {cpp_spelling(ft)}>::value, "l1t: {cpp} of {wrapper.path.name} is not '
        f'{ft} as read from the package text");'
        for cpp, ft in wrapper.checks.items()
    )
    return [
        f"// l1t: the wrapper, digest {wrapper.digest}\n#include <array>\n#include <type_traits>\n#include <utility>\n"
        f'#include "{wrapper.path}"\n{checks}',
        _FLATTEN
        + f"""extern "C" int64_t l1t_path(int64_t n, const int64_t* in, int64_t* out) {{
  hls4mlEmulator::Model* model = create_model();
  if (!model) return -1;
  static {wrapper.input_cpp} x[{n_in}];
  int64_t found = 0;
  for (int64_t e = 0; e < n; ++e) {{
    for (int i = 0; i < {n_in}; ++i) set_raw<{t.width}, {str(t.signed).lower()}>(x[i], in[e * {n_in} + i]);
    model->prepare_input(static_cast<{wrapper.input_cpp}*>(x));
    model->predict();
    {result}
    model->read_result({"static_cast<" + wrapper.result_cpp + "*>(result)" if wrapper.result_count else "&result"});
    int64_t* o = out + e * {n_words};
    l1t_flat(result, o, out + (e + 1) * {n_words});
    found = o - (out + e * {n_words});
    if (found != {n_words}) break;
  }}
  destroy_model(model);
  return found;
}}""",
    ]
