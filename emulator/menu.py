"""A GT-like trigger menu on hardware objects: seed conditions, prescales and per-event decision bits, vectorized.

Classic seeds compare words as the CMS global trigger (uGT) does, with thresholds converted from GeV at load:
hwPt >= ceil(pt / LSB) + offset (a 36 GeV e/gamma seed fires at hwPt >= 72, a 22 GeV muon seed at hwPt >= 45:
muon hwPt counts from 1), hwEta inside the window of bins that touch [-eta_max, eta_max] (e/gamma "er2p5":
hwEta in [-58, 57]), and the object's fourth word through a 16-entry LUT as the uGT's isolation and quality LUTs:
``(lut >> word) & 1`` (e/gamma hwIso: bit 0 "Iso", bit 1 "LooseIso"; muon hwQual: single-muon quality >= 12,
double >= 8, open >= 4). Score seeds (``ad_seeds``:
anomaly detectors; ``score_seeds``: any model with a per-crossing score, e.g. the jet tagger) compare a raw score
word with a raw threshold (``score > threshold``), set per working point from a target rate.
Prescale N keeps every N-th event that passes a seed (a counter per seed, starting with the first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numba
import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from l1t.emulator.calo import SUM_INDEX
from l1t.emulator.objects import CALO, MUON, HwFormat
from l1t.schema import Strict, read_yaml, validate

__all__ = ["Menu", "MenuError", "MenuSpec", "ScoreSeedSpec", "Seed", "SeedSpec", "prescale"]

_OBJECTS = {"muon": ("muons", MUON), "egamma": ("egammas", CALO), "tau": ("taus", CALO), "jet": ("jets", CALO)}
_SUMS = {kind: SUM_INDEX[kind] for kind in ("met", "ht", "ett")}  # the sum seeds' columns of sums/hw
_ISOLATED = ("egamma", "tau")  # the families whose fourth word is hwIso (a muon's is its quality; jets have three)
SEED_TYPES = (*(f"{m}_{o}" for m in ("single", "double") for o in _OBJECTS), *_SUMS, "always")


class MenuError(ValueError):
    """A malformed menu; the message names the file, seed and field."""


GeV = Annotated[float, Field(ge=0)]
Thresholds = Annotated[list[GeV], BeforeValidator(lambda v: v if isinstance(v, list) else [v])]  # 22.0 or [25, 12]
Prescale = Annotated[int, Field(ge=1, description="keep every N-th passing event; 1 keeps all")]


class SeedSpec(Strict):
    """A classic seed: ``type`` (single_/double_ + muon, egamma, tau, jet; met, ht, ett; always), ``pt`` in GeV (two
    thresholds, leading first, for double seeds), ``eta_max`` (|eta| cut; object seeds only), ``iso`` (e/gamma and tau
    only: true = the "Iso" bit 0 of hwIso, loose = the "LooseIso" bit 1), ``quality`` (muon seeds only: the uGT
    quality class, single >= 12, double >= 8, open >= 4), ``prescale``."""

    type: Literal[SEED_TYPES]  # type: ignore[valid-type]
    pt: Thresholds | None = None
    eta_max: Annotated[float, Field(gt=0)] | None = None
    iso: Literal[False, True, "loose"] = False
    quality: Literal["single", "double", "open"] | None = None
    prescale: Prescale = 1

    @model_validator(mode="after")
    def _fits_type(self) -> SeedSpec:
        mult, _, obj = self.type.partition("_")
        pts = self.pt or []
        needed = {"always": 0, "single": 1, "double": 2}.get(mult, 1)  # sums take one threshold
        if len(pts) != needed:
            raise ValueError(f"{self.type} takes {needed} pt threshold(s), got {self.pt!r}")
        if self.eta_max is not None and obj not in _OBJECTS:
            raise ValueError(f"{self.type} has no eta_max (only object seeds cut on |eta|)")
        if self.iso and obj not in _ISOLATED:
            raise ValueError(f"{self.type} has no isolation bit (iso applies to egamma and tau seeds)")
        if self.quality is not None and obj != "muon":
            raise ValueError(f"{self.type} has no quality (quality applies to muon seeds)")
        return self


class ScoreSeedSpec(Strict):
    """A score seed (AD model or tagger): the ``model`` whose score it cuts on, ``working_points`` (name -> target
    zero-bias rate in Hz; each becomes the seed ``<name>_<working point>``), ``prescale``."""

    model: str
    working_points: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)
    prescale: Prescale = 1


class MenuSpec(Strict):
    """A menu file: ``name``, classic ``seeds``, ``ad_seeds`` and ``score_seeds`` (mappings from seed name)."""

    name: str = "menu"
    seeds: dict[str, SeedSpec] = Field(default_factory=dict)
    ad_seeds: dict[str, ScoreSeedSpec] = Field(default_factory=dict)
    score_seeds: dict[str, ScoreSeedSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> MenuSpec:
        names = list(self.seeds)
        for name, spec in {**self.ad_seeds, **self.score_seeds}.items():
            names += [f"{name}_{wp}" for wp in spec.working_points]
        clash = sorted({n for n in names if names.count(n) > 1} | (set(self.ad_seeds) & set(self.score_seeds)))
        if clash:
            raise ValueError(f"seed names used twice: {clash}")
        return self


# 16-entry LUTs over the object's fourth word (bit w of the LUT: word w passes), as the uGT menu writes them
ALL_PASS = 0xFFFF  # no cut on the fourth word
ISO_LUT = {False: ALL_PASS, True: 0xAAAA, "loose": 0xCCCC}  # hwIso bit 0 ("Iso") / bit 1 ("LooseIso") set
QUALITY_LUT = {None: ALL_PASS, "single": 0xF000, "double": 0xFF00, "open": 0xFFF0}  # hwQual >= 12 / 8 / 4


@dataclass
class Seed:
    name: str
    kind: str  # single_<object>, double_<object>, met, ht, ett, always, ad
    hw_pt: list[int] = field(default_factory=list)
    hw_eta: tuple[int, int] | None = None  # the hwEta window, both ends kept
    lut: int = ALL_PASS  # over the fourth word (hwIso, hwQual): word w passes when bit w is set
    prescale: int = 1
    model: str | None = None
    threshold: int | None = None  # AD: raw score threshold
    eta_max: float | None = None  # the |eta| cut hw_eta was made from

    @property
    def pt_format(self) -> HwFormat:
        """The hardware format of the words the seed's thresholds compare (sums: the calorimeter's)."""
        obj = self.kind.partition("_")[2]
        return _OBJECTS[obj][1] if obj in _OBJECTS else CALO


def _classic(name: str, c: SeedSpec) -> Seed:
    """A validated classic seed in hardware units."""
    if c.type == "always":
        return Seed(name, c.type, prescale=c.prescale)
    seed = Seed(name, c.type, prescale=c.prescale)
    fmt = seed.pt_format
    seed.hw_pt = [fmt.hw_threshold(p) for p in c.pt or []]
    seed.hw_eta = None if c.eta_max is None else fmt.eta_window(c.eta_max)
    seed.eta_max = c.eta_max
    seed.lut = QUALITY_LUT[c.quality] if c.type.endswith("muon") else ISO_LUT[c.iso]
    return seed


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
    eta_lo: np.ndarray,
    eta_hi: np.ndarray,
    lut: np.ndarray,
    out: np.ndarray,
    cols: np.ndarray,
) -> None:
    """Seeds s of one object family, per event: one object reaches t0[s] and need[s] reach t1[s], an object that
    fails the seed's cuts (eta_lo[s] <= hwEta <= eta_hi[s]; its fourth word w passing the LUT, (lut[s] >> w) & 1,
    unless lut[s] < 0) counting as hwPt 0; into out[:, cols[s]].

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
                eta = np.int64(objs[e, j, 1])
                qualifies = eta_lo[s] <= eta <= eta_hi[s] and (lut[s] < 0 or (lut[s] >> objs[e, j, 3]) & 1 == 1)
                pt = objs[e, j, 0] if qualifies else 0  # as a zero-padded slot
                n0 += pt >= t0[s]
                n1 += pt >= t1[s]
            out[e, cols[s]] = n0 >= 1 and n1 >= need[s]


class Menu:
    """Seeds from a YAML menu; ``decisions(events, scores)`` gives (N, seeds) bits."""

    def __init__(self, config: dict[str, Any] | MenuSpec, source: str = "<menu>") -> None:
        spec = config if isinstance(config, MenuSpec) else validate(MenuSpec, config or {}, source, MenuError)
        self.name = spec.name
        self.source = source
        self.seeds: list[Seed] = [_classic(name, c) for name, c in spec.seeds.items()]
        self.working_points: dict[str, dict[str, float]] = {}  # AD seed -> working point -> target rate (Hz)
        self.ad_models: dict[str, str] = {}  # AD seed -> the model whose score it cuts on
        for name, c in {**spec.ad_seeds, **spec.score_seeds}.items():
            self.working_points[name] = dict(c.working_points)
            self.ad_models[name] = c.model
            self.seeds += [Seed(f"{name}_{wp}", "ad", model=c.model, prescale=c.prescale) for wp in c.working_points]

    @classmethod
    def from_yaml(cls, path: str | Path) -> Menu:
        return cls(read_yaml(path, MenuError) or {}, str(path))

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
            cut = [s.lut != ALL_PASS for s in group]
            if objs.ndim != 3 or objs.shape[2] < (4 if any(cut) else 2):
                raise MenuError(f"seed {group[0].name!r}: objects/{family} has shape {objs.shape}")
            double = np.array([s.kind.startswith("double") for s in group])
            wide = np.iinfo(np.int64)
            _object_conditions(
                objs,
                np.array([s.hw_pt[0] for s in group], dtype=np.int64),
                np.array([s.hw_pt[-1] for s in group], dtype=np.int64),
                np.where(double, 2, 1).astype(np.int64),
                np.array([wide.min if s.hw_eta is None else s.hw_eta[0] for s in group], dtype=np.int64),
                np.array([wide.max if s.hw_eta is None else s.hw_eta[1] for s in group], dtype=np.int64),
                np.array([s.lut if c else -1 for s, c in zip(group, cut, strict=True)], dtype=np.int64),
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
