"""HoloViews elements for estimator behaviour, built from the tidy frames of
:mod:`workbench.lab`: error (or estimate) against sample size, and estimate against one knob.
Every value axis names its unit (bits or nats, read from the frame's ``units`` column)."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import numpy as np
import pandas as pd

from ..errors import WorkbenchError
from ..estimators.base import QUANTITY_SYMBOLS

#: Colours shared by the two plots: per-seed points, the mean line, the truth line.
POINT_COLOR, LINE_COLOR, TRUTH_COLOR = "#9ab7d3", "#1f4e79", "#c0392b"
_SIZE = {"responsive": True, "height": 330, "show_grid": True,
         "tools": ["hover"], "fontsize": {"title": 11, "labels": 11, "ticks": 9}}


def _units(frame: pd.DataFrame) -> str:
    units = set(frame["units"]) if len(frame) else {"bits"}
    if len(units) != 1:
        raise WorkbenchError(f"the frame mixes units {sorted(units)}; convert it first "
                             "(workbench.units.convert_columns)")
    return units.pop()


def _symbol(frame: pd.DataFrame) -> str:
    quantity = frame["quantity"].iloc[0] if len(frame) and "quantity" in frame else "mutual_info"
    return QUANTITY_SYMBOLS.get(quantity, quantity)


def _known_truth(frame: pd.DataFrame) -> float | None:
    if "truth" not in frame or not len(frame) or frame["truth"].isna().any():
        return None
    return float(frame["truth"].iloc[0])


def error_vs_n(frame: pd.DataFrame, title: str = "") -> hv.Overlay:
    """Per-seed points and the mean over seeds against sample size ``n`` (log axis).

    With a known truth the value is ``|estimate − truth|`` (log–log when positive: a consistent
    estimator's error falls as a line); without one it is the estimate itself."""
    units, symbol = _units(frame), _symbol(frame)
    truth = _known_truth(frame)
    if truth is not None:
        col, ylabel = "abs_error", f"|estimate − true {symbol}| ({units})"
        default_title = f"Error vs sample size ({units})"
    else:
        col, ylabel = "estimate", f"estimated {symbol} ({units})"
        default_title = f"Estimate vs sample size ({units})"
    data = frame[["n", "seed", col]].rename(columns={col: "value"})
    mean = data.groupby("n", as_index=False)["value"].agg(["mean", "std"]).fillna(0.0)
    logy = truth is not None and bool(len(data)) and bool((data["value"] > 0).all())
    kdims, vdims = [hv.Dimension("n", label="sample size n")], [hv.Dimension("value",
                                                                             label=ylabel)]
    axes = {"logx": True, "logy": logy}
    points = hv.Scatter(data, kdims, vdims + ["seed"], label="per seed").opts(
        color=POINT_COLOR, size=6, **axes)
    line = hv.Curve(mean, kdims, [hv.Dimension("mean", label=ylabel)],
                    label="mean over seeds").opts(color=LINE_COLOR, line_width=2, **axes)
    overlay = points * line
    if truth is None and len(data):
        overlay = overlay * hv.ErrorBars(mean, kdims, [hv.Dimension("mean", label=ylabel),
                                                       "std"]).opts(color=LINE_COLOR, **axes)
    # ticks at the sample sizes drawn: a log axis alone labels few of them
    ticks = [(int(n), str(int(n))) for n in mean["n"]]
    return overlay.opts(title=title or default_title, legend_position="bottom", xticks=ticks,
                        **_SIZE)


def estimate_vs_knob(frame: pd.DataFrame, title: str = "") -> hv.Overlay:
    """The estimate against the swept knob's values, with the true value as a line if known.

    Numeric knobs get a numeric axis; booleans and selector options a categorical one."""
    units, symbol = _units(frame), _symbol(frame)
    knob = str(frame["knob"].iloc[0]) if len(frame) else "knob"
    data = frame[["value", "estimate"]].copy()
    numeric = len(data) and all(isinstance(v, (int, float, np.integer, np.floating))
                                and not isinstance(v, (bool, np.bool_)) for v in data["value"])
    if not numeric:
        data["value"] = data["value"].astype(str)
    ylabel = f"estimated {symbol} ({units})"
    kdims, vdims = [hv.Dimension("value", label=knob)], [hv.Dimension("estimate", label=ylabel)]
    overlay = (hv.Curve(data, kdims, vdims, label="estimate").opts(color=LINE_COLOR, line_width=2)
               * hv.Scatter(data, kdims, vdims).opts(color=LINE_COLOR, size=7))
    truth = _known_truth(frame)
    if truth is not None:
        # a Curve rather than an HLine so the truth appears in the legend
        line = pd.DataFrame({"value": data["value"], "estimate": truth})
        overlay = overlay * hv.Curve(line, kdims, vdims, label=f"true {symbol}").opts(
            color=TRUTH_COLOR, line_dash="dashed", line_width=2)
    return overlay.opts(title=title or f"Estimate vs {knob} ({units})",
                        legend_position="bottom", **_SIZE)

