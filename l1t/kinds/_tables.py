"""The result table of the anomaly detectors' trainings (AXOL1TL, CICADA): per signal and score, AUC and TPR at the
trigger's working points."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from l1t.kinds._base import ResultTable

__all__ = ["ad_table"]


def ad_table(summary: Mapping[str, Any]) -> ResultTable:
    """AUC, TPR at FPR 1e-5 and at 1 kHz per signal and score, with the published reference rows."""
    data = summary["data"]
    rows = [
        [sig, name, f"{r['auc']:.3f}", f"{r['tpr_at_fpr_1e-5']:.2%}", f"{r['tpr_at_fpr_1kHz']:.2%}"]
        for sig, scored in summary["metrics"].items()
        for name, r in scored.items()
    ]
    refs = [
        ["reference", ref["model"], f"{ref['auc']:.2f}", f"{ref['tpr_at_fpr_1e-5']:.2%}", "-"]
        for ref in summary["reference"]
    ]
    return ResultTable(
        f"{summary['model']}: {data['test']} zero-bias test events (lowest resolvable FPR {data['fpr_floor']:.1e})",
        ["signal", "score", "AUC", "TPR @ FPR 1e-5", "TPR @ 1 kHz"],
        rows,
        refs,
        caption="reference rows: published results on a different data set, shown for comparison",
        left=2,
    )
