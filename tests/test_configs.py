"""The detector and model configuration files are checked against their schemas: errors name file, field, value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from l1t import configs
from l1t.events.detector import Detector
from l1t.models.axol1tl import AxoConfig
from l1t.models.cicada import CicadaConfig
from l1t.models.fastsim import FastSimConfig
from l1t.models.tagger import TaggerConfig


def _detector_with(**changes: object) -> dict:
    config = yaml.safe_load(configs.path("detector.yaml").read_text())
    for dotted, value in changes.items():
        *head, last = dotted.split("__")
        node = config
        for key in head:
            node = node[key]
        node[last] = value
    return config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"muon__efficiency": 1.5}, r"muon\.efficiency: Input should be less than or equal to 1 \(got 1\.5\)"),
        ({"jet__window": 8}, r"jet: window 8 must be odd"),
        ({"n_phi": "72"}, r"n_phi: Input should be a valid integer \(got '72'\)"),
        ({"bogus": 1}, r"bogus: Extra inputs are not permitted"),
        ({"hf_eta_edges": [3.1, 4.0]}, r"tower_eta_edges must rise from 0 and hf_eta_edges continue them"),
        ({"ecal__stochastic": -0.1}, r"ecal\.stochastic: Input should be greater than or equal to 0"),
        ({"jet__calibration__factors": [1.2]}, r"jet\.calibration: 1 factors for 8 pt_edges: one per bin"),
        (
            {"jet__calibration__pt_edges": [5, 30, 45, 62, 82, 108, 140, 190]},
            r"jet\.calibration: pt_edges .* rise from 0",
        ),
        (
            {"jet__calibration__factors": [1.35, 1.33, 0, 1.27, 1.245, 1.224, 1.217, 1.208]},
            r"jet\.calibration\.factors\.2: Input should be greater than 0",
        ),
    ],
)
def test_bad_detector_configs_name_the_field(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^detector.yaml: {message}"):
        Detector(_detector_with(**changes), "detector.yaml")


def test_shipped_configs_validate() -> None:
    assert Detector.from_yaml().n_phi == 72
    for cls in (AxoConfig, CicadaConfig, TaggerConfig, FastSimConfig):
        assert cls.from_yaml().epochs >= 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("encoder: 32\n", r"encoder: Input should be a valid list \(got 32\)"),
        ("sparsity: 1.5\n", r"sparsity: Input should be less than 1 \(got 1\.5\)"),
        ("epochs: '30'\n", r"epochs: Input should be a valid integer \(got '30'\)"),
        ("bogus: 1\n", r"bogus: Unexpected keyword argument"),
        ("weight_bits: [6]\n", r"weight_bits: List should have at least 2 items"),
        ("- 1\n", r"expected a mapping of settings, got list"),
    ],
)
def test_bad_model_configs_name_the_field(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "axo.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"^{path}: {message}"):
        AxoConfig.from_yaml(path)


def test_overrides_are_checked_and_named() -> None:
    assert AxoConfig.from_yaml(epochs=3).epochs == 3
    with pytest.raises(ValueError, match=r"axol1tl.yaml with epochs=-1: epochs: .*greater than or equal to 1"):
        AxoConfig.from_yaml(epochs=-1)
    with pytest.raises(ValueError, match=r"output_type: cannot parse precision 'ap_fixed<8>'"):
        CicadaConfig.from_yaml(output_type="ap_fixed<8>")


def test_cli_names_the_bad_field_and_prints_the_schemas(tmp_path: Path) -> None:
    """`l1t train --config` with a bad file exits 2 with the named field, no traceback; `l1t info --schema` prints
    the JSON Schema every format is checked against."""
    import json

    from typer.testing import CliRunner

    from l1t.cli import app

    bad = tmp_path / "axo.yaml"
    bad.write_text("latent: 0\n")
    args = ["train", "axol1tl", "--data", str(tmp_path / "x.h5"), "--out", str(tmp_path / "o"), "--config", str(bad)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "latent: Input should be greater than or equal to 1 (got 0)" in " ".join(result.output.split())
    for name, field in (("menu", "seeds"), ("detector", "n_phi"), ("tagger", "distill_alpha")):
        result = CliRunner().invoke(app, ["info", "--schema", name])
        assert result.exit_code == 0 and field in json.loads(result.output)["properties"], result.output
