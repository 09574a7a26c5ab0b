"""l1t: bit-accurate Level-1 trigger emulation, its networks, their firmware and the regression between them."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("l1t")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
