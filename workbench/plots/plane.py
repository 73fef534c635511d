"""HoloViews elements for the information plane, built from the tidy frames of
:class:`workbench.tracking.plane.InformationPlane` / :class:`workbench.runs.RunStore` (no Panel
here).

* :func:`information_plane`: I(X;T) against I(T;Y), one trajectory per layer (line + points),
  points coloured by epoch with a colour bar labelled "epoch".
* :func:`metric_curves`: loss and accuracy over epochs (train and test).
* :func:`layer_entropy`: H(T) of every layer over epochs.

Each is built from an element function on a table (:func:`plane_overlay`, :func:`metric_curve`,
:func:`layer_curves`), which :mod:`workbench.plots.live` also streams into on the live pages.
Layers that coincide stay visible: deeper layers get smaller markers and thinner lines, drawn
on top of the earlier ones (:func:`layer_style`, :data:`LAYER_NOTE`).
* :func:`compare_planes`: the planes of several runs (or estimators) side by side;
  :func:`overlay_planes`: several runs in one plane (colour = layer, dash = run).
* :func:`seed_band_plane`, :func:`seed_band_curves`, :func:`seed_band_grid`: the mean
  trajectory over seeds with a ±1 std band (tables of :mod:`workbench.tracking.seed_tables`).

Axes name their units, e.g. ``I(X;T) [bits]``; a frame in nats is converted on request.
"""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import pandas as pd

from ..errors import InputError
from ..tracking.tables import (
    EPOCH_CMAP,
    LAYER_COLORS,
    estimators_in,
    info_table,
    metric_table,
    pick_estimator,
    plane_table,
)

_OPTS = {"show_grid": True, "tools": ["hover"], "fontsize": {"title": 11, "labels": 11,
                                                            "ticks": 9}}
#: What a reader of a plot of layers should know about markers and lines.
LAYER_NOTE = ("Layers that coincide are drawn nested: each deeper layer has a smaller marker "
              "(ringed in its colour) and a thinner line, on top of the earlier ones.")
#: Largest and smallest marker size (px) and line width of the layers' plots.
_MARKER = (14.0, 6.0)
_LINE = (5.0, 1.5)
#: Line dash and colour of the training and the held-out curve of a metric.
TRAIN_STYLE = {"line_dash": "solid", "color": "#1f4e79"}
TEST_STYLE = {"line_dash": "dashed", "color": "#d62728"}


def layer_style(index: int, n_layers: int) -> dict:
    """Colour, marker size and line width of the ``index``-th (0-based) of ``n_layers`` layers:
    sizes and widths fall linearly from the first layer to the last, so a deeper layer drawn on
    top of an earlier one at the same place leaves it visible around it."""
    frac = index / max(n_layers - 1, 1)
    return {"color": LAYER_COLORS[index % len(LAYER_COLORS)],
            "size": _MARKER[0] - frac * (_MARKER[0] - _MARKER[1]),
            "line_width": _LINE[0] - frac * (_LINE[0] - _LINE[1])}


def plane_overlay(table: pd.DataFrame, layers, units: str = "bits",
                  epochs: int | None = None, colorbar: bool = True) -> hv.Overlay:
    """I(X;T) vs I(T;Y) from a table with columns layer, layer_index, epoch, ixt, ity: a line
    per layer of ``layers`` (empty until its rows come), points filled by epoch (colour range
    0..``epochs``, default the last epoch in the table) and ringed in the layer's colour,
    smaller for deeper layers and drawn after the earlier ones (:func:`layer_style`).

    Live pages stream into this, so the points' glyph options must not change with the rows:
    HoloViews maps a numeric column through a colour mapper, passes a column of colour names
    as it is, and folds a column with one distinct value into a plain value. The ring colours
    are therefore a column of colour names even when empty (an empty float column got a colour
    mapper, then a plain field when rows came), and the fill is a float epoch (an integer
    column passes for colours and was folded while one epoch was shown). Bokeh documents sent
    event by event (a notebook's jupyter_bokeh comm) otherwise showed BokehJS a glyph whose
    ``line_color`` named a still-numeric column: "invalid color array"."""
    import numpy as np

    layers = list(layers)
    x = hv.Dimension("ixt", label=f"I(X;T) [{units}]")
    y = hv.Dimension("ity", label=f"I(T;Y) [{units}]")
    epoch = hv.Dimension("epoch", label="epoch", value_format=lambda v: f"{v:.0f}")
    shown = table.dropna(subset=["ixt", "ity"]).sort_values(["layer_index", "epoch"],
                                                             kind="stable")
    styles = {name: layer_style(i, len(layers)) for i, name in enumerate(layers)}
    groups = dict(tuple(shown.groupby("layer", sort=False)))
    lines = [hv.Curve(groups.get(name, shown.iloc[0:0]), x, [y, epoch], label=str(name)).opts(
        color=styles[name]["color"], line_width=1.5, alpha=0.8) for name in layers]
    top = epochs if epochs is not None else (shown["epoch"].max() if len(shown) else 1)
    names = shown["layer"].to_numpy(dtype=object)
    points = pd.DataFrame({
        "ixt": shown["ixt"].to_numpy(float), "ity": shown["ity"].to_numpy(float),
        "epoch": shown["epoch"].to_numpy(float), "layer": names,
        "ring": np.array([styles.get(n, {}).get("color", "#333333") for n in names],
                         dtype=object),
        "size": np.array([styles.get(n, {}).get("size", _MARKER[1]) for n in names],
                         dtype=float)})
    points = hv.Points(points, [x, y], [epoch, "layer", "ring", "size"]).opts(
        color="epoch", cmap=EPOCH_CMAP, clim=(0, max(float(top), 1.0)), size="size",
        line_color="ring", line_width=1.0, colorbar=colorbar,
        colorbar_opts={"title": "epoch"}, tools=["hover"],
        hover_tooltips=[("layer", "@{layer}"), ("epoch", "@{epoch}{0}"), (x.label, "@{ixt}"),
                        (y.label, "@{ity}")])
    return hv.Overlay([*lines, points])


def information_plane(frame: pd.DataFrame, estimator: str | None = None, units: str = "bits",
                      title: str | None = None, colorbar: bool = True) -> hv.Overlay:
    """I(X;T) vs I(T;Y): a line per layer, points coloured by epoch (colour bar "epoch")."""
    est = pick_estimator(frame, estimator)
    wide = plane_table(frame, est, units)
    layers = list(dict.fromkeys(wide.sort_values("layer_index")["layer"]))
    return plane_overlay(wide, layers, units, colorbar=colorbar).opts(
        title=title if title is not None else f"Information plane ({est})",
        legend_position="bottom_right", width=520, height=400, **_OPTS)


def metric_curve(table: pd.DataFrame, kind: str, epochs: int | None = None) -> hv.Overlay:
    """Train and test ``kind`` ("loss", in nats, or "accuracy", a fraction) over epochs from a
    :func:`~workbench.tracking.tables.metric_table`; ``epochs`` fixes the epoch axis (and
    accuracy's axis is 0..1)."""
    if kind not in ("loss", "accuracy"):
        raise InputError(f"kind must be 'loss' or 'accuracy', got {kind!r}")
    label = "loss [nats]" if kind == "loss" else "accuracy (fraction)"
    xdim = hv.Dimension("epoch", label="epoch",
                        range=(0, max(epochs, 1)) if epochs is not None else (None, None))
    ydim_range = (0, 1.02) if kind == "accuracy" else (None, None)
    return hv.Overlay([
        hv.Curve(table.dropna(subset=[f"{prefix}{kind}"]), xdim,
                 hv.Dimension(f"{prefix}{kind}", label=label, range=ydim_range),
                 label=name).opts(line_width=2, **style)
        for name, prefix, style in (("train", "", TRAIN_STYLE), ("test", "test_", TEST_STYLE))
    ]).opts(
        title=kind.capitalize(), legend_position="right", **_OPTS)


def metric_curves(frame: pd.DataFrame, title: str = "Training metrics") -> hv.Layout:
    """Loss (nats) and accuracy over epochs, train and test, from tidy rows."""
    table = metric_table(frame)
    parts = [metric_curve(table, kind).opts(width=380, height=260)
             for kind in ("loss", "accuracy")
             if table[[kind, f"test_{kind}"]].notna().any(axis=None)]
    if not parts:
        raise InputError("the frame holds no loss/accuracy rows")
    return hv.Layout(parts).opts(title=title).cols(2)


def layer_curves(table: pd.DataFrame, layers, value: str, ylabel: str,
                 epochs: int | None = None, title: str = "") -> hv.Overlay:
    """One curve per layer of ``layers`` (every one from the start, empty until its rows come)
    of column ``value`` against epoch, from a table with columns layer, epoch and ``value``;
    deeper layers are thinner and drawn on top (:func:`layer_style`). ``epochs`` fixes the
    epoch axis."""
    layers = list(layers)
    xdim = hv.Dimension("epoch", label="epoch",
                        range=(0, max(epochs, 1)) if epochs is not None else (None, None))
    ydim = hv.Dimension(value, label=ylabel)
    shown = table.dropna(subset=[value])
    groups = dict(tuple(shown.groupby("layer", sort=False)))
    curves = []
    for i, name in enumerate(layers):
        style = layer_style(i, len(layers))
        rows = groups.get(name, shown.iloc[0:0]).sort_values("epoch")
        curves.append(hv.Curve(rows, xdim, ydim, label=str(name)).opts(
            color=style["color"], line_width=style["line_width"]))
    return hv.Overlay(curves).opts(title=title, legend_position="right", **_OPTS)


def layer_entropy(frame: pd.DataFrame, estimator: str | None = None,
                  units: str = "bits") -> hv.Overlay:
    """H(T) of each layer over epochs, in ``units``."""
    est = pick_estimator(frame, estimator)
    table = info_table(frame, est, units)
    if table["ht"].isna().all():
        raise InputError(f"no H(T) rows for estimator {est!r}")
    layers = list(dict.fromkeys(table["layer"]))
    return layer_curves(table, layers, "ht", f"H(T) [{units}]",
                        title=f"Layer entropy ({est})").opts(width=520, height=320)


def compare_planes(frame: pd.DataFrame, by: str = "run", estimator: str | None = None,
                   units: str = "bits") -> hv.Layout:
    """One information plane per value of ``by`` ("run" or "estimator"), side by side."""
    if by not in ("run", "estimator"):
        raise InputError(f"by must be 'run' or 'estimator', got {by!r}")
    keys = estimators_in(frame) if by == "estimator" else list(dict.fromkeys(frame["run"]))
    panels = []
    for key in keys:
        sub = frame[frame[by] == key]
        panels.append(information_plane(sub, key if by == "estimator" else estimator, units,
                                        title=str(key)))
    return hv.Layout(panels).cols(2)


_DASHES = ["solid", "dashed", "dotted", "dashdot"]


def overlay_planes(frame: pd.DataFrame, estimator: str | None = None,
                   units: str = "bits") -> hv.Overlay:
    """The trajectories of several runs in one plane: colour = layer, line dash = run."""
    runs = list(dict.fromkeys(frame["run"]))
    x = hv.Dimension("ixt", label=f"I(X;T) [{units}]")
    y = hv.Dimension("ity", label=f"I(T;Y) [{units}]")
    curves = []
    for r, run in enumerate(runs):
        sub = frame[frame["run"] == run]
        wide = plane_table(sub, pick_estimator(sub, estimator), units)
        for i, (_, d) in enumerate(wide.groupby("layer_index", sort=True)):
            curves.append(hv.Curve(d, x, [y, "epoch"], label=f"{run} · {d['layer'].iloc[0]}").opts(
                color=LAYER_COLORS[i % len(LAYER_COLORS)], line_dash=_DASHES[r % len(_DASHES)]))
    if not curves:
        raise InputError("no information-plane rows to overlay")
    return hv.Overlay(curves).opts(title="Information planes: " + " vs ".join(map(str, runs)),
                                   width=560, height=420, legend_position="right", **_OPTS)


# ----- experiments over seeds (workbench.training.seeds) -----------------------------------------
#: Vertices of each epoch's spread ellipse in :func:`seed_band_plane`.
_ELLIPSE_POINTS = 24


def _ellipses(d: pd.DataFrame) -> list[dict]:
    import numpy as np

    angle = np.linspace(0.0, 2.0 * np.pi, _ELLIPSE_POINTS, endpoint=False)
    return [{"ixt_mean": r.ixt_mean + r.ixt_std * np.cos(angle),
             "ity_mean": r.ity_mean + r.ity_std * np.sin(angle)}
            for r in d.itertuples() if r.ixt_std > 0 or r.ity_std > 0]


def seed_band_plane(band: pd.DataFrame, group: str | None = None, units: str = "bits",
                    title: str | None = None) -> hv.Overlay:
    """The mean trajectory over seeds of every layer in the information plane, inside a band
    of ±1 std: each recorded epoch adds an ellipse with semi-axes std I(X;T) and std I(T;Y)
    (faint, so where they pile up the band is opaque). ``band``: a
    :func:`workbench.tracking.seed_tables.seed_band` table; ``group``: which of its groups
    (default the first)."""
    groups = list(dict.fromkeys(band["group"]))
    if not groups:
        raise InputError("the band table is empty")
    group = groups[0] if group is None else group
    if group not in groups:
        raise InputError(f"group {group!r} not in the band table; it has {groups}")
    rows = band[band["group"] == group].sort_values(["layer_index", "epoch"])
    x = hv.Dimension("ixt_mean", label=f"I(X;T) [{units}]")
    y = hv.Dimension("ity_mean", label=f"I(T;Y) [{units}]")
    layers = list(dict.fromkeys(rows["layer"]))
    parts = []
    for i, name in enumerate(layers):
        d = rows[rows["layer"] == name]
        style = layer_style(i, len(layers))
        # the band shares the curves' dimensions, so the axes keep their labels and units
        parts.append(hv.Polygons(_ellipses(d), [x, y]).opts(
            color=style["color"], alpha=0.12, line_alpha=0.0))
        parts.append(hv.Curve(d, x, [y, "epoch", "ixt_std", "ity_std", "n_seeds"],
                              label=str(name)).opts(color=style["color"],
                                                    line_width=style["line_width"],
                                                    tools=["hover"]))
    n = int(rows["n_seeds"].max()) if len(rows) else 0
    return hv.Overlay(parts).opts(
        title=title if title is not None else f"{group}: mean of {n} seeds, band ±1 std",
        legend_position="bottom_right", width=520, height=400, **_OPTS)


def seed_band_curves(band: pd.DataFrame, quantity: str = "ixt", group: str | None = None,
                     units: str = "bits") -> hv.Overlay:
    """``quantity`` (``"ixt"`` = I(X;T) or ``"ity"`` = I(T;Y)) of every layer over epochs:
    the mean over seeds with a ±1 std band (``hv.Spread``)."""
    if quantity not in ("ixt", "ity"):
        raise InputError(f"quantity must be 'ixt' or 'ity', got {quantity!r}")
    group = list(dict.fromkeys(band["group"]))[0] if group is None else group
    rows = band[band["group"] == group].sort_values(["layer_index", "epoch"])
    label = f"{'I(X;T)' if quantity == 'ixt' else 'I(T;Y)'} [{units}]"
    ydim = hv.Dimension(f"{quantity}_mean", label=label)
    layers = list(dict.fromkeys(rows["layer"]))
    parts = []
    for i, name in enumerate(layers):
        d = rows[rows["layer"] == name]
        color = layer_style(i, len(layers))["color"]
        parts.append(hv.Spread(d, "epoch", [ydim, f"{quantity}_std"]).opts(
            color=color, alpha=0.2, line_alpha=0.0))
        parts.append(hv.Curve(d, "epoch", ydim, label=str(name)).opts(color=color,
                                                                      line_width=2))
    return hv.Overlay(parts).opts(title=f"{group}: {label} over epochs (mean ± std)",
                                  legend_position="right", width=520, height=300, **_OPTS)


def seed_band_grid(band: pd.DataFrame, units: str = "bits") -> hv.Layout:
    """One :func:`seed_band_plane` per group (activation or architecture), side by side."""
    groups = list(dict.fromkeys(band["group"]))
    return hv.Layout([seed_band_plane(band, g, units) for g in groups]).cols(2)
