"""L1 jet tagger: a quantized, pruned MLP on the JET_TOWERS (16) highest-hwEt towers of an L1 jet, trained on labels
alone or distilled from the offline GNN (``l1t.models.gnn``).

Each tower (hwEt, dIEta, dIPhi, hwEtEm) enters as its raw word times a power of two (``TAGGER_INPUT_SHIFTS`` in
``l1t.emulator.calo``: hwEt / 64, offsets / 8), so the firmware's input is the link word shifted, with no multiplier.
The output is the logit (a linear QDense): the trigger cuts on it directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, Strict

from l1t import configs
from l1t.emulator.calo import TAGGER_INPUT_SHIFTS, TAGGER_INPUTS
from l1t.extras import require
from l1t.models.config import STRICT, Bits, Count, Fraction, Patience, Precision, Rate, Widths, from_yaml
from l1t.models.pruning import prunable, stripped

__all__ = ["TaggerConfig", "build_tagger", "network_inputs", "train_tagger"]

DEFAULT_CONFIG = configs.path("models", "tagger.yaml")


@dataclass
class TaggerConfig:
    __pydantic_config__ = STRICT

    hidden: Widths = field(default_factory=lambda: [32, 16])
    weight_bits: Bits = field(default_factory=lambda: [8, 2])
    bias_bits: Bits = field(default_factory=lambda: [8, 3])
    activation_bits: Bits = field(default_factory=lambda: [10, 5])
    input_type: Precision = "ap_fixed<16,6>"
    sparsity: Fraction = 0.5
    epochs: Count = 30
    batch_size: Count = 256
    learning_rate: Rate = 2e-3
    patience: Patience = 6
    distill_alpha: Annotated[float, Strict(), Field(ge=0, le=1)] = 0.5
    temperature: Rate = 2.0
    gnn: dict[str, Any] = field(
        default_factory=lambda: {"k": 8, "channels": [32, 32], "dense": 64, "epochs": 20, "learning_rate": 1e-3}
    )

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> TaggerConfig:
        return from_yaml(cls, path or DEFAULT_CONFIG, overrides)


def network_inputs(constituents: np.ndarray) -> np.ndarray:
    """(M, JET_TOWERS, 4) tower words -> (M, TAGGER_INPUTS) float inputs (exact: raw / 2**shift)."""
    c = np.asarray(constituents, dtype=np.float32) / (2.0**TAGGER_INPUT_SHIFTS)
    return c.reshape(len(c), -1)


def build_tagger(cfg: TaggerConfig, n_inputs: int = TAGGER_INPUTS) -> Any:
    """QKeras MLP: QDense + quantized_relu per hidden layer, then the logit."""
    require("ml", "the jet tagger")
    import tensorflow as tf
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    wq, bq = quantized_bits(*cfg.weight_bits, alpha=1), quantized_bits(*cfg.bias_bits, alpha=1)
    x = tf.keras.Input((n_inputs,), name="towers")
    h = x
    for i, width in enumerate(cfg.hidden):
        h = QDense(width, kernel_quantizer=wq, bias_quantizer=bq, name=f"dense{i + 1}")(h)
        h = QActivation(quantized_relu(*cfg.activation_bits), name=f"dense{i + 1}_relu")(h)
    logit = QDense(1, kernel_quantizer=wq, bias_quantizer=bq, name="logit")(h)
    return tf.keras.Model(x, logit, name="l1_tagger")


def distillation_loss(alpha: float, temperature: float) -> Any:
    """``alpha`` x BCE(label, sigmoid(z)) + (1 - alpha) T^2 BCE(teacher, sigmoid(z / T)); y = (label, teacher)."""
    require("ml", "the jet tagger")
    import tensorflow as tf

    def loss(y: Any, z: Any) -> Any:
        hard = tf.nn.sigmoid_cross_entropy_with_logits(labels=y[:, :1], logits=z)
        soft = tf.nn.sigmoid_cross_entropy_with_logits(labels=y[:, 1:], logits=z / temperature)
        return tf.reduce_mean(alpha * hard + (1 - alpha) * temperature**2 * soft)

    return loss


def train_tagger(
    cfg: TaggerConfig,
    x: np.ndarray,
    label: np.ndarray,
    xv: np.ndarray,
    label_v: np.ndarray,
    seed: int,
    teacher: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: list[Any] | None = None,
) -> tuple[Any, dict[str, list[float]]]:
    """Train on labels alone, or with ``teacher`` = (train, validation) teacher logits, distilled; pruned to
    ``cfg.sparsity`` (reached by half the epochs, early stopping only after)."""
    require("ml", "the jet tagger")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    def target(lab: np.ndarray, logits: np.ndarray | None) -> np.ndarray:
        soft = lab if logits is None else 1 / (1 + np.exp(-logits / cfg.temperature))
        return np.stack([lab, soft], axis=1).astype(np.float32)

    alpha = 1.0 if teacher is None else cfg.distill_alpha
    y, yv = (
        target(label, None if teacher is None else teacher[0]),
        target(label_v, None if teacher is None else teacher[1]),
    )
    model, cbs = prunable(
        build_tagger(cfg, x.shape[1]), cfg.sparsity, int(np.ceil(len(x) / cfg.batch_size)), cfg.epochs
    )
    cbs += list(callbacks or [])
    if cfg.patience > 0:
        start = max(cfg.epochs // 2, 1) if cfg.sparsity > 0 else 0
        cbs.append(
            tf.keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True, start_from_epoch=start)
        )
    model.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate), loss=distillation_loss(alpha, cfg.temperature))
    hist = model.fit(
        x, y, validation_data=(xv, yv), epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True, verbose=0,
        callbacks=cbs,
    )  # fmt: skip
    return stripped(model, cfg.sparsity), {k: [float(v) for v in vals] for k, vals in hist.history.items()}
