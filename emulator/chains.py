"""Score chains: a trained network's path from event-file datasets to its raw score word, bit-exact, one class per
model family. Each reads the datasets it names in ``fields``, makes the network's input words as the firmware does
(``InputScaling``, ``cicada_input_raw``, ``tagger_input_raw``), runs the network and forms the score:

- ``AxoChain``: sum mu^2 or R_z of the encoder (``l1t.emulator.scores``) in ``scores.SCORE_T``;
- ``CicadaChain``: the student's output word;
- ``TaggerChain``: the highest logit of the two leading L1 jets the tagger takes (``calo.tagger_jets``), the logit
  type's minimum when it takes none.

They satisfy ``l1t.emulator.gt.ScoreChain``, so the GT block and the rate studies run any of them.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator import scores
from l1t.emulator.calo import cicada_input_raw, tagger_input_raw, tagger_jets
from l1t.emulator.fixed import FixedType
from l1t.emulator.nn import Network
from l1t.emulator.objects import GT_FIELDS, InputScaling, gt_vector

__all__ = ["AxoChain", "Chain", "CicadaChain", "TaggerChain"]


class Chain:
    """``score(events)`` -> raw score words (N,) of ``score_t``; subclasses define ``fields``, ``inputs`` and
    ``_score_outputs``."""

    fields: ClassVar[tuple[str, ...]]
    score_t: FixedType

    @property
    def no_score(self) -> int | None:
        """The score word of a crossing the model has nothing to score in (None: every crossing is scored)."""
        return None

    def __init__(self, net: Network) -> None:
        self.net = net
        self.input_name, self.input_shape, self.input_t = net.inputs[0]

    def inputs(self, events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The network's raw input words for event-file datasets."""
        raw = self._input_raw(events)
        return {self.input_name: raw.reshape(len(raw), *self.input_shape)}

    def _input_raw(self, events: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _score_outputs(self, out: dict[str, np.ndarray], events: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def score(self, events: dict[str, np.ndarray], chunk: int = 16_384) -> np.ndarray:
        """Raw score words, ``chunk`` crossings at a time so every intermediate array stays in cache."""
        n = len(events[self.fields[0]])
        parts = [
            self._score({f: events[f][start : start + chunk] for f in self.fields}) for start in range(0, n, chunk)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def _score(self, events: dict[str, np.ndarray]) -> np.ndarray:
        return self._score_outputs(self.net.run(self.inputs(events), raw=True), events)

    def to_float(self, raw: np.ndarray) -> np.ndarray:
        return fx.to_float(raw, self.score_t)


class AxoChain(Chain):
    """GT objects -> sorted, truncated AXOL1TL vector -> firmware input scaling -> encoder -> sum mu^2 or R_z."""

    fields = GT_FIELDS
    score_t = scores.SCORE_T

    def __init__(self, net: Network, scaling: InputScaling, score_kind: str = "sum_mu2") -> None:
        super().__init__(net)
        if score_kind not in scores.SCORE_KINDS:
            raise ValueError(f"score must be one of {scores.SCORE_KINDS}, got {score_kind!r}")
        if scaling.frac_bits != self.input_t.frac_bits:
            raise ValueError(
                f"input scaling has {scaling.frac_bits} fractional bits but the encoder's input "
                f"{self.input_name!r} is {self.input_t}"
            )
        self.scaling, self.score_kind = scaling, score_kind

    def _input_raw(self, events: dict[str, np.ndarray]) -> np.ndarray:
        return self.scaling.raw(gt_vector(events), self.input_t)

    def _score_outputs(self, out: dict[str, np.ndarray], events: dict[str, np.ndarray]) -> np.ndarray:
        return scores.encoder_score(out, self.net.types, self.score_kind)


class CicadaChain(Chain):
    """Calo regions -> hwEt / 2**CICADA_INPUT_SHIFT -> the student -> its output word."""

    fields = ("sums/hw", "regions/et")

    def __init__(self, net: Network) -> None:
        super().__init__(net)
        self.score_t = net.types[net.output_names[0]]

    def _input_raw(self, events: dict[str, np.ndarray]) -> np.ndarray:
        return cicada_input_raw(events["regions/et"], self.input_t)

    def _score_outputs(self, out: dict[str, np.ndarray], events: dict[str, np.ndarray]) -> np.ndarray:
        return out[self.net.output_names[0]].reshape(-1)


class TaggerChain(Chain):
    """The towers of both leading L1 jets of every crossing, (2N, TAGGER_INPUTS) -> the tagger -> the highest logit of
    the jets it takes."""

    fields = ("objects/jets", "objects/jet_towers")

    def __init__(self, net: Network) -> None:
        super().__init__(net)
        self.score_t = net.types[net.output_names[0]]

    def _input_raw(self, events: dict[str, np.ndarray]) -> np.ndarray:
        towers = np.asarray(events["objects/jet_towers"])
        return tagger_input_raw(towers.reshape(-1, *towers.shape[2:]), self.input_t)

    @property
    def no_score(self) -> int:
        """A crossing with neither leading jet taken scores the logit type's lowest word."""
        return self.score_t.raw_min

    def _score_outputs(self, out: dict[str, np.ndarray], events: dict[str, np.ndarray]) -> np.ndarray:
        logit = out[self.net.output_names[0]].reshape(-1, 2)
        taken = tagger_jets(np.asarray(events["objects/jets"])[:, :2])
        return np.where(taken, logit, self.score_t.raw_min).max(axis=1)
