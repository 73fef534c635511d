"""HoloViews elements built from tidy DataFrames (no Panel here). One module per subject:
``plots.plane`` (information plane, metrics over epochs), ``plots.estimators`` (error vs n,
estimate vs knob), ``plots.attention`` (entropy heatmaps). Every axis names its unit."""

from ..extras import installed, missing

# found, not imported: HoloViews loads in the modules that draw
if not installed("holoviews"):
    raise missing("holoviews", "workbench.plots")
