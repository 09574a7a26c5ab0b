"""A GT-like trigger menu on hardware objects: seed conditions, prescales and per-event decision bits, vectorized.

Classic seeds compare hwPt with thresholds converted from GeV at load (``ceil(pt / LSB)``: a seed "pT > 22 GeV"
fires at hwPt >= 44 with the 0.5 GeV LSB) and |hwEta| with ``floor(eta_max / LSB)``. Score seeds (``ad_seeds``:
anomaly detectors; ``score_seeds``: any model with a per-crossing score, e.g. the jet tagger) compare a raw score
word with a raw threshold (``score > threshold``), set per working point from a target rate.
Prescale N keeps every N-th event that passes a seed (a counter per seed, starting with the first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np
import yaml

from l1t.emulator.objects import CALO, MUON

__all__ = ["Menu", "MenuError", "Seed", "prescale"]

_OBJECTS = {"muon": ("muons", MUON), "egamma": ("egammas", CALO), "tau": ("taus", CALO), "jet": ("jets", CALO)}
_SUMS = {"met": 0, "ht": 2, "ett": 3}


class MenuError(ValueError):
    """A malformed menu; the message names the file, seed and field."""


@dataclass
class Seed:
    name: str
    kind: str  # single_<object>, double_<object>, met, ht, ett, always, ad
    hw_pt: list[int] = field(default_factory=list)
    hw_eta_max: int | None = None
    iso: bool = False
    prescale: int = 1
    model: str | None = None
    threshold: int | None = None  # AD: raw score threshold


def _hw_pt(pt: float, lsb: float) -> int:
    return int(np.ceil(pt / lsb - 1e-9))


def prescale(passed: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    """Keep every ``n``-th passing event (the 1st, (n+1)-th, ...): a per-seed counter, as the GT prescalers do.

    ``start`` is the counter's value at the first event (events passed before, e.g. in earlier chunks)."""
    if n <= 1:
        return passed
    count = start + np.cumsum(passed) - 1
    return passed & (count % n == 0)


@numba.njit(cache=True, nogil=True)
def _object_conditions(
    objs: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    need: np.ndarray,
    eta_max: np.ndarray,
    iso: np.ndarray,
    out: np.ndarray,
    cols: np.ndarray,
) -> None:
    """Seeds s of one object family, per event: one object reaches t0[s] and need[s] reach t1[s], an object that
    fails the seed's cuts (|hwEta| <= eta_max[s], isolated if iso[s]) counting as hwPt 0; into out[:, cols[s]].

    For a double seed (need 2) this is "the two highest qualifying objects reach (t0, t1)", for thresholds in
    either order, without a sort; a single seed has t1 = t0 and need 1. An event whose highest hwPt is below every
    (positive) threshold fires none of them: on zero bias that is nearly every event, decided in one scan."""
    lowest = min(t0.min(), t1.min()) if t0.size else 0
    for e in range(objs.shape[0]):
        if lowest > 0:
            top = objs[e, 0, 0]
            for j in range(1, objs.shape[1]):
                top = max(top, objs[e, j, 0])
            if top < lowest:
                for s in range(t0.size):
                    out[e, cols[s]] = False
                continue
        for s in range(t0.size):
            n0 = 0
            n1 = 0
            for j in range(objs.shape[1]):
                qualifies = abs(np.int64(objs[e, j, 1])) <= eta_max[s] and not (iso[s] and objs[e, j, 3] <= 0)
                pt = objs[e, j, 0] if qualifies else 0  # as a zero-padded slot
                n0 += pt >= t0[s]
                n1 += pt >= t1[s]
            out[e, cols[s]] = n0 >= 1 and n1 >= need[s]


class Menu:
    """Seeds from a YAML menu; ``decisions(events, scores)`` gives (N, seeds) bits."""

    def __init__(self, config: dict[str, Any], source: str = "<menu>") -> None:
        self.name = str(config.get("name", "menu"))
        self.source = source
        self.seeds: list[Seed] = []
        self.working_points: dict[str, dict[str, float]] = {}  # AD seed -> working point -> target rate (Hz)
        self.ad_models: dict[str, str] = {}  # AD seed -> the model whose score it cuts on
        for name, c in (config.get("seeds") or {}).items():
            self.seeds.append(self._classic(name, c))
        for name, c in {**(config.get("ad_seeds") or {}), **(config.get("score_seeds") or {})}.items():
            if "model" not in c or not isinstance(c.get("working_points"), dict):
                raise MenuError(f"{source}: score seed {name!r} needs 'model' and 'working_points'")
            self.working_points[name] = {str(k): float(v) for k, v in c["working_points"].items()}
            self.ad_models[name] = str(c["model"])
            for wp in self.working_points[name]:
                self.seeds.append(Seed(f"{name}_{wp}", "ad", model=str(c["model"]), prescale=int(c.get("prescale", 1))))

    @classmethod
    def from_yaml(cls, path: str | Path) -> Menu:
        path = Path(path)
        try:
            return cls(yaml.safe_load(path.read_text()) or {}, str(path))
        except (OSError, yaml.YAMLError) as err:
            raise MenuError(f"{path}: cannot read the menu ({err})") from err

    def _classic(self, name: str, c: dict[str, Any]) -> Seed:
        kind = c.get("type")
        where = f"{self.source}: seed {name!r}"
        try:
            presc = int(c.get("prescale", 1))
            if kind == "always":
                return Seed(name, kind, prescale=presc)
            if kind in _SUMS:
                return Seed(name, kind, [_hw_pt(float(c["pt"]), CALO.pt_lsb)], prescale=presc)
            mult, _, obj = str(kind).partition("_")
            if mult not in ("single", "double") or obj not in _OBJECTS:
                raise MenuError(f"{where}: unknown type {kind!r}")
            fmt = _OBJECTS[obj][1]
            pts = c["pt"] if isinstance(c["pt"], list) else [c["pt"]]
            if len(pts) != (1 if mult == "single" else 2):
                raise MenuError(f"{where}: {kind} needs {1 if mult == 'single' else 2} pt thresholds, got {pts}")
            eta = c.get("eta_max")
            hw_eta = None if eta is None else int(np.floor(float(eta) / fmt.eta_lsb + 1e-9))
            return Seed(
                name, kind, [_hw_pt(float(p), fmt.pt_lsb) for p in pts], hw_eta, bool(c.get("iso", False)), presc
            )
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, MenuError):
                raise
            raise MenuError(f"{where}: {err!r}") from err

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.seeds]

    def keep_ad_models(self, models: set[str]) -> list[str]:
        """Drop the AD seeds whose model is not in ``models``; returns the models they needed."""
        missing = sorted({m for m in self.ad_models.values() if m not in models})
        self.seeds = [s for s in self.seeds if s.kind != "ad" or s.model in models]
        self.working_points = {k: v for k, v in self.working_points.items() if self.ad_models[k] in models}
        self.ad_models = {k: m for k, m in self.ad_models.items() if m in models}
        return missing

    @property
    def fields(self) -> list[str]:
        """The event-file datasets the classic seeds read."""
        out = {"sums/hw"}
        for s in self.seeds:
            obj = s.kind.partition("_")[2]
            if obj in _OBJECTS:
                out.add(f"objects/{_OBJECTS[obj][0]}")
        return sorted(out)

    def set_threshold(self, seed: str, threshold: int) -> None:
        next(s for s in self.seeds if s.name == seed).threshold = int(threshold)

    def condition(self, s: Seed, ev: dict[str, np.ndarray], scores: dict[str, np.ndarray] | None) -> np.ndarray:
        """One seed's unprescaled bits (N,)."""
        return self.conditions([s], ev, scores)[:, 0]

    def conditions(
        self, seeds: list[Seed], ev: dict[str, np.ndarray], scores: dict[str, np.ndarray] | None
    ) -> np.ndarray:
        """Unprescaled bits (N, len(seeds)); the object seeds of each family in one pass over its objects."""
        out = np.empty((len(ev["sums/hw"]), len(seeds)), dtype=bool)
        families: dict[str, list[int]] = {}
        for j, s in enumerate(seeds):
            if s.kind == "always":
                out[:, j] = True
            elif s.kind in _SUMS:
                out[:, j] = ev["sums/hw"][:, _SUMS[s.kind]] >= s.hw_pt[0]
            elif s.kind == "ad":
                if scores is None or s.model not in scores:
                    raise MenuError(f"seed {s.name!r} needs the {s.model!r} score")
                if s.threshold is None:
                    raise MenuError(f"seed {s.name!r} has no threshold yet (set from its target rate)")
                out[:, j] = np.asarray(scores[s.model]) > s.threshold
            else:
                families.setdefault(_OBJECTS[s.kind.partition("_")[2]][0], []).append(j)
        for family, cols in families.items():
            objs = ev[f"objects/{family}"]
            group = [seeds[j] for j in cols]
            if objs.ndim != 3 or objs.shape[2] < (4 if any(s.iso for s in group) else 2):
                raise MenuError(f"seed {group[0].name!r}: objects/{family} has shape {objs.shape}")
            double = np.array([s.kind.startswith("double") for s in group])
            _object_conditions(
                objs,
                np.array([s.hw_pt[0] for s in group], dtype=np.int64),
                np.array([s.hw_pt[-1] for s in group], dtype=np.int64),
                np.where(double, 2, 1).astype(np.int64),
                np.array([np.iinfo(np.int64).max if s.hw_eta_max is None else s.hw_eta_max for s in group]),
                np.array([s.iso for s in group], dtype=bool),
                out,
                np.array(cols, dtype=np.int64),
            )
        return out

    def prescaled(self, passed: np.ndarray, counters: dict[str, int] | None = None) -> np.ndarray:
        """Unprescaled bits (N, seeds) -> prescaled ones; ``counters`` gives each prescale counter's start (events
        that passed before these)."""
        out = passed.copy()
        for j, s in enumerate(self.seeds):
            if s.prescale > 1:
                out[:, j] = prescale(passed[:, j], s.prescale, (counters or {}).get(s.name, 0))
        return out

    def decisions(
        self,
        events: dict[str, np.ndarray],
        scores: dict[str, np.ndarray] | None = None,
        prescaled: bool = True,
        counters: dict[str, int] | None = None,
    ) -> np.ndarray:
        """Decision bits (N, seeds), in ``names`` order, prescales applied unless ``prescaled`` is False;
        ``counters`` gives each prescale counter's start (events that passed before these)."""
        passed = self.conditions(self.seeds, events, scores)
        return self.prescaled(passed, counters) if prescaled else passed
