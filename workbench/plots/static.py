"""Static exports of the information plane and of attention entropy over training: PNG with
matplotlib (no browser needed) and standalone HTML with HoloViews/Bokeh.

The plane PNG draws the same picture as :func:`workbench.plots.plane.information_plane`: one line
per layer, points coloured by epoch, a colour bar labelled "epoch", axes ``I(X;T) [bits]`` and
``I(T;Y) [bits]``. Several panels (runs, estimators, binning rules) go side by side with
:func:`plane_figure`.

The attention PNG (:func:`attention_figure`) draws layer × head heatmaps of mean attention
entropy at a few measured steps on one colour scale, and the per-layer mean over heads against
step: the static counterpart of :func:`workbench.plots.attention.training_dashboard`.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..tracking.tables import EPOCH_CMAP, LAYER_COLORS, pick_estimator, plane_table


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
    for i, (_name, d) in enumerate(wide.groupby("layer_index", sort=True)):
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

    from .plane import information_plane

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hv.save(information_plane(frame, estimator, units), path, backend="bokeh",
            resources=resources)
    return path


def attention_figure(rows: pd.DataFrame, snapshots: int = 4):
    """A matplotlib Figure from the tidy rows of
    :func:`workbench.attention.transformer.train_char_transformer` (step, layer, head, entropy,
    units):
    layer × head heatmaps at ``snapshots`` evenly spaced steps
    (:func:`workbench.plots.attention.snapshot_steps`) on a shared colour scale from 0 to the
    largest entropy, and the mean entropy over heads, one line per layer, against step."""
    # imported here: the plane exports above need neither torch (workbench.attention) nor
    # HoloViews (workbench.plots)
    from ..attention.entropy import entropy_matrix
    from .attention import snapshot_steps, value_label

    if not len(rows):
        raise ValueError("no attention rows to draw")
    label = value_label(rows, "entropy")
    picks = snapshot_steps(rows["step"], snapshots)
    n_layers, n_heads = rows["layer"].nunique(), rows["head"].nunique()
    vmax = float(rows["entropy"].max())
    fig = _figure(1, 1, 3.0 * len(picks) + 4.5, 0.5 * n_layers + 2.2)
    axes = fig.subplots(1, len(picks) + 1, width_ratios=[1] * len(picks) + [1.6])
    image = None
    for ax, step in zip(axes, picks):
        mat = entropy_matrix(rows[rows["step"] == step], value="entropy")
        image = ax.imshow(mat.to_numpy(), vmin=0, vmax=vmax, cmap="viridis", aspect="auto")
        ax.set_title(f"step {int(step)}", fontsize=10)
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        ax.set_xticks(range(n_heads))
        ax.set_yticks(range(n_layers))
    fig.colorbar(image, ax=list(axes[:-1]), label=label, shrink=0.9)
    curve_ax = axes[-1]
    per_layer = rows.groupby(["step", "layer"], as_index=False)["entropy"].mean()
    for layer, g in per_layer.groupby("layer"):
        curve_ax.plot(g["step"], g["entropy"], label=f"layer {layer}", lw=2)
    curve_ax.set_xlabel("training step")
    curve_ax.set_ylabel(f"mean {label}")
    curve_ax.grid(alpha=0.3)
    curve_ax.legend(fontsize=8)
    return fig


def save_attention_png(rows: pd.DataFrame, path, snapshots: int = 4, dpi: int = 110) -> Path:
    """:func:`attention_figure` of ``rows`` as a PNG file."""
    return save_png(attention_figure(rows, snapshots), path, dpi=dpi)


def save_attention_html(rows: pd.DataFrame, path, snapshots: int = 4,
                        resources: str = "inline") -> Path:
    """The interactive (Bokeh) :func:`workbench.plots.attention.training_dashboard` of
    ``rows`` as a standalone HTML file; ``resources`` as in :func:`save_plane_html`."""
    import holoviews as hv

    from .attention import training_dashboard

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hv.save(training_dashboard(rows, snapshots), path, backend="bokeh", resources=resources)
    return path
