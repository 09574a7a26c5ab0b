"""``l1t train``: train on generated HDF5, export the trigger network, and evaluate float, quantized and emulated
(bit-exact) scores side by side on zero bias and each signal.

Writes into the output directory: ``model.h5`` (the trigger network, QKeras), ``model_float.h5`` (float reference),
``spec/`` (emulator spec), ``hls4ml_prj/`` (hls4ml project, C-sim checked against the emulator on the test
events), ``summary.json`` (configuration, sizes, sparsity, metrics), and ``plots/`` (loss curves, score
distributions, ROC per signal).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.atomic import write_text
from l1t.emulator import scores
from l1t.emulator.calo import cicada_input_raw, tagger_input_raw
from l1t.emulator.objects import InputScaling, gt_vector
from l1t.events import dataset, jets
from l1t.firmware.build import csim_mismatches
from l1t.models import metrics
from l1t.models.axol1tl import AxoConfig, object_mask, train_vae
from l1t.models.cicada import CicadaConfig, network_inputs, teacher_target, train_student, train_teacher
from l1t.models.export import export, hls_config
from l1t.models.gnn import predict_logits, train_gnn
from l1t.models.tagger import TaggerConfig, train_tagger
from l1t.models.tagger import network_inputs as tagger_inputs
from l1t.pipelines import TrainingProgress, callbacks
from l1t.studies.figures import axes

__all__ = ["evaluate", "run_axol1tl", "run_cicada", "run_tagger"]

FPR_POINTS = {"fpr_1e-5": 1e-5, "fpr_1kHz": metrics.rate_fpr(1e3)}
# Published rows these results are shown next to (a different data set: a comparison, not a claim).
REFERENCE_ROWS = [
    {"model": "CNN VAE, R_z (seed talk)", "auc": 0.86, "tpr_at_fpr_1e-5": 0.0006},
    {"model": "CNN AE (seed talk)", "auc": 0.96, "tpr_at_fpr_1e-5": 0.0010},
]


def _zero_bias(path: Path) -> dataset.EventSet:
    """The training's zero bias: unweighted crossings, since the losses, the splits and the FPR points count each
    crossing once (a pT-hat-stratified file would train on, and quote acceptances of, its hard strata unweighted)."""
    if dataset.read_weights(path, 0, 1) is not None:
        raise ValueError(f"{path}: weighted zero bias (truth/weight); training needs unweighted crossings, e.g. "
                         "`l1t generate --process minbias` without --pthat-bins")  # fmt: skip
    return dataset.read(path)


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = np.random.default_rng(seed).permutation(n)
    a, b = int(0.6 * n), int(0.8 * n)
    return idx[:a], idx[a:b], idx[b:]


def _data_summary(data: Path, n: int, split: tuple[np.ndarray, ...], signals: list[Path]) -> dict[str, Any]:
    tr, va, te = split
    return {
        "zero_bias": str(data),
        "events": n,
        "train": len(tr),
        "validation": len(va),
        "test": len(te),
        "fpr_floor": 1 / len(te),
        "signals": [str(s) for s in signals],
    }


def _label(path: Path, events: dataset.EventSet) -> str:
    return str(events.attrs.get("process", path.stem))


def evaluate(background: dict[str, np.ndarray], signals: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    """AUC and TPR at the FPR points, per signal and per score (score name -> zero-bias scores)."""
    out: dict[str, Any] = {}
    for sig, by_score in signals.items():
        out[sig] = {}
        for name, s in by_score.items():
            b = background[name]
            row = {"auc": metrics.auc(b, s)}
            for key, fpr in FPR_POINTS.items():
                row[f"tpr_at_{key}"], row[f"threshold_at_{key}"] = metrics.tpr_at_fpr(b, s, fpr)
            out[sig][name] = row
    return out


def _sparsity(model: Any) -> dict[str, float]:
    return {layer.name: float(np.mean(layer.get_weights()[0] == 0)) for layer in model.layers if layer.get_weights()}


def _save_h5(model: Any, path: Path) -> None:
    """Keras HDF5, the format hls4ml and QKeras users load; Keras's notice that it is a legacy format is silenced."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")
        warnings.filterwarnings("ignore", message=r"The .keras.constraints.serialize\(\). API")  # QKeras quantizers
        model.save(path)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(data, indent=1, default=float))


def _plots(
    out: Path,
    histories: dict[str, dict[str, list[float]]],
    bkg: dict[str, np.ndarray],
    sigs: dict[str, dict[str, np.ndarray]],
    score: str,
) -> None:
    d = out / "plots"
    d.mkdir(exist_ok=True)
    fig, ax = axes((6, 4))
    for name, h in histories.items():
        ax.plot(h["loss"], label=f"{name} train")
        if "val_loss" in h:
            ax.plot(h["val_loss"], "--", label=f"{name} validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(d / "loss.png", dpi=110)
    fig, ax = axes((6, 4))
    hi = max(np.percentile(np.concatenate([bkg[score], *[s[score] for s in sigs.values()]]), 99.9), 1e-6)
    bins = np.linspace(0, hi, 60)
    ax.hist(bkg[score], bins=bins, histtype="step", density=True, label="zero bias", color="k")
    for name, s in sigs.items():
        ax.hist(s[score], bins=bins, histtype="step", density=True, label=name)
    ax.set_yscale("log")
    ax.set_xlabel(score)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(d / "scores.png", dpi=110)
    fig, ax = axes((6, 4))
    for name, s in sigs.items():
        fpr, tpr, _ = metrics.roc(bkg[score], s[score])
        ax.plot(fpr, tpr, label=f"{name} (AUC {metrics.auc(bkg[score], s[score]):.3f})")
    ax.set_xscale("log")
    ax.set_xlabel("zero-bias acceptance (FPR)")
    ax.set_ylabel("signal efficiency (TPR)")
    ax.axvline(FPR_POINTS["fpr_1kHz"], color="grey", ls=":", label="1 kHz")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(d / "roc.png", dpi=110)


def run_axol1tl(
    files: list[Path],
    out: Path,
    *,
    seed: int = 1,
    cfg: AxoConfig | None = None,
    progress: TrainingProgress | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train float and quantized+pruned VAEs on zero bias (``files[0]``), export the encoder, evaluate Sigma mu^2 and
    R_z on it and on each signal (``files[1:]``)."""
    data, signals = files[0], list(files[1:])
    cfg = cfg or AxoConfig.from_yaml()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    zb = _zero_bias(data)
    x = gt_vector(zb)
    tr, va, te = _split(len(x), seed)
    scaling = InputScaling.fit(x[tr], cfg.input_frac_bits)
    raw = scaling.raw(x, cfg.input_t)
    xf = raw / 2.0**cfg.input_frac_bits
    mask = object_mask(x)
    log(f"training float VAE on {len(tr)} zero-bias events")
    enc_f, h_f = train_vae(
        cfg, xf[tr], mask[tr], xf[va], mask[va], quantized=False, seed=seed,
        callbacks=callbacks(progress, "float VAE", cfg.epochs),
    )  # fmt: skip
    log(f"training quantized VAE, pruned to {cfg.sparsity:.0%}")
    enc_q, h_q = train_vae(
        cfg, xf[tr], mask[tr], xf[va], mask[va], quantized=True, seed=seed,
        callbacks=callbacks(progress, "quantized VAE", cfg.epochs),
    )  # fmt: skip
    _save_h5(enc_q, out / "model.h5")
    _save_h5(enc_f, out / "model_float.h5")
    log("exporting the encoder with hls4ml")
    net, hls_model = export(enc_q, out / "spec", project_dir=out / "hls4ml_prj", config=hls_config(enc_q, trace=True))
    csim = csim_mismatches(hls_model, net, xf[te][:5000])
    mu_t, lv_t = net.types["mu"], net.types["logvar"]

    def score_all(x_raw: np.ndarray) -> dict[str, np.ndarray]:
        x_in = x_raw / 2.0**cfg.input_frac_bits
        res = {}
        for tag, model in (("float", enc_f), ("quantized", enc_q)):
            mu, lv = (np.asarray(a, dtype=np.float64) for a in model.predict(x_in, batch_size=8192, verbose=0))
            res[f"{tag} sum_mu2"], res[f"{tag} R_z"] = np.square(mu).sum(axis=1), scores.rz_float(mu, lv)
        emu = net.run({"gt_inputs": x_raw}, raw=True)
        res["emulator sum_mu2"] = fx.to_float(scores.sum_mu2(emu["mu"], mu_t), scores.SCORE_T)
        res["emulator R_z"] = fx.to_float(scores.rz(emu["mu"], mu_t, emu["logvar"], lv_t), scores.SCORE_T)
        return res

    bkg = score_all(raw[te])
    sigs = {}
    for path in signals:
        ev = dataset.read(path)
        sigs[_label(path, ev)] = score_all(scaling.raw(gt_vector(ev), cfg.input_t))
    results = evaluate(bkg, sigs)
    _plots(out, {"float": h_f, "quantized": h_q}, bkg, sigs, "emulator sum_mu2")
    summary = {
        "model": "axol1tl",
        "config": dataclasses.asdict(cfg),
        "seed": seed,
        "data": _data_summary(data, len(x), (tr, va, te), signals),
        "reference": REFERENCE_ROWS,
        "input_scaling": scaling.as_dict(),
        "types": {
            "input": str(cfg.input_t),
            "mu": str(mu_t),
            "logvar": str(lv_t),
            "score": str(scores.SCORE_T),
            "exp_table": {
                "type": str(scores.EXP_TABLE_T),
                "size": scores.EXP_TABLE_SIZE,
                "range": [scores.EXP_TABLE_MIN, scores.EXP_TABLE_MAX],
            },
        },
        "sparsity": _sparsity(enc_q),
        "parameters": int(enc_q.count_params()),
        "csim_vs_emulator": csim,
        "history": {"float": h_f, "quantized": h_q},
        "metrics": results,
        "seconds": time.perf_counter() - t0,
    }
    _write_json(out / "summary.json", summary)
    return summary


def run_cicada(
    files: list[Path],
    out: Path,
    *,
    seed: int = 1,
    cfg: CicadaConfig | None = None,
    progress: TrainingProgress | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train the teacher on zero bias (``files[0]``), distil it into the quantized student, export it, evaluate the
    scores on it and on each signal (``files[1:]``)."""
    data, signals = files[0], list(files[1:])
    cfg = cfg or CicadaConfig.from_yaml()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    zb = _zero_bias(data)
    regions = zb["regions/et"]
    x = network_inputs(regions)
    tr, va, te = _split(len(x), seed)
    log(f"training the teacher on {len(tr)} zero-bias events")
    teacher, h_t = train_teacher(cfg, x[tr], x[va], seed, callbacks(progress, "teacher", int(cfg.teacher["epochs"])))
    y_tr, y_va = teacher_target(teacher, x[tr]), teacher_target(teacher, x[va])
    log(f"distilling into the {cfg.student} student")
    student, h_s = train_student(cfg, x[tr], y_tr, x[va], y_va, seed, callbacks(progress, "student", cfg.epochs))
    _save_h5(student, out / "model.h5")
    _save_h5(teacher, out / "model_float.h5")
    config = hls_config(student, overrides={"score": {"Precision": {"result": cfg.output_type}}}, trace=True)
    net, hls_model = export(student, out / "spec", project_dir=out / "hls4ml_prj", config=config)
    csim = csim_mismatches(hls_model, net, x[te][:5000])
    out_name = net.output_names[0]

    def score_all(r: np.ndarray) -> dict[str, np.ndarray]:
        xi = network_inputs(r)
        emu = net.run({net.inputs[0][0]: cicada_input_raw(r, net.inputs[0][2])}, raw=True)[out_name]
        return {
            "teacher (float)": teacher_target(teacher, xi),
            "student (quantized)": student.predict(xi, batch_size=8192, verbose=0).reshape(-1).astype(np.float64),
            "student (emulator)": fx.to_float(emu, net.types[out_name]).reshape(-1),
        }

    bkg = score_all(regions[te])
    sigs = {}
    for path in signals:
        ev = dataset.read(path)
        sigs[_label(path, ev)] = score_all(ev["regions/et"])
    results = evaluate(bkg, sigs)
    _plots(out, {"teacher": h_t, "student": h_s}, bkg, sigs, "student (emulator)")
    summary = {
        "model": "cicada",
        "config": dataclasses.asdict(cfg),
        "seed": seed,
        "data": _data_summary(data, len(x), (tr, va, te), signals),
        "reference": REFERENCE_ROWS,
        "types": {"input": str(net.inputs[0][2]), "score": str(net.types[out_name])},
        "sparsity": _sparsity(student),
        "parameters": {"teacher": int(teacher.count_params()), "student": int(student.count_params())},
        "distillation_target": "log(1 + 32 * teacher MSE) per event",
        "csim_vs_emulator": csim,
        "history": {"teacher": h_t, "student": h_s},
        "metrics": results,
        "seconds": time.perf_counter() - t0,
    }
    _write_json(out / "summary.json", summary)
    return summary


# Published top-tagging row these results are shown next to (a different data set: a comparison, not a claim).
TAGGER_REFERENCE = [{"model": "ParticleNet, top tagging (seed reference)", "auc": 0.985, "rejection_at_0.3": 1298.0}]
TAGGER_TPR = 0.3


def _tagger_row(z: np.ndarray, label: np.ndarray) -> dict[str, float]:
    s, b = z[label == 1], z[label == 0]
    return {
        "auc": metrics.auc(b, s),
        "accuracy": float(np.mean((z > 0) == (label == 1))),
        f"rejection_at_{TAGGER_TPR}": metrics.rejection_at_tpr(b, s, TAGGER_TPR),
    }


def _tagger_plot(out: Path, scores: dict[str, np.ndarray], label: np.ndarray) -> None:
    (out / "plots").mkdir(exist_ok=True)
    fig, ax = axes((6, 4))
    for name, z in scores.items():
        fpr, tpr, _ = metrics.roc(z[label == 0], z[label == 1])
        keep = fpr > 0
        ax.plot(tpr[keep], 1 / fpr[keep], label=f"{name} (AUC {metrics.auc(z[label == 0], z[label == 1]):.3f})")
    ax.set_yscale("log")
    ax.set_xlabel("signal efficiency")
    ax.set_ylabel("background rejection 1/eff")
    ax.axvline(TAGGER_TPR, color="grey", ls=":")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "plots" / "rejection.png", dpi=110)


def run_tagger(
    files: list[Path],
    out: Path,
    *,
    seed: int = 1,
    cfg: TaggerConfig | None = None,
    progress: TrainingProgress | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """On jet files (``l1t generate --jets``; labels from the files): the offline GNN on particles, the L1 tagger on
    towers trained on labels alone and distilled from the GNN; the distilled tagger is exported (spec, hls4ml project
    checked against the emulator) and every model is evaluated on the same test jets."""
    cfg = cfg or TaggerConfig.from_yaml()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    parts = [jets.read(path)[0] for path in files]
    data = {k: np.concatenate([p[k] for p in parts]) for k in jets.SCHEMA}
    label = data["jets/label"].astype(np.float32)
    if label.min() == label.max():
        raise dataset.DatasetError(
            f"{', '.join(map(str, files))}: every jet has label {int(label[0])}; give both classes"
        )
    particles, x = data["particles/features"], tagger_inputs(data["constituents/hw"])
    tr, va, te = _split(len(label), seed)

    log(f"training the GNN on {len(tr)} jets ({int(label[tr].sum())} signal)")
    cbs = callbacks(progress, "GNN", int(cfg.gnn["epochs"]))
    teacher, h_g = train_gnn(cfg.gnn, particles[tr], label[tr], particles[va], label[va], seed, callbacks=cbs)
    cbs = callbacks(progress, "L1 tagger", cfg.epochs)
    plain, h_p = train_tagger(cfg, x[tr], label[tr], x[va], label[va], seed, callbacks=cbs)
    soft = (predict_logits(teacher, particles[tr]), predict_logits(teacher, particles[va]))
    cbs = callbacks(progress, "L1 tagger, distilled", cfg.epochs)
    distilled, h_d = train_tagger(cfg, x[tr], label[tr], x[va], label[va], seed, teacher=soft, callbacks=cbs)
    _save_h5(distilled, out / "model.h5")
    _save_h5(plain, out / "model_labels.h5")
    teacher.save_weights(out / "gnn.weights.h5")
    config = hls_config(distilled, overrides={"towers": {"Precision": {"result": cfg.input_type}}}, trace=True)
    net, hls_model = export(distilled, out / "spec", project_dir=out / "hls4ml_prj", config=config)
    raw = tagger_input_raw(data["constituents/hw"][te], net.inputs[0][2])
    csim = csim_mismatches(hls_model, net, x[te][:5000])
    emu = net.run({net.inputs[0][0]: raw}, raw=True)[net.output_names[0]]
    scores = {
        "GNN (float, particles)": predict_logits(teacher, particles[te]),
        "L1 tagger, labels (quantized)": plain.predict(x[te], batch_size=8192, verbose=0).reshape(-1),
        "L1 tagger, distilled (quantized)": distilled.predict(x[te], batch_size=8192, verbose=0).reshape(-1),
        "L1 tagger, distilled (emulator)": fx.to_float(emu, net.types[net.output_names[0]]).reshape(-1),
    }
    _tagger_plot(out, scores, label[te])
    summary = {
        "model": "tagger",
        "config": dataclasses.asdict(cfg),
        "seed": seed,
        "data": {
            "files": [str(f) for f in files],
            "jets": len(label),
            "signal": int(label.sum()),
            "train": len(tr),
            "validation": len(va),
            "test": len(te),
        },
        "reference": TAGGER_REFERENCE,
        "types": {"input": str(net.inputs[0][2]), "logit": str(net.types[net.output_names[0]])},
        "sparsity": _sparsity(distilled),
        "parameters": {"gnn": int(teacher.count_params()), "tagger": int(distilled.count_params())},
        "distillation": {"alpha": cfg.distill_alpha, "temperature": cfg.temperature},
        "csim_vs_emulator": csim,
        "history": {"gnn": h_g, "labels": h_p, "distilled": h_d},
        "metrics": {name: _tagger_row(np.asarray(z, dtype=np.float64), label[te]) for name, z in scores.items()},
        "seconds": time.perf_counter() - t0,
    }
    _write_json(out / "summary.json", summary)
    return summary
