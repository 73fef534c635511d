"""HoloViews maps of predictive uncertainty (total, aleatoric, epistemic) over a 2-D input
grid, from :func:`workbench.uncertainty.ensembles.ensemble_demo` or a tidy frame with columns
x, y, total, aleatoric, epistemic, units. Colour bars name the unit."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import numpy as np
import pandas as pd

from ..errors import WorkbenchError

PARTS = ("total", "aleatoric", "epistemic")
TITLES = {"total": "Total  H[mean p]", "aleatoric": "Aleatoric  mean H[p]",
          "epistemic": "Epistemic  I(y; member)"}


def _grid(frame: pd.DataFrame, part: str):
    xs, ys = np.unique(frame["x"]), np.unique(frame["y"])
    if len(xs) * len(ys) != len(frame):
        raise WorkbenchError("the frame is not a full x-y grid (need one row per grid point)")
    table = frame.pivot_table(index="y", columns="x", values=part)
    return xs, ys, table.to_numpy()


def uncertainty_maps(data, points: bool = True, shared_scale: bool = False) -> hv.Layout:
    """Three images (total, aleatoric, epistemic) side by side.

    ``data``: an :class:`~workbench.uncertainty.ensembles.EnsembleDemo` (its training points are
    drawn on
    top when ``points``) or a frame with columns x, y, total, aleatoric, epistemic, units.
    ``shared_scale``: one colour range for the three maps (default: each its own)."""
    frame = data.frame() if hasattr(data, "frame") else data
    missing = {"x", "y", *PARTS} - set(frame.columns)
    if missing:
        raise WorkbenchError(f"frame lacks columns {sorted(missing)}")
    units = frame["units"].iloc[0] if "units" in frame and len(frame) else "bits"
    top = float(frame[list(PARTS)].to_numpy().max()) if shared_scale else None
    panels = []
    for part in PARTS:
        xs, ys, z = _grid(frame, part)
        dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
        label = f"{part} uncertainty ({units})"
        img = hv.Image((xs, ys, z), kdims=["x", "y"], vdims=[hv.Dimension(part, label=label)],
                       bounds=(xs[0] - dx, ys[0] - dy, xs[-1] + dx, ys[-1] + dy))
        opts = dict(cmap="magma", colorbar=True, clabel=label, width=330, height=280,
                    title=TITLES[part], tools=["hover"])
        if top is not None:
            opts["clim"] = (0.0, top)
        panel = img.opts(**opts)
        if points and hasattr(data, "X"):
            pts = hv.Points((data.X[:, 0], data.X[:, 1], data.y), vdims=["label"]).opts(
                color="label", cmap=["#1f77b4", "#ff7f0e"], size=3, line_color="white",
                line_width=0.3)
            panel = panel * pts
        panels.append(panel)
    return hv.Layout(panels).cols(3)
