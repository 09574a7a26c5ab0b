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
from l1t.emulator.fixed import FixedType, add_type, mul_type, sub_type

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


def _case_source(i: int, case: RefCase) -> str:
    """C++ for one case: ``void case_<i>(const void* a, const void* b, void* out, int64_t n)``."""
    t = case.types
    head = f'extern "C" void case_{i}(const void* a_, const void* b_, void* out_, int64_t n) {{\n'
    head += "  (void)b_;\n"
    if case.op == "from_double":
        body = (
            "  const double* a = (const double*)a_; int64_t* out = (int64_t*)out_;\n"
            f"  for (int64_t i = 0; i < n; ++i) {{ {t[0]} v = a[i]; out[i] = raw_of<{cpp_raw_args(t[0])}>(v); }}\n"
        )
    elif case.op == "to_double":
        body = (
            "  const int64_t* a = (const int64_t*)a_; double* out = (double*)out_;\n"
            f"  for (int64_t i = 0; i < n; ++i) {{ {t[0]} v; set_raw<{cpp_raw_args(t[0])}>(v, a[i]);\n"
            "    out[i] = v.to_double(); }\n"
        )
    elif case.op == "cast":
        body = (
            "  const int64_t* a = (const int64_t*)a_; int64_t* out = (int64_t*)out_;\n"
            f"  for (int64_t i = 0; i < n; ++i) {{ {t[0]} v; set_raw<{cpp_raw_args(t[0])}>(v, a[i]);\n"
            f"    {t[1]} r = v; out[i] = raw_of<{cpp_raw_args(t[1])}>(r); }}\n"
        )
    elif case.op in ("shl", "shr"):
        sym = "<<" if case.op == "shl" else ">>"
        body = (
            "  const int64_t* a = (const int64_t*)a_; const int64_t* b = (const int64_t*)b_;\n"
            "  int64_t* out = (int64_t*)out_;\n"
            f"  for (int64_t i = 0; i < n; ++i) {{ {t[0]} v; set_raw<{cpp_raw_args(t[0])}>(v, a[i]);\n"
            f"    {t[0]} r = v {sym} (int)b[i]; out[i] = raw_of<{cpp_raw_args(t[0])}>(r); }}\n"
        )
    else:
        load = (
            "  const int64_t* a = (const int64_t*)a_; const int64_t* b = (const int64_t*)b_;\n"
            "  int64_t* out = (int64_t*)out_;\n"
            f"  for (int64_t i = 0; i < n; ++i) {{ {t[0]} x; set_raw<{cpp_raw_args(t[0])}>(x, a[i]);\n"
            f"    {t[1]} y; set_raw<{cpp_raw_args(t[1])}>(y, b[i]);\n"
        )
        if case.op == "cmp":
            body = load + "    out[i] = (x < y) ? -1 : ((x > y) ? 1 : 0); }\n"
        else:
            rt = case.result_type
            sym = {"add": "+", "sub": "-", "mul": "*"}[case.op]
            body = load + f"    out[i] = raw_of<{cpp_raw_args(rt)}>(x {sym} y); }}\n"
            iw = "R::width" if rt.integer else "R::iwidth"
            body += (
                "}\n"
                f'extern "C" void info_{i}(int32_t* info) {{\n'
                f"  {t[0]} x; {t[1]} y; typedef decltype(x {sym} y) R; type_info<R>(info, {iw});\n"
            )
    return head + body + "}\n"


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
        """Outputs of case ``index`` on inputs ``a`` (and ``b``): int64 raw, or float64 for to_double."""
        case = self.cases[index]
        a = np.ascontiguousarray(a, dtype=np.float64 if case.op == "from_double" else np.int64)
        b = None if b is None else np.ascontiguousarray(b, dtype=np.int64)
        if case.op not in ("from_double", "to_double", "cast") and (b is None or b.shape != a.shape):
            raise ValueError(f"case {index} ({case.op}) needs a second input of shape {a.shape}")
        out = np.empty(a.shape, dtype=np.float64 if case.op == "to_double" else np.int64)
        fn = getattr(self._lib, f"case_{index}")
        fn(
            ctypes.c_void_p(a.ctypes.data),
            ctypes.c_void_p(None if b is None else b.ctypes.data),
            ctypes.c_void_p(out.ctypes.data),
            ctypes.c_int64(a.size),
        )
        return out

    def result_info(self, index: int) -> tuple[int, int, bool]:
        """(width, integer bits, signed) of the C++ result type of an add/sub/mul case."""
        info = (ctypes.c_int32 * 3)()
        getattr(self._lib, f"info_{index}")(info)
        return info[0], info[1], bool(info[2])
