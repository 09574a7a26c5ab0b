"""A library the experiment's offline emulator loads: an hls4ml io_parallel project's own C++ behind the
``hls4mlEmulator::Model`` interface (``prepare_input(std::any)``, ``predict()``, ``read_result(std::any)``, a virtual
destructor; ``extern "C"`` ``create_model()`` and ``destroy_model()``), optionally with the trigger path's input
scaling in front and its anomaly score behind, as deployed.

``write_cmssw`` writes ``emulator.h`` (the interface, written from its public description), ``<name>.cpp`` (the
model class), ``check.cpp`` (a loader that opens the library with ``dlopen`` as the experiment's model loader does,
runs raw words from a file through it and writes the raw results) and a ``Makefile`` building ``lib<name>.so`` and
``check`` against the project's own ``firmware/`` and ``ap_types``.

The scaling is ``(x - offset)`` read with ``shift`` fractional bits and cast into the network's input type with
AP_TRN and AP_SAT (``l1t.emulator.trigger.AxoTrigger.scale``); the score is sum mu^2 or R_z exactly as
``l1t.emulator.scores`` computes it, cast into ``SCORE_T``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import l1t.emulator.fixed as fx
from l1t.atomic import write_text
from l1t.cpp import HLS4ML_EMULATOR_H, NNET_TRACE_SWITCHES, NO_GNU_UNIQUE, OWN_DEFINITIONS_LINK, cpp_spelling
from l1t.emulator import scores
from l1t.emulator.nn import Network, compare_outputs
from l1t.models.hls_project import Project

__all__ = ["CmsswLibrary", "Scaling", "Score", "build_cmssw", "cmssw_library", "run_check", "write_cmssw"]


@dataclass(frozen=True)
class Scaling:
    """Per-feature input scaling: ``(x - offset) >> shift`` read into the network's input type (AP_TRN, AP_SAT), for
    inputs of ``unscaled_t`` (``shift`` in fractional bits of the difference, as ``AxoTrigger`` holds it)."""

    offset: list[int]
    shift: list[int]
    unscaled_t: fx.FixedType


@dataclass(frozen=True)
class Score:
    """The anomaly score behind an encoder: ``kind`` in ``scores.SCORE_KINDS``, from the outputs ``mu`` (and
    ``logvar`` for R_z)."""

    kind: str
    mu: str = "mu"
    logvar: str = "logvar"


@dataclass(frozen=True)
class CmsswLibrary:
    """The files ``write_cmssw`` wrote and how the model class is fed and read."""

    directory: Path
    name: str
    input_t: fx.FixedType  # what prepare_input takes (a pointer to an array of it)
    n_inputs: int
    outputs: list[tuple[str, int, fx.FixedType]]  # what read_result fills, in order

    @property
    def library(self) -> Path:
        return self.directory / f"lib{self.name}.so"


def _scale_code(project: Project, scaling: Scaling, input_t: fx.FixedType) -> str:
    """One statement per feature: the exact difference, read with its shift, cast into the saturating input type."""
    n = project.inputs[0].size
    if len(scaling.offset) != n or len(scaling.shift) != n:
        raise ValueError(f"scaling of {len(scaling.offset)} offsets, {len(scaling.shift)} shifts for {n} inputs")
    sat = fx.FixedType(input_t.width, input_t.int_bits, input_t.signed, fx.QMode.TRN, fx.OMode.SAT)
    lines = []
    for j, (offset, shift) in enumerate(zip(scaling.offset, scaling.shift, strict=True)):
        # 48 bits hold any difference of a <= 40-bit word and an int offset; read with `shift` fractional bits
        lines.append(
            f"        {{ ap_int<48> d = ap_int<48>(_unscaled[{j}]) - ap_int<48>({int(offset)}LL); "
            f"ap_fixed<48, {48 - int(shift)}> v; v.range(47, 0) = d.range(47, 0); "
            f"{cpp_spelling(sat)} s = v; _input[{j}] = s; }}"
        )
    return "\n".join(lines)


def _score_code(project: Project, score: Score) -> tuple[str, str]:
    """(the table's values or "", statements computing ``_score`` from the encoder's output arrays)."""
    net = project.network()
    arrays = {project.layer_of[a.name]: a for a in project.outputs}
    if score.mu not in arrays or (score.kind == "R_z" and score.logvar not in arrays):
        raise ValueError(f"score {score.kind}: the project's outputs are {sorted(arrays)}")
    mu, mu_t = arrays[score.mu], net.types[score.mu]
    if score.kind == "sum_mu2":
        acc_t = scores.sum_type(mu_t, mu.size)
        body = (
            f"        {cpp_spelling(acc_t)} acc = 0;\n"
            f"        for (int i = 0; i < {mu.size}; ++i) acc += _{mu.name}[i] * _{mu.name}[i];\n"
            f"        _score = acc;"
        )
        return "", body
    if score.kind != "R_z":
        raise ValueError(f"score must be one of {scores.SCORE_KINDS}, got {score.kind!r}")
    lv, lv_t = arrays[score.logvar], net.types[score.logvar]
    table = scores.exp_table()
    t = scores.EXP_TABLE_T
    offset, k = scores.table_index_terms(lv_t)
    acc_t = scores.sum_type(mu_t, mu.size, t)
    values = ", ".join(repr(float(v) * t.lsb) for v in table)  # each exact in a double (22 bits)
    index = f"v >> {k}" if k >= 0 else f"v << {-k}"
    sign = f"if (raw >= (1LL << {lv_t.width - 1})) raw -= 1LL << {lv_t.width};" if lv_t.signed else ""
    body = (
        f"        {cpp_spelling(acc_t)} acc = 0;\n"
        f"        for (int i = 0; i < {mu.size}; ++i) {{\n"
        f"            long long raw = _{lv.name}[i].range({lv_t.width - 1}, 0).to_int64(); {sign}\n"
        f"            long long v = raw + {offset}LL;  // the table's index, exact on the raw word\n"
        f"            long long idx = {index};\n"
        f"            idx = idx < 0 ? 0 : idx > {scores.EXP_TABLE_SIZE - 1} ? {scores.EXP_TABLE_SIZE - 1} : idx;\n"
        f"            acc += _{mu.name}[i] * _{mu.name}[i] * exp_table[idx];\n"
        f"        }}\n"
        f"        _score = acc;"
    )
    return values, body


def write_cmssw(
    project: Project, out: str | Path, name: str, *, scaling: Scaling | None = None, score: Score | None = None
) -> CmsswLibrary:  # fmt: skip
    """Write the model class, the interface, the loader check and the Makefile for ``project`` into ``out``."""
    source, out = project.source, Path(out)
    if len(project.inputs) != 1:
        raise ValueError(f"{source.top_file}: {len(project.inputs)} inputs; the model class feeds one input array")
    net = project.network()
    inp = project.inputs[0]
    input_t = source.type_of(inp.cpp_type, str(source.top_file))
    q = source.qualified
    members = [f"    {q(a.cpp_type)} _{a.name}[{a.size}];" for a in project.inputs + project.outputs]
    members = [m.replace(f"_{inp.name}[", "_input[") for m in members]
    feed_t = scaling.unscaled_t if scaling is not None else input_t
    prepare = f"        {cpp_spelling(feed_t)}* p = std::any_cast<{cpp_spelling(feed_t)}*>(input);\n"
    if scaling is not None:
        members.append(f"    {cpp_spelling(feed_t)} _unscaled[{inp.size}];")
        prepare += f"        for (int i = 0; i < {inp.size}; ++i) _unscaled[i] = p[i];\n" + _scale_code(
            project, scaling, input_t
        )
    else:
        prepare += f"        for (int i = 0; i < {inp.size}; ++i) _input[i] = p[i];"
    call_args = ["_input"] + [f"_{a.name}" for a in project.outputs] + ["l1t_size"] * len(source.size_args)
    predict = ("        unsigned short l1t_size = 0;\n" if source.size_args else "") + (
        f"        {q(source.top)}({', '.join(call_args)});"
    )
    table_values = ""
    if score is not None:
        table_values, body = _score_code(project, score)
        if table_values:
            members.append(f"    static const {cpp_spelling(scores.EXP_TABLE_T)} exp_table[{scores.EXP_TABLE_SIZE}];")
        members.append(f"    {cpp_spelling(scores.SCORE_T)} _score;")
        predict += "\n" + body
        outputs = [("score", 1, scores.SCORE_T)]
        read = (
            f"        {cpp_spelling(scores.SCORE_T)}* r = std::any_cast<{cpp_spelling(scores.SCORE_T)}*>(result);\n"
            "        r[0] = _score;"
        )
    else:
        if len(project.outputs) != 1:
            raise ValueError(f"{source.top_file}: {len(project.outputs)} outputs; without a score, read one output")
        a = project.outputs[0]
        t = net.types[project.layer_of[a.name]]
        outputs = [(project.layer_of[a.name], a.size, t)]
        read = (
            f"        {cpp_spelling(t)}* r = std::any_cast<{cpp_spelling(t)}*>(result);\n"
            f"        for (int i = 0; i < {a.size}; ++i) r[i] = _{a.name}[i];"
        )
    cls = f"L1T_{name}"
    table_def = (
        f"const {cpp_spelling(scores.EXP_TABLE_T)} {cls}::exp_table[{scores.EXP_TABLE_SIZE}] = {{{table_values}}};\n"
        if table_values
        else ""
    )
    model = f"""// Generated by l1t: the hls4ml project {source.top} behind the hls4mlEmulator::Model interface.
#include <any>
#include "ap_fixed.h"
#include "ap_int.h"
#include "emulator.h"
#include "{source.top}.h"

{NNET_TRACE_SWITCHES}
class {cls} : public hls4mlEmulator::Model {{
  private:
{chr(10).join(members)}

  public:
    void prepare_input(std::any input) override {{
{prepare}
    }}
    void predict() override {{
{predict}
    }}
    void read_result(std::any result) override {{
{read}
    }}
}};
{table_def}
extern "C" hls4mlEmulator::Model* create_model() {{ return new {cls}; }}
extern "C" void destroy_model(hls4mlEmulator::Model* m) {{ delete m; }}
"""
    library = CmsswLibrary(out, name, feed_t, inp.size, outputs)
    write_text(out / "emulator.h", HLS4ML_EMULATOR_H)
    write_text(out / f"{name}.cpp", model)
    write_text(out / "check.cpp", _check(library))
    write_text(out / "Makefile", _makefile(project, name))
    return library


def _check(lib: CmsswLibrary) -> str:
    (_, n_out, out_t), *rest = lib.outputs
    if rest:
        raise ValueError("the loader check reads one result array")
    return f"""// Generated by l1t: loads lib{lib.name}.so with dlopen, as the experiment's model loader does, and runs
// raw input words (int64, {lib.n_inputs} per event) from argv[2] through it into raw result words in argv[3].
// Further arguments are other models' libraries, loaded first and each run once, as other trigger models
// loaded into the same job are.
#include <cstdint>
#include <cstdio>
#include <dlfcn.h>
#include <vector>
#include "ap_fixed.h"
#include "ap_int.h"
#include "emulator.h"

typedef {cpp_spelling(lib.input_t)} in_t;
typedef {cpp_spelling(out_t)} out_t;

int main(int argc, char** argv) {{
    if (argc < 4) {{
        std::fprintf(stderr, "usage: check LIBRARY INPUTS.bin RESULTS.bin [OTHER_LIBRARY...]\\n");
        return 2;
    }}
    for (int k = 4; k < argc; ++k) {{
        void* other = dlopen(argv[k], RTLD_NOW | RTLD_LOCAL);
        if (!other) {{ std::fprintf(stderr, "%s\\n", dlerror()); return 2; }}
        auto make = reinterpret_cast<hls4mlEmulator::Model* (*)()>(dlsym(other, "create_model"));
        if (!make) {{ std::fprintf(stderr, "%s: no create_model\\n", argv[k]); return 2; }}
        make()->predict();  // the other model's first event: its tables are filled
    }}
    void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!handle) {{ std::fprintf(stderr, "%s\\n", dlerror()); return 2; }}
    auto create = reinterpret_cast<hls4mlEmulator::Model* (*)()>(dlsym(handle, "create_model"));
    auto destroy = reinterpret_cast<void (*)(hls4mlEmulator::Model*)>(dlsym(handle, "destroy_model"));
    if (!create || !destroy) {{ std::fprintf(stderr, "no create_model/destroy_model\\n"); return 2; }}
    FILE* fin = std::fopen(argv[2], "rb");
    FILE* fout = std::fopen(argv[3], "wb");
    if (!fin || !fout) {{ std::fprintf(stderr, "cannot open the input or result file\\n"); return 2; }}
    hls4mlEmulator::Model* model = create();
    std::vector<int64_t> raw({lib.n_inputs});
    in_t x[{lib.n_inputs}];
    out_t y[{n_out}];
    while (std::fread(raw.data(), sizeof(int64_t), {lib.n_inputs}, fin) == {lib.n_inputs}) {{
        for (int i = 0; i < {lib.n_inputs}; ++i) x[i].range({lib.input_t.width - 1}, 0) = raw[i];
        model->prepare_input(static_cast<in_t*>(x));
        model->predict();
        model->read_result(static_cast<out_t*>(y));
        for (int i = 0; i < {n_out}; ++i) {{
            int64_t r = y[i].range({out_t.width - 1}, 0).to_int64();
            if ({int(out_t.signed)} && (r >> {out_t.width - 1}) & 1) r -= (int64_t)1 << {out_t.width};
            std::fwrite(&r, sizeof(int64_t), 1, fout);
        }}
    }}
    destroy(model);
    std::fclose(fin);
    std::fclose(fout);
    dlclose(handle);
    return 0;
}}
"""


def _makefile(project: Project, name: str) -> str:
    fw = project.source.firmware
    return f"""# Generated by l1t: lib{name}.so (the model library) and check (its dlopen loader test).
CXX ?= g++
FIRMWARE := {fw}
CXXFLAGS := -O2 -std=c++17 -fPIC -w -I. -I$(FIRMWARE) -I$(FIRMWARE)/ap_types -DWEIGHTS_DIR='"$(FIRMWARE)/weights"'
# The model keeps its own template statics (hls4ml's lookup tables) when a job loads several models whose
# templates share mangled names: no STB_GNU_UNIQUE symbols (g++; clang emits none), references bound inside.
ISOLATE := $(if $(findstring clang,$(shell $(CXX) --version)),,{NO_GNU_UNIQUE}) {OWN_DEFINITIONS_LINK}

all: lib{name}.so check

lib{name}.so: {name}.cpp $(FIRMWARE)/{project.source.top}.cpp
\t$(CXX) $(CXXFLAGS) $(ISOLATE) -shared -o $@ $^

check: check.cpp
\t$(CXX) $(CXXFLAGS) -o $@ $< -ldl

.PHONY: all
"""


def build_cmssw(lib: CmsswLibrary) -> Path:
    """Run the Makefile (g++); returns the library's path. Raises RuntimeError with g++'s message on failure."""
    res = subprocess.run(["make", "-s", "-C", str(lib.directory)], capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"building {lib.library} failed:\n{res.stderr[-4000:]}")
    return lib.library


def run_check(lib: CmsswLibrary, words: np.ndarray, work: Path, others: Sequence[Path] = ()) -> np.ndarray:
    """Raw result words of ``words`` (events, inputs) through the library, loaded by the generated ``check``; with
    ``others``, other models' libraries loaded into the same process first and each run once."""
    work.mkdir(parents=True, exist_ok=True)
    inputs, results = work / "inputs.bin", work / "results.bin"
    np.ascontiguousarray(words, dtype=np.int64).tofile(inputs)
    cmd = [str(lib.directory / "check"), str(lib.library), str(inputs), str(results), *map(str, others)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"{lib.directory / 'check'} failed: {res.stderr}")
    return np.fromfile(results, dtype=np.int64).reshape(len(words), -1)


def cmssw_library(
    project_dir: str | Path,
    out: str | Path,
    net: Network,
    *,
    name: str = "l1t_model",
    scaling: Scaling | None = None,
    score: Score | None = None,
    events: int = 10_000,
    seed: int = 1,
) -> dict[str, Any]:
    """Write and build the library of an hls4ml io_parallel project and check it, loaded with dlopen, against the
    emulator ``net`` on ``events`` random and edge-case events; the report entry (``skipped`` with the reason when
    the project cannot be read exactly or g++ is missing). An encoder whose outputs include ``mu`` gets its sum mu^2
    score unless ``score`` says otherwise."""
    from l1t.emulator.trigger import AxoTrigger
    from l1t.models.hls_project import ProjectError, read_project, stimulus

    if shutil.which("make") is None or shutil.which(os.environ.get("CXX", "g++")) is None:
        return {"skipped": "make or g++ not found (apt-get install -y make g++)"}
    try:
        project = read_project(project_dir)
    except ProjectError as err:
        return {"skipped": f"the project is not imported exactly: {err}"}
    if score is None and "mu" in project.spec["outputs"]:
        score = Score("sum_mu2")
    lib = write_cmssw(project, out, name, scaling=scaling, score=score)
    build_cmssw(lib)
    name_in, shape, _ = net.inputs[0]
    if scaling is not None:  # GT words through the path's own scaling (``AxoTrigger.scale``), the reference
        t = scaling.unscaled_t
        x = np.random.default_rng(seed).integers(t.raw_min, t.raw_max, (events, int(np.prod(shape))), endpoint=True)
        x[: min(events, 3)] = np.array([t.raw_min, t.raw_max, 0])[: min(events, 3), None]
        words = {name_in: AxoTrigger(net, scaling.offset, scaling.shift, []).scale(x)}
    else:
        words = stimulus(net, events, seed)
        x = words[name_in].reshape(events, -1)
    outputs = net.run(words, raw=True)
    expected = (
        scores.encoder_score(outputs, net.types, score.kind)[:, None]
        if score is not None
        else outputs[lib.outputs[0][0]]
    )
    got = run_check(lib, x, Path(out) / "check_words")
    bad, first = compare_outputs({lib.outputs[0][0]: expected}, {lib.outputs[0][0]: got})
    report = {
        "directory": str(lib.directory),
        "library": str(lib.library),
        "input_type": str(lib.input_t),
        "scaling": scaling is not None,
        "score": score.kind if score is not None else None,
        "events": events,
        "mismatches": int(bad.sum()),
    }
    if first is not None:
        report["first"] = dataclasses.asdict(first)
    return report
