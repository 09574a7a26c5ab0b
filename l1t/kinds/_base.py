"""``ModelKind``: what l1t knows about one model family, registered once; ``Run``: a directory written by
``l1t train``, read and checked."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from l1t.emulator.chains import Chain
from l1t.emulator.nn import Network
from l1t.emulator.objects import InputScaling

__all__ = [
    "KINDS",
    "ModelKind",
    "ResultTable",
    "Run",
    "RunError",
    "TriggerPath",
    "get",
    "load_chain",
    "load_trigger",
    "read_run",
    "register",
    "trigger_rtl",
]


class RunError(ValueError):
    """A run or report directory that cannot be used; the message names the file and the key."""


class Config(Protocol):
    epochs: int

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> Config: ...


@dataclass
class ResultTable:
    """A training's results as text cells: ``rows`` measured here, ``references`` published elsewhere (shown apart);
    the first ``left`` columns are labels."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    references: list[list[str]] = field(default_factory=list)
    caption: str = ""
    left: int = 1
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelKind:
    """One model family: its configuration class, training pipeline (``l1t.pipelines``; ``files[0]`` is the training
    sample, ``files[1:]`` the signals), the table of a training's summary, and, for trigger models, its score chain
    (``l1t.emulator.chains``), its trigger path (``l1t.emulator.trigger``) with the menu seeds whose thresholds it
    takes, the RTL generator of that path (``l1t.firmware.trigger``), and the input words it reads from an event file
    (``features`` of the datasets ``feature_fields``)."""

    name: str
    description: str
    config: type[Config]
    train: Callable[..., dict[str, Any]]
    table: Callable[[Mapping[str, Any]], ResultTable]
    chain: Callable[[Run, str], Chain] | None = None
    trigger: Callable[[Run, Sequence[int], str], Any] | None = None
    seed_prefix: str | None = None
    trigger_rtl: Callable[[Any], Any] | None = None
    # the hardware words the model reads, per event (integers, events first), from an event file's datasets
    features: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None
    feature_fields: tuple[str, ...] = ()


KINDS: dict[str, ModelKind] = {}


def trigger_rtl(block: Any) -> Any:
    """The RTL design of an emulated trigger path (``l1t.firmware.trigger.generate_trigger``)."""
    from l1t.firmware.trigger import generate_trigger

    return generate_trigger(block)


def register(kind: ModelKind) -> ModelKind:
    """Add a model kind; a second kind of the same name is refused."""
    if kind.name in KINDS:
        raise ValueError(f"model kind {kind.name!r} is already registered")
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> ModelKind:
    """The registered kind ``name``; an unknown name is refused listing the known ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise RunError(f"unknown model {name!r}; choose from {', '.join(KINDS)}") from None


@dataclass(frozen=True)
class Run:
    """A directory written by ``l1t train``: its kind and ``summary.json``."""

    path: Path
    kind: ModelKind
    summary: Mapping[str, Any]

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    def value(self, *keys: str) -> Any:
        """``summary[k0][k1]...``; a missing key is refused naming the file and the key path."""
        node: Any = self.summary
        for depth, key in enumerate(keys):
            if not isinstance(node, Mapping) or key not in node:
                raise RunError(f"{self.summary_path}: no {'/'.join(keys[: depth + 1])!r}")
            node = node[key]
        return node

    def network(self) -> Network:
        """The exported trigger network (``spec/``)."""
        return Network.load(self.path / "spec")

    def input_scaling(self) -> InputScaling:
        """The AXOL1TL firmware input scaling fitted in training."""
        try:
            return InputScaling.from_dict(self.value("input_scaling"))
        except (KeyError, TypeError, ValueError) as err:
            raise RunError(f"{self.summary_path}: input_scaling: {err}") from None


def read_run(path: str | Path) -> Run:
    """Read and check a run directory's ``summary.json`` and its model kind."""
    path = Path(path)
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise RunError(f"{summary_path} not found: not a directory written by `l1t train`")
    try:
        summary = json.loads(summary_path.read_text())
    except json.JSONDecodeError as err:
        raise RunError(f"{summary_path}: not JSON ({err})") from None
    if not isinstance(summary, dict) or "model" not in summary:
        raise RunError(f"{summary_path}: no 'model'")
    if summary["model"] not in KINDS:
        raise RunError(f"{summary_path}: model {summary['model']!r} is not one of {', '.join(KINDS)}")
    return Run(path, KINDS[summary["model"]], summary)


def load_chain(run_dir: str | Path, score_kind: str = "sum_mu2") -> Chain:
    """The score chain of a run directory (its kind's ``chain``)."""
    run = read_run(run_dir)
    if run.kind.chain is None:
        raise RunError(f"{run.path}: a {run.kind.name} model has no trigger score")
    return run.kind.chain(run, score_kind)


@dataclass(frozen=True)
class TriggerPath:
    """A run's trigger block (``l1t.emulator.trigger``) with its working points' names in bit order."""

    kind: ModelKind
    block: Any
    names: list[str]

    def rtl(self) -> Any:
        """The block's RTL design (the kind's ``trigger_rtl``)."""
        if self.kind.trigger_rtl is None:
            raise RunError(f"a {self.kind.name} trigger path has no RTL generator")
        return self.kind.trigger_rtl(self.block)


def load_trigger(run_dir: str | Path, report_dir: str | Path, score_kind: str = "sum_mu2") -> TriggerPath:
    """The trigger path of a run with the thresholds ``l1t report`` set for its working points (the seeds named
    ``<kind's seed_prefix>*``)."""
    run = read_run(run_dir)
    if run.kind.trigger is None:
        with_paths = [k.name for k in KINDS.values() if k.trigger is not None]
        raise RunError(f"{run.path}: a {run.kind.name} model has no trigger path (those of {', '.join(with_paths)} do)")
    results = Path(report_dir) / "results.json"
    try:
        seeds = json.loads(results.read_text())["results"]["seeds"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise RunError(f"{results}: not a report of `l1t report` ({err!r})") from None
    prefix = run.kind.seed_prefix or ""
    wps = [(name, row.get("threshold_raw")) for name, row in seeds.items() if name.startswith(prefix)]
    missing = [name for name, t in wps if t is None]
    if not wps or missing:
        raise RunError(f"{results}: {'no threshold for ' + ', '.join(missing) if missing else f'no {prefix}* seeds'}")
    block = run.kind.trigger(run, [int(t) for _, t in wps], score_kind)
    return TriggerPath(run.kind, block, [name for name, _ in wps])
