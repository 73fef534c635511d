"""HoloViews elements built from tidy DataFrames (no Panel here). One module per subject:
``plots.plane`` (information plane, metrics over epochs), ``plots.estimators`` (error vs n,
estimate vs knob), ``plots.attention`` (entropy heatmaps). Every axis names its unit."""
