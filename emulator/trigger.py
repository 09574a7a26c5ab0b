"""The AD trigger paths as bit-exact blocks. AXOL1TL: GT objects -> pT sorting and truncation (4 e/gammas, 4 muons,
10 jets after MET: ``objects.AXOL1TL_INPUTS``) -> firmware input scaling -> encoder -> sum mu^2 -> one trigger bit per
working point (score > threshold); the score is sum mu^2 or R_z (``l1t.emulator.scores``, with its exp table).
CICADA: calo regions -> the student's input (a shift) -> the student -> one trigger bit per working point.

Each has a network's interface (``inputs``, ``output_names``, ``types``, ``output_shape``, ``run``), so the same
co-simulation bench checks the chained firmware top against it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator import scores
from l1t.emulator.calo import REGION_ET_BITS, REGION_GRID, REGION_WORDS, cicada_input_raw
from l1t.emulator.fixed import FixedType, OMode, QMode
from l1t.emulator.formats import GT_CAPACITY
from l1t.emulator.nn import Network
from l1t.emulator.objects import AXOL1TL_INPUTS, AXOL1TL_LAYOUT, GT_FIELDS, axol1tl_vector, scale_inputs

__all__ = ["AXO_TRIGGER_INPUTS", "GT_INPUT_T", "AxoTrigger", "CicadaTrigger"]

GT_INPUT_T = fx.ap_int(16)  # one GT field (hwPt, hwEta or hwPhi) per 16-bit word
# (input, objects): every object the GT receives of the families the encoder reads, each as three words (hwPt, hwEta,
# hwPhi), MET's hwEta unused; how many of each the encoder keeps after sorting is ``objects.AXOL1TL_LAYOUT``
AXO_TRIGGER_INPUTS = (("met", 1), *((name, GT_CAPACITY[name]) for name, _ in AXOL1TL_LAYOUT[1:]))


class AxoTrigger:
    """Sorting, scaling ``(x - offset)`` with ``shift`` fractional bits cast into the encoder's input type (AP_TRN,
    AP_SAT), the encoder, the score (``score_kind``: sum mu^2 or R_z) in ``scores.SCORE_T``, and
    ``score > threshold`` per working point."""

    def __init__(
        self,
        net: Network,
        offset: Sequence[int],
        shift: Sequence[int],
        thresholds: Sequence[int],
        score_kind: str = "sum_mu2",
    ) -> None:
        if score_kind not in scores.SCORE_KINDS:
            raise ValueError(f"score must be one of {scores.SCORE_KINDS}, got {score_kind!r}")
        self.score_kind = score_kind
        self.net = net
        self.offset = np.asarray(offset, dtype=np.int64)
        self.shift = np.asarray(shift, dtype=np.int64)
        self.thresholds = np.asarray(thresholds, dtype=np.int64)
        if len(self.offset) != AXOL1TL_INPUTS or len(self.shift) != AXOL1TL_INPUTS:
            raise ValueError(f"AXOL1TL scaling needs {AXOL1TL_INPUTS} offsets and shifts")
        name, _, t = net.inputs[0]
        self.nn_input = name
        self.input_t = fx.ap_fixed(t.width, t.int_bits, QMode.TRN, OMode.SAT)
        self.inputs = [(name, (3 * n,), GT_INPUT_T) for name, n in AXO_TRIGGER_INPUTS]
        self.fields = list(GT_FIELDS)  # the event-file datasets ``from_events`` reads
        self.output_names = ["score", "trigger_bits"]
        self.types: dict[str, FixedType] = {"score": scores.SCORE_T, "trigger_bits": fx.ap_uint(1)}

    def output_shape(self, name: str) -> tuple[int, ...]:
        return (1,) if name == "score" else (len(self.thresholds),)

    def diff_type(self, j: int) -> FixedType:
        """Type of feature j's ``x - offset`` read with ``shift`` fractional bits (18 bits hold any difference)."""
        return fx.ap_fixed(18, 18 - int(self.shift[j]))

    def scale(self, x: np.ndarray) -> np.ndarray:
        """The firmware scaling (``scale_inputs``): ``diff_type`` cast into ``input_t``, every feature at once."""
        t = self.input_t
        return scale_inputs(x, self.offset, self.shift - t.frac_bits, t.raw_min, t.raw_max)

    @staticmethod
    def from_events(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The block's inputs from event-file datasets (``l1t.emulator.objects.GT_FIELDS``)."""
        sums = np.asarray(events["sums/hw"], dtype=np.int64)
        x = {"met": np.stack([sums[:, 0], np.zeros(len(sums), dtype=np.int64), sums[:, 1]], axis=1)}
        for name, n in AXO_TRIGGER_INPUTS[1:]:
            x[name] = np.asarray(events[f"objects/{name}"], dtype=np.int64)[:, :n, :3].reshape(len(sums), 3 * n)
        return x

    def gt_vector(self, x: dict[str, np.ndarray]) -> np.ndarray:
        """The AXOL1TL_INPUTS encoder inputs before scaling: objects sorted by hwPt and truncated, as the GT does."""
        objs = {name: np.asarray(x[name], dtype=np.int64).reshape(len(x[name]), n, 3) for name, n in AXO_TRIGGER_INPUTS}
        return axol1tl_vector(objs["met"][:, 0, 0::2], objs["egammas"], objs["muons"], objs["jets"])

    def run(self, x: dict[str, np.ndarray], raw: bool = True) -> dict[str, np.ndarray]:
        out = self.net.run({self.nn_input: self.scale(self.gt_vector(x))}, raw=True)
        score = scores.encoder_score(out, self.net.types, self.score_kind)
        return {"score": score[:, None], "trigger_bits": (score[:, None] > self.thresholds).astype(np.int64)}


class CicadaTrigger:
    """The CICADA path: REGION_GRID (18 x 14) region hwEt words -> the student's input (hwEt / 2**5, exact) -> the
    student -> its score word -> ``score > threshold`` per working point."""

    def __init__(self, net: Network, thresholds: Sequence[int]) -> None:
        self.net = net
        self.thresholds = np.asarray(thresholds, dtype=np.int64)
        name, shape, t = net.inputs[0]
        if int(np.prod(shape)) != REGION_WORDS or len(net.output_names) != 1:
            raise ValueError(
                f"a CICADA network takes {REGION_WORDS} regions and gives one score, not {shape} -> {net.output_names}"
            )
        cicada_input_raw(np.zeros((1, *REGION_GRID)), t)  # refuses an input type that cannot hold the regions
        self.nn_input, self.input_t, self.nn_output = name, t, net.output_names[0]
        self.inputs = [("regions", (REGION_WORDS,), fx.ap_uint(REGION_ET_BITS))]
        self.fields = ["regions/et"]
        self.output_names = ["score", "trigger_bits"]
        self.types: dict[str, FixedType] = {"score": net.types[self.nn_output], "trigger_bits": fx.ap_uint(1)}

    def output_shape(self, name: str) -> tuple[int, ...]:
        return (1,) if name == "score" else (len(self.thresholds),)

    @staticmethod
    def from_events(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        regions = np.asarray(events["regions/et"], dtype=np.int64)
        return {"regions": regions.reshape(len(regions), REGION_WORDS)}

    def run(self, x: dict[str, np.ndarray], raw: bool = True) -> dict[str, np.ndarray]:
        regions = np.asarray(x["regions"], dtype=np.int64).reshape(-1, *REGION_GRID)
        shape = self.net.inputs[0][1]
        nn_in = cicada_input_raw(regions, self.input_t).reshape(len(regions), *shape)
        score = self.net.run({self.nn_input: nn_in}, raw=True)[self.nn_output].reshape(-1, 1)
        return {"score": score, "trigger_bits": (score > self.thresholds).astype(np.int64)}
