"""Synthesizable Verilog for an emulator spec: fully parallel, II = 1, one register stage per layer level or a
chosen number of stages (``generate(net, stages=N)``: neighbouring levels share a clock, or output stages are
added).

Ports follow hls4ml's Verilog top: ``ap_clk``, ``ap_rst`` (synchronous, active high), ``ap_start``, ``ap_done``,
``ap_idle``, ``ap_ready``; one packed bus per network input and per output (element 0 in the least significant
bits), each with an ``<name>_ap_vld``; a vector enters when ``ap_start`` and every input valid are high.
The arithmetic is the emulator's: dense sums modulo 2**W of the accumulator (AP_WRAP), zero weights pruned away,
constant multiplications as shift-adds when that is cheaper, and ap_fixed casts (every rounding mode; AP_WRAP,
AP_SAT, AP_SAT_ZERO, AP_SAT_SYM) into each result type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

import l1t.emulator.fixed as fx
from l1t.atomic import write_text
from l1t.emulator.fixed import FixedType, OMode, QMode
from l1t.emulator.nn import X_MINUS_MAX, Layer, Network
from l1t.firmware.cmvm import AdderGraph, CmvmError
from l1t.firmware.cmvm import solve as solve_cmvm
from l1t.firmware.dut import Dut, Port

__all__ = ["CMVM", "DEFAULT_CMVM", "RtlDesign", "UnsupportedRtl", "generate", "generated_ops"]

# constant matrix products: da4ml's adder graphs (the default), or l1t's own multi-operand sums of canonical-signed-
# digit terms
DEFAULT_CMVM = "da4ml"
CMVM = (DEFAULT_CMVM, "csd")


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


@dataclass(frozen=True)
class GraphWord:
    """A word of an adder graph: value = (-1 if neg else 1) * raw * 2**exp, raw the ``width``-bit word in ``sig``
    (two's complement when signed)."""

    sig: str
    width: int
    signed: bool
    exp: int = 0
    neg: bool = False


class Module:
    def __init__(self, cmvm: str = DEFAULT_CMVM, graph_depth: int | None = None) -> None:
        if cmvm not in CMVM:
            raise ValueError(f"cmvm must be one of {', '.join(CMVM)}, got {cmvm!r}")
        if graph_depth is not None and graph_depth < 1:
            raise ValueError(f"graph_depth must be at least 1 adder per clock, got {graph_depth}")
        self.cmvm = cmvm
        self.graph_depth = graph_depth  # adder levels per clock inside an adder graph (None: the whole graph)
        self.layer_clocks = 0  # clocks the registers inside the current layer's adder graphs add
        self.delays: dict[tuple[str, int], str] = {}  # (signal, clocks) -> that signal delayed by so many registers
        self.decls: list[str] = []
        self.comb: list[tuple[str, str]] = []  # (variable, expression) evaluated in order once per clock
        self.regs: list[tuple[str, str]] = []  # (target, source) registered every clock
        self.count = 0
        self.stats = {"multipliers": 0, "shift_add_terms": 0, "pruned_weights": 0, "graph_adders": 0}
        self.extended: dict[tuple[str, int, bool, int], str] = {}

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
        """Sign- or zero-extend (or truncate, modulo 2**width) a raw word of type t to a signed wire (one wire per
        signal, type and width)."""
        key = (sig, t.width, t.signed, width)
        if key not in self.extended:
            if width <= t.width:
                self.extended[key] = self.wire(width, f"{sig}[{width - 1}:0]")
            else:
                fill = f"{sig}[{t.width - 1}]" if t.signed else "1'b0"
                self.extended[key] = self.wire(width, f"{{{{{width - t.width}{{{fill}}}}}, {sig}}}")
        return self.extended[key]

    def cast(self, sig: str, src: FixedType, dst: FixedType) -> str:
        """Raw bits of dst(src value), as l1t.emulator.fixed.cast computes them."""
        if dst.integer or src.integer:
            raise UnsupportedRtl(f"casts to or from ap_int types ({src} -> {dst}) are not generated")
        if dst.o_mode is OMode.WRAP and dst.n_bits:
            raise UnsupportedRtl(f"{dst}: AP_WRAP with saturation bits is not generated")
        k = src.frac_bits - dst.frac_bits
        if k > 0:
            # floor(x / 2**k) plus the rounding's increment, a bit decided by the dropped bits (half: the first of them,
            # rest: any below it), the sign and the kept LSB: an incrementer on the kept bits, not an adder across all
            ew = max(src.width + 1, k + 1)  # every bit index below k + 1 exists, sign-extended
            e = self.extend(sig, src, ew)
            neg, half, lsb = f"{e}[{ew - 1}]", f"{e}[{k - 1}]", f"{e}[{k}]"
            rest = f"(|{e}[{k - 2}:0])" if k > 1 else "1'b0"
            inc = {
                QMode.TRN: None,
                QMode.RND: half,
                QMode.RND_MIN_INF: f"{half} & {rest}",
                QMode.RND_ZERO: f"{half} & ({rest} | {neg})",
                QMode.RND_INF: f"{half} & ({rest} | ~{neg})",
                QMode.RND_CONV: f"{half} & ({rest} | {lsb})",
                QMode.TRN_ZERO: f"{neg} & (|{e}[{k - 1}:0])",
            }[dst.q_mode]
            width = max(ew - k + 1, dst.width + 1)  # the kept bits, the increment's carry, dst's bounds as literals
            up = "" if inc is None else f" + $signed({{1'b0, {inc}}})"
            r = self.wire(width, f"({e} >>> {k}){up}")
        else:
            # the shifted word (plus a sign bit for an unsigned source) and dst's bounds as signed literals
            width = max(src.width - k + 1, dst.width + 1)
            e = self.extend(sig, src, width)
            r = self.wire(width, f"{e} <<< {-k}") if k < 0 else e
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

    def constant(self, raw: int, t: FixedType) -> str:
        """A wire holding the raw word of a constant of type t."""
        return self.wire(t.width, f"{t.width}'d{int(raw) & ((1 << t.width) - 1)}", signed=False, hint="k")

    def add(self, a: str, a_t: FixedType, b: str, b_t: FixedType, op: str = "+") -> tuple[str, FixedType]:
        """Exact ``a + b`` (or ``a - b``) as l1t.emulator.fixed computes it: operands aligned to the result's
        fractional bits; returns (raw word, result type)."""
        rt = fx.add_type(a_t, b_t) if op == "+" else fx.sub_type(a_t, b_t)
        w = rt.width + 1
        ea, eb = self.extend(a, a_t, w), self.extend(b, b_t, w)
        sa, sb = rt.frac_bits - a_t.frac_bits, rt.frac_bits - b_t.frac_bits
        return self.wire(rt.width, f"({ea} <<< {sa}) {op} ({eb} <<< {sb})"), rt

    def mul(self, a: str, a_t: FixedType, b: str, b_t: FixedType) -> tuple[str, FixedType]:
        """Exact ``a * b``; returns (raw word, result type)."""
        rt = fx.mul_type(a_t, b_t)
        self.stats["multipliers"] += 1
        return self.wire(rt.width, f"{self.extend(a, a_t, rt.width)} * {self.extend(b, b_t, rt.width)}"), rt

    def shifted(self, word: GraphWord, shift: int = 0) -> str:
        """The signed term ``+ (raw <<< k)`` or ``- (raw <<< k)`` of a graph word times 2**shift, for a sum of
        signed terms assigned modulo 2**width (each raw word is sign- or zero-extended by the expression itself: no
        wire per extension, which an event-driven simulator would evaluate as one more statement).

        A negative k drops fractional bits, which the caller knows to be zero: an output of a graph that
        ``l1t.firmware.cmvm.solve`` checked computes x @ kernel exactly, an integer for integer words and weights,
        while the intermediate words of a cascade's first stage may keep fractional steps."""
        k = word.exp + shift
        value = f"$signed({word.sig})" if word.signed else f"$signed({{1'b0, {word.sig}}})"
        return f"{'-' if word.neg else '+'} ({value} {'<<<' if k >= 0 else '>>>'} {abs(k)})"

    def delay(self, sig: str, width: int, clocks: int, hint: str = "dly") -> str:
        """The ``width``-bit word ``sig`` ``clocks`` registers later. Each register of a chain is made once per
        signal and delay, so every reader of the same signal at the same delay shares it."""
        out = sig
        for k in range(1, clocks + 1):
            if (sig, k) not in self.delays:
                self.delays[(sig, k)] = self.reg(width, out, hint)
            out = self.delays[(sig, k)]
        return out

    def delayed(self, word: GraphWord, clocks: int) -> GraphWord:
        """A graph word ``clocks`` registers later (``delay``)."""
        return replace(word, sig=self.delay(word.sig, word.width, clocks))

    def adder_graph(self, graph: AdderGraph, xs: list[str | None], x_t: FixedType) -> list[GraphWord | None]:
        """Instance a checked adder graph (``l1t.firmware.cmvm.solve``) on input words ``xs`` of type x_t (None: a
        zero padding cell): one wire per adder, as wide as its exact range; returns the output words (None: zero).

        With ``graph_depth`` D, an adder at level L (inputs are level 0) is computed in clock (L - 1) // D of the
        graph and reads its operands through delay registers from the clocks they were made in; the outputs all
        leave in the graph's last clock S, which ``layer_clocks`` records for the layer."""
        clock = _graph_clocks(graph, self.graph_depth)
        last = max(clock, default=0)
        words: list[GraphWord | None] = [None if x is None else GraphWord(x, x_t.width, x_t.signed) for x in xs]
        for k, node in enumerate(graph.adders, start=graph.n_inputs):
            terms = [(words[t.node], t) for t in node.terms if words[t.node] is not None]
            if not terms:
                words.append(None)
                continue
            self.stats["graph_adders"] += 1
            terms = [(self.delayed(w, clock[k] - clock[t.node]), t) for w, t in terms]
            expr = " ".join(self.shifted(replace(w, neg=w.neg ^ t.neg), t.shift - node.exp) for w, t in terms)
            words.append(GraphWord(self.wire(node.width, expr, hint="da"), node.width, node.signed, node.exp))
        outs: list[GraphWord | None] = []
        for t in graph.outputs:
            w = None if t is None else words[t.node]
            w = None if w is None else self.delayed(w, last - clock[t.node])
            outs.append(None if w is None else replace(w, exp=w.exp + t.shift, neg=w.neg ^ t.neg))
        self.layer_clocks = max(self.layer_clocks, last)
        return outs

    def greater(self, a: str, b: str, t: FixedType) -> str:
        """``a > b`` for two raw words of type t."""
        return f"($signed({a}) > $signed({b}))" if t.signed else f"($unsigned({a}) > $unsigned({b}))"

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


def _graph_clocks(graph: AdderGraph, depth: int | None) -> list[int]:
    """The clock of the graph each node is computed in: (level - 1) // depth for an adder at level L (an adder is
    1 + its deepest operand's level), 0 for the inputs and for every node when ``depth`` is None. It depends on the
    graph alone, so every window of a convolution gets the same schedule."""
    level = [0] * graph.n_inputs
    for node in graph.adders:
        level.append(1 + max(level[t.node] for t in node.terms))
    return [0 if depth is None or lv == 0 else (lv - 1) // depth for lv in level]


def _windows(layer: Layer, in_shape: tuple[int, ...]):
    """Per output position: the flat input indices of its window's cells (None for a padded cell)."""
    a = layer.attrs
    kernel, stride, pads = tuple(a["kernel"]), tuple(a["stride"]), tuple(a["pads"])
    spatial = in_shape[:-1]
    for pos in np.ndindex(*layer.shape[:-1]):
        cells = []
        for offset in np.ndindex(*kernel):
            src = [p * st + o - pads[2 * d] for d, (p, st, o) in enumerate(zip(pos, stride, offset, strict=True))]
            inside = all(0 <= s_ < n for s_, n in zip(src, spatial, strict=True))
            cells.append(int(np.ravel_multi_index(src, spatial)) if inside else None)
        yield cells


def _product_shift(layer: Layer, x_t: FixedType) -> int | None:
    """How far left a product x * w sits in accum_t, when dense_latency's sum is one exact modular sum: accum_t wraps
    and holds every product's fractional bits. None: each product and partial sum is cast (``_mac``)."""
    acc_t = layer.types["accum_t"]
    shift = acc_t.frac_bits - fx.mul_type(x_t, layer.types["weight_t"]).frac_bits
    return shift if acc_t.wraps and shift >= 0 else None


def _narrow(x_t: FixedType, weights: np.ndarray, bias: int, shift: int, acc_t: FixedType) -> int:
    """Width of the exact sum bias + sum(x * w << shift), bounded from the input type and the weights: adders no
    wider than it needs, the result extended to accum_t (the same bits as the modular sum at full width)."""
    x_max = max(-x_t.raw_min, x_t.raw_max)
    bound = (x_max * int(np.abs(weights).sum()) << shift) + abs(bias)
    return min(acc_t.width, bound.bit_length() + 1)


def _in_accum(m: Module, total: str, narrow: int, acc_t: FixedType) -> str:
    return total if narrow == acc_t.width else m.extend(total, fx.ap_fixed(narrow, narrow), acc_t.width)


def _exact_sum(m: Module, terms: list[str], bias: int, narrow: int, acc_t: FixedType, hint: str) -> str:
    return _in_accum(m, m.wire(narrow, " ".join([_lit(bias, narrow), *terms]), hint=hint), narrow, acc_t)


def _biased(m: Module, word: GraphWord | None, shift: int, bias: int, narrow: int, acc_t: FixedType, hint: str) -> str:
    """bias + word * 2**shift in accum_t. The bias's z zero LSBs pass the word's low bits through and the adder spans
    only the bits above them: (bias >> z) + floor(word * 2**shift / 2**z), exact because bias is a multiple of
    2**z (a negated word floors differently, and takes the plain sum)."""
    z = (bias & -bias).bit_length() - 1 if bias else 0
    if word is None or word.neg or z == 0:
        return _exact_sum(m, [] if word is None else [m.shifted(word, shift)], bias, narrow, acc_t, hint)
    high = m.wire(narrow - z, f"{_lit(bias >> z, narrow - z)} {m.shifted(word, shift - z)}", hint=hint)
    low = m.wire(z, m.shifted(word, shift), signed=False)
    return _in_accum(m, m.wire(narrow, f"{{{high}, {low}}}", hint=hint), narrow, acc_t)


def _mac(m: Module, layer: Layer, pairs: list[tuple[str, int]], bias: int, x_t: FixedType, hint: str) -> str:
    """One output of dense_latency: bias plus sum of x * w over ``pairs`` (input signal, raw weight), in accum_t,
    with l1t's own arithmetic (``cmvm="csd"``, or an accumulator that casts).

    A wrapping accumulator that holds every product exactly takes one modular sum of shifted constant products
    (zero weights emit nothing); otherwise each product is cast into accum_t and added with a cast after every
    addition, in input order, as hls4ml's loop does."""
    acc_t, w_t = layer.types["accum_t"], layer.types["weight_t"]
    shift = _product_shift(layer, x_t)
    if shift is not None:
        narrow = _narrow(x_t, np.array([w for _, w in pairs], dtype=np.int64), bias, shift, acc_t)
        terms = [m.constant_product(m.extend(x, x_t, narrow), w, narrow, shift) for x, w in pairs]
        return _exact_sum(m, [t for t in terms if t is not None], bias, narrow, acc_t, hint)
    acc = m.constant(bias, acc_t)
    for x, w in pairs:
        if w == 0:  # a zero product: cast and add leave the accumulator as it is
            m.stats["pruned_weights"] += 1
            continue
        product, product_t = m.mul(x, x_t, m.constant(w, w_t), w_t)
        acc = m.cast(*m.add(acc, acc_t, m.cast(product, product_t, acc_t), acc_t), acc_t)
    return acc


def _kernel_outputs(
    m: Module, layer: Layer, windows: list[list[str | None]], kernel: np.ndarray, x_t: FixedType, hint: str
) -> list[str]:
    """dense_latency of ``kernel`` (inputs x outputs, raw weights) on each window of input signals (None: a zero
    padding cell), in accum_t, then cast to the result type; window by window, output by output.

    Under ``cmvm="da4ml"`` an exact modular sum takes da4ml's adder graph, solved once for the layer and instanced on
    every window, and each output adds the bias to its graph word; otherwise l1t's own sums (``_mac``)."""
    acc_t = layer.types["accum_t"]
    bias = fx.cast(layer.arrays["bias"], layer.types["bias_t"], acc_t)
    shift = _product_shift(layer, x_t)
    graph, narrow = None, []  # the layer's graph and each output's exact-sum width, under da4ml
    if m.cmvm == "da4ml" and shift is not None:
        try:
            graph = solve_cmvm(kernel, x_t)
        except CmvmError as err:
            raise UnsupportedRtl(f"layer {layer.name!r}: {err}; generate it with cmvm='csd'") from err
        narrow = [_narrow(x_t, kernel[:, j], int(bias[j]), shift, acc_t) for j in range(kernel.shape[1])]
    outs = []
    for xs in windows:
        words = m.adder_graph(graph, xs, x_t) if graph is not None else None
        for j in range(kernel.shape[1]):
            if words is None:
                pairs = [(x, int(w)) for x, w in zip(xs, kernel[:, j], strict=True) if x is not None]
                acc = _mac(m, layer, pairs, int(bias[j]), x_t, hint)
            else:
                acc = _biased(m, words[j], shift, int(bias[j]), narrow[j], acc_t, hint)
            outs.append(m.cast(acc, acc_t, layer.result_t))
    return outs


def _dense(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    w = layer.arrays["weight"]
    return _kernel_outputs(m, layer, [list(xs)], w, x_t, f"{_ident(layer.name)}_acc")


def _conv(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    """conv_1d/2d_latency_cl: per output position and filter, the dense arithmetic over its window; padded taps are
    zero and emit no logic. Signals are channels-last, flat in C order, as in hls4ml's io_parallel arrays."""
    channels = in_shape[-1]
    windows = [
        [None if i is None else xs[i * channels + c] for i in cells for c in range(channels)]
        for cells in _windows(layer, in_shape)
    ]
    return _kernel_outputs(m, layer, windows, layer.arrays["weight"], x_t, f"{_ident(layer.name)}_acc")


def _pool(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    """pooling1d_cl / pooling2d_cl: the max of each window (padded cells hold pad_val, a word with only the MSB
    set), or the sum in accum_t cell by cell divided by the cell count (truncation toward zero)."""
    acc_t, channels = layer.types["accum_t"], in_shape[-1]
    outs = []
    for cells in _windows(layer, in_shape):
        for c in range(channels):
            if layer.attrs["mode"] == "max":
                pad = m.constant(x_t.raw_min if x_t.signed else 1 << (x_t.width - 1), x_t) if None in cells else ""
                vals = [xs[i * channels + c] if i is not None else pad for i in cells]
                best = vals[0]
                for v in vals[1:]:
                    best = m.wire(x_t.width, f"{m.greater(v, best, x_t)} ? {v} : {best}", signed=False, hint="max")
                outs.append(m.cast(m.cast(best, x_t, acc_t), acc_t, layer.result_t))
                continue
            acc = m.constant(0, acc_t)
            for i in cells:
                if i is not None:  # a padded cell adds zero: the cast back into accum_t is then the identity
                    total, total_t = m.add(acc, acc_t, xs[i * channels + c], x_t)
                    acc = m.cast(total, total_t, acc_t)
            count = len(cells) if layer.attrs["count_pad"] else sum(i is not None for i in cells)
            num = f"$signed({acc})" if acc_t.signed else f"$unsigned({acc})"
            quotient = m.wire(acc_t.width, f"{num} / {count}", signed=acc_t.signed, hint="avg")
            outs.append(m.cast(quotient, acc_t, layer.result_t))
    return outs


def _batchnorm(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    """nnet::normalize: x * scale + bias per channel (or per element), cast to the result type."""
    scale_t, bias_t = layer.types["scale_t"], layer.types["bias_t"]
    scale, bias = layer.arrays["scale"].reshape(-1), layer.arrays["bias"].reshape(-1)
    per = len(scale)
    outs = []
    for j, x in enumerate(xs):
        k = j % per  # channels last: element j belongs to channel j % n_filt; per element when n_filt is -1
        prod, prod_t = m.mul(x, x_t, m.constant(int(scale[k]), scale_t), scale_t)
        total, total_t = m.add(prod, prod_t, m.constant(int(bias[k]), bias_t), bias_t)
        outs.append(m.cast(total, total_t, layer.result_t))
    return outs


def _rom(m: Module, name: str, values: np.ndarray, t: FixedType) -> str:
    """A ROM of a table's raw words (an initial block; synthesis infers LUT or block ROM)."""
    m.decls.append(f"  reg [{t.width - 1}:0] {name} [0:{len(values) - 1}];")
    m.decls.append("  initial begin")
    m.decls += [f"    {name}[{i}] = {t.width}'d{int(v) & ((1 << t.width) - 1)};" for i, v in enumerate(values)]
    m.decls.append("  end")
    return name


def _tree(values: list[str], op: Callable[[str, str], str]) -> str:
    """nnet::reduce's balanced binary tree (left part: the largest power of two below n)."""
    if len(values) == 1:
        return values[0]
    left = 1 << int(np.floor(np.log2(len(values) - 1)))
    return op(_tree(values[:left], op), _tree(values[left:], op))


def _softmax(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    """softmax_stable / softmax_latency over the last axis, as nnet_activation.h computes it: exp table indexed by
    the top bits of (max - x) (or of x - max, passed as index_t: see ``nn._softmax``) or of x, the sum by
    nnet::reduce in accum_t, the inverse table indexed by the top bits of the sum, the product cast to the result
    type."""
    t = layer.types
    exp_table, inv_table = layer.arrays["exp_table"], layer.arrays["inv_table"]
    exp_t, inv_t, acc_t, n = t["exp_table_t"], t["inv_table_t"], t["accum_t"], in_shape[-1]
    exp_rom = _rom(m, f"{_ident(layer.name)}_exp", exp_table, exp_t)
    inv_rom = _rom(m, f"{_ident(layer.name)}_inv", inv_table, inv_t)

    def top_bits(sig: str, st: FixedType, size: int) -> str:
        bits = int(np.ceil(np.log2(size)))
        return m.wire(bits, f"{sig}[{st.width - 1}:{st.width - bits}]", signed=False, hint="top")

    def bigger(a: str, b: str) -> str:
        return m.wire(x_t.width, f"{m.greater(a, b, x_t)} ? {a} : {b}", signed=False, hint="max")

    def plus(a: str, b: str) -> str:
        return m.cast(*m.add(a, acc_t, b, acc_t), acc_t)

    outs = []
    for start in range(0, len(xs), n):
        row = xs[start : start + n]
        if layer.attrs["implementation"] == "stable":
            x_max, norm_t = _tree(row, bigger), t["inp_norm_t"]
            index_t = t.get("index_t", norm_t)
            pairs = [(x, x_max) if layer.attrs.get("difference") == X_MINUS_MAX else (x_max, x) for x in row]
            norms = [m.cast(*m.add(a, x_t, b, x_t, "-"), norm_t) for a, b in pairs]
            index = [top_bits(m.cast(d, norm_t, index_t), index_t, exp_table.size) for d in norms]
        else:
            index = [top_bits(x, x_t, exp_table.size) for x in row]
        exp_res = [m.cast(m.wire(exp_t.width, f"{exp_rom}[{i}]", signed=False, hint="e"), exp_t, acc_t) for i in index]
        total = m.cast(_tree(exp_res, plus), acc_t, t["inv_inp_t"])
        inv = m.wire(inv_t.width, f"{inv_rom}[{top_bits(total, t['inv_inp_t'], inv_table.size)}]", signed=False)
        outs += [m.cast(*m.mul(e, acc_t, inv, inv_t), layer.result_t) for e in exp_res]
    return outs


def _table(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    """nnet::sigmoid / tanh: the table as a ROM, indexed by ``int(x * size / span) + size / 2`` (truncation toward
    zero, clamped), the entry cast to the result type."""
    table, table_t = layer.arrays["table"], layer.types["table_t"]
    size, span = table.size, 16 if layer.op == "sigmoid" else 8
    den = x_t.frac_bits + int(np.log2(span))
    rom = _rom(m, f"{_ident(layer.name)}_rom", table, table_t)
    w = x_t.width + int(size).bit_length() + max(-den, 0) + 2
    iw = int(size - 1).bit_length()
    outs = []
    for x in xs:
        num = m.wire(w, f"{m.extend(x, x_t, w)} * {_lit(size, w)}", hint="num")
        if den >= 0:
            q = m.wire(w, f"{num}[{w - 1}] ? -((-{num}) >>> {den}) : ({num} >>> {den})", hint="q")
        else:
            q = m.wire(w, f"{num} <<< {-den}", hint="q")
        i = m.wire(w, f"{q} + {_lit((span // 2) * size // span, w)}", hint="i")
        idx = m.wire(
            iw, f"{i}[{w - 1}] ? {iw}'d0 : ({i} > {_lit(size - 1, w)}) ? {iw}'d{size - 1} : {i}[{iw - 1}:0]",
            signed=False, hint="idx",
        )  # fmt: skip
        entry = m.wire(table_t.width, f"{rom}[{idx}]", signed=False, hint="lut")
        outs.append(m.cast(entry, table_t, layer.result_t))
    return outs


def _elementwise(m: Module, layer: Layer, xs: list[str], x_t: FixedType, in_shape: tuple[int, ...]) -> list[str]:
    if layer.op == "leaky_relu":
        alpha_t = layer.types["param_t"]
        alpha = m.constant(int(np.asarray(layer.arrays["alpha"]).reshape(-1)[0]), alpha_t)
        outs = []
        for x in xs:
            scaled, scaled_t = m.mul(alpha, alpha_t, x, x_t)
            positive = m.greater(x, m.constant(0, x_t), x_t)
            keep, leak = m.cast(x, x_t, layer.result_t), m.cast(scaled, scaled_t, layer.result_t)
            outs.append(m.wire(layer.result_t.width, f"{positive} ? {keep} : {leak}", signed=False))
        return outs
    if layer.op == "relu" and x_t.signed:
        # hls4ml's relu: x > 0 ? x cast : 0. The zero comes after the cast, on the result's few bits instead of the
        # accumulator's many; a saturating unsigned result already casts every negative x to 0.
        rt = layer.result_t
        casts = [m.cast(x, x_t, rt) for x in xs]
        if not rt.signed and rt.o_mode is not OMode.WRAP:
            return casts
        return [
            m.wire(rt.width, f"{x}[{x_t.width - 1}] ? {rt.width}'d0 : {c}", signed=False)
            for x, c in zip(xs, casts, strict=True)
        ]
    if layer.op not in ("relu", "linear", "reshape"):  # Flatten/Reshape keep the flat C-order list: only the cast
        raise UnsupportedRtl(f"layer {layer.name!r}: op {layer.op!r} is not generated yet")
    return [m.cast(x, x_t, layer.result_t) for x in xs]


def _merge(
    m: Module, layer: Layer, ins: list[list[str]], types: list[FixedType], shapes: list[tuple[int, ...]]
) -> list[str]:
    """Add / Subtract / Multiply element by element (exact, then cast), or Concatenate along an axis."""
    if layer.op == "concatenate":
        axis = int(layer.attrs["axis"])
        labels = [
            np.stack([np.full(shape, k), np.arange(int(np.prod(shape))).reshape(shape)], axis=-1)
            for k, shape in enumerate(shapes)
        ]
        order = np.concatenate(labels, axis=axis).reshape(-1, 2)  # the spec's axis is one of the event's axes
        return [m.cast(ins[k][e], types[k], layer.result_t) for k, e in order]
    (a, b), (a_t, b_t) = ins, types
    if layer.op == "multiply":
        return [m.cast(*m.mul(x, a_t, y, b_t), layer.result_t) for x, y in zip(a, b, strict=True)]
    op = "+" if layer.op == "add" else "-"
    return [m.cast(*m.add(x, a_t, y, b_t, op), layer.result_t) for x, y in zip(a, b, strict=True)]


_LAYERS = {
    "dense": _dense,
    "conv1d": _conv,
    "conv2d": _conv,
    "pool": _pool,
    "batchnorm": _batchnorm,
    "reshape": _elementwise,
    "relu": _elementwise,
    "leaky_relu": _elementwise,
    "linear": _elementwise,
    "sigmoid": _table,
    "tanh": _table,
    "softmax": _softmax,
}
_MERGES = {"add", "subtract", "multiply", "concatenate"}


def generated_ops() -> frozenset[str]:
    """The emulator ops this generator writes Verilog for; any other op is refused naming the layer."""
    return frozenset(_LAYERS) | _MERGES


def _registered(levels: int, stages: int | None) -> tuple[set[int], int]:
    """Which layer levels (1 = the layers fed by the inputs, up to ``levels`` on the longest path) end in a register
    stage, and how many stages follow the last level, for ``stages`` register stages after the input register
    (None: one per level). Fewer stages than levels merge neighbouring levels into one clock (registers spread
    evenly, the last level always registered); more add output stages, which synthesis retiming can move into the
    logic."""
    if stages is None:
        return set(range(1, levels + 1)), 0
    if stages < 1:
        raise ValueError(f"stages must be at least 1, got {stages}")
    if stages >= levels:
        return set(range(1, levels + 1)), stages - levels
    return {round((k + 1) * levels / stages) for k in range(stages)}, 0


def generate(
    net: Network,
    top: str = "myproject",
    stages: int | None = None,
    cmvm: str = DEFAULT_CMVM,
    graph_depth: int | None = None,
) -> RtlDesign:
    """Verilog for a network with ``stages`` register stages after the input register (None: one per layer), its
    constant matrix products written by ``cmvm`` (one of CMVM); with ``graph_depth``, da4ml's adder graphs also get
    a register after every ``graph_depth`` adder levels (``Module.adder_graph``), which adds clocks to the layers
    they are in. Raises UnsupportedRtl naming the first layer it cannot express."""
    level: dict[str, int] = {name: 0 for name, _, _ in net.inputs}
    for layer in net.layers:
        level[layer.name] = 1 + max(level[src] for src in layer.inputs)
    registered, extra = _registered(max(level[layer.name] for layer in net.layers), stages)
    m = Module(cmvm, graph_depth)
    depth: dict[str, int] = {}
    signals: dict[str, list[str]] = {}  # registered element signals of each node, at its depth
    inputs = [Port(_ident(name), int(np.prod(shape)), t) for name, shape, t in net.inputs]
    shapes = {name: tuple(shape) for name, shape, _ in net.inputs} | {layer.name: layer.shape for layer in net.layers}
    for (name, _, _), port in zip(net.inputs, inputs, strict=True):
        w = port.type.width
        signals[name] = [m.reg(w, f"{port.name}[{j * w + w - 1}:{j * w}]", f"{port.name}_{j}") for j in range(port.n)]
        depth[name] = 1

    def at_depth(name: str, d: int) -> list[str]:
        """A node's signals delayed by registers to pipeline depth d (``Module.delay``)."""
        w, hint = net.types[name].width, f"{_ident(name)}_d"
        return [m.delay(s, w, d - depth[name], hint) for s in signals[name]]

    for layer in net.layers:
        d = max(depth[src] for src in layer.inputs)
        ins = [at_depth(src, d) for src in layer.inputs]
        types, in_shapes = [net.types[src] for src in layer.inputs], [shapes[src] for src in layer.inputs]
        wide = next((t for t in [*types, *layer.types.values()] if t.wide), None)
        if wide is not None:  # not proven in co-simulation: refused rather than written unchecked
            raise UnsupportedRtl(f"layer {layer.name!r}: {wide} is past 64 bits; such layers are not generated")
        if layer.op in _MERGES:
            outs = _merge(m, layer, ins, types, in_shapes)
        elif layer.op not in _LAYERS:
            raise UnsupportedRtl(f"layer {layer.name!r}: op {layer.op!r} is not generated yet")
        elif len(layer.inputs) != 1:
            raise UnsupportedRtl(f"layer {layer.name!r}: op {layer.op!r} takes one input, got {len(layer.inputs)}")
        else:
            m.layer_clocks = 0
            outs = _LAYERS[layer.op](m, layer, ins[0], types[0], in_shapes[0])
            d += m.layer_clocks  # the registers inside its adder graphs
        w = layer.result_t.width
        if level[layer.name] in registered:
            signals[layer.name] = [m.reg(w, o, f"{_ident(layer.name)}_{j}") for j, o in enumerate(outs)]
            depth[layer.name] = d + 1
        else:  # merged into the next layer's clock
            signals[layer.name], depth[layer.name] = outs, d
    latency = max(depth[name] for name in net.output_names) + extra
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
