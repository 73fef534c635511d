"""The Entropy Monitor: watch the entropy of representations and of attention during training.

Two tabs:

* **Layers** — train an MLP (digits or the 12-bit task) with a
  :class:`workbench.tracking.representation.RepresentationTracker` attached and follow, per layer
  and
  epoch, the binned entropy H(T), the matrix-based Rényi entropy, the von Neumann entropy, the
  effective rank, the diffusion spectral entropy (DSE) and DSMI with the labels. Label noise
  (a fraction of the training labels shuffled) shows the DSE paper's overfitting experiment
  live: DSMI with the true test labels rises when the network generalises and not when it
  memorises.
* **Attention** — train the tiny character transformer (:mod:`workbench.attention.transformer`) with
  its ablation switches (no LayerNorm, linear feed-forward, attention temperature) and watch
  the layer × head heatmap of mean attention entropy, with collapsed and overloaded heads
  listed (:func:`workbench.attention.entropy.flag`).

Training runs on a background thread (:class:`workbench.training.session.TrainingSession`); rows go
through a thread-safe queue that a periodic callback on the UI drains every ``poll_ms``
milliseconds (4 Hz by default: counter and status) and streams into ``hv.streams.Buffer`` /
``Pipe`` streams, a few plots at a time with rests between (a redraw costs far more than a
poll; :class:`widgets.training_session.LiveTraining` throttles), so Start / Pause / Stop /
Reset always answer. The object works in a JupyterLab cell and as the ``/entropy_monitor``
page of ``workbench serve``; outside an event loop (a script, a test) nothing polls by itself:
call :meth:`EntropyMonitor.poll`. Every number comes from
:mod:`workbench`; this module wires widgets, the session and the plots together.
"""
from __future__ import annotations

import functools
import time

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

# torch's optimizers import torch._dynamo on first use: seconds under the import lock that
# would otherwise land on the first Start; pay it when the page module loads
import torch._dynamo  # noqa: F401

from workbench.attention.entropy import COLLAPSE_THRESHOLD, OVERLOAD_FRACTION, flag, max_entropy
from workbench.attention.transformer import (
    CharTransformerConfig,
    make_config,
    train_char_transformer,
)
from workbench.errors import InputError, WorkbenchError
from workbench.plots import attention as attention_plots
from workbench.tracking.representation import (
    DEFAULT_MEASURES,
    EFFECTIVE_RANK,
    MEASURE_TITLES,
    MEASURES,
    measure_estimator,
    measure_labels,
)
from workbench.tracking.tables import LAYER_COLORS, wide_table
from workbench.training import models
from workbench.training.experiments import MEASURE_ON, run_experiment
from workbench.training.session import TrainingSession
from workbench.units import UNITS

from .components import (
    HEADER_COLOR,
    alert,
    escape,
    knob_panel,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
    typed_empty,
)
from .training_session import LiveTraining, error_message

#: Layer widths suggested for each dataset: big enough for the digits to be memorised under
#: label noise; the Shwartz-Ziv & Tishby network for the 12-bit task.
DEFAULT_ARCH = {"digits": "64-128-64-10", "tishby12": "12-10-7-5-4-3-2"}
#: Transformer knobs shown in the Attention tab (the rest keep their defaults).
TRANSFORMER_KNOBS = ("remove_layernorm", "remove_ffn_nonlinearity", "attention_temperature",
                     "n_layers", "n_heads", "d_model", "context", "steps", "eval_every", "lr",
                     "seed")
_BUFFER_LENGTH = 10**7  # hv.streams.Buffer keeps only the last `length` rows (default 1000)
_CSS = """
.wb-counter-box { font-family: var(--bokeh-base-font, sans-serif); line-height: 1.3; }
.wb-counter-box .wb-counter-label { color: #555; font-size: 0.95em; }
.wb-counter-box .wb-counter-value { font-size: 2em; font-weight: 600; color: #1f4e79; }
.wb-counter-box .wb-counter-total { color: #555; font-size: 1.1em; }
"""
_PLOT_OPTS = {"show_grid": True, "tools": ["hover"], "height": 240, "responsive": True,
              "min_width": 300, "fontsize": {"title": 11, "labels": 10, "ticks": 9}}
_ATTENTION_COLUMNS = {"step": "int64", "layer": "int64", "head": "int64", "entropy": "float64",
                      "entropy_normalized": "float64", "loss": "float64",
                      "val_loss": "float64", "units": "object"}


# ----- layer plots ----------------------------------------------------------------------------
def panels_for(measures, labels: dict[str, str], units: str) -> list[dict]:
    """One plot per tracked quantity: title, estimator label, quantity and y-axis label."""
    out = []
    for name in measures:
        label = labels[name]
        if name == "effective_rank":
            out.append({"title": "Effective rank", "estimator": label,
                        "quantity": EFFECTIVE_RANK, "ylabel": "effective rank (unitless)"})
            continue
        short = {"binned": "binned H(T)", "matrix_renyi": "matrix-Rényi S_α(T)",
                 "vne": "VNE(T)", "dse": "DSE(T)"}[name]
        out.append({"title": MEASURE_TITLES[name][:1].upper() + MEASURE_TITLES[name][1:],
                    "estimator": label, "quantity": "H(T)", "ylabel": f"{short} [{units}]"})
        if name == "dse":
            out.append({"title": "DSMI with the labels", "estimator": label,
                        "quantity": "I(T;Y)", "ylabel": f"DSMI I(T;Y) [{units}]"})
    return out


def _wide(frame: pd.DataFrame, layers, estimator: str, quantity: str) -> pd.DataFrame:
    """``epoch`` and one column per layer of ``quantity`` by ``estimator`` (NaN where a layer
    has no value)."""
    rows = frame[(frame["estimator"] == estimator) & (frame["quantity"] == quantity)]
    wide = wide_table(rows, ["epoch"], layers, by="layer")
    return wide.astype({"epoch": "int64", **{name: "float64" for name in layers}})


def layer_curves(wide: pd.DataFrame, layers, ylabel: str, title: str,
                 epochs: int) -> hv.Overlay:
    """One curve per layer from a table with ``epoch`` and a column per layer (a curve is
    drawn for every layer from the start, empty until its values arrive)."""
    xdim = hv.Dimension("epoch", label="epoch", range=(0, max(epochs, 1)))
    curves = [hv.Curve(wide, xdim, hv.Dimension(name, label=ylabel), label=name).opts(
        color=LAYER_COLORS[i % len(LAYER_COLORS)], line_width=2)
        for i, name in enumerate(layers)]
    return hv.Overlay(curves).opts(title=title, legend_position="right", framewise=True,
                                   **_PLOT_OPTS)


_METRIC_COLUMNS = {"epoch": "int64", "accuracy": "float64", "test_accuracy": "float64"}


def metric_curves(wide: pd.DataFrame, epochs: int) -> hv.Overlay:
    """Train and test accuracy over epochs (a fraction, unitless) from a table with columns
    epoch, accuracy, test_accuracy."""
    xdim = hv.Dimension("epoch", label="epoch", range=(0, max(epochs, 1)))
    curves = [hv.Curve(wide, xdim, hv.Dimension(q, label="accuracy (fraction)",
                                                range=(0, 1.02)), label=name).opts(
        color="#333333", line_dash=dash, line_width=2)
        for q, name, dash in (("accuracy", "train", "solid"), ("test_accuracy", "test",
                                                                "dashed"))]
    return hv.Overlay(curves).opts(title="Accuracy", legend_position="bottom_right",
                                   **_PLOT_OPTS)


class Feed:
    """Rows waiting for one HoloViews stream. :meth:`flush` sends them: a ``Buffer`` gets
    everything queued, a ``Pipe`` the latest table only."""

    def __init__(self, stream):
        self.stream = stream
        self.pending: list[pd.DataFrame] = []

    def push(self, table: pd.DataFrame) -> None:
        if len(table):
            self.pending.append(table)

    def flush(self) -> bool:
        """Send what is queued; False when nothing was."""
        if not self.pending:
            return False
        pending, self.pending = self.pending, []
        if isinstance(self.stream, hv.streams.Buffer):
            self.stream.send(pd.concat(pending, ignore_index=True))
        else:
            self.stream.send(pending[-1])
        return True


class LayerPlots:
    """The Layers tab's plots: one ``hv.streams.Buffer`` per plot holding a row per epoch
    (epoch and a column per layer), so each update re-draws one small table per plot."""

    def __init__(self, layers, panels: list[dict], epochs: int):
        self.layers, self.panels = list(layers), panels
        columns = {"epoch": "int64", **{name: "float64" for name in self.layers}}
        self.buffers, self.plots = [], []
        for spec in panels:
            buffer = hv.streams.Buffer(typed_empty(columns), index=False, length=_BUFFER_LENGTH)
            fn = functools.partial(_curves_from_buffer, layers=self.layers, epochs=epochs,
                                   title=spec["title"], ylabel=spec["ylabel"])
            self.buffers.append(buffer)
            self.plots.append(hv.DynamicMap(fn, streams=[buffer]))
        self.metrics = hv.streams.Buffer(typed_empty(_METRIC_COLUMNS), index=False,
                                         length=_BUFFER_LENGTH)
        self.plots.append(hv.DynamicMap(functools.partial(_metrics_from_buffer, epochs=epochs),
                                        streams=[self.metrics]))
        self.feeds = [Feed(b) for b in [*self.buffers, self.metrics]]

    def queue(self, frame: pd.DataFrame) -> None:
        """Queue new tidy rows for the plots (cheap; :class:`Feed.flush` draws)."""
        if not len(frame):
            return
        for spec, feed in zip(self.panels, self.feeds):
            feed.push(_wide(frame, self.layers, spec["estimator"], spec["quantity"]))
        metrics = frame[frame["quantity"].isin(["accuracy", "test_accuracy"])]
        if len(metrics):
            wide = wide_table(metrics, ["epoch"], ["accuracy", "test_accuracy"])
            self.feeds[-1].push(wide.astype(_METRIC_COLUMNS))

    def send(self, frame: pd.DataFrame) -> None:
        """Queue and draw at once."""
        self.queue(frame)
        for feed in self.feeds:
            feed.flush()


def _curves_from_buffer(data, layers, epochs, title, ylabel):
    return layer_curves(data, layers, ylabel, title, epochs)


def _metrics_from_buffer(data, epochs):
    return metric_curves(data, epochs)


# ----- attention plots -----------------------------------------------------------------------
def placeholder_rows(n_layers: int, n_heads: int) -> pd.DataFrame:
    """A layer × head frame of NaN entropies (an empty heatmap with the right shape)."""
    layers, heads = np.meshgrid(np.arange(n_layers), np.arange(n_heads), indexing="ij")
    return pd.DataFrame({"step": 0, "layer": layers.ravel(), "head": heads.ravel(),
                         "entropy": np.nan, "units": "bits"})


class AttentionPlots:
    """Heatmap of the latest step (``hv.streams.Pipe``) and per-layer entropy and loss over
    steps (``hv.streams.Buffer``)."""

    def __init__(self, cfg: CharTransformerConfig):
        self.n_layers, self.n_heads, self.steps = cfg.n_layers, cfg.n_heads, cfg.steps
        # causal attention: query i sees i + 1 keys, so the mean maximum is below log2(context)
        self.max_bits = max_entropy(cfg.context, "bits", causal=True)
        self.pipe = hv.streams.Pipe(data=placeholder_rows(self.n_layers, self.n_heads))
        self.buffer = hv.streams.Buffer(typed_empty(_ATTENTION_COLUMNS), index=False,
                                        length=_BUFFER_LENGTH)
        self.heatmap = hv.DynamicMap(self._heatmap, streams=[self.pipe])
        self.entropy = hv.DynamicMap(self._entropy, streams=[self.buffer])
        self.loss = hv.DynamicMap(self._loss, streams=[self.buffer])
        self.feeds = [Feed(self.pipe), Feed(self.buffer)]

    def _heatmap(self, data):
        step = "" if data["entropy"].isna().all() else f" at step {int(data['step'].max())}"
        return attention_plots.entropy_heatmap(
            data, clim=(0.0, self.max_bits), title=f"Attention entropy per head{step}").opts(
            width=360, height=max(200, 45 * self.n_layers + 90), xlabel="head",
            ylabel="layer")

    def _entropy(self, data):
        # every layer from the start (empty until its rows arrive): fixed curves and colours;
        # width=None: the page's plots are responsive, not the export's fixed 420 px
        overlay = attention_plots.entropy_over_training(
            data, "entropy", title="Mean attention entropy per layer",
            layers=range(self.n_layers), width=None, **_PLOT_OPTS)
        for layer, curve in overlay.items():
            curve.opts(color=LAYER_COLORS[layer % len(LAYER_COLORS)])
        return overlay.redim.range(step=(0, self.steps), entropy=(0, self.max_bits * 1.05))

    def _loss(self, data):
        overlay = attention_plots.loss_over_training(data, framewise=True, width=None,
                                                     **_PLOT_OPTS)
        for curve, dash in zip(overlay, ("solid", "dashed")):
            curve.opts(color="#333333", line_dash=dash)
        return overlay.redim.range(step=(0, self.steps))

    def queue(self, rows: pd.DataFrame) -> None:
        """Queue new rows: the heatmap gets the latest step, the curves every row."""
        if not len(rows):
            return
        rows = rows[list(_ATTENTION_COLUMNS)].reset_index(drop=True)
        self.feeds[0].push(rows[rows["step"] == rows["step"].max()].reset_index(drop=True))
        self.feeds[1].push(rows)

    def send(self, rows: pd.DataFrame) -> None:
        """Queue and draw at once."""
        self.queue(rows)
        for feed in self.feeds:
            feed.flush()

    def flags(self, last: pd.DataFrame) -> pd.DataFrame:
        """The heads of the latest step with their collapse / overload flags."""
        return flag(last, max_entropy=self.max_bits, value="entropy")


def _attention_target(config: CharTransformerConfig, stop_event, pause_event,
                      tracker_callbacks=(), callbacks=()):
    """:class:`TrainingSession` target for the transformer: rows to ``tracker_callbacks``, the
    step to ``callbacks`` (the session's counter); pause and stop act at each measurement
    (every ``eval_every`` steps), the only points where the training loop calls out."""
    def on_rows(chunk: pd.DataFrame):
        step = int(chunk["step"].iloc[0])
        for cb in tracker_callbacks:
            cb(chunk)
        for cb in callbacks:
            cb(step, None, {})
        while pause_event.is_set() and not stop_event.is_set():
            time.sleep(0.05)
        return not stop_event.is_set()

    result = train_char_transformer(config, callbacks=[on_rows])
    return None, result, config.values()


def _layers_target(tracker_callbacks=(), **kwargs):
    return run_experiment(tracker="representation", tracker_callbacks=tracker_callbacks, **kwargs)


# ----- the page -------------------------------------------------------------------------------
class EntropyMonitor(LiveTraining):
    """Live entropy of representations (Layers) and of attention (Attention) over training.

    ::

        monitor = EntropyMonitor(epochs=50, measures=["dse", "vne"])
        monitor.start()              # the Layers tab's run; start("attention") for the other
        monitor.poll()               # stream what arrived (a periodic callback does this
                                     # when served or in JupyterLab)
        monitor.stop(); monitor.reset()
    """

    # ----- layers ------------------------------------------------------------------------
    dataset = param.Selector(default="digits", objects=list(DEFAULT_ARCH),
                             doc="Dataset: scikit-learn's 8×8 digits (10 classes) or the 12-bit "
                                 "task of Shwartz-Ziv & Tishby (binary label).")
    arch = param.String(default=DEFAULT_ARCH["digits"])
    activation = param.Selector(default="relu")
    lr = param.Number(default=1e-3, doc="Adam learning rate.")
    label_noise = param.Number(
        default=0.0, bounds=(0.0, 1.0),
        doc="Fraction of training labels shuffled before training (1: all random). Test labels "
            "stay true, so DSMI on the test rows shows whether the network generalises.")
    measure_on = param.Selector(
        default="test", objects=list(MEASURE_ON),
        doc="Rows the layers are measured on: 'test' (held out, true labels; as in the DSE "
            "paper), 'train' (the labels trained on) or 'all'.")
    every = param.Integer(default=1, bounds=(1, 10_000), doc="Measure every n-th epoch.")
    measures = param.ListSelector(default=list(DEFAULT_MEASURES), objects=list(MEASURES),
                                  doc="What to track for every layer.")
    units = param.Selector(default="bits", objects=list(UNITS), doc="Units of the entropies.")
    # ----- attention ---------------------------------------------------------------------
    transformer = param.ClassSelector(class_=CharTransformerConfig, doc=(
        "Knobs of the tiny character transformer (the Attention tab)."))
    # ----- state -------------------------------------------------------------------------
    mode = param.Selector(default="layers", objects=["layers", "attention"],
                          doc="Which tab's run Start begins (follows the active tab).")
    counter = param.Integer(default=None, allow_None=True,
                            doc="Last finished epoch (Layers) or measured step (Attention).")
    status = param.String(default="", doc="What the monitor is doing, in words.")
    draw_budget_ms = param.Integer(
        default=250, bounds=(0, 60_000),
        doc="Redrawing work per draw: plots are redrawn in turn until this is spent (at least "
            "one), the rest at the next draw, so no single draw re-renders every plot.")

    def __init__(self, **params):
        params.setdefault("transformer", CharTransformerConfig(steps=300, eval_every=10))
        params.setdefault("poll_ms", 250)
        super().__init__(**params)
        self._session = TrainingSession(target=_layers_target)
        self._running_mode = self.mode
        self._planned = self.epochs
        self._cursor = 0
        self._layer_plots: LayerPlots | None = None
        self._attention_plots: AttentionPlots | None = None
        self._estimators = {}
        self._rebuild_estimators()
        self._build_widgets()
        self._sync()

    # ----- settings ------------------------------------------------------------------------
    @param.depends("dataset", watch=True)
    def _on_dataset(self) -> None:
        self.arch = DEFAULT_ARCH[self.dataset]
        if self.dataset == "tishby12" and self.activation == "relu":
            self.activation = "tanh"

    @param.depends("activation", watch=True)
    def _rebuild_estimators(self) -> None:
        """Estimators whose knobs the panel shows (binned: the bin range follows the
        activation)."""
        for name in MEASURES:
            est = measure_estimator(name, seed=self.seed, activation=self.activation)
            if est is not None and (name == "binned" or name not in self._estimators):
                self._estimators[name] = est
        if hasattr(self, "_knob_holder"):
            self._on_measures()

    def estimator(self, measure: str):
        """The estimator instance behind ``measure`` (its knobs apply at the next Start)."""
        return self._estimators.get(measure)

    def experiment_kwargs(self) -> dict:
        """Arguments of :func:`workbench.training.experiments.run_experiment` from the settings."""
        if not self.measures:
            raise InputError("choose at least one measure to track")
        widths = models.parse_widths(self.arch)
        if len(widths) < 3:
            raise InputError(f"arch {self.arch!r} has no hidden layer; use e.g. "
                             f"{DEFAULT_ARCH[self.dataset]}")
        knobs = {m: self._estimators[m].knobs() for m in self.measures if m in self._estimators}
        return {"data": self.dataset, "arch": self.arch, "activation": self.activation,
                "epochs": self.epochs, "lr": self.lr, "batch_size": self.batch_size,
                "seed": self.seed, "label_noise": self.label_noise,
                "measures": list(self.measures), "measure_knobs": knobs,
                "measure_on": self.measure_on, "every": self.every, "units": self.units}

    # ----- control -------------------------------------------------------------------------
    def start(self, mode: str | None = None) -> None:
        """Start the Layers (default: the active tab) or Attention run on the background
        thread; bad settings end in the error banner."""
        mode = mode or self.mode
        if self._session.alive:
            self.error = "A run is going: stop it before starting another."
            self._sync()
            return
        try:
            if mode == "attention":
                cfg = make_config(self.transformer)
                self._session = TrainingSession(target=_attention_target)
                self._show_attention(AttentionPlots(cfg))
                self._planned = cfg.steps
                kwargs = {"config": cfg}
            else:
                kwargs = self.experiment_kwargs()
                labels = measure_labels(kwargs["measures"], kwargs["measure_knobs"],
                                        seed=self.seed, activation=self.activation)
                layers = models.layer_names(self.arch)
                self._session = TrainingSession(target=_layers_target)
                self._show_layers(LayerPlots(layers, panels_for(kwargs["measures"], labels,
                                                                self.units), self.epochs))
                self._planned = self.epochs
        except WorkbenchError as exc:
            self.error = error_message(exc)
            self._sync()
            return
        self._running_mode = mode
        self._clear_rows()
        self._cursor = 0
        self.counter = None
        self._session.start(**kwargs)
        self._begin()

    def toggle_pause(self) -> None:
        (self.resume if self._session.state == "paused" else self.pause)()

    def reset(self) -> None:
        """Stop any run and clear the plots, the counter and the messages."""
        self._session.reset()
        self._stop_polling()
        self._clear_rows()
        self.param.update(state="idle", error="", counter=None)
        self._show_layers(None)
        self._show_attention(None)
        self._sync()

    def _feeds(self) -> list[Feed]:
        plots = self._attention_plots if self._running_mode == "attention" \
            else self._layer_plots
        return [] if plots is None else plots.feeds

    def _queue_rows(self, new: pd.DataFrame) -> None:
        if self._running_mode == "attention" and self._attention_plots is not None:
            self._attention_plots.queue(new)
            self._show_flags(new[new["step"] == new["step"].max()])
        elif self._running_mode == "layers" and self._layer_plots is not None:
            self._layer_plots.queue(new)

    def _draw(self, rows: pd.DataFrame) -> None:
        """Queue ``rows`` for the plots and redraw some of them, in turn, for about
        ``draw_budget_ms``: a redraw costs far more than a poll (seconds for all plots on a
        loaded machine whose training thread also holds the GIL) and the event loop must stay
        free for clicks; :class:`LiveTraining` then rests twice as long as this took."""
        self._queue_rows(rows)
        feeds = self._feeds()
        start = time.monotonic()
        for _ in range(len(feeds)):
            feed = feeds[self._cursor % len(feeds)]
            self._cursor += 1
            if feed.flush() and time.monotonic() - start >= self.draw_budget_ms / 1000:
                break

    def _finished(self) -> None:
        self.flush_plots()

    def flush_plots(self) -> None:
        """Stream every row received but not yet drawn into the plots now."""
        if self._undrawn:
            self._queue_rows(pd.concat(self._undrawn, ignore_index=True))
            self._undrawn = []
        for feed in self._feeds():
            feed.flush()

    @property
    def frame(self) -> pd.DataFrame:
        """Every row of the current (or last) run received so far: tidy tracker rows
        (Layers) or the transformer's step / layer / head rows (Attention)."""
        return self._frame.copy()

    # ----- view ----------------------------------------------------------------------------
    def _sync(self) -> None:
        """Counter, status line, banner and buttons from the session's state."""
        session = self._session
        if session.alive:
            self.state = session.state
        if session.epoch is not None:
            self.counter = session.epoch
        unit = "step" if self._running_mode == "attention" else "epoch"
        shown = "–" if self.counter is None else str(self.counter)
        self.status = {
            "idle": "Ready: choose the settings of a tab and press Start.",
            "running": f"Training ({'attention' if unit == 'step' else 'layers'})"
                       if self.counter is not None else "Starting…",
            "paused": f"Paused at {unit} {shown}",
            "stopping": "Stopping…",
            "finished": f"Finished: {shown} {unit}s",
            "stopped": f"Stopped at {unit} {shown}",
            "failed": "Failed: see the message above.",
        }.get(self.state, self.state)
        if not hasattr(self, "_counter_w"):
            return
        self._counter_w.object = (
            f'<div class="wb-counter-box"><span class="wb-counter-label">{unit} </span>'
            f'<span class="wb-counter-value">{shown}</span>'
            f'<span class="wb-counter-total"> / {self._planned}</span></div>')
        self._status_w.object = f'<span class="wb-status-text">{escape(self.status)}</span>'
        set_alert(self._error_w, self.error)
        alive = session.alive
        self._start_b.disabled = alive
        self._pause_b.disabled = self.state not in ("running", "paused")
        self._pause_b.label = "Resume" if self.state == "paused" else "Pause"
        self._stop_b.disabled = self.state not in ("running", "paused")
        for w in self._settings:
            w.disabled = alive

    def _show_layers(self, plots: LayerPlots | None) -> None:
        self._layer_plots = plots
        slots = self._layer_slots
        shown = [] if plots is None else plots.plots
        self._layer_grid.objects = [plot_slot(f"wb-plot-layer-{i}") for i in range(len(shown))]
        for slot, plot in zip(self._layer_grid.objects, shown):
            show_plot(slot, plot)
        slots.visible = plots is not None
        self._layer_hint.visible = plots is None

    def _show_attention(self, plots: AttentionPlots | None) -> None:
        self._attention_plots = plots
        show_plot(self._heatmap_slot, None if plots is None else plots.heatmap)
        show_plot(self._attention_entropy_slot, None if plots is None else plots.entropy)
        show_plot(self._loss_slot, None if plots is None else plots.loss)
        self._flags_w.object = ""
        self._attention_hint.visible = plots is None

    def _show_flags(self, last: pd.DataFrame) -> None:
        flagged = self._attention_plots.flags(last)
        items = [f"<li>layer {int(r.layer)}, head {int(r.head)}: "
                 f"{'collapse' if r.collapse else 'overload'} ({r.entropy:.2f} bits)</li>"
                 for r in flagged.itertuples()
                 if bool(r.collapse) or (not pd.isna(r.overload) and bool(r.overload))]
        limit = self._attention_plots.max_bits
        # flags() uses flag()'s default thresholds: state those, not copies of them
        rule = (f"<p><small>collapse: mean entropy below {COLLAPSE_THRESHOLD:g} bits; "
                f"overload: above {OVERLOAD_FRACTION:.0%} of the causal maximum "
                f"({limit:.2f} bits), i.e. nearly uniform attention "
                "(Jha &amp; Reagen 2025)</small></p>")
        body = (f"<ul>{''.join(items)}</ul>" if items
                else "<p>No head collapsed or overloaded.</p>")
        self._flags_w.object = (f"<b>Flagged heads at step {int(last['step'].max())}: "
                                f"{len(items)} of {len(flagged)}</b>{body}{rule}")

    @param.depends("measures", watch=True)
    def _on_measures(self) -> None:
        if not hasattr(self, "_knob_holder"):
            return
        cards = []
        for name in self.measures:
            est = self._estimators.get(name)
            if est is None:
                continue
            cards.append(pn.Card(knob_panel(est, css_prefix=f"wb-knob-{name}"),
                                 title=f"{MEASURE_TITLES[name]} knobs", collapsed=True,
                                 css_classes=[f"wb-knobs-{name}"], sizing_mode="stretch_width",
                                 margin=(5, 0)))
        self._knob_holder.objects = cards

    def _build_widgets(self) -> None:
        w = pn.widgets
        wide = {"sizing_mode": "stretch_width"}

        bound = functools.partial(param_widget, self)

        measures_w = w.CheckBoxGroup.from_param(
            self.param.measures, name="", options={MEASURE_TITLES[m]: m for m in MEASURES},
            css_classes=["wb-measures"], inline=False, **wide)
        net = self._network_widgets()
        noise_w = bound(w.FloatSlider, "label_noise", "Label noise (shuffled fraction)",
                        "label-noise", step=0.05)
        measure_on_w = bound(w.Select, "measure_on", "Measure on rows", "measure-on")
        every_w = bound(w.IntInput, "every", "Measure every n-th epoch", "every")
        units_w = bound(w.RadioButtonGroup, "units", "", "units")
        self._settings = [*net.values(), noise_w, measure_on_w, every_w, measures_w, units_w]
        self._knob_holder = pn.Column(**wide)
        self._on_measures()
        layer_controls = pn.Column(
            "#### Data and network", net["dataset"], net["arch"], net["activation"],
            "#### Training", pn.Row(net["lr"], net["batch_size"], **wide),
            pn.Row(net["epochs"], net["seed"], **wide), noise_w,
            "#### Measures", measure_on_w, every_w,
            pn.pane.Markdown("Track for every layer", margin=(0, 10)), measures_w,
            pn.pane.Markdown("Units", margin=(0, 10)), units_w,
            self._knob_holder,
            pn.pane.HTML("<small>Settings and knobs apply at the next Start.</small>",
                         margin=(0, 10)),
            css_classes=["wb-layer-controls"], width=330, margin=(0, 10))
        self._layer_grid = pn.GridBox(ncols=2, **wide)
        self._layer_slots = pn.Column(self._layer_grid, css_classes=["wb-layer-plots"], **wide)
        self._layer_hint = pn.pane.Markdown(
            "Press **Start** to train the network; each plot shows one measure per layer over "
            "epochs. Entropies are in the chosen units; the effective rank has none.",
            css_classes=["wb-layer-hint"], **wide)
        layers_tab = pn.Row(layer_controls,
                            pn.Column(self._layer_hint, self._layer_slots, **wide), **wide)

        specs = {"remove_layernorm": {"type": w.Checkbox, "name": "no LayerNorm"},
                 "remove_ffn_nonlinearity": {"type": w.Checkbox,
                                             "name": "linear feed-forward (no GELU)"},
                 "attention_temperature": {"type": w.FloatInput, "step": 0.1,
                                           "name": "attention temperature τ (1: standard)"},
                 "n_layers": {"type": w.IntInput, "name": "layers"},
                 "n_heads": {"type": w.IntInput, "name": "heads per layer"},
                 "d_model": {"type": w.IntInput, "name": "model width d_model"},
                 "context": {"type": w.IntInput, "name": "context (characters)"},
                 "steps": {"type": w.IntInput, "name": "training steps"},
                 "eval_every": {"type": w.IntInput, "name": "measure every n steps"},
                 "lr": {"type": w.FloatInput, "name": "learning rate"},
                 "seed": {"type": w.IntInput, "name": "seed"}}
        for name, spec in specs.items():
            spec["css_classes"] = [f"wb-tknob-{name}"]
        transformer_w = pn.Param(
            self.transformer, parameters=list(TRANSFORMER_KNOBS), show_name=False,
            widgets=specs, css_classes=["wb-transformer-knobs"], sizing_mode="stretch_width")
        self._settings.append(transformer_w)
        attention_controls = pn.Column(
            "#### Tiny character transformer",
            pn.pane.HTML("<small>Trained on a shipped public-domain text (Alice in "
                         "Wonderland). Ablations of Jha &amp; Reagen 2025: remove LayerNorm or "
                         "the feed-forward nonlinearity, or scale the attention logits by "
                         "1/τ.</small>", margin=(0, 10)),
            transformer_w, css_classes=["wb-attention-controls"], width=330, margin=(0, 10))
        self._heatmap_slot = plot_slot("wb-plot-heatmap")
        self._attention_entropy_slot = plot_slot("wb-plot-attention-entropy")
        self._loss_slot = plot_slot("wb-plot-loss")
        self._flags_w = pn.pane.HTML("", css_classes=["wb-attention-flags"], margin=(5, 10),
                                     **wide)
        self._attention_hint = pn.pane.Markdown(
            "Press **Start** to train the transformer; the heatmap shows the mean attention "
            "entropy of every head (bits) at the latest measured step.",
            css_classes=["wb-attention-hint"], **wide)
        attention_tab = pn.Row(
            attention_controls,
            pn.Column(self._attention_hint,
                      pn.Row(self._heatmap_slot, self._flags_w, **wide),
                      pn.Row(self._attention_entropy_slot, self._loss_slot, **wide), **wide),
            **wide)

        self._start_b = self._button("Start", "start", "primary", self.start)
        self._pause_b = self._button("Pause", "pause", "default", self.toggle_pause)
        self._stop_b = self._button("Stop", "stop", "danger", self.stop)
        self._reset_b = self._button("Reset", "reset", "light", self.reset)
        self._counter_w = pn.pane.HTML("", css_classes=["wb-monitor-counter"],
                                       stylesheets=[_CSS], width=170, margin=(0, 10))
        self._status_w = pn.pane.HTML("", css_classes=["wb-monitor-status"], margin=(8, 10),
                                      **wide)
        self._error_w = alert("danger", "wb-error")
        self._tabs = pn.Tabs(("Layers", layers_tab), ("Attention", attention_tab),
                             css_classes=["wb-monitor-tabs"], dynamic=False, **wide)
        self._tabs.param.watch(self._on_tab, "active")
        header = pn.Row(self._start_b, self._pause_b, self._stop_b, self._reset_b,
                        self._counter_w, self._status_w, css_classes=["wb-monitor-header"],
                        **wide)
        self._layout = pn.Column(header, self._error_w, self._tabs,
                                 css_classes=["wb-entropy-monitor"], sizing_mode="stretch_width",
                                 min_width=900)
        self._show_layers(None)
        self._show_attention(None)

    def _on_tab(self, event) -> None:
        self.mode = "attention" if event.new == 1 else "layers"

    @param.depends("mode", watch=True)
    def _on_mode(self) -> None:
        if hasattr(self, "_tabs"):
            self._tabs.active = 1 if self.mode == "attention" else 0

    @param.depends("error", watch=True)
    def _on_error(self) -> None:
        if hasattr(self, "_error_w"):
            set_alert(self._error_w, self.error)

    def __panel__(self):
        return self._layout


def page(config=None) -> pn.viewable.Viewable:
    """The ``/entropy_monitor`` page of ``workbench serve``."""
    monitor = EntropyMonitor()
    pn.state.on_session_destroyed(lambda _ctx: monitor.close())
    return pn.template.BootstrapTemplate(title="Entropy Monitor", main=[monitor],
                                         header_background=HEADER_COLOR)
