"""Prove the emulator against the ``nnet_utils`` of hls4ml releases and record it in ``proven.json``.

For each release: install it (``pip install --no-deps --target``; the running venv's TensorFlow converts the
models), write the coverage models' projects with it (``generate.py``: latency, resource and distributed-arithmetic
variants), import each with its definitions not yet proven, and compare the emulator with the project's own C++ on
random and edge-case events (``l1t.models.hls_project.verify``). Each layer is judged on its own inputs (the
project's traced outputs of the layers it reads, on the first 5,000 events): the definitions of every layer whose
output words all agree are recorded with the release; those of a layer that differs are printed and disproven for
that release, even where another project (one that did not exercise the difference) agreed, and in every later
run (``disproven.json``).

    .venv/bin/python tests/projects/prove.py [--releases 0.6.0,0.7.1,...] [--events 20000] [--work DIR]
                                             [--models mlp,...] [--backends Vivado,Vitis] [--keep]
                                             [--io-type io_stream]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from l1t.emulator.nn import Network
from l1t.models.hls_project import Project, ProjectError, ProjectRunner, read_project, stimulus, verify
from l1t.models.hls_project._proven import AP_TYPES_FILES, PROVEN_FILE, ap_types_fingerprint, fingerprint

HERE = Path(__file__).resolve().parent
# every release on PyPI from 0.6
RELEASES = ("0.6.0", "0.7.0", "0.7.1", "0.8.0", "0.8.1", "1.0.0", "1.1.0", "1.2.0", "1.3.0")
# packages older releases import that hls4ml 1.3's venv lacks (onnx pinned to the venv's protobuf)
DEFAULT_VARIANTS = "latency,resource,resource_rounding,unrolled,da"
DISPROVEN_FILE = HERE / "disproven.json"  # (definition, fingerprint, release) triples a layer disproved, kept
EXTRA_PACKAGES = ("calmjs.parse", "calmjs", "ply", "tabulate", "pydigitalwavetools", "onnx<1.16")


def _install(release: str, work: Path) -> list[Path]:
    """The ``PYTHONPATH`` entries that import ``release`` (the venv's own hls4ml when it is that release)."""
    import hls4ml

    if hls4ml.__version__ == release:
        return []
    target, deps = work / "hls4ml" / release, work / "hls4ml" / "deps"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target"]
    if not (target / "hls4ml").is_dir():
        subprocess.run([*pip, str(target), f"hls4ml=={release}"], check=True)
    if not deps.is_dir():
        subprocess.run([*pip, str(deps), *EXTRA_PACKAGES], check=True)
    return [target, deps]


def prove(
    release: str, work: Path, events: int, table: dict[str, dict[str, list[str]]], models: str | None,
    disproven: set[tuple[str, str, str]], backends: str = "Vivado,Vitis", variants: str = DEFAULT_VARIANTS,
    io_type: str = "io_parallel",
) -> None:  # fmt: skip
    out = work / "projects" / release
    path = _install(release, work)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    cmd = [sys.executable, str(HERE / "generate.py"), str(out), "--variants", variants]
    cmd += ["--backends", backends, "--io-type", io_type]  # Vitis projects carry the Vitis templates' own nnet_utils
    cmd += ["--models", models] if models else []
    subprocess.run(cmd, env=env, check=True)
    wanted = models.split(",") if models else None
    for project_dir in sorted(p for p in out.iterdir() if (p / "firmware").is_dir()):
        model, variant = project_dir.name.split("-")[:2]  # <model>-<variant>[-vitis][-stream], as generate.py names it
        if (wanted and model not in wanted) or variant not in variants.split(","):
            continue  # a project an earlier run wrote

        if ("-stream" in project_dir.name) != (io_type == "io_stream"):
            continue
        try:
            project = read_project(project_dir, allow_unproven=True)
        except ProjectError as err:
            print(f"{release} {project_dir.name}: refused: {err}")
            continue
        net = project.network()
        words = stimulus(net, events, seed=1)
        result = verify(project, net, words)
        print(f"{release} {project_dir.name}: {result}".replace("\n", "; "))
        checked, agree = _agreeing_layers(project, net, {k: v[:5000] for k, v in words.items()})
        firmware = project.source.firmware
        for layer, names in project.layer_uses.items():
            if layer not in checked:  # words past 64 bits are not traced: the layer proves nothing either way
                print(f"    layer {layer!r} is not traced (words past 64 bits): {sorted(names)} neither proven nor not")
                continue
            fingerprints = {name: fingerprint(firmware / "nnet_utils", name) for name in names}
            if layer not in agree:  # on its own inputs: these definitions compute something else here
                print(f"    layer {layer!r} differs: {sorted(names)} are disproven for {release}")
                disproven.update((name, fp, release) for name, fp in fingerprints.items())
                continue
            for name, fp in fingerprints.items():
                table.setdefault(name, {}).setdefault(fp, []).append(release)
        for file in AP_TYPES_FILES:
            key = ap_types_fingerprint(firmware / "ap_types", file)
            table.setdefault(f"ap_types/{file}", {}).setdefault(key, []).append(release)


def _agreeing_layers(project: Project, net: Network, words: dict[str, np.ndarray]) -> tuple[set[str], set[str]]:
    """(the layers traced: those whose words fit 64 bits, the ones among them whose every output word agrees between
    the traced project and the emulator), each layer judged on its own inputs (the project's traced outputs of the
    layers it reads), so a difference upstream does not count against it."""
    names = [layer.name for layer in net.layers if not layer.result_t.wide and layer.name in project.layer_uses]
    _, expected = ProjectRunner(project, trace=names).run(words)
    got = net.trace(words, raw=True, replay=expected)
    return set(names), {
        name for name in names
        if np.array_equal(expected[name], np.asarray(got[name]).reshape(expected[name].shape))
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", default=",".join(RELEASES))
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--work", type=Path, default=Path("out/prove"))
    parser.add_argument("--keep", action="store_true", help="add to proven.json instead of replacing it")
    parser.add_argument("--models", help="coverage models to prove (default: all)")
    parser.add_argument("--backends", default="Vivado,Vitis")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="strategies of generate.py's VARIANTS")
    parser.add_argument("--io-type", default="io_parallel", choices=("io_parallel", "io_stream"))
    args = parser.parse_args()
    table: dict[str, dict[str, list[str]]] = json.loads(PROVEN_FILE.read_text()) if args.keep else {}
    # disproofs of earlier runs hold too: a run whose projects happen not to exercise a difference does not undo one
    known = json.loads(DISPROVEN_FILE.read_text()) if args.keep and DISPROVEN_FILE.is_file() else {}
    disproven = {(name, fp, rel) for name, entries in known.items() for fp, rels in entries.items() for rel in rels}
    for release in args.releases.split(","):
        prove(release, args.work.resolve(), args.events, table, args.models, disproven, args.backends, args.variants,
              args.io_type)  # fmt: skip
    record: dict[str, dict[str, list[str]]] = {}
    for name, fp, release in sorted(disproven):
        record.setdefault(name, {}).setdefault(fp, []).append(release)
    DISPROVEN_FILE.write_text(json.dumps(record, indent=1) + "\n")
    for name, fp, release in disproven:  # a definition that computes something else once is not proven for that release
        if release in table.get(name, {}).get(fp, []):  # every copy: another project (or --keep) may have added one
            table[name][fp] = [r for r in table[name][fp] if r != release]
            print(f"{release}: {name} ({fp}) disproven")
    table = {
        name: {fp: sorted(set(versions), key=RELEASES.index) for fp, versions in sorted(entries.items()) if versions}
        for name, entries in sorted(table.items())
    }
    table = {name: entries for name, entries in table.items() if entries}
    PROVEN_FILE.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {PROVEN_FILE}: {len(table)} definitions")


if __name__ == "__main__":
    main()
