"""The non-editable wheel: built with pip, installed into a fresh venv, used from outside the checkout.

The new venv sees the project's pinned dependencies through a path file pointing at the running environment's
site-packages (no downloads); l1t itself comes only from the wheel, so shipped data (configs, the cocotb bench) and
the one ``l1t`` namespace are what is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


_ZERO_BIAS = """
import numpy as np
from l1t.events import dataset
rng = np.random.default_rng(1)
n = 500
data = {{}}
for name, (shape, dtype, ranges) in dataset.SCHEMA.items():
    lo = np.array([r[0] for r in ranges]); hi = np.array([r[1] for r in ranges])
    a = rng.integers(lo, hi, (n, *shape[:-1], len(ranges)) if len(ranges) > 1 else (n, *shape), endpoint=True)
    data[name] = a.astype(dtype)
dataset.write({path!r}, dataset.EventSet(data, {{"process": "minbias"}}))
"""


def _run(args: list[str], cwd: Path, timeout: int = 1800) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path / "dist")], tmp_path)
    (wheel,) = (tmp_path / "dist").glob("l1t-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).strip()
    )
    (site / "l1t_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()

    located = json.loads(
        _run(
            [
                str(python),
                "-c",
                "import json, l1t, l1t.emulator.nn, l1t.firmware.stream_bench, l1t.models.export; "
                "from l1t import configs; "
                "print(json.dumps({'l1t': l1t.__file__, 'menu': str(configs.path('menus', 'default.yaml')), "
                "'menu_exists': configs.path('menus', 'default.yaml').is_file(), "
                "'model': configs.path('models', 'axol1tl.yaml').is_file()}))",
            ],
            work,
        )
    )
    assert located["l1t"].startswith(str(site)), located
    assert located["menu"].startswith(str(site)) and located["menu_exists"] and located["model"], located
    for bare in ("emulator", "models", "firmware"):
        assert not (site / bare).exists(), f"the wheel installs a bare top-level package {bare!r}"

    l1t = str(venv / "bin" / "l1t")
    assert "hls4ml" in _run([l1t, "info"], work)
    assert "0 cases with mismatches" in _run([l1t, "selfcheck", "--values", "200"], work)
    fw = work / "fw"
    _run([l1t, "firmware", "--model", "axol1tl_encoder", "--out", str(fw), "--no-resources"], work)
    cmssw = json.loads((fw / "report.json").read_text())["hls4ml"]["cmssw"]  # needs the packaged proven.json
    assert cmssw.get("mismatches") == 0, cmssw
    out = _run([l1t, "cosim", str(fw), "--dut", "rtl", "--simulator", "icarus", "--events", "200"], work)
    assert "0 mismatches" in out, out
    zb = work / "zb.h5"  # a tiny zero-bias file written by the installed package, then the default menu's report
    _run([str(python), "-c", _ZERO_BIAS.format(path=str(zb))], work)
    out = _run([l1t, "report", "--zero-bias", str(zb), "--out", str(work / "report")], work)
    assert (work / "report" / "report.html").is_file() and "L1_SingleMu22" in out, out
