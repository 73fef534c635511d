"""The streaming plots of the live pages (workbench.plots.live): every plot of a run moves to
the same last epoch at once, layers that coincide stay visible, and the attention heatmap's
title names the step it shows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

hv = pytest.importorskip("holoviews")

from workbench.plots import live, plane  # noqa: E402

LAYERS = ["layer1", "layer2", "layer3"]


def tidy(epochs) -> pd.DataFrame:
    """Rows of a plane tracker where layers 1 and 2 sit at the same point, (12, 1) bits."""
    rows = []
    for epoch in epochs:
        for index, layer in enumerate(LAYERS, 1):
            point = (12.0, 1.0, 12.0) if index < 3 else (3.0, 0.5, 3.0)
            for quantity, value in zip(("I(X;T)", "I(T;Y)", "H(T)"), point):
                rows.append({"run": "r", "epoch": epoch, "layer": layer, "layer_index": index,
                             "quantity": quantity, "estimator": "binning", "value": value,
                             "units": "bits", "seconds": 0.0})
        for quantity, value in (("loss", 0.5), ("test_loss", 0.6), ("accuracy", 0.8),
                                ("test_accuracy", 0.7)):
            rows.append({"run": "r", "epoch": epoch, "layer": "model", "layer_index": 0,
                         "quantity": quantity, "estimator": "", "value": value,
                         "units": "nats" if "loss" in quantity else "", "seconds": 0.0})
    return pd.DataFrame(rows)


def test_queued_rows_reach_every_plot_at_once():
    board = live.LivePlane(LAYERS, "binning", 10, (12.4, 1.05))
    board.send(tidy([0, 1]))
    board.queue(tidy([2, 3]))
    # queued, not drawn: every plot still shows epoch 1
    assert board.last == 1
    assert {board.data(s)["epoch"].max() for s in ("info", "metrics")} == {1}
    assert board.flush() and not board.flush()
    assert board.last == 3
    assert {board.data(s)["epoch"].max() for s in ("info", "metrics")} == {3}
    assert board.n_points == 4 * 3
    for plot in board.plots:
        hv.render(plot, backend="bokeh")
    board.clear()
    assert board.last is None and board.n_points == 0


def test_coinciding_layers_are_nested_markers_and_lines():
    board = live.LivePlane(LAYERS, "binning", 10, (12.4, 1.05))
    board.send(tidy([0, 1]))
    overlay = board.plane[()]
    points = [el for el in overlay if isinstance(el, hv.Points)][0]
    # deeper layers are drawn later (on top) with smaller markers ringed in their colour
    assert points.dimension_values("layer").tolist()[:2] == ["layer1", "layer1"]
    by_layer = dict(zip(points.dimension_values("layer"), points.dimension_values("size")))
    assert by_layer["layer1"] > by_layer["layer2"] > by_layer["layer3"]
    rings = dict(zip(points.dimension_values("layer"), points.dimension_values("ring")))
    assert len(set(rings.values())) == 3
    opts = hv.Store.lookup_options("bokeh", points, "style").kwargs
    assert (opts["size"], opts["line_color"]) == ("size", "ring")
    # H(T) curves: the first layer is the widest line, drawn first
    widths = [hv.Store.lookup_options("bokeh", c, "style").kwargs["line_width"]
              for c in board.entropy[()]]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    assert plane.LAYER_NOTE.startswith("Layers that coincide")


def _numeric_colour_fields(doc) -> list[str]:
    """Glyph colour options that name a column without a colour mapper while that column is
    numeric: what BokehJS refuses with "invalid color array"."""
    import numpy as np
    from bokeh.core.property.vectorization import Field
    from bokeh.models import GlyphRenderer

    bad = []
    for renderer in doc.select({"type": GlyphRenderer}):
        data = renderer.data_source.data
        for glyph in (renderer.glyph, renderer.selection_glyph, renderer.nonselection_glyph,
                      renderer.muted_glyph, renderer.hover_glyph):
            if glyph is None or isinstance(glyph, str):
                continue
            for name in glyph.properties():
                spec = getattr(glyph, name)
                if "color" not in name or not isinstance(spec, Field):
                    continue
                column = data.get(spec.field)
                if (not hasattr(spec.transform, "id") and isinstance(column, np.ndarray)
                        and column.dtype.kind in "biuf"):
                    bad.append(f"{type(glyph).__name__}.{name} -> {spec.field}")
    return bad


def test_live_glyphs_keep_their_options_while_rows_stream():
    """Regression (BokehJS "invalid color array" in JupyterLab): jupyter_bokeh sends a Bokeh
    document's changes one event at a time, so BokehJS sees every intermediate state. The
    plane's ring colours used to be an empty float column behind a colour mapper before the
    first rows and a plain column of colour names after, so between two events a glyph's
    ``line_color`` named a numeric column. Now, event by event, no colour option names a
    numeric column without a mapper, and streaming, clearing and refilling all layers changes
    only the data sources, never a glyph."""
    from bokeh.document import Document
    from bokeh.models import Glyph

    board = live.LivePlane(LAYERS, "binning", 10, (12.4, 1.05))
    doc = Document()
    for plot in board.plots:
        doc.add_root(hv.renderer("bokeh").get_plot(plot, doc=doc).state)
    changed, sources, bad = [], [], []

    def record(event):
        (changed if isinstance(getattr(event, "model", None), Glyph) else sources).append(
            getattr(event, "attr", None))
        bad.extend(_numeric_colour_fields(doc))

    doc.on_change(record)
    # one epoch (one distinct epoch and size per layer), more epochs, nothing, again
    board.send(tidy([0]))
    board.send(tidy([1, 2]))
    board.clear()
    board.send(tidy([0]))
    assert sources, "the updates reached the document"
    assert (changed, bad) == ([], [])
    # a lone layer (a bottleneck run) folds its one ring colour into a plain value: an option
    # change, but never through a state BokehJS refuses
    board.clear()
    board.send(tidy([0, 1]).query("layer in ('layer1', 'model')"))
    board.send(tidy([2]))
    assert bad == []


def test_axes_name_units():
    board = live.LivePlane(LAYERS, "binning", 10, (12.4, 1.05))
    board.send(tidy([0]))
    curve = board.plane[()].values()[0]
    assert curve.kdims[0].label == "I(X;T) [bits]" and curve.vdims[0].label == "I(T;Y) [bits]"
    assert board.loss[()].values()[0].vdims[0].label == "loss [nats]"
    assert board.accuracy[()].values()[0].vdims[0].label == "accuracy (fraction)"
    assert board.entropy[()].values()[0].vdims[0].label == "H(T) [bits]"


def attention_rows(step: int) -> pd.DataFrame:
    layers, heads = np.meshgrid(np.arange(2), np.arange(3), indexing="ij")
    return pd.DataFrame({"step": step, "layer": layers.ravel(), "head": heads.ravel(),
                         "entropy": 1.0 + step / 10, "entropy_normalized": 0.5, "loss": 2.0,
                         "val_loss": 2.1, "units": "bits"})


def title(element) -> str:
    return element.opts.get().kwargs["title"]


def test_heatmap_title_names_the_step_it_shows():
    board = live.LiveAttention(n_layers=2, n_heads=3, steps=30, max_bits=4.0)
    assert title(board.heatmap[()]) == "Attention entropy per head: no step measured yet"
    board.send(pd.concat([attention_rows(0), attention_rows(10)]))
    heat = board.heatmap[()]
    assert title(heat) == "Attention entropy per head at step 10" and board.last == 10
    np.testing.assert_allclose(heat.dimension_values("entropy"), 2.0)
    assert board.data("steps")["step"].max() == 10
    board.clear()
    assert title(board.heatmap[()]).endswith("no step measured yet")
