from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from l1t.cli import app

runner = CliRunner()


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("info", "selfcheck", "demo"):
        assert command in result.output


def test_info_json_lists_tools_and_packages() -> None:
    result = runner.invoke(app, ["info", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    names = {t["name"] for t in data["tools"]}
    assert {"g++", "iverilog", "verilator", "vivado", "vitis_hls", "yosys"} <= names
    assert data["packages"]["numpy"].startswith("1.")
    gxx = next(t for t in data["tools"] if t["name"] == "g++")
    assert gxx["version"] and "g++" in gxx["version"]


def test_info_table() -> None:
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert "vitis_hls" in result.output and "hls4ml" in result.output


def test_selfcheck_passes_on_installed_headers() -> None:
    result = runner.invoke(app, ["selfcheck", "--values", "500"])
    assert result.exit_code == 0, result.output
    assert "0 cases with mismatches" in result.output


def test_firmware_from_an_h5_file(tmp_path) -> None:
    import pytest

    pytest.importorskip("qkeras")
    from l1t.models.reference import axol1tl_encoder

    path = tmp_path / "encoder.h5"
    with pytest.warns(UserWarning, match="HDF5"):  # Keras calls .h5 legacy; QKeras/hls4ml flows use it
        axol1tl_encoder(3).save(path)
    result = runner.invoke(app, ["firmware", "--model", str(path), "--out", str(tmp_path / "fw"), "--no-resources"])
    assert result.exit_code == 0, result.output
    assert "10000 events, 0 mismatches" in result.output
    assert (tmp_path / "fw" / "rtl" / "myproject.v").is_file()
    cmssw = json.loads((tmp_path / "fw" / "report.json").read_text())["hls4ml"]["cmssw"]  # the encoder's sum mu^2
    assert (cmssw["events"], cmssw["mismatches"], cmssw["score"]) == (10_000, 0, "sum_mu2")
    assert Path(cmssw["library"]).is_file()


def test_firmware_names_an_unknown_model(tmp_path) -> None:
    result = runner.invoke(app, ["firmware", "--model", "no_such_model", "--out", str(tmp_path / "fw")])
    assert result.exit_code == 2
    assert "'no_such_model' is neither a file nor a built-in model" in result.output


def test_cosim_names_a_missing_firmware_dir(tmp_path) -> None:
    result = runner.invoke(app, ["cosim", str(tmp_path / "nowhere"), "--events", "10"])
    assert result.exit_code == 2
    assert "missing spec.json" in result.output
