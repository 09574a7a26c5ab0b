"""EMPv2 pattern files (the CMS DemonstratorTools text format for board input/output buffers), read and write.

::

    ID: <board>
    Metadata: (strobe,) start of orbit, start of packet, end of packet, valid

          Link             000                 001
    Frame 0000    0101 00000000000000ab    0101 0000000000000000

Each cell is ``[strobe]`` then start-of-orbit, start-of-packet, end-of-packet and valid bits, a space and the 64-bit
word in 16 hex digits; cells are separated by two or more spaces. The strobe column is written only for links
where some frame has strobe low. Reading checks every line and names the file, line and column of what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from l1t.atomic import atomic_path

__all__ = ["METADATA_LINE", "PatternError", "Patterns", "read_empv2", "write_empv2"]

METADATA_LINE = "Metadata: (strobe,) start of orbit, start of packet, end of packet, valid"
_CELL = re.compile(r"([01])?([01])([01])([01])([01]) ([0-9a-fA-F]{16})")


class PatternError(ValueError):
    """A malformed pattern file; the message names the file, line and column."""


@dataclass
class Patterns:
    """Frames x links of 64-bit words with their EMP metadata bits."""

    links: list[int]
    data: np.ndarray  # (frames, links) uint64
    valid: np.ndarray  # (frames, links) bool
    start_of_packet: np.ndarray
    end_of_packet: np.ndarray
    start_of_orbit: np.ndarray
    strobe: np.ndarray
    board: str = "l1t"

    @classmethod
    def from_packets(cls, frames: np.ndarray, frames_per_packet: int, links: list[int], board: str = "l1t") -> Patterns:
        """Frames (N * F, L) holding one packet of F frames per event, all valid, strobe high."""
        n = len(frames)
        index = np.arange(n) % frames_per_packet
        col = np.ones((n, len(links)), dtype=bool)
        return cls(
            list(links),
            np.asarray(frames, dtype=np.uint64),
            col.copy(),
            col & (index == 0)[:, None],
            col & (index == frames_per_packet - 1)[:, None],
            col & (np.arange(n) == 0)[:, None],
            col.copy(),
            board,
        )

    def packets(self) -> tuple[np.ndarray, int]:
        """Frame indices of the packets' first frames, and the packet length (the same for every packet).

        Only frames that are valid on the first link count; a packet runs from start-of-packet to end-of-packet.
        """
        sop = np.flatnonzero(self.start_of_packet[:, 0] & self.valid[:, 0])
        eop = np.flatnonzero(self.end_of_packet[:, 0] & self.valid[:, 0])
        if len(sop) == 0:
            raise PatternError(f"board {self.board!r}: no valid start-of-packet frame on link {self.links[0]}")
        if len(eop) != len(sop) or np.any(eop < sop) or np.any(eop[:-1] >= sop[1:]):
            raise PatternError(f"board {self.board!r}: start- and end-of-packet frames do not pair up")
        lengths = eop - sop + 1
        if np.any(lengths != lengths[0]):
            bad = int(np.flatnonzero(lengths != lengths[0])[0])
            raise PatternError(
                f"board {self.board!r}: packet at frame {sop[bad]} has {lengths[bad]} frames, the first has "
                f"{lengths[0]}"
            )
        return sop, int(lengths[0])

    def packet_frames(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(frame index of each packet frame, (N * F, links) words, F), in packet order."""
        sop, length = self.packets()
        index = (sop[:, None] + np.arange(length)).reshape(-1)
        return index, self.data[index], length


def write_empv2(path: str | Path, patterns: Patterns) -> Path:
    """Write ``patterns`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    strobed = [not bool(patterns.strobe[:, j].all()) for j in range(len(patterns.links))]
    header = "      Link  " + "".join(
        (" " if s else "") + f"            {link:03d}        " for link, s in zip(patterns.links, strobed, strict=True)
    )
    code = (
        patterns.start_of_orbit.astype(np.int64) * 8
        + patterns.start_of_packet * 4
        + patterns.end_of_packet * 2
        + patterns.valid
        + np.where(np.array(strobed)[None, :], 16 + 16 * patterns.strobe, 0)
    )
    # 0..15: the four metadata bits; 16..31 with strobe low, 32..47 with strobe high
    table = np.array(
        [f"{c:04b}" for c in range(16)] + [f"0{c:04b}" for c in range(16)] + [f"1{c:04b}" for c in range(16)]
    )
    raw_hex = np.ascontiguousarray(patterns.data, dtype=">u8").tobytes().hex().encode()
    hexes = np.frombuffer(raw_hex, dtype="S16").astype("U16").reshape(patterns.data.shape)
    cells = np.char.add(np.char.add("  ", table[code]), np.char.add(" ", hexes))
    rows = ["".join(r) for r in cells.tolist()]
    lines = [f"ID: {patterns.board}", METADATA_LINE, "", header]
    lines += [f"Frame {i:04d}  {row}" for i, row in enumerate(rows)]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def read_empv2(path: str | Path) -> Patterns:
    """Read an EMPv2 pattern file; raises PatternError naming the file, line and column of the first problem."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise PatternError(f"{path}: cannot read ({err})") from err
    lines = text.splitlines()
    pos = 0

    def fail(line: int, col: int, what: str) -> PatternError:
        return PatternError(f"{path}:{line + 1}:{col + 1}: {what}")

    while pos < len(lines) and (not lines[pos].strip() or lines[pos].startswith("#")):
        pos += 1
    if pos == len(lines) or not lines[pos].startswith("ID: "):
        raise fail(pos, 0, "expected the board line 'ID: <name>'")
    board = lines[pos][4:].strip()
    pos += 1
    if pos == len(lines) or not lines[pos].startswith(METADATA_LINE):
        raise fail(pos, 0, f"expected the metadata line {METADATA_LINE!r}")
    pos += 1
    while pos < len(lines) and not lines[pos].strip():
        pos += 1
    if pos == len(lines) or not lines[pos].lstrip().startswith("Link"):
        raise fail(pos, 0, "expected the link header line 'Link  000  001 ...'")
    try:
        links = [int(tok) for tok in lines[pos].split()[1:]]
    except ValueError as err:
        raise fail(pos, 0, f"link numbers must be integers ({err})") from err
    if not links or len(set(links)) != len(links):
        raise fail(pos, 0, "the link header lists no links, or a link twice")
    pos += 1
    n_links = len(links)
    data, meta = [], []
    frame = 0
    for i in range(pos, len(lines)):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            continue
        prefix = f"Frame {frame:04d}  "
        if not line.startswith(prefix):
            raise fail(i, 0, f"expected {prefix.strip()!r}")
        cells = [(m.start(), m.group()) for m in re.finditer(r"\S+ \S+", line[len(prefix) :])]
        if len(cells) != n_links:
            raise fail(i, len(prefix), f"{len(cells)} cells for {n_links} links")
        row_data, row_meta = [], []
        for col, cell in cells:
            m = _CELL.fullmatch(cell)
            if m is None:
                raise fail(i, len(prefix) + col, f"cell {cell!r} is not '[s]oepv <16 hex digits>'")
            strobe = m.group(1)
            row_meta.append([strobe != "0", *(g == "1" for g in m.group(2, 3, 4, 5))])
            row_data.append(int(m.group(6), 16))
        data.append(row_data)
        meta.append(row_meta)
        frame += 1
    if not data:
        raise fail(len(lines), 0, "no frames")
    m = np.array(meta, dtype=bool)
    return Patterns(
        links=links,
        data=np.array(data, dtype=np.uint64),
        valid=m[:, :, 4],
        start_of_packet=m[:, :, 2],
        end_of_packet=m[:, :, 3],
        start_of_orbit=m[:, :, 1],
        strobe=m[:, :, 0],
        board=board,
    )
