"""hls4ml's own HLS C++ as a co-simulation DUT: a SystemVerilog wrapper imports a DPI-C shim that calls the project's
top function, registered like the hls4ml Verilog top.

Works from an hls4ml io_parallel project directory alone (one made by l1t or a user's): the top function, its
argument types and sizes come from ``firmware/<top>.h`` and ``firmware/defines.h``, which arguments are inputs from
``<top>_bridge.cpp``, latency and II from the C-synthesis report when one exists. A project read otherwise (a
namespace, older hls4ml's size arguments, no float wrapper: ``l1t verify --cosim`` reads it with the importer) is
given as an :class:`HlsProject`. The shim includes the project's
``firmware/<top>.cpp`` with ``WEIGHTS_DIR`` set to the project's absolute ``firmware/weights``, so the weights do not
depend on the working directory. Verilator only: Icarus has no DPI-C.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import l1t.emulator.fixed as fx
from l1t.atomic import write_text
from l1t.cpp import NNET_TRACE_SWITCHES, STREAM_WORDS, ap_types_include
from l1t.firmware.dut import Dut, Port
from l1t.hls_text import NNET_ARRAY, STREAM_ARG, ProjectError, evaluate, firmware_dir, project_name, read_defines

__all__ = ["HlsProject", "ProjectError", "dut", "read_project"]

MAX_ELEMENT_BITS = 64  # the shim moves each element through a uint64_t (``l1t_pack`` / ``l1t_unpack``)


@dataclass(frozen=True)
class HlsProject:
    """The interface of an hls4ml io_parallel project's top function."""

    directory: Path
    top: str
    inputs: list[tuple[Port, str]]  # (port, C++ type name)
    outputs: list[tuple[Port, str]]
    latency: int | None  # from the C-synthesis report, when there is one
    ii: int | None
    namespace: str | None = None  # the namespace the top function is declared in
    size_args: tuple[str, ...] = ()  # older hls4ml's trailing ``unsigned short &const_size_*`` arguments
    # io_stream: port name -> words per ``nnet::array`` its ``hls::stream`` carries (its C++ type name is the array's)
    stream_widths: dict[str, int] = field(default_factory=dict)

    def word_type(self, name: str, cpp_type: str) -> str:
        """The C++ type of one word of a port: its type, or a stream's array element type."""
        return f"{cpp_type}::value_type" if name in self.stream_widths else cpp_type


def _synth_report(directory: Path, top: str) -> tuple[int | None, int | None]:
    reports = sorted(directory.glob(f"*_prj/solution*/syn/report/{top}_csynth.xml"))
    if not reports:
        return None, None
    root = ET.parse(reports[0]).getroot()
    summary = root.find("./PerformanceEstimates/SummaryOfOverallLatency")
    if summary is None:
        raise ProjectError(f"{reports[0]}: no PerformanceEstimates/SummaryOfOverallLatency")
    try:
        return int(summary.findtext("Worst-caseLatency", "")), int(summary.findtext("Interval-min", ""))
    except ValueError as err:
        raise ProjectError(f"{reports[0]}: latency or interval is not a number ({err})") from err


def read_project(directory: str | Path) -> HlsProject:
    """Read the top function's interface from an hls4ml project directory: arrays (io_parallel), or streams of
    ``nnet::array``s (io_stream), whose word counts come from the float bridge's conversions."""
    directory = Path(directory).resolve()
    top = project_name(directory)
    header, defines, bridge = (
        directory / "firmware" / f"{top}.h",
        directory / "firmware" / "defines.h",
        directory / f"{top}_bridge.cpp",
    )
    for f in (header, defines, bridge, directory / "firmware" / f"{top}.cpp"):
        if not f.is_file():
            raise ProjectError(f"{directory}: missing {f.relative_to(directory)}")
    macros, typedefs = read_defines(defines.read_text())
    proto = re.search(rf"void\s+{top}\s*\(([^)]*)\)\s*;", header.read_text())
    if proto is None:
        raise ProjectError(f"{header}: no prototype 'void {top}(...)'")
    args, widths, bridge_text = [], {}, bridge.read_text()
    for arg in filter(None, (a.strip() for a in proto.group(1).split(","))):
        m = re.fullmatch(r"(\w+)\s+(\w+)\s*\[([^\]]+)\]", arg) or STREAM_ARG.fullmatch(arg)
        if m is None:
            raise ProjectError(f"{header}: argument {arg!r} is neither an array 'type name[size]' nor a stream")
        cpp_t, name = m.group(1), m.group(2)
        if cpp_t not in typedefs:
            raise ProjectError(f"{defines}: no typedef for {cpp_t!r} (argument {name!r} of {top})")
        word, size = typedefs[cpp_t], m.group(3) if m.re.groups == 3 else None
        if size is None:  # io_stream: nnet::arrays of words, as many words as the float bridge converts
            array = NNET_ARRAY.fullmatch(word)
            converted = re.search(rf"convert_data<[^;]*?,\s*([^,<>]+)>\(\s*(?:{name}\s*,\s*{name}_ap|{name}_ap\s*,"
                                  rf"\s*{name})\s*\)", bridge_text)  # fmt: skip
            if array is None or converted is None:
                raise ProjectError(f"{bridge}: no nnet::array type or word count for the stream {name!r} of {top}")
            word, size = array.group(1), converted.group(1)
            widths[name] = evaluate(array.group(2), macros, str(defines))
        try:
            t = fx.parse(word)
        except ValueError as err:
            raise ProjectError(f"{defines}: {cpp_t} = {typedefs[cpp_t]!r}: {err}") from err
        args.append((Port(name, evaluate(size, macros, str(header)), t), cpp_t))
    inputs_named = re.findall(r"convert_data<float,\s*\w+,\s*[^>]+>\(\s*(\w+)\s*,", bridge_text)
    n_in = len(set(inputs_named))
    if not 0 < n_in < len(args) or [p.name for p, _ in args[:n_in]] != inputs_named[:n_in]:
        raise ProjectError(f"{bridge}: cannot tell the inputs of {top} from its float wrapper")
    latency, ii = _synth_report(directory, top)
    return HlsProject(directory, top, args[:n_in], args[n_in:], latency, ii, stream_widths=widths)


def _shim(project: HlsProject) -> str:
    fw = firmware_dir(project.directory)
    params = ", ".join(
        [f"const svBitVecVal* {p.name}" for p, _ in project.inputs]
        + [f"svBitVecVal* {p.name}" for p, _ in project.outputs]
    )
    ports = project.inputs + project.outputs
    words = {p.name: project.word_type(p.name, t) for p, t in ports}
    checks = [
        f'static_assert({words[p.name]}::width == {p.type.width}, "{t}: width differs from defines.h as read by l1t");'
        for p, t in ports
    ]
    body = [f"    {words[p.name]} {p.name}_ap[{p.n}];" for p, _ in ports]
    body += [f"    hls::stream<{t}> {p.name}_s;" for p, t in ports if p.name in project.stream_widths]
    body += [f"    unsigned short {name} = 0;" for name in project.size_args]
    body += [f"    l1t_unpack<{words[p.name]}, {p.n}>({p.name}, {p.name}_ap);" for p, _ in project.inputs]
    body += [f"    l1t_write<{t}>({p.name}_ap, {p.n}, {p.name}_s);" for p, t in project.inputs
             if p.name in project.stream_widths]  # fmt: skip
    call = [f"{p.name}_s" if p.name in project.stream_widths else f"{p.name}_ap" for p, _ in ports]
    top = f"{project.namespace}::{project.top}" if project.namespace else project.top
    body.append(f"    {top}({', '.join(call + list(project.size_args))});")
    body += [f"    l1t_read<{t}>({p.name}_s, {p.n}, {p.name}_ap);" for p, t in project.outputs
             if p.name in project.stream_widths]  # fmt: skip
    body += [f"    l1t_pack<{words[p.name]}, {p.n}>({p.name}_ap, {p.name});" for p, _ in project.outputs]
    return f"""// Generated by l1t: DPI-C entry that runs the hls4ml project {project.top} on one input vector.
#define WEIGHTS_DIR "{fw / "weights"}"
#include "{fw / f"{project.top}.cpp"}"
#include "nnet_utils/nnet_helpers.h"
#include "svdpi.h"

#include <cstdint>

{NNET_TRACE_SWITCHES}
{chr(10).join(checks)}

// element i of a packed bus occupies bits [i*W, (i+1)*W), element 0 in the least significant bits; an element
// (W <= 64) starting at bit s of 32-bit word w lies within words w .. w+2, moved as one 128-bit window
template <class T, int N> static void l1t_unpack(const svBitVecVal* bus, T* out) {{
    static_assert(T::width <= 64, "hls-dpi ports carry elements of at most 64 bits");
    constexpr int WORDS = (N * T::width + 31) / 32;
    for (int i = 0; i < N; ++i) {{
        const int k = i * T::width, w = k >> 5;
        unsigned __int128 window = 0;
        for (int j = 0; j < 3 && w + j < WORDS; ++j) window |= (unsigned __int128)bus[w + j] << (32 * j);
        uint64_t raw = uint64_t(window >> (k & 31));
        if (T::width < 64) raw &= (uint64_t(1) << (T::width % 64)) - 1;
        out[i].range(T::width - 1, 0) = raw;
    }}
}}

template <class T, int N> static void l1t_pack(const T* in, svBitVecVal* bus) {{
    static_assert(T::width <= 64, "hls-dpi ports carry elements of at most 64 bits");
    constexpr int WORDS = (N * T::width + 31) / 32;
    for (int w = 0; w < WORDS; ++w) bus[w] = 0;
    for (int i = 0; i < N; ++i) {{
        const int k = i * T::width, w = k >> 5;
        uint64_t raw = in[i].range(T::width - 1, 0).to_uint64();
        if (T::width < 64) raw &= (uint64_t(1) << (T::width % 64)) - 1;  // the element's bits only
        const unsigned __int128 window = (unsigned __int128)raw << (k & 31);
        for (int j = 0; j < 3 && w + j < WORDS; ++j) bus[w + j] |= svBitVecVal(window >> (32 * j));
    }}
}}

{STREAM_WORDS if project.stream_widths else ""}
extern "C" void l1t_{project.top}({params}) {{
{chr(10).join(body)}
}}
"""


def _wrapper(project: HlsProject, latency: int, ii: int) -> str:
    ins = [p for p, _ in project.inputs]
    outs = [p for p, _ in project.outputs]
    ports = ["input wire ap_clk", "input wire ap_rst", "input wire ap_start"]
    ports += ["output wire ap_done", "output wire ap_idle", "output wire ap_ready"]
    for p in ins:
        ports += [f"input wire [{p.width - 1}:0] {p.name}", f"input wire {p.name}_ap_vld"]
    for p in outs:
        ports += [f"output wire [{p.width - 1}:0] {p.name}", f"output wire {p.name}_ap_vld"]
    dpi_args = [f"input bit [{p.width - 1}:0] {p.name}" for p in ins]
    dpi_args += [f"output bit [{p.width - 1}:0] {p.name}" for p in outs]
    lines = [
        "// Generated by l1t: the hls4ml project's C++ (DPI-C) behind hls4ml's Verilog top ports.",
        f"// latency {latency} clocks, II = {ii}",
        f"module {project.top} (",
        "  " + ",\n  ".join(ports),
        ");",
        f'  import "DPI-C" function void l1t_{project.top}({", ".join(dpi_args)});',
        f"  localparam int LATENCY = {latency};",
        f"  localparam int II = {ii};",
        "  int unsigned wait_q;",
        "  logic [LATENCY-1:0] vld;",
        f"  wire accept = ap_start && wait_q == 0 && {' && '.join(f'{p.name}_ap_vld' for p in ins)};",
    ]
    for p in outs:
        lines += [f"  bit [{p.width - 1}:0] {p.name}_y;", f"  logic [{p.width - 1}:0] {p.name}_q [LATENCY];"]
    lines += [
        "  always @(posedge ap_clk) begin",
        "    if (accept)",
        f"      l1t_{project.top}({', '.join([p.name for p in ins] + [f'{p.name}_y' for p in outs])});",
        "    vld <= ap_rst ? '0 : LATENCY'({vld, accept});",
        "    wait_q <= ap_rst ? 0 : accept ? II - 1 : wait_q == 0 ? 0 : wait_q - 1;",
    ]
    for p in outs:
        lines.append(f"    {p.name}_q[0] <= {p.name}_y;")
        lines.append(f"    for (int s = 1; s < LATENCY; s++) {p.name}_q[s] <= {p.name}_q[s - 1];")
    lines += [
        "  end",
        "  assign ap_done = vld[LATENCY-1];",
        "  assign ap_ready = accept;",
        "  assign ap_idle = ~(ap_start | (|vld));",
    ]
    for p in outs:
        lines += [f"  assign {p.name} = {p.name}_q[LATENCY-1];", f"  assign {p.name}_ap_vld = vld[LATENCY-1];"]
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def dut(
    project_dir: str | Path,
    out_dir: str | Path,
    *,
    latency: int | None = None,
    ii: int | None = None,
    default_latency: int = 1,
    interface: HlsProject | None = None,
) -> Dut:
    """Write the DPI-C shim and SystemVerilog wrapper for an hls4ml project into ``out_dir``; return the DUT.

    Latency (clocks from ``ap_start`` to ``ap_done``) and II: the arguments when given, else the project's
    C-synthesis report when it has one, else ``default_latency`` and 1. ``interface``: the top function's
    interface read by the caller, instead of from the header and float wrapper (``read_project``).
    """
    project = interface if interface is not None else read_project(project_dir)
    wide = [f"{p.name} ({p.type})" for p, _ in [*project.inputs, *project.outputs] if p.type.width > MAX_ELEMENT_BITS]
    if wide:
        raise ProjectError(f"{project.directory}: hls-dpi ports carry elements of at most {MAX_ELEMENT_BITS} bits; "
                           f"{', '.join(wide)} are wider")  # fmt: skip
    read = interface is None or interface.latency is not None  # else the caller left the report to this function
    reported = (project.latency, project.ii) if read else _synth_report(project.directory, project.top)
    latency = latency if latency is not None else reported[0] if reported[0] is not None else default_latency
    ii = ii if ii is not None else reported[1] if reported[1] is not None else 1
    if latency < 1 or ii < 1:
        raise ValueError(f"latency and II must be at least 1 clock, got latency={latency}, II={ii}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    shim = write_text(out_dir / f"{project.top}_dpi.cpp", _shim(project))
    wrapper = write_text(out_dir / f"{project.top}_dpi.sv", _wrapper(project, latency, ii))
    fw = firmware_dir(project.directory)
    ap_types = fw / "ap_types" if (fw / "ap_types").is_dir() else ap_types_include()  # a deployed package has none
    return Dut(
        "hls-dpi",
        project.top,
        [wrapper],
        latency,
        [p for p, _ in project.inputs],
        [p for p, _ in project.outputs],
        ii=ii,
        simulators=("verilator",),
        cpp_sources=[shim],
        cflags=[f"-I{fw}", f"-I{ap_types}", "-std=c++17", "-O2", "-Wno-unused-variable"],
        # the per-layer trace reads the project through its float wrapper; a caller-read interface has its own
        project=project.directory if interface is None else None,
    )
