"""Events/s of the emulator on an imported hls4ml project vs the project's own C++ (g++ -O2, the top function called
once per event in a C++ loop, as an offline emulator library runs it), same events, same run; every output word is
compared on every benchmarked event. The emulator takes the input words twice: as int64, and in the narrowest integer
dtype of the input type (``fx.word_dtype``, e.g. int16 for ap_fixed<16,6>: how an event file keeps hardware words),
which the first products read without widening them.

Models: reference architectures written as hls4ml projects, then imported from their C++ alone (``l1t import``).
Goal (issue): emulator >= 100x the project's C++ on one core.
Run: ``make bench`` or ``python bench/import.py [--events 200000] [--io-type io_stream]`` (an io_stream project's C++
moves every word through ``hls::stream``s, so the same network's C++ is slower there).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from l1t.emulator import fixed as fx
from l1t.emulator.allocator import keep_large_blocks
from l1t.models.export import convert, hls_config
from l1t.models.hls_project import ProjectRunner, read_project, stimulus
from l1t.models.reference import ARCHITECTURES


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="*", default=["axol1tl_encoder", "pruned_mlp", "cicada_student"])
    parser.add_argument("--io-type", default="io_parallel", choices=("io_parallel", "io_stream"))
    args = parser.parse_args()
    keep_large_blocks()
    console = Console(width=150)
    table = Table(title=f"imported {args.io_type} hls4ml projects, {args.events:,} events (best of {args.repeat})")
    columns = ("model", "layers", "input dtype", "emulator ev/s", "C++ -O2 ev/s", "emulator / C++", "mismatches")
    for col in columns:
        table.add_column(col, justify="left" if col == "model" else "right")
    with tempfile.TemporaryDirectory(prefix="l1t-bench-import-") as tmp:
        for arch in (a for a in ARCHITECTURES if a.name in args.models):
            model = arch.build(7)
            project_dir = Path(tmp) / arch.name
            convert(model, project_dir, config=hls_config(model), io_type=args.io_type).write()
            project = read_project(project_dir)
            net = project.network()
            words = stimulus(net, args.events, seed=3)
            narrow = {name: words[name].astype(fx.word_dtype(t)) for name, _, t in net.inputs}
            runner = ProjectRunner(project, optimize="-O2")
            t_cpp, (expected, _) = best_of(lambda r=runner, w=words: r.run(w), args.repeat)
            for given in (words, narrow):
                t_emu, got = best_of(lambda n=net, w=given: n.run(w, raw=True), args.repeat)
                bad = sum(int((expected[k] != got[k].reshape(expected[k].shape)).any(axis=1).sum()) for k in expected)
                dtypes = ", ".join(sorted({str(w.dtype) for w in given.values()}))
                table.add_row(
                    arch.name, str(len(net.layers)), dtypes, f"{args.events / t_emu:,.0f}",
                    f"{args.events / t_cpp:,.0f}", f"{t_cpp / t_emu:.1f}x", str(bad),
                )  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
