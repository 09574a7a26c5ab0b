"""The jet-tagger kind: an MLP on the towers of L1 jets with its GNN teacher; score the highest logit of the two
leading jets it takes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from l1t.emulator.chains import TaggerChain
from l1t.kinds._base import ModelKind, ResultTable, Run, register
from l1t.models.tagger import TaggerConfig


def _train(files: list[Path], out: Path, **options: Any) -> dict[str, Any]:
    from l1t.pipelines.training import run_tagger

    return run_tagger(files, out, **options)


def _chain(run: Run, score_kind: str) -> TaggerChain:
    return TaggerChain(run.network())


def _table(summary: Mapping[str, Any]) -> ResultTable:
    d = summary["data"]
    return ResultTable(
        f"jet tagging: {d['test']} test jets of {d['jets']}",
        ["model", "AUC", "accuracy", "1/eff_B at eff_S = 0.3"],
        [
            [name, f"{r['auc']:.4f}", f"{r['accuracy']:.3f}", f"{r['rejection_at_0.3']:.1f}"]
            for name, r in summary["metrics"].items()
        ],
        [[ref["model"], f"{ref['auc']}", "-", f"{ref['rejection_at_0.3']:.0f}"] for ref in summary["reference"]],
        caption="reference row: published result on a different data set, shown for comparison",
    )


KIND = register(
    ModelKind(
        "tagger",
        "L1 jet tagger with its GNN teacher (jet files of `l1t generate --jets`, labels from the files)",
        TaggerConfig,
        _train,
        _table,
        chain=_chain,
    )
)
