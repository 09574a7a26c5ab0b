"""Compiled reference for fixed-point arithmetic: the ``ap_types`` headers that ship inside hls4ml.

A list of :class:`RefCase` (an operation and its C++ types) becomes one C++ source file, compiled with g++
against the headers of the installed hls4ml into a shared library (``l1t.cpp``) and called through ctypes on numpy
arrays.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l1t.cpp import compile_shared, cpp_raw_args
from l1t.emulator.fixed import FixedType, add_type, from_limbs, mul_type, sub_type, to_limbs

__all__ = ["ApTypesLibrary", "RefCase", "build_library"]

OPS = ("from_double", "cast", "add", "sub", "mul", "to_double", "shl", "shr", "cmp")


@dataclass(frozen=True)
class RefCase:
    """One operation on concrete C++ types, e.g. ``RefCase("cast", (src, dst))``."""

    op: str
    types: tuple[FixedType, ...]

    def __post_init__(self) -> None:
        arity = {"from_double": 1, "to_double": 1, "shl": 1, "shr": 1}.get(self.op, 2)
        if self.op not in OPS or len(self.types) != arity:
            raise ValueError(f"bad reference case {self.op}{self.types}; ops are {OPS}")

    @property
    def result_type(self) -> FixedType | None:
        """Type of the raw output as the emulator computes it (None for to_double and cmp)."""
        if self.op in ("add", "sub", "mul"):
            return {"add": add_type, "sub": sub_type, "mul": mul_type}[self.op](*self.types)
        if self.op in ("from_double", "shl", "shr"):
            return self.types[0]
        return self.types[1] if self.op == "cast" else None


def _load(t: FixedType, name: str, words: str) -> str:
    """C++ declaring ``t name`` from element i of raw words (two int64 per element for a wide type)."""
    if t.wide:
        return f"{t} {name}; set_raw2<{cpp_raw_args(t)}>({name}, {words} + 2 * i);"
    return f"{t} {name}; set_raw<{cpp_raw_args(t)}>({name}, {words}[i]);"


def _store(t: FixedType, expr: str) -> str:
    """C++ writing the raw words of ``expr`` (of type t) to element i of ``out``."""
    if t.wide:
        return f"raw_of2<{cpp_raw_args(t)}>({expr}, out + 2 * i);"
    return f"out[i] = raw_of<{cpp_raw_args(t)}>({expr});"


def _case_source(i: int, case: RefCase) -> str:
    """C++ for one case: ``void case_<i>(const void* a, const void* b, void* out, int64_t n)``."""
    t = case.types
    head = f'extern "C" void case_{i}(const void* a_, const void* b_, void* out_, int64_t n) {{\n'
    head += "  const int64_t* a = (const int64_t*)a_; const int64_t* b = (const int64_t*)b_; (void)b;\n"
    out = "double" if case.op == "to_double" else "int64_t"
    head += f"  {out}* out = ({out}*)out_;\n  for (int64_t i = 0; i < n; ++i) {{\n    "
    tail = "\n  }\n}\n"
    if case.op == "from_double":
        body = f"{t[0]} v = ((const double*)a_)[i]; {_store(t[0], 'v')}"
    elif case.op == "to_double":
        body = f"{_load(t[0], 'v', 'a')} out[i] = v.to_double();"
    elif case.op == "cast":
        body = f"{_load(t[0], 'v', 'a')} {t[1]} r = v; {_store(t[1], 'r')}"
    elif case.op in ("shl", "shr"):
        sym = "<<" if case.op == "shl" else ">>"
        body = f"{_load(t[0], 'v', 'a')} {t[0]} r = v {sym} (int)b[i]; {_store(t[0], 'r')}"
    else:
        body = f"{_load(t[0], 'x', 'a')} {_load(t[1], 'y', 'b')}\n    "
        if case.op == "cmp":
            body += "out[i] = (x < y) ? -1 : ((x > y) ? 1 : 0);"
        else:
            rt = case.result_type
            sym = {"add": "+", "sub": "-", "mul": "*"}[case.op]
            body += _store(rt, f"x {sym} y")
            iw = "R::width" if rt.integer else "R::iwidth"
            tail += (
                f'extern "C" void info_{i}(int32_t* info) {{\n'
                f"  {t[0]} x; {t[1]} y; typedef decltype(x {sym} y) R; type_info<R>(info, {iw});\n}}\n"
            )
    return head + body + tail


def _to_words(a: np.ndarray, t: FixedType) -> np.ndarray:
    """Raw words as the C side reads them: int64, or (n, 2) int64 limbs (``to_limbs``) for a wide type."""
    return to_limbs(a) if t.wide else np.ascontiguousarray(a, dtype=np.int64)


def _from_words(words: np.ndarray, t: FixedType) -> np.ndarray:
    """Inverse of ``_to_words``: Python ints (an object array) for a wide type."""
    return from_limbs(words) if t.wide else words


def build_library(cases: Sequence[RefCase], *, chunks: int | None = None, optimize: str = "-O1") -> Path:
    """Compile reference cases into a cached shared library (see :func:`compile_shared`)."""
    parts = [_case_source(i, c) for i, c in enumerate(cases)]
    return compile_shared(parts, chunks=chunks, optimize=optimize, prefix="ap_types_ref")


class ApTypesLibrary:
    """Callable reference: ``lib.run(i, a, b)`` runs case ``i`` of the list it was built from."""

    def __init__(self, cases: Sequence[RefCase], *, chunks: int | None = None, optimize: str = "-O1") -> None:
        self.cases = list(cases)
        self.path = build_library(self.cases, chunks=chunks, optimize=optimize)
        self._lib = ctypes.CDLL(str(self.path))

    def run(self, index: int, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        """Outputs of case ``index`` on inputs ``a`` (and ``b``): raw words in the kind of the result type (int64,
        or Python ints for a wide one), or float64 for to_double."""
        case = self.cases[index]
        n = np.shape(a)
        if case.op == "from_double":
            a = np.ascontiguousarray(a, dtype=np.float64)
        else:
            a = _to_words(a, case.types[0])
        if case.op in ("shl", "shr"):
            b = np.ascontiguousarray(b, dtype=np.int64)
        elif b is not None:
            b = _to_words(b, case.types[1])
        if case.op not in ("from_double", "to_double", "cast") and (b is None or b.shape[: len(n)] != n):
            raise ValueError(f"case {index} ({case.op}) needs a second input of shape {n}")
        rt = case.result_type
        if case.op == "to_double":
            out = np.empty(n, dtype=np.float64)
        else:
            out = np.empty((*n, 2) if rt is not None and rt.wide else n, dtype=np.int64)
        fn = getattr(self._lib, f"case_{index}")
        fn(
            ctypes.c_void_p(a.ctypes.data),
            ctypes.c_void_p(None if b is None else b.ctypes.data),
            ctypes.c_void_p(out.ctypes.data),
            ctypes.c_int64(int(np.prod(n))),
        )
        return out if rt is None else _from_words(out, rt)

    def result_info(self, index: int) -> tuple[int, int, bool]:
        """(width, integer bits, signed) of the C++ result type of an add/sub/mul case."""
        info = (ctypes.c_int32 * 3)()
        getattr(self._lib, f"info_{index}")(info)
        return info[0], info[1], bool(info[2])
