"""Data against the emulator: the menu's emulated decisions beside the decisions the hardware recorded, crossing by
crossing, and the provenance of a real-data file (runs, lumi sections, pileup).

A seed is compared when the menu has a classic seed of the recorded seed's name; the emulated decision is the
seed's condition before its prescale (the recorded decisions are those of unprescaled seeds). Crossings for which
the input did not record a seed (``dataset.NOT_RECORDED``) are left out of that seed's counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from l1t.emulator.menu import Menu
from l1t.events import dataset
from l1t.events.dataset import RECORD_ID, DatasetError

__all__ = ["TABLE_HEADER", "compare_decisions", "provenance", "table_rows"]


TABLE_HEADER = ("seed", "crossings", "agreement", "1->0", "0->1", "first disagreements (run:lumi:event)")


def table_rows(result: dict[str, Any], firsts: int) -> list[list[str]]:
    """``compare_decisions``'s result as rows under ``TABLE_HEADER``, with the first ``firsts`` crossings of each
    direction."""
    rows = []
    for name, r in result["seeds"].items():
        first = [
            f"{arrow} {i['run']}:{i['lumi']}:{i['event']}"
            for arrow, key in (("1->0", "first_hw_only"), ("0->1", "first_emu_only"))
            for i in r[key][:firsts]
        ]
        rows.append(
            [name, f"{r['events']:,}", f"{r['agreement']:.6f}", str(r["hw_only"]), str(r["emu_only"]),
             ", ".join(first) or "-"]
        )  # fmt: skip
    return rows


def _ids(record_id: np.ndarray, rows: np.ndarray, first: int) -> list[dict[str, int]]:
    return [{"row": first + int(r), **dict(zip(RECORD_ID, map(int, record_id[r]), strict=True))} for r in rows]


def compare_decisions(menu: Menu, path: str | Path, *, show: int = 5, block: int = 65_536) -> dict[str, Any]:
    """Per compared seed: crossings, agreement fraction, ``hw_only`` (recorded 1, emulated 0) and ``emu_only``
    (recorded 0, emulated 1) counts with the first ``show`` of each (row, run, lumi, event, bx). Also the menu's
    classic seeds the file did not record, and the recorded seeds the menu does not have."""
    path = Path(path)
    first_record = dataset.read_record(path, 0, 0)
    if first_record is None:
        raise DatasetError(f"{path}: no recorded decisions (record/*): convert real data with `l1t convert`")
    recorded = first_record.seeds
    classic = [s for s in menu.seeds if s.kind not in ("ad", "always")]
    compared = [s for s in classic if s.name in recorded]
    columns = [recorded.index(s.name) for s in compared]
    counts = {s.name: {"events": 0, "agree": 0, "hw_only": 0, "emu_only": 0} for s in compared}
    firsts: dict[str, dict[str, list]] = {s.name: {"hw_only": [], "emu_only": []} for s in compared}
    start = 0
    for events in dataset.read_blocks(path, fields=menu.fields, block=block):
        n = len(events["sums/hw"])
        record = dataset.read_record(path, start, start + n)
        assert record is not None
        emulated = menu.conditions(compared, events, None) if compared else np.zeros((n, 0), bool)
        hardware = record.decisions[:, columns]
        known = hardware != dataset.NOT_RECORDED
        for j, s in enumerate(compared):
            hw, emu, ok = hardware[:, j] == 1, emulated[:, j], known[:, j]
            c = counts[s.name]
            c["events"] += int(ok.sum())
            c["agree"] += int((ok & (hw == emu)).sum())
            for key, rows in (("hw_only", ok & hw & ~emu), ("emu_only", ok & ~hw & emu)):
                c[key] += int(rows.sum())
                room = show - len(firsts[s.name][key])
                if room > 0:
                    firsts[s.name][key] += _ids(record.id, np.flatnonzero(rows)[:room], start)
        start += n
    seeds = {}
    for s in compared:
        c = counts[s.name]
        seeds[s.name] = {
            **c,
            "agreement": c["agree"] / c["events"] if c["events"] else float("nan"),
            "first_hw_only": firsts[s.name]["hw_only"],
            "first_emu_only": firsts[s.name]["emu_only"],
        }
    return {
        "file": str(path),
        "events": start,
        "seeds": seeds,
        "menu_seeds_not_recorded": [s.name for s in classic if s.name not in recorded],
        "recorded_seeds_not_in_menu": [s for s in recorded if s not in {c.name for c in classic}],
    }


def provenance(path: str | Path, bins: int = 20, block: int = 1_000_000) -> dict[str, Any] | None:
    """Runs (crossings and lumi sections of each) and the pileup distribution of a real-data file, streamed in
    ``block``-crossing pieces; None for a file without a record (generated events)."""
    head = dataset.read_record(path, 0, 0)
    if head is None:
        return None
    total = dataset.count(path)
    lumis: dict[int, set[int]] = {}
    crossings: dict[int, int] = {}
    pileups = []
    for a in range(0, total, block):
        record = dataset.read_record(path, a, a + block)
        assert record is not None
        pairs = np.unique(record.id[:, :2], axis=0)
        for run, lumi in pairs.tolist():
            lumis.setdefault(run, set()).add(lumi)
        runs, counts = np.unique(record.id[:, 0], return_counts=True)
        for run, k in zip(runs.tolist(), counts.tolist(), strict=True):
            crossings[run] = crossings.get(run, 0) + k
        pileups.append(record.pileup.astype(np.float64))
    pu = np.concatenate(pileups) if pileups else np.zeros(0)
    hist, edges = np.histogram(pu, bins=bins) if len(pu) else (np.zeros(0), np.zeros(1))
    return {
        "crossings": total,
        "runs": {
            str(run): {
                "crossings": crossings[run],
                "lumi_sections": len(lumis[run]),
                "first_lumi": min(lumis[run]),
                "last_lumi": max(lumis[run]),
            }
            for run in sorted(crossings)
        },
        "pileup": {
            "mean": float(pu.mean()) if len(pu) else float("nan"),
            "quantiles": {q: float(np.quantile(pu, float(q))) for q in ("0.05", "0.5", "0.95")} if len(pu) else {},
            "histogram": {"edges": edges.tolist(), "counts": hist.astype(int).tolist()},
        },
        "recorded_seeds": head.seeds,
    }
