"""The constant matrix product of a distributed-arithmetic layer, read back from the adder graph da4ml generated for it
(hls4ml's ``da_codegen``, in the forms its releases wrote: ``ap_fixed<W,I> vK = vA +/- bit_shift<s>(vB);``,
``vK = -bit_shift<s>(inp[j]) + vB;``, ``vA +/- ap_fixed<W,I>(constant)`` with the constant the double literal
truncated to its type, ``vK = model_inp[j];``, and outputs ``out[i] = [ap_fixed<W,I>(][-]bit_shift<s>(vK)[)];``;
the grammar is ``_grammar``).

Every variable is tracked as an exact linear form of the inputs (rational coefficients) and checked, over every input
the input type allows, to fit its declared type without losing a bit: then the graph computes exactly
``x @ kernel + bias`` and the layer's output is that sum cast to result_t. Any other construct, or a declared type that
could lose a bit, is refused naming the line.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from l1t.emulator.fixed import FixedType, from_float

__all__ = ["DaGraphError", "da_matrix"]

_TYPE = r"ap_(u?)fixed<\s*(\d+)\s*,\s*(-?\d+)\s*>"
_LITERAL = r"([-+]?[\d.]+(?:[eE][-+]?\d+)?)"
_SKIP = re.compile(r"^(#pragma.*|//.*|)$")


def _grammar(inp: str, out: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(definition, output, zero output) statements of a graph whose arguments are named ``inp`` and ``out``.

    A term is ``[-] bit_shift<s>(atom)``, ``[-] atom`` or ``TYPE(literal)``, an atom ``vK`` or ``inp[j]``; a
    definition ``TYPE vK = term [+|- term];`` (the second term unsigned), an output ``out[i] = [TYPE(] term [)];``."""
    atom = rf"v(\d+)|{re.escape(inp)}\[(\d+)\]"
    term = rf"(-?)\s*(?:bit_shift<\s*(-?\d+)\s*>\(\s*(?:{atom})\s*\)|(?:{atom})|{_TYPE}\(\s*{_LITERAL}\s*\))"
    second = term.replace("(-?)", "()", 1)
    definition = re.compile(rf"^{_TYPE}\s+v(\d+)\s*=\s*{term}(?:\s*([+-])\s*{second})?\s*;$")
    output = re.compile(rf"^{re.escape(out)}\[(\d+)\]\s*=\s*(?:{_TYPE}\()?\s*{term}\s*\)?\s*;$")
    zero = re.compile(rf"^{re.escape(out)}\[(\d+)\]\s*=\s*0\s*;$")
    return definition, output, zero


class DaGraphError(ValueError):
    """An adder graph l1t does not read exactly; the message names the function, line and construct."""


class _Form:
    """sum c_j x_j + b with exact rational coefficients."""

    def __init__(self, coef: dict[int, Fraction], const: Fraction = Fraction(0)) -> None:
        self.coef, self.const = coef, const

    def combine(self, other: _Form, sign: int, scale: Fraction) -> _Form:
        coef = dict(self.coef)
        for j, c in other.coef.items():
            coef[j] = coef.get(j, Fraction(0)) + sign * scale * c
        return _Form({j: c for j, c in coef.items() if c}, self.const + sign * scale * other.const)

    def scaled(self, scale: Fraction) -> _Form:
        return _Form({j: c * scale for j, c in self.coef.items()}, self.const * scale)


def _fits(form: _Form, t: tuple[bool, int, int], x_t: FixedType, where: str) -> None:
    """Refuse unless every value of ``form`` over the input type's range is exact in ``t = (signed, W, I)``."""
    signed, width, int_bits = t
    frac = width - int_bits
    lo_x, hi_x = Fraction(x_t.raw_min, 1 << x_t.frac_bits), Fraction(x_t.raw_max, 1 << x_t.frac_bits)
    lo = form.const + sum(min(c * lo_x, c * hi_x) for c in form.coef.values())
    hi = form.const + sum(max(c * lo_x, c * hi_x) for c in form.coef.values())
    step = Fraction(1, 1 << frac) if frac >= 0 else Fraction(1 << -frac)
    t_lo = -(Fraction(1 << (width - 1)) * step) if signed else Fraction(0)
    t_hi = (Fraction((1 << (width - 1 if signed else width)) - 1)) * step
    input_step = Fraction(1, 1 << x_t.frac_bits) if x_t.frac_bits >= 0 else Fraction(1 << -x_t.frac_bits)
    resolution_ok = all((c * input_step / step).denominator == 1 for c in form.coef.values())
    if lo < t_lo or hi > t_hi or not resolution_ok or (form.const / step).denominator != 1:
        kind = f"ap_{'' if signed else 'u'}fixed<{width},{int_bits}>"
        raise DaGraphError(f"{where}: {kind} does not hold every value in [{float(lo)}, {float(hi)}] exactly")


def _literal(text: str, t: FixedType, where: str) -> Fraction:
    """The value of ``t(<double literal>)``: the literal read as a double, then truncated to t's resolution as
    ap_fixed's default quantization does; a literal outside t's range (which would wrap) is refused."""
    value = float(text)
    if not t.raw_min * t.lsb <= value <= t.raw_max * t.lsb:
        raise DaGraphError(f"{where}: constant {text} is outside the range of {t}")
    raw = int(from_float(value, t))
    return Fraction(raw) * (Fraction(1, 1 << t.frac_bits) if t.frac_bits >= 0 else Fraction(1 << -t.frac_bits))


def _term(forms: dict[int, _Form], groups: tuple, x_t_where: str) -> _Form:
    """The exact linear form of one matched term (``_grammar``: sign, shift, shifted var or input, var or input,
    constant type and literal)."""
    negate, shift, s_var, s_inp, var, inp, c_unsigned, c_width, c_int, literal = groups
    if literal is not None:
        form = _Form({}, _literal(literal, FixedType(int(c_width), int(c_int), not c_unsigned), x_t_where))
    else:
        v, j = (s_var, s_inp) if shift is not None else (var, inp)
        if j is not None:
            form = _Form({int(j): Fraction(1)})
        elif int(v) in forms:
            form = forms[int(v)]
        else:
            raise DaGraphError(f"{x_t_where}: v{v} is used before it is defined")
        if shift is not None:
            form = form.scaled(Fraction(2) ** int(shift))
    return form.scaled(Fraction(-1)) if negate else form


_TERM_GROUPS = 10  # the groups one term of ``_grammar`` has


def da_matrix(source: str, function: str, x_t: FixedType, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact (kernel, bias) of ``function`` in ``source`` as rationals in object arrays, (n_in, n_out) and
    (n_out,), after checking every intermediate and output type is lossless for inputs of type ``x_t``."""
    found = re.search(rf"void\s+{re.escape(function)}\s*\(([^)]*)\)\s*\{{(.*?)\n\}}", source, re.S)
    if found is None:
        raise DaGraphError(f"{function}: not found in the generated code")
    names = re.findall(r"(\w+)\s*\[[^\]]*\]", found.group(1))
    if len(names) != 2:
        raise DaGraphError(f"{function}: arguments {found.group(1)!r} are not (input[n], output[m])")
    definition, output, zero = _grammar(*names)
    forms: dict[int, _Form] = {}
    outputs: dict[int, _Form] = {}
    for number, raw in enumerate(found.group(2).splitlines(), 1):
        line = raw.split("//")[0].strip()
        where = f"{function}, line {number} {line!r}"
        if _SKIP.match(line):
            continue
        if m := definition.match(line):
            unsigned, width, int_bits, var = m.groups()[:4]
            groups = m.groups()
            first, op, second = groups[4 : 4 + _TERM_GROUPS], groups[4 + _TERM_GROUPS], groups[5 + _TERM_GROUPS :]
            form = _term(forms, first, where)
            if op is not None:
                form = form.combine(_term(forms, second, where), 1 if op == "+" else -1, Fraction(1))
            forms[int(var)] = form
            _fits(form, (not unsigned, int(width), int(int_bits)), x_t, where)
        elif m := output.match(line):
            i, unsigned, width, int_bits = m.groups()[:4]
            value = _term(forms, m.groups()[4:], where)
            if width is not None:
                _fits(value, (not unsigned, int(width), int(int_bits)), x_t, where)
            outputs[int(i)] = value
        elif m := zero.match(line):
            outputs[int(m.group(1))] = _Form({})
        else:
            raise DaGraphError(f"{where}: construct not understood")
    missing = sorted(set(range(n_out)) - set(outputs))
    if missing or any(j >= n_in for form in outputs.values() for j in form.coef):
        raise DaGraphError(f"{function}: outputs {missing} missing or an input index beyond {n_in}")
    kernel = np.zeros((n_in, n_out), dtype=object)
    kernel[:] = Fraction(0)
    bias = np.array([outputs[i].const for i in range(n_out)], dtype=object)
    for i, form in outputs.items():
        for j, c in form.coef.items():
            kernel[j, i] = c
    return kernel, bias
