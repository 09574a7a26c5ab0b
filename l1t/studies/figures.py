"""Matplotlib figures drawn without pyplot: no backend is selected and no global state changes."""

from __future__ import annotations

from typing import Any

__all__ = ["axes"]


def axes(size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure with its own Agg canvas (``savefig`` and ``tight_layout`` work) and its one axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()
