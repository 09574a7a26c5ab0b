"""Model kinds: one registered ``ModelKind`` per model family (``axol1tl``, ``cicada``, ``tagger``, ``fastsim``).
``l1t train``, ``report``, ``trigger``, ``patterns``, ``compare`` and the studies look a kind up here; adding a family
is one module in this package that calls ``register`` and its line below."""

from l1t.kinds import axol1tl, cicada, fastsim, tagger  # noqa: F401  (each registers its kind)
from l1t.kinds._base import (
    KINDS,
    ModelKind,
    ResultTable,
    Run,
    RunError,
    TriggerPath,
    get,
    load_chain,
    load_trigger,
    read_run,
    register,
)

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
]
