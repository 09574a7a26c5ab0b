"""l1t.emulator.fixed: types, parsing, errors and the array API (bit-exactness is in test_fixed_vs_ap_types)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import l1t.emulator.fixed as fx
from l1t.emulator.fixed import FixedArray, OMode, QMode, ap_fixed, ap_int, ap_ufixed, ap_uint, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ap_fixed<16,6>", ap_fixed(16, 6)),
        ("ap_fixed<16, 6, AP_RND_CONV, AP_SAT>", ap_fixed(16, 6, "RND_CONV", "SAT")),
        ("fixed<8,3,RND,SAT>", ap_fixed(8, 3, QMode.RND, OMode.SAT)),
        ("ufixed<10,6,RND_CONV,SAT>", ap_ufixed(10, 6, "RND_CONV", "SAT")),
        ("ap_ufixed<10,6,AP_RND_CONV,AP_SAT>", ap_ufixed(10, 6, "RND_CONV", "SAT")),
        ("ap_fixed<12,4,AP_TRN,AP_WRAP,2>", ap_fixed(12, 4, n_bits=2)),
        ("ap_uint<10>", ap_uint(10)),
        ("ap_int<8>", ap_int(8)),
        ("int<64>", ap_int(64)),
        ("ap_fixed<18,-3>", ap_fixed(18, -3)),
    ],
)
def test_parse(text: str, expected: fx.FixedType) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "t",
    [ap_fixed(14, 6, "RND_CONV", "SAT"), ap_fixed(16, 6), ap_ufixed(8, 0, "TRN", "SAT_SYM"), ap_uint(10), ap_int(7)],
)
def test_str_is_the_cpp_spelling_and_round_trips(t: fx.FixedType) -> None:
    assert parse(str(t)) == t


def test_str_spellings() -> None:
    assert str(ap_fixed(14, 6, "RND_CONV", "SAT")) == "ap_fixed<14,6,AP_RND_CONV,AP_SAT>"
    assert str(ap_fixed(16, 6, "TRN", "SAT")) == "ap_fixed<16,6,AP_TRN,AP_SAT>"
    assert str(ap_fixed(16, 6, "RND")) == "ap_fixed<16,6,AP_RND>"
    assert str(ap_ufixed(8, 2, n_bits=1)) == "ap_ufixed<8,2,AP_TRN,AP_WRAP,1>"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ap_fixed<16>", "ap_fixed<16>"),
        ("ap_fixed<16,6,AP_RND_WRONG>", "AP_RND_WRONG"),
        ("ap_fixed<16,6,AP_RND,AP_CLAMP>", "AP_CLAMP"),
        ("float", "'float'"),
        ("ap_fixed<a,b>", "ap_fixed<a,b>"),
        ("ap_uint<128>", "1 <= W <= 127"),
        ("ap_fixed<129,10>", "1 <= W <= 128"),
        ("ap_fixed<0,0>", "out of range"),
        ("ap_int<8,2>", "exactly one argument"),
        ("ap_fixed<8,2,AP_TRN,AP_WRAP,9>", "saturation bits"),
    ],
)
def test_bad_precision_strings_name_the_string(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("<", r"\<").replace(">", r"\>").replace("'", ".")):
        parse(text)


def test_width_limits_are_stated() -> None:
    with pytest.raises(ValueError, match=r"1 <= W <= 127"):
        ap_ufixed(128, 10)
    assert not ap_fixed(64, 10).wide and not ap_uint(63).wide
    assert ap_ufixed(64, 10).wide and ap_fixed(65, 10).wide and ap_fixed(128, 1).wide
    assert fx.mul_type(ap_fixed(40, 10), ap_fixed(30, 5)).wide
    with pytest.raises(ValueError, match="needs a 130-bit signed raw word, past the limit of 128 bits"):
        fx.mul_type(ap_fixed(70, 10), ap_fixed(60, 5))


def test_word_kind_follows_the_type() -> None:
    """int64 words up to 64 bits, Python ints past them; results take their result type's kind."""
    narrow, wide = ap_fixed(40, 10), ap_fixed(100, 30)
    x = fx.from_float([1.5, -2.25], narrow)
    assert x.dtype == np.int64
    y = fx.cast(x, narrow, wide)
    assert y.dtype == object and [int(v) for v in y] == [3 << 69, -9 << 68]
    product, product_t = fx.mul(x, narrow, x, narrow)  # two int64 words, an 80-bit exact product
    assert product_t.width == 80 and product.dtype == object and int(product[1]) == 81 << 56  # 5.0625 * 2**60
    assert fx.cast(y, wide, narrow).dtype == np.int64
    assert list(fx.to_float(y, wide)) == [1.5, -2.25]


def test_nan_is_refused_with_its_position() -> None:
    with pytest.raises(ValueError, match=r"NaN.*index \(1, 0\)"):
        fx.from_float(np.array([[0.0, 1.0], [np.nan, 2.0]]), "ap_fixed<8,3>")


def test_int_cast_from_negative_int_bits_is_refused() -> None:
    with pytest.raises(ValueError, match="undefined"):
        fx.cast(np.array([1]), ap_fixed(8, -2), ap_int(8))


def test_values_against_exact_rationals() -> None:
    """Round-half-even and saturation on a hand-checked grid, independent of any C++."""
    t = ap_fixed(6, 3, "RND_CONV", "SAT")  # LSB 1/8, range [-4, 3.875]
    x = np.array([0.0625, 0.1875, -0.0625, -0.1875, 3.9, 3.95, -4.0, -4.1, 100.0])
    raw = fx.from_float(x, t)
    assert raw.tolist() == [0, 2, 0, -2, 31, 31, -32, -32, 31]
    assert [Fraction(v) for v in fx.to_float(raw, t)] == [Fraction(r, 8) for r in raw.tolist()]


def test_sat_sym_and_wrap() -> None:
    assert fx.from_float([-9.0, -8.0, 9.0], ap_fixed(4, 4, "TRN", "SAT_SYM")).tolist() == [-7, -7, 7]
    assert fx.from_float([9.0, -9.0], ap_fixed(4, 4)).tolist() == [-7, 7]
    assert fx.from_float([17.0], ap_ufixed(4, 4)).tolist() == [1]
    assert fx.from_float([-1.0, 17.0], ap_ufixed(4, 4, "TRN", "SAT_ZERO")).tolist() == [0, 0]


def test_arithmetic_result_types() -> None:
    a, b = ap_fixed(8, 3), ap_ufixed(6, 2)
    assert fx.mul_type(a, b) == ap_fixed(14, 5)
    assert fx.add_type(a, b) == ap_fixed(9, 4)  # I = max(3, 2 + 1) + 1, F = max(5, 4)
    assert fx.sub_type(b, b) == ap_fixed(7, 3)
    assert fx.add_type(ap_uint(8), ap_uint(8)) == ap_uint(9)


def test_fixed_array_ops() -> None:
    t = ap_fixed(8, 3)
    x = FixedArray.from_float([1.5, -2.25, 0.125], t)
    y = FixedArray.from_float([0.5, 0.5, 0.5], t)
    assert (x + y).to_float().tolist() == [2.0, -1.75, 0.625]
    assert (x - y).to_float().tolist() == [1.0, -2.75, -0.375]
    assert (x * y).to_float().tolist() == [0.75, -1.125, 0.0625]
    assert (x << 1).to_float().tolist() == [3.0, -4.5 + 8, 0.25]  # wraps in 8 bits like ap_fixed
    assert (x >> 1).to_float().tolist() == [0.75, -1.125, 0.0625]
    assert (x * y).cast("ap_fixed<6,2,AP_RND,AP_SAT>").to_float().tolist() == [0.75, -1.125, 0.0625]
    assert "ap_fixed<8,3>" in repr(x)


def test_compare_is_exact_for_same_signedness() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(-(2**40), 2**40, 10_000)
    b = rng.integers(-(2**20), 2**20, 10_000)
    b[::4] = a[::4] >> 20  # many equal values
    ta, tb = ap_fixed(48, 10), ap_fixed(28, 8)  # Fa = 38, Fb = 20
    exact = [
        (Fraction(int(x), 2**38) > Fraction(int(y), 2**20)) - (Fraction(int(x), 2**38) < Fraction(int(y), 2**20))
        for x, y in zip(a, b, strict=True)
    ]
    got = fx.compare(a, ta, b, tb)
    assert got.tolist() == exact
    a[::4] = b[::4] << 18
    assert (fx.compare(a[::4], ta, b[::4], tb) == 0).all()


def test_parses_every_spelling_hls4ml_emits() -> None:
    """hls4ml's precision objects, as str() and as the C++ definition its Vivado/Vitis backends write."""
    types = pytest.importorskip("hls4ml.model.types")
    fpga_types = pytest.importorskip("hls4ml.backends.fpga.fpga_types")
    rnd, sat = types.RoundingMode, types.SaturationMode
    cases = [
        (types.FixedPrecisionType(16, 6), ap_fixed(16, 6)),
        (types.FixedPrecisionType(10, 6, False, rnd.RND_CONV, sat.SAT), ap_ufixed(10, 6, "RND_CONV", "SAT")),
        (types.FixedPrecisionType(12, 4, True, rnd.RND, sat.WRAP, 2), ap_fixed(12, 4, "RND", n_bits=2)),
        (types.FixedPrecisionType(18, 8, True, rnd.RND_ZERO, sat.SAT_SYM), ap_fixed(18, 8, "RND_ZERO", "SAT_SYM")),
        (types.IntegerPrecisionType(8), ap_int(8)),
        (types.IntegerPrecisionType(10, False), ap_uint(10)),
    ]
    for precision, expected in cases:
        cpp = fpga_types.APTypeConverter().convert(precision).definition_cpp()
        assert parse(str(precision)) == expected, str(precision)
        assert parse(cpp) == expected, cpp


def test_empty_and_scalar_inputs() -> None:
    for t in (ap_fixed(8, 3), ap_fixed(8, 12), ap_int(8)):
        assert fx.from_float(np.array([]), t).shape == (0,)
        assert fx.from_float(1.5, t).shape == ()
    assert fx.from_float(np.zeros((0, 3)), "ap_fixed<8,3>").shape == (0, 3)


@pytest.mark.parametrize("q", list(QMode))
@pytest.mark.parametrize("o", [*OMode, "wrap_n2"])
@pytest.mark.parametrize("signed", [True, False])
def test_compiled_cast_equals_the_general_conversion(q: QMode, o: OMode | str, signed: bool) -> None:
    """``cast``'s compiled one-pass kernel (scalar shift, words <= 62 bits) gives the bits of the general
    conversion (array shifts, rounding from the dropped bits, then the overflow mode) for every mode, with values
    in range, at the rounding ties and far beyond the target."""
    rng = np.random.default_rng(7)
    src = ap_fixed(40, 20)
    n_bits = 2 if o == "wrap_n2" else 0
    mode = OMode.WRAP if o == "wrap_n2" else o
    for dst in (
        fx.FixedType(10, 4, signed, q, mode, n_bits),
        fx.FixedType(30, 17, signed, q, mode, n_bits),
        fx.FixedType(7, -2, signed, q, mode, n_bits),
    ):
        k = src.frac_bits - dst.frac_bits
        raw = np.concatenate(
            [
                rng.integers(src.raw_min, src.raw_max, 4000),
                rng.integers(-(2**12), 2**12, 4000),
                (rng.integers(-500, 500, 1000) << k) + (1 << (k - 1)),  # exact ties
                [src.raw_min, src.raw_max, 0, -1, 1],
            ]
        )
        np.testing.assert_array_equal(fx.cast(raw, src, dst), fx._convert(raw, k, dst), err_msg=str(dst))


@pytest.mark.parametrize("q", list(QMode))
@pytest.mark.parametrize("o", [*OMode, "wrap_n2"])
@pytest.mark.parametrize("signed", [True, False])
def test_float_words_cast_as_int64_words_do(q: QMode, o: OMode | str, signed: bool) -> None:
    """Float words (integer words held exactly in float32 or float64, as the executor hands them between products
    and activations) give the same words as int64 words through every cast, come back as float words only where
    the target's words fit that float type, and as int64 otherwise."""
    rng = np.random.default_rng(11)
    n_bits = 2 if o == "wrap_n2" else 0
    mode = OMode.WRAP if o == "wrap_n2" else o
    for src, dtype in ((ap_fixed(24, 10), np.float32), (ap_fixed(40, 20), np.float64), (ap_ufixed(20, 4), np.float32)):
        assert fx.float_words_dtype(src) == np.dtype(dtype)
        raw = np.concatenate([rng.integers(src.raw_min, src.raw_max, 3000, endpoint=True), [src.raw_min, 0, 1]])
        for dst in (
            fx.FixedType(10, 4, signed, q, mode, n_bits),
            fx.FixedType(30, 17, signed, q, mode, n_bits),
            fx.FixedType(src.width, src.int_bits, src.signed, q, mode, n_bits),  # the same words
            fx.FixedType(7, -2, signed, q, mode, n_bits),
        ):
            expected = fx.cast(raw, src, dst)
            got = fx.cast(raw.astype(dtype), src, dst)
            np.testing.assert_array_equal(fx.words(got, dst), expected, err_msg=f"{src} -> {dst}")
            fits = fx.float_words_dtype(dst, np.dtype(dtype))
            assert got.dtype.kind == "i" or (fits is not None and got.dtype == fits), (src, dst, got.dtype)
