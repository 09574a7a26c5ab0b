"""The fast-simulation kind: a conditional VAE generating L1 jets' towers, with its fidelity table against Pythia."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from l1t.kinds._base import ModelKind, ResultTable, register
from l1t.models.fastsim import FastSimConfig


def _train(files: list[Path], out: Path, **options: Any) -> dict[str, Any]:
    from l1t.pipelines.fastsim import run_fastsim

    return run_fastsim(files, out, **options)


def _table(summary: Mapping[str, Any]) -> ResultTable:
    rows = []
    for process, r in summary["results"].items():
        for name, f in r["fidelity"].items():
            speed = r["jets_per_s"]["cvae"] if name.startswith("CVAE") else r["jets_per_s"]["pythia8_response"]
            rows.append(
                [
                    process, name, f"{f['fpd_x1e3']:.2f} ± {f['fpd_err_x1e3']:.2f}",
                    f"{f['kpd_x1e3']:.2f} ± {f['kpd_err_x1e3']:.2f}", f"{f['w1_pt_gev']:.1f}",
                    f"{f['w1_mass_gev']:.1f}", f"{speed:,.0f}",
                ]
            )  # fmt: skip
    return ResultTable(
        "fast simulation fidelity vs held-out Pythia8 jets (FPD, KPD x 1e3; W1 in GeV)",
        ["process", "sample", "FPD", "KPD", "W1 pT", "W1 mass", "jets/s"],
        rows,
        [["JetNet g", ref["model"], f"{ref['fpd_x1e3']}", "-", "-", "-", "-"] for ref in summary["reference"]],
        caption="reference rows: the FPD paper's JetNet table (other data and features), shown for comparison",
        left=2,
        notes=[
            f"{process}: fast simulation {r['speed_ratio']:,.0f}x faster than Pythia8 + response"
            for process, r in summary["results"].items()
        ],
    )


KIND = register(
    ModelKind(
        "fastsim",
        "conditional VAE fast simulation of L1 jets (jet files, one per process)",
        FastSimConfig,
        _train,
        _table,
    )
)
