"""Spec validation and clear errors (no hls4ml needed), plus the executor on a hand-written spec."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import l1t.emulator.fixed as fx
from l1t.emulator import nn
from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network, SpecError, compare_traces

SPEC = {
    "format": SPEC_FORMAT,
    "version": SPEC_VERSION,
    "inputs": [{"name": "x", "shape": [3], "type": "ap_fixed<8,3>"}],
    "outputs": ["relu"],
    "layers": [
        {
            "name": "fc",
            "op": "dense",
            "inputs": ["x"],
            "shape": [2],
            "types": {
                "result_t": "ap_fixed<12,6>",
                "weight_t": "ap_fixed<4,2>",
                "bias_t": "ap_fixed<4,2>",
                "accum_t": "ap_fixed<12,6>",
            },
            "arrays": {"weight": "fc/weight", "bias": "fc/bias"},
        },
        {
            "name": "relu",
            "op": "relu",
            "inputs": ["fc"],
            "shape": [2],
            "types": {"result_t": "ap_ufixed<6,3,AP_RND,AP_SAT>"},
        },
    ],
}
ARRAYS = {"fc/weight": np.array([[1, -2], [3, 0], [-8, 7]]), "fc/bias": np.array([2, -1])}


def test_hand_computed_dense_relu() -> None:
    net = Network(SPEC, ARRAYS)
    x = np.array([[1.0, 0.5, -0.25], [3.0, -4.0, 0.125]])
    # weights (LSB 1/4): [[.25,-.5],[.75,0],[-2,1.75]], bias [.5,-.25]
    z = x @ np.array([[0.25, -0.5], [0.75, 0.0], [-2.0, 1.75]]) + np.array([0.5, -0.25])
    expected = np.clip(np.floor(np.maximum(z, 0) * 8 + 0.5) / 8, 0, 7.875)
    np.testing.assert_array_equal(net.run_float(x)["relu"], expected)


def test_trace_replays_given_layer_outputs() -> None:
    """``trace(replay=...)``: a layer reads the given words of the layers it reads instead of the emulator's own, so
    each layer is judged on its own inputs (how ``tests/projects/prove.py`` proves one layer at a time)."""
    net = Network(SPEC, ARRAYS)
    words = {"x": np.array([[8, 4, -2], [24, -32, 1]])}
    own = net.trace(words, raw=True)
    given = np.array([[-64, 40], [100, -1]])  # fc's words as another implementation might have them
    replayed = net.trace(words, raw=True, replay={"fc": given})
    np.testing.assert_array_equal(replayed["fc"], own["fc"])  # a replayed layer is still computed itself
    expected = fx.cast(np.maximum(given, 0), fx.parse("ap_fixed<12,6>"), fx.parse("ap_ufixed<6,3,AP_RND,AP_SAT>"))
    np.testing.assert_array_equal(replayed["relu"], expected)
    assert not np.array_equal(replayed["relu"], own["relu"])


def test_round_trip_through_files(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    np.savez(tmp_path / "arrays.npz", **ARRAYS)
    x = np.array([[1.0, 0.5, -0.25]])
    np.testing.assert_array_equal(Network.load(tmp_path).run(x)["relu"], Network(SPEC, ARRAYS).run(x)["relu"])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(version=99), "spec version 99"),
        (lambda s: s.update(format="other"), "not an l1t network spec"),
        (lambda s: s["layers"][1].update(op="gelu"), "layer 'relu' has op 'gelu'.*not support"),
        (lambda s: s["layers"][1].update(inputs=["nope"]), "unknown input"),
        (lambda s: s["layers"][0]["types"].update(accum_t="ap_fixed<12>"), "layer 'fc'.*ap_fixed<12>"),
        (lambda s: s["layers"][0].pop("shape"), "missing or bad field 'shape'"),
        (lambda s: s.update(outputs=["fc2"]), "output 'fc2'"),
        (lambda s: s["layers"][0]["types"].update(weight_t="ap_fixed<124,2>"), "layer 'fc'.*132-bit"),
    ],
)
def test_bad_specs_name_what_is_wrong(mutate, message: str) -> None:
    spec = copy.deepcopy(SPEC)
    mutate(spec)
    with pytest.raises(SpecError, match=message):
        Network(spec, ARRAYS)


CONCAT = {
    "format": SPEC_FORMAT,
    "version": SPEC_VERSION,
    "inputs": [{"name": n, "shape": [2, 3], "type": "ap_int<8>"} for n in "ab"],
    "outputs": ["cat"],
    "layers": [
        {"name": "cat", "op": "concatenate", "inputs": ["a", "b"], "shape": [4, 3], "types": {"result_t": "ap_int<8>"}}
    ],
}


@pytest.mark.parametrize(("version", "axis", "numpy_axis"), [(2, 0, 1), (2, 1, 2), (1, 1, 1), (1, 2, 2), (1, -1, 2)])
def test_concatenate_axis_and_version_1_specs(version: int, axis: int, numpy_axis: int) -> None:
    """Version 2 stores the event's axis; version 1 specs (the Keras axis, batch counted) still load correctly."""
    shape = [4, 3] if numpy_axis == 1 else [2, 6]
    spec = copy.deepcopy(CONCAT) | {"version": version}
    spec["layers"][0].update(shape=shape, attrs={"axis": axis})
    a, b = np.arange(12).reshape(2, 2, 3), -np.arange(12).reshape(2, 2, 3)
    out = Network(spec, {}).run({"a": a, "b": b}, raw=True)["cat"]
    np.testing.assert_array_equal(out, np.concatenate([a, b], axis=numpy_axis).reshape(2, -1))


@pytest.mark.parametrize("axis", [2, -1, 1.0])
def test_concatenate_axis_outside_the_event_is_refused(axis: object) -> None:
    spec = copy.deepcopy(CONCAT)
    spec["layers"][0]["attrs"] = {"axis": axis}
    with pytest.raises(SpecError, match="layer 'cat': concatenate axis"):
        Network(spec, {})


def test_missing_array_and_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="needs array 'fc/bias'"):
        Network(SPEC, {"fc/weight": ARRAYS["fc/weight"]})
    with pytest.raises(SpecError, match=r"missing spec\.json"):
        Network.load(tmp_path)
    (tmp_path / "spec.json").write_text("{not json")
    np.savez(tmp_path / "arrays.npz", **ARRAYS)
    with pytest.raises(SpecError, match="invalid JSON"):
        Network.load(tmp_path)


def test_bad_inputs() -> None:
    net = Network(SPEC, ARRAYS)
    with pytest.raises(ValueError, match="shape"):
        net.run(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        net.run(np.array([[0.0, np.nan, 1.0]]))


def test_compare_traces_names_first_layer_and_neuron() -> None:
    a = {"fc": np.zeros((3, 2), dtype=np.int64), "relu": np.zeros((3, 2), dtype=np.int64)}
    b = copy.deepcopy(a)
    b["relu"][2, 1] = 5
    b["fc"][1, 0] = -1
    diff = compare_traces(a, b, ["fc", "relu"])
    assert diff is not None and (diff.layer, diff.event, diff.neuron) == ("fc", 1, 0)
    assert "layer 'fc', neuron 0, event 1" in str(diff)
    assert compare_traces(a, copy.deepcopy(a), ["fc", "relu"]) is None


def test_integer_matmul_paths_agree() -> None:
    """float32, float64 and int64 paths of the exact dot product give the same integers."""
    from l1t.emulator.nn import integer_matmul

    rng = np.random.default_rng(0)
    w = rng.integers(-(2**7), 2**7, (40, 5))
    for t in (fx.ap_fixed(8, 3), fx.ap_fixed(30, 10), fx.ap_fixed(50, 10), fx.ap_fixed(62, 10)):
        x = rng.integers(t.raw_min, t.raw_max, (100, 40), endpoint=True)
        np.testing.assert_array_equal(integer_matmul(x, w)[0], x @ w)  # int64 wraps modulo 2**64 on both sides


@pytest.mark.parametrize(
    ("spatial", "kernel", "stride", "pads", "channels"),
    [
        ((18, 14), (3, 3), (2, 2), (0, 0, 0, 0), 1),  # CICADA-like
        ((9, 11), (2, 3), (1, 2), (1, 0, 2, 1), 2),  # non-square kernel, mixed strides, asymmetric padding
        ((7, 7), (1, 1), (1, 1), (0, 0, 0, 0), 3),
        ((12,), (3,), (1,), (1, 1), 2),  # conv1d 'same'
        ((13,), (4,), (3,), (0, 0), 1),
    ],
)
@pytest.mark.parametrize("words_dtype", [np.int16, np.int32, np.int64])
@pytest.mark.parametrize("acc_t", [fx.ap_fixed(40, 20), fx.ap_fixed(72, 32)])  # float32 BLAS; Python ints
@pytest.mark.parametrize(("taps", "pruned"), [(True, False), (True, True), (False, False)])
def test_exact_convolution_equals_window_sums(
    spatial, kernel, stride, pads, channels, words_dtype, acc_t, taps, pruned, monkeypatch
) -> None:  # fmt: skip
    """The exact-path convolution, as tap sums over blocks of events or as a band matrix over whole input rows,
    equals the plain sum over each window of every product, computed here from the definition, for input words of
    any integer width (narrow ones are read as they are), a kernel with zero weights, and an accumulator past 64
    bits."""
    monkeypatch.setattr(nn, "BAND_COLUMNS", 10**9 if taps else 0)
    monkeypatch.setattr(nn, "BAND_OVER_TAPS", 0)
    rng = np.random.default_rng(len(spatial) * 100 + kernel[0])
    filters = 3
    padded = [n + pads[2 * d] + pads[2 * d + 1] for d, n in enumerate(spatial)]
    out = [(p - k) // s + 1 for p, k, s in zip(padded, kernel, stride, strict=True)]
    w = rng.integers(-128, 128, (int(np.prod(kernel)) * channels, filters))
    if pruned:
        w[rng.random(w.shape) < 0.6] = 0
    bias = rng.integers(-8, 8, filters)
    x_t = fx.ap_fixed(12, 4)
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "x", "shape": [*spatial, channels], "type": str(x_t)}],
        "outputs": ["conv"],
        "layers": [
            {
                "name": "conv",
                "op": f"conv{len(spatial)}d",
                "inputs": ["x"],
                "shape": [*out, filters],
                "types": {
                    "result_t": str(acc_t),
                    "weight_t": "ap_fixed<8,2>",
                    "bias_t": "ap_fixed<8,2>",
                    "accum_t": str(acc_t),
                },
                "attrs": {"kernel": list(kernel), "stride": list(stride), "pads": list(pads)},
                "arrays": {"weight": "w", "bias": "b"},
            }
        ],
    }
    n_events = 2 * nn.TAP_BLOCK + 5  # whole blocks of events and a part of one
    x = rng.integers(x_t.raw_min, x_t.raw_max, (n_events, *spatial, channels), endpoint=True)
    got = Network(spec, {"w": w, "b": bias}).trace({"x": x.astype(words_dtype)}, raw=True)["conv"]
    xp = np.pad(x, [(0, 0)] + [(pads[2 * d], pads[2 * d + 1]) for d in range(len(spatial))] + [(0, 0)])
    wk = w.reshape(*kernel, channels, filters)
    expected = np.zeros((n_events, *out, filters), dtype=np.int64)
    for pos in np.ndindex(*out):
        window = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, stride, kernel, strict=True))
        patch = xp[(slice(None), *window)]  # (N, *kernel, C)
        expected[(slice(None), *pos)] = np.tensordot(patch, wk, axes=len(kernel) + 1)
    # products have LSB 2**-14 (x 2**-8, weights 2**-6), the bias 2**-6, accum_t 2**-20
    expected = (expected << (acc_t.frac_bits - 14)) + (bias << (acc_t.frac_bits - 6))
    np.testing.assert_array_equal(got, expected)


def test_allocator_tuning_is_optional(monkeypatch) -> None:
    """The glibc tuning is skipped when the user disables it or set malloc's own variables; else it applies."""
    from l1t.emulator.allocator import keep_large_blocks

    tune = keep_large_blocks.__wrapped__
    monkeypatch.setenv("L1T_MALLOPT", "0")
    assert tune() is False
    monkeypatch.delenv("L1T_MALLOPT")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert tune() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    import platform

    assert tune() is (platform.libc_ver()[0] == "glibc")


def test_serial_blas_limits_inside_and_restores(monkeypatch) -> None:
    """Inside ``serial_blas`` every BLAS library runs one thread; outside, the process's setting is back; with
    L1T_BLAS_THREADS=0 nothing changes."""
    from threadpoolctl import threadpool_info

    from l1t.emulator.blas import serial_blas

    def blas_threads() -> list[int]:
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    assert before, "numpy's BLAS is loaded"
    with serial_blas():
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
    monkeypatch.setenv("L1T_BLAS_THREADS", "0")
    with serial_blas():
        assert blas_threads() == before


def _normalize_spec(size: int, n_filt: int) -> dict:
    return {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "x", "shape": [size], "type": "ap_fixed<8,4>"}],
        "outputs": ["bn"],
        "layers": [
            {
                "name": "bn",
                "op": "batchnorm",
                "inputs": ["x"],
                "shape": [size],
                "types": {"result_t": "ap_fixed<20,8>", "scale_t": "ap_fixed<8,4>", "bias_t": "ap_fixed<8,4>"},
                "attrs": {"n_filt": n_filt},
                "arrays": {"scale": "s", "bias": "b"},
            }
        ],
    }


def test_normalize_over_a_flat_array_of_whole_pixels_takes_its_scales_in_turn() -> None:
    """nnet::normalize indexes its scales by ``i % n_filt``: over a flat input of 4 pixels of 3 features, element i
    takes scale and bias i % 3; a size that is not whole pixels is refused at load."""
    scale, bias = np.array([16, -32, 48]), np.array([1, 2, 3])  # raw words, 4 fraction bits each
    x = np.arange(12).reshape(1, 12) - 6
    got = Network(_normalize_spec(12, 3), {"s": scale, "b": bias}).run({"x": x}, raw=True)["bn"]
    expected = x * np.tile(scale, 4) * 2 ** (12 - 8) + np.tile(bias, 4) * 2 ** (12 - 4)  # result_t has 12 fraction bits
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(SpecError, match="scale holds 3 values, which do not repeat over the layer's 10 elements"):
        Network(_normalize_spec(10, 3), {"s": scale, "b": bias})


def _narrow_words_spec(first_op: str) -> dict:
    """An unsigned 10-bit input read by ``first_op`` (a dense, a relu, or a batchnorm, which reads int64 words)."""
    x_t = "ap_ufixed<10,6>"
    first: dict = {"name": "first", "op": first_op, "inputs": ["x"], "shape": [6], "types": {}}
    if first_op == "dense":
        first["types"] = {"weight_t": "ap_fixed<8,3>", "bias_t": "ap_fixed<8,3>", "accum_t": "ap_fixed<24,12>"}
        first["arrays"] = {"weight": "w0", "bias": "b0"}
        first["shape"] = [5]
    elif first_op == "batchnorm":
        first["types"] = {"scale_t": "ap_fixed<8,3>", "bias_t": "ap_fixed<8,3>"}
        first["arrays"] = {"scale": "s0", "bias": "b1"}
    first["types"]["result_t"] = "ap_fixed<20,10>"
    width = first["shape"][0]
    return {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "x", "shape": [6], "type": x_t}],
        "outputs": ["out"],
        "layers": [
            first,
            {
                "name": "out",
                "op": "dense",
                "inputs": ["first"],
                "shape": [3],
                "types": {
                    "result_t": "ap_fixed<30,14>",
                    "weight_t": "ap_fixed<8,3>",
                    "bias_t": "ap_fixed<8,3>",
                    "accum_t": "ap_fixed<30,14>",
                },
                "arrays": {"weight": f"w{width}", "bias": "b2"},
            },
        ],
    }


@pytest.mark.parametrize("first_op", ["dense", "relu", "batchnorm"])
def test_narrow_input_words_give_the_int64_words_outputs(first_op: str) -> None:
    """Input words in any integer dtype that holds them (uint16 is ``fx.word_dtype`` of ap_ufixed<10,6>) give the
    same outputs as int64 words, whether the first layer reads them as they are or widened."""
    rng = np.random.default_rng(11)
    arrays = {name: rng.integers(-128, 128, shape) for name, shape in
              [("w0", (6, 5)), ("b0", 5), ("s0", 6), ("b1", 6), ("w5", (5, 3)), ("w6", (6, 3)), ("b2", 3)]}  # fmt: skip
    net = Network(_narrow_words_spec(first_op), arrays)
    t = net.inputs[0][2]
    assert fx.word_dtype(t) == np.uint16
    x = rng.integers(0, t.raw_max, (2000, 6), endpoint=True)
    x[:2] = [[0] * 6, [t.raw_max] * 6]
    expected = net.run(x, raw=True)["out"]
    assert len(np.unique(expected)) > 100
    for dtype in (np.uint16, np.int16, np.int32, np.uint32):
        np.testing.assert_array_equal(net.run(x.astype(dtype), raw=True)["out"], expected)


def test_word_dtype_is_the_narrowest_integer_dtype_of_the_raw_words() -> None:
    cases = {
        "ap_fixed<8,3>": np.int8, "ap_uint<8>": np.uint8, "ap_ufixed<10,6>": np.uint16, "ap_fixed<16,6>": np.int16,
        "ap_uint<16>": np.uint16, "ap_uint<17>": np.int32, "ap_int<32>": np.int32, "ap_uint<32>": np.int64,
        "ap_int<33>": np.int64, "ap_fixed<64,10>": np.int64, "ap_fixed<65,10>": object,
    }  # fmt: skip
    for t, dtype in cases.items():
        assert fx.word_dtype(t) == np.dtype(dtype), t


def test_average_halved_truncates_the_exact_sum_toward_zero_in_its_lsb() -> None:
    """hls4ml < 1.2's ``(data1 + data2) / (res_T)2``: the quotient keeps the sum's LSB, so an odd sum loses its half
    toward zero (1.5 -> 1, -1.5 -> -1 in LSBs), where 1.2's ``* ap_ufixed<1,0>(0.5)`` keeps it."""
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "a", "shape": [4], "type": "ap_int<8>"}, {"name": "b", "shape": [4], "type": "ap_int<8>"}],
        "outputs": ["halved", "average"],
        "layers": [
            {"name": op, "op": op, "inputs": ["a", "b"], "shape": [4], "types": {"result_t": "ap_fixed<12,10>"}}
            for op in ("average_halved", "average")
        ],
    }
    spec["layers"][0]["name"] = "halved"
    out = Network(spec, {}).run({"a": np.array([[3, -3, 4, -128]]), "b": np.array([[0, 0, 1, -127]])}, raw=True)
    np.testing.assert_array_equal(out["halved"], [[1 << 2, -1 << 2, 2 << 2, -127 << 2]])  # ap_fixed<12,10>: LSB 1/4
    np.testing.assert_array_equal(out["average"], [[6, -6, 10, -255 * 2]])


def test_word_table_gives_the_result_word_of_each_input_word() -> None:
    """``table[x - raw_min]`` over every word of the input type; a table of another size is refused at load."""
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "x", "shape": [3], "type": "ap_int<4>"}],
        "outputs": ["f"],
        "layers": [
            {"name": "f", "op": "word_table", "inputs": ["x"], "shape": [3], "types": {"result_t": "ap_uint<8>"},
             "arrays": {"table": "f/table"}}
        ],
    }  # fmt: skip
    table = (np.arange(16) * 7) % 256
    out = Network(spec, {"f/table": table}).run({"x": np.array([[-8, 0, 7], [-1, 1, 3]])}, raw=True)
    np.testing.assert_array_equal(out["f"], [table[[0, 8, 15]], table[[7, 9, 11]]])
    with pytest.raises(SpecError, match="holds 15 words, not one per word of its input type ap_int<4>"):
        Network(spec, {"f/table": table[:15]})
