"""The AXOL1TL kind: a VAE on the GT objects; score sum mu^2 or R_z; seeds ``L1_AXO_*``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from l1t.emulator.chains import AxoChain
from l1t.emulator.objects import GT_FIELDS, gt_vector
from l1t.emulator.trigger import AxoTrigger
from l1t.kinds._base import ModelKind, Run, register, trigger_rtl
from l1t.kinds._tables import ad_table
from l1t.models.axol1tl import AxoConfig


def _train(files: list[Path], out: Path, **options: Any) -> dict[str, Any]:
    from l1t.pipelines.training import run_axol1tl

    return run_axol1tl(files, out, **options)


def _chain(run: Run, score_kind: str) -> AxoChain:
    return AxoChain(run.network(), run.input_scaling(), score_kind)


def _trigger(run: Run, thresholds: Sequence[int], score_kind: str) -> AxoTrigger:
    scaling = run.input_scaling()
    return AxoTrigger(run.network(), scaling.offset, scaling.shift, thresholds, score_kind)


KIND = register(
    ModelKind(
        "axol1tl",
        "VAE on the GT objects (zero-bias file; signals evaluate)",
        AxoConfig,
        _train,
        ad_table,
        chain=_chain,
        trigger=_trigger,
        seed_prefix="L1_AXO_",
        trigger_rtl=trigger_rtl,
        features=gt_vector,
        feature_fields=GT_FIELDS,
    )
)
