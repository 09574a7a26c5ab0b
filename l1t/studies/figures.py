"""Matplotlib figures drawn without pyplot: no backend is selected and no global state changes."""

from __future__ import annotations

from typing import Any

__all__ = ["axes", "figure"]


def figure(size: tuple[float, float]) -> Any:
    """A figure with its own Agg canvas, so ``savefig`` and ``tight_layout`` work."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def axes(size: tuple[float, float]) -> tuple[Any, Any]:
    """A ``figure`` and its one axes."""
    fig = figure(size)
    return fig, fig.add_subplot()
