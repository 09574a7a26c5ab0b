"""L1 calorimeter trigger logic on trigger-tower hardware words, vectorized over events.

Towers are (N, n_eta, n_phi) integers, hwEt with LSB 0.5 GeV, tower eta index 0..n_eta-1 from -eta_max to
+eta_max, phi index 0..n_phi-1 from 0 to 2 pi (periodic). Every sum here is an integer sum, as in firmware.
"""

from __future__ import annotations

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator.objects import CALO, hw_eta, hw_phi, scale_inputs

__all__ = [
    "CALIBRATION_BITS",
    "CICADA_INPUT_SHIFT",
    "JET_TOWERS",
    "JET_TOWER_HALF",
    "REGION_ET_BITS",
    "REGION_ET_MAX",
    "REGION_GRID",
    "REGION_WORDS",
    "SUM_ET_BITS",
    "SUM_ET_MAX",
    "SUM_INDEX",
    "TAGGER_INPUTS",
    "TAGGER_INPUT_SHIFTS",
    "TAGGER_JET_ETA_MAX",
    "TAGGER_JET_PT_MIN",
    "TOWER_ET_BITS",
    "TOWER_ET_MAX",
    "box_sum",
    "cicada_input_raw",
    "clusters",
    "egammas",
    "jets",
    "local_maxima",
    "regions",
    "sums",
    "tagger_input_raw",
    "tagger_jets",
    "taus",
    "tower_hw",
    "tower_total",
]

TOWER_ET_BITS = 9
CALIBRATION_BITS = 9  # fractional bits of a jet calibration multiplier (a factor f is the word round(f x 2**9))
TOWER_ET_MAX = (1 << TOWER_ET_BITS) - 1
REGION_ET_BITS = 10
SUM_ET_BITS = 12  # hwMET, hwHT and hwETT words of the energy sums
SUM_ET_MAX = (1 << SUM_ET_BITS) - 1
REGION_ET_MAX = (1 << REGION_ET_BITS) - 1
REGION_GRID = (18, 14)  # CICADA's input: calo regions of 4 x 4 towers, (phi, eta) over the 72 x 56 barrel/endcap
REGION_WORDS = REGION_GRID[0] * REGION_GRID[1]
# The towers an L1 jet carries for the tagger: the JET_TOWERS of highest hwEt within dR < 0.8 of the seed, as
# (hwEt, dIEta, dIPhi, hwEtEm) with offsets within JET_TOWER_HALF towers of the seed (0.8 / 0.087 rounded up).
JET_TOWERS = 16
JET_TOWER_HALF = 9
TAGGER_JET_PT_MIN = 200.0  # GeV: the L1 jets a tagger takes have pT >= this and |eta| <= TAGGER_JET_ETA_MAX
TAGGER_JET_ETA_MAX = 2.4
CICADA_INPUT_SHIFT = 5  # CICADA network input = region hwEt / 2**5: exact in ap_fixed<16,6>, no multiplier
# The tagger's input per tower field (hwEt, dIEta, dIPhi, hwEtEm): the word / 2**shift, a wire shift in firmware
TAGGER_INPUT_SHIFTS = np.array([6, 3, 3, 6])
TAGGER_INPUTS = JET_TOWERS * len(TAGGER_INPUT_SHIFTS)


def cicada_input_raw(regions: np.ndarray, input_t: fx.FixedType) -> np.ndarray:
    """(N, *REGION_GRID) region hwEt -> raw words (N, *REGION_GRID, 1) of a CICADA network's input type:
    hwEt / 2**CICADA_INPUT_SHIFT, exact; a type that cannot hold every 10-bit region that way is refused. The words
    are in the type's narrowest integer dtype (``fx.word_dtype``), which holds every shifted region."""
    k = input_t.frac_bits - CICADA_INPUT_SHIFT
    if k < 0 or REGION_ET_MAX << k > input_t.raw_max:
        raise ValueError(f"{input_t} cannot hold region hwEt / 2**{CICADA_INPUT_SHIFT} exactly")
    return np.asarray(regions, dtype=fx.word_dtype(input_t))[..., None] << k


def tagger_input_raw(towers: np.ndarray, input_t: fx.FixedType) -> np.ndarray:
    """(M, JET_TOWERS, 4) jet tower words -> raw words (M, TAGGER_INPUTS) of the tagger's input type: each field
    / 2**TAGGER_INPUT_SHIFTS (exact when the type has enough fractional bits; saturated otherwise)."""
    towers = np.asarray(towers, dtype=np.int64)
    shifts = np.tile(TAGGER_INPUT_SHIFTS - input_t.frac_bits, towers.shape[1])
    return scale_inputs(towers.reshape(len(towers), -1), 0, shifts, input_t.raw_min, input_t.raw_max)


def tagger_jets(hw: np.ndarray) -> np.ndarray:
    """Which L1 jets (hwPt, hwEta, ...) a tagger takes: pT >= TAGGER_JET_PT_MIN and |eta| <= TAGGER_JET_ETA_MAX."""
    pt_ok = hw[..., 0] >= TAGGER_JET_PT_MIN / CALO.pt_lsb
    return pt_ok & (np.abs(hw[..., 1]) <= TAGGER_JET_ETA_MAX / CALO.eta_lsb)


def tower_hw(et: np.ndarray) -> np.ndarray:
    """Tower ET in GeV -> hwEt: floor(ET / 0.5 GeV), saturated at 9 bits."""
    return np.clip(np.floor(et / CALO.pt_lsb), 0, TOWER_ET_MAX).astype(np.int32)


def tower_total(em: np.ndarray, had: np.ndarray) -> np.ndarray:
    """A tower's hwEt: its EM and hadronic hwEt summed, saturated at TOWER_ET_MAX (the word jets, taus, sums and the
    tagger's towers read)."""
    return np.minimum(em + had, TOWER_ET_MAX)


def regions(towers: np.ndarray, size: int = 4) -> np.ndarray:
    """CICADA input: sums of ``size`` x ``size`` towers, 10-bit unsigned saturated, as (N, phi regions, eta regions).

    With the 56 x 72 barrel/endcap towers this is 18 (phi) x 14 (eta).
    """
    n, n_eta, n_phi = towers.shape
    if n_eta % size or n_phi % size:
        raise ValueError(f"{n_eta} x {n_phi} towers do not tile into {size} x {size} regions")
    s = towers.astype(np.int64).reshape(n, n_eta // size, size, n_phi // size, size).sum(axis=(2, 4))
    return np.minimum(s, REGION_ET_MAX).astype(np.uint16).transpose(0, 2, 1)


def box_sum(towers: np.ndarray, size: int) -> np.ndarray:
    """Sum over the ``size`` x ``size`` window centred on each tower (odd size; phi periodic, eta zero outside)."""
    h = size // 2
    t = np.pad(towers.astype(np.int32, copy=False), ((0, 0), (h, h), (0, 0)))
    t = np.concatenate([t[:, :, -h:], t, t[:, :, :h]], axis=2) if h else t
    c = np.cumsum(np.cumsum(t, axis=1, dtype=np.int32), axis=2, dtype=np.int32)  # < 2**31 for 9-bit towers
    c = np.pad(c, ((0, 0), (1, 0), (1, 0)))
    n_eta, n_phi = towers.shape[1:]
    return (
        c[:, size : size + n_eta, size : size + n_phi]
        - c[:, :n_eta, size : size + n_phi]
        - c[:, size : size + n_eta, :n_phi]
        + c[:, :n_eta, :n_phi]
    )


def local_maxima(towers: np.ndarray, size: int, threshold: int) -> np.ndarray:
    """Seeds: towers at or above ``threshold`` that are the maximum of their ``size`` x ``size`` window.

    Ties are broken by position (the tower with the larger eta index, then phi index, wins), so equal neighbours
    never both seed.
    """
    n_eta, n_phi = towers.shape[1:]
    index = np.arange(n_eta * n_phi, dtype=np.int64).reshape(n_eta, n_phi)
    key = towers.astype(np.int32) * np.int32(n_eta * n_phi) + index.astype(np.int32)  # unique, ET then position
    h = size // 2
    m = key.copy()
    for d in range(1, h + 1):  # separable maximum: eta (zero outside), then phi (periodic)
        up = np.pad(key, ((0, 0), (0, d), (0, 0)))[:, d:, :]
        down = np.pad(key, ((0, 0), (d, 0), (0, 0)))[:, :-d, :]
        m = np.maximum(m, np.maximum(up, down))
    m2 = m.copy()
    for d in range(1, h + 1):
        m2 = np.maximum(m2, np.maximum(np.roll(m, d, axis=2), np.roll(m, -d, axis=2)))
    return (key == m2) & (towers >= threshold)


def clusters(
    seeds: np.ndarray, et: np.ndarray, eta_centers: np.ndarray, k: int, extra: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """The ``k`` highest-ET seeded candidates per event as (N, k, 3 + len(extra)): hwPt, hwEta, hwPhi, extras.

    ``et`` is the candidate hwPt at each seed position (N, n_eta, n_phi); hwEta from the tower centre, hwPhi in
    144 steps (two per tower).
    """
    n, n_phi = et.shape[0], et.shape[2]
    flat = np.where(seeds, et, 0).reshape(n, -1)
    order = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    pt = np.take_along_axis(flat, order, axis=1)
    ieta, iphi = np.divmod(order, n_phi)
    fields = [
        np.minimum(pt, CALO.pt_max),
        hw_eta(eta_centers[ieta], CALO.eta_lsb, CALO.eta_bits),
        (2 * iphi + 1) * CALO.phi_steps // (2 * n_phi),
    ]
    for values in (extra or {}).values():
        fields.append(np.take_along_axis(values.reshape(n, -1), order, axis=1))
    out = np.stack(fields, axis=2).astype(np.int32)
    return np.where(out[:, :, :1] > 0, out, 0)


def _eta_mask(eta_centers: np.ndarray, eta_max: float) -> np.ndarray:
    return (np.abs(eta_centers) < eta_max)[None, :, None]


def jets(towers: np.ndarray, eta_centers: np.ndarray, seed: int, k: int, window: int = 9) -> np.ndarray:
    """Sliding-window jets: a seed tower (>= ``seed`` hwEt, maximum of its window) and the window's sum minus
    pileup: the window's eta rings' total hwEt times the window's share of the phi ring (window / n_phi), floored.
    Returns (N, k, 3): hwPt, hwEta, hwPhi."""
    ring = towers.sum(axis=2, dtype=np.int64)  # (N, n_eta)
    h = window // 2
    cum = np.cumsum(np.pad(ring, ((0, 0), (h + 1, h))), axis=1)
    pileup = (cum[:, window:] - cum[:, :-window]) * window // towers.shape[2]  # (N, n_eta)
    et = np.maximum(box_sum(towers, window) - pileup[:, :, None], 0)
    return clusters(local_maxima(towers, window, seed), et, eta_centers, k)


def calibrate_jets(jets: np.ndarray, hw_edges: np.ndarray, multipliers: np.ndarray, pt_max: int) -> np.ndarray:
    """Layer-2 jet energy calibration of (N, k, 3) jets (hwPt, hwEta, hwPhi): each jet's hwPt times the multiplier of
    its raw-hwPt bin (``hw_edges``: the bins' lower edges, from 0), shifted right by CALIBRATION_BITS, saturated at
    ``pt_max`` and at least 1 (a jet stays a jet); then re-sorted by calibrated hwPt (stable), empty slots last.

    int64 products: hwPt < 2**11 and a multiplier below 2**20 stay far inside 63 bits."""
    pt = jets[:, :, 0].astype(np.int64)
    mult = np.asarray(multipliers, dtype=np.int64)[np.searchsorted(hw_edges, pt, side="right") - 1]
    calibrated = np.where(pt > 0, np.clip((pt * mult) >> CALIBRATION_BITS, 1, pt_max), 0)
    order = np.argsort(-calibrated, axis=1, kind="stable")
    out = np.take_along_axis(jets, order[:, :, None], axis=1)
    out[:, :, 0] = np.take_along_axis(calibrated, order, axis=1)
    return out


def egammas(
    em: np.ndarray,
    had: np.ndarray,
    eta_centers: np.ndarray,
    seed: int,
    k: int,
    eta_max: float,
    had_over_em: float,
    iso_fraction: float,
) -> np.ndarray:
    """e/gamma: 3x3 EM clusters around EM local maxima, hadronic veto H <= had_over_em * E, isolation bit from
    the 5x5 total ET around the cluster. Returns (N, k, 4): hwPt, hwEta, hwPhi, hwIso."""
    cluster = box_sum(em, 3)
    h3 = box_sum(had, 3)
    iso_sum = box_sum(em + had, 5) - cluster
    seeds = local_maxima(em, 3, seed) & _eta_mask(eta_centers, eta_max) & (h3 <= had_over_em * cluster)
    iso = (iso_sum <= iso_fraction * cluster).astype(np.int64)
    return clusters(seeds, cluster, eta_centers, k, {"iso": iso})


def taus(
    towers: np.ndarray, eta_centers: np.ndarray, seed: int, k: int, eta_max: float, iso_fraction: float
) -> np.ndarray:
    """Taus: 3x3 clusters around local maxima of the total ET, isolation bit from the 9x9 window around them.
    Returns (N, k, 4): hwPt, hwEta, hwPhi, hwIso."""
    cluster = box_sum(towers, 3)
    iso = (box_sum(towers, 9) - cluster <= iso_fraction * cluster).astype(np.int64)
    seeds = local_maxima(towers, 3, seed) & _eta_mask(eta_centers, eta_max)
    return clusters(seeds, cluster, eta_centers, k, {"iso": iso})


SUM_INDEX = {"met": 0, "met_phi": 1, "ht": 2, "ett": 3}  # the columns of ``sums`` (and of an event file's sums/hw)


def sums(
    towers: np.ndarray,
    phi_centers: np.ndarray,
    jets_hw: np.ndarray,
    ht_min: int,
    ht_eta_max: int,
    forward: np.ndarray | None = None,
) -> np.ndarray:
    """Energy sums (N, 4): hwMET, hwMETphi (144 steps), hwHT (jets >= ``ht_min``, |hwEta| <= ``ht_eta_max``),
    hwETT (barrel/endcap towers). MET uses the forward towers too; all 12-bit saturated."""
    all_towers = towers if forward is None else np.concatenate([towers, forward], axis=1)
    et = all_towers.sum(axis=1).astype(np.float64)  # (N, n_phi): ET per phi column
    ex, ey = -(et * np.cos(phi_centers)).sum(axis=1), -(et * np.sin(phi_centers)).sum(axis=1)
    met = np.minimum(np.floor(np.hypot(ex, ey)), SUM_ET_MAX).astype(np.int64)
    met_phi = hw_phi(np.arctan2(ey, ex), CALO.phi_steps)
    sel = (jets_hw[:, :, 0] >= ht_min) & (np.abs(jets_hw[:, :, 1]) <= ht_eta_max)
    ht = np.minimum(np.where(sel, jets_hw[:, :, 0], 0).sum(axis=1), SUM_ET_MAX)
    ett = np.minimum(towers.sum(axis=(1, 2)), SUM_ET_MAX)
    return np.stack([met, met_phi, ht, ett], axis=1).astype(np.int32)
