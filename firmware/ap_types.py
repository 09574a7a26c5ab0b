"""Compiled reference for fixed-point arithmetic: the ``ap_types`` headers that ship inside hls4ml.

A list of :class:`RefCase` (an operation and its C++ types) becomes one C++ source file, compiled with g++
against the headers of the installed hls4ml into a shared library and called through ctypes on numpy arrays.
Libraries are cached by the hash of their source, the header directory and the compiler version.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l1t.emulator.fixed import FixedType, add_type, mul_type, sub_type

__all__ = [
    "PRELUDE",
    "ApTypesLibrary",
    "RefCase",
    "ToolMissing",
    "ap_types_include",
    "build_library",
    "cache_dir",
    "compile_shared",
    "cpp_raw_args",
]

OPS = ("from_double", "cast", "add", "sub", "mul", "to_double", "shl", "shr", "cmp")


class ToolMissing(RuntimeError):
    """A required external tool or package is not installed."""


def ap_types_include() -> Path:
    """The ``ap_types`` include directory of the installed hls4ml package."""
    try:
        import hls4ml
    except ImportError as err:
        raise ToolMissing(f"hls4ml is not installed ({err}); run `make setup`") from None
    path = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    if not (path / "ap_fixed.h").is_file():
        raise ToolMissing(f"hls4ml {hls4ml.__version__} has no ap_types headers at {path}")
    return path


def cache_dir() -> Path:
    """Where compiled reference libraries are kept (``$L1T_CACHE`` or ``~/.cache/l1t``)."""
    root = os.environ.get("L1T_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "l1t"
    return Path(root)


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


PRELUDE = """\
#include <cstdint>
#include "ap_fixed.h"
#include "ap_int.h"

template <int W, bool S, class T> static inline int64_t raw_of(const T& v) {
  ap_int_base<W, S> r; r.V = v.V; return r.to_int64();
}
template <int W, bool S, class T> static inline void set_raw(T& v, int64_t x) {
  ap_int_base<W, S> r = (ap_slong)x; v.V = r.V;
}
template <class R> static inline void type_info(int32_t* info, int iwidth) {
  R ones; ones.V = -1;
  info[0] = R::width; info[1] = iwidth; info[2] = ones.to_double() < 0;
}
"""


def cpp_raw_args(t: FixedType) -> str:
    """Template arguments ``W, S`` of ``raw_of``/``set_raw`` for a type."""
    return f"{t.width}, {'true' if t.signed else 'false'}"


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


def _compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise ToolMissing(f"C++ compiler {cxx!r} not found; install it with `apt-get install -y g++`")
    return cxx


def _compiler_version(cxx: str) -> str:
    return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]


def compile_shared(
    parts: Sequence[str],
    *,
    includes: Sequence[Path] = (),
    chunks: int | None = None,
    optimize: str = "-O1",
    prefix: str = "l1t",
) -> Path:
    """Compile C++ (each part prefixed by ``PRELUDE``) into a cached shared library; returns its path.

    Parts are spread over ``chunks`` translation units compiled in parallel (default: one per core). The include
    path always holds hls4ml's ap_types. ``optimize`` is the g++ optimization flag.
    """
    include = ap_types_include()
    cxx = _compiler()
    # NDEBUG: ap_private.h asserts when a cast reads a "rounding bit" past the source MSB (a cast that drops
    # more fraction bits than the source has); the header then uses the sign bit instead, which is the
    # behaviour of the synthesized logic and of the emulator.
    flags = [optimize, "-std=c++14", "-fPIC", "-w", "-DNDEBUG", f"-I{include}", *(f"-I{p}" for p in includes)]
    key = hashlib.sha256("\n".join([PRELUDE, *parts, _compiler_version(cxx), *flags]).encode()).hexdigest()[:20]
    target = cache_dir() / f"{prefix}_{key}.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    n_chunks = max(1, min(chunks or os.cpu_count() or 1, len(parts)))
    with tempfile.TemporaryDirectory(prefix="l1t-cxx-") as tmp:
        objects = []
        for c in range(n_chunks):
            src = Path(tmp) / f"part_{c}.cpp"
            src.write_text(PRELUDE + "".join(parts[c::n_chunks]))
            objects.append(src.with_suffix(".o"))

        def compile_one(obj: Path) -> subprocess.CompletedProcess:
            cmd = [cxx, *flags, "-c", str(obj.with_suffix(".cpp")), "-o", str(obj)]
            return subprocess.run(cmd, capture_output=True, text=True)

        with ThreadPoolExecutor(n_chunks) as pool:
            for obj, res in zip(objects, pool.map(compile_one, objects), strict=True):
                if res.returncode:
                    raise RuntimeError(f"g++ failed on {obj.with_suffix('.cpp').name}:\n{res.stderr[-4000:]}")
        tmp_lib = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        res = subprocess.run([cxx, "-shared", *map(str, objects), "-o", str(tmp_lib)], capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(f"linking {target.name} failed:\n{res.stderr[-4000:]}")
        tmp_lib.replace(target)
    return target


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
