"""The emulated block a board runs, for ``l1t patterns`` and ``l1t compare``: a network spec, a model's whole
trigger path, or a menu as the GT runs it (objects -> the AD models' scores -> every seed's bit -> L1A)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from l1t.emulator.gt import GlobalTrigger
from l1t.emulator.menu import Menu, MenuError
from l1t.emulator.nn import Network
from l1t.kinds import load_chain, load_trigger

__all__ = ["board_block"]


def board_block(
    *,
    spec: Path | None = None,
    trigger_run: Path | None = None,
    menu: Path | None = None,
    models: Mapping[str, Path] | None = None,
    report_dir: Path | None = None,
) -> Any:
    """One of: the network of ``spec``; the trigger path of ``trigger_run``; the GT of ``menu`` with the chains of
    ``models`` (menu model name -> run directory). The last two take the AD thresholds from ``report_dir``."""
    if sum(x is not None for x in (spec, trigger_run, menu)) != 1 or (spec is None and report_dir is None):
        raise MenuError("give one of --model SPEC, --trigger RUN or --menu MENU (the last two with --report DIR)")
    if spec is not None:
        return Network.load(spec)
    if trigger_run is not None:
        return load_trigger(trigger_run, report_dir).block
    the_menu = Menu.from_yaml(menu)
    chains = {name: load_chain(path) for name, path in (models or {}).items()}
    the_menu.keep_ad_models(set(chains))
    results = report_dir / "results.json"
    seeds = json.loads(results.read_text())["results"]["seeds"]
    for s in the_menu.seeds:
        if s.kind == "ad":
            if seeds.get(s.name, {}).get("threshold_raw") is None:
                raise MenuError(f"{results}: no threshold_raw for AD seed {s.name!r}")
            the_menu.set_threshold(s.name, seeds[s.name]["threshold_raw"])
    return GlobalTrigger(the_menu, chains)
