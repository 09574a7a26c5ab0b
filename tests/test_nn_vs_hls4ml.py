"""l1t.emulator.nn against hls4ml's C-simulation (compile + predict): raw outputs equal on every event."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("qkeras")
pytest.importorskip("hls4ml")

import l1t.emulator.fixed as fx
from l1t.emulator.nn import Network, compare_traces
from l1t.models.export import export, hls_config
from l1t.models.reference import ARCHITECTURES, Architecture

N_DEFAULT = 10_000
N_SLOW = 100_000


def representable_inputs(net: Network, n: int, seed: int) -> np.ndarray:
    """Floats exactly representable in the input type: half near zero, half over the full range, plus the edges."""
    _, shape, t = net.inputs[0]
    rng = np.random.default_rng(seed)
    size = (n, *shape)
    wide = rng.integers(t.raw_min, t.raw_max, size, endpoint=True)
    narrow = np.clip(np.round(rng.normal(0, 2.0 / t.lsb, size)), t.raw_min, t.raw_max).astype(np.int64)
    raw = np.where(rng.random(size) < 0.5, wide, narrow)
    raw[0], raw[1], raw[2] = t.raw_min, t.raw_max, 0
    return fx.to_float(raw, t)


def hls_outputs(hls_model: Any, net: Network, x: np.ndarray) -> dict[str, np.ndarray]:
    y = hls_model.predict(np.ascontiguousarray(x.reshape(len(x), -1)))
    y = y if isinstance(y, list) else [y]
    return {
        name: fx.from_float(np.asarray(v, dtype=np.float64).reshape(len(x), -1), net.types[name])
        for name, v in zip(net.output_names, y, strict=True)
    }


def assert_outputs_equal(expected: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> None:
    for name, ref in expected.items():
        bad = np.argwhere(ref != got[name])
        assert bad.size == 0, (
            f"output {name!r}: {len(np.unique(bad[:, 0]))} events differ; first event {bad[0][0]}, "
            f"neuron {bad[0][1]}: hls4ml {ref[tuple(bad[0])]}, emulator {got[name][tuple(bad[0])]}"
        )


# the reference architectures `l1t import` reads back from their hls4ml project (the others are refused by name)
IMPORTED = {
    "axol1tl_encoder", "pruned_mlp", "softmax_stable", "softmax_latency", "tables_and_norm", "odd_precisions",
    "l1_tagger", "wide_mlp", "cicada_student", "cnn_autoencoder", "conv1d_merge", "depthwise_cnn", "lstm_tagger",
    "gru_tagger",
}  # fmt: skip

# the recurrent taggers' layers are covered row by row in test_hls4ml_layers.py (both io types): here in the slow set
COVERED_ELSEWHERE = {"lstm_tagger", "gru_tagger"}


@pytest.fixture(
    scope="module",
    params=[pytest.param(a, marks=pytest.mark.slow) if a.name in COVERED_ELSEWHERE else a for a in ARCHITECTURES],
    ids=lambda a: a.name,
)
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    arch: Architecture = request.param
    model = arch.build(7)
    out: Path = tmp_path_factory.mktemp(arch.name)
    config = hls_config(model, overrides=arch.overrides(model), trace=True)
    net, hls_model = export(model, out / "spec", config=config)
    hls_model.compile()
    return arch, model, net, hls_model


def test_bit_exact_with_hls4ml_csim(exported: tuple) -> None:
    _, _, net, hls_model = exported
    x = representable_inputs(net, N_DEFAULT, seed=1)
    assert_outputs_equal(hls_outputs(hls_model, net, x), net.run(x))


def test_trace_matches_every_layer(exported: tuple) -> None:
    _, _, net, hls_model = exported
    x = representable_inputs(net, 500, seed=2)
    _, trace = hls_model.trace(np.ascontiguousarray(x.reshape(len(x), -1)))
    got = net.trace(x)
    for name, t in net.types.items():  # the trace holds doubles: a wide layer's words as to_double rounds them
        if t.wide:
            got[name] = fx.from_float(fx.to_float(got[name], t), t)
    assert compare_traces(net.raw_trace(trace), got, net.layer_names) is None


def test_spec_reloads_identically(exported: tuple) -> None:
    _, _, net, _ = exported
    reloaded = Network.load(net.source)
    x = representable_inputs(net, 200, seed=3)
    for name, v in net.run(x).items():
        np.testing.assert_array_equal(v, reloaded.run(x)[name])


@pytest.mark.slow
def test_bit_exact_with_hls4ml_csim_1e5(exported: tuple) -> None:
    _, _, net, hls_model = exported
    x = representable_inputs(net, N_SLOW, seed=4)
    assert_outputs_equal(hls_outputs(hls_model, net, x), net.run(x))


@pytest.mark.parametrize("exported", [ARCHITECTURES[0]], ids=lambda a: a.name, indirect=True)
def test_one_weight_lsb_is_caught(exported: tuple) -> None:
    """The comparison sees a single-LSB change of one weight in the emulator's copy (AXOL1TL-like encoder)."""
    _, _, net, hls_model = exported
    x = representable_inputs(net, N_DEFAULT, seed=5)
    expected = hls_outputs(hls_model, net, x)
    layer = next(layer for layer in net.layers if layer.op == "dense")
    weight = layer.arrays["weight"]
    assert_outputs_equal(expected, net.run(x))  # derived copies of the weight (BLAS type) now exist
    with pytest.raises(ValueError, match="read-only"):
        weight[0, 0] += 1  # a layer's arrays cannot be edited in place behind those copies
    changed = weight.copy()
    i, j = np.unravel_index(np.argmax(np.abs(weight)), weight.shape)
    changed[i, j] -= 1
    layer.arrays["weight"] = changed
    try:
        with pytest.raises(AssertionError, match="events differ"):
            assert_outputs_equal(expected, net.run(x))
    finally:
        layer.arrays["weight"] = weight
    assert_outputs_equal(expected, net.run(x))


def test_unsupported_layer_is_named_at_export(tmp_path: Path) -> None:
    import tensorflow as tf

    from l1t.models.export import UnsupportedLayer

    x = tf.keras.Input((4, 3), name="seq")
    h = tf.keras.layers.Conv1D(2, 3, padding="same", name="conv")(x)
    y = tf.keras.layers.SimpleRNN(3, name="rnn")(h)
    model = tf.keras.Model(x, y)
    with pytest.raises(UnsupportedLayer, match="layer 'rnn' of type SimpleRNN"):
        export(model, tmp_path / "spec")


@pytest.mark.slow
def test_the_project_imported_from_its_cpp_is_the_spec(exported: tuple) -> None:
    """``l1t import`` of the hls4ml project the export wrote (its C++ alone) gives the same spec, layer by layer and
    word by word, or refuses naming the first call it does not import."""
    from l1t.models.hls_project import ProjectError, read_project

    arch, _, net, _ = exported
    try:
        imported = read_project(Path(net.source) / "hls4ml_prj").network()
    except ProjectError as err:
        assert arch.name not in IMPORTED, str(err)
        assert re.search(r"nnet::\w+ is not imported|is not imported|past 64 bits", str(err)), str(err)
        return
    assert arch.name in IMPORTED
    # the C++ names every layer but a Reshape/Flatten (an alias of its input array): compared by position
    position = {name: i for i, name in enumerate([n for n, _, _ in imported.inputs])}
    position |= {layer.name: i for i, layer in enumerate(imported.layers, len(imported.inputs))}
    theirs_at = {name: i for i, name in enumerate([n for n, _, _ in net.inputs])}
    theirs_at |= {layer.name: i for i, layer in enumerate(net.layers, len(net.inputs))}
    assert len(imported.layers) == len(net.layers)
    for mine, theirs in zip(imported.layers, net.layers, strict=True):
        assert mine.name == theirs.name or mine.op == "reshape"
        assert [position[i] for i in mine.inputs] == [theirs_at[i] for i in theirs.inputs], mine.name
        assert (mine.op, mine.types, mine.attrs) == (theirs.op, theirs.types, theirs.attrs), mine.name
        assert sorted(mine.arrays) == sorted(theirs.arrays)
        for key in theirs.arrays:
            np.testing.assert_array_equal(mine.arrays[key], theirs.arrays[key])
