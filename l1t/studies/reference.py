"""Simulated rates against a reference table: per seed, the rate ``l1t report`` measured next to a rate from a cited
source (a publication, a rate study of recorded zero bias), their ratio and whether it lies within a factor.

A reference file (YAML, checked against :class:`ReferenceSpec`) names its ``source`` and the ``conditions`` the rates
were taken at; a reference taken at one ``pileup`` is compared with the study's rates at that pileup (its main sample
or a rate-vs-pileup sample). l1t ships one, ``configs/references/cms_2018_zero_bias_pu40.yaml``: recorded 2018 zero
bias, with every number's derivation next to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from l1t.schema import Strict, read_yaml, validate

__all__ = [
    "ReferenceError",
    "ReferenceRate",
    "ReferenceSpec",
    "compare_rates",
    "read_reference",
    "read_results",
]

Hz = Annotated[float, Field(ge=0)]
PILEUP_MATCH = 0.5  # a study sample's mean pileup within this of the reference's is taken as the same pileup


class ReferenceError(ValueError):
    """A malformed reference or results file; the message names the file and field."""


class ReferenceRate(Strict):
    """One seed's reference rate and its uncertainty [Hz]."""

    rate_hz: Annotated[float, Field(gt=0)]
    err_hz: Hz = 0.0


class ReferenceSpec(Strict):
    """A reference table: ``source`` (the citation), ``conditions`` (luminosity, pileup, bunches, year), the
    ``seeds``' rates by menu seed name, and optionally the mean ``pileup`` they were taken at and the menu
    ``total_hz``."""

    source: Annotated[str, Field(min_length=1)]
    conditions: Annotated[str, Field(min_length=1)]
    pileup: Annotated[float, Field(gt=0)] | None = None
    seeds: Annotated[dict[str, ReferenceRate], Field(min_length=1)]
    total_hz: Annotated[float, Field(gt=0)] | None = None


def read_reference(path: str | Path) -> ReferenceSpec:
    """The validated reference table at ``path``."""
    return validate(ReferenceSpec, read_yaml(path, ReferenceError) or {}, str(path), ReferenceError)


def read_results(path: str | Path) -> dict[str, Any]:
    """The ``results`` of an ``l1t report`` output (its directory or its ``results.json``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        return json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError) as err:
        raise ReferenceError(f"{path}: not the results.json of `l1t report` ({err})") from None


def _at_pileup(results: dict[str, Any], pileup: float) -> dict[str, Any]:
    """The study's per-seed rates and menu total at ``pileup``: its rate-vs-pileup point there (the main sample is one
    of them) or, without a scan, its main sample (``zero_bias_pileup``); else ReferenceError naming the pileups it
    has."""
    scan = results.get("rate_vs_pileup")
    if scan:
        have = [float(p) for p in scan["pileup"]]
    else:
        have = [float(results["zero_bias_pileup"])] if results.get("zero_bias_pileup") is not None else []
    near = [k for k, p in enumerate(have) if abs(p - pileup) <= PILEUP_MATCH]
    if not near:
        where = f"pileup {', '.join(f'{p:g}' for p in have)}" if have else "no sample of known pileup"
        raise ReferenceError(
            f"the reference's rates are at pileup {pileup:g}; the study has {where}: add a zero-bias sample at "
            f"pileup {pileup:g} (`l1t report --pileup-scan FILE`)"
        )
    k = near[0]
    if not scan:
        return {**results, "pileup": have[k]}
    seeds = {n: {"rate_hz": s["rate_hz"][k], "rate_err_hz": s["rate_err_hz"][k]} for n, s in scan["seeds"].items()}
    total = scan["total"]
    return {"seeds": seeds, "total_rate_hz": total["rate_hz"][k], "total_rate_err_hz": total["rate_err_hz"][k],
            "pileup": have[k]}  # fmt: skip


def compare_rates(results: dict[str, Any], reference: ReferenceSpec, factor: float = 2.0) -> dict[str, Any]:
    """Per reference seed: simulated and reference rates with errors, their ratio, and whether the ratio lies in
    [1 / factor, factor]; seeds the study did not run are listed, not compared. The same for the menu total when
    the reference has one. A reference at a stated ``pileup`` is compared with the study's rates at that pileup."""
    if reference.pileup is not None:
        results = _at_pileup(results, reference.pileup)

    def row(sim: float, sim_err: float, ref: float, ref_err: float) -> dict[str, Any]:
        ratio = sim / ref
        return {"simulated_hz": sim, "simulated_err_hz": sim_err, "reference_hz": ref, "reference_err_hz": ref_err,
                "ratio": ratio, "within": 1 / factor <= ratio <= factor}  # fmt: skip

    seeds, missing = {}, []
    for name, ref in reference.seeds.items():
        sim = results["seeds"].get(name)
        if sim is None:
            missing.append(name)
            continue
        seeds[name] = row(sim["rate_hz"], sim["rate_err_hz"], ref.rate_hz, ref.err_hz)
    out: dict[str, Any] = {
        "source": reference.source,
        "conditions": reference.conditions,
        "pileup": results.get("pileup"),
        "factor": factor,
        "seeds": seeds,
        "not_in_study": missing,
    }
    if reference.total_hz is not None:
        out["total"] = row(results["total_rate_hz"], results["total_rate_err_hz"], reference.total_hz, 0.0)
    return out
