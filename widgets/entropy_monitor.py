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
milliseconds (4 Hz by default: status) and streams into the plots of
:class:`workbench.plots.live.LiveLayers` / :class:`~workbench.plots.live.LiveAttention`, all
plots of a run at once, with rests between draws (a redraw costs far more than a poll;
:class:`widgets.training_session.LiveTraining` throttles), so Start / Pause / Stop / Reset
always answer and every plot and the counter show the same last epoch (step). The object
works in a JupyterLab cell and as the ``/entropy_monitor`` page of ``workbench serve``; outside
an event loop (a script, a test) nothing polls by itself: call :meth:`EntropyMonitor.poll`.
Every number comes from :mod:`workbench`; this module wires widgets, the session and the plots
together.
"""
from __future__ import annotations

import functools
import time

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
from workbench.plots.live import LiveAttention, LiveLayers, panels_for
from workbench.plots.plane import LAYER_NOTE
from workbench.tracking.representation import (
    DEFAULT_MEASURES,
    MEASURE_TITLES,
    MEASURES,
    measure_estimator,
    measure_labels,
)
from workbench.training import models
from workbench.training.experiments import MEASURE_ON, run_experiment
from workbench.training.session import TrainingSession
from workbench.units import UNITS

from .components import (
    HEADER_COLOR,
    ExportBar,
    alert,
    escape,
    knob_panel,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
)
from .training_session import LiveTraining, error_message

#: Layer widths suggested for each dataset: big enough for the digits to be memorised under
#: label noise; the Shwartz-Ziv & Tishby network for the 12-bit task.
DEFAULT_ARCH = {"digits": "64-128-64-10", "tishby12": "12-10-7-5-4-3-2"}
#: Transformer knobs shown in the Attention tab (the rest keep their defaults).
TRANSFORMER_KNOBS = ("remove_layernorm", "remove_ffn_nonlinearity", "attention_temperature",
                     "n_layers", "n_heads", "d_model", "context", "steps", "eval_every", "lr",
                     "seed")


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
    counter = param.Integer(default=None, allow_None=True, doc=(
        "Last epoch (Layers) or measured step (Attention) the plots show."))
    status = param.String(default="", doc="What the monitor is doing, in words.")
    def __init__(self, **params):
        params.setdefault("transformer", CharTransformerConfig(steps=300, eval_every=10))
        params.setdefault("poll_ms", 250)
        super().__init__(**params)
        self._session = TrainingSession(target=_layers_target, gate=self._gate)
        self._running_mode = self.mode
        self._planned = self.epochs
        self._layer_plots: LiveLayers | None = None
        self._attention_plots: LiveAttention | None = None
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
                self._session = TrainingSession(target=_attention_target, gate=self._gate)
                # causal attention: query i sees i + 1 keys, so the mean maximum is below
                # log2(context)
                self._show_attention(LiveAttention(
                    cfg.n_layers, cfg.n_heads, cfg.steps,
                    max_entropy(cfg.context, "bits", causal=True)))
                self._planned = cfg.steps
                kwargs = {"config": cfg}
            else:
                kwargs = self.experiment_kwargs()
                labels = measure_labels(kwargs["measures"], kwargs["measure_knobs"],
                                        seed=self.seed, activation=self.activation)
                layers = models.layer_names(self.arch)
                self._session = TrainingSession(target=_layers_target, gate=self._gate)
                self._show_layers(LiveLayers(layers, panels_for(kwargs["measures"], labels,
                                                                self.units), self.epochs))
                self._planned = self.epochs
        except WorkbenchError as exc:
            self.error = error_message(exc)
            self._sync()
            return
        self._running_mode = mode
        self._clear_rows()
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

    def _board(self) -> LiveLayers | LiveAttention | None:
        """The plots of the run going (or last run)."""
        return self._attention_plots if self._running_mode == "attention" \
            else self._layer_plots

    def _draw(self, rows: pd.DataFrame) -> None:
        """Stream ``rows`` into every plot of the run at once (and the flags of the step the
        heatmap shows): a redraw costs far more than a poll, so :class:`LiveTraining` rests
        twice as long as this took before the next."""
        board = self._board()
        if board is None:
            return
        board.send(rows)
        if board is self._attention_plots:
            self._show_flags(board.data("latest"))

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
        board = self._board()
        self.counter = None if board is None else board.last
        unit = "step" if self._running_mode == "attention" else "epoch"
        shown = "–" if self.counter is None else str(self.counter)
        self.status = {
            "idle": "Ready: choose the settings of a tab and press Start.",
            "queued": self._queue_note(),
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
        self._show_counter(self._counter_w, unit, self.counter, self._planned)
        self._status_w.object = f'<span class="wb-status-text">{escape(self.status)}</span>'
        set_alert(self._error_w, self.error)
        alive = session.alive
        self._start_b.disabled = alive
        self._pause_b.disabled = self.state not in ("running", "paused")
        self._pause_b.label = "Resume" if self.state == "paused" else "Pause"
        self._stop_b.disabled = self.state not in ("queued", "running", "paused")
        for w in self._settings:
            w.disabled = alive

    def _show_layers(self, plots: LiveLayers | None) -> None:
        self._layer_plots = plots
        slots = self._layer_slots
        shown = [] if plots is None else plots.plots
        self._layer_grid.objects = [plot_slot(f"wb-plot-layer-{i}") for i in range(len(shown))]
        for slot, plot in zip(self._layer_grid.objects, shown):
            show_plot(slot, plot)
        slots.visible = plots is not None
        self._layer_hint.visible = plots is None

    def _show_attention(self, plots: LiveAttention | None) -> None:
        self._attention_plots = plots
        show_plot(self._heatmap_slot, None if plots is None else plots.heatmap)
        show_plot(self._attention_entropy_slot, None if plots is None else plots.entropy)
        show_plot(self._loss_slot, None if plots is None else plots.loss)
        self._flags_w.object = ""
        self._attention_hint.visible = plots is None

    def _show_flags(self, last: pd.DataFrame) -> None:
        flagged = flag(last, max_entropy=self._attention_plots.max_bits, value="entropy")
        items = [f"<li>layer {int(r.layer)}, head {int(r.head)}: "
                 f"{'collapse' if r.collapse else 'overload'} ({r.entropy:.2f} bits)</li>"
                 for r in flagged.itertuples()
                 if bool(r.collapse) or (not pd.isna(r.overload) and bool(r.overload))]
        limit = self._attention_plots.max_bits
        # flag()'s default thresholds: state those, not copies of them
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
        self._layer_slots = pn.Column(
            self._layer_grid, pn.pane.HTML(f"<small>{LAYER_NOTE}</small>",
                                           css_classes=["wb-layer-note"], margin=(0, 10)),
            css_classes=["wb-layer-plots"], **wide)
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
        self._counter_w = self._counter_pane("wb-monitor-counter")
        self._status_w = pn.pane.HTML("", css_classes=["wb-monitor-status"], margin=(8, 10),
                                      **wide)
        self._error_w = alert("danger", "wb-error")
        self._tabs = pn.Tabs(("Layers", layers_tab), ("Attention", attention_tab),
                             css_classes=["wb-monitor-tabs"], dynamic=False, **wide)
        self._tabs.param.watch(self._on_tab, "active")
        header = pn.Row(self._start_b, self._pause_b, self._stop_b, self._reset_b,
                        self._counter_w, self._status_w, css_classes=["wb-monitor-header"],
                        **wide)
        self._export = ExportBar("entropy_monitor", lambda: getattr(self._board(), "figure",
                                                                    lambda: None)(),
                                 lambda: self._frame)
        self._layout = pn.Column(header, self._error_w, self._tabs, self._export,
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
    monitor = EntropyMonitor(gate=getattr(config, "gate", None))
    pn.state.on_session_destroyed(lambda _ctx: monitor.close())
    return pn.template.BootstrapTemplate(title="Entropy Monitor", main=[monitor],
                                         header_background=HEADER_COLOR)
