"""g++ against the ``ap_types`` headers that ship inside hls4ml: C++ sources compiled into a cached shared library.

Used by every layer that needs hls4ml's own arithmetic as ground truth (the fixed-point reference, activation tables).
Libraries are cached by the hash of their source, the header directory and the compiler version.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "HLS4ML_EMULATOR_H",
    "NNET_TRACE_SWITCHES",
    "NO_GNU_UNIQUE",
    "OWN_DEFINITIONS_LINK",
    "PRELUDE",
    "STREAM_WORDS",
    "ToolMissing",
    "ap_types_include",
    "cache_dir",
    "compile_shared",
    "cpp_raw_args",
    "cpp_spelling",
]


HLS4ML_EMULATOR_H = """\
// The hls4mlEmulator::Model interface of the experiment's offline emulator, written from its public description:
// a model library is loaded with dlopen and made through its extern "C" create_model().
#ifndef HLS4ML_EMULATOR_MODEL_H_
#define HLS4ML_EMULATOR_MODEL_H_
#include <any>

namespace hls4mlEmulator {
class Model {
  public:
    virtual void prepare_input(std::any input) = 0;
    virtual void predict() = 0;
    virtual void read_result(std::any result) = 0;
    virtual ~Model() = default;
};
}  // namespace hls4mlEmulator

#endif
"""


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
template <int W, bool S, class T> static inline void raw_of2(const T& v, int64_t* out) {
  ap_int_base<W, S> r; r.V = v.V; ap_int_base<129, true> x = r;
  out[0] = (int64_t)x.range(63, 0).to_uint64(); out[1] = (int64_t)x.range(127, 64).to_uint64();
}
template <int W, bool S, class T> static inline void set_raw2(T& v, const int64_t* in) {
  ap_int_base<128, true> x = (ap_slong)in[1];
  x <<= 64; x += ap_int_base<128, true>((ap_ulong)(uint64_t)in[0]);  // + of the low word: no carry
  ap_int_base<W, S> r = x; v.V = r.V;
}
template <class R> static inline void type_info(int32_t* info, int iwidth) {
  R ones; ones.V = -1;
  info[0] = R::width; info[1] = iwidth; info[2] = ones.to_double() < 0;
}
"""


# An io_stream top's words move as nnet::arrays of the stream's width (S::size), ``words`` of them in all; C++ that
# calls such a top (after its headers, which declare hls::stream) writes its inputs and reads its outputs so.
STREAM_WORDS = """\
template <class S> static void l1t_write(const typename S::value_type* in, int words, hls::stream<S>& out) {
  for (int t = 0; t < words / int(S::size); ++t) {
    S v;
    for (int j = 0; j < int(S::size); ++j) v[j] = in[t * S::size + j];
    out.write(v);
  }
}
template <class S> static void l1t_read(hls::stream<S>& in, int words, typename S::value_type* out) {
  for (int t = 0; t < words / int(S::size); ++t) {
    S v = in.read();
    for (int j = 0; j < int(S::size); ++j) out[t * S::size + j] = v[j];
  }
}
"""


# The C-simulation trace switches hls4ml's nnet_helpers.h declares and its bridge defines, off: any other translation
# unit that links a project's top function (which refers to them when written with trace points) defines them so.
NNET_TRACE_SWITCHES = """\
#include <cstddef>
#include <map>
#include <string>
namespace nnet {
bool trace_enabled = false;
std::map<std::string, void *> *trace_outputs = NULL;
size_t trace_type_size = sizeof(double);
}  // namespace nnet
"""


class _Word(Protocol):
    width: int
    signed: bool


def cpp_raw_args(t: _Word) -> str:
    """Template arguments ``W, S`` of ``raw_of``/``set_raw`` for a type (a ``FixedType``: its width and sign)."""
    return f"{t.width}, {'true' if t.signed else 'false'}"


C_INTEGERS = {
    "int": (32, True), "unsigned": (32, False), "unsigned int": (32, False), "short": (16, True),
    "unsigned short": (16, False), "long": (64, True), "long long": (64, True), "int8_t": (8, True),
    "int16_t": (16, True), "int32_t": (32, True), "int64_t": (64, True), "uint8_t": (8, False),
    "uint16_t": (16, False), "uint32_t": (32, False),
}  # fmt: skip
"""C++ integer types as g++ lays them out on x86-64 Linux (LP64): (width, signed); each is the ap_int of its width."""


def cpp_spelling(t: Any) -> str:
    """A ``FixedType`` as C++ spells it with every template argument given (for ``std::is_same`` checks and
    generated declarations)."""
    if t.integer:
        return str(t)
    return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.int_bits},{t.q_mode.value},{t.o_mode.value},{t.n_bits}>"


def _compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise ToolMissing(f"C++ compiler {cxx!r} not found; install it with `apt-get install -y g++`")
    return cxx


def _compiler_version(cxx: str) -> str:
    return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]


# Every library keeps its own definitions. Two projects loaded in one process (``verify`` of several projects, the
# release proofs) instantiate templates under the same mangled names (``nnet::softmax<ap_fixed<16,6>, ...,
# softmax_config10>``) with different code and tables. g++ gives the static locals of such inline functions
# (hls4ml's ``static bool initialized`` and its lookup tables) STB_GNU_UNIQUE binding, which the dynamic loader
# shares between libraries even under RTLD_LOCAL: a second project's softmax would then read the first one's
# tables. -fno-gnu-unique makes them ordinary weak symbols (clang never emits unique ones), and -Bsymbolic binds
# every reference inside a library to its own definition.
NO_GNU_UNIQUE = "-fno-gnu-unique"  # g++ only
OWN_DEFINITIONS_LINK = "-Wl,-Bsymbolic"


def compile_shared(
    parts: Sequence[str],
    *,
    includes: Sequence[Path] = (),
    chunks: int | None = None,
    optimize: str = "-O1",
    prefix: str = "l1t",
    ap_types: Path | None = None,
    std: str = "c++14",
    flags: Sequence[str] = (),
) -> Path:
    """Compile C++ (each part prefixed by ``PRELUDE``) into a cached shared library; returns its path.

    Parts are spread over ``chunks`` translation units compiled in parallel (default: one per core). The include
    path always holds the ap_types headers: ``ap_types`` when given (a project's own), else hls4ml's. ``optimize`` is
    the g++ optimization flag, ``std`` the C++ standard, ``flags`` any further g++ flags. The cache key covers the
    sources and flags only: a part that includes files names their content's hash in a comment.
    """
    include = ap_types if ap_types is not None else ap_types_include()
    cxx = _compiler()
    # NDEBUG: ap_private.h asserts when a cast reads a "rounding bit" past the source MSB (a cast that drops
    # more fraction bits than the source has); the header then uses the sign bit instead, which is the
    # behaviour of the synthesized logic and of the emulator.
    version = _compiler_version(cxx)
    gxx = [optimize, f"-std={std}", "-fPIC", "-w", "-DNDEBUG", f"-I{include}", *(f"-I{p}" for p in includes)]
    gxx += [*([] if "clang" in version else [NO_GNU_UNIQUE]), *flags]
    key = hashlib.sha256("\n".join([PRELUDE, *parts, version, *gxx, OWN_DEFINITIONS_LINK]).encode()).hexdigest()[:20]
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
            cmd = [cxx, *gxx, "-c", str(obj.with_suffix(".cpp")), "-o", str(obj)]
            return subprocess.run(cmd, capture_output=True, text=True)

        with ThreadPoolExecutor(n_chunks) as pool:
            for obj, res in zip(objects, pool.map(compile_one, objects), strict=True):
                if res.returncode:
                    raise RuntimeError(f"g++ failed on {obj.with_suffix('.cpp').name}:\n{res.stderr[-4000:]}")
        tmp_lib = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        link = [cxx, "-shared", OWN_DEFINITIONS_LINK, *map(str, objects), "-o", str(tmp_lib)]
        res = subprocess.run(link, capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(f"linking {target.name} failed:\n{res.stderr[-4000:]}")
        tmp_lib.replace(target)
    return target
