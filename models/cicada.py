"""CICADA-style calorimeter anomaly detection: a float convolutional autoencoder (teacher) on the 18 x 14 regions,
distilled into small quantized regressors (students) of the teacher's log reconstruction loss.

Regions enter the networks as the 10-bit hwEt words scaled by 2**-``INPUT_SHIFT`` (hwEt / 32), i.e. the raw
10-bit values with a power-of-two scale, so the firmware needs no multiplier at the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from l1t import configs
from l1t.emulator.calo import CICADA_INPUT_SHIFT as INPUT_SHIFT
from l1t.emulator.calo import REGION_GRID
from l1t.extras import require
from l1t.models.config import STRICT, Bits, Count, Fraction, Patience, Precision, Rate, from_yaml
from l1t.models.pruning import prunable, stripped

__all__ = ["CicadaConfig", "build_student", "build_teacher", "teacher_target", "train_student", "train_teacher"]

DEFAULT_CONFIG = configs.path("models", "cicada.yaml")


@dataclass
class CicadaConfig:
    __pydantic_config__ = STRICT

    teacher: dict[str, Any] = field(default_factory=lambda: {"filters": [8, 12], "latent": 16, "epochs": 30})
    student: str = "cnn"
    weight_bits: Bits = field(default_factory=lambda: [8, 2])
    bias_bits: Bits = field(default_factory=lambda: [8, 3])
    activation_bits: Bits = field(default_factory=lambda: [10, 6])
    output_type: Precision = "ap_ufixed<16,8,AP_TRN,AP_SAT>"
    sparsity: Fraction = 0.0
    epochs: Count = 30
    batch_size: Count = 256
    learning_rate: Rate = 2e-3
    patience: Patience = 5

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> CicadaConfig:
        teacher_epochs = overrides.pop("teacher_epochs", None)
        cfg = from_yaml(cls, path or DEFAULT_CONFIG, overrides)
        if teacher_epochs is not None:
            cfg.teacher = {**cfg.teacher, "epochs": teacher_epochs}
        return cfg


def network_inputs(regions: np.ndarray) -> np.ndarray:
    """(N, *REGION_GRID) hwEt regions -> (N, *REGION_GRID, 1) float network inputs (exact: hwEt / 32)."""
    return (np.asarray(regions, dtype=np.float32) / 2**INPUT_SHIFT)[..., None]


def build_teacher(cfg: CicadaConfig) -> Any:
    """Convolutional autoencoder: Conv-Pool blocks, dense bottleneck, mirrored decoder to 18 x 14."""
    require("ml", "the CICADA models")
    import tensorflow as tf

    layers = tf.keras.layers
    x = tf.keras.Input((*REGION_GRID, 1), name="regions")
    h = x
    for i, f in enumerate(cfg.teacher["filters"]):
        h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"t_conv{i}")(h)
        h = layers.AveragePooling2D(2, padding="same", name=f"t_pool{i}")(h)
    shape = h.shape[1:]
    h = layers.Flatten()(h)
    h = layers.Dense(cfg.teacher["latent"], activation="relu", name="t_latent")(h)
    h = layers.Dense(int(np.prod(shape)), activation="relu")(h)
    h = layers.Reshape(shape)(h)
    for i, f in enumerate(reversed(cfg.teacher["filters"])):
        h = layers.UpSampling2D(2, name=f"t_up{i}")(h)
        h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"t_deconv{i}")(h)
    h = layers.Cropping2D(((0, h.shape[1] - 18), (0, h.shape[2] - 14)))(h)
    out = layers.Conv2D(1, 3, padding="same", activation="relu", name="t_out")(h)
    return tf.keras.Model(x, out, name="cicada_teacher")


def teacher_target(teacher: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The distillation target: log(1 + 32 * per-event MSE) of the teacher's reconstruction (regions in hwEt/32)."""
    recon = teacher.predict(x, batch_size=batch_size, verbose=0)
    mse = np.mean(np.square(recon - x), axis=(1, 2, 3))
    return np.log1p(32 * mse).astype(np.float32)


def build_student(cfg: CicadaConfig) -> Any:
    """Quantized student: 'cnn' (Conv2D 3 filters 3x3 stride 2 -> Dense 20 -> Dense 1) or 'mlp' (16 -> 16 -> 1)."""
    require("ml", "the CICADA models")
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    wq, bq = quantized_bits(*cfg.weight_bits, alpha=1), quantized_bits(*cfg.bias_bits, alpha=1)
    act = quantized_relu(*cfg.activation_bits)
    x = tf.keras.Input((*REGION_GRID, 1), name="regions")
    if cfg.student == "cnn":
        h = QConv2D(3, (3, 3), strides=2, kernel_quantizer=wq, bias_quantizer=bq, name="conv")(x)
        h = QActivation(act, name="conv_relu")(h)
        h = tf.keras.layers.Flatten(name="flat")(h)
        h = QDense(20, kernel_quantizer=wq, bias_quantizer=bq, name="dense1")(h)
        h = QActivation(act, name="dense1_relu")(h)
    elif cfg.student == "mlp":
        h = tf.keras.layers.Flatten(name="flat")(x)
        for i in range(2):
            h = QDense(16, kernel_quantizer=wq, bias_quantizer=bq, name=f"dense{i + 1}")(h)
            h = QActivation(act, name=f"dense{i + 1}_relu")(h)
    else:
        raise ValueError(f"unknown student {cfg.student!r}; choose cnn or mlp")
    score = QDense(1, kernel_quantizer=wq, bias_quantizer=bq, name="score")(h)
    return tf.keras.Model(x, score, name=f"cicada_{cfg.student}")


def _fit(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    xv: np.ndarray,
    yv: np.ndarray,
    epochs: int,
    cfg: CicadaConfig,
    callbacks: list[Any] | None,
    sparsity: float = 0.0,
) -> tuple[Any, dict[str, list[float]]]:
    """Fit with MSE and early stopping (not before a pruning schedule has reached its target)."""
    require("ml", "the CICADA models")
    import tensorflow as tf

    model, cbs = prunable(model, sparsity, int(np.ceil(len(x) / cfg.batch_size)), epochs)
    cbs += list(callbacks or [])
    model.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate), loss="mse")
    if cfg.patience > 0:
        start = max(epochs // 2, 1) if sparsity > 0 else 0
        cbs.append(
            tf.keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True, start_from_epoch=start)
        )
    hist = model.fit(
        x, y, validation_data=(xv, yv), epochs=epochs, batch_size=cfg.batch_size, shuffle=True, verbose=0, callbacks=cbs
    )
    return stripped(model, sparsity), {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def train_teacher(
    cfg: CicadaConfig, x: np.ndarray, xv: np.ndarray, seed: int, callbacks: list[Any] | None = None
) -> tuple[Any, dict[str, list[float]]]:
    require("ml", "the CICADA models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return _fit(build_teacher(cfg), x, x, xv, xv, cfg.teacher["epochs"], cfg, callbacks)


def train_student(
    cfg: CicadaConfig,
    x: np.ndarray,
    target: np.ndarray,
    xv: np.ndarray,
    target_v: np.ndarray,
    seed: int,
    callbacks: list[Any] | None = None,
) -> tuple[Any, dict[str, list[float]]]:
    """Knowledge distillation: regress the teacher's log-loss target with MSE; pruned to ``cfg.sparsity``."""
    require("ml", "the CICADA models")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return _fit(build_student(cfg), x, target, xv, target_v, cfg.epochs, cfg, callbacks, cfg.sparsity)
