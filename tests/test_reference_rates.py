"""`l1t validate-rates`: a study's rates next to a reference table, checked against its schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from l1t.cli import app
from l1t.studies.reference import ReferenceError, compare_rates, read_reference


def _results(path: Path) -> Path:
    seeds = {"L1_SingleMu22": {"rate_hz": 9000.0, "rate_err_hz": 300.0},
             "L1_SingleJet180": {"rate_hz": 1000.0, "rate_err_hz": 50.0}}  # fmt: skip
    path.mkdir()
    body = {"results": {"seeds": seeds, "total_rate_hz": 95_000.0, "total_rate_err_hz": 2000.0}}
    (path / "results.json").write_text(json.dumps(body))
    return path


# a constructed reference table for the test (not a published one): numbers chosen to straddle the factor
REFERENCE = """source: constructed for the test
conditions: pileup 60, 2544 bunches
total_hz: 100000
seeds:
  L1_SingleMu22: {rate_hz: 6000.0, err_hz: 500.0}
  L1_SingleJet180: {rate_hz: 2500.0}
  L1_DoubleTau: {rate_hz: 1000.0}
"""


def test_rates_against_a_reference_table(tmp_path: Path) -> None:
    results = _results(tmp_path / "study")
    ref = tmp_path / "ref.yaml"
    ref.write_text(REFERENCE)
    cmp = compare_rates(json.loads((results / "results.json").read_text())["results"], read_reference(ref))
    assert cmp["seeds"]["L1_SingleMu22"]["ratio"] == pytest.approx(1.5) and cmp["seeds"]["L1_SingleMu22"]["within"]
    assert cmp["seeds"]["L1_SingleJet180"]["ratio"] == pytest.approx(0.4)
    assert not cmp["seeds"]["L1_SingleJet180"]["within"] and cmp["total"]["within"]
    assert cmp["not_in_study"] == ["L1_DoubleTau"]
    args = ["validate-rates", str(results), "--reference", str(ref), "--json", str(tmp_path / "c.json")]
    ok = CliRunner().invoke(app, args, env={"COLUMNS": "1000"})
    out = " ".join(ok.output.replace("│", " ").split())
    assert ok.exit_code == 0, ok.output
    assert "L1_SingleJet180 1 ± 0.05 2.5 0.4 no" in out and "not in the study's menu: L1_DoubleTau" in out
    assert json.loads((tmp_path / "c.json").read_text())["seeds"] == cmp["seeds"]
    assert CliRunner().invoke(app, [*args, "--strict"]).exit_code == 1
    assert CliRunner().invoke(app, [*args, "--strict", "--factor", "3"]).exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conditions: x\nseeds: {A: {rate_hz: 1.0}}\n", "source: Field required"),
        ("source: s\nconditions: x\nseeds: {A: {rate_hz: -1.0}}\n", "seeds.A.rate_hz: Input should be greater than 0"),
        ("source: s\nconditions: x\nseeds: {A: {rate: 1.0}}\n", "seeds.A.rate: Extra inputs are not permitted"),
        ("source: s\nconditions: x\nseeds: {}\n", "seeds: Dictionary should have at least 1 item"),
    ],
)
def test_bad_reference_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    ref = tmp_path / "ref.yaml"
    ref.write_text(text)
    with pytest.raises(ReferenceError, match=message):
        read_reference(ref)
    results = _results(tmp_path / "study")
    bad = CliRunner().invoke(app, ["validate-rates", str(results), "--reference", str(ref)], env={"COLUMNS": "1000"})
    assert bad.exit_code == 2 and "ref.yaml" in bad.output
    missing = CliRunner().invoke(app, ["validate-rates", str(tmp_path), "--reference", str(ref)])
    assert missing.exit_code == 2


def test_the_shipped_reference_is_cited_and_names_default_menu_seeds() -> None:
    """configs/references: recorded CMS zero bias at pileup 40, every seed one of the default menu's, the source a
    file and commit of a public repository; `l1t validate-rates` reads it by default."""
    from l1t.cli._app import DEFAULT_MENU, DEFAULT_REFERENCE
    from l1t.emulator.menu import Menu

    ref = read_reference(DEFAULT_REFERENCE)
    assert ref.pileup == 40.0 and "cms-l1-dpg/L1MenuTools" in ref.source and "commit 2a1d35f" in ref.source
    classic = {s.name for s in Menu.from_yaml(DEFAULT_MENU).seeds if s.kind not in ("always", "ad")}
    assert set(ref.seeds) == classic
    for r in ref.seeds.values():  # a count of crossings behind every rate: err = rate / sqrt(fired), fired >= 17
        fired = (r.rate_hz / r.err_hz) ** 2
        assert 17 <= round(fired) and r.err_hz < r.rate_hz / 4
