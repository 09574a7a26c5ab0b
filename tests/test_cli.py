from __future__ import annotations

import json

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
