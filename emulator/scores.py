"""Anomaly scores from the encoder's raw outputs, with the precisions the firmware uses.

Sum of squares, AXOL1TL's score: ``S = sum_i mu_i^2``. Each square is exact (``mu_t`` squared: 2W bits, 2I integer
bits) and the sum is exact in an accumulator ``ceil(log2 L)`` bits wider, then cast to ``SCORE_T`` (AP_TRN, AP_SAT).

R_z = sum_i mu_i^2 / sigma_i^2 = sum_i mu_i^2 * exp(-logvar_i). The reciprocal is a lookup table, as a firmware
would do it: ``EXP_TABLE_SIZE`` entries over logvar in [``EXP_TABLE_MIN``, ``EXP_TABLE_MAX``); entry k holds
``exp(-(centre of bin k))`` in ``EXP_TABLE_T``. The index is ``floor((logvar - min) * size / span)`` clamped to the
table, computed exactly on the raw word. Each product mu^2 * table is exact, the sum exact, the result cast to
``SCORE_T``. Against the exact float R_z, the error per term is at most ``exp(step / 2) - 1`` (relative, the bin
half-width, 0.8 %) plus the table LSB times mu^2 (absolute); clamping adds more for |logvar| beyond the range.
"""

from __future__ import annotations

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator.fixed import FixedType, OMode, QMode

__all__ = [
    "EXP_TABLE_MAX",
    "EXP_TABLE_MIN",
    "EXP_TABLE_SIZE",
    "EXP_TABLE_T",
    "SCORE_KINDS",
    "SCORE_T",
    "encoder_score",
    "exp_table",
    "rz",
    "rz_bound",
    "rz_float",
    "sum_mu2",
    "sum_type",
    "table_index_terms",
]

SCORE_T = fx.ap_ufixed(24, 16, q_mode=QMode.TRN, o_mode=OMode.SAT)
EXP_TABLE_SIZE = 1024
EXP_TABLE_MIN, EXP_TABLE_MAX = -8.0, 8.0
EXP_TABLE_T = fx.ap_ufixed(22, 12, q_mode=QMode.RND, o_mode=OMode.SAT)  # exp(8) = 2981 < 2**12


def exp_table() -> np.ndarray:
    """Raw words of the exp(-logvar) table (bin centres, rounded into EXP_TABLE_T)."""
    step = (EXP_TABLE_MAX - EXP_TABLE_MIN) / EXP_TABLE_SIZE
    centres = EXP_TABLE_MIN + (np.arange(EXP_TABLE_SIZE) + 0.5) * step
    return fx.from_float(np.exp(-centres), EXP_TABLE_T)


def sum_type(t: FixedType, terms: int, extra: FixedType | None = None) -> FixedType:
    """An accumulator holding the sum of ``terms`` exact products of t x t (x extra) without overflow."""
    w, i = 2 * t.width, 2 * t.int_bits
    if extra is not None:
        w, i = w + extra.width, i + extra.int_bits
    grow = int(np.ceil(np.log2(max(terms, 1))))
    return fx.ap_fixed(w + grow, i + grow)


def sum_mu2(mu: np.ndarray, mu_t: FixedType) -> np.ndarray:
    """Raw SCORE_T words of sum_i mu_i^2 from raw mu words (N, L)."""
    mu = np.asarray(mu, dtype=np.int64)
    acc_t = sum_type(mu_t, mu.shape[1])
    if acc_t.width > 64:
        raise ValueError(f"{mu_t}: squares of {mu.shape[1]} latents need {acc_t.width} bits")
    total = np.einsum("ij,ij->i", mu, mu)  # exact: frac bits 2F, well inside int64 for the widths above
    return fx.cast(total, fx.ap_fixed(acc_t.width, acc_t.int_bits), SCORE_T)


def table_index_terms(lv_t: FixedType) -> tuple[int, int]:
    """(offset, k) of the exp table's index on a raw logvar word: ``(raw + offset) >> k`` (``<< -k`` for k < 0) is
    floor((logvar - min) * size / span) exactly, size / span being a power of two; clamped to the table after."""
    scale = EXP_TABLE_SIZE / (EXP_TABLE_MAX - EXP_TABLE_MIN)
    shift = int(np.log2(scale))
    if 2**shift != scale:
        raise ValueError("table size / span must be a power of two")
    return round(-EXP_TABLE_MIN * 2**lv_t.frac_bits), lv_t.frac_bits - shift  # -min in logvar LSBs


def _table_index(lv: np.ndarray, lv_t: FixedType) -> np.ndarray:
    """floor((logvar - min) * size / span), clamped: exact on raw words (``table_index_terms``)."""
    offset, k = table_index_terms(lv_t)
    v = np.asarray(lv, dtype=np.int64) + offset
    idx = v >> k if k >= 0 else v << -k
    return np.clip(idx, 0, EXP_TABLE_SIZE - 1)


def rz(mu: np.ndarray, mu_t: FixedType, logvar: np.ndarray, lv_t: FixedType) -> np.ndarray:
    """Raw SCORE_T words of R_z = sum_i mu_i^2 exp(-logvar_i) from raw words (N, L), table as above."""
    mu = np.asarray(mu, dtype=np.int64)
    e = exp_table()[_table_index(logvar, lv_t)]
    acc_t = sum_type(mu_t, mu.shape[1], EXP_TABLE_T)
    if acc_t.width > 63:
        raise ValueError(f"{mu_t} x {EXP_TABLE_T}: the R_z accumulator needs {acc_t.width} bits")
    total = np.einsum("ij,ij,ij->i", mu, mu, e)
    return fx.cast(total, fx.ap_fixed(acc_t.width, acc_t.int_bits), SCORE_T)


SCORE_KINDS = ("sum_mu2", "R_z")


def encoder_score(out: dict[str, np.ndarray], types: dict[str, FixedType], kind: str = "sum_mu2") -> np.ndarray:
    """Raw SCORE_T words of an encoder's outputs (``mu``, and ``logvar`` for R_z): ``kind`` in SCORE_KINDS."""
    if kind == "R_z":
        return rz(out["mu"], types["mu"], out["logvar"], types["logvar"])
    if kind != "sum_mu2":
        raise ValueError(f"score must be one of {SCORE_KINDS}, got {kind!r}")
    return sum_mu2(out["mu"], types["mu"])


def rz_float(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """The exact R_z of float mu and logvar."""
    return (np.square(mu) * np.exp(-logvar)).sum(axis=1)


def rz_bound(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Upper bound of |rz (as float) - rz_float| for logvar inside the table's range (module docstring)."""
    step = (EXP_TABLE_MAX - EXP_TABLE_MIN) / EXP_TABLE_SIZE
    mu2 = np.square(mu)
    rel = np.expm1(step / 2) * (mu2 * np.exp(-logvar)).sum(axis=1)
    return rel + EXP_TABLE_T.lsb * mu2.sum(axis=1) + SCORE_T.lsb
