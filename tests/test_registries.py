"""The registries (emulator ops, exporters, RTL emitters, DUT builders, model kinds) agree on one vocabulary and
refuse a second registration of a name."""

from __future__ import annotations

import numpy as np
import pytest

from l1t import kinds
from l1t.emulator import nn
from l1t.firmware import duts, rtl
from l1t.firmware.dut import DUT_KINDS
from l1t.models import export


def test_every_generated_op_has_an_emulator_handler() -> None:
    assert rtl.generated_ops() <= nn.supported_ops(), rtl.generated_ops() - nn.supported_ops()


def test_every_dut_kind_has_a_builder() -> None:
    assert tuple(duts._BUILDERS) == DUT_KINDS


def test_second_registrations_are_refused() -> None:
    with pytest.raises(ValueError, match="already has a handler"):
        nn.handler("dense")(lambda layer, ins, types: np.zeros(0))
    name = next(iter(export.exported_layers()))
    with pytest.raises(ValueError, match="already has an exporter"):
        export._exporter(name)(lambda layer, arrays: {})
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(kinds.get("axol1tl"))


def test_model_kinds_own_their_trigger_parts() -> None:
    assert set(kinds.KINDS) == {"axol1tl", "cicada", "tagger", "fastsim"}
    for kind in kinds.KINDS.values():
        assert (kind.trigger is None) == (kind.seed_prefix is None) == (kind.trigger_rtl is None), kind.name
        assert kind.config.from_yaml().epochs > 0


def test_unknown_kind_and_bad_run_directories_are_named(tmp_path) -> None:
    with pytest.raises(kinds.RunError, match="unknown model 'vae'; choose from axol1tl"):
        kinds.get("vae")
    with pytest.raises(kinds.RunError, match=r"summary\.json not found"):
        kinds.read_run(tmp_path)
    (tmp_path / "summary.json").write_text('{"model": "gan"}')
    with pytest.raises(kinds.RunError, match="model 'gan' is not one of"):
        kinds.read_run(tmp_path)
    (tmp_path / "summary.json").write_text('{"model": "axol1tl"}')
    run = kinds.read_run(tmp_path)
    with pytest.raises(kinds.RunError, match=r"summary\.json: no 'input_scaling'"):
        run.input_scaling()
    with pytest.raises(kinds.RunError, match="a fastsim model has no trigger score"):
        (tmp_path / "summary.json").write_text('{"model": "fastsim"}')
        kinds.load_chain(tmp_path)


def test_a_missing_extra_is_named_by_the_library_and_the_cli(monkeypatch, tmp_path) -> None:
    import sys

    from typer.testing import CliRunner

    from l1t.cli import app
    from l1t.events import pythia
    from l1t.extras import MissingExtra

    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # as if the 'events' extra were not installed
    with pytest.raises(MissingExtra, match=r"pip install 'l1t\[events\]'"):
        pythia.generate("minbias", 1, 1)
    result = CliRunner().invoke(
        app, ["generate", "--process", "minbias", "--events", "2", "-o", str(tmp_path / "x.h5")]
    )
    assert result.exit_code == 2 and "pip install 'l1t[events]'" in " ".join(result.output.split()), result.output
    assert not (tmp_path / "x.h5").exists()


def test_info_layers_lists_the_registries() -> None:
    import json

    from typer.testing import CliRunner

    from l1t.cli import app

    result = CliRunner().invoke(app, ["info", "--layers", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["emulator_ops"]) == nn.supported_ops() and set(data["rtl_ops"]) == rtl.generated_ops()
    assert set(data["emulator_ops_past_64_bits"]) == nn.wide_ops() and {"dense", "conv2d"} <= nn.wide_ops()
    assert nn.wide_ops() < nn.supported_ops()
    assert {"Dense", "GlobalPooling2D", "Dot", "Transpose"} <= set(data["hls4ml_layers"])
    assert {"dense", "dense_da_<N>", "softmax", "dot1d"} <= set(data["project_nnet_functions"])


def test_project_importers_refuse_a_second_registration() -> None:
    from l1t.models.hls_project import _layers

    with pytest.raises(ValueError, match="nnet::dense already has an importer"):
        _layers._importer("dense")(lambda v: {})
