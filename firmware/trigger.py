"""Verilog for the AXOL1TL trigger path around the generated network: the GT-object sorter, input scaling, sum
mu^2, thresholds, and a top that chains them (``l1t.emulator.trigger.AxoTrigger`` is its bit-exact reference).

Stages, one register each: sorting and scaling (per object family an odd-even transposition network on hwPt,
stable, keeping the 4 e/gammas, 4 muons and 10 jets of highest hwPt, objects with hwPt <= 0 zeroed; then per
feature ``x - offset`` cast into the encoder's input type, AP_TRN, AP_SAT), the encoder (``l1t.firmware.rtl``, its
own latency), the score (exact squares, exact sum, cast into ``SCORE_T``), and the thresholds (one bit per working
point, the score delayed alongside). Ports follow hls4ml's conventions, so the co-simulation bench drives the top
like any other DUT.
"""

from __future__ import annotations

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator import scores
from l1t.emulator.calo import CICADA_INPUT_SHIFT, REGION_ET_BITS, REGION_WORDS
from l1t.emulator.objects import AXOL1TL_LAYOUT
from l1t.emulator.trigger import AXO_TRIGGER_INPUTS, GT_INPUT_T, AxoTrigger, CicadaTrigger
from l1t.firmware.dut import Port
from l1t.firmware.rtl import DEFAULT_CMVM, Module, RtlDesign, generate

__all__ = ["generate_trigger", "sort_objects"]


def _rz_terms(m: Module, trigger: AxoTrigger, squares: list[str]) -> tuple[list[str], fx.FixedType]:
    """mu_i^2 x exp(-logvar_i) per latent with ``l1t.emulator.scores``' table as a ROM (1024 x 22 bits) and its index
    computed on the raw log sigma^2 word: floor((logvar - min) * size / span), clamped; returns the exact products
    and the type that holds their sum."""
    lv_t, mu_t = trigger.net.types["logvar"], trigger.net.types["mu"]
    table = scores.exp_table()
    size, tw = scores.EXP_TABLE_SIZE, scores.EXP_TABLE_T.width
    offset, k = scores.table_index_terms(lv_t)
    vw = max(lv_t.width, offset.bit_length()) + 2 + max(-k, 0)
    iw = int(size - 1).bit_length()
    m.decls.append(f"  reg [{tw - 1}:0] exp_rom [0:{size - 1}];")
    m.decls.append("  initial begin")
    m.decls += [f"    exp_rom[{i}] = {tw}'d{int(v)};" for i, v in enumerate(table)]
    m.decls.append("  end")
    acc_t = scores.sum_type(mu_t, len(squares), scores.EXP_TABLE_T)
    terms = []
    for j, sq in enumerate(squares):
        lv = m.wire(lv_t.width, f"out_logvar[{(j + 1) * lv_t.width - 1}:{j * lv_t.width}]", hint="lv")
        v = m.wire(vw, f"{m.extend(lv, lv_t, vw)} + {vw}'sd{offset}", hint="lvo")
        full = m.wire(vw, f"{v} >>> {k}" if k >= 0 else f"{v} <<< {-k}", hint="idxf")
        idx = m.wire(
            iw, f"{full}[{vw - 1}] ? {iw}'d0 : ({full} > {vw}'sd{size - 1}) ? {iw}'d{size - 1} : {full}[{iw - 1}:0]",
            signed=False, hint="idx",
        )  # fmt: skip
        e = m.wire(tw, f"exp_rom[{idx}]", signed=False, hint="exp")
        terms.append(m.wire(acc_t.width, f"{sq} * $signed({{1'b0, {e}}})", hint="rz"))
    return terms, acc_t


def sort_objects(m: Module, bus: str, n_in: int, n_out: int, w: int) -> list[str]:
    """The ``n_out`` objects of highest hwPt from ``n_in`` packed objects (three ``w``-bit words each, hwPt lowest),
    as ``l1t.emulator.objects.sort_truncate`` orders them: an odd-even transposition network of adjacent
    compare-exchanges that swap only on a strictly higher hwPt (stable: ties keep input order); then objects with
    hwPt <= 0 are zeroed. Returns 3 * n_out word signals (hwPt, hwEta, hwPhi per object)."""
    objs = [m.wire(3 * w, f"{bus}[{3 * w * (i + 1) - 1}:{3 * w * i}]", signed=False, hint="obj") for i in range(n_in)]
    for stage in range(n_in):
        for i in range(stage % 2, n_in - 1, 2):
            a, b = objs[i], objs[i + 1]
            swap = m.wire(1, f"$signed({b}[{w - 1}:0]) > $signed({a}[{w - 1}:0])", signed=False, hint="gt")
            objs[i] = m.wire(3 * w, f"{swap} ? {b} : {a}", signed=False, hint="hi")
            objs[i + 1] = m.wire(3 * w, f"{swap} ? {a} : {b}", signed=False, hint="lo")
    words = []
    for o in objs[:n_out]:
        kept = m.wire(3 * w, f"($signed({o}[{w - 1}:0]) > 0) ? {o} : {3 * w}'d0", signed=False, hint="top")
        words += [m.wire(w, f"{kept}[{w * (k + 1) - 1}:{w * k}]", signed=False, hint="f") for k in range(3)]
    return words


def _axo_inputs(m: Module, trigger: AxoTrigger) -> list[str]:
    """Stage 1 of the AXOL1TL path: sorting (MET passes through, its hwEta word replaced by 0) and input scaling."""
    w_in = GT_INPUT_T.width
    met = [m.wire(w_in, f"met[{w_in * (k + 1) - 1}:{w_in * k}]", signed=False, hint="met") for k in (0, 2)]
    words = [met[0], m.wire(w_in, f"{w_in}'d0", signed=False, hint="met"), met[1]]
    sizes = dict(AXO_TRIGGER_INPUTS)
    for name, kept in AXOL1TL_LAYOUT[1:]:
        words += sort_objects(m, name, sizes[name], kept, w_in)
    scaled = []
    for j, word in enumerate(words):
        x = m.extend(word, GT_INPUT_T, 18)
        off = int(trigger.offset[j])
        diff = m.wire(18, f"{x} - 18'sd{off}" if off >= 0 else f"{x} + 18'sd{-off}")
        scaled.append(m.reg(trigger.input_t.width, m.cast(diff, trigger.diff_type(j), trigger.input_t), f"s{j}"))
    return scaled


def _axo_score(m: Module, trigger: AxoTrigger, nn: RtlDesign) -> str:
    """Stage 3 of the AXOL1TL path: sum mu^2 or R_z from the encoder's mu (and log sigma^2) buses, in SCORE_T."""
    mu_port = next(p for p in nn.outputs if p.name == "mu")
    mu_t = trigger.net.types["mu"]
    w = mu_t.width
    squares = []
    for j in range(mu_port.n):
        e = m.wire(w, f"out_mu[{j * w + w - 1}:{j * w}]", hint="mu")  # signed
        squares.append(m.wire(2 * w, f"{e} * {e}", hint="sq"))
    if trigger.score_kind == "R_z":
        terms, acc_t = _rz_terms(m, trigger, squares)
    else:
        terms, acc_t = squares, scores.sum_type(mu_t, mu_port.n)
    total = m.wire(acc_t.width, " + ".join(terms), hint="sum")
    return m.reg(scores.SCORE_T.width, m.cast(total, acc_t, scores.SCORE_T), "score")


def _cicada_inputs(m: Module, trigger: CicadaTrigger) -> list[str]:
    """Stage 1 of the CICADA path: each 10-bit region word shifted into the student's input type (hwEt / 2**5)."""
    t, rw = trigger.input_t, REGION_ET_BITS
    k = t.frac_bits - CICADA_INPUT_SHIFT
    pad = t.width - rw - k
    words = []
    for j in range(REGION_WORDS):
        parts = ([f"{pad}'d0"] if pad else []) + [f"regions[{rw * (j + 1) - 1}:{rw * j}]"] + ([f"{k}'d0"] if k else [])
        words.append(m.reg(t.width, "{" + ", ".join(parts) + "}", f"r{j}"))
    return words


def generate_trigger(
    trigger: AxoTrigger | CicadaTrigger,
    top: str | None = None,
    cmvm: str = DEFAULT_CMVM,
    graph_depth: int | None = None,
) -> RtlDesign:
    """Verilog of a chained trigger top (with its network's module in the same file): stage 1 prepares the network
    inputs (AXOL1TL: sort and scale; CICADA: shift), then the network, the score (AXOL1TL: sum mu^2 or R_z; CICADA:
    the network's output), and one bit per working point with the score delayed alongside. ``cmvm`` and
    ``graph_depth``: the network's constant matrix products and the adder levels per clock inside them
    (``l1t.firmware.rtl.generate``)."""
    axo = isinstance(trigger, AxoTrigger)
    top = top or ("axo_trigger" if axo else "cicada_trigger")
    nn = generate(trigger.net, top=f"{top}_nn", cmvm=cmvm, graph_depth=graph_depth)
    m = Module()
    nn_in = _axo_inputs(m, trigger) if axo else _cicada_inputs(m, trigger)
    used = {"mu", "logvar"} if axo and trigger.score_kind == "R_z" else {"mu"} if axo else {nn.outputs[0].name}
    first = next(p.name for p in nn.outputs if p.name in used)
    if axo:
        score = _axo_score(m, trigger, nn)
    else:
        score = m.reg(nn.outputs[0].width, f"out_{first}", "score")
    score_t = trigger.types["score"]
    sw = score_t.width

    def above(t: int) -> str:  # score > t for every raw score word
        if t < score_t.raw_min:
            return "1'b1"
        if t >= score_t.raw_max:
            return "1'b0"
        if score_t.signed:
            return f"($signed({score}) > " + (f"-{sw}'sd{-t})" if t < 0 else f"{sw}'sd{t})")
        return f"({score} > {sw}'d{t})"

    bits = [m.reg(1, above(int(t)), f"bit{i}") for i, t in enumerate(trigger.thresholds)]
    score_out = m.reg(sw, score, "score_out")
    latency = 1 + nn.latency + 2
    n_bits = len(bits)
    ports_in = [Port(name, int(np.prod(shape)), t) for name, shape, t in trigger.inputs]
    in_bus = " , ".join(reversed(nn_in))
    lines = [
        "`timescale 1ns / 1ps",
        f"// Generated by l1t: {'AXOL1TL' if axo else 'CICADA'} trigger path ({_stages(trigger)}); do not edit.",
        f"// latency {latency} clocks, II = 1",
        f"module {top} (",
        "  input wire ap_clk,\n  input wire ap_rst,\n  input wire ap_start,",
        "  output wire ap_done,\n  output wire ap_idle,\n  output wire ap_ready,",
        *[f"  input wire [{p.width - 1}:0] {p.name},\n  input wire {p.name}_ap_vld," for p in ports_in],
        f"  output wire [{sw - 1}:0] score,\n  output wire score_ap_vld,",
        f"  output wire [{n_bits - 1}:0] trigger_bits,\n  output wire trigger_bits_ap_vld",
        ");",
        f"  wire accept = ap_start & {' & '.join(f'{p.name}_ap_vld' for p in ports_in)};",
        "  reg v_scaled, v_score, v_out;",
        *[f"  wire [{p.width - 1}:0] out_{p.name};" for p in nn.outputs if p.name in used],
        "  wire nn_vld;",
        *m.decls,
        f"  {top}_nn network (",
        "    .ap_clk(ap_clk), .ap_rst(ap_rst), .ap_start(v_scaled), .ap_done(), .ap_idle(), .ap_ready(),",
        f"    .{nn.inputs[0].name}({{{in_bus}}}), .{nn.inputs[0].name}_ap_vld(v_scaled),",
        *[
            f"    .{p.name}({'out_' + p.name if p.name in used else ''}), "
            f".{p.name}_ap_vld({'nn_vld' if p.name == first else ''}),"
            for p in nn.outputs
        ],
        "  );",
        "  /* verilator lint_off BLKSEQ */",
        "  always @(posedge ap_clk) begin",
        *[f"    {name} = {expr};" for name, expr in m.comb],
        "    v_scaled <= ap_rst ? 1'b0 : accept;",
        "    v_score <= ap_rst ? 1'b0 : nn_vld;",
        "    v_out <= ap_rst ? 1'b0 : v_score;",
        *[f"    {target} <= {source};" for target, source in m.regs],
        "  end",
        "  /* verilator lint_on BLKSEQ */",
        "  assign ap_done = v_out;",
        "  assign ap_ready = accept;",
        "  assign ap_idle = ~(ap_start | v_scaled | v_score | v_out);",
        f"  assign score = {score_out};",
        "  assign score_ap_vld = v_out;",
        f"  assign trigger_bits = {{{', '.join(reversed(bits))}}};",
        "  assign trigger_bits_ap_vld = v_out;",
        "endmodule",
        "",
    ]
    text = "\n".join(lines).replace(",\n  );", "\n  );")
    outputs = [Port("score", 1, score_t), Port("trigger_bits", n_bits, fx.ap_uint(1))]
    return RtlDesign(top, nn.verilog + "\n" + text, latency, ports_in, outputs, dict(nn.stats))


def _stages(trigger: AxoTrigger | CicadaTrigger) -> str:
    if isinstance(trigger, AxoTrigger):
        return f"sort + scaling -> encoder -> {trigger.score_kind} -> thresholds"
    return "regions shifted -> student -> thresholds"
