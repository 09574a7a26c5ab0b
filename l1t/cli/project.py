"""``l1t import`` and ``l1t verify``: a deployed hls4ml project's C++ read into an emulator spec, and the emulator
checked against the project's own C++, event by event."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from l1t.cli._app import Seed, console, escape, fail

ProjectDir = Annotated[Path, typer.Argument(help="hls4ml project directory (holding firmware/).")]
AllowUnproven = Annotated[
    bool,
    typer.Option(help="Import nnet_utils definitions no fixture proved bit-exact (listed in the spec) for verify."),
]
Wrapper = Annotated[
    bool,
    typer.Option(
        help="Read a deployed package's emulator wrapper (a class deriving from hls4mlEmulator::Model next to the "
        "C++): its input scaling and score become part of the spec and verify runs the wrapper itself."
    ),
]


def import_(
    project: ProjectDir,
    out: Annotated[Path, typer.Option("-o", "--out", help="Spec directory to write (spec.json, arrays.npz).")],
    allow_unproven: AllowUnproven = False,
    wrapper: Wrapper = True,
) -> None:
    """Read an hls4ml io_parallel or io_stream project (any hls4ml version, namespace or top name, or a deployed
    package with its emulator wrapper) into an emulator spec, without the Keras model; anything not modelled exactly
    is refused naming the file, line and construct."""
    from l1t.models.hls_project import ProjectError, import_project

    try:
        net = import_project(project, out, allow_unproven=allow_unproven, wrapper=wrapper)
    except ProjectError as err:
        fail(err)
    ops = ", ".join(sorted({layer.op for layer in net.layers}))
    console.print(f"imported {escape(str(project))}: {len(net.layers)} layers ({ops}) -> {escape(str(out))}")
    if "wrapper" in net.spec["source"]:
        found = net.spec["source"]["wrapper"]
        console.print(f"wrapper {escape(found['file'])} ({found['class']}): input {net.inputs[0][0]!r} "
                      f"({net.inputs[0][2]}), returns {', '.join(found['returns'])}")  # fmt: skip
    for item in net.spec["source"].get("unproven", []):
        console.print(f"[yellow]unproven: {escape(item)}; run `l1t verify`[/yellow]")


def verify(
    project: ProjectDir,
    spec: Annotated[
        Path | None, typer.Option(help="Spec directory to check (default: the project imported afresh).")
    ] = None,
    events: Annotated[
        int, typer.Option(help="Random and edge-case input vectors, or at most this many rows of --inputs.")
    ] = 10_000,
    inputs: Annotated[
        str | None,
        typer.Option(
            help="Input vectors instead of random ones, events first: X.npy, or FILE.h5:DATASET (real events); "
            "floats are quantized as the bridge does, integers are raw words."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="An l1t event file: each event's input words built by the model kind (--kind), each hardware word "
            "the integer value of the input type, as a deployed wrapper's unscaled type holds it."
        ),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Model kind whose input --data builds (axol1tl, cicada).")] = None,
    seed: Seed = 1,
    allow_unproven: AllowUnproven = False,
    wrapper: Wrapper = True,
    cosim: Annotated[
        Path | None,
        typer.Option(help="Also co-simulate the project's C++ as the hls-dpi DUT on Verilator; build directory."),
    ] = None,
) -> None:
    """Compile the project's own C++ with g++, run it and the emulator on the same input words, report
    ``N events, M mismatches`` with the first differing word and layer; with ``--cosim``, stream the same words
    through the project's C++ behind a clocked SystemVerilog wrapper on Verilator too; exit 1 on any mismatch."""
    from l1t.emulator.nn import Network, SpecError
    from l1t.models.hls_project import ProjectError, read_project, stimulus
    from l1t.models.hls_project import verify as check

    try:
        imported = read_project(project, allow_unproven=allow_unproven, wrapper=wrapper)
        net = Network.load(spec) if spec is not None else imported.network()
        if inputs is not None and data is not None:
            raise ValueError("give --inputs or --data, not both")
        if data is not None:
            words = _event_words(net, data, kind, events)
        else:
            words = _vectors(net, inputs, events) if inputs is not None else stimulus(net, events, seed)
        result = check(imported, net, words)
    except (ProjectError, SpecError, ValueError) as err:
        fail(err)
    bad = _verdict(str(result), result.mismatches)
    if cosim is not None:
        if imported.wrapper is not None:  # the hardware is the network: its words are the emulator's scaling
            scaled = net.trace(words, raw=True)
            imported = read_project(project, allow_unproven=allow_unproven, wrapper=False)
            net = imported.network()
            words = {name: np.asarray(scaled[name]) for name, _, _ in net.inputs}
        bad += _cosim(imported, net, words, cosim, seed)
    if bad:
        raise typer.Exit(1)


def _cosim(imported: object, net: object, words: dict[str, np.ndarray], out: Path, seed: int) -> int:
    """The hls-dpi co-simulation of ``l1t verify --cosim``; its mismatch count."""
    from l1t.firmware.dut import DutUnavailable
    from l1t.hls_text import ProjectError
    from l1t.pipelines.project import cosim_project

    try:
        with console.status("building the project's C++ behind the hls-dpi wrapper on Verilator"):
            report = cosim_project(imported, net, words, out, seed=seed)
    except (DutUnavailable, RuntimeError, ProjectError) as err:  # no simulator; a port it cannot carry; a failed build
        fail(err)
    return _verdict(report.summary(), report.mismatches)


def _verdict(text: str, mismatches: int) -> int:
    """Print a comparison's summary, green without mismatches and red with; return the mismatch count."""
    colour = "green" if mismatches == 0 else "red"
    console.print(f"[{colour}]{escape(text)}[/{colour}]")
    return mismatches


def _vectors(net: object, source: str, limit: int) -> dict[str, np.ndarray]:
    """Input words of a single-input network from ``X.npy`` or ``FILE.h5:DATASET`` (at most ``limit`` events)."""
    if len(net.inputs) != 1:
        raise ValueError(f"{source}: the network has {len(net.inputs)} inputs; --inputs feeds one")
    file, sep, dataset = source.rpartition(":") if ".h5:" in source or ".hdf5:" in source else ("", "", "")
    if sep:
        import h5py

        try:
            with h5py.File(file, "r") as f:
                if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
                    raise ValueError(f"{file}: no dataset {dataset!r} (datasets: {_datasets(f)})")
                x = f[dataset][:limit]
        except OSError as err:
            raise ValueError(f"{file}: not a readable HDF5 file ({err})") from None
    else:
        try:
            x = np.load(source, allow_pickle=False)[:limit]
        except (OSError, ValueError) as err:
            raise ValueError(f"{source}: not a readable .npy file ({err})") from None
    name, shape, t = net.inputs[0]
    if x.ndim < 1 or int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise ValueError(f"{source}: shape {x.shape}, expected (events, {int(np.prod(shape))}) for input {name!r}")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{source}: values of type {x.dtype}, expected integers (raw words) or floats")
    rows = x.reshape(len(x), -1)
    integer = np.issubdtype(x.dtype, np.integer)
    bad = np.argwhere((rows < t.raw_min) | (rows > t.raw_max) if integer else ~np.isfinite(rows))
    if bad.size:
        event, column = (int(v) for v in bad[0])
        what = f"outside the raw words of {t}" if integer else "not a finite number"
        raise ValueError(f"{source}: event {event}, column {column} holds {rows[event, column]}, {what}")
    if integer:
        return {name: rows.astype(np.int64).reshape(len(x), *shape)}
    return net.quantize(rows.reshape(len(x), *shape))


def _event_words(net: object, path: Path, kind: str | None, limit: int) -> dict[str, np.ndarray]:
    """The input words of at most ``limit`` events of an l1t event file, as model kind ``kind`` builds them: each
    hardware word (an integer) is the value of the network's input type."""
    from l1t import kinds
    from l1t.events import dataset

    if kind is None:
        raise ValueError(
            f"{path}: --data needs --kind (which model's input to build: {', '.join(sorted(kinds.KINDS))})"
        )
    found = kinds.get(kind)
    if found.features is None:
        raise ValueError(f"model kind {kind!r} builds no input from event files")
    if len(net.inputs) != 1:
        raise ValueError(f"{path}: the network has {len(net.inputs)} inputs; --data feeds one")
    x = np.asarray(found.features(dataset.read(path, stop=limit, fields=list(found.feature_fields))), np.int64)
    name, shape, t = net.inputs[0]
    if x.shape[1] != int(np.prod(shape)):
        raise ValueError(
            f"{path}: {kind} builds {x.shape[1]} words per event; input {name!r} takes {int(np.prod(shape))}"
        )
    if t.frac_bits < 0:
        raise ValueError(f"input {name!r} of {t} cannot hold every integer hardware word")
    raw = x << t.frac_bits
    bad = np.argwhere((raw < t.raw_min) | (raw > t.raw_max))
    if bad.size:
        event, column = (int(v) for v in bad[0])
        raise ValueError(f"{path}: event {event}, {kind} word {column} is {x[event, column]}, outside {t} of {name!r}")
    return {name: raw.reshape(len(raw), *shape)}


def _datasets(f: object) -> str:
    names: list[str] = []
    f.visititems(lambda name, obj: names.append(name) if hasattr(obj, "shape") else None)
    return ", ".join(names[:20]) or "none"
