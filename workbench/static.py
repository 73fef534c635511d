"""Static exports of the information plane: PNG with matplotlib (no browser needed) and
standalone HTML with HoloViews/Bokeh.

The PNG draws the same picture as :func:`workbench.plots.plane.information_plane`: one line per
layer, points coloured by epoch, a colour bar labelled "epoch", axes ``I(X;T) [bits]`` and
``I(T;Y) [bits]``. Several panels (runs, estimators, binning rules) go side by side with
:func:`plane_figure`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from .plane import EPOCH_CMAP, LAYER_COLORS, pick_estimator, plane_table


def _figure(ncols: int, nrows: int, width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width * ncols, height * nrows), dpi=100, layout="constrained")


def draw_plane(ax, frame: pd.DataFrame, estimator: str | None = None, units: str = "bits",
               title: str | None = None, vmax: float | None = None, legend: bool = True):
    """Draw one information plane on a matplotlib ``ax``; returns the epoch scatter."""
    est = pick_estimator(frame, estimator)
    wide = plane_table(frame, est, units)
    vmax = float(wide["epoch"].max()) if vmax is None else vmax
    scatter = None
    for i, (name, d) in enumerate(wide.groupby("layer_index", sort=True)):
        d = d.sort_values("epoch")
        ax.plot(d["ixt"], d["ity"], color=LAYER_COLORS[i % len(LAYER_COLORS)], lw=1.0,
                alpha=0.7, label=str(d["layer"].iloc[0]))
        scatter = ax.scatter(d["ixt"], d["ity"], c=d["epoch"], cmap=EPOCH_CMAP, vmin=0,
                             vmax=max(vmax, 1.0), s=9, zorder=3, edgecolors="none")
    ax.set_xlabel(f"I(X;T) [{units}]")
    ax.set_ylabel(f"I(T;Y) [{units}]")
    ax.set_title(title if title is not None else f"Information plane ({est})", fontsize=10)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=7, loc="lower right", frameon=False)
    return scatter


def plane_figure(panels: Sequence[tuple], ncols: int = 2, units: str = "bits",
                 suptitle: str | None = None, width: float = 4.2, height: float = 3.4):
    """A matplotlib Figure of several planes. ``panels``: ``(title, frame, estimator)``
    tuples; they share one epoch colour scale and colour bar."""
    if not panels:
        raise ValueError("give at least one panel")
    ncols = max(1, min(ncols, len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = _figure(ncols, nrows, width, height)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    vmax = max(float(f["epoch"].max()) for _, f, _ in panels)
    scatter = None
    for k, (title, frame, est) in enumerate(panels):
        scatter = draw_plane(axes[k // ncols][k % ncols], frame, est, units, title, vmax=vmax,
                             legend=k == 0)
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    if scatter is not None:
        fig.colorbar(scatter, ax=axes, label="epoch", shrink=0.9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig


def save_png(fig, path, dpi: int = 90) -> Path:
    """Write a matplotlib Figure to ``path`` (PNG, Agg backend; no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def save_plane_png(frame: pd.DataFrame, path, estimator: str | None = None,
                   units: str = "bits", title: str | None = None, dpi: int = 90) -> Path:
    """The information plane of ``frame`` as a PNG file."""
    est = pick_estimator(frame, estimator)
    return save_png(plane_figure([(title or f"Information plane ({est})", frame, est)],
                                 units=units, width=5.0, height=4.0), path, dpi=dpi)


def save_plane_html(frame: pd.DataFrame, path, estimator: str | None = None,
                    units: str = "bits", resources: str = "inline") -> Path:
    """The interactive (Bokeh) information plane as a standalone HTML file.

    ``resources="inline"`` embeds BokehJS so the file opens without network access; ``"cdn"``
    gives a much smaller file that loads it from the web.
    """
    import holoviews as hv

    from .plots.plane import information_plane

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hv.save(information_plane(frame, estimator, units), path, backend="bokeh",
            resources=resources)
    return path
