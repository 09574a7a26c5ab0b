"""One BLAS thread while the emulator multiplies.

The network executor's products are small (a few thousand events by tens of inputs), one per layer and chunk.
A multithreaded BLAS splits each over its threads and, between calls, leaves them spinning on the other cores,
where they compete with the emulator's own passes; with one BLAS thread the AXOL1TL-like encoder runs 1.4x faster
on two cores. Parallel work belongs a level up (Dask workers over event chunks). The limit holds only inside
``serial_blas()``; the process's own setting is restored on exit. Set ``L1T_BLAS_THREADS=0`` to leave BLAS alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["serial_blas"]


_CONTROLLER: list[tuple[int, Any]] = []  # (number of imported modules when inspected, the controller)


def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, inspected again whenever modules were imported since
    (an import can load another BLAS: numba's first compilation brings in SciPy's OpenBLAS)."""
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER or _CONTROLLER[0][0] != len(sys.modules):
        _CONTROLLER[:] = [(len(sys.modules), ThreadpoolController())]
    return _CONTROLLER[0][1]


@contextlib.contextmanager
def serial_blas() -> Iterator[None]:
    """Limit the loaded BLAS libraries to one thread within the block (unless ``L1T_BLAS_THREADS=0``)."""
    if os.environ.get("L1T_BLAS_THREADS", "1") == "0":
        yield
        return
    with _controller().limit(limits=1, user_api="blas"):
        yield
