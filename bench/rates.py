"""Full-chain throughput of a rate study, one run: objects -> AXOL1TL inputs (firmware scaling) -> encoder
(bit-exact) -> sum mu^2 -> menu decisions, on zero-bias-like crossings read from an event file: the whole file in
memory in one process (``rates.study``), then streamed in chunks on Dask with 1 and with 2 local workers
(``study_chunked``). Goal: >= 2e6 crossings/s on 2 cores (one LHC second, 4e7 crossings, in <= 20 s).
Run: ``make bench`` or ``python bench/rates.py [--events 2000000] [--compression lz4hc]``; 2e6 crossings by
default, so that the Dask client's fixed start-up cost weighs as little as in a long study."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from l1t import configs
from l1t.emulator.allocator import keep_large_blocks
from l1t.emulator.chains import AxoChain
from l1t.emulator.menu import Menu
from l1t.emulator.objects import AXOL1TL_INPUTS, CALO, MUON, InputScaling
from l1t.events import dataset
from l1t.models.export import convert, export_hls_model, hls_config
from l1t.models.reference import axol1tl_encoder
from l1t.studies import rates
from l1t.studies.scale import study_chunked, study_fields

MENU = configs.path("menus", "default.yaml")


def synthetic_events(n: int, seed: int) -> dict[str, np.ndarray]:
    """Random hardware words shaped like the zero bias of ``make demo`` (pileup 60): per family the occupancy and
    mean hwPt of the Pythia sample (jets 11.6 of 12 slots at 21 hwPt on average, e/gammas 8.3 at 8, taus 12 at 19,
    muons 0.03 at 7), steeply falling hwPt sorted per crossing, uniform eta and phi, so that the event file
    compresses and the chain branches as on real crossings."""
    rng = np.random.default_rng(seed)

    def objs(k: int, fields: int, occupied: np.ndarray, mean_pt: float, eta: int, phi: int) -> np.ndarray:
        o = np.zeros((n, k, fields), dtype=np.int32)
        pt = 1 + rng.exponential(mean_pt - 1, (n, k)).astype(np.int32)
        pt[np.arange(k) >= occupied[:, None]] = 0
        o[:, :, 0] = -np.sort(-np.minimum(pt, CALO.pt_max if phi == CALO.phi_steps else MUON.pt_max), axis=1)
        present = o[:, :, 0] > 0
        o[:, :, 1] = np.where(present, rng.integers(-eta, eta + 1, (n, k)), 0)
        o[:, :, 2] = np.where(present, rng.integers(0, phi, (n, k)), 0)
        if fields == 4:
            o[:, :, 3] = np.where(present, rng.integers(0, 2, (n, k)) * (12 if phi == MUON.phi_steps else 1), 0)
        return o

    return {
        "regions/et": rng.integers(0, 60, (n, 18, 14)).astype(np.uint16),
        "objects/jets": objs(12, 3, 12 - rng.poisson(0.4, n), 21, 60, CALO.phi_steps),
        "objects/egammas": objs(12, 4, rng.binomial(12, 0.69, n), 8, 55, CALO.phi_steps),
        "objects/taus": objs(12, 4, np.full(n, 12), 19, 45, CALO.phi_steps),
        "objects/muons": objs(8, 4, rng.poisson(0.03, n), 7, 220, MUON.phi_steps),
        "sums/hw": np.stack(
            [
                np.abs(rng.normal(0, 55, n)).astype(int),
                rng.integers(0, 144, n),
                np.abs(rng.normal(14, 34, n)).astype(int),
                np.clip(rng.normal(2370, 574, n), 0, 4095).astype(int),
            ],
            axis=1,
        ).astype(np.int32),
        "truth/npu": np.full(n, 60, dtype=np.int16),
        "truth/process": np.zeros(n, dtype=np.uint8),
        "objects/jet_towers": np.zeros((n, 2, 16, 4), dtype=np.int32),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument(
        "--compression", default=dataset.DEFAULT_COMPRESSION, choices=dataset.COMPRESSIONS, help="event-file codec"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="l1t-bench-rates-") as tmp:
        model = axol1tl_encoder(7)
        net = export_hls_model(convert(model, Path(tmp) / "prj", config=hls_config(model)), Path(tmp) / "spec")
        scaling = InputScaling(np.zeros(AXOL1TL_INPUTS, dtype=np.int64), np.full(AXOL1TL_INPUTS, 3), frac_bits=10)
        chain = AxoChain(net, scaling)
        data = synthetic_events(args.events, 1)
        path = dataset.write(
            Path(tmp) / "zb.h5", dataset.EventSet(data, {"process": "minbias"}), compression=args.compression
        )
        warm = dataset.write(
            Path(tmp) / "warm.h5", dataset.EventSet(synthetic_events(8 * 4096, 2), {"process": "minbias"})
        )
        menu_cfg = Menu.from_yaml(MENU)
        menu_cfg.keep_ad_models({"axol1tl"})
        t0 = time.perf_counter()
        ev = dataset.read(path, fields=study_fields(menu_cfg, {"axol1tl": chain}))
        mem = rates.study(menu_cfg, ev.data, {"axol1tl": chain.score(ev.data)}, {})
        t1 = time.perf_counter()
        from distributed import LocalCluster

        timings = {"single process, whole file in memory": t1 - t0}
        for workers in (1, 2):
            menu_dask = Menu.from_yaml(MENU)
            menu_dask.keep_ad_models({"axol1tl"})
            with LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                # a running cluster, as in a long study: worker start-up, imports and loading the compiled kernels
                # (one small study on every worker) are not counted
                study_chunked(menu_dask, warm, {"axol1tl": chain}, {}, chunk=4096, scheduler=cluster.scheduler_address)
                t2 = time.perf_counter()
                dsk = study_chunked(
                    menu_dask, path, {"axol1tl": chain}, {}, chunk=args.chunk, scheduler=cluster.scheduler_address
                )
                timings[f"Dask, {workers} local worker{'s' * (workers > 1)}, streamed chunks"] = (
                    time.perf_counter() - t2
                )
            assert dsk["seeds"] == mem["seeds"], "Dask and in-memory studies differ"
        table = Table(
            title=f"rate study, AXOL1TL chain + default menu, {args.events:,} crossings from a {args.compression} "
            "event file (same results)"
        )
        for col in ("path", "crossings/s", "vs in memory", "one LHC second (4e7) takes"):
            table.add_column(col, justify="left" if col == "path" else "right")
        for name, t in timings.items():
            rate = args.events / t
            table.add_row(name, f"{rate:,.0f}", f"{(t1 - t0) / t:.2f}x", f"{4e7 / rate:,.0f} s")
        Console(width=130).print(table)


if __name__ == "__main__":
    keep_large_blocks()  # as the l1t command does
    main()
