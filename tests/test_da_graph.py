"""Reading a distributed-arithmetic adder graph back into its exact matrix, and refusing one that could lose a bit."""

from __future__ import annotations

from fractions import Fraction

import pytest

import l1t.emulator.fixed as fx
from l1t.models.da_graph import DaGraphError, da_matrix

X_T = fx.ap_fixed(8, 3)
GRAPH = """
void dense_da_7(inp_t model_inp[2], out_t model_out[2]) { // ap_fixed<8,3> -> ap_fixed<12,6>
    #pragma HLS INLINE

    ap_fixed<8,3> v0 = model_inp[0]; // 0.0
    ap_fixed<8,3> v1 = model_inp[1]; // 0.0
    ap_fixed<10,5> v2 = v0 - bit_shift<1>(v1); // 1.0
    ap_fixed<12,6> v3 = v2 + ap_ufixed<3,1>(1.25); // 2.0

    model_out[0] = ap_fixed<12,6>(-bit_shift<-1>(v3));
    model_out[1] = 0;
}
"""


def test_the_graph_is_read_as_its_exact_matrix() -> None:
    kernel, bias = da_matrix(GRAPH, "dense_da_7", X_T, 2, 2)
    # out0 = -(x0 - 2 x1 + 1.25) / 2, out1 = 0
    assert kernel[:, 0].tolist() == [Fraction(-1, 2), Fraction(1)] and kernel[:, 1].tolist() == [0, 0]
    assert bias.tolist() == [Fraction(-5, 8), 0]


def test_a_constant_is_its_literal_truncated_to_its_type() -> None:
    """``ap_ufixed<2,1>(1.25)`` is 1.0 in C++ (the default quantization truncates): the graph's bias is that value."""
    _, bias = da_matrix(GRAPH.replace("ap_ufixed<3,1>(1.25)", "ap_ufixed<2,1>(1.25)"), "dense_da_7", X_T, 2, 2)
    assert bias.tolist() == [Fraction(-1, 2), 0]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ap_fixed<10,5> v2", "ap_fixed<10,4> v2", r"line 6 .*ap_fixed<10,4> does not hold every value"),
        ("ap_fixed<10,5> v2", "ap_fixed<9,5> v2", r"line 6 .*ap_fixed<9,5> does not hold every value"),
        (
            "ap_ufixed<3,1>(1.25)",
            "ap_ufixed<3,1>(2.5)",
            r"line 7 .*constant 2.5 is outside the range of ap_ufixed<3,1>",
        ),
        ("v0 - bit_shift<1>(v1)", "v0 * v1", r"line 6 .*construct not understood"),
        ("v2 + ap_ufixed", "v9 + ap_ufixed", r"line 7 .*v9 is used before it is defined"),
    ],
)
def test_a_lossy_or_unknown_line_is_refused_by_name(old: str, new: str, message: str) -> None:
    with pytest.raises(DaGraphError, match=message):
        da_matrix(GRAPH.replace(old, new), "dense_da_7", X_T, 2, 2)


# the form later da4ml code generation writes (deployed AXOL1TL v6-style packages): inputs read in place, a unary
# minus on the first term, the arguments named inp/out
GRAPH_INLINE = """
void dense_da_3(inp_t inp[2], out_t out[2]) {
    #pragma HLS INLINE
    // ========================== Latency: 1 ==========================
    ap_fixed<11, 6> v0 = -bit_shift<1>(inp[1]) - inp[0];
    ap_fixed<12, 6> v1 = -v0 + ap_ufixed<3, 1>(1.25);
    ap_fixed<11, 6> v2 = bit_shift<-1>(v1) - bit_shift<-1>(inp[0]);
    out[0] = v2;
    out[1] = -v0;
}
"""


def test_the_inline_form_is_read_as_its_exact_matrix() -> None:
    kernel, bias = da_matrix(GRAPH_INLINE, "dense_da_3", X_T, 2, 2)
    # v0 = -2 x1 - x0; out0 = (2 x1 + x0 + 1.25) / 2 - x0 / 2 = x1 + 0.625; out1 = x0 + 2 x1
    assert kernel[:, 0].tolist() == [0, Fraction(1)] and kernel[:, 1].tolist() == [Fraction(1), Fraction(2)]
    assert bias.tolist() == [Fraction(5, 8), 0]


def test_the_inline_form_refuses_a_lossy_type_and_a_double_sign() -> None:
    with pytest.raises(DaGraphError, match=r"line 4 .*ap_fixed<10,6> does not hold every value"):
        da_matrix(GRAPH_INLINE.replace("ap_fixed<11, 6> v0", "ap_fixed<10, 6> v0"), "dense_da_3", X_T, 2, 2)
    with pytest.raises(DaGraphError, match=r"line 4 .*construct not understood"):
        da_matrix(GRAPH_INLINE.replace("- inp[0];", "- -inp[0];"), "dense_da_3", X_T, 2, 2)
