"""The trigger chain of a trained model, from hardware objects to its raw score word, all in the emulator:
objects -> inputs (firmware scaling) -> network (bit-exact) -> score.

Scores per crossing: AXOL1TL sum mu^2 (or R_z), the CICADA student's output, and for the jet tagger the highest
logit of the two leading L1 jets it takes (``l1t.events.jets.selected``; the logit type's minimum when none)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator import scores
from l1t.emulator.calo import cicada_input_raw
from l1t.emulator.fixed import FixedType
from l1t.emulator.nn import Network
from l1t.emulator.objects import GT_FIELDS, gt_vector
from l1t.events.jets import selected
from l1t.models.axol1tl import InputScaling
from l1t.models.tagger import input_raw as tagger_input_raw

__all__ = ["Chain", "load_chain"]


@dataclass
class Chain:
    """``score(events)`` -> raw score words (N,) of ``score_t``."""

    model: str
    net: Network
    score_t: FixedType
    scaling: InputScaling | None = None
    score_kind: str = "sum_mu2"

    @property
    def fields(self) -> list[str]:
        """The event-file datasets the chain reads."""
        if self.model == "tagger":
            return ["objects/jets", "objects/jet_towers"]
        return list(GT_FIELDS) if self.model == "axol1tl" else ["sums/hw", "regions/et"]

    def inputs(self, events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        name, shape, t = self.net.inputs[0]
        if self.model == "axol1tl":
            raw = self.scaling.raw(gt_vector(events), t)
        elif self.model == "tagger":  # both leading jets of every crossing, (2N, 64)
            towers = np.asarray(events["objects/jet_towers"])
            raw = tagger_input_raw(towers.reshape(-1, *towers.shape[2:]), t)
        else:
            raw = cicada_input_raw(events["regions/et"], t)
        return {name: raw.reshape(len(raw), *shape)}

    def score(self, events: dict[str, np.ndarray], chunk: int = 16_384) -> np.ndarray:
        """Raw score words, ``chunk`` crossings at a time so every intermediate array stays in cache."""
        n = len(events[self.fields[0]])
        if n <= chunk:
            return self._score(events)
        parts = [
            self._score({f: events[f][start : start + chunk] for f in self.fields}) for start in range(0, n, chunk)
        ]
        return np.concatenate(parts)

    def _score(self, events: dict[str, np.ndarray]) -> np.ndarray:
        out = self.net.run(self.inputs(events), raw=True)
        if self.model == "tagger":
            logit = out[self.net.output_names[0]].reshape(-1, 2)
            taken = selected(np.asarray(events["objects/jets"])[:, :2])
            return np.where(taken, logit, self.score_t.raw_min).max(axis=1)
        if self.model == "axol1tl":
            return scores.encoder_score(out, self.net.types, self.score_kind)
        return out[self.net.output_names[0]].reshape(-1)

    def to_float(self, raw: np.ndarray) -> np.ndarray:
        return fx.to_float(raw, self.score_t)


def load_chain(run_dir: str | Path, score_kind: str = "sum_mu2") -> Chain:
    """The chain of a directory written by ``l1t train``."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path} not found: not a directory written by `l1t train`")
    summary = json.loads(summary_path.read_text())
    if summary["model"] not in ("axol1tl", "cicada", "tagger"):
        raise ValueError(f"{summary_path}: model {summary['model']!r} has no trigger chain")
    net = Network.load(run_dir / "spec")
    if summary["model"] == "axol1tl":
        scaling = summary["input_scaling"]
        return Chain(
            "axol1tl",
            net,
            scores.SCORE_T,
            InputScaling(np.array(scaling["offset"]), np.array(scaling["shift"]), scaling["frac_bits"]),
            score_kind,
        )
    return Chain(summary["model"], net, net.types[net.output_names[0]])
