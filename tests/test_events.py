"""Event generation: detector response, pileup, HDF5 and ADC2021 formats, reproducibility and resuming."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import h5py
import numpy as np
import pytest

from l1t.emulator import calo
from l1t.events import dataset
from l1t.events.detector import Detector
from l1t.events.generate import PROCESS_CODES, Recipe, run
from l1t.events.pileup import overlay
from l1t.events.pythia import ParticleBlock

pytest.importorskip("pythia8mc")


def block(rows: list[list[tuple[int, int, float, float, float]]]) -> ParticleBlock:
    """A particle block from per-event lists of (pid, charge, pT, eta, phi)."""
    counts = [len(r) for r in rows]
    a = np.array([p for r in rows for p in r], dtype=np.float64).reshape(-1, 5)
    return ParticleBlock(
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        a[:, 0].astype(np.int32),
        a[:, 1].astype(np.int8),
        a[:, 2].astype(np.float32),
        a[:, 3].astype(np.float32),
        a[:, 4].astype(np.float32),
    )


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.from_yaml()


def test_photon_lands_in_its_tower_with_ecal_resolution(detector: Detector) -> None:
    n = 4000
    p = block([[(22, 0, 50.0, 0.5, 1.0)]] * n)
    em, had, hf = detector.towers(p, np.random.default_rng(0))
    ieta = np.searchsorted(detector.eta_edges, 0.5) - 1
    iphi = int(1.0 / (2 * np.pi / 72))
    et = em[:, ieta, iphi]
    assert np.allclose(em.sum(axis=(1, 2)), et) and had.sum() == 0 and hf.sum() == 0
    e = 50 * np.cosh(0.5)
    expected_sigma = np.sqrt(0.05**2 / e + 0.01**2)
    assert abs(et.mean() / 50 - 1) < 3 * expected_sigma / np.sqrt(n)
    assert abs(et.std() / 50 / expected_sigma - 1) < 0.05


def test_soft_charged_hadrons_do_not_reach_the_calorimeter(detector: Detector) -> None:
    p = block([[(211, 1, 0.5, 0.1, 0.2), (130, 0, 0.5, 0.1, 0.2), (13, -1, 20.0, 0.3, 0.3)]])
    em, had, _ = detector.towers(p, np.random.default_rng(1))
    assert em.sum() == 0 and had.sum() > 0  # the K0L deposits, the 0.5 GeV pion curls up, the muon is left out
    mu = detector.muons(p, np.random.default_rng(2))
    assert mu.shape == (1, 8, 4) and mu[0, 0, 0] > 0 and mu[0, 1:, 0].sum() == 0


def test_saturation_at_hardware_maxima(detector: Detector) -> None:
    p = block([[(22, 0, 3000.0, 0.1, 0.1), (22, 0, 3000.0, 0.2, 0.1), (13, 1, 2000.0, 0.0, 0.5)]])
    l1 = detector.respond(p, np.random.default_rng(3))
    assert l1.regions.max() <= 1023 and l1.jets[0, 0, 0] <= 2047 and l1.egammas[0, 0, 0] <= 2047
    assert l1.muons[0, 0, 0] == 511  # 9-bit muon hwPt saturates
    assert l1.sums[0, 0] <= 4095


def test_layer2_jet_calibration_is_an_integer_lut_and_resorts() -> None:
    """calibrate_jets: hwPt x the multiplier word of its raw-hwPt bin >> 9, saturated, a jet never calibrated to 0,
    then sorted again (a bin edge can reorder two jets); empty slots stay empty and last."""
    edges, words = np.array([0, 60, 100]), np.array([2 * 512, 768, 512 + 1])  # factors 2, 1.5, 1 + 1/512
    jets = np.array([[[99, 3, 4], [90, 5, 6], [61, -7, 8], [0, 0, 0]], [[1500, 1, 1], [1, 2, 2], [0, 0, 0], [0, 0, 0]]])
    out = calo.calibrate_jets(jets.astype(np.int32), edges, words, pt_max=2047)
    # 99 -> 99*768>>9 = 148, 90 -> 135, 61 -> 91; 1500 -> 1500*513>>9 = 1502 (no saturation); 1 -> 2
    np.testing.assert_array_equal(out[0], [[148, 3, 4], [135, 5, 6], [91, -7, 8], [0, 0, 0]])
    np.testing.assert_array_equal(out[1, :2], [[1502, 1, 1], [2, 2, 2]])
    swapped = calo.calibrate_jets(np.array([[[100, 1, 1], [99, 2, 2]]], dtype=np.int32), edges, words, 2047)
    np.testing.assert_array_equal(swapped[0], [[148, 2, 2], [100, 1, 1]])  # 99 x 1.5 passes 100 x 1.002
    one = np.array([[[2000, 0, 0]]], dtype=np.int32)
    assert calo.calibrate_jets(one, edges, np.array([1024] * 3), 2047)[0, 0, 0] == 2047  # saturated
    assert calo.calibrate_jets(one // 2000, edges, np.array([100] * 3), 2047)[0, 0, 0] == 1  # a jet stays a jet


def test_overlay_structure() -> None:
    rng = np.random.default_rng(4)
    lib = block([[(211, 1, 1.0 + i, 0.0, 0.0)] * (i % 3 + 1) for i in range(50)])
    sig = block([[(11, -1, 100.0, 0.0, 0.0)]] * 20)
    crossings, npu = overlay(lib, 20, 5.0, rng, signal=sig)
    assert crossings.n_events == 20 and len(npu) == 20
    counts = np.diff(crossings.offsets)
    first = crossings.offsets[:-1]
    assert np.all(crossings.pid[first] == 11)  # each crossing starts with its signal event
    assert np.all((npu <= counts - 1) & (counts - 1 <= 3 * npu))  # library events hold 1 to 3 particles
    zb, npu0 = overlay(lib, 2000, 5.0, np.random.default_rng(5))
    assert abs(npu0.mean() - 5.0) < 0.15 and zb.n_events == 2000


@pytest.fixture(scope="module")
def library() -> ParticleBlock:
    from l1t.events.pythia import generate

    return generate("minbias", 150, seed=11)


def test_pileup_scaling(detector: Detector, library: ParticleBlock) -> None:
    """Tower ET and object multiplicities grow with pileup; ETT roughly in proportion."""
    out = {}
    for mu in (10, 40):
        particles, _ = overlay(library, 300, mu, np.random.default_rng(mu))
        l1 = detector.respond(particles, np.random.default_rng(mu + 1))
        out[mu] = (l1.sums[:, 3].mean(), (l1.egammas[:, :, 0] > 0).sum(axis=1).mean(), l1.regions.mean())
    ett10, eg10, reg10 = out[10]
    ett40, eg40, reg40 = out[40]
    assert 2.5 < ett40 / ett10 < 5.0
    assert eg40 > eg10 and reg40 > 2.5 * reg10


def test_objects_are_sorted(detector: Detector, library: ParticleBlock) -> None:
    particles, _ = overlay(library, 200, 30, np.random.default_rng(6))
    l1 = detector.respond(particles, np.random.default_rng(7))
    for objs in (l1.jets, l1.egammas, l1.taus, l1.muons):
        assert np.all(np.diff(objs[:, :, 0].astype(np.int64), axis=1) <= 0)


def _small(process: str = "minbias", **kw) -> Recipe:
    return Recipe(
        process,
        kw.pop("events", 60),
        kw.pop("pileup", 8.0),
        kw.pop("seed", 3),
        kw.pop("chunk", 25),
        kw.pop("library", 60),
    )


def test_reproducible_and_resumable(tmp_path: Path) -> None:
    recipe = _small()
    a = dataset.read(run(recipe, tmp_path / "a.h5", workers=1))
    b = dataset.read(run(recipe, tmp_path / "b.h5", workers=2))
    # an interrupted run (after the library and one chunk): the rerun finishes the rest
    parts = tmp_path / "c.h5.parts"

    def interrupt(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(recipe, tmp_path / "c.h5", workers=1, progress=interrupt)
    assert (parts / "minbias_0000.npz").is_file() and (parts / "chunk_00000.npz").is_file()
    assert not (tmp_path / "c.h5").exists()
    c = dataset.read(run(recipe, tmp_path / "c.h5", workers=1))
    for name in dataset.SCHEMA:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        np.testing.assert_array_equal(a[name], c[name], err_msg=name)
    assert not parts.exists()
    assert a.attrs["process"] == "minbias" and a.attrs["pileup"] == 8.0 and a.attrs["seed"] == 3
    assert a.attrs["generator"].startswith("pythia8mc 8.317")
    other = dataset.read(run(_small(seed=4), tmp_path / "d.h5", workers=1))
    assert not np.array_equal(other["regions/et"], a["regions/et"])


def test_signal_with_pileup(tmp_path: Path) -> None:
    e = dataset.read(run(_small("a_4l", events=20, chunk=20), tmp_path / "a4l.h5", workers=1))
    leptons = (e["objects/muons"][:, :, 0] > 0).sum(axis=1) + (e["objects/egammas"][:, :, 0] >= 20).sum(axis=1)
    assert leptons.mean() > 1.5  # A -> ZZ -> 4 leptons
    # the hard event's generator-level leptons: four per event inside the tracker's reach, most of them
    t = dataset.read_truth(tmp_path / "a4l.h5")
    prompt = (t["truth/muons"][..., 0] > 5).sum(axis=1) + (t["truth/egammas"][..., 0] > 5).sum(axis=1)
    assert prompt.mean() > 3
    found = t["truth/muons"][:, 0, 0] > 20  # L1 finds the leading muon near its generated pT
    l1 = (e["objects/muons"][found, 0, 0] - 1) / 2
    assert np.median(np.abs(l1 / t["truth/muons"][found, 0, 0] - 1)) < 0.2
    assert np.all(e["truth/process"] == PROCESS_CODES["a_4l"]) and e.attrs["processes"][3] == "a_4l"


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(_small(events=40, chunk=40), tmp_path_factory.mktemp("ev") / "zb.h5", workers=1)


def test_bad_files_name_file_dataset_and_value(small_file: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(small_file.read_bytes()[: small_file.stat().st_size // 2])
    with pytest.raises(dataset.DatasetError, match=r"truncated\.h5"):
        dataset.read(truncated)
    bad = tmp_path / "bad.h5"
    bad.write_bytes(small_file.read_bytes())
    with h5py.File(bad, "r+") as f:
        f["objects/muons"][3, 0, 0] = 999
    with pytest.raises(dataset.DatasetError, match=r"'objects/muons' field 0: value 999 at event 3 outside \[0, 511\]"):
        dataset.read(bad)
    with h5py.File(bad, "r+") as f:
        del f["regions/et"]
        f.create_dataset("regions/et", data=np.zeros((40, 14, 18), dtype=np.uint16))
    with pytest.raises(dataset.DatasetError, match=r"'regions/et' has shape \(40, 14, 18\)"):
        dataset.read(bad)
    with h5py.File(bad, "r+") as f:
        f.attrs["format"] = "other"
    with pytest.raises(dataset.DatasetError, match="attribute 'format'"):
        dataset.read(bad)


def test_adc2021_round_trip(small_file: Path, tmp_path: Path) -> None:
    e = dataset.read(small_file)
    back = dataset.import_adc2021(dataset.export_adc2021(tmp_path / "adc.h5", e))
    with h5py.File(tmp_path / "adc.h5") as f:
        assert f["Particles"].shape == (40, 19, 4)
    np.testing.assert_array_equal(back["objects/jets"][:, :10], e["objects/jets"][:, :10])
    np.testing.assert_array_equal(back["objects/egammas"][:, :4, :3], e["objects/egammas"][:, :4, :3])
    np.testing.assert_array_equal(back["objects/muons"][:, :4, :3], e["objects/muons"][:, :4, :3])
    np.testing.assert_array_equal(back["sums/hw"][:, :2], e["sums/hw"][:, :2])
    with h5py.File(tmp_path / "adc.h5", "r+") as f:
        f["Particles"][5, 2, 1] = np.nan
    with pytest.raises(dataset.DatasetError, match="non-finite value at event 5, object 2, field 1"):
        dataset.import_adc2021(tmp_path / "adc.h5")


def test_tagger_jets_with_tower_and_particle_constituents(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    from l1t.events import jets
    from l1t.events.dataset import DatasetError

    top = run(Recipe("zprime_tt", 120, 5.0, 3, 60, 50, output="jets"), tmp_path / "top.h5", workers=1)
    qcd = run(Recipe("qcd_boosted", 120, 5.0, 4, 60, 50, output="jets"), tmp_path / "qcd.h5", workers=1)
    d_top, attrs = jets.read(top)
    d_qcd, _ = jets.read(qcd)
    assert attrs["process"] == "zprime_tt" and len(d_top["jets/label"]) > 100 and d_top["jets/label"].all()
    assert len(d_qcd["jets/label"]) > 100 and not d_qcd["jets/label"].any()
    for d in (d_top, d_qcd):
        assert (d["jets/hw"][:, 0] >= calo.TAGGER_JET_PT_MIN / 0.5).all()
        towers = d["constituents/hw"]
        assert (np.diff(towers[:, :, 0], axis=1) <= 0).all() and (towers[:, :, 3] <= towers[:, :, 0]).all()
        assert (towers[:, 0, 0] > 0).all()
        parts = d["particles/features"]
        assert (np.diff(parts[:, :, 0], axis=1) <= 0).all()
        present = parts[:, :, 0] > 0
        assert (np.hypot(parts[:, :, 1], parts[:, :, 2])[present] < jets.RADIUS).all()
    # boosted tops spread over more towers than QCD jets of the same pT (a three-prong decay)
    spread = [((d["constituents/hw"][:, :, 0] > 10).sum(axis=1)).mean() for d in (d_top, d_qcd)]
    assert spread[0] > spread[1]
    with h5py.File(top, "r+") as f:
        f["particles/features"][3, 2, 1] = np.nan
    with pytest.raises(DatasetError, match=r"top.h5: dataset 'particles/features': non-finite value at jet 3"):
        jets.read(top)


def test_event_files_carry_the_tagger_towers_of_the_two_leading_jets(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    from l1t.events import jets

    recipe = Recipe("qcd_boosted", 80, 0.0, 5, 40)
    events = dataset.read(run(recipe, tmp_path / "ev.h5", workers=1))
    jet_file, _ = jets.read(run(dataclasses.replace(recipe, output="jets"), tmp_path / "jets.h5", workers=1))
    lead = events["objects/jets"][:, :2]
    towers = events["objects/jet_towers"]
    assert ((towers[..., 0, 0] > 0) == (lead[..., 0] > 0)).all()
    # the same crossings through the same towers: the jet file's constituents are the event file's jet towers
    np.testing.assert_array_equal(jet_file["constituents/hw"], towers[calo.tagger_jets(lead)])
    np.testing.assert_array_equal(jet_file["jets/hw"], lead[calo.tagger_jets(lead)])
    # a version-1 file (no jet towers) is still read, and asking for the towers names the version
    with h5py.File(tmp_path / "ev.h5", "r+") as f:
        del f["objects/jet_towers"]
        f.attrs["version"] = 1
    assert "objects/jet_towers" not in dataset.read(tmp_path / "ev.h5").data
    with pytest.raises(dataset.DatasetError, match="format version 1 has no dataset 'objects/jet_towers'"):
        dataset.read(tmp_path / "ev.h5", fields=["objects/jet_towers"])


def test_words_stored_narrow_and_read_in_schema_types(tmp_path) -> None:
    """Version 3 stores each dataset in the narrowest integer type of its ranges; read returns the schema's types
    with the same values, and a version-2 file (int32 on disk) reads the same."""
    import h5py

    rng = np.random.default_rng(0)
    n = 50
    data = {}
    for name, (shape, dtype, ranges) in dataset.SCHEMA.items():
        cols = [
            rng.integers(lo, hi, (n, *shape[:-1], 1) if len(ranges) > 1 else (n, *shape), endpoint=True)
            for lo, hi in ranges
        ]
        data[name] = (np.concatenate(cols, axis=-1) if len(ranges) > 1 else cols[0]).astype(dtype)
    path = dataset.write(tmp_path / "ev.h5", dataset.EventSet(data, {"process": "test"}))
    with h5py.File(path) as f:
        assert f["objects/jets"].dtype == np.int16 and f["sums/hw"].dtype == np.uint16
        assert f.attrs["version"] == dataset.VERSION == 5
    back = dataset.read(path)
    for name, (_, dtype, _) in dataset.SCHEMA.items():
        assert back[name].dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(back[name], data[name], err_msg=name)
    with h5py.File(path, "a") as f:  # the same content as a version-2 file wrote it
        f.attrs["version"] = 2
        for name in ("objects/jets", "sums/hw"):
            del f[name]
            f.create_dataset(name, data=data[name].astype(np.int32))
    old = dataset.read(path)
    for name in dataset.SCHEMA:
        np.testing.assert_array_equal(old[name], data[name], err_msg=name)
    blocks = [{k: v.copy() for k, v in b.items()} for b in dataset.read_blocks(path, 3, 47, block=8)]
    assert [len(b["sums/hw"]) for b in blocks] == [8, 8, 8, 8, 8, 4]
    for name in dataset.SCHEMA:  # streamed blocks of a version-2 file: the same words in schema types
        joined = np.concatenate([b[name] for b in blocks])
        assert joined.dtype == np.dtype(dataset.SCHEMA[name][1]), name
        np.testing.assert_array_equal(joined, data[name][3:47], err_msg=name)


def test_read_blocks_streams_the_file_in_reused_buffers(small_file: Path, tmp_path: Path) -> None:
    """Blocks of any size join into ``read``'s arrays; they reuse one buffer per dataset; a bad value is named
    by its event number in the file, not in the block."""
    whole = dataset.read(small_file, fields=["objects/jets", "objects/muons"])
    n = len(whole)
    for block in (1, 7, n, 4 * n):
        parts = [
            {k: v.copy() for k, v in b.items()}
            for b in dataset.read_blocks(small_file, fields=list(whole.data), block=block)
        ]
        assert sorted(parts[0]) == ["objects/jets", "objects/muons", "sums/hw"]
        for name in parts[0]:
            np.testing.assert_array_equal(np.concatenate([p[name] for p in parts]), whole[name], err_msg=name)
    stream = dataset.read_blocks(small_file, fields=["objects/jets"], block=5)
    first = next(stream)["objects/jets"]
    second = next(stream)["objects/jets"]
    assert np.shares_memory(first, second)
    bad = tmp_path / "bad.h5"
    bad.write_bytes(small_file.read_bytes())
    with h5py.File(bad, "r+") as f:
        f["objects/muons"][13, 0, 0] = 999
    with pytest.raises(dataset.DatasetError, match=r"bad\.h5: dataset 'objects/muons' field 0: value 999 at event 13 "):
        list(dataset.read_blocks(bad, block=5))
    with pytest.raises(dataset.DatasetError, match="at event 13 "):
        dataset.read(bad, 10, 20)
    with h5py.File(bad, "r+") as f:  # every field has its own range: eta below, phi above
        f["objects/muons"][13, 0, 0] = 10
        f["objects/muons"][17, 7, 1] = -300
        f["objects/jets"][21, 11, 2] = 144
    with pytest.raises(dataset.DatasetError, match=r"'objects/muons' field 1: value -300 at event 17 outside"):
        list(dataset.read_blocks(bad, block=4))
    with pytest.raises(dataset.DatasetError, match=r"'objects/jets' field 2: value 144 at event 21 outside"):
        list(dataset.read_blocks(bad, 18, None, ["objects/jets"], block=3))
    with h5py.File(bad, "r+") as f:
        del f["objects/jets"]
        f.create_dataset("objects/jets", data=np.zeros((n, 12, 3), dtype=np.float32))
        del f["objects/taus"]
        f.create_dataset("objects/taus", data=np.zeros((n, 12, 3), dtype=np.int16))
    with pytest.raises(dataset.DatasetError, match=r"'objects/jets' has dtype float32, expected integers"):
        list(dataset.read_blocks(bad, fields=["objects/jets"]))
    with pytest.raises(dataset.DatasetError, match=r"'objects/taus' has shape \(\d+, 12, 3\), expected \(N, 12, 4\)"):
        list(dataset.read_blocks(bad, fields=["objects/taus"]))


@pytest.mark.parametrize("codec", dataset.COMPRESSIONS)
def test_every_codec_round_trips(tmp_path, codec) -> None:
    """Event files read back identically whatever the codec; the file records the filter it used."""
    import h5py

    n = 30
    data = {name: np.zeros((n, *shape), dtype=dtype) for name, (shape, dtype, _) in dataset.SCHEMA.items()}
    rng = np.random.default_rng(1)
    data["objects/jets"][:, :, 0] = rng.integers(0, 2048, (n, 12))
    data["sums/hw"][:, 3] = rng.integers(0, 4096, n)
    path = dataset.write(tmp_path / f"{codec}.h5", dataset.EventSet(data, {"process": "test"}), compression=codec)
    back = dataset.read(path)
    for name in dataset.SCHEMA:
        np.testing.assert_array_equal(back[name], data[name], err_msg=f"{codec}: {name}")
    with h5py.File(path) as f:
        filters = f["objects/jets"]._filters
    assert ("gzip" in filters) == (codec == "gzip")
    assert (str(32001) in filters) == (codec in ("lz4hc", "zstd"))  # 32001: the registered Blosc filter id
    assert (not filters) == (codec == "none")


def test_unknown_codec_names_the_choices(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown compression 'brotli'; choose from lz4hc, zstd, gzip, none"):
        dataset.write(tmp_path / "x.h5", dataset.EventSet({}, {}), compression="brotli")
    from l1t.events.generate import Recipe

    with pytest.raises(ValueError, match="unknown compression 'brotli'"):
        Recipe("minbias", 10, compression="brotli")
