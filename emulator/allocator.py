"""glibc malloc settings for array-at-a-time work.

The emulator processes events in chunks of a few thousand, so every layer allocates and frees temporaries of a few
megabytes. glibc serves blocks that size with a fresh ``mmap`` by default and returns them on ``free``, so each
temporary costs a page fault per 4 KiB; on the CICADA-like network that is about a third of the run time. Raising
the mmap and trim thresholds keeps those blocks in the heap for reuse. The settings are process-wide; they are
applied once, only on glibc, and not when the user set ``MALLOC_MMAP_THRESHOLD_`` or ``L1T_MALLOPT=0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

__all__ = ["keep_large_blocks"]

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_THRESHOLD = -3


@functools.cache
def keep_large_blocks(mmap_threshold: int = 64 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Serve blocks below ``mmap_threshold`` bytes from the heap and keep up to ``trim_threshold`` bytes of freed
    heap; True if applied (glibc, not disabled by the environment)."""
    if os.environ.get("L1T_MALLOPT", "1") == "0" or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False  # not glibc (musl, macOS): their allocators have no such knobs
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
