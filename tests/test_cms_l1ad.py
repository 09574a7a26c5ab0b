"""`l1t convert --from cms-l1ad`: the CMS L1 anomaly-detection parquet word for word into l1t event files, named
errors on bad input, and `l1t compare-decisions`: the menu's emulated decisions against the recorded ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("pyarrow")

from l1t.cli import app
from l1t.events import dataset
from tests import l1ad_files
from tests.l1ad_files import BRANCHES, CAPACITY

MENU = {
    "seeds": {
        "L1_SingleMu22": {"type": "single_muon", "pt": 22.0, "quality": "single"},
        "L1_SingleEG36er2p5": {"type": "single_egamma", "pt": 36.0, "eta_max": 2.5},
        "L1_HTT360er": {"type": "ht", "pt": 360.0},
        "L1_SingleJet180": {"type": "single_jet", "pt": 180.0},
        "L1_ETM150": {"type": "met", "pt": 150.0},
    }
}


def ugt_decisions(cols: dict[str, list]) -> dict[str, list[bool]]:
    """The seeds as the uGT's menu code writes them, row by row on the parquet words (an independent reference):
    MU22 at IEt >= 45 with quality LUT 0xF000; EG36 at IEt >= 72 in the eta window -58..57; HTT >= 720; JET180 at
    IEt >= 360."""
    n = len(cols["run"])
    mu = [
        any(
            pt >= 45 and (0xF000 >> q) & 1
            for pt, q in zip(cols["muons_muonIEt"][i], cols["muons_muonQual"][i], strict=True)
        )
        for i in range(n)
    ]
    eg = [
        any(
            pt >= 72 and -58 <= eta <= 57
            for pt, eta in zip(cols["egammas_egIEt"][i], cols["egammas_egIEta"][i], strict=True)
        )
        for i in range(n)
    ]
    return {
        "L1_SingleMu22": mu,
        "L1_SingleEG36er2p5": eg,
        "L1_HTT360er": [cols["HT_Et"][i][0] >= 720 for i in range(n)],
        "L1_SingleJet180": [any(pt >= 360 for pt in cols["jets_jetIEt"][i]) for i in range(n)],
    }


def test_convert_keeps_every_word_and_the_record(tmp_path: Path) -> None:
    cols = [l1ad_files.events(300, 1), l1ad_files.events(200, 2, first_event=1000)]
    seeds = ugt_decisions(cols[0])
    files = [
        l1ad_files.write(tmp_path / "a" / "train-00000.parquet", cols[0], seeds),  # decisions in seeds/<name>
        l1ad_files.write(  # decisions in the events file, one seed fewer
            tmp_path / "b" / "train-00000.parquet",
            cols[1] | {k: v for k, v in ugt_decisions(cols[1]).items() if k != "L1_SingleJet180"},
            types={k: __import__("pyarrow").bool_() for k in seeds},
        ),
    ]
    out = tmp_path / "data.h5"
    result = CliRunner().invoke(app, ["convert", *map(str, files), "--from", "cms-l1ad", "-o", str(out),
                                      "--block", "64"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "500 events" in result.output
    ev = dataset.read(out)
    rec = dataset.read_record(out)
    assert rec.seeds == list(seeds)
    both = {k: cols[0][k] + cols[1][k] for k in cols[0]}
    for i in range(500):
        for coll, branches in BRANCHES.items():
            words = np.array([both[f"{coll}_{b}"][i] for b in branches], dtype=np.int64).T.reshape(-1, len(branches))
            if coll == "muons":  # ordered by hwPt, stable for ties, as l1t's sort
                words = words[np.argsort(-words[:, 0], kind="stable")]
            got = ev[f"objects/{coll}"][i]
            np.testing.assert_array_equal(got[: len(words)], words, err_msg=f"{coll} row {i}")
            assert not got[len(words) :].any() and len(got) == CAPACITY[coll]
        assert list(ev["sums/hw"][i]) == [both[k][i][0] for k in ("MET_Et", "MET_phi", "HT_Et", "ET_Et")]
        assert list(rec.id[i]) == [both[k][i] for k in ("run", "lumi", "event", "bx")]
    np.testing.assert_array_equal(rec.pileup, np.array(both["nPV_True"], np.float32))
    np.testing.assert_array_equal(ev["truth/npu"], np.rint(rec.pileup).astype(np.int16))
    jet = rec.seeds.index("L1_SingleJet180")
    assert (rec.decisions[300:, jet] == dataset.NOT_RECORDED).all()  # the second file did not record it
    for j, name in enumerate(rec.seeds):
        np.testing.assert_array_equal(rec.decisions[:300, j], seeds[name])


def test_compare_decisions_counts_and_names_each_disagreement(tmp_path: Path) -> None:
    cols = l1ad_files.events(400, 3)
    seeds = ugt_decisions(cols)
    flips = {"L1_SingleEG36er2p5": [5, 17], "L1_HTT360er": [0]}  # 1->0 or 0->1 where the words say otherwise
    for name, rows in flips.items():
        for r in rows:
            seeds[name][r] = not seeds[name][r]
    src = l1ad_files.write(tmp_path / "zb" / "valid-00000.parquet", cols, seeds)
    data = tmp_path / "zb.h5"
    runner = CliRunner()
    assert runner.invoke(app, ["convert", str(src), "--from", "cms-l1ad", "-o", str(data)]).exit_code == 0
    menu = tmp_path / "menu.yaml"
    menu.write_text(json.dumps(MENU))
    report = tmp_path / "cmp.json"
    result = runner.invoke(app, ["compare-decisions", str(data), "--menu", str(menu), "--json", str(report)])
    assert result.exit_code == 0, result.output
    r = json.loads(report.read_text())
    assert r["events"] == 400 and r["menu_seeds_not_recorded"] == ["L1_ETM150"]
    for name in ("L1_SingleMu22", "L1_SingleJet180"):  # the words and the uGT's decisions agree everywhere
        assert r["seeds"][name]["agree"] == 400 and r["seeds"][name]["agreement"] == 1.0
    eg, htt = r["seeds"]["L1_SingleEG36er2p5"], r["seeds"]["L1_HTT360er"]
    assert eg["hw_only"] + eg["emu_only"] == 2 and eg["agree"] == 398
    flipped = sorted(i["row"] for i in eg["first_hw_only"] + eg["first_emu_only"])
    assert flipped == [5, 17]
    assert htt["hw_only"] == 0 and htt["emu_only"] == 1  # HT 720 at threshold fires; recorded as not fired
    assert htt["first_emu_only"] == [{"row": 0, "run": 396102, "lumi": 1, "event": 1, "bx": cols["bx"][0]}]
    assert "L1_SingleEG36er2p5" in result.output and "396102:1:1" in result.output
    strict = runner.invoke(app, ["compare-decisions", str(data), "--menu", str(menu), "--strict"])
    assert strict.exit_code == 1


def _broken(cols: dict[str, list], case: str) -> tuple[dict[str, list], dict, str]:
    """One defect per case: (columns, pyarrow types, the expected message)."""
    import pyarrow as pa

    cols = {k: [list(v) if isinstance(v, list) else v for v in vals] for k, vals in cols.items()}
    types: dict = {}
    if case == "missing column":
        del cols["taus_tauIso"]
        return cols, types, r"column 'taus_tauIso' missing"
    if case == "wrong type":
        cols["jets_jetIEt"] = [[float(x) for x in v] for v in cols["jets_jetIEt"]]
        types["jets_jetIEt"] = pa.large_list(pa.float32())
        return cols, types, r"column 'jets_jetIEt' has type large_list<\w+: float>, expected a list of integers"
    if case == "out of range":
        cols["egammas_egIPhi"][7] = [144]
        cols["egammas_egIEt"][7] = [10]
        cols["egammas_egIEta"][7] = [0]
        cols["egammas_egIso"][7] = [0]
        return cols, types, r"column 'egammas_egIPhi', row 7: value 144 outside \[0, 143\]"
    if case == "negative ET":
        cols["MET_Et"][9] = [-4]
        return cols, types, r"column 'MET_Et', row 9: value -4 outside \[0, 4095\]"
    if case == "over capacity":
        for b in BRANCHES["jets"]:
            cols[f"jets_{b}"][4] = [30] * 13
        return cols, types, r"column 'jets_jetIEt', row 4: 13 objects, more than the capacity of 12"
    if case == "unsorted":
        cols["taus_tauIEt"][1] = list(range(1, 13))  # rising
        return cols, types, r"column 'taus_tauIEt', row 1: objects out of Et order \(1 then 2\)"
    if case == "two sums":
        cols["HT_Et"][6] = [5, 6]
        return cols, types, r"column 'HT_Et', row 6: 2 entries, expected exactly 1"
    if case == "uneven lists":
        cols["muons_muonQual"][2] = []
        return cols, types, r"column 'muons_muonQual', row 2: a different object count than column 'muons_muonIEt'"
    if case == "null":
        cols["lumi"][3] = None
        return cols, types, r"column 'lumi', row 3: no value \(null\)"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["missing column", "wrong type", "out of range", "negative ET", "over capacity", "unsorted", "two sums",
     "uneven lists", "null"],
)  # fmt: skip
def test_bad_files_are_refused_naming_file_column_row_and_value(tmp_path: Path, case: str) -> None:
    cols, types, message = _broken(l1ad_files.events(20, 4), case)
    src = l1ad_files.write(tmp_path / "in" / "bad.parquet", cols, types=types)
    out = tmp_path / "o.h5"
    result = CliRunner().invoke(app, ["convert", str(src), "--from", "cms-l1ad", "-o", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert str(src) in text.replace(" ", "") or str(src) in text
    import re

    assert re.search(message, text), text
    assert "Traceback" not in result.output and not out.exists()  # nothing half-written


def test_seed_files_that_do_not_line_up_are_refused(tmp_path: Path) -> None:
    cols = l1ad_files.events(30, 5)
    src = l1ad_files.write(tmp_path / "in" / "x.parquet", cols, ugt_decisions(cols))
    short = l1ad_files.events(29, 5)
    l1ad_files.write(tmp_path / "other" / "x.parquet", short, ugt_decisions(short))
    (tmp_path / "other" / "seeds" / "x.parquet").replace(tmp_path / "in" / "seeds" / "x.parquet")
    result = CliRunner().invoke(app, ["convert", str(src), "--from", "cms-l1ad", "-o", str(tmp_path / "o.h5")])
    assert result.exit_code == 2 and "29 rows" in result.output, result.output


def test_report_on_converted_real_data_shows_provenance_and_data_vs_emulator(tmp_path: Path) -> None:
    """`l1t report --zero-bias` on converted CMS L1 AD and ADC2021 files: rates from the recorded words; for the
    CMS file the runs, lumi sections and pileup, and the default menu's seeds against the recorded decisions."""
    from tests.test_convert import adc_particles, write_adc

    cols = l1ad_files.events(500, 6)
    cols["run"][250:] = [398183] * 250
    src = l1ad_files.write(tmp_path / "zb" / "train-00000.parquet", cols, ugt_decisions(cols))
    adc = write_adc(tmp_path / "adc.h5", adc_particles(300, 7))
    runner = CliRunner()
    for fmt, path, out in (("cms-l1ad", src, "l1ad.h5"), ("adc2021", adc, "adc_ev.h5")):
        result = runner.invoke(app, ["convert", str(path), "--from", fmt, "-o", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", "--zero-bias", str(tmp_path / "l1ad.h5"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    prov = results["provenance"]
    assert prov["crossings"] == 500 and set(prov["runs"]) == {"396102", "398183"}
    assert prov["runs"]["396102"] == {"crossings": 250, "lumi_sections": 36, "first_lumi": 1, "last_lumi": 36}
    assert 40 <= prov["pileup"]["mean"] <= 70 and sum(prov["pileup"]["histogram"]["counts"]) == 500
    cmp = results["data_vs_emulator"]
    assert set(cmp["seeds"]) == {"L1_SingleMu22", "L1_SingleEG36er2p5", "L1_HTT360er", "L1_SingleJet180"}
    assert all(r["agreement"] == 1.0 and r["events"] == 500 for r in cmp["seeds"].values())  # the 2025 definitions
    assert "L1_ETM150" in cmp["menu_seeds_not_recorded"]
    fired = sum(ugt_decisions(cols)["L1_SingleJet180"])
    assert results["seeds"]["L1_SingleJet180"]["rate_hz"] == pytest.approx(11245.6 * 2544 * fired / 500)
    page = (tmp_path / "r" / "report.html").read_text()
    assert "Data vs emulator" in page and "398183" in page and "L1_SingleEG36er2p5" in page
    result = runner.invoke(app, ["report", "--zero-bias", str(tmp_path / "adc_ev.h5"), "--out", str(tmp_path / "r2")])
    assert result.exit_code == 0, result.output
    assert "provenance" not in json.loads((tmp_path / "r2" / "results.json").read_text())["results"]


def test_many_inputs_convert_in_parallel_on_dask_as_in_sequence(tmp_path: Path) -> None:
    from l1t.events.convert import convert

    files = [
        l1ad_files.write(tmp_path / f"in{i}" / "train-00000.parquet", c, ugt_decisions(c))
        for i, c in enumerate(l1ad_files.events(150 + 10 * i, 20 + i, first_event=1000 * i) for i in range(3))
    ]
    seen: list[int] = []
    assert convert("cms-l1ad", files, tmp_path / "dask.h5", workers=2, progress=seen.append) == 480
    assert sorted(seen) == [150, 160, 170]
    assert convert("cms-l1ad", files, tmp_path / "one.h5", block=50) == 480
    for name in dataset.SCHEMA:
        np.testing.assert_array_equal(dataset.read(tmp_path / "dask.h5")[name], dataset.read(tmp_path / "one.h5")[name])
    a, b = dataset.read_record(tmp_path / "dask.h5"), dataset.read_record(tmp_path / "one.h5")
    assert a.seeds == b.seeds and (a.id == b.id).all() and (a.decisions == b.decisions).all()
    assert list(a.id[:, 2]) == list(range(150)) + [1000 + i for i in range(160)] + [2000 + i for i in range(170)]
