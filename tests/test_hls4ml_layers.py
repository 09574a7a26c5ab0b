"""Layer coverage against hls4ml's C-simulation: one small model per construct, raw outputs equal on every event.

Each row builds a Keras/QKeras model, converts it with hls4ml (Vitis, io_parallel), exports the spec, compiles the
project and compares ``hls_model.predict`` with ``Network.run`` on random input words (whole range and near zero,
plus the extremes). Constructs the emulator does not model must be refused at export, naming the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("qkeras")
pytest.importorskip("hls4ml")

import l1t.emulator.fixed as fx
from l1t.emulator.nn import Network
from l1t.models.export import UnsupportedLayer, export, hls_config

N_EVENTS = 2_000


def random_words(net: Network, n: int, seed: int) -> dict[str, np.ndarray]:
    """Raw input words per input: half over the whole range, half near zero, with the extremes and zero first."""
    rng = np.random.default_rng(seed)
    words = {}
    for name, shape, t in net.inputs:
        size = (n, *shape)
        wide = rng.integers(t.raw_min, t.raw_max, size, endpoint=True)
        narrow = np.clip(np.round(rng.normal(0, 2.0 / t.lsb, size)), t.raw_min, t.raw_max).astype(np.int64)
        raw = np.where(rng.random(size) < 0.5, wide, narrow)
        raw[0], raw[1], raw[2] = t.raw_min, t.raw_max, 0
        words[name] = raw
    return words


def csim_differences(hls_model: Any, net: Network, words: dict[str, np.ndarray]) -> list[str]:
    """Compare hls4ml C-sim with the emulator on the same raw words; one line per differing output."""
    floats = [
        np.ascontiguousarray(fx.to_float(words[name], t).reshape(len(words[name]), -1)) for name, _, t in net.inputs
    ]
    y = hls_model.predict(floats if len(floats) > 1 else floats[0])
    y = y if isinstance(y, list) else [y]
    got = net.run(words, raw=True)
    problems = []
    for name, v in zip(net.output_names, y, strict=True):
        ref = fx.from_float(np.asarray(v, dtype=np.float64).reshape(len(got[name]), -1), net.types[name])
        bad = np.argwhere(ref != got[name])
        if bad.size:
            e, j = bad[0]
            problems.append(
                f"output {name!r}: {len(np.unique(bad[:, 0]))} events differ; first event {e}, element {j}: "
                f"hls4ml {ref[e, j]}, emulator {got[name][e, j]}"
            )
    return problems


def _model(inputs: list[tuple[int, ...]], body: Callable[..., Any]) -> Any:
    import tensorflow as tf

    xs = [tf.keras.Input(shape, name=f"in{i}") for i, shape in enumerate(inputs)]
    return tf.keras.Model(xs, body(*xs))


def _layers() -> Any:
    import tensorflow as tf

    return tf.keras.layers


def concat_axis(shape: tuple[int, ...], axis: int, flatten: bool = False) -> Callable[[], Any]:
    def build() -> Any:
        L = _layers()
        if flatten:
            return _model([shape, shape], lambda a, b: L.Concatenate(axis=axis)([L.Flatten()(a), L.Flatten()(b)]))
        other = list(shape)
        other[axis - 1 if axis > 0 else axis] += 1  # the two inputs differ along the axis
        return _model([shape, tuple(other)], lambda a, b: L.Concatenate(axis=axis, name="cat")([a, b]))

    return build


def window_conv(kind: str, spatial: int, *args: Any, **kw: Any) -> Callable[[], Any]:
    """A ``{kind}Conv{spatial}D`` layer (Depthwise, Separable) with a 3-wide kernel on a 3-channel input."""

    def build() -> Any:
        layer = getattr(_layers(), f"{kind}Conv{spatial}D")
        shape = (9, 3) if spatial == 1 else (7, 6, 3)
        return _model([shape], lambda x: layer(*args, 3, name=kind.lower(), **kw)(x))

    return build


def q_dense(kernel: str) -> Callable[[], Any]:
    """QDense on a quantized input with a ``quantized_po2`` kernel, or a ``quantized_bits`` one whose per-output
    scale is a power of two (``alpha="auto_po2"``, applied by hls4ml as a separate ApplyAlpha layer)."""

    def build() -> Any:
        from qkeras import QActivation, QDense, quantized_bits, quantized_po2

        quantizer = quantized_po2(4, 4) if kernel == "po2" else quantized_bits(6, 0, alpha="auto_po2")
        return _model(
            [(12,)],
            lambda x: QDense(6, kernel_quantizer=quantizer, bias_quantizer=quantized_bits(8, 3, alpha=1), name="qd")(
                QActivation(quantized_bits(10, 4, alpha=1), name="qin")(x)
            ),
        )

    return build


# (row id, model builder, default precision): each a construct that failed or returned wrong numbers before.
CASES = [
    ("concat-2d-axis1", concat_axis((4, 5), 1), "ap_fixed<16,6>"),
    ("concat-2d-axis2", concat_axis((4, 5), 2), "ap_fixed<16,6>"),
    ("concat-2d-axis-1", concat_axis((4, 5), -1), "ap_fixed<16,6>"),
    ("concat-2d-axis-2", concat_axis((4, 5), -2), "ap_fixed<16,6>"),
    ("concat-flatten-axis1", concat_axis((3, 4), 1, flatten=True), "ap_fixed<16,6>"),
    ("concat-3d-axis1", concat_axis((2, 3, 4), 1), "ap_fixed<16,6>"),
    ("concat-3d-axis2", concat_axis((2, 3, 4), 2), "ap_fixed<16,6>"),
    ("concat-3d-axis3", concat_axis((2, 3, 4), 3), "ap_fixed<16,6>"),
    ("depthwise1d", window_conv("Depthwise", 1), "ap_fixed<12,5>"),
    ("depthwise2d", window_conv("Depthwise", 2), "ap_fixed<12,5>"),
    ("depthwise2d-same-stride2", window_conv("Depthwise", 2, padding="same", strides=2), "ap_fixed<12,5>"),
    ("separable1d", window_conv("Separable", 1, 4), "ap_fixed<10,4>"),
    ("separable2d", window_conv("Separable", 2, 4, padding="same"), "ap_fixed<10,4>"),
    ("qdense-quantized_po2", q_dense("po2"), "ap_fixed<16,6>"),
    ("qdense-alpha-auto_po2", q_dense("auto_po2"), "ap_fixed<16,6>"),
]


def _convert(build: Callable[[], Any], precision: str, out: Path) -> tuple[Network, Any]:
    model = build()
    config = hls_config(model, default_precision=precision)
    return export(model, out / "spec", project_dir=out / "prj", config=config)


@pytest.mark.parametrize(("row", "build", "precision"), CASES, ids=[c[0] for c in CASES])
def test_layer_bit_exact_with_csim(row: str, build: Callable[[], Any], precision: str, tmp_path: Path) -> None:
    net, hls_model = _convert(build, precision, tmp_path)
    hls_model.compile()
    assert csim_differences(hls_model, net, random_words(net, N_EVENTS, seed=11)) == []


def test_harness_sees_one_flipped_lsb(tmp_path: Path) -> None:
    """The comparison is not vacuous: one weight changed by one LSB in the emulator's copy is reported."""
    net, hls_model = _convert(window_conv("Depthwise", 2), "ap_fixed<12,5>", tmp_path)
    hls_model.compile()
    words = random_words(net, N_EVENTS, seed=12)
    assert csim_differences(hls_model, net, words) == []
    layer = net.layers[0]
    changed = layer.arrays["weight"].copy()
    i, j = np.argwhere(changed != 0)[0]
    changed[i, j] += 1
    layer.arrays["weight"] = changed
    assert csim_differences(hls_model, net, words) != []


def test_wide_precision_is_refused_naming_the_layer(tmp_path: Path) -> None:
    """hls4ml's inferred accumulators grow along a chain (37, 56, 75 bits): the 75-bit one is refused at export
    with its layer named."""

    def build() -> Any:
        L = _layers()
        a, b, c = (L.DepthwiseConv2D(k, name=f"dw_{n}") for k, n in ((3, "a"), (2, "b"), (2, "c")))
        return _model([(8, 8, 3)], lambda x: c(b(a(x))))

    import hls4ml

    model = build()
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")  # accum_t: auto
    with pytest.raises(UnsupportedLayer, match=r"layer 'dw_c': accum_t ap_fixed<75,35>.*width 75 out of range"):
        export(model, tmp_path / "spec", project_dir=tmp_path / "prj", config=config)


def test_unhandled_subclass_is_refused(tmp_path: Path) -> None:
    """A layer class whose parent has an exporter (PReLU of Activation) is refused by name, never run as its parent."""

    def build() -> Any:
        return _model([(4,)], lambda x: _layers().PReLU(name="prelu")(x))

    with pytest.raises(UnsupportedLayer, match="layer 'prelu' of type PReLU"):
        _convert(build, "ap_fixed<16,6>", tmp_path)
