"""The report as a reader sees it: rendered in headless Chromium, with a screenshot and a count of the images the
browser decoded. Chromium is a system package (Debian: ``apt-get install chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BROWSERS", "BrowserError", "Rendered", "find_browser", "render"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# a closed network: no background connections, updates or sync; a fresh profile; root needs --no-sandbox
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# appended to a copy of the page: after the load event, how many images there are and how many decoded
_PROBE = (
    "<script>window.addEventListener('load', () => { const i = [...document.images]; "
    "document.body.setAttribute('data-l1t-images', i.length + '/' + "
    "i.filter(x => x.complete && x.naturalWidth > 0).length); });</script>"
)


class BrowserError(RuntimeError):
    """No browser, or the browser failed; the message says which and how to install one."""


@dataclass
class Rendered:
    """What the browser made of a page: its images, those it decoded, and the screenshot's distinct colours."""

    images: int
    decoded: int
    screenshot: Path
    colours: int


def find_browser() -> str:
    """The first of ``BROWSERS`` on the PATH."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError(f"no headless browser found ({', '.join(BROWSERS)}); on Debian: apt-get install chromium")


def _run(browser: str, args: list[str], profile: Path, timeout: float) -> str:
    cmd = [browser, *_FLAGS, f"--user-data-dir={profile}", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise BrowserError(f"{browser} did not finish in {timeout:g} s") from err
    if done.returncode != 0:
        raise BrowserError(f"{browser} exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def render(page: Path, screenshot: Path, width: int = 1280, height: int = 2400, timeout: float = 120) -> Rendered:
    """Render ``page`` (an HTML file) in headless Chromium: a ``width`` x ``height`` PNG screenshot, and, from a
    copy of the page with a probe script, the number of images and of images the browser decoded."""
    browser = find_browser()
    page = Path(page).resolve()
    with tempfile.TemporaryDirectory(prefix="l1t-browser-") as tmp:
        work = Path(tmp)
        probed = work / page.name
        probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
        dom = _run(browser, ["--virtual-time-budget=10000", "--dump-dom", probed.as_uri()], work / "a", timeout)
        _run(browser, [f"--screenshot={screenshot.resolve()}", f"--window-size={width},{height}", page.as_uri()],
             work / "b", timeout)  # fmt: skip
    found = re.search(r'data-l1t-images="(\d+)/(\d+)"', dom)
    if found is None:
        raise BrowserError(f"{page}: the page's load event never fired in {browser}")
    return Rendered(int(found[1]), int(found[2]), screenshot, _colours(screenshot))


def _colours(png: Path) -> int:
    """Distinct colours of a PNG (1 for a blank page)."""
    from matplotlib.image import imread

    pixels = (imread(png)[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    return len(np.unique(pixels.view(np.dtype((np.void, 3)))))
