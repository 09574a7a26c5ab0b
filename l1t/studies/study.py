"""``l1t report``: a menu's rates and efficiencies from the emulator's bit-exact decisions on a zero-bias file and
signal files, with the AD seeds' thresholds set from their target rates; the HTML report and ``results.json``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from l1t import __version__, inventory
from l1t.emulator.menu import Menu, MenuError
from l1t.events.dataset import read, read_truth, read_weights
from l1t.kinds import load_chain
from l1t.studies import rates, turnon
from l1t.studies.decisions import compare_decisions, provenance
from l1t.studies.pileup import rate_vs_pileup, sample_pileup
from l1t.studies.reference import ReferenceSpec, compare_rates
from l1t.studies.report import plots, write_report
from l1t.studies.scale import study_chunked, study_fields

__all__ = ["MenuStudy", "menu_report"]


@dataclass
class MenuStudy:
    menu: Menu
    results: dict[str, Any]
    report: Path


def menu_report(
    menu_path: Path,
    zero_bias: Path,
    out: Path,
    *,
    models: Mapping[str, Path] | None = None,
    signals: Sequence[Path] = (),
    pileup_scan: Sequence[Path] = (),
    bunches: int = rates.N_BUNCHES,
    dask: bool = False,
    scheduler: str | None = None,
    chunk: int = 100_000,
    reference: ReferenceSpec | None = None,
    note: Callable[[str], None] = print,
) -> MenuStudy:
    """Run the study and write ``out/report.html`` and ``out/results.json``. ``models`` maps the menu's model names
    to run directories of ``l1t train``; AD seeds without one are left out (with a ``note``). With ``dask`` or a
    ``scheduler`` the zero-bias file is streamed in ``chunk``-crossing pieces (bounded memory). ``pileup_scan``:
    zero-bias files at other pileups for rate vs pileup (read in memory), with the AD thresholds the main file set.
    ``reference``: a cited rate table the simulated rates are set against (at its pileup, when it states one)."""
    menu = Menu.from_yaml(menu_path)
    chains = {name: load_chain(path) for name, path in (models or {}).items()}
    missing = menu.keep_ad_models(set(chains))
    if missing:
        note(f"no model for {missing}: those AD seeds are left out")
    sig, sig_weights, sig_truth = {}, {}, {}
    for path in signals:
        ev = read(path)
        scored = {m: c.score(ev.data) for m, c in chains.items()}
        label = str(ev.attrs.get("process", path.stem)) + (" (fast sim)" if ev.attrs.get("fastsim") else "")
        if label in sig:
            raise MenuError(f"{path}: a second {label!r} sample; give one file per process")
        sig[label] = (ev.data, scored)
        w = read_weights(path)
        if w is not None:
            sig_weights[label] = w
        objects = read_truth(path)
        if objects is not None:
            sig_truth[label] = (ev.data, objects, w)
    chunked = dask or scheduler is not None
    if chunked:  # only counts and top-K scores leave the workers
        zb_attrs = read(zero_bias, 0, 1, fields=["sums/hw"]).attrs
        results = study_chunked(
            menu, zero_bias, chains, sig, chunk=chunk, scheduler=scheduler, bunches=bunches, signal_weights=sig_weights
        )
        zb_scores = {}
    else:
        zb = read(zero_bias, fields=study_fields(menu, chains))
        zb_attrs = zb.attrs
        zb_scores = {m: c.score(zb.data) for m, c in chains.items()}
        weights = read_weights(zero_bias)
        results = rates.study(menu, zb.data, zb_scores, sig, bunches, weights, sig_weights)
        zb_truth = read_truth(zero_bias)
        if zb_truth is not None:  # generated zero bias: its hard interactions are a QCD sample, weighted
            sig_truth["zero bias (QCD)"] = (zb.data, zb_truth, weights)
    if pileup_scan:
        main = (sample_pileup(zero_bias, zb_attrs), results)
        results["rate_vs_pileup"] = rate_vs_pileup(menu, main, pileup_scan, chains, bunches)
    if reference is not None:
        if reference.pileup is not None and not pileup_scan:  # the main sample's rates are at its pileup
            results["zero_bias_pileup"] = sample_pileup(zero_bias, zb_attrs)
        results["reference"] = compare_rates(results, reference)
    results["turn_ons"] = turnon.turn_ons(menu, sig_truth)
    results["turn_on_samples"] = sorted(sig_truth)
    floors = {m: c.no_score for m, c in chains.items() if getattr(c, "no_score", None) is not None}
    images = plots(zb_scores, {k: v[1] for k, v in sig.items()}, results, floors)
    real = provenance(zero_bias)
    if real is not None:  # recorded crossings: where they come from, and the emulator against the hardware
        results["provenance"] = real
        results["data_vs_emulator"] = compare_decisions(menu, zero_bias)
    context = {
        "menu": str(menu_path),
        "zero_bias_source": "recorded data" if real is not None else zb_attrs.get("generator", "generated"),
        "zero_bias": str(zero_bias),
        "pileup": zb_attrs.get("pileup"),
        "library": zb_attrs.get("library"),
        "pileup_max_share": zb_attrs.get("pileup_max_share"),
        "strata": zb_attrs.get("strata"),
        "cross_sections_mb": zb_attrs.get("cross_sections_mb"),
        "dask": chunked,
        "signals": [str(s) for s in signals],
        "models": [f"{name}={path}" for name, path in (models or {}).items()],
        "bunches": bunches,
        "l1t": __version__,
        "packages": inventory.package_versions(),
    }
    return MenuStudy(menu, results, write_report(out, results, images, context))
