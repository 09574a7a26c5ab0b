"""A device under test for the co-simulation bench: its sources, ports and timing, whatever made it.

Every DUT has hls4ml's Verilog top ports: ``ap_clk``, ``ap_rst``, ``ap_start``, ``ap_done``, ``ap_idle``,
``ap_ready``; one packed bus per input (element 0 in the least significant bits) with ``<name>_ap_vld``, one packed
bus per output with ``<name>_ap_vld``. The bench drives and checks only these, so what differs between DUTs
(generated Verilog, hls4ml's C++ behind DPI-C, vendor Verilog) is how they are built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from l1t.emulator.fixed import FixedType

__all__ = ["DUT_KINDS", "Dut", "DutUnavailable", "Port"]

DUT_KINDS = ("hls-dpi", "rtl", "vendor")


class DutUnavailable(RuntimeError):
    """A DUT that cannot be built here (a missing tool, or a simulator without what the DUT needs)."""


@dataclass(frozen=True)
class Port:
    """A packed bus of ``n`` elements of one fixed-point type."""

    name: str
    n: int
    type: FixedType

    @property
    def width(self) -> int:
        return self.n * self.type.width


@dataclass
class Dut:
    """HDL top ``top`` in ``sources``; Verilator also compiles ``cpp_sources`` with ``cflags`` (DPI-C)."""

    kind: str
    top: str
    sources: list[Path]
    latency: int
    inputs: list[Port]
    outputs: list[Port]
    ii: int = 1
    simulators: tuple[str, ...] = ("verilator", "icarus")
    cpp_sources: list[Path] = field(default_factory=list)
    cflags: list[str] = field(default_factory=list)
    project: Path | None = None  # the hls4ml project behind the DUT, when there is one (per-layer trace)

    def require(self, simulator: str) -> None:
        """Raise DutUnavailable if this DUT cannot run on ``simulator``."""
        if simulator not in self.simulators:
            why = " (Icarus has no DPI-C)" if self.cpp_sources and simulator == "icarus" else ""
            raise DutUnavailable(f"DUT {self.kind!r} runs on {', '.join(self.simulators)} only, not {simulator}{why}")
