"""A deployed hls4ml project (read by the importer, ``l1t.models.hls_project``) co-simulated as hardware: its own
C++ behind the hls-dpi DUT on Verilator, streamed with the same input words the emulator and ``l1t verify`` use.
Works for any project the importer reads: a namespace, a renamed top, older hls4ml's size arguments, the
distributed-arithmetic strategy's generated adder graphs, and no float wrapper."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l1t.emulator.nn import Network
from l1t.firmware import hls_dpi
from l1t.firmware.cosim import CosimReport, run_cosim
from l1t.firmware.dut import Port
from l1t.models.hls_project import Array, Project

__all__ = ["cosim_project", "dpi_interface"]


def dpi_interface(project: Project) -> hls_dpi.HlsProject:
    """The top function's interface as the importer read it: ports with their ap types and C++ type names (spelled
    from outside the project's namespace), the namespace and the size arguments."""
    src = project.source

    def port(array: Array) -> tuple[Port, str]:
        where = f"{src.top_file}: argument {array.name}"
        cpp = src.qualified(array.cpp_type) if array.cpp_type in src.typedefs else array.cpp_type
        return Port(array.name, array.size, src.type_of(array.cpp_type, where)), cpp

    return hls_dpi.HlsProject(
        src.directory,
        src.top,
        [port(a) for a in project.inputs],
        [port(a) for a in project.outputs],
        None,
        None,
        namespace=src.namespace,
        size_args=tuple(src.size_args),
        stream_widths={a.name: a.width for a in [*project.inputs, *project.outputs] if a.width},
    )


def cosim_project(
    project: Project,
    net: Network,
    words: dict[str, np.ndarray],
    out_dir: str | Path,
    *,
    simulator: str = "verilator",
    gap_probability: float = 0.1,
    seed: int = 0,
) -> CosimReport:
    """The project's C++ as the hls-dpi DUT against ``net`` (its imported spec) on the input ``words``."""
    out_dir = Path(out_dir)
    dut = hls_dpi.dut(project.source.directory, out_dir / "src", interface=dpi_interface(project))
    return run_cosim(dut, net, words, simulator, out_dir, gap_probability=gap_probability, seed=seed)
