"""``l1t demo``: the main job on built-in defaults, through the same functions the other commands call."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from l1t.cli._app import DEFAULT_MENU, DEFAULT_REFERENCE, Seed, console
from l1t.cli.board import compare_capture
from l1t.cli.firmware import make_firmware, regression, trigger_regression
from l1t.cli.generate import generate_fastsim, generate_pythia
from l1t.cli.report import make_report
from l1t.cli.tools import check_fixed, show_inventory
from l1t.cli.train import run_training

SIMULATORS = ["verilator", "icarus"]
SIGNALS = ("a_4l", "h0_tautau", "lq_btau", "zprime_tt")
JET_PROCESSES = ("qcd_boosted", "zprime_tt")
SCAN_PILEUPS = (40.0, 80.0)  # rate vs pileup: more stratified zero bias beside the main sample's 60
AXOL1TL_EPOCHS = 15


def _stale(path: Path, output: str, detector: dict) -> bool:
    """Whether a finished event (``output`` "events") or jet file is of another format or another detector."""
    from l1t.events import dataset, jets

    try:
        attrs = dataset.read(path, 0, 1).attrs if output == "events" else jets.read(path, 0, 1)[1]
    except dataset.DatasetError:  # a jet file of another format version
        return True
    return (output == "events" and attrs.get("version") != dataset.VERSION) or attrs.get("detector") != detector


class _Stages:
    """Wall time of each stage of the demo, printed as one table at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def print(self) -> None:
        from rich.table import Table

        table = Table(title="demo stages (wall time)")
        table.add_column("stage")
        table.add_column("s", justify="right")
        for name, s in [*self.seconds.items(), ("total", sum(self.seconds.values()))]:
            table.add_row(name, f"{s:.0f}")
        console.print(table)


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
    from l1t import kinds
    from l1t.events.detector import Detector
    from l1t.events.generate import ZERO_BIAS_BINS, Recipe
    from l1t.firmware.dut import DUT_KINDS
    from l1t.inventory import inventory
    from l1t.pipelines.board import board_block

    stage = _Stages()
    with stage("inventory and fixed-point self-check"):
        show_inventory(inventory())
        check_fixed(20_000, seed)
    data = out / "data"
    zb = data / "zero_bias.h5"  # unweighted: training, co-simulation
    zb_rates = data / "zero_bias_weighted.h5"  # pT-hat-stratified and weighted: the rates
    signals = [data / f"{p}.h5" for p in SIGNALS]
    jet_files = [data / f"jets_{p}.h5" for p in JET_PROCESSES]
    recipes = [(zb, Recipe("minbias", events)), (zb_rates, Recipe("minbias", events // 2, pthat_bins=ZERO_BIAS_BINS))]
    scan = [data / f"zero_bias_pu{pu:g}.h5" for pu in SCAN_PILEUPS]
    recipes += [
        (f, Recipe("minbias", events // 10, pileup=pu, pthat_bins=ZERO_BIAS_BINS))
        for f, pu in zip(scan, SCAN_PILEUPS, strict=True)
    ]
    recipes += [(s, Recipe(s.stem, max(events // 10, 500))) for s in signals]
    recipes += [
        (f, Recipe(p, max(events // 8, 500), output="jets")) for f, p in zip(jet_files, JET_PROCESSES, strict=True)
    ]
    detector = Detector.from_yaml().config
    for k, (path, recipe) in enumerate(recipes):
        if path.is_file() and _stale(path, recipe.output, detector):
            path.unlink()  # a rerun keeps finished files of this format and this detector; others are made again
        if not path.is_file():
            with stage("Pythia8 generation"):
                generate_pythia(dataclasses.replace(recipe, seed=seed + k), path, workers=2)
    run, tagger_run, fastsim_run = out / "axol1tl", out / "tagger", out / "fastsim"
    for name, files, run_dir, epochs in (
        ("axol1tl", [zb, *signals], run, AXOL1TL_EPOCHS),
        ("tagger", jet_files, tagger_run, None),
        ("fastsim", jet_files, fastsim_run, None),
    ):
        kind = kinds.get(name)
        with stage(f"training: {name}"):
            run_training(kind, files, run_dir, kind.config.from_yaml(epochs=epochs), seed)
    fast_top = data / "zprime_tt_fastsim.h5"
    with stage("fast simulation"):
        generate_fastsim(fastsim_run, "zprime_tt", max(events // 10, 500), seed, fast_top, "events")
    report_dir = out / "report"
    with stage("rates, efficiencies and report"):
        make_report(
            zb_rates, report_dir, DEFAULT_MENU, {"axol1tl": run, "tagger": tagger_run}, [*signals, fast_top],
            pileup_scan=scan, reference=DEFAULT_REFERENCE,
        )  # fmt: skip
    patterns = out / "trigger" / "patterns"
    with stage("trigger path co-simulation"):
        trigger_regression(run, report_dir, zb, out / "trigger", events, SIMULATORS, patterns, seed)
        # the simulated RTL's tx links as a board capture, checked frame by frame against the emulated trigger path
        block = board_block(trigger_run=run, report_dir=report_dir)
        compare_capture(patterns / "rx.txt", patterns / "tx_rtl_icarus.txt", block, patterns / "tx_expected.txt")
    fw, tagger_fw = out / "firmware", out / "tagger_firmware"
    for trained, firmware_dir in ((run, fw), (tagger_run, tagger_fw)):  # the encoder's and the tagger's firmware
        with stage(f"firmware: {firmware_dir.name}"):
            make_firmware(
                str(trained / "model.h5"), firmware_dir, clock_period=5.0, resources=False, seed=seed, stages=None
            )
        with stage(f"co-simulation: {firmware_dir.name}"):
            regression(
                firmware_dir, events, list(DUT_KINDS), SIMULATORS, write_patterns=firmware_dir / "patterns", seed=seed
            )
    stage.print()
    console.print(
        f"[green]demo done[/green]: events in {data}, trained models and plots in {run}, {tagger_run}, "
        f"{fastsim_run}; firmware and co-simulation reports in {fw}, {tagger_fw}; the trigger report is "
        f"{(report_dir / 'report.html').resolve()}"
    )
