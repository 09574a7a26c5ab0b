"""Board-level regression: rx pattern file -> emulator -> expected tx links, compared frame by frame with a capture.

``net`` is a network or any block with its interface (``l1t.emulator.trigger.AxoTrigger``: GT inputs in, score and
trigger bits out; ``l1t.emulator.gt.GlobalTrigger``: GT objects in, scores and algorithm bits out). The rx links
carry each event's input vector as one packet (``l1t.emulator.formats`` layout: the inputs' raw words concatenated, cut
into 64-bit words over the fewest links that fit in the packet's frames); the tx links carry the outputs the same
way, one packet per event, in the order of the rx packets. A captured tx file may start
its packets at any frame (the board's latency): packets are found by their start/end-of-packet bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l1t.emulator import formats
from l1t.emulator.formats import Field, LinkLayout
from l1t.emulator.nn import Network
from l1t.emulator.patterns import PatternError, Patterns

__all__ = ["BoardMismatch", "BoardReport", "compare_tx", "decode_rx", "encode_rx", "expected_tx", "io_fields"]


def io_fields(net: Network) -> tuple[list[Field], list[Field]]:
    """(inputs, outputs) as (elements, width, signed) in link order."""
    ins = [(int(np.prod(shape)), t.width, t.signed) for _, shape, t in net.inputs]
    outs = [(int(np.prod(net.output_shape(o))), net.types[o].width, net.types[o].signed) for o in net.output_names]
    return ins, outs


def _layout(fields: list[Field], frames: int) -> LinkLayout:
    return LinkLayout.for_bits(sum(n * w for n, w, _ in fields), frames)


def encode_rx(net: Network, x_raw: dict[str, np.ndarray], frames: int = 1) -> Patterns:
    """Input pattern file content: one packet of ``frames`` frames per event."""
    ins, _ = io_fields(net)
    layout = _layout(ins, frames)
    words = formats.to_words([(x_raw[name], t.width) for name, _, t in net.inputs], layout.n_words)
    return Patterns.from_packets(layout.to_frames(words), frames, list(range(layout.links)), board="l1t-rx")


def decode_rx(net: Network, rx: Patterns) -> tuple[dict[str, np.ndarray], int]:
    """Raw network inputs from an rx pattern file, as the board's input buffers load them; and frames per packet."""
    ins, _ = io_fields(net)
    _, data, frames = rx.packet_frames()
    layout = _layout(ins, frames)
    if len(rx.links) < layout.links:
        raise PatternError(
            f"rx board {rx.board!r}: {len(rx.links)} links, but {layout.n_words} words per event in {frames} frames "
            f"need {layout.links}"
        )
    raws = formats.from_words(layout.from_frames(data[:, : layout.links]), ins)
    return {name: raw.reshape(-1, *shape) for (name, shape, _), raw in zip(net.inputs, raws, strict=True)}, frames


def expected_tx(net: Network, y_raw: dict[str, np.ndarray], frames: int) -> Patterns:
    """Output pattern file content for raw network outputs: one packet of ``frames`` frames per event."""
    _, outs = io_fields(net)
    layout = _layout(outs, frames)
    words = formats.to_words([(y_raw[o], net.types[o].width) for o in net.output_names], layout.n_words)
    return Patterns.from_packets(layout.to_frames(words), frames, list(range(layout.links)), board="l1t-tx")


@dataclass(frozen=True)
class BoardMismatch:
    frame: int  # frame number in the captured file
    link: int
    event: int
    field: str  # e.g. "logvar[3]"
    expected: int  # raw value of the field
    got: int
    expected_word: str
    got_word: str


@dataclass
class BoardReport:
    events: int
    frames_compared: int
    bad_frames: int
    first: BoardMismatch | None

    def summary(self) -> str:
        text = f"{self.events} events, {self.frames_compared} frames, {self.bad_frames} mismatched frames"
        if self.first is not None:
            f = self.first
            text += (
                f"; first at frame {f.frame}, link {f.link} (event {f.event}), {f.field}: expected {f.expected}, "
                f"got {f.got} (word {f.expected_word} vs {f.got_word})"
            )
        return text


def compare_tx(net: Network, expected: Patterns, captured: Patterns) -> BoardReport:
    """Compare packets in order; names the first bad frame, link and output field."""
    _, outs = io_fields(net)
    _, e_data, frames = expected.packet_frames()
    c_index, c_data, c_frames = captured.packet_frames()
    if c_frames != frames:
        raise PatternError(f"captured tx has {c_frames} frames per packet, the rx file {frames}")
    links = len(expected.links)
    if len(captured.links) < links:
        raise PatternError(f"captured tx has {len(captured.links)} links; the outputs need {links}")
    if len(c_data) < len(e_data):
        raise PatternError(f"captured tx has {len(c_data) // frames} packets for {len(e_data) // frames} rx events")
    got = c_data[: len(e_data), :links]
    bad = np.flatnonzero((got != e_data).any(axis=1))
    first = None
    if bad.size:
        row = int(bad[0])
        link = int(np.flatnonzero(got[row] != e_data[row])[0])
        event, slot = divmod(row, frames)
        word = slot * links + link
        diff = int(got[row, link]) ^ int(e_data[row, link])
        bit = 64 * word + (diff & -diff).bit_length() - 1
        names = net.output_names
        name, element, _ = formats.field_at(outs, list(names), bit)
        layout = _layout(outs, frames)
        if name == "padding":
            field, exp_v, got_v = "padding", 0, 1
        else:
            e_vals = formats.from_words(layout.from_frames(e_data[event * frames : (event + 1) * frames]), outs)
            g_vals = formats.from_words(layout.from_frames(got[event * frames : (event + 1) * frames]), outs)
            k = list(names).index(name)
            field, exp_v, got_v = f"{name}[{element}]", int(e_vals[k][0, element]), int(g_vals[k][0, element])
            labels = net.element_names(name) if hasattr(net, "element_names") else None
            if labels:
                field += f" ({labels[element]})"
        first = BoardMismatch(
            int(c_index[row]),
            captured.links[link],
            event,
            field,
            exp_v,
            got_v,
            f"{int(e_data[row, link]):016x}",
            f"{int(got[row, link]):016x}",
        )
    return BoardReport(len(e_data) // frames, len(e_data), int(bad.size), first)
