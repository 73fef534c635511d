"""HoloViews elements for attention entropy, from the tidy rows of
:func:`workbench.attention.transformer.train_char_transformer` (step, layer, head, entropy, ...,
units) or
the per-head frames of :func:`workbench.attention.entropy.summarize` (layer, head, mean, ...,
units).

The colour bar and value axes name the unit (bits / nats, or "normalised" for entropies divided
by the log of the number of visible keys)."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import pandas as pd

from ..errors import WorkbenchError
from .plane import TEST_STYLE, TRAIN_STYLE, layer_style

CMAP = "viridis"
_SIZE = {"tools": ["hover"], "fontsize": {"title": 11, "labels": 11, "ticks": 9}}
_CURVES_SIZE = {"width": 420, "height": 280}


def _overlay_opts(defaults: dict, opts: dict) -> dict:
    """``defaults`` updated with the caller's ``opts``; a None value drops the option (a
    responsive page plot needs no explicit width: HoloViews then ignores ``responsive``)."""
    merged = {**_CURVES_SIZE, **defaults, **opts}
    return {k: v for k, v in merged.items() if v is not None}


def _value_column(frame: pd.DataFrame, value: str | None) -> str:
    if value is None:
        value = "entropy" if "entropy" in frame else "mean"
    if value not in frame:
        raise WorkbenchError(f"frame has no column {value!r}; columns: {list(frame.columns)}")
    return value


def value_label(frame: pd.DataFrame, value: str) -> str:
    """Axis / colour-bar label for ``value``, naming its unit."""
    if value.endswith("normalized") or (len(frame) and "units" in frame
                                        and frame["units"].iloc[0] == "normalized"):
        return "attention entropy / log(keys) (normalised, 0-1)"
    units = set(frame["units"]) if "units" in frame and len(frame) else {"bits"}
    if len(units) != 1:
        raise WorkbenchError(f"the frame mixes units {sorted(units)}; convert it first")
    return f"attention entropy ({units.pop()})"


def _last_step(frame: pd.DataFrame) -> pd.DataFrame:
    if "step" not in frame:
        return frame
    return frame[frame["step"] == frame["step"].max()]


def entropy_heatmap(frame: pd.DataFrame, step: int | None = None, value: str | None = None,
                    clim: tuple[float, float] | None = None, title: str = "") -> hv.HeatMap:
    """Layer × head heatmap of mean attention entropy (rows: layers, layer 0 at the top).

    ``frame``: training rows (then ``step`` picks one measurement, default the last) or a
    per-head summary. ``value``: column to colour by ("entropy", "entropy_normalized",
    "mean"; default "entropy" or "mean"). ``clim``: colour range (share it across steps)."""
    value = _value_column(frame, value)
    data = frame if step is None else frame[frame["step"] == step]
    if step is None:
        data = _last_step(data)
    if not len(data):
        raise WorkbenchError(f"no rows at step {step}")
    label = value_label(data, value)
    table = data.groupby(["layer", "head"], as_index=False)[value].mean()
    table["head"] = table["head"].astype(str)
    table["layer"] = table["layer"].astype(str)
    n_layers = table["layer"].nunique()
    heat = hv.HeatMap(table, kdims=[hv.Dimension("head"), hv.Dimension("layer")],
                      vdims=[hv.Dimension(value, label=label)])
    at = "" if step is None and "step" not in frame else \
        f" at step {int(data['step'].iloc[0])}"
    opts = dict(cmap=CMAP, colorbar=True, clabel=label, invert_yaxis=True,
                width=320, height=max(160, 40 * n_layers + 80),
                title=title or f"Attention entropy{at}", **_SIZE)
    if clim is not None:
        opts["clim"] = tuple(clim)
    return heat.opts(**opts)


def _curve_style(index: int, n_layers: int) -> dict:
    style = layer_style(index, n_layers)
    return {"color": style["color"], "line_width": style["line_width"]}


def snapshot_steps(steps, n: int) -> list:
    """``n`` evenly spaced entries of the sorted distinct ``steps``, first and last included:
    entry round(i (m − 1) / (n − 1)) for i = 0 … n − 1 of the m steps (Python's round: halves
    to even), fewer when m < n."""
    steps = sorted(set(steps))
    if not steps:
        raise WorkbenchError("no measured steps to pick snapshots from")
    if n < 1:
        raise WorkbenchError(f"snapshots must be >= 1, got {n}")
    k = min(n, len(steps))
    return list(dict.fromkeys(steps[round(i * (len(steps) - 1) / max(k - 1, 1))]
                              for i in range(k)))


def heatmaps_over_training(frame: pd.DataFrame, snapshots: int = 4,
                           value: str | None = None, label: str = "") -> hv.Layout:
    """Layer × head heatmaps at ``snapshots`` evenly spaced measured steps
    (:func:`snapshot_steps`), on one shared colour scale; ``label`` prefixes each title."""
    value = _value_column(frame, value)
    if not len(frame):
        raise WorkbenchError("frame has no rows")
    clim = (0.0, float(frame[value].max()))
    prefix = f"{label}: " if label else ""
    maps = [entropy_heatmap(frame, s, value, clim, title=f"{prefix}step {int(s)}")
            for s in snapshot_steps(frame["step"], snapshots)]
    return hv.Layout(maps).cols(len(maps))


def entropy_over_training(frame: pd.DataFrame, value: str | None = None,
                          title: str = "", layers=None, **opts) -> hv.NdOverlay:
    """Mean attention entropy over heads, one curve per layer, against training step.

    ``layers``: the layer indices to draw (default: those in ``frame``); a layer without rows
    gets an empty curve, so a live plot keeps one curve (and colour) per layer from the start.
    Deeper layers get thinner lines, drawn on top (:func:`workbench.plots.plane.layer_style`).
    ``opts``: overlay plot options over the defaults (420 × 280 px); ``width=None`` drops the
    fixed width."""
    value = _value_column(frame, value)
    label = value_label(frame, value)
    per_layer = frame.groupby(["step", "layer"], as_index=False)[value].mean()
    layers = sorted(per_layer["layer"].unique()) if layers is None else list(layers)
    curves = {int(layer): hv.Curve(per_layer[per_layer["layer"] == layer][["step", value]],
                                   kdims=[hv.Dimension("step", label="training step")],
                                   vdims=[hv.Dimension(value, label=label)]).opts(
                                       tools=["hover"], **_curve_style(i, len(layers)))
              for i, layer in enumerate(layers)}
    layer_dim = hv.Dimension("layer", value_format=lambda v: f"layer {v}")  # legend text
    return hv.NdOverlay(curves, kdims=[layer_dim]).opts(**_overlay_opts(
        {"legend_position": "right", "show_grid": True,
         "title": title or "Attention entropy per layer (mean over heads)"}, opts))


def loss_over_training(frame: pd.DataFrame, **opts) -> hv.Overlay:
    """Training and held-out loss (nats per character) against step, from training rows.
    ``opts``: overlay plot options, as in :func:`entropy_over_training`."""
    per_step = frame.groupby("step", as_index=False)[["loss", "val_loss"]].first()
    xdim = hv.Dimension("step", label="training step")
    ydim = hv.Dimension("loss", label="cross-entropy (nats/char)")
    train = hv.Curve(per_step, xdim, ydim, label="train").opts(line_width=2, **TRAIN_STYLE)
    val = hv.Curve(per_step.rename(columns={"loss": "_", "val_loss": "loss"}), xdim, ydim,
                   label="held out").opts(line_width=2, **TEST_STYLE)
    return (train * val).opts(**_overlay_opts(
        {"title": "Loss", "show_grid": True, "legend_position": "top_right"}, opts))


def training_dashboard(frame: pd.DataFrame, snapshots: int = 4) -> hv.Layout:
    """Heatmaps over training, entropy per layer, and loss: what ``workbench attention``
    saves as HTML."""
    layout = heatmaps_over_training(frame, snapshots) + entropy_over_training(frame) \
        + loss_over_training(frame)
    return layout.cols(max(2, min(snapshots, 4)))
