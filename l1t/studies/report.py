"""``l1t report``: one self-contained HTML file (plots embedded) and the raw numbers as JSON."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from l1t.atomic import write_text
from l1t.extras import require
from l1t.models import metrics
from l1t.studies.decisions import TABLE_HEADER, table_rows
from l1t.studies.figures import axes, figure
from l1t.studies.rates import F_REV_HZ, rate_curve

__all__ = ["L1_BUDGET_HZ", "plots", "write_report"]

SEED_HEADER = ["seed", "kind", "prescale", "threshold (raw)", "rate [Hz]", "unique rate [Hz]",
               "pure rate (no classic seed) [Hz]", "overlap with classic"]  # fmt: skip
# The L1 accept rate the readout takes: 100 kHz in Run 2 (CMS, JINST 15 (2020) P10017), about 110 kHz in Run 3
L1_BUDGET_HZ = (100e3, 110e3)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode()


def plots(
    zb_scores: dict[str, np.ndarray],
    signal_scores: dict[str, dict[str, np.ndarray]],
    results: dict[str, Any],
    floors: dict[str, int] | None = None,
) -> dict[str, str]:
    """Base64 PNGs: rate vs threshold and score distributions per AD model, ROC per model, efficiencies.
    ``floors``: per model, the score word a crossing without a score carries (``Chain.no_score``: a tagger's lowest
    word when no jet is taken); those crossings count in every rate but are not drawn, and the plots say how many
    there are."""
    require("studies", "the report's plots")
    import matplotlib.style
    import mplhep

    with matplotlib.style.context(mplhep.style.CMS):
        return _plots(zb_scores, signal_scores, results, floors or {})


def _plots(
    zb_scores: dict[str, np.ndarray],
    signal_scores: dict[str, dict[str, np.ndarray]],
    results: dict[str, Any],
    floors: dict[str, int],
) -> dict[str, str]:
    require("studies", "the report's plots")
    import hist
    import mplhep

    out = {}
    for model, zb in zb_scores.items():
        floor = floors.get(model)
        scored = np.ones(len(zb), dtype=bool) if floor is None else zb != floor
        fig, ax = axes((8, 6))
        thr, hz = rate_curve(zb)
        if floor is not None:
            thr, hz = thr[thr > floor], hz[thr > floor]
        if not scored.all():
            ax.text(0.98, 0.98, f"{1 - scored.mean():.1%} of the crossings have no score: not drawn",
                    ha="right", va="top", transform=ax.transAxes, fontsize=10)  # fmt: skip
        ax.step(thr, hz, where="post")
        if thr.size and thr.min() >= 0:  # an unsigned score (sum mu^2, R_z) spans decades
            ax.set_xscale("symlog", linthresh=1)
        for name, row in results["seeds"].items():  # the working points' thresholds (at the floor: every score)
            if row.get("model") == model and row.get("threshold_raw") is not None and row["threshold_raw"] != floor:
                ax.axvline(row["threshold_raw"], color="k", ls=":", lw=1)
                ax.text(row["threshold_raw"], 0.98, name.rsplit("_", 1)[-1], rotation=90, va="top", ha="right",
                        fontsize=9, transform=ax.get_xaxis_transform())  # fmt: skip
        if (hz > 0).any():
            ax.set_yscale("log")
        ax.set_xlabel(f"{model} score threshold (raw)")
        ax.set_ylabel("zero-bias rate [Hz]")
        ax.set_title(f"{model}: zero-bias rate vs score threshold", fontsize=14)
        fig.tight_layout()
        out[f"rate_vs_threshold_{model}"] = _png(fig)
        fig, ax = axes((8, 6))
        every = {"zero bias": zb} | {name: s[model] for name, s in signal_scores.items() if model in s}
        samples = {name: v[v != floor] if floor is not None else v for name, v in every.items()}
        samples = {name: v for name, v in samples.items() if len(v)}
        if not samples:
            _empty_panel(ax, f"no crossing of any sample has a {model} score")
            out[f"scores_{model}"] = _png(fig)
            continue
        lo = min(float(np.min(v)) for v in samples.values())
        hi = max(float(np.max(v)) for v in samples.values())
        signed = lo < 0  # a signed score (a tagger's logit) on a linear axis; others as log10(1 + score)
        edges = (lo, hi + 1) if signed else (0, np.log10(1 + hi) * 1.02 + 1e-3)
        label = f"{model} score (raw)" if signed else f"log10(1 + {model} score)"
        for name, values in samples.items():  # the tails stay visible on the log y axis
            h = hist.Hist.new.Reg(60, *edges, name="s", label=label).Double()
            v = np.asarray(values, dtype=np.float64)
            h.fill(v if signed else np.log10(1 + v))
            missing = 1 - len(v) / len(every[name])
            tag = f"{name} ({missing:.0%} without a score)" if missing > 0 else name
            mplhep.histplot(h, ax=ax, density=True, yerr=False, label=tag, color="k" if name == "zero bias" else None)
        ax.set_yscale("log")
        ax.set_ylabel("events (normalized)")
        ax.set_title(f"{model}: score distributions", fontsize=14)
        ax.legend(fontsize=12)
        fig.tight_layout()
        out[f"scores_{model}"] = _png(fig)
        fig, ax = axes((8, 6))
        for name, s in signal_scores.items():
            if model in s:
                fpr, tpr, _ = metrics.roc(zb, s[model])
                ax.plot(fpr, tpr, label=f"{name} (AUC {metrics.auc(zb, s[model]):.3f})")
        ax.set_xscale("log")
        ax.set_xlabel("zero-bias acceptance")
        ax.set_ylabel("signal efficiency")
        ax.set_title(f"{model}: ROC per signal", fontsize=14)
        ax.legend(fontsize=12)
        fig.tight_layout()
        out[f"roc_{model}"] = _png(fig)
    scan = results.get("threshold_scan")
    if scan:
        out["rate_vs_threshold_classic"] = _png(_scan_figure(scan))
    if results.get("turn_ons"):
        out["turn_ons"] = _png(_turn_on_figure(results["turn_ons"]))
    if results.get("rate_vs_pileup"):
        out["rate_vs_pileup"] = _png(_pileup_figure(results["rate_vs_pileup"]))
    if results["signals"]:
        fig, ax = axes((10, 6))
        sigs = list(results["signals"])
        seeds = [k for k in next(iter(results["signals"].values()))["efficiency"] if "pure" not in k]
        width = 0.8 / max(len(sigs), 1)
        for i, name in enumerate(sigs):
            eff = results["signals"][name]["efficiency"]
            ax.bar(np.arange(len(seeds)) + i * width, [eff[s] for s in seeds], width, label=name)
        ax.set_xticks(np.arange(len(seeds)) + 0.4 - width / 2, seeds, rotation=70, fontsize=10)
        ax.set_ylabel("efficiency (no prescale)")
        ax.set_title("Signal efficiency per seed", fontsize=14)
        ax.legend(fontsize=11)
        fig.tight_layout()
        out["efficiencies"] = _png(fig)
    return out


def _scan_figure(scan: dict[str, dict[str, Any]]) -> Any:
    """One panel per classic seed: unprescaled zero-bias rate vs its leading threshold, the menu's marked."""
    fig, grid = _panel_grid(list(scan), 3, (5, 3.6))
    for ax, s in zip(grid, scan.values(), strict=True):
        hz, err = np.asarray(s["rate_hz"]), np.asarray(s["rate_err_hz"])
        if not (hz > 0).any():  # nothing to draw: say so in the panel
            _empty_panel(ax, f"no zero-bias crossing fires\nfrom {s['gev'][0]:.3g} to {s['gev'][-1]:.3g} GeV")
            continue
        ax.errorbar(s["gev"], hz / 1e3, err / 1e3, fmt="o", ms=3)
        ax.axvline(s["menu_gev"], color="k", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("leading threshold [GeV]", fontsize=10)
        ax.set_ylabel("rate [kHz]", fontsize=10)
    fig.suptitle("Classic seeds: unprescaled zero-bias rate vs threshold (dotted: the menu's)")
    fig.tight_layout()
    return fig


_CAPTIONS = {
    "rate_vs_threshold_classic": "Classic seeds: zero-bias rate vs threshold",
    "turn_ons": "Turn-on curves of the classic seeds on the signal samples",
    "rate_vs_pileup": "Rate vs pileup, with straight-line fits",
    "efficiencies": "Signal efficiency per seed (no prescales)",
    "rate_vs_threshold_": "{}: zero-bias rate vs score threshold (dotted: the working points)",
    "scores_": "{}: score distributions of zero bias and the signals",
    "roc_": "{}: signal efficiency vs zero-bias acceptance",
}


def _caption(key: str) -> str:
    """A figure's caption from its key (``rate_vs_threshold_<model>`` and the like name the model)."""
    if key in _CAPTIONS:
        return _CAPTIONS[key]
    prefix = max((p for p in _CAPTIONS if p.endswith("_") and key.startswith(p)), key=len, default=None)
    return _CAPTIONS[prefix].format(key.removeprefix(prefix)) if prefix else key


def _panel_grid(names: list[str], cols: int, panel: tuple[float, float]) -> tuple[Any, list[Any]]:
    """A figure of one titled panel (``panel`` inches) per name, ``cols`` to a row; the panels in order."""
    rows = -(-len(names) // cols)
    fig = figure((panel[0] * cols, panel[1] * rows))
    grid = [fig.add_subplot(rows, cols, k + 1) for k in range(len(names))]
    for ax, name in zip(grid, names, strict=True):
        ax.set_title(name, fontsize=11)
    return fig, grid


def _empty_panel(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _turn_on_figure(curves: dict[str, dict[str, Any]]) -> Any:
    """One panel per classic seed: efficiency vs its generator-level quantity per sample, the erf fits and their
    95 % points; a panel without a curve says why."""
    from l1t.studies.turnon import EFFICIENCY_POINT, erf_turn_on

    fig, grid = _panel_grid(list(curves), 3, (5.5, 4))
    for ax, c in zip(grid, curves.values(), strict=True):
        drawn = {label: s for label, s in c.get("samples", {}).items() if "edges" in s}
        if not drawn:
            why = c.get("why_not") or "; ".join(f"{label}: {s['why_not']}" for label, s in c["samples"].items())
            _empty_panel(ax, "no turn-on:\n" + why.replace("; ", "\n"))
            continue
        for label, s in drawn.items():
            edges = np.asarray(s["edges"])
            centers = 0.5 * (edges[1:] + edges[:-1])
            filled = np.asarray(s["effective_events"]) > 0
            eff, err = np.asarray(s["efficiency"]), np.asarray(s["efficiency_err"])
            fit = s["fit"]
            point = f", {EFFICIENCY_POINT:.0%} at {fit['pt95']:.0f} GeV" if fit and fit["pt95"] else ""
            bars = ax.errorbar(centers[filled], eff[filled], err[filled], fmt="o", ms=3, label=f"{label}{point}")
            if fit:
                xs = np.linspace(edges[0], edges[-1], 200)
                ax.plot(xs, erf_turn_on(xs, fit["mu"], fit["sigma"], fit["plateau"]), color=bars[0].get_color())
        ax.axvline(c["threshold_gev"], color="k", ls=":", lw=1)
        ax.set_ylim(0, 1.1)
        ax.set_xlabel(c["quantity"], fontsize=9)
        ax.set_ylabel("efficiency", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Turn-on curves (dotted line: the seed's threshold)")
    fig.tight_layout()
    return fig


def _pileup_figure(scan: dict[str, Any]) -> Any:
    """One panel per seed and one for the menu total: rate vs mean pileup with the straight-line fit."""
    panels = {**scan["seeds"], "menu total": scan["total"]}
    pileup = np.asarray(scan["pileup"])
    fig, grid = _panel_grid(list(panels), 4, (4.5, 3.6))
    for ax, s in zip(grid, panels.values(), strict=True):
        hz, err = np.asarray(s["rate_hz"]) / 1e3, np.asarray(s["rate_err_hz"]) / 1e3
        if not (hz > 0).any():
            _empty_panel(ax, f"no crossing fires at pileup {', '.join(f'{p:g}' for p in pileup)}")
            continue
        ax.errorbar(pileup, hz, err, fmt="o", ms=4)
        fit = s["fit"]
        if fit:
            xs = np.linspace(0, pileup.max() * 1.1, 50)
            ax.plot(xs, (fit["intercept_hz"] + fit["slope_hz_per_pileup"] * xs) / 1e3, "-", lw=1,
                    label=f"slope {fit['slope_hz_per_pileup'] / 1e3:.3g} ± {fit['slope_err_hz_per_pileup'] / 1e3:.2g}"
                    " kHz/PU")  # fmt: skip
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xlim(0, pileup.max() * 1.1)
        ax.set_xlabel("mean pileup <mu>", fontsize=10)
        ax.set_ylabel("rate [kHz]", fontsize=10)
    fig.suptitle("Rate vs pileup (AD thresholds fixed at the main sample's working points)")
    fig.tight_layout()
    return fig


def _turn_on_table(results: dict[str, Any]) -> str:
    """Seed x sample: the erf fit's mu, sigma, plateau and 95 % point."""
    curves = results.get("turn_ons")
    if curves is None:
        return ""
    if not results.get("turn_on_samples"):
        return "<p>No signal sample carries generator-level objects (files of format version 5 do).</p>"
    rows = []
    for name, c in curves.items():
        for label, s in c.get("samples", {}).items():
            fit = s.get("fit")
            if fit is None:
                rows.append(
                    [
                        name,
                        label,
                        s["events"],
                        "-",
                        "-",
                        "-",
                        s.get("why_not") or s["fit_why_not"],
                    ]
                )
                continue
            point = f"{fit['pt95']:.1f}" if fit["pt95"] else f"never (plateau {fit['plateau']:.3f})"
            rows.append([name, label, s["events"], f"{fit['mu']:.1f} ± {fit['errors'][0]:.1f}",
                         f"{fit['sigma']:.1f} ± {fit['errors'][1]:.1f}", f"{fit['plateau']:.3f}", point])  # fmt: skip
    header = ["seed", "sample", "events", "mu [GeV]", "sigma [GeV]", "plateau", "95 % point [GeV]"]
    return "<h2>Turn-on curves</h2>" + _table(header, rows)


def _missing_plots(results: dict[str, Any]) -> str:
    """Why a plot the report usually has is not there."""
    out = ""
    if "threshold_scan" not in results:
        out += ("<p>Rate vs threshold of the classic seeds is computed in memory only; this study streamed the zero "
                "bias on Dask (without <code>--dask</code> it appears here).</p>")  # fmt: skip
    if "rate_vs_pileup" not in results:
        out += ("<p>Rate vs pileup needs zero-bias samples at other pileups: <code>l1t report --pileup-scan "
                "FILE</code> (repeatable).</p>")  # fmt: skip
    return out


def _rate_cell(row: dict[str, Any], key: str) -> str:
    """A seed row's ``<key>_hz`` with its ``<key>_err_hz``, or "-" when the seed has none."""
    return f"{row[f'{key}_hz']:.4g} ± {row[f'{key}_err_hz']:.2g}" if f"{key}_hz" in row else "-"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _summary(results: dict[str, Any]) -> str:
    """The menu total against the L1 accept budget, the seeds that dominate it and the AD seeds' pure rates."""
    total, err = results["total_rate_hz"], results["total_rate_err_hz"]
    lo, hi = L1_BUDGET_HZ
    verdict = "inside" if lo <= total <= hi else ("below" if total < lo else "above")
    seeds = sorted(results["seeds"].items(), key=lambda kv: -kv[1]["rate_hz"])
    top = ", ".join(f"{html.escape(k)} {r['rate_hz'] / 1e3:.3g} kHz ({r['rate_hz'] / total:.0%})"
                    for k, r in seeds[:3] if total > 0)  # fmt: skip
    ad = "".join(f"<li>{html.escape(k)}: pure rate {r['pure_rate_hz'] / 1e3:.3g} ± "
                 f"{r['pure_rate_err_hz'] / 1e3:.2g} kHz, total {r['rate_hz'] / 1e3:.3g} kHz</li>"
                 for k, r in results["seeds"].items() if "pure_rate_hz" in r)  # fmt: skip
    below = [(k, r) for k, r in results["seeds"].items() if r.get("target_hz") and r["rate_hz"] < 0.5 * r["target_hz"]]
    ad += "".join(f"<li>{html.escape(k)} reaches {r['rate_hz'] / 1e3:.3g} kHz of its {r['target_hz'] / 1e3:.3g} kHz "
                  "target: the next lower score threshold lets more through than the target, or none is left (every "
                  "crossing with a score passes).</li>" for k, r in below)  # fmt: skip
    return (f"<h2>Summary</h2><ul><li>Menu total {total / 1e3:.4g} ± {err / 1e3:.2g} kHz: {verdict} the L1 accept "
            f"budget of {lo / 1e3:.0f}-{hi / 1e3:.0f} kHz.</li><li>Largest seeds (after prescale, overlaps counted in "
            f"each): {top or 'none fired'}.</li>{ad}</ul>")  # fmt: skip


def _reference_section(results: dict[str, Any]) -> str:
    """The simulated rates next to a cited reference table (``l1t.studies.reference.compare_rates``)."""
    cmp = results.get("reference")
    if cmp is None:
        return ""
    at = f" at pileup {cmp['pileup']:g}" if cmp["pileup"] is not None else ""
    rows = [[name, _khz(r["simulated_hz"], r["simulated_err_hz"]), _khz(r["reference_hz"], r["reference_err_hz"]),
             f"{r['ratio']:.3g}", "yes" if r["within"] else "no"] for name, r in cmp["seeds"].items()]  # fmt: skip
    outside = [html.escape(name) for name, r in cmp["seeds"].items() if not r["within"]]
    verdict = (f"Outside a factor {cmp['factor']:g}: {', '.join(outside)}. They show what the parametric detector "
               "(<code>configs/detector.yaml</code>) leaves out; the README's section on rates says which part and "
               "why." if outside else f"Every seed agrees within a factor {cmp['factor']:g}.")  # fmt: skip
    missing = f" Not in this menu: {html.escape(', '.join(cmp['not_in_study']))}." if cmp["not_in_study"] else ""
    return (
        f"<h2>Simulated vs recorded rates</h2><p>Simulated{at} against {html.escape(cmp['source'])} "
        f"({html.escape(cmp['conditions'])}). {verdict}{missing}</p>"
        + _table(["seed", "simulated [kHz]", "reference [kHz]", "ratio", f"within x{cmp['factor']:g}"], rows)
    )


def _khz(hz: float, err: float) -> str:
    return f"{hz / 1e3:.3g} ± {err / 1e3:.2g}"


def _efficiency_matrix(results: dict[str, Any]) -> str:
    """Signals x seeds: each seed's efficiency (no prescale), the AD seeds' pure efficiency next to it."""
    if not results["signals"]:
        return "<p>No signal samples were given.</p>"
    effs = {name: s["efficiency"] for name, s in results["signals"].items()}
    seeds = [k for k in next(iter(effs.values())) if not k.endswith(" pure")]
    rows = [[name, *(f"{e[k]:.3f}" + (f" (pure {e[k + ' pure']:.3f})" if k + " pure" in e else "") for k in seeds)]
            for name, e in effs.items()]  # fmt: skip
    return _table(["signal", *seeds], rows)


def _weights_note(results: dict[str, Any]) -> str:
    """For weighted zero bias: the sum of weights and the effective number of crossings (sum w)^2 / sum w^2."""
    eff = results.get("zero_bias_effective_events")
    if eff is None or abs(eff - results["zero_bias_events"]) < 1e-6 * max(eff, 1):
        return ""
    return f" (weighted: sum of weights {results['zero_bias_weight']:.4g}, effective crossings {eff:.4g})"


def _generated_section(context: dict[str, Any]) -> str:
    """How generated zero bias was made: pileup, library reuse and, when stratified, the pT-hat strata."""
    if context.get("pileup") is None or context.get("library") is None:
        return ""
    share = context.get("pileup_max_share")
    reuse = f"; no library event is in more than {share:.2%} of the crossings" if share is not None else ""
    text = (f"<h2>Zero bias</h2><p>Generated: pileup {context['pileup']:g} (Poisson), drawn from "
            f"{context['library']} min-bias events{reuse}.")  # fmt: skip
    strata = context.get("strata")
    if not strata:
        return text + "</p>"
    rows = [[s["label"], s["crossings"], f"{s['probability']:.3g}", f"{s['weight']:.3g}"] for s in strata]
    sigma = context["cross_sections_mb"]["inelastic"][0]
    return (f"{text} The hard tail comes from 2&rarr;2 QCD in pT-hat strata weighted by their cross sections "
            f"(&sigma;<sub>inel</sub> = {sigma:.4g} mb): a stratum holds the crossings whose hardest interaction "
            f"lies in its pT-hat range; min bias that on its own makes an L1 object above a low threshold "
            f"(active) leads one crossing each and is not reused.</p>"
            + _table(["stratum (pT-hat [GeV])", "crossings", "probability per crossing", "weight"], rows))  # fmt: skip


def _data_sections(results: dict[str, Any]) -> str:
    """Provenance of recorded zero bias and the emulator's decisions against the recorded ones ("" otherwise)."""
    prov = results.get("provenance")
    if prov is None:
        return ""
    runs = [[run, r["crossings"], r["lumi_sections"], f"{r['first_lumi']}-{r['last_lumi']}"]
            for run, r in prov["runs"].items()]  # fmt: skip
    pu = prov["pileup"]
    quant = ", ".join(f"{q}: {v:.1f}" for q, v in pu["quantiles"].items())
    cmp = results["data_vs_emulator"]
    missing = ", ".join(cmp["menu_seeds_not_recorded"]) or "none"
    return f"""<h2>Recorded zero bias</h2><p>{prov["crossings"]} recorded crossings; pileup mean {pu["mean"]:.1f}
(quantiles {quant}).</p>{_table(["run", "crossings", "lumi sections", "lumi range"], runs)}
<h2>Data vs emulator</h2><p>The emulator's decision of each classic seed (before prescale) against the decision the
hardware recorded, crossing by crossing; 1-&gt;0: the hardware fired and the emulator did not. Seeds of the menu the
file did not record: {html.escape(missing)}.</p>{_table(list(TABLE_HEADER), table_rows(cmp, 3))}"""


def write_report(out_dir: str | Path, results: dict[str, Any], images: dict[str, str], context: dict[str, Any]) -> Path:
    """Write ``report.html`` (self-contained) and ``results.json`` into ``out_dir``; returns the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_rows = []
    for name, r in results["seeds"].items():
        seed_rows.append(
            [
                name,
                r["kind"],
                r["prescale"],
                r.get("threshold_raw", "-"),
                _rate_cell(r, "rate"),
                _rate_cell(r, "unique_rate"),
                _rate_cell(r, "pure_rate"),
                f"{r['overlap_with_classic']:.2f}" if "overlap_with_classic" in r else "-",
            ]
        )
    ad_rows = [
        [name, m, f"{v['auc']:.3f}", f"{v['tpr_at_fpr_1e-5']:.4f}"]
        for name, s in results["signals"].items()
        for m, v in s["scores"].items()
    ]
    imgs = "".join(
        f'<figure id="{html.escape(k)}"><img src="data:image/png;base64,{b64}"/>'
        f"<figcaption>{html.escape(_caption(k))}</figcaption></figure>"
        for k, b64 in images.items()
    )
    doc = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>l1t report: {html.escape(context["menu"])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}}th{{background:#eee}}
figure{{display:inline-block;margin:4px}}img{{width:560px}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style></head><body>
<h1>l1t trigger study: {html.escape(context["menu"])}</h1>
{_summary(results)}
<h2>Rates</h2><p>{results["zero_bias_events"]} zero-bias crossings{_weights_note(results)}; total menu rate
{results["total_rate_hz"]:.4g} ± {results["total_rate_err_hz"]:.2g} Hz
(classic seeds {results["classic_rate_hz"]:.4g} Hz);
f_rev = {F_REV_HZ} Hz, {context["bunches"]} colliding bunches. Every decision is the emulator's, bit for bit.</p>
<h2>Seeds</h2>{
        _table(
            SEED_HEADER,
            seed_rows,
        )
    }
{_reference_section(results)}{_generated_section(context)}{_data_sections(results)}
<h2>Signal efficiencies (no prescales)</h2>{_efficiency_matrix(results)}
{_turn_on_table(results)}
<h2>Anomaly scores</h2>{
        _table(["signal", "score", "AUC", "TPR at FPR 1e-5"], ad_rows)
        if ad_rows
        else "<p>No AD or score model was given (<code>--model NAME=RUN</code>), or no signal sample.</p>"
    }
<h2>Plots</h2>{_missing_plots(results)}{imgs}
<h2>Configuration and versions</h2><pre>{html.escape(json.dumps(context, indent=1, default=str))}</pre>
</body></html>"""
    write_text(out_dir / "results.json", json.dumps({"results": results, "context": context}, indent=1, default=float))
    return write_text(out_dir / "report.html", doc)
