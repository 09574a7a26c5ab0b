"""Model kinds: one registered ``ModelKind`` per model family (``axol1tl``, ``cicada``, ``tagger``, ``fastsim``).
``l1t train``, ``report``, ``trigger``, ``patterns``, ``compare`` and the studies look a kind up here; adding a family
is one module in this package that calls ``register`` and its name in the import below."""

from l1t.kinds import _base, axol1tl, cicada, fastsim, tagger  # noqa: F401  (each kind module registers its kind)
from l1t.kinds._base import *  # noqa: F403  (the registry, the run reader and the loaders)

__all__ = list(_base.__all__)
