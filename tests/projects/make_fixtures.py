"""Write the committed hls4ml project fixtures (``fixtures/<name>/project``, and for projects of the venv's hls4ml
the Keras-path spec of the same model, ``fixtures/<name>/keras_spec``).

Only what a project has of its own is kept: ``hls4ml_config.yml``, ``firmware/<top>.cpp/.h``, ``defines.h``,
``parameters.h``, the weights and the generated ``nnet_code_gen.h``. The ``nnet_utils`` and ``ap_types`` shared by
every project of a release come back at test time (``tests/test_hls_project.py``) from the installed hls4ml's
templates, which are what that release copies into a project. A fixture of another release keeps the ``nnet_utils``
headers its project includes and every non-stream one (the import fingerprints each definition of a name in them;
an io_stream project keeps them all, since its code is fingerprinted whole);
their ``ap_types`` are byte-identical to the installed release's, and the fingerprint check holds them to it.

    .venv/bin/python tests/projects/make_fixtures.py   (older releases from prove.py's installs under out/prove)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"

# name: (hls4ml release, coverage model, variant, generate.py options)
SPECS = {
    "mlp-namespace-headers": (
        "1.3.0", "mlp", "latency", ["--namespace", "l1t_fixture", "--project-name", "trig_mlp", "--weights-in-headers"],
    ),
    "mlp-da": ("1.3.0", "mlp", "da", []),
    "autoencoder-dot": ("1.3.0", "autoencoder", "latency", []),
    "merges-resource": ("1.3.0", "merges", "resource", ["--project-name", "merges"]),
    "sigmoid-bn": ("1.3.0", "sigmoid_bn", "latency", []),
    "autoencoder-0.6.0": ("0.6.0", "autoencoder", "latency", []),
    "mlp-0.8.1": ("0.8.1", "mlp", "latency", []),  # softmax_stable and its tables as hls4ml < 1.2 writes them
    "conv2d-pools": ("1.3.0", "conv2d", "latency", []),
    "activations2": ("1.3.0", "activations2", "latency", []),
    "movement": ("1.3.0", "movement", "latency", []),
    "cropping": ("1.3.0", "cropping", "latency", []),
    "qactivations": ("1.3.0", "qactivations", "latency", []),
    "separable": ("1.3.0", "separable", "latency", []),
    "mlp-resource-rounding": ("1.3.0", "mlp", "resource_rounding", []),
    "wide-auto": ("1.3.0", "wide", "latency", []),
    "mlp-unrolled": ("1.3.0", "mlp", "unrolled", []),
    "recurrent": ("1.3.0", "recurrent", "latency", []),
    "images": ("1.3.0", "images", "latency", []),
    "sequences": ("1.3.0", "sequences", "latency", []),
    "embedding": ("1.3.0", "embedding", "latency", []),
    "binary": ("1.3.0", "binary", "latency", []),  # QKeras binary and ternary kernels
    # io_stream: zero padding as a layer, line-buffer convolutions, stream pooling, an alias Flatten
    "conv2d-stream": ("1.3.0", "conv2d", "latency", ["--io-type", "io_stream"]),
    "separable-stream": ("1.3.0", "separable", "latency", ["--io-type", "io_stream"]),  # depthwise, pointwise
    "mlp-stream-resource": ("1.3.0", "mlp", "resource", ["--io-type", "io_stream"]),
    "recurrent-stream": ("1.3.0", "recurrent", "latency", ["--io-type", "io_stream"]),
    # global max pooling whose accum_t does not hold its input: the spec casts first, as the stream kernel does
    "conv1d-stream": ("1.3.0", "conv1d", "resource", ["--io-type", "io_stream"]),
    "images-stream": ("1.3.0", "images", "latency", ["--io-type", "io_stream"]),  # clone_stream, stream transposes
    "conv2d-stream-0.8.1": ("0.8.1", "conv2d", "latency", ["--io-type", "io_stream"]),
    # the latency softmax's exp table, filled for the stream's word type
    "softmax-latency-stream": ("1.3.0", "softmax_latency", "latency", ["--io-type", "io_stream"]),
    # a deployed jet tagger's shape: normalize over the flat input, pointwise Conv1D kernels generated per layer
    # (one cut into two runs of pixels), global average pooling, two heads
    "jet-tagger-1.1.0": ("1.1.0", "jet_tagger", "latency", ["--project-name", "jets_v1"]),  # 1.1 namespaces break it
    # a pointwise Conv1D with Resource, whose 0.6 kernel reads the transposed weights as Latency's
    "pointwise-resource-0.6.0": ("0.6.0", "pointwise", "resource", []),
    # pooling as hls4ml < 1.0 writes it: no accum_t, reduced in the input type
    "conv2d-pools-0.8.1": ("0.8.1", "conv2d", "latency", []),
    "pools1d-0.7.1": ("0.7.1", "pools1d", "latency", []),
    # the merges as hls4ml < 1.2 writes them: average as (data1 + data2) / (res_T)2
    "merges-1.1.0": ("1.1.0", "merges", "latency", ["--project-name", "merges"]),
    # SELU as hls4ml < 1.2 writes it: lambda converted to res_T
    "activations2-0.8.1": ("0.8.1", "activations2", "latency", []),
}  # fmt: skip


def _includes(path: Path) -> list[str]:
    return re.findall(r'#include\s+"(?:nnet_utils/)?(nnet_\w+\.h)"', path.read_text(errors="replace"))


def _closure(firmware: Path) -> set[str]:
    """The nnet_utils headers the project's own files include, directly or through each other."""
    todo = [h for f in firmware.glob("*.h") for h in _includes(f)] + _includes(next(firmware.glob("*.cpp")))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen and (firmware / "nnet_utils" / name).is_file():
            seen.add(name)
            todo += _includes(firmware / "nnet_utils" / name)
    return seen


def _prune(project: Path, keep_nnet_utils: bool) -> None:
    firmware = project / "firmware"
    stream = "nnet::array" in (firmware / "defines.h").read_text()  # io_stream code is fingerprinted whole
    fingerprinted = {h.name for h in (firmware / "nnet_utils").glob("*.h") if stream or not h.stem.endswith("_stream")}
    keep = _closure(firmware) | fingerprinted if keep_nnet_utils else {"nnet_code_gen.h"}
    for path in sorted(project.iterdir()):
        if path.name not in ("firmware", "hls4ml_config.yml"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(firmware / "ap_types")
    for header in (firmware / "nnet_utils").iterdir():
        # what hls4ml wrote per layer
        per_layer = r"\b(?:dense_da|fill_buffer|dense_resource_unrolled|pointwise_conv)_\d+"
        generated = re.search(per_layer, header.read_text())
        if header.name not in keep or (header.name == "nnet_code_gen.h" and not generated and not keep_nnet_utils):
            header.unlink()
    if not any((firmware / "nnet_utils").iterdir()):
        (firmware / "nnet_utils").rmdir()


def make(name: str) -> None:
    import hls4ml

    release, model, variant, options = SPECS[name]
    own = release == hls4ml.__version__
    env = dict(os.environ)
    if not own:
        installs = Path("out/prove/hls4ml").resolve()
        env["PYTHONPATH"] = os.pathsep.join([str(installs / release), str(installs / "deps")])
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(HERE / "generate.py"), tmp, "--models", model, "--variants", variant, *options]
        subprocess.run(cmd + (["--keras-spec"] if own else []), env=env, check=True)
        target = FIXTURES / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (project,) = (p for p in Path(tmp).iterdir() if (p / "firmware").is_dir())
        _prune(project, keep_nnet_utils=not own)
        shutil.move(project, target / "project")
        if own and project.with_suffix(".spec").is_dir():  # the Keras path may refuse what the import models
            shutil.move(project.with_suffix(".spec"), target / "keras_spec")
    shared = "hls4ml templates (installed release)" if own else "nnet_utils committed; ap_types from hls4ml templates"
    info = {"hls4ml": release, "model": model, "variant": variant, "options": options, "shared_headers": shared}
    (target / "FIXTURE.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    for fixture in sys.argv[1:] or SPECS:
        make(fixture)
