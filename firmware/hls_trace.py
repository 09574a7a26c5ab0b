"""Per-layer outputs of an hls4ml project's own C++ for given events, read from the project directory alone.

Uses the shared library hls4ml builds for C-simulation (``firmware/<top>-<stamp>.so``, built with the project's
``build_lib.sh`` when missing) and its trace entry points, so the layers traced are the project's own, with its
current weights. Layers are traced only if the project was written with ``Trace: True`` (``l1t firmware`` does).
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator.nn import Network
from l1t.firmware.hls_dpi import read_project

__all__ = ["trace_project"]


class _TraceData(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p)]


def _library(directory: Path, top: str) -> Path:
    """The C-simulation library of the project as last written (its stamp is in build_lib.sh)."""
    script = directory / "build_lib.sh"
    m = re.search(r"^LIB_STAMP=(\w+)", script.read_text(), re.MULTILINE) if script.is_file() else None
    if m is None:
        raise RuntimeError(f"{script}: no LIB_STAMP; not an hls4ml project that can be compiled")
    lib = directory / "firmware" / f"{top}-{m.group(1)}.so"
    if not lib.is_file():
        res = subprocess.run(["bash", "build_lib.sh"], cwd=directory, capture_output=True, text=True)
        if res.returncode or not lib.is_file():
            raise RuntimeError(f"{directory}: build_lib.sh failed: {res.stderr[-2000:]}")
    return lib


def trace_project(project_dir: str | Path, net: Network, x_raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raw output words of every traced layer of the project, per event: {layer: (N, ...)}."""
    project = read_project(project_dir)
    lib = ctypes.cdll.LoadLibrary(str(_library(project.directory, project.top)))
    top = getattr(lib, f"{project.top}_double")
    top.restype = None
    shapes = {layer.name: layer.shape for layer in net.layers}
    n_events = len(next(iter(x_raw.values())))
    inputs = [fx.to_float(np.asarray(x_raw[name]).reshape(n_events, -1), t) for name, _, t in net.inputs]
    out: dict[str, list[np.ndarray]] = {}
    for e in range(n_events):  # a few events: the first mismatches of a co-simulation
        lib.allocate_trace_storage(ctypes.c_size_t(8))
        try:
            args = [np.ascontiguousarray(x[e], dtype=np.float64) for x in inputs]
            outs = [np.zeros(p.n) for p, _ in project.outputs]
            top(*[a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for a in args + outs])
            slots = (_TraceData * (len(net.layers) + len(net.inputs)))()
            lib.collect_trace_output(slots)
            for slot in slots:
                if not slot.name:
                    break
                name = slot.name.decode()
                if name not in shapes:
                    continue
                size = int(np.prod(shapes[name]))
                values = np.ctypeslib.as_array(ctypes.cast(slot.data, ctypes.POINTER(ctypes.c_double)), (size,))
                out.setdefault(name, []).append(fx.from_float(values.copy(), net.types[name]))
        finally:
            lib.free_trace_storage()
    return {name: np.stack(v) for name, v in out.items()}
