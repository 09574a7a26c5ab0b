"""``l1t firmware``: a built-in reference model or a Keras/QKeras file -> hls4ml project (C-sim checked against the
emulator) -> emulator spec -> generated RTL, vendor build where the tools exist, ``report.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from l1t.atomic import write_text

__all__ = ["build_firmware", "load_keras_model"]


def load_keras_model(model: str) -> tuple[Any, dict[str, Any]]:
    """A built-in reference architecture by name (with its hls4ml overrides), or a Keras/QKeras .h5 file."""
    from l1t.models.reference import ARCHITECTURES

    by_name = {a.name: a for a in ARCHITECTURES}
    if model in by_name:
        arch = by_name[model]
        built = arch.build(1)
        return built, arch.overrides(built)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"{model!r} is neither a file nor a built-in model ({', '.join(by_name)})")
    from qkeras.utils import load_qmodel

    return load_qmodel(str(path), compile=False), {}


def build_firmware(
    model: str,
    out: Path,
    *,
    clock_period: float = 5.0,
    resources: bool = True,
    seed: int = 1,
    stages: int | None = None,
    io_type: str = "io_parallel",
    strategy: str = "Latency",
    reuse_factor: int = 1,
    cmvm: str = "da4ml",
    graph_depth: int | None = None,
) -> dict[str, Any]:
    """Convert ``model`` with hls4ml (``io_type``; the layers with ``strategy`` and ``reuse_factor``, see
    ``l1t.models.export.with_strategy``) into
    ``out/hls4ml_prj``, export ``out/spec`` and make the firmware directory (``l1t.firmware.build.make_firmware``);
    returns its report. The exporter refuses, naming the layer, what it cannot emulate exactly. An io_parallel
    project also gets ``out/cmssw`` (``l1t.models.cmssw``), its check in the report."""
    from l1t.firmware.build import make_firmware
    from l1t.models.export import convert, export_hls_model, hls_config, with_strategy

    keras_model, overrides = load_keras_model(model)
    config = with_strategy(
        hls_config(keras_model, overrides=overrides, trace=True), keras_model, strategy, reuse_factor
    )
    hls_model = convert(keras_model, out / "hls4ml_prj", config=config, clock_period=clock_period, io_type=io_type)
    net = export_hls_model(hls_model, out / "spec", source={"model": model})
    report = make_firmware(
        net, out, hls_model=hls_model, clock_period=clock_period, resources=resources, seed=seed, stages=stages,
        cmvm=cmvm, graph_depth=graph_depth,
    )  # fmt: skip
    if io_type == "io_parallel":  # the library the experiment's offline emulator loads, checked against the emulator
        from l1t.models.cmssw import cmssw_library

        report["hls4ml"]["cmssw"] = cmssw_library(out / "hls4ml_prj", out / "cmssw", net, seed=seed)
        write_text(out / "report.json", json.dumps(report, indent=1, default=str))
    return report
