"""EMPv2 pattern files, link packing and the board-capture comparison (no HDL, no hls4ml)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from l1t.emulator import formats
from l1t.emulator.board import compare_tx, decode_rx, encode_rx, expected_tx
from l1t.emulator.formats import LinkLayout
from l1t.emulator.nn import SPEC_FORMAT, SPEC_VERSION, Network
from l1t.emulator.patterns import PatternError, Patterns, read_empv2, write_empv2


def _dense(name: str, n_out: int) -> dict:
    types = {"result_t": "ap_fixed<19,11>", "weight_t": "ap_fixed<6,3>", "bias_t": "ap_fixed<10,7>"}
    return {
        "name": name,
        "op": "dense",
        "inputs": ["x"],
        "shape": [n_out],
        "types": types | {"accum_t": "ap_fixed<19,11>"},
        "arrays": {"weight": f"{name}/weight", "bias": f"{name}/bias"},
    }


def _spec() -> tuple[dict, dict[str, np.ndarray]]:
    """20 inputs of 13 bits (260 bits: five 64-bit words), two outputs of 7 and 5 words of 19 bits."""
    spec = {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "inputs": [{"name": "x", "shape": [20], "type": "ap_fixed<13,5>"}],
        "outputs": ["mu", "logvar"],
        "layers": [_dense("mu", 7), _dense("logvar", 5)],
    }
    rng = np.random.default_rng(0)
    arrays = {}
    for name, n in (("mu", 7), ("logvar", 5)):
        arrays[f"{name}/weight"] = rng.integers(-32, 32, (20, n))
        arrays[f"{name}/bias"] = rng.integers(-512, 512, n)
    return spec, arrays


@pytest.fixture(scope="module")
def net() -> Network:
    return Network(*_spec())


def events(net: Network, n: int, seed: int = 1) -> dict[str, np.ndarray]:
    _, shape, t = net.inputs[0]
    raw = np.random.default_rng(seed).integers(t.raw_min, t.raw_max, (n, *shape), endpoint=True)
    raw[0], raw[1] = t.raw_min, t.raw_max
    return {"x": raw}


def test_words_round_trip_across_word_boundaries() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(-(2**18), 2**18, (50, 7))
    b = rng.integers(0, 2**5, (50, 11))
    words = formats.to_words([(a, 19), (b, 5)], 4)
    assert words.dtype == np.uint64 and words.shape == (50, 4)
    got_a, got_b = formats.from_words(words, [(7, 19, True), (11, 5, False)])
    np.testing.assert_array_equal(got_a, a)
    np.testing.assert_array_equal(got_b, b)
    # element 0 in the least significant bits of word 0
    assert int(words[0, 0]) & (2**19 - 1) == a[0, 0] % 2**19
    assert formats.field_at([(7, 19, True), (11, 5, False)], ["a", "b"], 7 * 19 + 6) == ("b", 1, 1)


@pytest.mark.parametrize("width", [1, 33, 63, 64])
def test_bit_strings_round_trip_signed_words_of_every_width(width: int) -> None:
    """Packed buses (co-simulation captures) back to raw words: signed extremes of every width, 64 bits included."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    raw = np.array([[lo, hi, -1 if width > 1 else 0, 0]], dtype=np.int64)
    packed = formats.pack_bits(raw, width)
    np.testing.assert_array_equal(formats.unpack_bits(packed, 4, width, signed=True), raw)


def test_link_layout() -> None:
    layout = LinkLayout.for_bits(912, frames=2)  # 57 x 16 bits
    assert (layout.n_words, layout.links, layout.frames) == (15, 8, 2)
    words = np.arange(30, dtype=np.uint64).reshape(2, 15)
    frames = layout.to_frames(words)
    assert frames.shape == (4, 8) and frames[1, 0] == 8 and frames[1, 7] == 0  # unused slot
    np.testing.assert_array_equal(layout.from_frames(frames), words)


def test_pattern_file_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    shape = (40, 3)
    p = Patterns(
        links=[0, 1, 7],
        data=rng.integers(0, 2**63, shape, dtype=np.uint64) * np.uint64(2) + np.uint64(1),
        valid=rng.random(shape) < 0.8,
        start_of_packet=rng.random(shape) < 0.2,
        end_of_packet=rng.random(shape) < 0.2,
        start_of_orbit=rng.random(shape) < 0.1,
        strobe=np.ones(shape, dtype=bool),
        board="test",
    )
    p.strobe[3, 2] = False  # link 7 gets a strobe column
    path = write_empv2(tmp_path / "p.txt", p)
    text = path.read_text().splitlines()
    assert text[0] == "ID: test" and text[4].startswith("Frame 0000  ")
    q = read_empv2(path)
    assert q.links == p.links and q.board == "test"
    for field in ("data", "valid", "start_of_packet", "end_of_packet", "start_of_orbit", "strobe"):
        np.testing.assert_array_equal(getattr(q, field), getattr(p, field), err_msg=field)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda ls: ls[1:], "p.txt:1:1: expected the board line"),
        (lambda ls: [ls[0], "Metadata: nope", *ls[2:]], "p.txt:2:1: expected the metadata line"),
        (lambda ls: [*ls[:5], ls[5].replace("  0011 ", "  0211 ", 1), *ls[6:]], "p.txt:6:15: cell '0211 "),
        (lambda ls: [*ls[:5], ls[5][:-6] + "zz" + ls[5][-4:], *ls[6:]], "p.txt:6:38: cell '0011 0000000000zz0003'"),
        (lambda ls: [*ls[:5], ls[5].rsplit("  ", 1)[0], *ls[6:]], "p.txt:6:13: 1 cells for 2 links"),
        (lambda ls: [*ls[:5], ls[6], *ls[7:]], "p.txt:6:1: expected 'Frame 0001'"),
        (lambda ls: ls[:4], "no frames"),
    ],
)
def test_malformed_pattern_files_name_line_and_column(tmp_path: Path, edit, message: str) -> None:
    p = Patterns.from_packets(np.arange(8, dtype=np.uint64).reshape(4, 2), 2, [0, 1])
    path = write_empv2(tmp_path / "p.txt", p)
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(PatternError, match=message.replace("(", r"\(")):
        read_empv2(path)


@pytest.mark.parametrize("frames", [1, 3])
def test_rx_decodes_to_the_inputs(net: Network, frames: int, tmp_path: Path) -> None:
    x = events(net, 200)
    rx = read_empv2(write_empv2(tmp_path / "rx.txt", encode_rx(net, x, frames=frames)))
    got, f = decode_rx(net, rx)
    assert f == frames
    np.testing.assert_array_equal(got["x"], x["x"])


def _capture(net: Network, x: dict[str, np.ndarray], latency: int) -> Patterns:
    """A capture as a board writes it: idle (invalid) frames for the latency, then one packet per event."""
    tx = expected_tx(net, net.run(x, raw=True), frames=1)
    pad = np.zeros((latency, len(tx.links)), dtype=bool)
    return Patterns(
        tx.links,
        np.concatenate([np.zeros((latency, len(tx.links)), np.uint64), tx.data]),
        np.concatenate([pad, tx.valid]),
        np.concatenate([pad, tx.start_of_packet]),
        np.concatenate([pad, tx.end_of_packet]),
        np.concatenate([pad, tx.start_of_orbit]),
        np.concatenate([~pad, tx.strobe]),
    )


def test_capture_with_latency_compares_clean(net: Network) -> None:
    x = events(net, 300)
    report = compare_tx(net, expected_tx(net, net.run(x, raw=True), 1), _capture(net, x, latency=9))
    assert report.bad_frames == 0 and report.events == 300, report.summary()


def test_one_flipped_bit_names_frame_link_and_field(net: Network) -> None:
    x = events(net, 300)
    captured = _capture(net, x, latency=9)
    # word 2 holds bits 128..191: mu[6] is bits 114..132, logvar[0] bits 133..151
    captured.data[9 + 123, 2] ^= np.uint64(1 << 10)  # bit 138 of event 123: logvar[0], bit 5
    report = compare_tx(net, expected_tx(net, net.run(x, raw=True), 1), captured)
    assert report.bad_frames == 1
    f = report.first
    assert (f.frame, f.link, f.event, f.field) == (132, 2, 123, "logvar[0]")
    expected = net.run(x, raw=True)["logvar"][123, 0]
    assert f.expected == expected and (f.got - f.expected) % 2**19 in (32, 2**19 - 32)
    assert "first at frame 132, link 2 (event 123), logvar[0]" in report.summary()


def test_cli_compare_round_trip_and_corruption(net: Network, tmp_path: Path) -> None:
    from l1t.cli import app

    spec = tmp_path / "spec"
    spec.mkdir()
    spec_dict, arrays = _spec()
    (spec / "spec.json").write_text(json.dumps(spec_dict))
    np.savez(spec / "arrays.npz", **arrays)
    x = events(net, 100)
    write_empv2(tmp_path / "rx.txt", encode_rx(net, x))
    write_empv2(tmp_path / "tx.txt", _capture(net, x, latency=4))
    runner = CliRunner()
    args = ["compare", "--rx", str(tmp_path / "rx.txt"), "--tx", str(tmp_path / "tx.txt"), "--model", str(spec)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "100 events, 100 frames, 0 mismatched frames" in result.output
    lines = (tmp_path / "tx.txt").read_text().splitlines()
    i = 4 + 4 + 57  # header, latency frames, event 57
    lines[i] = lines[i][:-1] + f"{int(lines[i][-1], 16) ^ 1:x}"  # one bit of the last link's word
    (tmp_path / "tx.txt").write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "first at frame 61, link 3 (event 57), logvar[3]" in " ".join(result.output.split())
    result = runner.invoke(app, [*args[:-1], str(tmp_path / "nowhere")])
    assert result.exit_code == 2


@pytest.mark.parametrize("kind", list(formats.OBJECT_WORDS))
def test_object_words_round_trip(kind: str) -> None:
    rng = np.random.default_rng(9)
    cols = []
    for bits, signed in formats.OBJECT_WORDS[kind]:
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        col = rng.integers(lo, hi, (30, 6), endpoint=True)
        col[0, 0], col[0, 1] = lo, hi
        cols.append(col)
    objs = np.stack(cols, axis=-1)
    words = formats.pack_objects(objs, kind)
    assert words.dtype == np.uint64 and int(words.max()) < 2**63
    np.testing.assert_array_equal(formats.unpack_objects(words, kind), objs)
    objs[4, 2, 0] = -1 if not formats.OBJECT_WORDS[kind][0][1] else 1 << 20
    with pytest.raises(ValueError, match=f"{kind} field 0: value"):
        formats.pack_objects(objs, kind)
