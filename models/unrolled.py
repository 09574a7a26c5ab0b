"""The weights a ResourceUnrolled dense kernel multiplies, read back from the class hls4ml generates for it
(``dense_resource_unrolled_<N>`` in ``nnet_code_gen.h``, hls4ml >= 1.0).

The class is hls4ml's dense template with its multiply loop written out: ``acc`` starts at the biases cast to
accum_t, then ``acc[j] += static_cast<accum_t>(product(data[i], weights[w]));`` statements inside labelled blocks
(one per reuse cycle), then ``res[j] = cast<data_T, res_T, CONFIG_T>(acc[j])``. Everything outside the statements must
be that template token for token (``SKELETON``); each (input, output) pair may be multiplied once. The kernel is then
the matrix whose entry (i, j) is the weight word ``w`` of that statement, zero where no statement reads it, and with
a wrapping accum_t (``sums.order_free``) the layer computes what dense_latency computes with it. Anything else is
refused naming the construct.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["SKELETON", "UnrolledError", "unrolled_kernel"]


class UnrolledError(ValueError):
    """A generated kernel that is not the ResourceUnrolled template."""


SKELETON = """
static void dense(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out],
                  typename CONFIG_T::weight_t weights[CONFIG_T::n_in * CONFIG_T::n_out],
                  typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
    constexpr int block_factor = DIV_ROUNDUP(CONFIG_T::n_in * CONFIG_T::n_out, CONFIG_T::reuse_factor);
    typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
    InitAccum: for (int i = 0; i < CONFIG_T::n_out; i++) { acc[i] = (typename CONFIG_T::accum_t) biases[i]; }
    MULT: {}
    Result: for (int i = 0; i < CONFIG_T::n_out; i++) { res[i] = cast<data_T, res_T, CONFIG_T>(acc[i]); }
}
"""
_PRODUCT = re.compile(
    r"acc\[(\d+)\]\+=static_cast<typenameCONFIG_T::accum_t>\(CONFIG_T::templateproduct<data_T,typenameCONFIG_T::"
    r"weight_t>::product\(data\[(\d+)\],weights\[(\d+)\]\)\);"
)
_CYCLE = re.compile(r"M\d+:\{([^{}]*)\}")


def _tokens(text: str) -> str:
    """C++ without comments, ``#pragma`` lines or any white space (every construct compared here is written by one
    template, in which white space never separates two words that the comparison must keep apart)."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    text = re.sub(r"^\s*#\s*pragma[^\n]*", " ", text, flags=re.M)
    return re.sub(r"\s+", "", text)


def _class_body(code: str, name: str) -> str:
    m = re.search(rf"\bclass\s+{re.escape(name)}\s*:[^{{]*\{{", code)
    if m is None:
        raise UnrolledError(f"no class {name}")
    depth = 0
    for i in range(m.end() - 1, len(code)):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            return code[m.end() : i]
    raise UnrolledError(f"class {name} is not closed")


def unrolled_kernel(code: str, name: str, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(weight index, mask): for each (input, output), the index of the weight word its statement multiplies (0 and
    mask False where none does), from the class ``name`` in ``code`` (the text of ``nnet_code_gen.h``)."""
    body = _tokens(_class_body(code, name))
    body = body.removeprefix("public:")
    mult = re.search(r"MULT:\{((?:M\d+:\{[^{}]*\})*)\}", body)
    if mult is None:
        raise UnrolledError(f"class {name}: no 'MULT: {{ M0: {{ ... }} ... }}' block of products")
    products = "".join(_CYCLE.findall(mult.group(1)))
    rest = _PRODUCT.sub("", products)
    if rest:
        raise UnrolledError(f"class {name}: a statement among its products is not one: {rest[:120]!r}")
    outside = body[: mult.start()] + "MULT:{}" + body[mult.end() :]
    if outside != _tokens(SKELETON):
        raise UnrolledError(f"class {name}: outside its products, the code is not hls4ml's ResourceUnrolled template")
    index = np.zeros((n_in, n_out), dtype=np.int64)
    mask = np.zeros((n_in, n_out), dtype=bool)
    for j, i, w in ((int(a), int(b), int(c)) for a, b, c in _PRODUCT.findall(products)):
        if not (i < n_in and j < n_out and w < n_in * n_out):
            raise UnrolledError(f"class {name}: acc[{j}] += data[{i}] * weights[{w}] is out of the layer's arrays")
        if mask[i, j]:
            raise UnrolledError(f"class {name}: data[{i}] is multiplied into acc[{j}] twice")
        index[i, j], mask[i, j] = w, True
    return index, mask
