"""``l1t firmware``, ``l1t cosim`` and ``l1t trigger``: firmware of a network or of a whole trigger path, and its
regression against the emulator under cocotb."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from l1t.cli._app import Seed, console, escape, fail

DEFAULT_FIRMWARE = Path("out/firmware/axol1tl_encoder")
Simulators = Annotated[str, typer.Option(help="verilator, icarus or all.")]


def _simulators(choice: str) -> list[str]:
    return ["verilator", "icarus"] if choice == "all" else [choice]


def firmware(
    model: Annotated[str, typer.Option(help="Built-in reference model name or a Keras/QKeras .h5 file.")] = (
        "axol1tl_encoder"
    ),
    out: Annotated[Path, typer.Option(help="Firmware directory (spec/, rtl/, hls4ml_prj/, report.json).")] = (
        DEFAULT_FIRMWARE
    ),
    clock_period: Annotated[float, typer.Option(help="Clock period in ns.")] = 5.0,
    resources: Annotated[bool, typer.Option(help="Estimate resources with yosys synth_xilinx (minutes).")] = True,
    seed: Seed = 1,
    stages: Annotated[
        int | None, typer.Option(help="Register stages of the generated RTL (default: one per layer).")
    ] = None,
    io_type: Annotated[str, typer.Option(help="hls4ml io type: io_parallel or io_stream.")] = "io_parallel",
    strategy: Annotated[str, typer.Option(help="hls4ml strategy: Latency, Resource or ResourceUnrolled.")] = "Latency",
    reuse_factor: Annotated[int, typer.Option(help="hls4ml reuse factor of every layer.")] = 1,
    cmvm: Annotated[
        str, typer.Option(help="Constant matrix products of the generated RTL: da4ml (adder graphs) or csd.")
    ] = "da4ml",
    graph_depth: Annotated[
        int | None,
        typer.Option(min=1, help="Adder levels per clock inside da4ml's graphs (default: a whole graph in one clock)."),
    ] = None,
) -> None:
    """hls4ml project (C-sim checked against the emulator), generated Verilog, vendor build if present, report.json."""
    make_firmware(
        model, out, clock_period=clock_period, resources=resources, seed=seed, stages=stages,
        io_type=io_type, strategy=strategy, reuse_factor=reuse_factor, cmvm=cmvm, graph_depth=graph_depth,
    )  # fmt: skip


def make_firmware(
    model: str,
    out: Path,
    *,
    clock_period: float,
    resources: bool,
    seed: int,
    stages: int | None,
    io_type: str = "io_parallel",
    strategy: str = "Latency",
    reuse_factor: int = 1,
    cmvm: str = "da4ml",
    graph_depth: int | None = None,
) -> None:
    """Build and summarize a firmware directory; exits 1 when the C-simulation and the emulator differ, 2 when the
    model or its project cannot be emulated or generated exactly (the message names the layer)."""
    from l1t.firmware.rtl import CMVM, UnsupportedRtl
    from l1t.models.export import UnsupportedLayer
    from l1t.pipelines.firmware import build_firmware

    if cmvm not in CMVM:
        fail(f"--cmvm {cmvm!r}: choose from {', '.join(CMVM)}")
    console.print(f"converting {model} with hls4ml ({io_type}, {strategy}) into {out / 'hls4ml_prj'}")
    try:
        with console.status("converting, generating RTL, compiling C-simulation" + (", yosys" if resources else "")):
            report = build_firmware(
                model, out, clock_period=clock_period, resources=resources, seed=seed, stages=stages,
                io_type=io_type, strategy=strategy, reuse_factor=reuse_factor, cmvm=cmvm, graph_depth=graph_depth,
            )  # fmt: skip
    except (FileNotFoundError, UnsupportedLayer, UnsupportedRtl) as err:
        fail(err)
    table = Table(title=f"firmware for {model}")
    table.add_column("item")
    table.add_column("value")
    table.add_row("latency", f"{report['latency_clocks']} clocks = {report['latency_ns']} ns at {clock_period} ns")
    table.add_row("II", "1")
    for name, measured in report.get("generators", {cmvm: report["resources"]}).items():
        chosen = " (written)" if name == cmvm else ""
        table.add_row(f"resources, {name} (yosys){chosen}", json.dumps(measured))
    csim = report["hls4ml"]["csim_vs_emulator"]
    table.add_row("hls4ml C-sim vs emulator", f"{csim['events']} events, {csim['mismatches']} mismatches")
    table.add_row("vendor build", json.dumps(report["hls4ml"]["vendor"]))
    cmssw = report["hls4ml"].get("cmssw", {"skipped": f"{io_type} (the library wraps io_parallel projects)"})
    table.add_row(
        "CMSSW library (dlopen) vs emulator",
        f"{cmssw['events']} events, {cmssw['mismatches']} mismatches: {cmssw['library']}"
        if "library" in cmssw
        else f"skipped: {cmssw['skipped']}",
    )
    console.print(table)
    timing = report.get("timing")  # present when yosys timed the design
    if timing is not None and not timing["logic_fits_period"]:
        console.print(
            f"[yellow]the slowest stage's logic alone takes {timing['logic_delay_ns']:.2f} ns "
            f"({timing['basis']}), longer than the {clock_period} ns clock: register inside the adder "
            "graphs (--graph-depth), or let vendor synthesis retime over more stages (--stages), or slow the "
            "clock[/yellow]"
        )
    console.print(f"wrote {out / 'report.json'}")
    if csim["mismatches"] or cmssw.get("mismatches"):
        raise typer.Exit(1)


def cosim(
    firmware_dir: Annotated[Path, typer.Argument(help="Directory made by `l1t firmware`.")] = DEFAULT_FIRMWARE,
    events: Annotated[int, typer.Option(help="Events per DUT and simulator.")] = 100_000,
    dut: Annotated[str, typer.Option(help="hls-dpi, rtl, vendor (comma-separated) or all.")] = "all",
    simulator: Simulators = "all",
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
    from l1t.firmware.dut import DUT_KINDS

    kinds = list(DUT_KINDS) if dut == "all" else [c.strip() for c in dut.split(",")]
    unknown = [k for k in kinds if k not in DUT_KINDS]
    if unknown:
        fail(f"unknown DUT {unknown[0]!r}; choose from {', '.join(DUT_KINDS)} or all")
    regression(
        firmware_dir, events, kinds, _simulators(simulator),
        project=project, latency=latency or None, gap=gap, write_patterns=write_patterns, seed=seed,
    )  # fmt: skip


def regression(
    firmware_dir: Path,
    events: int,
    kinds: list[str],
    simulators: list[str],
    *,
    project: Path | None = None,
    latency: int | None = None,
    gap: float = 0.1,
    write_patterns: Path | None = None,
    seed: int = 1,
) -> None:
    """Random input words through every DUT kind on every simulator; exits 1 on a mismatch, 2 if nothing ran."""
    from l1t.emulator.nn import Network, SpecError
    from l1t.firmware.dut import DutUnavailable
    from l1t.firmware.duts import firmware_dut, read_report
    from l1t.firmware.hls_dpi import ProjectError

    try:
        net = Network.load(firmware_dir / "spec")
        read_report(firmware_dir)
    except (SpecError, FileNotFoundError) as err:
        fail(err)
    name, shape, t = net.inputs[0]
    raw = np.random.default_rng(seed).integers(t.raw_min, t.raw_max, (events, *shape), endpoint=True)
    failed, ran = False, 0
    for kind in kinds:
        try:
            the_dut = firmware_dut(kind, firmware_dir, project=project, latency=latency)
        except DutUnavailable as err:
            console.print(f"[yellow]skipped {kind}: {escape(str(err))}[/yellow]")
            continue
        except ProjectError as err:
            fail(f"{kind}: {err}")
        for sim in simulators:
            try:
                the_dut.require(sim)
            except DutUnavailable as err:
                console.print(f"[yellow]skipped {kind} on {sim}: {escape(str(err))}[/yellow]")
                continue
            with console.status(f"{kind} on {sim}: building and streaming {events} events"):
                report = _cosim(
                    the_dut, net, {name: raw}, sim, firmware_dir / "cosim",
                    gap_probability=gap, seed=seed, patterns_dir=write_patterns,
                )  # fmt: skip
            if report is None:
                failed = True
                continue
            _verdict(report, f"({events / report.sim_seconds:,.0f} events/s)")
            failed |= report.mismatches > 0
            ran += 1
    if failed:
        raise typer.Exit(1)
    if not ran:
        fail("no DUT could run")


def _cosim(*args: Any, **kwargs: Any) -> Any:
    """``run_cosim(*args, **kwargs)``, or None after printing why its build or simulation failed (the log's tail)."""
    from l1t.firmware.cosim import run_cosim

    try:
        return run_cosim(*args, **kwargs)
    except RuntimeError as err:
        console.print(f"[red]{escape(str(err))}[/red]")
        return None


def _verdict(report: Any, suffix: str = "", prefix: str = "") -> None:
    colour = "red" if report.mismatches else "green"
    text = escape(f"{prefix + ' ' if prefix else ''}{report.summary()}")
    console.print(f"[{colour}]{text}[/{colour}]  {suffix}".rstrip())


def trigger(
    run: Annotated[Path, typer.Option(help="Directory of `l1t train axol1tl` or `l1t train cicada`.")],
    report_dir: Annotated[
        Path, typer.Option("--report", help="Directory of `l1t report` (the AXO or CICADA thresholds).")
    ],
    events_file: Annotated[Path, typer.Option("--events-file", help="HDF5 events streamed through the RTL.")],
    out: Annotated[Path, typer.Option(help="Output directory (rtl/, report.json, cosim/).")],
    events: Annotated[int, typer.Option(help="Events to stream.")] = 20_000,
    simulator: Simulators = "all",
    write_patterns: Annotated[
        Path | None, typer.Option(help="Write the EMPv2 rx file and each simulation's tx file here.")
    ] = None,
    seed: Seed = 1,
) -> None:
    """An AD trigger path in RTL (AXOL1TL: GT objects -> pT sorting -> input scaling -> encoder -> sum mu^2; CICADA:
    regions -> student; then one bit per working point), from a trained model and the report's thresholds,
    co-simulated on real events against the emulator, bit for bit."""
    trigger_regression(run, report_dir, events_file, out, events, _simulators(simulator), write_patterns, seed)


def trigger_regression(
    run: Path,
    report_dir: Path,
    events_file: Path,
    out: Path,
    events: int,
    simulators: list[str],
    write_patterns: Path | None,
    seed: int,
) -> None:
    """Write the trigger path's RTL and stream ``events`` events of ``events_file`` through it on each simulator."""
    from l1t.events.dataset import DatasetError, read
    from l1t.kinds import RunError
    from l1t.pipelines.trigger import trigger_firmware

    try:
        built = trigger_firmware(run, report_dir, out)
        block = built.path.block
        ev = read(events_file, 0, events, fields=block.fields)
    except (OSError, ValueError, KeyError, DatasetError, RunError) as err:
        fail(err)
    x = block.from_events(ev.data)
    cmssw = built.cmssw
    if "library" in cmssw:
        console.print(f"CMSSW library (dlopen) vs emulator: {cmssw['events']} events, {cmssw['mismatches']} mismatches")
    failed = bool(cmssw.get("mismatches"))
    for sim in simulators:
        with console.status(f"{sim}: streaming {len(ev)} events through {built.design.top}"):
            rep = _cosim(
                built.dut, block, x, sim, out / "cosim", gap_probability=0.1, seed=seed,
                patterns_dir=write_patterns,
            )  # fmt: skip
        if rep is None:
            failed = True
            continue
        _verdict(rep, prefix=built.design.top)
        failed |= rep.mismatches > 0
    fired = block.run(x)["trigger_bits"].mean(axis=0)
    names = built.path.names
    console.print("fraction of events firing: " + ", ".join(f"{n} {f:.2e}" for n, f in zip(names, fired, strict=True)))
    if failed:
        raise typer.Exit(1)
