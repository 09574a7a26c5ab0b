"""The ``l1t`` command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from l1t import __version__, configs
from l1t.emulator.allocator import keep_large_blocks
from l1t.inventory import inventory

DEFAULT_MENU = configs.path("menus", "default.yaml")

app = typer.Typer(
    help="Bit-accurate Level-1 trigger emulation, its networks, their firmware, and emulator-vs-firmware regression.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notices (oneDNN, CPU features) hidden

Seed = Annotated[int, typer.Option(help="Random seed; every command is reproducible from it.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"l1t {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """l1t: emulator, models, firmware and co-simulation for L1 trigger algorithms."""
    keep_large_blocks()  # the emulator's chunked temporaries stay in the heap (process-wide: the application's choice)


@app.command()
def info(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Versions of the toolchain and which external tools are present and usable."""
    data = inventory()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    packages = Table(title=f"l1t {__version__} on Python {data['python']}")
    packages.add_column("package")
    packages.add_column("version")
    for name, ver in data["packages"].items():
        packages.add_row(name, ver or "[red]not installed[/red]")
    console.print(packages)
    tools = Table(title="external tools")
    for col in ("tool", "status", "version / path", "used for"):
        tools.add_column(col)
    for tool in data["tools"]:
        if tool["version"]:
            status, detail = "[green]usable[/green]", f"{tool['version']}  ({tool['path']})"
        elif tool["path"]:
            status, detail = "[yellow]present, fails to run[/yellow]", tool["path"]
        else:
            status, detail = "[dim]not found[/dim]", ""
        tools.add_row(tool["name"], status, detail, tool["purpose"])
    console.print(tools)


@app.command()
def selfcheck(
    values: Annotated[int, typer.Option(help="Probing values per case.")] = 20_000,
    seed: Seed = 1,
) -> None:
    """Compare l1t.emulator.fixed with the ap_types headers of the installed hls4ml, compiled with g++, bit for bit."""
    from l1t.cpp import ToolMissing
    from l1t.firmware.fixed_check import default_cases, run_check

    cases = default_cases()
    console.print(f"compiling {len(cases)} reference cases against hls4ml's ap_types (cached after the first run)")
    try:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("comparing", total=len(cases))
            compared, mismatches = run_check(
                cases, values, seed, progress=lambda done: progress.update(task, completed=done)
            )
    except ToolMissing as err:
        console.print(f"[red]selfcheck needs a missing tool:[/red] {err}")
        raise typer.Exit(2) from None
    for m in mismatches[:20]:
        console.print(f"[red]mismatch[/red] {m}")
    colour = "red" if mismatches else "green"
    console.print(
        f"[{colour}]{compared} values over {len(cases)} cases, {len(mismatches)} cases with mismatches[/{colour}]"
    )
    if mismatches:
        raise typer.Exit(1)


def _load_model(model: str):
    """A built-in reference architecture by name, or a Keras/QKeras .h5 file."""
    from l1t.models.reference import ARCHITECTURES

    by_name = {a.name: a for a in ARCHITECTURES}
    if model in by_name:
        arch = by_name[model]
        built = arch.build(1)
        return built, arch.overrides(built)
    path = Path(model)
    if not path.is_file():
        raise typer.BadParameter(f"{model!r} is neither a file nor a built-in model ({', '.join(by_name)})")
    from qkeras.utils import load_qmodel

    return load_qmodel(str(path), compile=False), {}


@app.command()
def firmware(
    model: Annotated[str, typer.Option(help="Built-in reference model name or a Keras/QKeras .h5 file.")] = (
        "axol1tl_encoder"
    ),
    out: Annotated[Path, typer.Option(help="Firmware directory (spec/, rtl/, hls4ml_prj/, report.json).")] = Path(
        "out/firmware/axol1tl_encoder"
    ),
    clock_period: Annotated[float, typer.Option(help="Clock period in ns.")] = 5.0,
    resources: Annotated[bool, typer.Option(help="Estimate resources with yosys synth_xilinx (minutes).")] = True,
    seed: Seed = 1,
    stages: Annotated[
        int | None, typer.Option(help="Register stages of the generated RTL (default: one per layer).")
    ] = None,
) -> None:
    """hls4ml project (C-sim checked against the emulator), generated Verilog, vendor build if present, report.json."""
    from l1t.firmware.build import make_firmware
    from l1t.models.export import convert, export_hls_model, hls_config

    keras_model, overrides = _load_model(model)
    console.print(f"converting {model} with hls4ml (io_parallel, Latency) into {out / 'hls4ml_prj'}")
    hls_model = convert(
        keras_model,
        out / "hls4ml_prj",
        config=hls_config(keras_model, overrides=overrides, trace=True),
        clock_period=clock_period,
    )
    net = export_hls_model(hls_model, out / "spec", source={"model": model})
    with console.status("generating RTL, compiling C-simulation" + (", running yosys" if resources else "")):
        report = make_firmware(
            net, out, hls_model=hls_model, clock_period=clock_period, resources=resources, seed=seed, stages=stages
        )
    table = Table(title=f"firmware for {model}")
    table.add_column("item")
    table.add_column("value")
    table.add_row("latency", f"{report['latency_clocks']} clocks = {report['latency_ns']} ns at {clock_period} ns")
    table.add_row("II", "1")
    table.add_row("resources (yosys)", json.dumps(report["resources"]))
    csim = report["hls4ml"]["csim_vs_emulator"]
    table.add_row("hls4ml C-sim vs emulator", f"{csim['events']} events, {csim['mismatches']} mismatches")
    table.add_row("vendor build", json.dumps(report["hls4ml"]["vendor"]))
    console.print(table)
    console.print(f"wrote {out / 'report.json'}")
    if csim["mismatches"]:
        raise typer.Exit(1)


def _duts(choice: str) -> list[str]:
    from l1t.firmware.dut import DUT_KINDS

    kinds = list(DUT_KINDS) if choice == "all" else [c.strip() for c in choice.split(",")]
    unknown = [k for k in kinds if k not in DUT_KINDS]
    if unknown:
        console.print(f"[red]unknown DUT {unknown[0]!r}; choose from {', '.join(DUT_KINDS)} or all[/red]")
        raise typer.Exit(2)
    return kinds


def _build_dut(kind: str, firmware_dir: Path, project: Path | None, latency: int | None, rtl_latency: int):
    """The DUT of one kind for a firmware directory made by `l1t firmware` (raises DutUnavailable)."""
    from l1t.firmware import hls_dpi, vendor
    from l1t.firmware.dut import Dut, DutUnavailable

    project = project or firmware_dir / "hls4ml_prj"
    if kind == "rtl":
        report = json.loads((firmware_dir / "report.json").read_text())
        top = report["top"]
        rtl_file = firmware_dir / "rtl" / f"{top}.v"
        if not rtl_file.is_file():
            raise DutUnavailable(f"{rtl_file} not found; run `l1t firmware` first")
        import l1t.emulator.fixed as fx
        from l1t.firmware.dut import Port

        def ports(entries):
            return [Port(e["name"], e["elements"], fx.parse(e["type"])) for e in entries]

        # the RTL on disk, as it would go to the board
        return Dut("rtl", top, [rtl_file], report["latency_clocks"], ports(report["inputs"]), ports(report["outputs"]))
    if not (project / "firmware").is_dir():
        raise DutUnavailable(f"no hls4ml project at {project}; give one with --project")
    if kind == "hls-dpi":  # timing: --latency, else the project's synthesis report, else the generated RTL's
        return hls_dpi.dut(project, firmware_dir / "cosim" / "hls-dpi", latency=latency, default_latency=rtl_latency)
    return vendor.dut(project, firmware_dir / "cosim" / "vendor")


@app.command()
def cosim(
    firmware_dir: Annotated[Path, typer.Argument(help="Directory made by `l1t firmware`.")] = Path(
        "out/firmware/axol1tl_encoder"
    ),
    events: Annotated[int, typer.Option(help="Events per DUT and simulator.")] = 100_000,
    dut: Annotated[str, typer.Option(help="hls-dpi, rtl, vendor (comma-separated) or all.")] = "all",
    simulator: Annotated[str, typer.Option(help="verilator, icarus or all.")] = "all",
    project: Annotated[
        Path | None, typer.Option(help="hls4ml project directory (default: FIRMWARE_DIR/hls4ml_prj).")
    ] = None,
    latency: Annotated[
        int, typer.Option(help="hls-dpi latency in clocks when the project has no synthesis report (0: the RTL's).")
    ] = 0,
    gap: Annotated[float, typer.Option(help="Probability of an idle cycle before each vector.")] = 0.1,
    write_patterns: Annotated[
        Path | None, typer.Option(help="Write the EMPv2 rx file and each DUT's tx file here, for a board.")
    ] = None,
    seed: Seed = 1,
) -> None:
    """Regression of the firmware against the emulator under cocotb, one bench for every DUT: hls4ml's C++ over DPI-C
    (hls-dpi, Verilator only), l1t's generated Verilog (rtl), vendor-made Verilog (vendor, where the tools exist).
    Every output bit of every event is compared; exits 1 on any mismatch."""
    import numpy as np

    from l1t.emulator.nn import Network, SpecError
    from l1t.firmware.cosim import run_cosim
    from l1t.firmware.dut import DutUnavailable
    from l1t.firmware.hls_dpi import ProjectError

    try:
        net = Network.load(firmware_dir / "spec")
    except SpecError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    if not (firmware_dir / "report.json").is_file():
        console.print(f"[red]{firmware_dir / 'report.json'} not found; run `l1t firmware` first[/red]")
        raise typer.Exit(2)
    rtl_latency = json.loads((firmware_dir / "report.json").read_text())["latency_clocks"]
    sims = ["verilator", "icarus"] if simulator == "all" else [simulator]
    name, shape, t = net.inputs[0]
    raw = np.random.default_rng(seed).integers(t.raw_min, t.raw_max, (events, *shape), endpoint=True)
    failed, ran = False, 0
    for kind in _duts(dut):
        try:
            the_dut = _build_dut(kind, firmware_dir, project, latency or None, rtl_latency)
        except DutUnavailable as err:
            console.print(f"[yellow]skipped {kind}: {err}[/yellow]")
            continue
        except ProjectError as err:
            console.print(f"[red]{kind}: {err}[/red]")
            raise typer.Exit(2) from None
        for sim in sims:
            try:
                the_dut.require(sim)
            except DutUnavailable as err:
                console.print(f"[yellow]skipped {kind} on {sim}: {err}[/yellow]")
                continue
            with console.status(f"{kind} on {sim}: building and streaming {events} events"):
                report = run_cosim(
                    the_dut,
                    net,
                    {name: raw},
                    sim,
                    firmware_dir / "cosim",
                    gap_probability=gap,
                    seed=seed,
                    patterns_dir=write_patterns,
                )
            colour = "red" if report.mismatches else "green"
            console.print(f"[{colour}]{report.summary()}[/{colour}]  ({events / report.sim_seconds:,.0f} events/s)")
            failed |= report.mismatches > 0
            ran += 1
    if failed:
        raise typer.Exit(1)
    if not ran:
        console.print("[red]no DUT could run[/red]")
        raise typer.Exit(2)


@app.command()
def generate(
    process: Annotated[
        str,
        typer.Option(help="minbias, qcd, lq_btau, a_4l, hpm_taunu, h0_tautau, darkshower, zprime_tt or qcd_boosted."),
    ],
    events: Annotated[int, typer.Option(help="Crossings to generate.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output HDF5 file.")],
    pileup: Annotated[float, typer.Option(help="Mean pileup interactions per crossing (Poisson).")] = 60.0,
    seed: Seed = 1,
    workers: Annotated[int, typer.Option(help="Processes.")] = 2,
    chunk: Annotated[int, typer.Option(help="Crossings per chunk (the unit of resuming).")] = 500,
    library: Annotated[int, typer.Option(help="Min-bias events in the pileup library.")] = 2000,
    detector: Annotated[Path | None, typer.Option(help="Detector YAML (default configs/detector.yaml).")] = None,
    jets: Annotated[
        bool, typer.Option("--jets", help="Write tagger jets with tower and particle constituents (l1t.jets).")
    ] = False,
    fastsim: Annotated[
        Path | None,
        typer.Option(help="Directory of `l1t train fastsim`: crossings of two generated jets (or, with --jets, jets)."),
    ] = None,
    compression: Annotated[
        str,
        typer.Option(
            help="Event-file codec: lz4hc (default, fastest reads), zstd (smaller), gzip (no HDF5 plugin needed), none."
        ),
    ] = "lz4hc",
) -> None:
    """Pythia8 events with pileup through the detector and L1 response into an l1t HDF5 event file (or, with
    --jets, a jet file for taggers; with --fastsim, jets from a trained generative model). Resumable: an interrupted
    run continues from its finished chunks; the file appears only when complete."""
    from l1t.events.generate import Recipe, run

    if fastsim is not None:
        from l1t.pipelines.fastsim import generate_file

        try:
            with console.status(f"fast simulation: {events:,} {process} {'jets' if jets else 'crossings'}"):
                path = generate_file(fastsim, process, events, seed, out, "jets" if jets else "events")
        except (OSError, ValueError) as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from None
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    try:
        recipe = Recipe(
            process,
            events,
            pileup,
            seed,
            chunk,
            library,
            str(detector) if detector else None,
            "jets" if jets else "events",
            compression,
        )
    except ValueError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    with Progress(
        TextColumn(f"{process} x {events:,} (pileup {pileup:g})"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("generate", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            path = run(recipe, out, workers=workers, progress=progress)
        except ValueError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from None
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


def _keras_progress(bar: Progress, description: str, epochs: int):
    """A Keras callback driving a Rich progress bar, one task per training, one step per epoch."""
    import tensorflow as tf

    class Callback(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.task = bar.add_task(description, total=epochs)

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("val_loss", float("nan"))
            bar.update(self.task, advance=1, description=f"{description} (val loss {loss:.4g})")

        def on_train_end(self, logs=None):
            bar.update(self.task, completed=epochs)

    return Callback()


def _epoch_progress() -> Progress:
    """A Rich progress display with one bar per training, counted in epochs."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
        console=console,
    )  # fmt: skip


def _training_verdict(table: Table, summary: dict, out: Path, unit: str) -> None:
    """Print a training's table, its C-sim check and outputs; exit 1 if the C-simulation and emulator differ."""
    console.print(table)
    csim = summary["csim_vs_emulator"]
    console.print(f"hls4ml C-sim vs emulator: {csim['events']} {unit}, {csim['mismatches']} mismatches")
    console.print(f"wrote {out / 'summary.json'}, {out / 'spec'}, {out / 'plots'}")
    if csim["mismatches"]:
        raise typer.Exit(1)


def _train_fastsim(files: list[Path], out: Path, cfg, seed: int) -> None:
    from l1t.events.dataset import DatasetError
    from l1t.pipelines.fastsim import run_fastsim

    with _epoch_progress() as bar:
        try:
            summary = run_fastsim(
                files, out, seed=seed, cfg=cfg, callbacks=[_keras_progress(bar, "CVAE", cfg.epochs)],
                log=lambda m: bar.console.print(m),
            )  # fmt: skip
        except (DatasetError, ValueError) as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from None
    table = Table(
        title="fast simulation fidelity vs held-out Pythia8 jets (FPD, KPD x 1e3; W1 in GeV)",
        caption="reference rows: the FPD paper's JetNet table (other data and features), shown for comparison",
    )
    for col in ("process", "sample", "FPD", "KPD", "W1 pT", "W1 mass", "jets/s"):
        table.add_column(col, justify="left" if col in ("process", "sample") else "right")
    for process, r in summary["results"].items():
        for name, f in r["fidelity"].items():
            speed = r["jets_per_s"]["cvae"] if name.startswith("CVAE") else r["jets_per_s"]["pythia8_response"]
            table.add_row(
                process, name, f"{f['fpd_x1e3']:.2f} ± {f['fpd_err_x1e3']:.2f}",
                f"{f['kpd_x1e3']:.2f} ± {f['kpd_err_x1e3']:.2f}", f"{f['w1_pt_gev']:.1f}", f"{f['w1_mass_gev']:.1f}",
                f"{speed:,.0f}",
            )  # fmt: skip
    for ref in summary["reference"]:
        table.add_row(
            "[dim]JetNet g[/dim]", f"[dim]{ref['model']}[/dim]", f"[dim]{ref['fpd_x1e3']}[/dim]", *["[dim]-[/dim]"] * 4
        )
    console.print(table)
    for process, r in summary["results"].items():
        console.print(f"{process}: fast simulation {r['speed_ratio']:,.0f}x faster than Pythia8 + response")
    console.print(f"wrote {out / 'summary.json'}, {out / 'decoder.h5'}")


def _train_tagger(files: list[Path], out: Path, cfg, seed: int) -> None:
    from l1t.events.dataset import DatasetError
    from l1t.pipelines import training

    with _epoch_progress() as bar:
        try:
            summary = training.run_tagger(
                files,
                out,
                seed=seed,
                cfg=cfg,
                progress=lambda name, n: [_keras_progress(bar, name, n)],
                log=lambda m: bar.console.print(m),
            )
        except DatasetError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from None
    d = summary["data"]
    table = Table(
        title=f"jet tagging: {d['test']} test jets of {d['jets']}",
        caption="reference row: published result on a different data set, shown for comparison",
    )
    for col in ("model", "AUC", "accuracy", "1/eff_B at eff_S = 0.3"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, r in summary["metrics"].items():
        table.add_row(name, f"{r['auc']:.4f}", f"{r['accuracy']:.3f}", f"{r['rejection_at_0.3']:.1f}")
    for ref in summary["reference"]:
        table.add_row(
            f"[dim]{ref['model']}[/dim]",
            f"[dim]{ref['auc']}[/dim]",
            "[dim]-[/dim]",
            f"[dim]{ref['rejection_at_0.3']:.0f}[/dim]",
        )
    _training_verdict(table, summary, out, "jets")


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="axol1tl, cicada, tagger or fastsim.")],
    data: Annotated[
        Path,
        typer.Option(help="Zero-bias HDF5 file from `l1t generate` (tagger, fastsim: a jet file, `generate --jets`)."),
    ],
    out: Annotated[Path, typer.Option(help="Output directory.")],
    signals: Annotated[
        list[Path] | None,
        typer.Option("--signal", help="Signal HDF5 file (repeatable): evaluation; for the tagger, signal jets."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Model YAML (default configs/models/<model>.yaml).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Override the configured epochs.")] = None,
    seed: Seed = 1,
) -> None:
    """Train an anomaly detector on generated data, export its trigger network (spec, hls4ml project checked against
    the emulator) and evaluate float, quantized and emulated scores (AUC, TPR at FPR 1e-5 and at 1 kHz); or train
    the L1 jet tagger with its offline GNN reference and teacher (AUC, accuracy, rejection at 30% efficiency)."""
    from l1t.events.dataset import DatasetError
    from l1t.models.axol1tl import AxoConfig
    from l1t.models.cicada import CicadaConfig
    from l1t.models.fastsim import FastSimConfig
    from l1t.models.tagger import TaggerConfig
    from l1t.pipelines import training

    configs = {"axol1tl": AxoConfig, "cicada": CicadaConfig, "tagger": TaggerConfig, "fastsim": FastSimConfig}
    if model not in configs:
        console.print(f"[red]unknown model {model!r}; choose axol1tl, cicada, tagger or fastsim[/red]")
        raise typer.Exit(2)
    try:
        cfg = configs[model].from_yaml(config, epochs=epochs)
    except (OSError, ValueError, TypeError) as err:
        console.print(f"[red]{config}: {err}[/red]")
        raise typer.Exit(2) from None
    if model == "tagger":
        _train_tagger([data, *(signals or [])], out, cfg, seed)
        return
    if model == "fastsim":
        _train_fastsim([data, *(signals or [])], out, cfg, seed)
        return
    with _epoch_progress() as bar:
        epochs_n = cfg.epochs
        callbacks = [_keras_progress(bar, "training", epochs_n)]
        run = training.run_axol1tl if model == "axol1tl" else training.run_cicada
        try:
            summary = run(
                data,
                list(signals or []),
                out,
                seed=seed,
                cfg=cfg,
                callbacks=callbacks,
                log=lambda m: bar.console.print(m),
            )
        except DatasetError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from None
    floor = summary["data"]["fpr_floor"]
    table = Table(
        title=f"{model}: {summary['data']['test']} zero-bias test events (lowest resolvable FPR {floor:.1e})",
        caption="reference rows: published results on a different data set, shown for comparison",
    )
    for col in ("signal", "score", "AUC", "TPR @ FPR 1e-5", "TPR @ 1 kHz"):
        table.add_column(col, justify="left" if col in ("signal", "score") else "right")
    for sig, rows in summary["metrics"].items():
        for name, r in rows.items():
            table.add_row(sig, name, f"{r['auc']:.3f}", f"{r['tpr_at_fpr_1e-5']:.2%}", f"{r['tpr_at_fpr_1kHz']:.2%}")
    for ref in summary["reference"]:
        table.add_row(
            "[dim]reference[/dim]",
            f"[dim]{ref['model']}[/dim]",
            f"[dim]{ref['auc']:.2f}[/dim]",
            f"[dim]{ref['tpr_at_fpr_1e-5']:.2%}[/dim]",
            "[dim]-[/dim]",
        )
    _training_verdict(table, summary, out, "events")


def _chains(specs: list[str] | None, option: str) -> dict:
    """Trigger chains of MODEL=RUN_DIR options (``l1t.studies.chain``)."""
    from l1t.emulator.menu import MenuError
    from l1t.studies.chain import load_chain

    chains = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep:
            raise MenuError(f"{option} {spec!r}: expected MODEL=RUN_DIR")
        chains[name] = load_chain(path)
    return chains


@app.command()
def report(
    zero_bias: Annotated[Path, typer.Option(help="Zero-bias HDF5 file from `l1t generate`.")],
    out: Annotated[Path, typer.Option(help="Output directory (report.html, results.json).")],
    menu: Annotated[Path, typer.Option(help="Menu YAML.")] = DEFAULT_MENU,
    models: Annotated[
        list[str] | None, typer.Option("--model", help="MODEL=RUN_DIR of `l1t train` (axol1tl=..., cicada=...).")
    ] = None,
    signals: Annotated[list[Path] | None, typer.Option("--signal", help="Signal HDF5 file (repeatable).")] = None,
    bunches: Annotated[int, typer.Option(help="Colliding bunches.")] = 2544,
    dask: Annotated[bool, typer.Option(help="Stream the zero-bias file in chunks on a Dask cluster.")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Address of an existing dask.distributed scheduler.")] = None,
    chunk: Annotated[int, typer.Option(help="Crossings per Dask chunk.")] = 100_000,
) -> None:
    """Rates and efficiencies of a menu from the emulator's bit-exact decisions: AD thresholds set from target
    rates, pure rates and overlaps, efficiencies per seed; one self-contained HTML report plus JSON."""
    from l1t import inventory
    from l1t.emulator.menu import Menu, MenuError
    from l1t.events.dataset import DatasetError, read
    from l1t.studies import rates
    from l1t.studies.report import plots, write_report
    from l1t.studies.scale import study_chunked, study_fields

    try:
        the_menu = Menu.from_yaml(menu)
        chains = _chains(models, "--model")
        missing = the_menu.keep_ad_models(set(chains))
        if missing:  # AD seeds without a trained model are left out, with a note
            console.print(f"[yellow]no --model for {missing}: those AD seeds are left out[/yellow]")
        with console.status("running the emulator chain on zero bias and signals"):
            sig = {}
            for path in signals or []:
                ev = read(path)
                scored = {m: c.score(ev.data) for m, c in chains.items()}
                label = str(ev.attrs.get("process", path.stem)) + (" (fast sim)" if ev.attrs.get("fastsim") else "")
                if label in sig:
                    raise MenuError(f"{path}: a second {label!r} sample; give one file per process")
                sig[label] = (ev.data, scored)
            fields = study_fields(the_menu, chains)
            if dask or scheduler:  # bounded memory: only counts and top-K scores leave the workers
                zb_attrs = read(zero_bias, 0, 1, fields=["sums/hw"]).attrs
                results = study_chunked(
                    the_menu, zero_bias, chains, sig, chunk=chunk, scheduler=scheduler, bunches=bunches
                )
                images = plots({}, {}, results)
            else:
                zb = read(zero_bias, fields=fields)
                zb_attrs = zb.attrs
                zb_scores = {m: c.score(zb.data) for m, c in chains.items()}
                results = rates.study(the_menu, zb.data, zb_scores, sig, bunches=bunches)
                images = plots(zb_scores, {k: v[1] for k, v in sig.items()}, results)
    except (MenuError, DatasetError, FileNotFoundError) as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    context = {
        "menu": str(menu),
        "zero_bias": str(zero_bias),
        "pileup": zb_attrs.get("pileup"),
        "library": zb_attrs.get("library"),
        "dask": bool(dask or scheduler),
        "signals": [str(s) for s in signals or []],
        "models": models or [],
        "bunches": bunches,
        "l1t": __version__,
        "packages": inventory.package_versions(),
    }
    path = write_report(out, results, images, context)
    table = Table(title=f"{the_menu.name}: {results['zero_bias_events']} zero-bias crossings")
    for col in ("seed", "rate [Hz]", "pure [Hz]"):
        table.add_column(col, justify="left" if col == "seed" else "right")
    for name, r in results["seeds"].items():
        pure = f"{r['pure_rate_hz']:.4g}" if "pure_rate_hz" in r else "-"
        table.add_row(name, f"{r['rate_hz']:.4g} ± {r['rate_err_hz']:.2g}", pure)
    console.print(table)
    console.print(f"report: {path.resolve()}")


@app.command()
def trigger(
    run: Annotated[Path, typer.Option(help="Directory of `l1t train axol1tl` or `l1t train cicada`.")],
    report_dir: Annotated[
        Path, typer.Option("--report", help="Directory of `l1t report` (the AXO or CICADA thresholds).")
    ],
    events_file: Annotated[Path, typer.Option("--events-file", help="HDF5 events streamed through the RTL.")],
    out: Annotated[Path, typer.Option(help="Output directory (rtl/, report.json, cosim/).")],
    events: Annotated[int, typer.Option(help="Events to stream.")] = 20_000,
    simulator: Annotated[str, typer.Option(help="verilator, icarus or all.")] = "all",
    write_patterns: Annotated[
        Path | None, typer.Option(help="Write the EMPv2 rx file and each simulation's tx file here.")
    ] = None,
    seed: Seed = 1,
) -> None:
    """An AD trigger path in RTL (AXOL1TL: GT objects -> pT sorting -> input scaling -> encoder -> sum mu^2; CICADA:
    regions -> student; then one bit per working point), from a trained model and the report's thresholds,
    co-simulated on real events against the emulator, bit for bit."""

    from l1t.atomic import write_text
    from l1t.events.dataset import DatasetError, read
    from l1t.firmware.cosim import run_cosim
    from l1t.firmware.trigger import from_run, generate_trigger

    try:
        the_trigger, names = from_run(run, report_dir)
        ev = read(events_file, 0, events, fields=the_trigger.fields)
    except (OSError, ValueError, KeyError, DatasetError) as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    x = the_trigger.from_events(ev.data)
    design = generate_trigger(the_trigger)
    dut = design.dut(out / "rtl")
    write_text(
        out / "report.json",
        json.dumps(
            {
                "top": design.top,
                "latency_clocks": design.latency,
                "ii": 1,
                "working_points": names,
                "thresholds_raw": [int(t) for t in the_trigger.thresholds],
                "score_type": str(the_trigger.types["score"]),
            },
            indent=1,
        ),
    )
    failed = False
    for sim in ["verilator", "icarus"] if simulator == "all" else [simulator]:
        with console.status(f"{sim}: streaming {len(ev)} events through {design.top}"):
            rep = run_cosim(
                dut,
                the_trigger,
                x,
                sim,
                out / "cosim",
                gap_probability=0.1,
                seed=seed,
                patterns_dir=write_patterns,
            )
        colour = "red" if rep.mismatches else "green"
        console.print(f"[{colour}]{design.top} {rep.summary()}[/{colour}]")
        failed |= rep.mismatches > 0
    fired = the_trigger.run(x)["trigger_bits"].mean(axis=0)
    console.print("fraction of events firing: " + ", ".join(f"{n} {f:.2e}" for n, f in zip(names, fired, strict=True)))
    if failed:
        raise typer.Exit(1)


def _board_block(
    model: Path | None, trigger_run: Path | None, menu: Path | None, models: list[str] | None, report_dir: Path | None
):
    """The emulated block a board runs: a network spec, the AXOL1TL trigger path, or a whole menu (GT)."""
    from l1t.emulator.gt import GlobalTrigger
    from l1t.emulator.menu import Menu, MenuError
    from l1t.emulator.nn import Network
    from l1t.firmware.trigger import from_run

    if sum(x is not None for x in (model, trigger_run, menu)) != 1 or (model is None and report_dir is None):
        raise MenuError("give one of --model SPEC, --trigger RUN or --menu MENU (the last two with --report DIR)")
    if model is not None:
        return Network.load(model)
    if trigger_run is not None:
        return from_run(trigger_run, report_dir)[0]
    the_menu = Menu.from_yaml(menu)
    chains = _chains(models, "--ad-model")
    the_menu.keep_ad_models(set(chains))
    results = report_dir / "results.json"
    seeds = json.loads(results.read_text())["results"]["seeds"]
    for s in the_menu.seeds:
        if s.kind == "ad":
            if seeds.get(s.name, {}).get("threshold_raw") is None:
                raise MenuError(f"{results}: no threshold_raw for AD seed {s.name!r}")
            the_menu.set_threshold(s.name, seeds[s.name]["threshold_raw"])
    return GlobalTrigger(the_menu, chains)


BoardModel = Annotated[Path | None, typer.Option("--model", help="Emulator spec directory (e.g. FIRMWARE_DIR/spec).")]
BoardTrigger = Annotated[
    Path | None, typer.Option("--trigger", help="AXOL1TL run of `l1t train`: the whole trigger path.")
]
BoardMenu = Annotated[Path | None, typer.Option("--menu", help="Menu YAML: the GT (objects -> scores -> algo bits).")]
BoardModels = Annotated[
    list[str] | None, typer.Option("--ad-model", help="MODEL=RUN_DIR for the menu's AD seeds (repeatable).")
]
BoardReport = Annotated[Path | None, typer.Option("--report", help="`l1t report` directory (the AD thresholds).")]
_BOARD_ERRORS = (OSError, ValueError, KeyError)


@app.command()
def patterns(
    events_file: Annotated[Path, typer.Option("--events-file", help="HDF5 events (`l1t generate`).")],
    out: Annotated[Path, typer.Option(help="Output directory: rx.txt and tx_expected.txt.")],
    trigger_run: BoardTrigger = None,
    menu: BoardMenu = None,
    ad_models: BoardModels = None,
    report_dir: BoardReport = None,
    events: Annotated[int, typer.Option(help="Events (one packet each).")] = 1000,
    frames: Annotated[int, typer.Option(help="Frames per event packet.")] = 1,
) -> None:
    """Board input and expected output pattern files (EMPv2) for events of a data set: the AXOL1TL trigger path
    (--trigger) or the whole menu as the GT runs it (--menu, --ad-model)."""
    from l1t.emulator.board import encode_rx, expected_tx
    from l1t.emulator.patterns import write_empv2
    from l1t.events.dataset import read

    try:
        block = _board_block(None, trigger_run, menu, ad_models, report_dir)
        ev = read(events_file, 0, events).data
        x = block.from_events(ev)
        write_empv2(out / "rx.txt", encode_rx(block, x, frames))
        write_empv2(out / "tx_expected.txt", expected_tx(block, block.run(x, raw=True), frames))
    except _BOARD_ERRORS as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    console.print(f"{len(next(iter(x.values())))} events: {out / 'rx.txt'}, {out / 'tx_expected.txt'}")


@app.command()
def compare(
    rx: Annotated[Path, typer.Option(help="EMPv2 input pattern file loaded into the board.")],
    tx: Annotated[Path, typer.Option(help="EMPv2 output pattern file captured from the board (or a simulation).")],
    model: BoardModel = None,
    trigger_run: BoardTrigger = None,
    menu: BoardMenu = None,
    ad_models: BoardModels = None,
    report_dir: BoardReport = None,
    expected_out: Annotated[Path | None, typer.Option("--write-expected", help="Also write the expected tx.")] = None,
) -> None:
    """Board-capture regression: decode the rx file as the board's input buffers load it, run the emulator (a
    network; with --trigger the AXOL1TL trigger path: inputs -> network -> score -> trigger bits; with --menu the
    GT: objects -> AD scores -> every seed's bit before and after prescale -> L1A), encode the expected tx links and
    compare them frame by frame with the captured tx. Exits 1 on any mismatch."""
    from l1t.emulator.board import compare_tx, decode_rx, expected_tx
    from l1t.emulator.patterns import read_empv2, write_empv2

    try:
        block = _board_block(model, trigger_run, menu, ad_models, report_dir)
        x_raw, frames = decode_rx(block, read_empv2(rx))
        expected = expected_tx(block, block.run(x_raw, raw=True), frames)
        if expected_out is not None:
            write_empv2(expected_out, expected)
        report = compare_tx(block, expected, read_empv2(tx))
    except _BOARD_ERRORS as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None
    colour = "red" if report.bad_frames else "green"
    console.print(f"[{colour}]{report.summary()}[/{colour}]")
    if report.bad_frames:
        raise typer.Exit(1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where the demo writes its data, models, firmware and reports.")] = Path(
        "out/demo"
    ),
    events: Annotated[int, typer.Option(help="Zero-bias crossings to generate (pileup 60).")] = 20_000,
    seed: Seed = 1,
) -> None:
    """The main job on built-in defaults: tool inventory and fixed-point self-check; zero-bias, signal and tagging-jet
    samples (Pythia8, pileup 60); an AXOL1TL-style VAE trained, pruned, quantized and evaluated; the L1 jet tagger
    with its GNN teacher, and the fast simulation with its fidelity table; rates and efficiencies of the default
    menu with its AD and tagger seeds on Pythia and fast-simulated samples (HTML report); the AXO trigger path in
    RTL co-simulated on the zero-bias events; the encoder's and the tagger's firmware (hls4ml project checked
    against the emulator, generated RTL), hls4ml's C++ (DPI-C) and the RTL co-simulated against the emulator on
    Verilator and Icarus."""
    from l1t.events import dataset

    info(as_json=False)
    selfcheck(values=20_000, seed=seed)
    data = out / "data"
    zb = data / "zero_bias.h5"
    signals = [data / f"{p}.h5" for p in ("a_4l", "h0_tautau", "lq_btau", "zprime_tt")]
    jet_files = [data / "jets_qcd_boosted.h5", data / "jets_zprime_tt.h5"]
    samples = [(zb, "minbias", events, False)] + [(s, s.stem, max(events // 10, 500), False) for s in signals]
    samples += [(f, f.stem[5:], max(events // 8, 500), True) for f in jet_files]
    for k, (path, process, n, jets) in enumerate(samples):
        if path.is_file() and not jets and dataset.read(path, 0, 1).attrs.get("version") != dataset.VERSION:
            path.unlink()  # an older format: made again
        if not path.is_file():  # a rerun keeps finished files
            generate(
                process=process,
                events=n,
                out=path,
                pileup=60.0,
                seed=seed + k,
                workers=2,
                chunk=500,
                library=2000,
                detector=None,
                jets=jets,
                fastsim=None,
            )
    run, tagger_run, fastsim_run = out / "axol1tl", out / "tagger", out / "fastsim"
    train(model="axol1tl", data=zb, out=run, signals=signals, config=None, epochs=15, seed=seed)
    train(model="tagger", data=jet_files[0], out=tagger_run, signals=jet_files[1:], config=None, epochs=None, seed=seed)
    train(
        model="fastsim", data=jet_files[0], out=fastsim_run, signals=jet_files[1:], config=None, epochs=None, seed=seed
    )
    fast_top = data / "zprime_tt_fastsim.h5"
    generate(process="zprime_tt", events=max(events // 10, 500), out=fast_top, seed=seed, fastsim=fastsim_run)
    report(
        zero_bias=zb,
        out=out / "report",
        menu=DEFAULT_MENU,
        models=[f"axol1tl={run}", f"tagger={tagger_run}"],
        signals=[*signals, fast_top],
        bunches=2544,
    )
    patterns = out / "trigger" / "patterns"
    trigger(
        run=run,
        report_dir=out / "report",
        events_file=zb,
        out=out / "trigger",
        events=events,
        simulator="all",
        write_patterns=patterns,
        seed=seed,
    )
    # the simulated RTL's tx links as a board capture, checked frame by frame against the emulated trigger path
    compare(
        rx=patterns / "rx.txt",
        tx=patterns / "tx_rtl_icarus.txt",
        model=None,
        trigger_run=run,
        report_dir=out / "report",
        expected_out=patterns / "tx_expected.txt",
    )
    fw, tagger_fw = out / "firmware", out / "tagger_firmware"
    for trained, firmware_dir in ((run, fw), (tagger_run, tagger_fw)):  # the encoder's and the tagger's firmware
        firmware(model=str(trained / "model.h5"), out=firmware_dir, clock_period=5.0, resources=False, seed=seed)
        cosim(
            firmware_dir=firmware_dir,
            events=events,
            dut="all",
            simulator="all",
            project=None,
            latency=0,
            gap=0.1,
            write_patterns=firmware_dir / "patterns",
            seed=seed,
        )
    console.print(
        f"[green]demo done[/green]: events in {data}, trained models and plots in {run}, {tagger_run}, "
        f"{fastsim_run}; firmware and co-simulation reports in {fw}, {tagger_fw}; the trigger report is "
        f"{(out / 'report' / 'report.html').resolve()}"
    )
