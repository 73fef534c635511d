"""HoloViews elements for beyond-pairs measures: PID atoms as labelled bars, the multiplet
table (:func:`workbench.measures.multivariate.multiplets`) and transfer-entropy tables
(:func:`workbench.measures.timeseries.transfer_entropy_matrix`) as heatmaps. Every value axis
names its unit."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import pandas as pd

from ..errors import WorkbenchError

_SIZE = {"responsive": True, "show_grid": True, "tools": ["hover"],
         "fontsize": {"title": 11, "labels": 11, "ticks": 9}}
ATOM_LABELS = {"redundancy": "redundancy", "unique1": "unique X1", "unique2": "unique X2",
               "synergy": "synergy"}
ATOM_COLORS = {"redundancy": "#1f77b4", "unique X1": "#2ca02c", "unique X2": "#98df8a",
               "synergy": "#d62728"}
MEASURE_LABELS = {"tc": "TC", "dtc": "DTC", "o_information": "Ω (O-information)",
                  "s_information": "Σ (S-information)"}


def pid_bars(pid, title: str = "") -> hv.Bars:
    """One bar per PID atom of a :class:`~workbench.measures.pid.PID` (its ``frame()``),
    value axis in the PID's units."""
    frame = pid.frame()
    frame["label"] = frame["atom"].map(ATOM_LABELS)
    label = f"information ({pid.units})"
    bars = hv.Bars(frame, kdims=[hv.Dimension("label", label="atom")],
                   vdims=[hv.Dimension("value", label=label)])
    return bars.opts(color="label", cmap=ATOM_COLORS, height=320, ylabel=label,
                     title=title or f"PID ({pid.measure}): I(X1,X2;Y) = "
                     f"{pid.mutual_info:.3g} {pid.units}", **_SIZE)


def multiplet_heatmap(table: pd.DataFrame, top: int = 30, title: str = "") -> hv.HeatMap:
    """Multiplets (columns, the ``top`` largest |Ω| first) × measures (TC, DTC, Ω, Σ)."""
    if not len(table):
        raise WorkbenchError("the multiplet table is empty")
    units = table["units"].iloc[0]
    order = table.reindex(table["o_information"].abs().sort_values(ascending=False).index)
    chosen = order.head(top)
    long = chosen.melt(id_vars=["variables"], value_vars=list(MEASURE_LABELS),
                       var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(MEASURE_LABELS)
    label = f"value ({units})"
    heat = hv.HeatMap(long, kdims=[hv.Dimension("variables", label="multiplet"),
                                   hv.Dimension("measure")],
                      vdims=[hv.Dimension("value", label=label)])
    return heat.opts(cmap="RdBu_r", symmetric=True, colorbar=True, clabel=label, height=300,
                     xrotation=45, title=title or f"{len(chosen)} of {len(table)} multiplets "
                     "(largest |Ω| first; Ω < 0 synergy, > 0 redundancy)", **_SIZE)


def te_heatmap(table: pd.DataFrame, title: str = "") -> hv.HeatMap:
    """Source × target heatmap of transfer entropy (``te`` column; ``p_value`` in the hover
    where present)."""
    if not len(table):
        raise WorkbenchError("the transfer-entropy table is empty")
    units = table["units"].iloc[0]
    label = f"TE ({units})"
    vdims = [hv.Dimension("te", label=label)]
    if "p_value" in table:
        vdims.append(hv.Dimension("p_value", label="p"))
    heat = hv.HeatMap(table, kdims=[hv.Dimension("target"), hv.Dimension("source")],
                      vdims=vdims)
    return heat.opts(cmap="viridis", colorbar=True, clabel=label, height=320,
                     invert_yaxis=True, title=title or "Transfer entropy source → target",
                     **_SIZE)


__all__ = ["pid_bars", "multiplet_heatmap", "te_heatmap"]
