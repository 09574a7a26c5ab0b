"""The Global Trigger as one board block: GT objects (and what the score seeds' models read) in, the models' scores
and the algorithm bits out, bit-exact.

Inputs are what the GT receives on its links: one 64-bit word per object (``formats.OBJECT_WORDS``: 8 muons,
12 e/gammas, 12 taus, 12 jets, one word of energy sums), plus the 18 x 14 calo regions (10-bit hwEt) when a menu
seed cuts on CICADA and the towers of the two leading jets (10-bit fields) when one cuts on the jet tagger.
Outputs are each model's score word, the algorithm bits before prescale (``algo_initial``), after prescale
(``algo_final``, counters starting at the first event of the stream) and the final OR (``l1a``), as the GT's
decision record has them. The block has a network's interface, so the board regression (``l1t.emulator.board``)
encodes and checks its links like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np

import l1t.emulator.fixed as fx
from l1t.emulator import formats
from l1t.emulator.calo import REGION_ET_BITS, REGION_GRID, REGION_WORDS
from l1t.emulator.fixed import FixedType
from l1t.emulator.menu import Menu, MenuError

__all__ = ["GT_LINKS", "GlobalTrigger", "LinkWord", "ScoreChain"]

# (event-file dataset, link kind, objects per event) in link order
GT_LINKS = tuple(
    ("sums/hw" if kind == "sums" else f"objects/{kind}", kind, n) for kind, n in formats.GT_CAPACITY.items()
)
REGIONS_T = fx.ap_uint(REGION_ET_BITS)
JET_TOWER_T = fx.ap_int(10)  # one tower field (hwEt, dIEta, dIPhi, hwEtEm) of the two leading jets' towers


class LinkWord(NamedTuple):
    """A raw link word that is not a fixed-point number (a packed object): only its width and sign matter."""

    width: int
    signed: bool


OBJECT_WORD = LinkWord(64, False)


class ScoreChain(Protocol):
    """A model's chain from event-file datasets to its raw score word (``l1t.emulator.chains``)."""

    score_t: FixedType

    @property
    def fields(self) -> Sequence[str]: ...

    def score(self, events: dict[str, np.ndarray]) -> np.ndarray: ...


class GlobalTrigger:
    """A menu (AD thresholds set) and the chains of its AD models as one block on GT inputs."""

    def __init__(self, menu: Menu, chains: dict[str, ScoreChain]) -> None:
        needed = set(menu.ad_models.values())
        if needed - set(chains):
            raise MenuError(f"{menu.source}: no model chain for the AD seeds of {sorted(needed - set(chains))}")
        unset = [s.name for s in menu.seeds if s.kind == "ad" and s.threshold is None]
        if unset:
            raise MenuError(f"{menu.source}: AD seeds without a threshold: {unset}")
        self.menu = menu
        self.chains = {m: chains[m] for m in sorted(needed)}
        self.inputs = [(kind, (n,), OBJECT_WORD) for _, kind, n in GT_LINKS]
        if any("regions/et" in c.fields for c in self.chains.values()):
            self.inputs.append(("regions", (REGION_WORDS,), REGIONS_T))
        if any("objects/jet_towers" in c.fields for c in self.chains.values()):
            self.inputs.append(("jet_towers", (2 * 16 * 4,), JET_TOWER_T))
        self.output_names = [f"score_{m}" for m in self.chains] + ["algo_initial", "algo_final", "l1a"]
        self.types = {f"score_{m}": c.score_t for m, c in self.chains.items()}
        self.types |= {name: fx.ap_uint(1) for name in ("algo_initial", "algo_final", "l1a")}

    def output_shape(self, name: str) -> tuple[int, ...]:
        return (len(self.menu.seeds),) if name.startswith("algo_") else (1,)

    def element_names(self, name: str) -> list[str] | None:
        """What each element of an output is (the seed of an algorithm bit), for mismatch reports."""
        return self.menu.names if name.startswith("algo_") else None

    def from_events(self, events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Event-file datasets -> the block's raw inputs (object words; regions)."""
        x = {}
        for field, kind, n in GT_LINKS:
            objs = np.asarray(events[field])
            objs = objs[:, None, :] if kind == "sums" else objs[:, :n]
            x[kind] = formats.pack_objects(objs, kind).astype(np.int64)
        names = [name for name, _, _ in self.inputs]
        if "regions" in names:
            x["regions"] = np.asarray(events["regions/et"], dtype=np.int64).reshape(-1, REGION_WORDS)
        if "jet_towers" in names:
            x["jet_towers"] = np.asarray(events["objects/jet_towers"], dtype=np.int64).reshape(-1, 2 * 16 * 4)
        return x

    def events(self, x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The block's raw inputs -> event-file datasets, as the emulator chain reads them."""
        ev = {}
        for field, kind, _ in GT_LINKS:
            objs = formats.unpack_objects(np.asarray(x[kind], dtype=np.uint64), kind)
            ev[field] = objs[:, 0] if kind == "sums" else objs[..., :3] if kind == "jets" else objs
        if "regions" in x:
            ev["regions/et"] = np.asarray(x["regions"]).reshape(-1, *REGION_GRID).astype(np.uint16)
        if "jet_towers" in x:
            ev["objects/jet_towers"] = np.asarray(x["jet_towers"]).reshape(-1, 2, 16, 4).astype(np.int32)
        return ev

    def run(self, x: dict[str, np.ndarray], raw: bool = True) -> dict[str, np.ndarray]:
        ev = self.events(x)
        scores = {m: c.score(ev) for m, c in self.chains.items()}
        initial = self.menu.decisions(ev, scores, prescaled=False)
        final = self.menu.prescaled(initial)
        out = {f"score_{m}": s.astype(np.int64)[:, None] for m, s in scores.items()}
        out["algo_initial"] = initial.astype(np.int64)
        out["algo_final"] = final.astype(np.int64)
        out["l1a"] = final.any(axis=1, keepdims=True).astype(np.int64)
        return out
