"""The report in a real headless browser (slow set; `make test-all` installs Debian's chromium): every image decodes
and the page is not blank; a broken image is caught."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from l1t.cli import app
from l1t.events import dataset
from l1t.studies import browser

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return browser.find_browser()
    except browser.BrowserError as err:
        pytest.skip(str(err))


def _zero_bias(path: Path, n: int, pileup: float, seed: int, truth: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    data = {name: np.zeros((n, *shape), dtype=dtype) for name, (shape, dtype, _) in dataset.SCHEMA.items()}
    data["objects/egammas"][:, :2, 0] = rng.integers(0, int(pileup), (n, 2))
    data["objects/muons"][:, :2, 0] = rng.integers(0, int(pileup), (n, 2))
    data["sums/hw"][:, 0] = rng.integers(0, 4 * int(pileup), n)
    data["sums/hw"][:, 2] = rng.integers(0, 10 * int(pileup), n)
    if truth:  # a signal: leptons whose L1 pT is the generated one smeared
        objs = {name: np.zeros((n, *shape), dtype=np.float32) for name, (shape, _) in dataset.TRUTH.items()}
        pt = rng.uniform(1, 100, (n, 2)).astype(np.float32)
        objs["truth/egammas"][:, :2, 0] = objs["truth/muons"][:, :2, 0] = pt
        data["objects/egammas"][:, :2, 0] = np.clip(2 * pt + rng.normal(0, 4, pt.shape), 0, 511)
        data["objects/muons"][:, :2, 0] = np.clip(2 * pt + 1 + rng.normal(0, 8, pt.shape), 0, 511)
        objs["truth/sums"][:, 1] = rng.uniform(0, 900, n)
        data["sums/hw"][:, 2] = np.clip(2 * objs["truth/sums"][:, 1] * rng.normal(1, 0.1, n), 0, 4095)
        data |= objs
    return dataset.write(path, dataset.EventSet(data, {"pileup": pileup, "process": "test"}))


def test_report_renders_with_every_image_decoded(tmp_path: Path, chromium: str) -> None:
    zb = {pu: _zero_bias(tmp_path / f"zb{pu}.h5", 20_000, pu, pu) for pu in (40, 60, 80)}
    sig = _zero_bias(tmp_path / "sig.h5", 5_000, 60, 1, truth=True)
    shot = tmp_path / "report.png"
    args = ["report", "--zero-bias", str(zb[60]), "--out", str(tmp_path / "r"), "--signal", str(sig),
            "--pileup-scan", str(zb[40]), "--pileup-scan", str(zb[80]), "--screenshot", str(shot)]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "1000"})
    assert result.exit_code == 0, result.output
    assert "images, all decoded" in result.output
    page = tmp_path / "r" / "report.html"
    html = page.read_text()
    for panel in ("turn_ons", "rate_vs_pileup", "rate_vs_threshold_classic", "efficiencies"):
        assert f'<figure id="{panel}">' in html, panel
    rendered = browser.render(page, tmp_path / "again.png")
    assert rendered.images == rendered.decoded == html.count("<img ")
    assert rendered.colours > 100  # text, tables and plots, not a blank page
    # a page whose image is not a PNG: the browser does not decode it, and the count says so
    broken = tmp_path / "broken.html"
    broken.write_text('<html><body><img src="data:image/png;base64,AAAA"/><p>text</p></body></html>')
    bad = browser.render(broken, tmp_path / "broken.png", height=300)
    assert bad.images == 1 and bad.decoded == 0
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    assert browser.render(blank, tmp_path / "blank.png", height=300).colours == 1
