"""Figure and table exports behind the pages' export bars: PNG (matplotlib, no browser), HTML
(standalone, BokehJS inline), CSV and Parquet that read back to the same rows; live
(streaming) plots export what they show now."""
from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

hv = pytest.importorskip("holoviews")

from workbench.plots import static  # noqa: E402
from workbench.plots.live import LiveBoard  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def curves():
    frame = pd.DataFrame({"epoch": np.arange(5), "value": np.arange(5) ** 2 / 10})
    curve = hv.Curve(frame, hv.Dimension("epoch"), hv.Dimension("value", label="H(T) [bits]"),
                     label="layer1")
    return curve * hv.Scatter(frame, "epoch", "value")


def test_png_draws_every_panel_with_its_labels():
    layout = hv.Layout([curves().opts(title="entropy"),
                        hv.HeatMap([(0, 0, 1.0), (1, 0, 2.0), (0, 1, 3.0), (1, 1, 4.0)],
                                   ["head", "layer"], "entropy")]).cols(2)
    fig = static.holoviews_figure(layout)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert axes[0].get_title() == "entropy"
    assert axes[0].get_ylabel() == "H(T) [bits]" and axes[0].get_xlabel() == "epoch"
    assert len(axes[0].lines) == 1 and len(axes[0].collections) == 1  # curve and points
    assert axes[1].images[0].get_array().shape == (2, 2)
    png = static.figure_bytes(layout, "png")
    assert png.startswith(PNG_MAGIC)


def test_html_is_standalone():
    html = static.figure_bytes(curves(), "html").decode()
    assert "Bokeh" in html and "<script" in html
    assert not re.search(r"<script[^>]+src=", html)  # BokehJS inline, nothing fetched


def test_live_plot_exports_what_it_shows():
    board = LiveBoard()
    board.stream("rows", lambda rows: rows[["epoch", "value"]],
                 {"epoch": "int64", "value": "float64"})
    board.plot("rows", lambda t: hv.Curve(t, "epoch", "value"))
    board.send(pd.DataFrame({"epoch": [0, 1, 2], "value": [0.5, 0.25, 0.125]}))
    fig = static.holoviews_figure(board.figure())
    (line,) = fig.axes[0].lines
    assert list(line.get_ydata()) == [0.5, 0.25, 0.125]


@pytest.mark.parametrize("fmt", static.TABLE_FORMATS)
def test_tables_read_back(fmt):
    frame = pd.DataFrame({"epoch": [0, 1], "layer": ["a", "b"], "value": [0.5, 1.5],
                          "units": ["bits", "bits"]})
    data = static.table_bytes(frame, fmt)
    back = pd.read_csv(io.BytesIO(data)) if fmt == "csv" else pd.read_parquet(io.BytesIO(data))
    pd.testing.assert_frame_equal(back, frame)


def test_unknown_formats_are_refused():
    with pytest.raises(ValueError, match="figure format"):
        static.figure_bytes(curves(), "svg")
    with pytest.raises(ValueError, match="table format"):
        static.table_bytes(pd.DataFrame({"a": [1]}), "xlsx")
