"""Offline reference tagger: an EdgeConv graph network (ParticleNet-style) on the jet's particles, in float.

Each particle is a node with features (log pT, log pT / pT_jet, d_eta, d_phi, brought to order one, and its
one-hot kind); an EdgeConv block
finds each node's k nearest neighbours (in (d_eta, d_phi) for the first block, in the previous block's features
after that), applies a shared MLP to the edge features (x_i, x_j - x_i), averages over the neighbours and adds a
linear shortcut. Padding particles (pT = 0) are never neighbours and are left out of the global average.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from l1t.extras import require

__all__ = ["build_gnn", "graph_inputs", "predict_logits", "train_gnn"]

N_KINDS = 5
FAR = 1e6  # squared distance that keeps padding particles out of every neighbourhood


def graph_inputs(particles: np.ndarray) -> dict[str, np.ndarray]:
    """(M, n, 4) particle features (pT, d_eta, d_phi, kind) -> the network's inputs: points, features, mask."""
    p = np.asarray(particles, dtype=np.float32)
    pt = p[..., 0]
    mask = (pt > 0).astype(np.float32)
    log_pt = np.log(np.maximum(pt, 1e-3))
    rel = np.log(np.maximum(pt, 1e-3) / np.maximum(pt.sum(axis=1, keepdims=True), 1e-3))
    kinds = np.eye(N_KINDS, dtype=np.float32)[p[..., 3].astype(np.int64)]
    scaled = np.stack([(log_pt - 2) / 2, (rel + 4) / 2, 5 * p[..., 1], 5 * p[..., 2]], axis=-1)  # order one
    feats = np.concatenate([scaled, kinds], axis=-1)
    return {"points": 5 * p[..., 1:3], "features": feats * mask[..., None], "mask": mask[..., None]}


def _edge_conv(k: int, channels: int, name: str) -> Any:
    require("ml", "the GNN")
    import tensorflow as tf

    class EdgeConv(tf.keras.layers.Layer):
        def __init__(self) -> None:
            super().__init__(name=name)
            self.mlp = [tf.keras.layers.Dense(channels, activation="relu") for _ in range(2)]
            self.shortcut = tf.keras.layers.Dense(channels)

        def call(self, points: Any, features: Any, mask: Any) -> Any:
            sq = tf.reduce_sum(points * points, axis=-1, keepdims=True)
            dist = sq - 2 * tf.matmul(points, points, transpose_b=True) + tf.transpose(sq, [0, 2, 1])
            dist += FAR * (1 - tf.transpose(mask, [0, 2, 1]))  # padding is never a neighbour
            dist += FAR * tf.eye(tf.shape(points)[1])  # nor is the node itself
            idx = tf.math.top_k(-dist, k=k).indices  # (M, n, k)
            neighbours = tf.gather(features, idx, batch_dims=1)  # (M, n, k, C)
            centre = tf.repeat(features[:, :, None, :], k, axis=2)
            h = tf.concat([centre, neighbours - centre], axis=-1)
            for layer in self.mlp:
                h = layer(h)
            return tf.nn.relu(tf.reduce_mean(h, axis=2) + self.shortcut(features)) * mask

    return EdgeConv()


def build_gnn(cfg: dict[str, Any], n: int = 64, n_features: int = 4 + N_KINDS) -> Any:
    """EdgeConv blocks (``cfg['channels']``), masked global average, a dense layer, the logit."""
    require("ml", "the GNN")
    import tensorflow as tf

    points = tf.keras.Input((n, 2), name="points")
    features = tf.keras.Input((n, n_features), name="features")
    mask = tf.keras.Input((n, 1), name="mask")
    h, coords = features, points
    for i, channels in enumerate(cfg["channels"]):
        h = _edge_conv(int(cfg["k"]), int(channels), f"edgeconv{i + 1}")(coords, h, mask)
        coords = h
    pooled = tf.reduce_sum(h, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
    d = tf.keras.layers.Dense(int(cfg["dense"]), activation="relu", name="dense")(pooled)
    d = tf.keras.layers.Dropout(0.1, name="dropout")(d)
    logit = tf.keras.layers.Dense(1, name="logit")(d)
    return tf.keras.Model([points, features, mask], logit, name="edgeconv_gnn")


def train_gnn(
    cfg: dict[str, Any],
    particles: np.ndarray,
    label: np.ndarray,
    particles_v: np.ndarray,
    label_v: np.ndarray,
    seed: int,
    batch_size: int = 256,
    patience: int = 5,
    callbacks: list[Any] | None = None,
) -> tuple[Any, dict[str, list[float]]]:
    """Binary cross-entropy on logits, Adam, early stopping on the validation loss."""
    require("ml", "the GNN")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = build_gnn(cfg, particles.shape[1])
    model.compile(
        optimizer=tf.keras.optimizers.Adam(float(cfg["learning_rate"])),
        loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
    )
    cbs = [tf.keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True), *(callbacks or [])]
    hist = model.fit(
        graph_inputs(particles),
        label.astype(np.float32),
        validation_data=(graph_inputs(particles_v), label_v.astype(np.float32)),
        epochs=int(cfg["epochs"]),
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=cbs,
    )
    return model, {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def predict_logits(model: Any, particles: np.ndarray) -> np.ndarray:
    return model.predict(graph_inputs(particles), batch_size=1024, verbose=0).reshape(-1).astype(np.float64)
