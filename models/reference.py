"""Reference architectures built from seeds (Keras/QKeras + the hls4ml overrides they need).

Used by the exactness tests against hls4ml C-simulation and by the benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from l1t.emulator.calo import REGION_GRID
from l1t.emulator.objects import AXOL1TL_INPUTS
from l1t.extras import require


@dataclass
class Architecture:
    """A reference model: its builder from a seed, its hls4ml overrides, and whether l1t's RTL generator builds it
    (``rtl=False``: refused by name, e.g. recurrent layers or words past 64 bits)."""

    name: str
    build: Callable[[int], Any]
    overrides: Callable[[Any], dict[str, dict[str, Any]]] = field(default=lambda model: {})
    rtl: bool = True


def _q(bits: int, integer: int) -> Any:
    require("ml", "the reference models")
    from qkeras import quantized_bits

    return quantized_bits(bits, integer, alpha=1)


def axol1tl_encoder(seed: int) -> Any:
    """AXOL1TL_INPUTS (57) -> 32 -> 16 -> mu(8), log sigma^2(8), QKeras <6,3> weights, <10,7> biases, quantized_relu."""
    require("ml", "the reference models")
    import tensorflow as tf
    from qkeras import QActivation, QDense, quantized_relu

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((AXOL1TL_INPUTS,), name="gt_inputs")
    h = x
    for i, n in enumerate((32, 16)):
        h = QDense(n, kernel_quantizer=_q(6, 2), bias_quantizer=_q(10, 6), name=f"enc{i}")(h)
        h = QActivation(quantized_relu(8, 3), name=f"enc{i}_relu")(h)
    mu = QDense(8, kernel_quantizer=_q(6, 2), bias_quantizer=_q(10, 6), name="mu")(h)
    logvar = QDense(8, kernel_quantizer=_q(6, 2), bias_quantizer=_q(10, 6), name="logvar")(h)
    return tf.keras.Model(x, [mu, logvar], name="axol1tl_encoder")


def cicada_student(seed: int) -> Any:
    """REGION_GRID (18 x 14) x 1 regions -> Conv2D 3 filters 3x3 stride 2 -> Dense 20 -> Dense 1 (QKeras)."""
    require("ml", "the reference models")
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_relu

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((*REGION_GRID, 1), name="regions")
    h = QConv2D(3, (3, 3), strides=2, kernel_quantizer=_q(8, 2), bias_quantizer=_q(8, 3), name="conv")(x)
    h = QActivation(quantized_relu(10, 6), name="conv_relu")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    h = QDense(20, kernel_quantizer=_q(8, 2), bias_quantizer=_q(8, 3), name="dense1")(h)
    h = QActivation(quantized_relu(10, 6), name="dense1_relu")(h)
    score = QDense(1, kernel_quantizer=_q(12, 3), bias_quantizer=_q(8, 3), name="score")(h)
    return tf.keras.Model(x, score, name="cicada_student")


def cnn_autoencoder(seed: int) -> Any:
    """Float Keras CNN autoencoder: same/valid convs, average and max pooling, dense bottleneck, reshape."""
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((12, 12, 1), name="image")
    h = tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(x)
    h = tf.keras.layers.AveragePooling2D(2, name="avg")(h)
    h = tf.keras.layers.Conv2D(6, 3, padding="valid", activation="relu", name="c2")(h)
    h = tf.keras.layers.MaxPooling2D(2, name="max")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    h = tf.keras.layers.Dense(6, activation="relu", name="bottleneck")(h)
    h = tf.keras.layers.Dense(36, name="decode")(h)
    y = tf.keras.layers.Reshape((6, 6, 1), name="reco")(h)
    return tf.keras.Model(x, y, name="cnn_autoencoder")


def pruned_mlp(seed: int) -> Any:
    """QKeras MLP pruned to 60% zeros with tfmot (short training, pruning every step), then stripped."""
    require("ml", "the reference models")
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    from qkeras import QActivation, QDense, quantized_relu

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((20,), name="x")
    h = QDense(24, kernel_quantizer=_q(8, 2), bias_quantizer=_q(8, 3), name="d0")(x)
    h = QActivation(quantized_relu(8, 3), name="d0_relu")(h)
    y = QDense(4, kernel_quantizer=_q(8, 2), bias_quantizer=_q(8, 3), name="d1")(h)
    model = tf.keras.Model(x, y)
    schedule = tfmot.sparsity.keras.ConstantSparsity(0.6, begin_step=0, frequency=1)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    pruned.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(256, 20)).astype("float32")
    pruned.fit(
        data, data[:, :4], epochs=2, batch_size=64, verbose=0, callbacks=[tfmot.sparsity.keras.UpdatePruningStep()]
    )
    return tfmot.sparsity.keras.strip_pruning(pruned)


def softmax_classifier(seed: int) -> Any:
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((10,), name="x")
    h = tf.keras.layers.Dense(16, activation="relu", name="d0")(x)
    h = tf.keras.layers.Dense(5, name="logits")(h)
    # Activation("softmax"): a keras.layers.Softmax layer makes hls4ml 1.3 render Softmax_config<N> but call
    # softmax_config<N>, and the project does not compile
    y = tf.keras.layers.Activation("softmax", name="softmax")(h)
    return tf.keras.Model(x, y, name="softmax_classifier")


def softmax_latency_overrides(model: Any) -> dict[str, dict[str, Any]]:
    return {"softmax": {"Implementation": "latency"}}


def tables_and_norm(seed: int) -> Any:
    """Dense -> BatchNorm -> LeakyReLU -> Dense -> tanh -> Dense -> sigmoid (float Keras)."""
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((12,), name="x")
    h = tf.keras.layers.Dense(10, name="d0")(x)
    bn = tf.keras.layers.BatchNormalization(name="bn")
    h = bn(h)
    h = tf.keras.layers.LeakyReLU(0.1, name="lrelu")(h)
    h = tf.keras.layers.Dense(8, activation="tanh", name="d1")(h)
    y = tf.keras.layers.Dense(3, activation="sigmoid", name="d2")(h)
    model = tf.keras.Model(x, y, name="tables_and_norm")
    rng = np.random.default_rng(seed)  # non-trivial normalization statistics
    gamma, beta = rng.uniform(0.5, 2, 10), rng.normal(0, 0.5, 10)
    bn.set_weights([gamma, beta, rng.normal(0, 1, 10), rng.uniform(0.5, 3, 10)])
    return model


def odd_precisions(seed: int) -> Any:
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((16,), name="x")
    h = tf.keras.layers.Dense(12, name="d0")(x)
    h = tf.keras.layers.Activation("relu", name="r0")(h)
    y = tf.keras.layers.Dense(4, name="d1")(h)
    return tf.keras.Model(x, y, name="odd_precisions")


def odd_precision_overrides(model: Any) -> dict[str, dict[str, Any]]:
    return {
        "x": {"Precision": {"result": "ap_fixed<10,4>"}},
        "d0": {
            "Precision": {
                "weight": "ap_fixed<6,3>",
                "bias": "ap_fixed<6,3>",
                "accum": "ap_fixed<18,13,AP_RND,AP_SAT>",
                "result": "ap_fixed<18,13>",
            }
        },
        "r0": {"Precision": {"result": "ap_ufixed<10,6,AP_RND_CONV,AP_SAT>"}},
        "d1": {
            "Precision": {
                "weight": "ap_fixed<6,3,AP_RND_CONV>",
                "bias": "ap_fixed<8,3>",
                "accum": "ap_fixed<16,8,AP_TRN,AP_SAT_SYM>",
                "result": "ap_fixed<12,6,AP_RND_ZERO,AP_SAT>",
            }
        },
    }


def conv1d_merge(seed: int) -> Any:
    """Conv1D branches merged by Add, pooled, and concatenated with a dense branch."""
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((16, 2), name="seq")
    a = tf.keras.layers.Conv1D(4, 3, padding="same", activation="relu", name="ca")(x)
    b = tf.keras.layers.Conv1D(4, 3, padding="same", strides=1, name="cb")(x)
    h = tf.keras.layers.Add(name="add")([a, b])
    h = tf.keras.layers.AveragePooling1D(2, name="pool")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    d = tf.keras.layers.Dense(6, activation="relu", name="dense_a")(h)
    e = tf.keras.layers.Dense(3, name="dense_b")(h)
    y = tf.keras.layers.Concatenate(name="concat")([d, e])
    return tf.keras.Model(x, y, name="conv1d_merge")


def l1_tagger(seed: int) -> Any:
    """The L1 jet tagger of ``configs/models/tagger.yaml`` (64 tower inputs -> 32 -> 16 -> logit), half of every
    kernel zeroed as its pruning leaves it."""
    require("ml", "the reference models")
    import tensorflow as tf

    from l1t.models.tagger import TaggerConfig, build_tagger

    tf.keras.utils.set_random_seed(seed)
    model = build_tagger(TaggerConfig.from_yaml())
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights():
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * (rng.random(kernel.shape) >= 0.5), bias])
    return model


def depthwise_cnn(seed: int) -> Any:
    """Depthwise-separable image network: DepthwiseConv2D 3x3 -> relu -> pointwise Conv2D -> relu -> Dense."""
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((8, 8, 3), name="image")
    h = tf.keras.layers.DepthwiseConv2D(3, activation="relu", name="dw")(x)
    h = tf.keras.layers.Conv2D(6, 1, activation="relu", name="pw")(h)
    h = tf.keras.layers.Flatten(name="flat")(h)
    y = tf.keras.layers.Dense(4, name="out")(h)
    return tf.keras.Model(x, y, name="depthwise_cnn")


def recurrent_tagger(kind: str) -> Callable[[int], Any]:
    """A track-sequence tagger: 8 steps of 6 features -> ``kind`` (LSTM or GRU) with 8 units -> Dense 3 (Keras
    gates, hls4ml's sigmoid/tanh tables)."""

    def build(seed: int) -> Any:
        require("ml", "the reference models")
        import tensorflow as tf

        tf.keras.utils.set_random_seed(seed)
        x = tf.keras.Input((8, 6), name="tracks")
        h = getattr(tf.keras.layers, kind)(8, name=kind.lower())(x)
        return tf.keras.Model(x, tf.keras.layers.Dense(3, name="out")(h), name=f"{kind.lower()}_tagger")

    return build


def wide_mlp(seed: int) -> Any:
    """Dense 16 -> 16 -> relu -> Dense 4 -> relu with 32-bit inputs and weights: hls4ml's precision inference
    makes a 69-bit accumulator (see ``wide_overrides``), run on the emulator's wide words."""
    require("ml", "the reference models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    x = tf.keras.Input((16,), name="features")
    h = tf.keras.layers.ReLU(name="r1")(tf.keras.layers.Dense(16, name="d1")(x))
    y = tf.keras.layers.ReLU(name="r2")(tf.keras.layers.Dense(4, name="d2")(h))
    return tf.keras.Model(x, y, name="wide_mlp")


def wide_overrides(model: Any) -> dict[str, dict[str, Any]]:
    """32-bit inputs, weights and biases; accumulators and dense results inferred ('auto'), past 64 bits."""
    wide = "ap_fixed<32,16>"
    out = {model.layers[0].name: {"Precision": {"result": wide}}}
    for layer in model.layers:
        if type(layer).__name__ == "Dense":
            out[layer.name] = {"Precision": {"weight": wide, "bias": wide, "accum": "auto", "result": "auto"}}
    return out


ARCHITECTURES = [
    Architecture("axol1tl_encoder", axol1tl_encoder),
    Architecture("cicada_student", cicada_student),
    Architecture("cnn_autoencoder", cnn_autoencoder),
    Architecture("pruned_mlp", pruned_mlp),
    Architecture("softmax_stable", softmax_classifier),
    Architecture("softmax_latency", softmax_classifier, softmax_latency_overrides),
    Architecture("tables_and_norm", tables_and_norm),
    Architecture("odd_precisions", odd_precisions, odd_precision_overrides),
    Architecture("conv1d_merge", conv1d_merge),
    Architecture("l1_tagger", l1_tagger),
    Architecture("depthwise_cnn", depthwise_cnn),
    Architecture("lstm_tagger", recurrent_tagger("LSTM"), rtl=False),
    Architecture("gru_tagger", recurrent_tagger("GRU"), rtl=False),
    Architecture("wide_mlp", wide_mlp, wide_overrides, rtl=False),
]
