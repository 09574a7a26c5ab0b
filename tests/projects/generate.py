"""Write hls4ml io_parallel projects of small coverage models with whichever hls4ml is importable (run it with
another release first on ``PYTHONPATH`` to get that release's projects). Used by ``prove.py`` for every release and
to make the committed fixtures; weights are deterministic, so a project is the same every time.

    python tests/projects/generate.py OUT_DIR [--models mlp,merges,...] [--namespace NS] [--project-name NAME]
                                      [--backends Vivado,Vitis]
                                      [--weights-in-headers]
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def _set_weights(model: Any, seed: int, dyadic: bool = False) -> Any:
    """Deterministic weights (and non-zero biases); ``dyadic``: multiples of 1/16, which da4ml multiplies exactly."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        new = []
        for w in weights:
            if layer.__class__.__name__ == "BatchNormalization":
                v = rng.uniform(0.5, 1.5, w.shape)
            else:
                v = rng.normal(0, 0.5, w.shape)
            new.append(np.round(v * 16) / 16 if dyadic else v)
        layer.set_weights(new)
    return model


def mlp() -> tuple[Any, dict[str, dict[str, str]]]:
    """Dense -> ReLU -> Dense -> tanh -> Dense -> softmax (stable)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((16,), name="x")
    h = L.Activation("relu", name="r1")(L.Dense(12, name="d1")(x))
    h = L.Activation("tanh", name="t2")(L.Dense(8, name="d2")(h))
    y = L.Activation("softmax", name="sm")(L.Dense(5, name="d3")(h))
    return _set_weights(Model(x, y, name="mlp"), 1), {"d3": {"result": "ap_fixed<16,6>"}}


def sigmoid_bn() -> tuple[Any, dict[str, dict[str, str]]]:
    """BatchNormalization of the inputs -> Dense -> sigmoid, and a second output through ReLU."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((10,), name="x")
    d = L.Dense(6, name="d1")(L.BatchNormalization(name="bn")(x))
    return _set_weights(Model(x, [L.Activation("sigmoid", name="sg")(d), L.Activation("relu", name="rl")(d)]), 2), {}


def merges() -> tuple[Any, dict[str, dict[str, str]]]:
    """The two-input merges on two dense branches, concatenated, and their dot product."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((8,), name="x")
    a, b = L.Dense(6, name="da")(x), L.Dense(6, name="db")(x)
    parts = [
        L.Add(name="add")([a, b]), L.Subtract(name="sub")([a, b]), L.Multiply(name="mul")([a, b]),
        L.Average(name="avg")([a, b]), L.Maximum(name="max")([a, b]), L.Minimum(name="min")([a, b]),
    ]  # fmt: skip
    cat = L.Concatenate(name="cat")(parts[:2])
    dot = L.Dot(axes=1, name="dot")([a, b])
    model = Model(x, [cat, *parts[2:], dot], name="merges")
    precisions = {
        "da": {"result": "ap_fixed<16,6>"},
        "db": {"result": "ap_fixed<16,6>"},
        "dot": {"result": "ap_fixed<32,12>", "accum": "ap_fixed<32,12>"},
    }
    return _set_weights(model, 3), precisions


def autoencoder() -> tuple[Any, dict[str, dict[str, str]]]:
    """A skip-connection autoencoder whose output is its squared reconstruction error: dot(x - x', x - x')."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((12,), name="x")
    z = L.Activation("relu", name="enc_act")(L.Dense(4, name="enc")(x))
    rec = L.Dense(12, name="dec")(z)
    diff = L.Subtract(name="diff")([x, rec])
    score = L.Dot(axes=1, name="loss")([diff, diff])
    precisions = {
        "diff": {"result": "ap_fixed<18,8>"},
        "loss": {"result": "ap_fixed<24,14>", "accum": "ap_fixed<24,14>"},
    }
    return _set_weights(Model(x, score, name="autoencoder"), 4), precisions


def activations() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Flatten -> Dense -> LeakyReLU -> Dense -> linear (a narrower, rounding, saturating result) -> Dense -> softmax
    (latency implementation)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((2, 5), name="x")
    h = L.LeakyReLU(0.1, name="lrelu")(L.Dense(8, name="d1")(L.Flatten(name="flat")(x)))
    h = L.Dense(8, name="d2")(h)
    y = L.Activation("softmax", name="sm")(L.Dense(4, name="d3")(h))
    precisions = {
        "sm": {"Implementation": "latency"},
        "d2": {"result": "ap_fixed<24,10>"},  # wider than its linear activation's result: hls4ml keeps that layer
        "d2_linear": {"result": "ap_fixed<14,6,AP_RND,AP_SAT>"},
    }
    return _set_weights(Model(x, y, name="activations"), 6), precisions


def conv2d() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Conv2D ('same', 3x3) -> ReLU -> MaxPooling2D -> Conv2D (stride 2, 'same': padded on the bottom and right only)
    -> AveragePooling2D -> Flatten -> Dense, a CICADA-like calorimeter net in miniature."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((6, 6, 2), name="x")
    h = L.Activation("relu", name="r1")(L.Conv2D(4, 3, padding="same", name="c1")(x))
    h = L.MaxPooling2D(2, name="p1")(h)
    h = L.Conv2D(3, 2, strides=2, padding="same", name="c2")(h)
    h = L.AveragePooling2D(2, name="p2")(h)
    y = L.Dense(5, name="d")(L.Flatten(name="flat")(h))
    precisions = {"c1": {"result": "ap_fixed<16,6,AP_RND,AP_SAT>"}, "c2": {"result": "ap_fixed<16,6>"}}
    return _set_weights(Model(x, y, name="conv2d"), 7), precisions


def conv1d() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Conv1D ('same') -> ReLU -> AveragePooling1D -> Conv1D (stride 2) -> GlobalMaxPooling1D -> Dense."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((10, 3), name="x")
    h = L.Activation("relu", name="r1")(L.Conv1D(4, 3, padding="same", name="c1")(x))
    h = L.AveragePooling1D(2, name="p1")(h)
    h = L.Conv1D(3, 2, strides=2, name="c2")(h)
    y = L.Dense(3, name="d")(L.GlobalMaxPooling1D(name="gmax")(h))
    return _set_weights(Model(x, y, name="conv1d"), 8), {}


def pools1d() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Conv1D -> ReLU, then MaxPooling1D -> GlobalAveragePooling1D and AveragePooling1D -> GlobalMaxPooling1D,
    concatenated -> Dense: the 1D pooling modes conv1d leaves out."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((12, 2), name="x")
    h = L.Activation("relu", name="r1")(L.Conv1D(3, 3, name="c1")(x))
    averaged = L.GlobalAveragePooling1D(name="gavg")(L.MaxPooling1D(2, name="p1")(h))
    maxed = L.GlobalMaxPooling1D(name="gmax")(L.AveragePooling1D(2, name="p2")(h))
    y = L.Dense(2, name="d")(L.Concatenate(name="cat")([averaged, maxed]))
    # a saturating, rounding input type: hls4ml < 1.0 averages it in itself, saturating each partial sum
    return _set_weights(Model(x, y, name="pools1d"), 9), {"r1": {"result": "ap_fixed<10,3,AP_RND,AP_SAT>"}}


def pools2d() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Conv2D -> ReLU -> GlobalMaxPooling2D and GlobalAveragePooling2D of it, concatenated -> Dense: the global 2D
    pooling modes conv2d leaves out."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((6, 5, 2), name="x")
    h = L.Activation("relu", name="r1")(L.Conv2D(3, 3, name="c1")(x))
    pooled = L.Concatenate(name="cat")([L.GlobalMaxPooling2D(name="gmax")(h), L.GlobalAveragePooling2D(name="gavg")(h)])
    # an unsigned input type: hls4ml < 1.0 averages it in itself, each partial sum wrapping
    precisions = {"r1": {"result": "ap_ufixed<8,3>"}}
    return _set_weights(Model(x, L.Dense(2, name="d")(pooled), name="pools2d"), 10), precisions


def activations2() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Dense layers, each followed by one of ELU (plain and parametrized), SELU, PReLU, softplus, softsign,
    hard_sigmoid and ReLU6: the activations the other models leave out."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((10,), name="x")
    h = L.Activation("elu", name="elu")(L.Dense(8, name="d1")(x))
    h = L.ELU(0.5, name="elu_a")(L.Dense(8, name="d2")(h))
    h = L.Activation("selu", name="selu")(L.Dense(8, name="d3")(h))
    h = L.PReLU(name="prelu")(L.Dense(8, name="d4")(h))
    h = L.Activation("softplus", name="softplus")(L.Dense(8, name="d5")(h))
    h = L.Activation("softsign", name="softsign")(L.Dense(8, name="d6")(h))
    h = L.Activation("hard_sigmoid", name="hsig")(L.Dense(8, name="d7")(h))
    y = L.Activation("relu6", name="relu6")(L.Dense(4, name="d8")(h))
    return _set_weights(Model(x, y, name="activations2"), 11), {}


def qactivations() -> tuple[Any, dict[str, dict[str, Any]]]:
    """QKeras quantized_tanh (hls4ml's hard_tanh), quantized_relu with a negative slope (leaky_relu; a plain relu
    before hls4ml 1.0), a Keras LeakyReLU and quantized_sigmoid (hard_sigmoid) between QDense layers."""
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu, quantized_sigmoid, quantized_tanh
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    def dense(units: int, name: str) -> Any:
        q = quantized_bits(8, 1, alpha=1)
        return QDense(units, kernel_quantizer=q, bias_quantizer=q, name=name)

    x = L.Input((12,), name="x")
    h = QActivation(quantized_tanh(8, 1), name="qtanh")(dense(8, "d1")(x))
    h = QActivation(quantized_relu(6, 2, negative_slope=0.25), name="qleaky")(dense(6, "d2")(h))
    h = L.LeakyReLU(0.125, name="lrelu")(dense(5, "d3")(h))
    y = QActivation(quantized_sigmoid(8), name="qsig")(dense(3, "d4")(h))
    return _set_weights(Model(x, y, name="qactivations"), 21), {}


def binary() -> tuple[Any, dict[str, dict[str, Any]]]:
    """QKeras ternary and binary kernels (nnet::product::weight_ternary, weight_binary) in Dense layers after a
    Conv1D and a Flatten (which hls4ml 0.6 writes without an alias), between quantized ReLUs."""
    from qkeras import QActivation, QConv1D, QDense, binary, quantized_bits, quantized_relu, ternary
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    bias = quantized_bits(8, 3, alpha=1)
    x = L.Input((10, 3), name="x")
    h = QConv1D(4, 3, kernel_quantizer=quantized_bits(6, 1, alpha=1), bias_quantizer=bias, name="c1")(x)
    h = L.Flatten(name="f")(QActivation(quantized_relu(8, 4), name="r1")(h))
    h = QDense(6, kernel_quantizer=ternary(alpha=1), bias_quantizer=bias, name="d1")(h)
    h = QActivation(quantized_relu(8, 4), name="r2")(h)
    y = QDense(3, kernel_quantizer=binary(alpha=1), bias_quantizer=bias, name="d2")(h)
    return _set_weights(Model(x, y, name="binary"), 23), {}


def movement() -> tuple[Any, dict[str, dict[str, Any]]]:
    """ZeroPadding2D -> Conv2D -> UpSampling2D -> Flatten -> Dense, and a 1D branch of ZeroPadding1D -> Conv1D ->
    UpSampling1D: zero padding and nearest-neighbour resizing (cropping, newer in hls4ml, has a model of its own)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((5, 4, 2), name="x")
    h = L.Conv2D(3, 3, name="c2")(L.ZeroPadding2D(((1, 0), (2, 1)), name="pad2")(x))
    y = L.Dense(3, name="d")(L.Flatten(name="flat")(L.UpSampling2D((2, 3), name="up2")(h)))
    x1 = L.Input((6, 2), name="x1")
    h1 = L.Conv1D(2, 3, name="c1")(L.ZeroPadding1D((2, 1), name="pad1")(x1))
    y1 = L.Dense(2, name="d1")(L.Flatten(name="flat1")(L.UpSampling1D(2, name="up1")(h1)))
    return _set_weights(Model([x, x1], [y, y1], name="movement"), 12), {}


def cropping() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Conv2D -> Cropping2D -> Flatten -> Dense, and Conv1D -> Cropping1D on a second input."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((6, 5, 2), name="x")
    h = L.Cropping2D(((0, 1), (1, 2)), name="crop2")(L.Conv2D(3, 2, name="c2")(x))
    y = L.Dense(3, name="d")(L.Flatten(name="flat")(h))
    x1 = L.Input((7, 2), name="x1")
    h1 = L.Cropping1D((1, 2), name="crop1")(L.Conv1D(2, 2, name="c1")(x1))
    y1 = L.Dense(2, name="d1")(L.Flatten(name="flat1")(h1))
    return _set_weights(Model([x, x1], [y, y1], name="cropping"), 20), {}


def separable() -> tuple[Any, dict[str, dict[str, Any]]]:
    """DepthwiseConv2D -> ReLU -> SeparableConv2D (a depthwise and a pointwise convolution) -> Flatten -> Dense."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((6, 6, 2), name="x")
    h = L.DepthwiseConv2D(3, activation="relu", name="dw")(x)
    h = L.SeparableConv2D(3, 2, name="sep2")(h)
    y = L.Dense(3, name="d")(L.Flatten(name="flat")(h))
    precisions = {"d": {"result": "ap_fixed<24,12>"}}  # not hls4ml's auto width, past 64 bits
    return _set_weights(Model(x, y, name="separable"), 13), precisions


def separable1d() -> tuple[Any, dict[str, dict[str, Any]]]:
    """SeparableConv1D (stride 2) -> ReLU -> DepthwiseConv1D -> Flatten -> Dense (a model of its own: hls4ml 1.3's
    C++ does not compile with 1D and 2D separable convolutions in one project)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((10, 3), name="x")
    h = L.SeparableConv1D(2, 3, strides=2, activation="relu", name="sep1")(x)
    h = L.DepthwiseConv1D(2, name="dw1")(h)
    y = L.Dense(2, name="d")(L.Flatten(name="flat")(h))
    precisions = {"d": {"result": "ap_fixed<24,12>"}}
    return _set_weights(Model(x, y, name="separable1d"), 14), precisions


def recurrent() -> tuple[Any, dict[str, dict[str, Any]]]:
    """LSTM (last state) and GRU (every state, flattened) on two sequences, each into a Dense."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((5, 3), name="x")
    y = L.Dense(2, name="d")(L.LSTM(4, name="lstm")(x))
    x1 = L.Input((4, 2), name="x1")
    y1 = L.Dense(2, name="d1")(L.Flatten(name="flat")(L.GRU(3, return_sequences=True, name="gru")(x1)))
    return _set_weights(Model([x, x1], [y, y1], name="recurrent"), 16), {}


def images() -> tuple[Any, dict[str, dict[str, Any]]]:
    """A Permute of the input image, then concatenations along channels and height into a convolution (the Permute is
    named 'permute': hls4ml 1.3 fails on one named 'perm', the name of its own attribute)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    image = L.Input((2, 5, 4), name="x")
    x = L.Permute((3, 1, 2), name="permute")(image)
    h = L.Concatenate(axis=-1, name="cat_c")([L.Conv2D(3, 3, padding="same", name="ca")(x), x])
    h = L.Concatenate(axis=1, name="cat_h")([h, L.Conv2D(8, 1, name="cb")(x)])
    y = L.Dense(2, name="d")(L.Flatten(name="flat")(L.Conv2D(2, 2, name="cc")(h)))
    return _set_weights(Model(image, y, name="images"), 17), {"d": {"result": "ap_fixed<24,12>"}}


def sequences() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Concatenations of sequences along features and steps, then LayerNormalization (each model of its own: hls4ml
    1.3 does not convert these layers together with an Embedding in one model)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    s = L.Input((6, 3), name="s")
    g = L.Concatenate(axis=-1, name="cat_f")([L.Conv1D(2, 1, name="cs")(s), s])
    g = L.Concatenate(axis=1, name="cat_t")([g, L.Conv1D(5, 1, name="ct")(s)])
    y = L.Dense(2, name="d")(L.Flatten(name="flat")(L.LayerNormalization(name="ln")(g)))
    return _set_weights(Model(s, y, name="sequences"), 18), {"d": {"result": "ap_fixed<24,12>"}}


def embedding() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Embedding of integer tokens into Dense."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    e = L.Input((4,), name="e")
    y = L.Dense(2, name="d")(L.Flatten(name="flat")(L.Embedding(8, 3, name="emb")(e)))
    return _set_weights(Model(e, y, name="embedding"), 19), {"d": {"result": "ap_fixed<24,12>"}}


def wide() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Two dense branches multiplied, then Dense, every result type left to hls4ml's inference: the output words
    grow past 64 bits, passed to and from the project's C++ in two int64 limbs."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((6,), name="x")
    h = L.Multiply(name="mul")([L.Dense(4, name="d1")(x), L.Dense(4, name="d2")(x)])
    return _set_weights(Model(x, L.Dense(2, name="d3")(h), name="wide"), 15), {}


def heads() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Dense -> ReLU -> BatchNormalization, then four heads: sigmoid (a 512-entry ap_fixed<12,2> table), tanh, ELU,
    and a Dense without bias: the table activations and normalize on a layer every release converts (hls4ml 0.6.0
    cannot convert sigmoid_bn's normalization of the inputs)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((12,), name="x")
    h = L.BatchNormalization(name="bn")(L.Activation("relu", name="r0")(L.Dense(10, name="d0")(x)))
    outputs = [
        L.Activation("sigmoid", name="sg")(L.Dense(2, name="da")(h)),
        L.Activation("tanh", name="th")(L.Dense(3, name="db")(h)),
        L.Activation("elu", name="el")(L.Dense(3, name="dc")(h)),
        L.Dense(2, use_bias=False, name="dd")(h),
    ]
    precisions = {"sg": {"table": "ap_fixed<12,2>", "table_size": 512}, "th": {"table": "ap_fixed<12,2>"}}
    return _set_weights(Model(x, outputs, name="heads"), 12), precisions


def repack() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Dense -> Reshape into 4 steps of 3 channels -> Conv1D -> Flatten -> Dense: in io_stream the Reshape repacks
    one array of 12 words into arrays of 3 (``nnet::repack_stream``)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((8,), name="x")
    h = L.Conv1D(2, 2, name="c")(L.Reshape((4, 3), name="rs")(L.Dense(12, name="d0")(x)))
    return _set_weights(Model(x, L.Dense(3, name="d1")(L.Flatten(name="flat")(h)), name="repack"), 13), {}


def softmax_latency() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Dense -> softmax with the latency implementation (its exp table indexed by the input word itself)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((6,), name="x")
    y = L.Activation("softmax", name="sm")(L.Dense(5, name="d")(x))
    precisions = {"sm": {"Implementation": "latency"}, "d": {"result": "ap_fixed<12,3>"}}  # logits within +-4
    return _set_weights(Model(x, y, name="softmax_latency"), 14), precisions


def jet_tagger() -> tuple[Any, dict[str, dict[str, Any]]]:
    """A jet tagger as L1 deploys them: the constituents (8 of 5 features) normalized per feature over the flat
    input (``normalize`` with n_filt 5), two pointwise Conv1D (hls4ml 1.0 and 1.1 generate their Latency kernels per
    layer, the second cut into two runs of pixels by its reuse factor), average pooling over the constituents, and
    two heads: class scores (softmax) and a pT regression."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((8, 5), name="x")
    h = L.Activation("relu", name="r1")(L.Conv1D(6, 1, name="c1")(L.BatchNormalization(name="bn")(x)))
    h = L.GlobalAveragePooling1D(name="gap")(L.Activation("relu", name="r2")(L.Conv1D(4, 1, name="c2")(h)))
    outputs = [L.Activation("softmax", name="cls")(L.Dense(3, name="dc")(h)), L.Dense(1, name="pt")(h)]
    precisions = {"c2": {"ReuseFactor": 2}, "dc": {"result": "ap_fixed<12,3,AP_RND,AP_SAT>"}}  # logits within +-4
    return _set_weights(Model(x, outputs, name="jet_tagger"), 20), precisions


def pointwise() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Conv1D of kernel size 1 -> ReLU -> Flatten -> Dense: hls4ml 0.6's pointwise kernel is the Latency one whatever
    the strategy, so with Resource it reads the transposed weights as (inputs, outputs)."""
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    x = L.Input((8, 5), name="x")
    h = L.Flatten(name="flat")(L.Activation("relu", name="r")(L.Conv1D(6, 1, name="c")(x)))
    return _set_weights(Model(x, L.Dense(2, name="d")(h), name="pointwise"), 21), {}


MODELS: dict[str, Callable[[], tuple[Any, dict[str, dict[str, str]]]]] = {
    "mlp": mlp,
    "sigmoid_bn": sigmoid_bn,
    "merges": merges,
    "autoencoder": autoencoder,
    "activations": activations,
    "conv2d": conv2d,
    "conv1d": conv1d,
    "pools1d": pools1d,
    "pools2d": pools2d,
    "activations2": activations2,
    "qactivations": qactivations,
    "movement": movement,
    "cropping": cropping,
    "separable": separable,
    "separable1d": separable1d,
    "wide": wide,
    "recurrent": recurrent,
    "images": images,
    "sequences": sequences,
    "embedding": embedding,
    "heads": heads,
    "binary": binary,
    "repack": repack,
    "softmax_latency": softmax_latency,
    "jet_tagger": jet_tagger,
    "pointwise": pointwise,
}

# (strategy for dense layers, reuse factor, accumulator precision): Resource is exact only with a wrapping
# accumulator holding every product, so its variant widens accum_t
VARIANTS = {
    "latency": ("Latency", 1, None),
    "resource": ("Resource", 2, "ap_fixed<40,16>"),
    "resource_rounding": ("Resource", 2, "ap_fixed<20,8>"),  # each product truncated into accum_t, the sum wrapped
    "unrolled": ("ResourceUnrolled", 4, None),  # hls4ml >= 1.0: a generated kernel per Dense
    "da": ("distributed_arithmetic", 1, None),
}


def _kwargs(convert: Callable, **wanted: Any) -> dict[str, Any]:
    params = inspect.signature(convert).parameters
    return {k: v for k, v in wanted.items() if k in params or "kwargs" in params}


def write(
    name: str, variant: str, out: Path, *, namespace: str | None = None, project_name: str = "myproject",
    weights_in_headers: bool = False, keras_spec: Path | None = None, backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> Path:  # fmt: skip
    """Convert one coverage model with the importable hls4ml and write its project to ``out``; with ``keras_spec``,
    also l1t's Keras-path spec of the same hls4ml model there."""
    import hls4ml

    model, precisions = MODELS[name]()
    if variant == "da":  # da4ml multiplies by the float kernel: dyadic weights keep it exact
        model = _set_weights(model, 5, dyadic=True)
    strategy, reuse, accum = VARIANTS[variant]
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    config["Model"]["Precision"] = "ap_fixed<16,6>"
    for layer in model.layers:
        cfg = config["LayerName"].setdefault(layer.name, {})
        conv = layer.__class__.__name__ in ("Conv1D", "Conv2D")  # Resource convolutions, with their own accum_t
        if layer.__class__.__name__ == "Dense" or (conv and variant == "resource"):
            cfg["Strategy"] = strategy
            cfg["ReuseFactor"] = reuse
            if accum is not None:
                cfg.setdefault("Precision", {})
                if isinstance(cfg["Precision"], dict):
                    cfg["Precision"]["accum"] = accum
    for layer_name, options in precisions.items():  # Keras layers and those hls4ml adds (<dense>_linear)
        cfg = config["LayerName"].setdefault(layer_name, {})
        for key, value in options.items():
            if key[0].isupper() or key == "table_size":  # a layer option (Implementation), not a precision
                cfg[key] = value
                continue
            if not isinstance(cfg.get("Precision"), dict):
                cfg["Precision"] = {"result": cfg["Precision"]} if "Precision" in cfg else {}
            cfg["Precision"][key] = value
    if strategy == "Resource":
        config["Model"]["Strategy"] = "Resource"
        config["Model"]["ReuseFactor"] = reuse
    convert = hls4ml.converters.convert_from_keras_model
    options = {"namespace": namespace} if namespace is not None else {}
    options |= {"write_weights_txt": False} if weights_in_headers else {}  # options of hls4ml >= 1.0 only
    kwargs = _kwargs(convert, backend=backend, io_type=io_type, project_name=project_name) | options
    hls_model = convert(model, hls_config=config, output_dir=str(out), **kwargs)
    hls_model.write()
    if keras_spec is not None:
        from l1t.models.export import export_hls_model

        export_hls_model(hls_model, keras_spec, source={"keras_model": model.name})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--variants", default="latency")
    parser.add_argument("--namespace")
    parser.add_argument("--project-name", default="myproject")
    parser.add_argument("--backends", default="Vivado", help="Vivado, Vitis (whose templates override some nnet_utils)")
    parser.add_argument("--weights-in-headers", action="store_true")
    parser.add_argument("--io-type", default="io_parallel", choices=("io_parallel", "io_stream"))
    parser.add_argument("--keras-spec", action="store_true", help="also write l1t's Keras-path spec (<project>.spec)")
    args = parser.parse_args()
    import hls4ml

    print(f"hls4ml {hls4ml.__version__} from {hls4ml.__file__}", file=sys.stderr)
    for name in args.models.split(","):
        for variant, backend in ((v, b) for v in args.variants.split(",") for b in args.backends.split(",")):
            stream = "-stream" if args.io_type == "io_stream" else ""
            target = args.out / (f"{name}-{variant}{stream}" + ("" if backend == "Vivado" else f"-{backend.lower()}"))
            try:
                write(
                    name, variant, target, namespace=args.namespace, project_name=args.project_name,
                    weights_in_headers=args.weights_in_headers, backend=backend, io_type=args.io_type,
                    keras_spec=target.with_suffix(".spec") if args.keras_spec else None,
                )  # fmt: skip
                print(f"wrote {target}", file=sys.stderr)
            except Exception as err:  # a release without the layer or option: reported, the others go on
                print(f"skipped {target}: {type(err).__name__}: {err}", file=sys.stderr)


if __name__ == "__main__":
    main()
