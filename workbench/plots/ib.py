"""HoloViews elements for training with a bottleneck (no Panel here).

* :func:`ib_curve`: I(T;Y) against I(X;T) over β, one point per β (the seed mean) with
  error bars of ±1 seed standard deviation on both axes, labelled with β, one curve per
  objective; built from the records of :func:`workbench.ib.sweep.sweep`.
* :func:`ib_curve_with_planes`: the curve beside the bottleneck's information-plane
  trajectories of the stored runs (:func:`workbench.plots.plane.overlay_planes`).

Axes name their units (``I(X;T) [bits]``).
"""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import pandas as pd

from ..errors import InputError

_OPTS = {"show_grid": True, "tools": ["hover"], "fontsize": {"title": 11, "labels": 11,
                                                            "ticks": 9}}
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def ib_curve(records, x: str = "I_XT", y: str = "I_TY", title: str = "IB curve over β"
             ) -> hv.Overlay:
    """I(T;Y) against I(X;T), one point per (objective, β) with ±1 sd seed bars; ``x`` / ``y``
    pick other record keys (e.g. ``bound_XT``)."""
    from ..ib.sweep import ib_table

    table = ib_table(records)
    units = str(table["units"].iloc[0])
    xlabel = {"I_XT": "I(X;T)", "bound_XT": "bound on I(X;T)"}.get(x, x)
    ylabel = {"I_TY": "I(T;Y)", "I_TY_channel": "I(T;Y) (channel)"}.get(y, y)
    xdim, ydim = hv.Dimension(x, label=f"{xlabel} [{units}]"), hv.Dimension(
        y, label=f"{ylabel} [{units}]")
    parts = []
    for i, (objective, group) in enumerate(table.groupby("objective", sort=False)):
        group = group.sort_values(x)
        color = _COLORS[i % len(_COLORS)]
        data = group.assign(beta_label=[f"β={b:g}" for b in group["beta"]])
        kdims, vdims = [xdim], [ydim, "beta", "test_accuracy", "beta_label"]
        parts.append(hv.Curve(data, kdims, [ydim], label=str(objective)).opts(color=color))
        parts.append(hv.Scatter(data, kdims, vdims, label=str(objective)).opts(
            color=color, size=9, tools=["hover"]))
        parts.append(hv.ErrorBars(data, kdims, [ydim, f"{y}_std"]).opts(color=color))
        parts.append(hv.ErrorBars(data, kdims, [ydim, f"{x}_std"], horizontal=True)
                     .opts(color=color))
        parts.append(hv.Labels(data, [xdim, ydim], ["beta_label"]).opts(
            text_font_size="8pt", yoffset=0.04 * float(table[y].max() or 1.0),
            text_color=color))
    if not parts:
        raise InputError("no records to draw")
    return hv.Overlay(parts).opts(title=title, width=520, height=400, legend_position="right",
                                  **_OPTS)


def ib_curve_with_planes(records, frame: pd.DataFrame, units: str = "bits") -> hv.Layout:
    """The IB curve beside the bottleneck's plane trajectories of the runs in ``frame``
    (tidy rows of :class:`workbench.ib.tracker.IBPlane`, a ``run`` column per run)."""
    from .plane import overlay_planes

    return (ib_curve(records) + overlay_planes(frame, units=units)).cols(2)
