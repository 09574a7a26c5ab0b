"""AXOL1TL-style VAE on the GT inputs (``AXOL1TL_INPUTS``): quantized, pruned encoder (mu and log sigma^2 heads)
for the trigger, float decoder for training only. Scores: sum mu^2 (as AXOL1TL in CMS) and R_z = sum mu^2 / sigma^2.

Inputs reach the network as the firmware makes them (``l1t.emulator.objects.InputScaling``): per feature
``(x - offset) >> shift`` into ``ap_fixed<16, 16 - F>``, with a power-of-two shift close to the feature's spread; the
Keras model trains on exactly those values, so float, quantized and emulated networks see the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, Strict

import l1t.emulator.fixed as fx
from l1t import configs
from l1t.emulator.objects import AXOL1TL_INPUTS, AXOL1TL_OBJECTS
from l1t.extras import require
from l1t.models.config import STRICT, Bits, Count, Fraction, NonNegative, Patience, Rate, Widths, from_yaml
from l1t.models.pruning import prunable, stripped

__all__ = ["AxoConfig", "build_decoder", "build_encoder", "object_mask", "train_vae"]

DEFAULT_CONFIG = configs.path("models", "axol1tl.yaml")


@dataclass
class AxoConfig:
    __pydantic_config__ = STRICT

    encoder: Widths = field(default_factory=lambda: [32, 16])
    latent: Count = 8
    decoder: Widths = field(default_factory=lambda: [16, 32])
    beta: NonNegative = 0.5
    weight_bits: Bits = field(default_factory=lambda: [6, 2])
    bias_bits: Bits = field(default_factory=lambda: [10, 6])
    activation_bits: Bits = field(default_factory=lambda: [8, 3])
    sparsity: Fraction = 0.5
    input_frac_bits: Annotated[int, Strict(), Field(ge=0, le=16)] = 10
    epochs: Count = 30
    batch_size: Count = 256
    learning_rate: Rate = 1e-3
    patience: Patience = 5

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> AxoConfig:
        return from_yaml(cls, path or DEFAULT_CONFIG, overrides)

    @property
    def input_t(self) -> fx.FixedType:
        return fx.ap_fixed(16, 16 - self.input_frac_bits)


def object_mask(x: np.ndarray) -> np.ndarray:
    """1 for the features of present objects (hwPt > 0; MET always), 0 for zero padding: (N, AXOL1TL_INPUTS) float32."""
    present = np.asarray(x).reshape(len(x), AXOL1TL_OBJECTS, 3)[:, :, :1] > 0
    present[:, 0] = True
    return np.repeat(present, 3, axis=2).reshape(len(x), AXOL1TL_INPUTS).astype(np.float32)


def build_encoder(cfg: AxoConfig, quantized: bool = True) -> Any:
    """Encoder AXOL1TL_INPUTS -> hidden -> (mu, logvar); QKeras quantizers when ``quantized``."""
    require("ml", "the AXOL1TL model")
    import tensorflow as tf

    x = tf.keras.Input((AXOL1TL_INPUTS,), name="gt_inputs")
    h = x
    if quantized:
        require("ml", "the AXOL1TL model")
        from qkeras import QActivation, QDense, quantized_bits, quantized_relu

        wq = quantized_bits(*cfg.weight_bits, alpha=1)
        bq = quantized_bits(*cfg.bias_bits, alpha=1)
        for i, n in enumerate(cfg.encoder):
            h = QDense(n, kernel_quantizer=wq, bias_quantizer=bq, name=f"enc{i}")(h)
            h = QActivation(quantized_relu(*cfg.activation_bits), name=f"enc{i}_relu")(h)
        mu = QDense(cfg.latent, kernel_quantizer=wq, bias_quantizer=bq, name="mu")(h)
        logvar = QDense(cfg.latent, kernel_quantizer=wq, bias_quantizer=bq, name="logvar")(h)
    else:
        for i, n in enumerate(cfg.encoder):
            h = tf.keras.layers.Dense(n, activation="relu", name=f"enc{i}")(h)
        mu = tf.keras.layers.Dense(cfg.latent, name="mu")(h)
        logvar = tf.keras.layers.Dense(cfg.latent, name="logvar")(h)
    return tf.keras.Model(x, [mu, logvar], name="axol1tl_encoder")


def build_decoder(cfg: AxoConfig) -> Any:
    require("ml", "the AXOL1TL model")
    import tensorflow as tf

    z = tf.keras.Input((cfg.latent,), name="z")
    h = z
    for i, n in enumerate(cfg.decoder):
        h = tf.keras.layers.Dense(n, activation="relu", name=f"dec{i}")(h)
    return tf.keras.Model(z, tf.keras.layers.Dense(AXOL1TL_INPUTS, name="recon")(h), name="axol1tl_decoder")


def _vae_class() -> type:
    require("ml", "the AXOL1TL model")
    import tensorflow as tf

    class VAE(tf.keras.Model):
        """beta-VAE; the reconstruction error counts only present objects' features."""

        def __init__(self, encoder: Any, decoder: Any, beta: float) -> None:
            super().__init__()
            self.encoder, self.decoder, self.beta = encoder, decoder, beta

        def _vae_losses(self, x: Any, mask: Any, training: bool) -> tuple[Any, Any]:
            mu, logvar = self.encoder(x, training=training)
            eps = tf.random.normal(tf.shape(mu))
            z = mu + tf.exp(0.5 * logvar) * eps
            recon = self.decoder(z, training=training)
            rec = tf.reduce_sum(mask * tf.square(recon - x), axis=1) / tf.reduce_sum(mask, axis=1)
            kl = -0.5 * tf.reduce_sum(1 + logvar - tf.square(mu) - tf.exp(logvar), axis=1)
            return tf.reduce_mean((1 - self.beta) * rec + self.beta * kl), tf.reduce_mean(kl)

        def train_step(self, data: Any) -> dict[str, Any]:
            x, mask = data
            with tf.GradientTape() as tape:
                loss, kl = self._vae_losses(x, mask, True)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
            return {"loss": loss, "kl": kl}

        def test_step(self, data: Any) -> dict[str, Any]:
            x, mask = data
            loss, kl = self._vae_losses(x, mask, False)
            return {"loss": loss, "kl": kl}

        def call(self, x: Any) -> Any:
            return self.encoder(x)

    return VAE


def train_vae(
    cfg: AxoConfig,
    x_train: np.ndarray,
    mask_train: np.ndarray,
    x_val: np.ndarray,
    mask_val: np.ndarray,
    *,
    quantized: bool,
    seed: int,
    callbacks: list[Any] | None = None,
) -> tuple[Any, dict[str, list[float]]]:
    """Train a VAE (quantized and pruned to ``cfg.sparsity`` when ``quantized``); returns (encoder, history).

    The returned encoder has the pruning wrappers stripped (its zero weights stay zero)."""
    require("ml", "the AXOL1TL model")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    encoder = build_encoder(cfg, quantized)
    steps = int(np.ceil(len(x_train) / cfg.batch_size))
    sparsity = cfg.sparsity if quantized else 0.0
    encoder, cbs = prunable(encoder, sparsity, steps, cfg.epochs)
    cbs += list(callbacks or [])
    vae = _vae_class()(encoder, build_decoder(cfg), cfg.beta)
    vae.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate))
    if cfg.patience > 0:  # not before the pruning schedule has reached its target
        start = max(cfg.epochs // 2, 1) if sparsity > 0 else 0
        cbs.append(
            tf.keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True, start_from_epoch=start)
        )
    hist = vae.fit(
        x_train,
        mask_train,
        validation_data=(x_val, mask_val),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=cbs,
    )
    return stripped(encoder, sparsity), {k: [float(v) for v in vals] for k, vals in hist.history.items()}
