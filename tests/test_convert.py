"""`l1t convert`: ADC2021 files into l1t event files, block by block, resumable, with named errors on bad input."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from l1t.cli import app
from l1t.events import dataset
from l1t.events.convert import convert

SLOTS = ((slice(1, 5), 2), (slice(5, 9), 3), (slice(9, 19), 4))  # e/gamma, muons, jets and their classes


def adc_particles(n: int, seed: int) -> np.ndarray:
    """ADC2021 ``Particles`` rows: MET always (some rounding to hwMET 0 with a direction), objects pT-ordered."""
    rng = np.random.default_rng(seed)
    p = np.zeros((n, 19, 4), np.float32)
    p[:, 0] = np.stack([rng.exponential(20, n), np.zeros(n), rng.uniform(-3.1, 3.1, n), np.ones(n)], axis=1)
    p[:5, 0, 0] = 0.2  # rounds to hwMET 0; its phi must survive import and export
    for where, cls in SLOTS:
        m = where.stop - where.start
        pt = np.sort(rng.exponential(15, (n, m)), axis=1)[:, ::-1] * (rng.random((n, m)) < 0.5)
        pt[:3, 0] = np.where(pt[:3, 0] > 0, 0.1, 0)  # rounds to hwPt 0: an empty slot
        present = pt > 0
        p[:, where, 0] = pt
        p[:, where, 1] = np.where(present, rng.uniform(-2.5, 2.5, (n, m)), 0)
        p[:, where, 2] = np.where(present, rng.uniform(-3.1, 3.1, (n, m)), 0)
        p[:, where, 3] = np.where(present, cls, 0)
    return p


def write_adc(path: Path, p: np.ndarray) -> Path:
    with h5py.File(path, "w") as f:
        f["Particles"] = p
    return path


def test_convert_streams_files_into_one_event_file(tmp_path: Path) -> None:
    files = [write_adc(tmp_path / f"adc{i}.h5", adc_particles(230, i)) for i in range(2)]
    result = CliRunner().invoke(app, ["convert", *map(str, files), "--from", "adc2021", "-o", str(tmp_path / "o.h5"),
                                      "--block", "64"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "460 events" in result.output
    events = dataset.read(tmp_path / "o.h5")
    assert events.attrs["source"] == "adc2021" and events.attrs["inputs"] == ["adc0.h5", "adc1.h5"]
    whole = [dataset.import_adc2021(f) for f in files]  # the same mapping in one piece
    for name in dataset.SCHEMA:
        np.testing.assert_array_equal(events[name], np.concatenate([w[name] for w in whole]))
    sums = events["sums/hw"]
    assert (sums[:5, 0] == 0).all() and (sums[:5, 1] > 0).any()  # hwMET 0 keeps its direction
    assert not (tmp_path / "o.h5.parts").exists()
    back = dataset.import_adc2021(dataset.export_adc2021(tmp_path / "rt.h5", events))
    for name in dataset.SCHEMA:  # ADC2021 -> l1t -> ADC2021 -> l1t changes no word
        np.testing.assert_array_equal(back[name], events[name])


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda p: p.__setitem__((7, 3, 1), np.nan), r"non-finite value at event 7, object 3, field 1"),
        (lambda p: p.__setitem__((9, 10, 0), -4.0), r"negative pT -4\.0 at event 9, object 10"),
        (lambda p: p.__setitem__((11, 6, 3), 4.0), r"object 6 of event 11 has class 4, its slot holds class 3"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(corrupt, message: str, tmp_path: Path) -> None:
    p = adc_particles(40, 3)
    p[:, 6] = [30.0, 0.5, 0.1, 3.0]  # every event has a second muon
    p[:, 10] = [30.0, 0.5, 0.1, 4.0]  # and a second jet
    corrupt(p)
    bad = write_adc(tmp_path / "bad.h5", p)
    result = CliRunner().invoke(app, ["convert", str(bad), "--from", "adc2021", "-o", str(tmp_path / "o.h5")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{bad}: dataset 'Particles'" in " ".join(result.output.split())
    with pytest.raises(dataset.DatasetError, match=message):
        convert("adc2021", [bad], tmp_path / "o.h5")
    assert not (tmp_path / "o.h5").exists()


def test_malformed_files_and_formats_are_named(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["Objects"] = np.zeros((3, 19, 4))
    with pytest.raises(dataset.DatasetError, match=r"other\.h5: no dataset 'Particles'"):
        convert("adc2021", [tmp_path / "other.h5"], tmp_path / "o.h5")
    write_adc(tmp_path / "shape.h5", np.zeros((3, 18, 4), np.float32))
    with pytest.raises(dataset.DatasetError, match=r"shape\.h5: dataset 'Particles' has shape \(3, 18, 4\)"):
        convert("adc2021", [tmp_path / "shape.h5"], tmp_path / "o2.h5")
    with pytest.raises(ValueError, match="unknown input format 'root'; the formats are adc2021"):
        convert("root", [tmp_path / "shape.h5"], tmp_path / "o3.h5")
    with pytest.raises(dataset.DatasetError, match=r"input file\(s\) not found"):
        convert("adc2021", [tmp_path / "nope.h5"], tmp_path / "o4.h5")


def test_an_interrupted_conversion_resumes(tmp_path: Path) -> None:
    """The second input fails: the first one's part stays, the output does not exist; once the second is fixed, a
    rerun converts only it and the output equals a conversion in one go."""
    good = write_adc(tmp_path / "a.h5", adc_particles(120, 5))
    p = adc_particles(80, 6)
    p[50, 0, 0] = np.inf
    second = write_adc(tmp_path / "b.h5", p)
    with pytest.raises(dataset.DatasetError, match="non-finite value at event 50"):
        convert("adc2021", [good, second], tmp_path / "o.h5", block=32)
    part = tmp_path / "o.h5.parts" / "part_00000.h5"
    assert part.is_file() and not (tmp_path / "o.h5").exists()
    write_adc(second, adc_particles(80, 6))
    seen = []
    assert convert("adc2021", [good, second], tmp_path / "o.h5", block=32, progress=seen.append) == 200
    assert sum(seen) == 200 and seen[0] == 120  # the finished part counted at once, not converted in blocks of 32
    assert not (tmp_path / "o.h5.parts").exists()
    in_one_go = convert("adc2021", [good, second], tmp_path / "again.h5")
    assert in_one_go == 200
    for name in dataset.SCHEMA:
        np.testing.assert_array_equal(dataset.read(tmp_path / "o.h5")[name], dataset.read(tmp_path / "again.h5")[name])
