"""The AXOL1TL trigger path as one bit-exact block: GT inputs -> firmware input scaling -> encoder -> sum mu^2 ->
one trigger bit per working point (score > threshold).

It has a network's interface (``inputs``, ``output_names``, ``types``, ``output_shape``, ``run``), so the same
co-simulation bench checks the chained firmware top against it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import emulator.fixed as fx
from emulator import scores
from emulator.fixed import FixedType, OMode, QMode
from emulator.nn import Network
from emulator.objects import scale_inputs

__all__ = ["GT_INPUT_T", "AxoTrigger"]

GT_INPUT_T = fx.ap_int(16)  # one GT field (hwPt, hwEta or hwPhi) per 16-bit word


class AxoTrigger:
    """Scaling ``(x - offset)`` with ``shift`` fractional bits cast into the encoder's input type (AP_TRN, AP_SAT),
    the encoder, sum mu^2 in ``scores.SCORE_T``, and ``score > threshold`` per working point."""

    def __init__(self, net: Network, offset: Sequence[int], shift: Sequence[int], thresholds: Sequence[int]) -> None:
        self.net = net
        self.offset = np.asarray(offset, dtype=np.int64)
        self.shift = np.asarray(shift, dtype=np.int64)
        self.thresholds = np.asarray(thresholds, dtype=np.int64)
        if len(self.offset) != 57 or len(self.shift) != 57:
            raise ValueError("AXOL1TL scaling needs 57 offsets and 57 shifts")
        name, _, t = net.inputs[0]
        self.nn_input = name
        self.input_t = fx.ap_fixed(t.width, t.int_bits, QMode.TRN, OMode.SAT)
        self.inputs = [("gt_inputs", (57,), GT_INPUT_T)]
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

    def run(self, x: dict[str, np.ndarray], raw: bool = True) -> dict[str, np.ndarray]:
        out = self.net.run({self.nn_input: self.scale(x["gt_inputs"])}, raw=True)
        score = scores.sum_mu2(out["mu"], self.net.types["mu"])
        return {"score": score[:, None], "trigger_bits": (score[:, None] > self.thresholds).astype(np.int64)}
