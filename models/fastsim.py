"""Generative fast simulation of L1 jets: a conditional VAE that draws an L1 jet (hwPt, hwEta) and its 16 towers
(hwEt, dIEta, dIPhi, hwEtEm) for a given process, in place of Pythia8 + detector response + L1 jet finding.

Why a conditional VAE: sampling is one decoder pass per jet (a diffusion model needs tens of network passes, which
defeats a fast simulation), training is a stable likelihood fit that converges on two CPU cores in minutes (a GAN's
adversarial training needs tuning per data set), and conditioning on the process is a one-hot input. The KL weight
is small (sharp reconstructions), so latent points are drawn from a full-covariance Gaussian fitted per process to
the encoder's means on the training jets ("ex-post density estimation", Ghosh et al., ICLR 2020) rather than from
N(0, 1). Its known weakness, smoothed tails, is what the fidelity table (FPD, KPD, W1) measures against held-out
Pythia jets.

Encoding (all of order one): sqrt(hwEt / TOWER_ET_MAX) per tower, offsets / 9, the EM fraction hwEtEm / hwEt; for the
jet log(hwPt) / log(2048) and hwEta / 64. Decoding inverts it, rounds to hardware integers, clips to each
field's range, orders the towers by hwEt and zeroes towers whose hwEt rounds to zero. hwPhi is drawn uniformly.
Whole crossings (``l1t.pipelines.fastsim.sample_events``) place two generated jets' towers on the tower grid and run
the L1 algorithms; training runs and generated files are made there too.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from l1t import configs
from l1t.emulator import calo
from l1t.emulator.objects import CALO
from l1t.extras import require
from l1t.models import fidelity
from l1t.models.config import STRICT, Count, NonNegative, Patience, Rate, Widths, from_yaml

__all__ = [
    "FastSimConfig",
    "build_cvae",
    "decode",
    "encode",
    "fidelity_table",
    "load",
    "sample",
    "save",
    "tower_jet_features",
    "train",
]

DEFAULT_CONFIG = configs.path("models", "fastsim.yaml")
N_T = calo.JET_TOWERS
N_FEATURES = 2 + 4 * N_T
ET_MAX = calo.TOWER_ET_MAX
TOWER_DETA = 0.087  # barrel tower size in eta and phi (2 pi / 72)
TOWER_DPHI = 2 * np.pi / 72


@dataclass
class FastSimConfig:
    __pydantic_config__ = STRICT

    latent: Count = 32
    hidden: Widths = field(default_factory=lambda: [512, 256])
    beta: NonNegative = 0.004
    epochs: Count = 500
    batch_size: Count = 256
    learning_rate: Rate = 1e-3
    patience: Patience = 30

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> FastSimConfig:
        return from_yaml(cls, path or DEFAULT_CONFIG, overrides)


def encode(jet_hw: np.ndarray, towers: np.ndarray) -> np.ndarray:
    """(M, 3) L1 jets and (M, 16, 4) towers -> (M, 66) network features."""
    t = np.asarray(towers, dtype=np.float64)
    et = t[..., 0]
    frac = np.divide(t[..., 3], et, out=np.zeros_like(et), where=et > 0)
    per_tower = np.stack(
        [np.sqrt(et / ET_MAX), t[..., 1] / calo.JET_TOWER_HALF, t[..., 2] / calo.JET_TOWER_HALF, frac], axis=-1
    )
    jet = np.stack([np.log(np.maximum(jet_hw[:, 0], 1)) / np.log(2048), jet_hw[:, 1] / 64], axis=1)
    return np.concatenate([jet, per_tower.reshape(len(t), -1)], axis=1).astype(np.float32)


def decode(features: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(M, 66) network features -> (M, 3) L1 jets and (M, 16, 4) towers in hardware integers, valid for the
    ``l1t.jets`` schema."""
    f = np.asarray(features, dtype=np.float64)
    m = len(f)
    pt = np.clip(np.rint(np.exp(f[:, 0] * np.log(2048))), calo.TAGGER_JET_PT_MIN / CALO.pt_lsb, CALO.pt_max)
    eta_lim = int(calo.TAGGER_JET_ETA_MAX / CALO.eta_lsb)
    eta = np.clip(np.rint(f[:, 1] * 64), -eta_lim, eta_lim)
    phi = rng.integers(0, CALO.phi_steps, m)
    t = f[:, 2:].reshape(m, N_T, 4)
    et = np.clip(np.rint(np.clip(t[..., 0], 0, 1) ** 2 * ET_MAX), 0, ET_MAX)
    half = calo.JET_TOWER_HALF
    d_eta = np.clip(np.rint(t[..., 1] * half), -half, half)
    d_phi = np.clip(np.rint(t[..., 2] * half), -half, half)
    em = np.clip(np.rint(np.clip(t[..., 3], 0, 1) * et), 0, et)
    towers = np.stack([et, d_eta, d_phi, em], axis=-1) * (et[..., None] > 0)
    order = np.argsort(-towers[..., 0], axis=1, kind="stable")
    towers = np.take_along_axis(towers, order[..., None], axis=1)
    return np.stack([pt, eta, phi], axis=1).astype(np.int32), towers.astype(np.int32)


def build_cvae(cfg: FastSimConfig, n_classes: int) -> tuple[Any, Any]:
    """(trainable CVAE with its KL loss added, decoder (z, condition) -> features)."""
    require("ml", "the fast simulation model")
    import tensorflow as tf

    layers = tf.keras.layers
    x = tf.keras.Input((N_FEATURES,), name="jet")
    c = tf.keras.Input((n_classes,), name="process")
    h = layers.Concatenate()([x, c])
    for i, n in enumerate(cfg.hidden):
        h = layers.Dense(n, activation="relu", name=f"enc{i}")(h)
    mu = layers.Dense(cfg.latent, name="mu")(h)
    logvar = layers.Dense(cfg.latent, name="logvar")(h)

    z_in = tf.keras.Input((cfg.latent,), name="z")
    c_in = tf.keras.Input((n_classes,), name="process_d")
    d = layers.Concatenate()([z_in, c_in])
    for i, n in enumerate(reversed(cfg.hidden)):
        d = layers.Dense(n, activation="relu", name=f"dec{i}")(d)
    decoder = tf.keras.Model([z_in, c_in], layers.Dense(N_FEATURES, name="features")(d), name="decoder")

    class Reparametrize(layers.Layer):
        def call(self, inputs: Any) -> Any:
            m, lv = inputs
            kl = -0.5 * tf.reduce_mean(tf.reduce_sum(1 + lv - tf.square(m) - tf.exp(lv), axis=1))
            self.add_loss(cfg.beta * kl)
            return m + tf.exp(0.5 * lv) * tf.random.normal(tf.shape(m))

    z = Reparametrize(name="z_sample")([mu, logvar])
    return tf.keras.Model([x, c], decoder([z, c]), name="jet_cvae"), decoder


def train(
    cfg: FastSimConfig,
    x: np.ndarray,
    cond: np.ndarray,
    xv: np.ndarray,
    cond_v: np.ndarray,
    seed: int,
    callbacks: list[Any] | None = None,
) -> tuple[Any, dict[str, np.ndarray], dict[str, list[float]]]:
    """Fit the CVAE (summed squared error + beta KL); returns (decoder, latent prior per process, history).

    The prior holds, per process (condition column), the mean and covariance of the encoder's mu on ``x``."""
    require("ml", "the fast simulation model")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model, decoder = build_cvae(cfg, cond.shape[1])
    model.compile(
        optimizer=tf.keras.optimizers.Adam(cfg.learning_rate),
        loss=lambda y, p: tf.reduce_sum(tf.square(y - p), axis=-1),
    )
    cbs = [tf.keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True), *(callbacks or [])]
    hist = model.fit(
        [x, cond], x, validation_data=([xv, cond_v], xv), epochs=cfg.epochs, batch_size=cfg.batch_size,
        shuffle=True, verbose=0, callbacks=cbs,
    )  # fmt: skip
    encoder = tf.keras.Model(model.inputs, model.get_layer("mu").output)
    mu = encoder.predict([x, cond], batch_size=8192, verbose=0).astype(np.float64)
    k = cond.argmax(axis=1)
    prior = {
        "mean": np.stack([mu[k == j].mean(axis=0) for j in range(cond.shape[1])]),
        "cov": np.stack([np.cov(mu[k == j], rowvar=False) for j in range(cond.shape[1])]),
    }
    return decoder, prior, {key: [float(v) for v in vals] for key, vals in hist.history.items()}


def sample(
    decoder: Any, prior: dict[str, np.ndarray], process_index: int, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` jets of one process (its condition column): (n, 3) L1 jets and (n, 16, 4) towers."""
    rng = np.random.default_rng(seed)
    n_classes = len(prior["mean"])
    if not 0 <= process_index < n_classes:
        raise ValueError(f"process index {process_index} outside the model's {n_classes} processes")
    z = rng.multivariate_normal(prior["mean"][process_index], prior["cov"][process_index], n).astype(np.float32)
    cond = np.zeros((n, n_classes), dtype=np.float32)
    cond[:, process_index] = 1
    return decode(decoder.predict([z, cond], batch_size=8192, verbose=0), rng)


def tower_jet_features(towers: np.ndarray) -> np.ndarray:
    """``fidelity.jet_features`` of the towers (hwEt LSB 0.5 GeV, offsets in barrel tower sizes)."""
    t = np.asarray(towers, dtype=np.float64)
    return fidelity.jet_features(t[..., 0] * CALO.pt_lsb, t[..., 1] * TOWER_DETA, t[..., 2] * TOWER_DPHI)


def fidelity_table(reference: np.ndarray, candidates: dict[str, np.ndarray], seed: int = 42) -> dict[str, Any]:
    """FPD, KPD (x 1e3) and W1 of jet mass, jet pT and each tower field, of every candidate tower set (M, 16, 4)
    against ``reference`` (held-out Pythia towers)."""
    ref = tower_jet_features(reference)
    ref_towers = reference.reshape(-1, 4)[reference.reshape(-1, 4)[:, 0] > 0]
    rows = {}
    for name, towers in candidates.items():
        t0 = time.perf_counter()
        feats = tower_jet_features(towers)
        n = min(len(ref), len(feats))
        value, err = fidelity.fpd(
            ref, feats, min_samples=max(n // 5, 50), max_samples=n, batches=10, points=5, seed=seed
        )
        k_value, k_err = fidelity.kpd(ref, feats, batches=10, batch_size=min(2000, n), seed=seed)
        w_jet, _ = fidelity.w1(ref[:, :2], feats[:, :2], batches=3, samples=n, seed=seed)
        present = towers.reshape(-1, 4)[towers.reshape(-1, 4)[:, 0] > 0]
        w_tower, _ = fidelity.w1(ref_towers, present, batches=3, samples=min(len(ref_towers), len(present)), seed=seed)
        rows[name] = {
            "fpd_x1e3": 1e3 * value,
            "fpd_err_x1e3": 1e3 * err,
            "kpd_x1e3": 1e3 * k_value,
            "kpd_err_x1e3": 1e3 * k_err,
            "w1_pt_gev": float(w_jet[0]),
            "w1_mass_gev": float(w_jet[1]),
            "w1_tower": {k: float(v) for k, v in zip(("hwEt", "dIEta", "dIPhi", "hwEtEm"), w_tower, strict=True)},
            "jets": len(towers),
            "seconds": time.perf_counter() - t0,
        }
    return rows


def save(out: Path, decoder: Any, prior: dict[str, np.ndarray], processes: list[str], cfg: FastSimConfig) -> None:
    """``decoder.h5``, ``prior.npz`` and ``fastsim.json`` (processes in condition order, configuration)."""
    import json
    import warnings

    from l1t.atomic import atomic_path, write_text

    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        decoder.save(out / "decoder.h5")
    with atomic_path(out / "prior.npz", suffix=".npz") as tmp:
        np.savez(tmp, **prior)
    write_text(out / "fastsim.json", json.dumps({"processes": processes, "config": asdict(cfg)}, indent=1))


def load(run_dir: str | Path) -> tuple[Any, dict[str, np.ndarray], list[str]]:
    """(decoder, prior, processes) of a directory written by ``l1t train fastsim``."""
    import json

    require("ml", "the fast simulation model")
    import tensorflow as tf

    run_dir = Path(run_dir)
    meta = run_dir / "fastsim.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta} not found: not a directory written by `l1t train fastsim`")
    with np.load(run_dir / "prior.npz") as f:
        prior = {k: f[k] for k in f.files}
    decoder = tf.keras.models.load_model(run_dir / "decoder.h5", compile=False)
    return decoder, prior, json.loads(meta.read_text())["processes"]
