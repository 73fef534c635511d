"""Mean trajectory with a band over seeds, in the plane and over epochs."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from workbench.errors import InputError
from workbench.plots.plane import seed_band_curves, seed_band_grid, seed_band_plane
from workbench.tracking.seed_tables import BAND_COLUMNS


def _band():
    import pandas as pd

    rows = []
    for group in ("tanh", "relu"):
        for li, layer in enumerate(("layer1", "layer2"), start=1):
            for epoch in range(4):
                rows.append([group, layer, li, epoch, 5.0 - li + epoch, 0.2 * epoch,
                             0.5 + 0.1 * epoch, 0.05, 3])
    return pd.DataFrame(rows, columns=list(BAND_COLUMNS))


def test_band_plane_draws_ellipses_around_the_mean():
    band = _band()
    plot = seed_band_plane(band, "tanh")
    polys = [e for e in plot if isinstance(e, hv.Polygons)]
    curves = [e for e in plot if isinstance(e, hv.Curve)]
    assert len(polys) == len(curves) == 2
    # epoch 0 has ixt_std 0 but ity_std 0.05: every epoch gets an ellipse
    ellipses = polys[0].split()
    assert len(ellipses) == 4
    xs = ellipses[1].dimension_values(0)
    # epoch 1 of layer1: centre 5.0, semi-axis 0.2 along I(X;T)
    assert xs.max() == pytest.approx(5.2) and xs.min() == pytest.approx(4.8, abs=0.01)
    assert curves[0].kdims[0].label == "I(X;T) [bits]"
    assert curves[0].vdims[0].label == "I(T;Y) [bits]"
    # the band shares the axes' dimensions: the overlay's axes keep label and units
    assert [d.label for d in polys[0].kdims] == ["I(X;T) [bits]", "I(T;Y) [bits]"]
    figure = hv.render(plot, backend="bokeh")
    assert figure.xaxis[0].axis_label == "I(X;T) [bits]"
    assert figure.yaxis[0].axis_label == "I(T;Y) [bits]"
    assert "3 seeds" in plot.opts.get().kwargs["title"]


def test_band_curves_and_grid():
    band = _band()
    curves = seed_band_curves(band, "ity", "relu", units="nats")
    spreads = [e for e in curves if isinstance(e, hv.Spread)]
    assert len(spreads) == 2
    assert np.allclose(spreads[0].dimension_values("ity_std"), 0.05)
    assert [e for e in curves if isinstance(e, hv.Curve)][0].vdims[0].label == "I(T;Y) [nats]"
    grid = seed_band_grid(band)
    assert len(grid) == 2
    with pytest.raises(InputError):
        seed_band_plane(band, "gelu")
    with pytest.raises(InputError):
        seed_band_curves(band, "ht")
