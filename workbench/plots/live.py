"""Streaming HoloViews elements for the live pages (Plane Studio, Entropy Monitor; no Panel).

A :class:`LiveBoard` holds the plots of one run. Each plot is a ``hv.DynamicMap`` of an element
function shared with the static plots (:func:`workbench.plots.plane.plane_overlay`,
:func:`~workbench.plots.plane.metric_curve`, :func:`~workbench.plots.plane.layer_curves`,
:mod:`workbench.plots.attention`) on a stream: an ``hv.streams.Buffer`` that keeps every row,
or an ``hv.streams.Pipe`` that holds the latest table. :meth:`LiveBoard.queue` turns new tidy
rows into each stream's table (cheap: :mod:`workbench.tracking.tables`); :meth:`LiveBoard.flush`
sends every stream its rows at once, so all plots of a run show the same last epoch (or step),
:attr:`LiveBoard.last`, which a page's counter shows too.

* :class:`LivePlane`: information plane, loss, accuracy and per-layer H(T) of one estimator.
* :class:`LiveLayers`: one plot per representation measure (:func:`panels_for`) and accuracy.
* :class:`LiveAttention`: layer × head heatmap of the latest step, entropy and loss over steps.
"""
from __future__ import annotations

from collections.abc import Callable

import holoviews as hv
import numpy as np
import pandas as pd

from ..tracking.tables import (
    INFO_COLUMNS,
    METRIC_COLUMNS,
    SERIES_COLUMNS,
    empty_table,
    info_table,
    layer_series,
    metric_table,
)
from . import attention as attention_plots
from .plane import layer_curves, metric_curve, plane_overlay

#: hv.streams.Buffer keeps only the last ``length`` rows (HoloViews' default is 1000).
BUFFER_LENGTH = 10**7
#: Options of the small plots on the live pages (responsive width, fixed height).
PLOT_OPTS = {"show_grid": True, "tools": ["hover"], "height": 240, "responsive": True,
             "min_width": 300, "fontsize": {"title": 11, "labels": 10, "ticks": 9}}
ATTENTION_COLUMNS = {"step": "int64", "layer": "int64", "head": "int64", "entropy": "float64",
                     "entropy_normalized": "float64", "loss": "float64",
                     "val_loss": "float64", "units": "object"}


class _Feed:
    """One stream and the rows waiting for it."""

    def __init__(self, table: Callable[[pd.DataFrame], pd.DataFrame], columns: dict | None,
                 initial: pd.DataFrame | None):
        self.table, self.initial, self.pending = table, initial, []
        self.stream = (hv.streams.Pipe(data=initial) if initial is not None else
                       hv.streams.Buffer(empty_table(columns), index=False,
                                         length=BUFFER_LENGTH))

    def flush(self) -> bool:
        if not self.pending:
            return False
        pending, self.pending = self.pending, []
        if isinstance(self.stream, hv.streams.Buffer):
            self.stream.send(pd.concat(pending, ignore_index=True))
        else:
            self.stream.send(pending[-1])
        return True

    def clear(self) -> None:
        self.pending = []
        if isinstance(self.stream, hv.streams.Buffer):
            self.stream.clear()
        else:
            self.stream.send(self.initial)


class LiveBoard:
    """The live plots of one run, redrawn together (see the module docstring).

    ``key``: the column that counts progress in the rows (``epoch`` or ``step``)."""

    def __init__(self, key: str = "epoch"):
        self.key = key
        #: The last epoch (step) the plots show; None before the first flush.
        self.last: int | None = None
        self._queued: int | None = None
        self._feeds: dict[str, _Feed] = {}
        #: The plots, in the order they were added.
        self.plots: list[hv.DynamicMap] = []

    def stream(self, name: str, table: Callable[[pd.DataFrame], pd.DataFrame],
               columns: dict | None = None, initial: pd.DataFrame | None = None) -> None:
        """A stream fed with ``table(new tidy rows)``: a Buffer of ``columns`` that keeps every
        row, or (``initial`` given) a Pipe showing the latest table, ``initial`` until then."""
        self._feeds[name] = _Feed(table, columns, initial)

    def plot(self, stream: str, element: Callable, **opts) -> hv.DynamicMap:
        """A plot of ``element(table)`` redrawn from ``stream``, with these plot options."""
        def callback(data):  # HoloViews passes the stream's contents as ``data``
            return element(data)

        dmap = hv.DynamicMap(callback, streams=[self._feeds[stream].stream])
        if opts:
            dmap = dmap.opts(**opts)
        self.plots.append(dmap)
        return dmap

    def figure(self, cols: int = 2) -> hv.Layout:
        """Every plot of the board in one layout (what the page's export bar saves)."""
        return hv.Layout(list(self.plots)).cols(cols)

    def data(self, stream: str) -> pd.DataFrame:
        """What ``stream`` holds now (every row sent, or the latest table)."""
        return self._feeds[stream].stream.data

    def queue(self, rows: pd.DataFrame) -> None:
        """Turn new rows into the streams' tables; nothing is drawn until :meth:`flush`."""
        if not len(rows):
            return
        for feed in self._feeds.values():
            table = feed.table(rows)
            if len(table):
                feed.pending.append(table)
        top = int(rows[self.key].max())
        self._queued = top if self._queued is None else max(self._queued, top)

    def flush(self) -> bool:
        """Send every stream what is queued, so all plots move to the same last epoch; False
        when nothing was queued."""
        sent = [feed.flush() for feed in self._feeds.values()]
        self.last = self._queued
        return any(sent)

    def send(self, rows: pd.DataFrame) -> None:
        """Queue and draw at once."""
        self.queue(rows)
        self.flush()

    def clear(self) -> None:
        """Drop every row (the plots stay, empty)."""
        for feed in self._feeds.values():
            feed.clear()
        self.last = self._queued = None


# ----- information plane ------------------------------------------------------------------
class LivePlane(LiveBoard):
    """Information plane, loss, accuracy and per-layer H(T) of ``estimator``'s rows (bits).

    Axis ranges are fixed up front (``limits`` = I(X;T) and I(T;Y) bounds, epochs up to the
    planned count; :func:`workbench.tracking.tables.plane_limits`), so nothing jumps while the
    run grows. ``spec`` says what the plots look like: equal specs can share plots."""

    def __init__(self, layers, estimator: str, epochs: int, limits: tuple[float, float],
                 title: str = ""):
        super().__init__("epoch")
        self.layers, self.estimator = list(layers), estimator
        self.epochs = max(int(epochs), 1)
        self.spec = (tuple(self.layers), estimator, self.epochs, tuple(limits), title)
        self.stream("info", lambda rows: info_table(rows, estimator), INFO_COLUMNS)
        self.stream("metrics", metric_table, METRIC_COLUMNS)
        self.plane = self.plot(
            "info", lambda t: plane_overlay(t, self.layers, "bits", self.epochs),
            title=title or "Information plane", xlim=(0, limits[0]), ylim=(0, limits[1]),
            show_grid=True, legend_position="right", responsive=True, min_width=420,
            height=460)
        small = {"responsive": True, "min_width": 300, "height": 190}
        self.loss = self.plot("metrics", lambda t: metric_curve(t, "loss", self.epochs),
                              framewise=True, **small)
        self.accuracy = self.plot("metrics",
                                  lambda t: metric_curve(t, "accuracy", self.epochs), **small)
        self.entropy = self.plot(
            "info", lambda t: layer_curves(t, self.layers, "ht", "H(T) [bits]", self.epochs,
                                           title="Layer entropy H(T)"),
            framewise=True, **{**small, "height": 230})

    @property
    def n_points(self) -> int:
        """Points drawn in the plane."""
        return int(self.data("info")[["ixt", "ity"]].notna().all(axis=1).sum())

    def accepts(self, frame: pd.DataFrame) -> bool:
        """Whether every layer in ``frame`` has a trajectory here."""
        return set(frame.loc[frame["layer"] != "model", "layer"]) <= set(self.layers)


# ----- representation measures ------------------------------------------------------------
def panels_for(measures, labels: dict[str, str], units: str) -> list[dict]:
    """One plot per tracked quantity of the representation tracker: title, estimator label,
    quantity and y-axis label (naming the unit)."""
    from ..tracking.representation import MEASURE_TITLES, MEASURES

    out = []
    for name in measures:
        label = labels[name]
        if MEASURES[name] is None:  # plain-function measures: unitless, quantity = name
            out.append({"title": MEASURE_TITLES[name][:1].upper() + MEASURE_TITLES[name][1:],
                        "estimator": label, "quantity": name,
                        "ylabel": f"{MEASURE_TITLES[name]} (unitless)"})
            continue
        short = {"binned": "binned H(T)", "matrix_renyi": "matrix-Rényi S_α(T)",
                 "vne": "VNE(T)", "dse": "DSE(T)"}[name]
        out.append({"title": MEASURE_TITLES[name][:1].upper() + MEASURE_TITLES[name][1:],
                    "estimator": label, "quantity": "H(T)", "ylabel": f"{short} [{units}]"})
        if name == "dse":
            out.append({"title": "DSMI with the labels", "estimator": label,
                        "quantity": "I(T;Y)", "ylabel": f"DSMI I(T;Y) [{units}]"})
    return out


class LiveLayers(LiveBoard):
    """One plot per panel of :func:`panels_for` (a curve per layer over epochs) and the train /
    test accuracy, all on the same epoch axis."""

    def __init__(self, layers, panels: list[dict], epochs: int):
        super().__init__("epoch")
        self.layers, self.panels, self.epochs = list(layers), panels, max(int(epochs), 1)
        for i, spec in enumerate(panels):
            self.stream(f"panel{i}", lambda rows, s=spec: layer_series(rows, s["estimator"],
                                                                       s["quantity"]),
                        SERIES_COLUMNS)
            self.plot(f"panel{i}", lambda t, s=spec: layer_curves(
                t, self.layers, "value", s["ylabel"], self.epochs, title=s["title"]),
                framewise=True, **PLOT_OPTS)
        self.stream("metrics", metric_table, METRIC_COLUMNS)
        self.plot("metrics", lambda t: metric_curve(t, "accuracy", self.epochs),
                  legend_position="bottom_right", **PLOT_OPTS)


# ----- attention --------------------------------------------------------------------------
def placeholder_rows(n_layers: int, n_heads: int) -> pd.DataFrame:
    """A layer × head table of NaN entropies (an empty heatmap of the right shape)."""
    layers, heads = np.meshgrid(np.arange(n_layers), np.arange(n_heads), indexing="ij")
    table = pd.DataFrame({"step": 0, "layer": layers.ravel(), "head": heads.ravel(),
                          "entropy": np.nan, "entropy_normalized": np.nan, "loss": np.nan,
                          "val_loss": np.nan, "units": "bits"})
    return table.astype(ATTENTION_COLUMNS)


def _latest_step(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows[list(ATTENTION_COLUMNS)]
    return rows[rows["step"] == rows["step"].max()].reset_index(drop=True)


class LiveAttention(LiveBoard):
    """Heatmap of the latest measured step (its title names the step) and the mean entropy
    per layer and the loss over steps, from the rows of
    :func:`workbench.attention.transformer.train_char_transformer` (bits). ``max_bits``: the
    largest mean entropy possible (colour and axis range)."""

    def __init__(self, n_layers: int, n_heads: int, steps: int, max_bits: float):
        super().__init__("step")
        self.n_layers, self.n_heads, self.steps = n_layers, n_heads, max(int(steps), 1)
        self.max_bits = max_bits
        self.stream("latest", _latest_step, initial=placeholder_rows(n_layers, n_heads))
        self.stream("steps", lambda rows: rows[list(ATTENTION_COLUMNS)].reset_index(drop=True),
                    ATTENTION_COLUMNS)
        self.heatmap = self.plot("latest", self._heatmap)
        self.entropy = self.plot("steps", self._entropy)
        self.loss = self.plot("steps", self._loss)

    def _heatmap(self, data: pd.DataFrame):
        if data["entropy"].isna().all():
            title = "Attention entropy per head: no step measured yet"
        else:
            title = f"Attention entropy per head at step {int(data['step'].max())}"
        return attention_plots.entropy_heatmap(data, clim=(0.0, self.max_bits),
                                               title=title).opts(
            width=360, height=max(200, 45 * self.n_layers + 90), xlabel="head", ylabel="layer")

    def _entropy(self, data: pd.DataFrame):
        # every layer from the start (empty until its rows arrive): fixed curves and colours;
        # width=None: the page's plots are responsive, not the export's fixed 420 px
        overlay = attention_plots.entropy_over_training(
            data, "entropy", title="Mean attention entropy per layer",
            layers=range(self.n_layers), width=None, **PLOT_OPTS)
        return overlay.redim.range(step=(0, self.steps), entropy=(0, self.max_bits * 1.05))

    def _loss(self, data: pd.DataFrame):
        overlay = attention_plots.loss_over_training(data, framewise=True, width=None,
                                                     **PLOT_OPTS)
        return overlay.redim.range(step=(0, self.steps))
