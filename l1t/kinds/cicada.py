"""The CICADA kind: a student distilled from a calo-region autoencoder; score its output; seeds ``L1_CICADA_*``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from l1t.emulator.chains import CicadaChain
from l1t.emulator.trigger import CicadaTrigger
from l1t.kinds._base import ModelKind, Run, register, trigger_rtl
from l1t.kinds._tables import ad_table
from l1t.models.cicada import CicadaConfig


def _regions(events: Mapping[str, np.ndarray]) -> np.ndarray:
    """The calo regions' hwEt, (phi, eta) flattened in C order as the student's input array holds them."""
    et = np.asarray(events["regions/et"], dtype=np.int64)
    return et.reshape(len(et), -1)


def _train(files: list[Path], out: Path, **options: Any) -> dict[str, Any]:
    from l1t.pipelines.training import run_cicada

    return run_cicada(files, out, **options)


def _chain(run: Run, score_kind: str) -> CicadaChain:
    return CicadaChain(run.network())


def _trigger(run: Run, thresholds: Sequence[int], score_kind: str) -> CicadaTrigger:
    return CicadaTrigger(run.network(), thresholds)


KIND = register(
    ModelKind(
        "cicada",
        "calo-region student distilled from an autoencoder (zero-bias file; signals evaluate)",
        CicadaConfig,
        _train,
        ad_table,
        chain=_chain,
        trigger=_trigger,
        seed_prefix="L1_CICADA_",
        trigger_rtl=trigger_rtl,
        features=_regions,
        feature_fields=("regions/et",),
    )
)
