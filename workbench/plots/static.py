"""Static exports of the information plane and of attention entropy over training: PNG with
matplotlib (no browser needed) and standalone HTML with HoloViews/Bokeh.

The plane PNG draws the same picture as :func:`workbench.plots.plane.information_plane`: one line
per layer, points coloured by epoch, a colour bar labelled "epoch", axes ``I(X;T) [bits]`` and
``I(T;Y) [bits]``. Several panels (runs, estimators, binning rules) go side by side with
:func:`plane_figure`.

The attention PNG (:func:`attention_figure`) draws layer × head heatmaps of mean attention
entropy at a few measured steps on one colour scale, and the per-layer mean over heads against
step: the static counterpart of :func:`workbench.plots.attention.training_dashboard`.

Any other HoloViews object (a live page's plots, the Lab's curves) exports through
:func:`figure_bytes` (PNG drawn by HoloViews' matplotlib backend, so no browser is needed; HTML
by its Bokeh backend), and a run's rows through :func:`table_bytes` (CSV or Parquet): the
export bar of every live page (``widgets.components.ExportBar``) is built on these.
"""
from __future__ import annotations

import io
import tempfile
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


#: What :func:`figure_bytes` and :func:`table_bytes` write.
FIGURE_FORMATS = ("png", "html")
TABLE_FORMATS = ("csv", "parquet")


def snapshot(obj):
    """What a live (streaming) plot shows now, as a plain element: a ``DynamicMap`` is
    evaluated with its streams' current contents (HoloViews would otherwise wrap it in a
    server-side layout that a file cannot hold)."""
    import holoviews as hv

    if isinstance(obj, hv.DynamicMap):
        return obj[()]
    if isinstance(obj, hv.Layout) and any(isinstance(o, hv.DynamicMap) for o in obj):
        return hv.Layout([snapshot(o) for o in obj]).cols(obj._max_cols)
    return obj


def save_figure_html(obj, path, resources: str = "inline") -> Path:
    """Any HoloViews object (a live one as it is now) as a standalone Bokeh HTML file;
    ``resources="inline"`` embeds BokehJS, so the file opens without network access."""
    import holoviews as hv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hv.save(snapshot(obj), path, backend="bokeh", resources=resources)
    return path


def _style(element, key: str):
    """A style option set on ``element`` for Bokeh (colours carry over: Bokeh and matplotlib
    share CSS colour names and hex codes); None when unset or not a plain string."""
    import holoviews as hv
    from matplotlib.colors import is_color_like

    value = hv.Store.lookup_options("bokeh", element, "style").kwargs.get(key)
    return value if isinstance(value, str) and is_color_like(value) else None


def _draw_element(ax, el) -> None:
    """One HoloViews element on a matplotlib ``ax``, from its data alone."""
    import holoviews as hv

    label = el.label or None
    color = _style(el, "color") or _style(el, "line_color")
    if isinstance(el, (hv.HeatMap, hv.Image)):
        frame = el.dframe()
        x, y, z = (d.name for d in el.dimensions()[:3])
        grid = frame.pivot_table(index=y, columns=x, values=z, aggfunc="mean", sort=True)
        image = ax.imshow(grid.to_numpy(), aspect="auto", origin="lower", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [str(i) for i in grid.index])
        ax.figure.colorbar(image, ax=ax, label=el.vdims[0].pprint_label)
        return
    if not len(el) or len(el.dimensions()) < 2:
        return
    xs, ys = el.dimension_values(0), el.dimension_values(1)
    if isinstance(el, hv.Curve):
        ax.plot(xs, ys, color=color, label=label, lw=1.5)
    elif isinstance(el, (hv.Scatter, hv.Points)):
        by = hv.Store.lookup_options("bokeh", el, "style").kwargs.get("color")
        if isinstance(by, str) and by in el.dimensions("all", label="name"):
            # coloured by a column (the plane's epochs): the colour bar names it; one colour
            # range (clim) and one colour bar for the plane's points
            plot_opts = hv.Store.lookup_options("bokeh", el, "plot").kwargs
            vmin, vmax = plot_opts.get("clim") or (None, None)
            points = ax.scatter(xs, ys, c=el.dimension_values(by), cmap=EPOCH_CMAP, s=12,
                                zorder=3, edgecolors="none", vmin=vmin, vmax=vmax)
            if plot_opts.get("colorbar", True):
                ax.figure.colorbar(points, ax=ax, label=el.get_dimension(by).pprint_label)
        else:
            ax.scatter(xs, ys, color=color, label=label, s=12, zorder=3)
    elif isinstance(el, hv.ErrorBars):
        ax.errorbar(xs, ys, yerr=el.dimension_values(2), fmt="none", color=color)
    elif isinstance(el, hv.Bars):
        ax.bar([str(v) for v in xs], ys, color=color, label=label)


def holoviews_figure(obj, width: float = 4.6, height: float = 3.4):
    """A matplotlib Figure of a HoloViews plot, drawn from its data: curves, points, error
    bars, bars and heat maps, with the plot's titles, axis labels (which carry the units),
    log axes and legend. Bokeh-only options (tools, hover, sizes) have no say, so every plot
    of the apps draws (HoloViews' own matplotlib backend trips over some of them)."""
    import holoviews as hv

    obj = snapshot(obj)
    panels = list(obj) if isinstance(obj, hv.Layout) else [obj]
    ncols = max(1, min(len(panels), obj._max_cols if isinstance(obj, hv.Layout) else 1))
    nrows = -(-len(panels) // ncols)
    fig = _figure(ncols, nrows, width, height)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, panel in zip(axes, panels):
        panel = snapshot(panel)
        layers = list(panel.values()) if isinstance(panel, (hv.Overlay, hv.NdOverlay)) \
            else [panel]
        if isinstance(panel, hv.NdOverlay):  # the keys (layers) name the curves
            name = panel.kdims[0].pprint_label
            layers = [el.relabel(el.label or f"{name} {key}")
                      for key, el in zip(panel.keys(), layers)]
        for el in layers:
            _draw_element(ax, el)
        plot_opts = {}  # the overlay's options over its elements' (log axes sit on these)
        for item in [*layers, panel]:
            plot_opts.update(hv.Store.lookup_options("bokeh", item, "plot").kwargs)
        first = next((el for el in layers if len(el.dimensions()) >= 2), None)
        if first is not None and not isinstance(first, (hv.HeatMap, hv.Image)):
            ax.set_xlabel(first.kdims[0].pprint_label)
            ax.set_ylabel(first.vdims[0].pprint_label if first.vdims else "")
            if plot_opts.get("logx"):
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter("")  # minor labels collide on a short decade
            if plot_opts.get("logy"):
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
        elif first is not None:
            ax.set_xlabel(first.kdims[0].pprint_label)
            ax.set_ylabel(first.kdims[1].pprint_label)
        ax.set_title(plot_opts.get("title") or panel.label or "", fontsize=10)
        if any(el.label for el in layers if isinstance(el, (hv.Curve, hv.Scatter, hv.Bars))):
            ax.legend(fontsize=7, frameon=False)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return fig


def save_figure_png(obj, path, dpi: int = 90) -> Path:
    """Any HoloViews object (a live one as it is now) as a PNG, drawn by
    :func:`holoviews_figure` with matplotlib (no browser needed)."""
    return save_png(holoviews_figure(obj), path, dpi=dpi)


def figure_bytes(obj, fmt: str) -> bytes:
    """``obj`` as the bytes of a PNG or a standalone HTML file (:func:`save_figure_png`,
    :func:`save_figure_html`); a matplotlib Figure (the plane and attention PNGs above) is
    written as PNG directly."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {FIGURE_FORMATS}, got {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="workbench-export-") as tmp:
        path = Path(tmp) / f"figure.{fmt}"
        if hasattr(obj, "savefig"):
            if fmt != "png":
                raise ValueError("a matplotlib figure exports as PNG only")
            save_png(obj, path)
        else:
            (save_figure_png if fmt == "png" else save_figure_html)(obj, path)
        return path.read_bytes()


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` (a run's tidy rows) as CSV (no index column) or Parquet bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "parquet":
        out = io.BytesIO()
        frame.to_parquet(out, index=False)
        return out.getvalue()
    raise ValueError(f"table format must be one of {TABLE_FORMATS}, got {fmt!r}")
