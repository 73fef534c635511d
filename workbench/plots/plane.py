"""HoloViews elements for the information plane, built from the tidy frames of
:class:`workbench.tracking.plane.InformationPlane` / :class:`workbench.runs.RunStore` (no Panel
here).

* :func:`information_plane`: I(X;T) against I(T;Y), one trajectory per layer (line + points),
  points coloured by epoch with a colour bar labelled "epoch".
* :func:`metric_curves`: loss and accuracy over epochs (train and test).
* :func:`layer_entropy`: H(T) of every layer over epochs.
* :func:`compare_planes`: the planes of several runs (or estimators) side by side;
  :func:`overlay_planes`: several runs in one plane (colour = layer, dash = run).

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
    frame_in_units,
    pick_estimator,
    plane_table,
)

_OPTS = {"show_grid": True, "tools": ["hover"], "fontsize": {"title": 11, "labels": 11,
                                                            "ticks": 9}}


def information_plane(frame: pd.DataFrame, estimator: str | None = None, units: str = "bits",
                      title: str | None = None, colorbar: bool = True) -> hv.Overlay:
    """I(X;T) vs I(T;Y): a line per layer, points coloured by epoch (colour bar "epoch")."""
    est = pick_estimator(frame, estimator)
    wide = plane_table(frame, est, units)
    x = hv.Dimension("ixt", label=f"I(X;T) [{units}]")
    y = hv.Dimension("ity", label=f"I(T;Y) [{units}]")
    epoch = hv.Dimension("epoch", label="epoch")
    layers = list(dict.fromkeys(wide.sort_values("layer_index")["layer"]))
    lines = [hv.Curve(wide[wide["layer"] == name], x, [y, epoch], label=str(name)).opts(
        color=LAYER_COLORS[i % len(LAYER_COLORS)], line_width=1.5, alpha=0.8)
        for i, name in enumerate(layers)]
    points = hv.Points(wide, [x, y], [epoch, "layer"]).opts(
        color="epoch", cmap=EPOCH_CMAP, size=5, colorbar=colorbar,
        colorbar_opts={"title": "epoch"}, line_color=None)
    overlay = hv.Overlay(lines + [points]) if lines else hv.Overlay([points])
    return overlay.opts(title=title if title is not None else f"Information plane ({est})",
                        legend_position="bottom_right", width=520, height=400, **_OPTS)


def metric_curves(frame: pd.DataFrame, title: str = "Training metrics") -> hv.Layout:
    """Loss (nats) and accuracy over epochs, train and test."""
    parts = []
    for kind, label in (("loss", "loss [nats]"), ("accuracy", "accuracy")):
        curves = []
        for q, name in ((kind, "train"), (f"test_{kind}", "test")):
            d = frame[frame["quantity"] == q].sort_values("epoch")
            if len(d):
                curves.append(hv.Curve(d, hv.Dimension("epoch", label="epoch"),
                                       hv.Dimension("value", label=label), label=name))
        if curves:
            parts.append(hv.Overlay(curves).opts(title=label, width=380, height=260,
                                                 legend_position="top_right", **_OPTS))
    if not parts:
        raise InputError("the frame holds no loss/accuracy rows")
    return hv.Layout(parts).opts(title=title).cols(2)


def layer_entropy(frame: pd.DataFrame, estimator: str | None = None,
                  units: str = "bits") -> hv.Overlay:
    """H(T) of each layer over epochs, in ``units``."""
    est = pick_estimator(frame, estimator)
    df = frame_in_units(frame[(frame["estimator"] == est) & (frame["quantity"] == "H(T)")],
                        units)
    if df.empty:
        raise InputError(f"no H(T) rows for estimator {est!r}")
    curves = []
    for i, (_name, d) in enumerate(df.sort_values("layer_index").groupby("layer_index")):
        d = d.sort_values("epoch")
        curves.append(hv.Curve(d, hv.Dimension("epoch", label="epoch"),
                               hv.Dimension("value", label=f"H(T) [{units}]"),
                               label=str(d["layer"].iloc[0])).opts(
            color=LAYER_COLORS[i % len(LAYER_COLORS)]))
    return hv.Overlay(curves).opts(title=f"Layer entropy ({est})", width=520, height=320,
                                   legend_position="right", **_OPTS)


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
