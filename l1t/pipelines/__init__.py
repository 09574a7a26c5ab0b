"""Per-model pipelines of the application: event files in; train, export, C-sim check, evaluate; a run directory
out. Every pipeline is ``run(files, out, *, seed, cfg, progress, log) -> summary``; ``progress(name, epochs)`` gives
the Keras callbacks that follow one training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TrainingProgress", "callbacks"]

TrainingProgress = Callable[[str, int], list[Any]]


def callbacks(progress: TrainingProgress | None, name: str, epochs: int) -> list[Any]:
    """The callbacks ``progress`` gives for one training (none without it)."""
    return progress(name, epochs) if progress else []
