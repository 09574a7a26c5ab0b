"""Synthesizable Verilog for an emulator spec: fully parallel, one register stage per layer, II = 1.

Ports follow hls4ml's Verilog top: ``ap_clk``, ``ap_rst`` (synchronous, active high), ``ap_start``, ``ap_done``,
``ap_idle``, ``ap_ready``; one packed bus per network input and per output (element 0 in the least significant
bits), each with an ``<name>_ap_vld``; a vector enters when ``ap_start`` and every input valid are high.
The arithmetic is the emulator's: dense sums modulo 2**W of the accumulator (AP_WRAP), zero weights pruned away,
constant multiplications as shift-adds when that is cheaper, and ap_fixed casts (every rounding mode; AP_WRAP,
AP_SAT, AP_SAT_ZERO, AP_SAT_SYM) into each result type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import emulator.fixed as fx
from emulator.fixed import FixedType, OMode, QMode
from emulator.nn import Layer, Network
from firmware.dut import Dut, Port
from l1t.atomic import write_text

__all__ = ["RtlDesign", "UnsupportedRtl", "generate"]


class UnsupportedRtl(ValueError):
    """A layer or type the RTL generator cannot express (yet)."""


@dataclass
class RtlDesign:
    """Generated Verilog with its interface: latency in clock cycles from ap_start to ap_done, II = 1."""

    top: str
    verilog: str
    latency: int
    inputs: list[Port]
    outputs: list[Port]
    stats: dict[str, int] = field(default_factory=dict)

    def write(self, directory: str | Path) -> Path:
        """Write ``<top>.v`` into ``directory`` (atomically) and return its path."""
        return write_text(Path(directory) / f"{self.top}.v", self.verilog)

    def dut(self, directory: str | Path) -> Dut:
        """The design as a co-simulation DUT, its Verilog written into ``directory``."""
        return Dut("rtl", self.top, [self.write(directory)], self.latency, self.inputs, self.outputs)


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _csd(value: int) -> list[tuple[int, int]]:
    """Canonical signed digits of an integer: [(sign, power)], fewest nonzero digits."""
    digits, power = [], 0
    while value:
        if value & 1:
            digit = 2 - (value & 3)  # +1 or -1
            digits.append((digit, power))
            value -= digit
        value >>= 1
        power += 1
    return digits


def _lit(value: int, width: int) -> str:
    """A sized signed Verilog literal."""
    return f"-{width}'sd{-value}" if value < 0 else f"{width}'sd{value}"


class Module:
    def __init__(self) -> None:
        self.decls: list[str] = []
        self.comb: list[tuple[str, str]] = []  # (variable, expression) evaluated in order once per clock
        self.regs: list[tuple[str, str]] = []  # (target, source) registered every clock
        self.count = 0
        self.stats = {"multipliers": 0, "shift_add_terms": 0, "pruned_weights": 0}

    def wire(self, width: int, expr: str, signed: bool = True, hint: str = "w") -> str:
        self.count += 1
        name = f"{hint}_{self.count}"
        self.decls.append(f"  reg {'signed ' if signed else ''}[{width - 1}:0] {name};")
        self.comb.append((name, expr))
        return name

    def reg(self, width: int, source: str, hint: str) -> str:
        self.count += 1
        name = f"{hint}_q{self.count}"
        self.decls.append(f"  reg [{width - 1}:0] {name};")
        self.regs.append((name, source))
        return name

    def extend(self, sig: str, t: FixedType, width: int) -> str:
        """Sign- or zero-extend (or truncate, modulo 2**width) a raw word of type t to a signed wire."""
        if width <= t.width:
            return self.wire(width, f"{sig}[{width - 1}:0]")
        fill = f"{sig}[{t.width - 1}]" if t.signed else "1'b0"
        return self.wire(width, f"{{{{{width - t.width}{{{fill}}}}}, {sig}}}")

    def cast(self, sig: str, src: FixedType, dst: FixedType) -> str:
        """Raw bits of dst(src value), as emulator.fixed.cast computes them."""
        if dst.integer or src.integer:
            raise UnsupportedRtl(f"casts to or from ap_int types ({src} -> {dst}) are not generated")
        if dst.o_mode is OMode.WRAP and dst.n_bits:
            raise UnsupportedRtl(f"{dst}: AP_WRAP with saturation bits is not generated")
        k = src.frac_bits - dst.frac_bits
        width = max(src.width, dst.width) + abs(k) + 3
        e = self.extend(sig, src, width)
        if k > 0:
            h = 1 << (k - 1)
            neg = f"{e}[{width - 1}]"
            extra = {
                QMode.TRN: _lit(0, width),
                QMode.RND: _lit(h, width),
                QMode.RND_MIN_INF: _lit(h - 1, width),
                QMode.RND_ZERO: f"{_lit(h - 1, width)} + $signed({{{width - 1}'d0, {neg}}})",
                QMode.RND_INF: f"{_lit(h, width)} - $signed({{{width - 1}'d0, {neg}}})",
                QMode.RND_CONV: f"{_lit(h - 1, width)} + $signed({{{width - 1}'d0, {e}[{k}]}})",
                QMode.TRN_ZERO: f"({neg} ? {_lit((1 << k) - 1, width)} : {_lit(0, width)})",
            }[dst.q_mode]
            r = self.wire(width, f"({e} + {extra}) >>> {k}")
        elif k < 0:
            r = self.wire(width, f"{e} <<< {-k}")
        else:
            r = e
        lo, hi = fx.saturation_bounds(dst)
        low_bits = f"{r}[{dst.width - 1}:0]"
        if dst.o_mode is OMode.WRAP:
            return self.wire(dst.width, low_bits, signed=False)
        if dst.o_mode is OMode.SAT_ZERO:
            expr = f"(({r} > {_lit(hi, width)}) || ({r} < {_lit(lo, width)})) ? {dst.width}'d0 : {low_bits}"
        else:
            hi_bits = f"{dst.width}'d{hi & ((1 << dst.width) - 1)}"
            lo_bits = f"{dst.width}'d{lo & ((1 << dst.width) - 1)}"
            expr = f"({r} > {_lit(hi, width)}) ? {hi_bits} : (({r} < {_lit(lo, width)}) ? {lo_bits} : {low_bits})"
        return self.wire(dst.width, expr, signed=False)

    def constant_product(self, x: str, w: int, width: int, shift: int) -> str | None:
        """x * w << shift modulo 2**width (x already extended to width); None for a zero weight."""
        if w == 0:
            self.stats["pruned_weights"] += 1
            return None
        digits = _csd(w)
        if len(digits) <= 2:  # cheaper as shift-adds than as a multiplier
            self.stats["shift_add_terms"] += len(digits)
            parts = [f"{'-' if s < 0 else '+'} ({x} <<< {p + shift})" for s, p in digits]
            return " ".join(parts)
        self.stats["multipliers"] += 1
        return f"+ (({x} * {_lit(w, width)}) <<< {shift})"


def _accumulator(layer: Layer, x_t: FixedType) -> tuple[FixedType, int]:
    """accum_t and the left shift aligning products to it; the generated sums need AP_WRAP and no rounding."""
    acc_t = layer.types["accum_t"]
    if acc_t.o_mode is not OMode.WRAP or acc_t.n_bits:
        raise UnsupportedRtl(f"layer {layer.name!r}: accum_t {acc_t} is not wrapping; only AP_WRAP accumulators")
    shift = acc_t.frac_bits - fx.mul_type(x_t, layer.types["weight_t"]).frac_bits
    if shift < 0:
        raise UnsupportedRtl(f"layer {layer.name!r}: accum_t {acc_t} rounds products; not generated")
    return acc_t, shift


def _dense(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    acc_t, shift = _accumulator(layer, x_t)
    w, width = layer.arrays["weight"], acc_t.width
    bias = fx.cast(layer.arrays["bias"], layer.types["bias_t"], acc_t)
    ext = [m.extend(x, x_t, width) for x in xs]
    outs = []
    for j in range(w.shape[1]):
        terms = [m.constant_product(ext[i], int(w[i, j]), width, shift) for i in range(w.shape[0])]
        expr = " ".join([_lit(int(bias[j]), width), *(t for t in terms if t is not None)])
        acc = m.wire(width, expr, hint=f"{_ident(layer.name)}_acc{j}")
        outs.append(m.cast(acc, acc_t, layer.result_t))
    return outs


def _conv(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    """conv_1d/2d_latency_cl: per output position and filter, the dense arithmetic over its window; padded taps are
    zero and emit no logic. Signals are channels-last, flat in C order, as in hls4ml's io_parallel arrays."""
    acc_t, shift = _accumulator(layer, x_t)
    a = layer.attrs
    kernel, stride, pads = tuple(a["kernel"]), tuple(a["stride"]), tuple(a["pads"])
    spatial, channels = in_shape[:-1], in_shape[-1]
    out_pos, n_filt = layer.shape[:-1], layer.shape[-1]
    w, width = layer.arrays["weight"], acc_t.width
    bias = fx.cast(layer.arrays["bias"], layer.types["bias_t"], acc_t)
    ext = [m.extend(x, x_t, width) for x in xs]
    outs = []
    for pos in np.ndindex(*out_pos):
        for f in range(n_filt):
            terms = []
            for k, offset in enumerate(np.ndindex(*kernel)):
                src = [p * st + o - pads[2 * d] for d, (p, st, o) in enumerate(zip(pos, stride, offset, strict=True))]
                if any(not 0 <= s_ < n for s_, n in zip(src, spatial, strict=True)):
                    continue  # zero padding
                base = int(np.ravel_multi_index(src, spatial)) * channels
                for c in range(channels):
                    terms.append(m.constant_product(ext[base + c], int(w[k * channels + c, f]), width, shift))
            expr = " ".join([_lit(int(bias[f]), width), *(t for t in terms if t is not None)])
            acc = m.wire(width, expr, hint=f"{_ident(layer.name)}_acc")
            outs.append(m.cast(acc, acc_t, layer.result_t))
    return outs


def _elementwise(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    if layer.op == "relu":
        if x_t.signed:
            xs = [m.wire(x_t.width, f"{x}[{x_t.width - 1}] ? {x_t.width}'d0 : {x}", signed=False) for x in xs]
    elif layer.op not in ("linear", "reshape"):  # Flatten/Reshape keep the flat C-order list: only the cast
        raise UnsupportedRtl(f"layer {layer.name!r}: op {layer.op!r} is not generated yet")
    return [m.cast(x, x_t, layer.result_t) for x in xs]


_LAYERS = {
    "dense": _dense,
    "conv1d": _conv,
    "conv2d": _conv,
    "reshape": _elementwise,
    "relu": _elementwise,
    "linear": _elementwise,
}


def generate(net: Network, top: str = "myproject") -> RtlDesign:
    """Verilog for a network; raises UnsupportedRtl naming the first layer it cannot express."""
    m = Module()
    depth: dict[str, int] = {}
    signals: dict[str, list[str]] = {}  # registered element signals of each node, at its depth
    delayed: dict[tuple[str, int], list[str]] = {}
    inputs = [Port(_ident(name), int(np.prod(shape)), t) for name, shape, t in net.inputs]
    shapes = {name: tuple(shape) for name, shape, _ in net.inputs} | {layer.name: layer.shape for layer in net.layers}
    for (name, _, _), port in zip(net.inputs, inputs, strict=True):
        w = port.type.width
        signals[name] = [m.reg(w, f"{port.name}[{j * w + w - 1}:{j * w}]", f"{port.name}_{j}") for j in range(port.n)]
        depth[name] = 1

    def at_depth(name: str, d: int) -> list[str]:
        """A node's signals delayed by registers to pipeline depth d."""
        sigs = signals[name]
        for level in range(depth[name] + 1, d + 1):
            key = (name, level)
            if key not in delayed:
                w = net.types[name].width
                delayed[key] = [m.reg(w, s, f"{_ident(name)}_d{level}") for s in sigs]
            sigs = delayed[key]
        return sigs

    for layer in net.layers:
        emit = _LAYERS.get(layer.op)
        if emit is None:
            raise UnsupportedRtl(f"layer {layer.name!r}: op {layer.op!r} is not generated yet")
        if len(layer.inputs) != 1:
            raise UnsupportedRtl(f"layer {layer.name!r}: layers with several inputs are not generated yet")
        src = layer.inputs[0]
        d = depth[src]
        outs = emit(m, layer, at_depth(src, d), net.types[src], shapes[src])
        w = layer.result_t.width
        signals[layer.name] = [m.reg(w, o, f"{_ident(layer.name)}_{j}") for j, o in enumerate(outs)]
        depth[layer.name] = d + 1
    latency = max(depth[name] for name in net.output_names)
    outputs = [Port(_ident(name), len(signals[name]), net.types[name]) for name in net.output_names]
    out_sigs = {name: at_depth(name, latency) for name in net.output_names}
    return RtlDesign(
        top, _assemble(m, top, inputs, outputs, out_sigs, net, latency), latency, inputs, outputs, dict(m.stats)
    )


def _assemble(
    m: Module,
    top: str,
    inputs: list[Port],
    outputs: list[Port],
    out_sigs: dict[str, list[str]],
    net: Network,
    latency: int,
) -> str:
    ports = [
        "input wire ap_clk",
        "input wire ap_rst",
        "input wire ap_start",
        "output wire ap_done",
        "output wire ap_idle",
        "output wire ap_ready",
    ]
    for p in inputs:
        ports += [f"input wire [{p.width - 1}:0] {p.name}", f"input wire {p.name}_ap_vld"]
    for p in outputs:
        ports += [f"output wire [{p.width - 1}:0] {p.name}", f"output wire {p.name}_ap_vld"]
    lines = [
        "`timescale 1ns / 1ps",
        "// Generated by l1t from an emulator spec; do not edit.",
        f"// latency {latency} clocks, II = 1",
        f"module {top} (",
        "  " + ",\n  ".join(ports),
        ");",
    ]
    lines.append(f"  reg [{latency - 1}:0] vld;")
    lines.append(f"  wire accept = ap_start & {' & '.join(f'{p.name}_ap_vld' for p in inputs)};")
    lines += m.decls
    # The combinational logic is computed with blocking assignments inside the clocked block, from the registers'
    # present values: the same netlist as continuous assignments, but an event-driven simulator evaluates each
    # expression once per clock instead of once per changed operand.
    lines.append("  /* verilator lint_off BLKSEQ */")
    lines.append("  always @(posedge ap_clk) begin")
    lines += [f"    {name} = {expr};" for name, expr in m.comb]
    lines.append(
        f"    vld <= ap_rst ? {latency}'d0 : {{vld[{latency - 2}:0], accept}};"
        if latency > 1
        else "    vld <= ap_rst ? 1'b0 : accept;"
    )
    lines += [f"    {target} <= {source};" for target, source in m.regs]
    lines.append("  end")
    lines.append("  /* verilator lint_on BLKSEQ */")
    lines += [
        f"  assign ap_done = vld[{latency - 1}];",
        "  assign ap_ready = accept;",
        "  assign ap_idle = ~(ap_start | (|vld));",
    ]
    for p, name in zip(outputs, net.output_names, strict=True):
        lines.append(f"  assign {p.name} = {{{', '.join(reversed(out_sigs[name]))}}};")
        lines.append(f"  assign {p.name}_ap_vld = vld[{latency - 1}];")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"
