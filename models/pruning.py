"""tfmot magnitude pruning for short trainings: the target sparsity is reached by half of the epochs."""

from __future__ import annotations

from typing import Any

from l1t.extras import require

__all__ = ["prunable", "stripped"]


def prunable(model: Any, sparsity: float, steps_per_epoch: int, epochs: int) -> tuple[Any, list[Any]]:
    """(model wrapped for pruning, the callbacks it needs); the model itself when ``sparsity`` is 0.

    Polynomial decay from 0 to ``sparsity`` over the first half of the epochs, masks updated four times per epoch
    (tfmot's default frequency of 100 steps would never reach the target in a short training)."""
    if sparsity <= 0:
        return model, []
    require("ml", "pruning")
    import tensorflow_model_optimization as tfmot

    schedule = tfmot.sparsity.keras.PolynomialDecay(
        0.0,
        sparsity,
        begin_step=0,
        end_step=steps_per_epoch * max(epochs // 2, 1),
        frequency=max(steps_per_epoch // 4, 1),
    )
    return tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule), [
        tfmot.sparsity.keras.UpdatePruningStep()
    ]


def stripped(model: Any, sparsity: float) -> Any:
    """The model without pruning wrappers (its zero weights stay zero)."""
    if sparsity <= 0:
        return model
    require("ml", "pruning")
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.strip_pruning(model)
