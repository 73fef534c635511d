"""The Plane Studio: train a small network and watch its information plane move, live.

Pick a dataset, an architecture, an activation and the optimizer, choose the estimators that
track every layer (``binning`` by default) and their knobs, and press Start. Training runs on a
background thread (:class:`workbench.training.session.TrainingSession`, driven through
:class:`widgets.training_session.LiveTraining`); each recorded epoch's rows go
into a queue that a periodic callback on the UI drains every ``poll_ms`` milliseconds and
streams into the plots of :class:`workbench.plots.live.LivePlane` (the data change, the layout
does not), so Start / Pause / Resume / Stop / Reset always answer. The counter shows the last
epoch the plots show.

The *objective* is plain cross-entropy (the MLP above, every layer tracked) or an
information-bottleneck loss (VIB, nonlinear IB, CS-IB at a chosen β; loss = prediction + β·C,
so a larger β compresses more): then the last hidden width becomes a Gaussian bottleneck T
(:mod:`workbench.ib.models`) and the plane shows T measured from its own noise
(:mod:`workbench.ib.tracker`, estimator ``channel``), live.

Every Start saves a run (``config.json`` + ``metrics.parquet``) in the run store
(``workbench serve --runs-dir``); the runs list loads a saved run into the plots, or overlays
several in one plane (tanh against ReLU, say).

The same object works in a JupyterLab cell (``PlaneStudio()`` displays itself) and as the
``/plane_studio`` page of ``workbench serve``. Every number comes from
:mod:`workbench.tracking.plane`;
this module only wires widgets, the session and the plots together. Outside an event loop (a
script, a test) nothing polls by itself: call :meth:`PlaneStudio.poll`.
"""
from __future__ import annotations

import functools
import math

import pandas as pd
import panel as pn
import param

# torch's optimizers import torch._dynamo on first use: seconds of work under the import lock
# that would otherwise land on the first Start (over 10 s on a busy server); pay it here, when
# the page module loads at server start
import torch._dynamo  # noqa: F401

from workbench.api import make_estimator
from workbench.errors import InputError, WorkbenchError
from workbench.estimators import get_estimator_class, registry
from workbench.estimators.base import Estimator
from workbench.plots import plane as plane_plots
from workbench.plots.live import LivePlane
from workbench.runs import COLUMNS, RunStore, default_root
from workbench.tracking.binning_rules import BIN_RULES, resolve_binning_knobs
from workbench.tracking.tables import estimators_in, plane_limits
from workbench.training import datasets, models
from workbench.training import loop as train
from workbench.training.experiments import checked_arch, default_arch
from workbench.training.mnist1d_plane import CNN_ARCH, CNN_LAYERS, is_cnn
from workbench.training.mnist1d_plane import ESTIMATOR as CNN_ESTIMATOR
from workbench.training.seeds import ib_layout

from .components import (
    ExportBar,
    TwoPaneApp,
    alert,
    escape,
    knob_panel,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
)
from .seed_overlay import SeedOverlay
from .training_session import LiveTraining

#: Estimators offered for per-epoch tracking (those that are registered), in this order:
#: the Shwartz-Ziv & Tishby bins, equal-mass bins (Chelombiev et al.) and the noisy-layer KDE
#: bound (Saxe et al.).
PLANE_METHODS = ("binning", "adaptive_binning", "kde")
#: The 1-D CNN's feature maps keep every MNIST-1D row apart (binned I(X;T) = log2 n): it is
#: measured by the compressed KSG against the input signals (workbench.training.mnist1d_plane),
#: offered only while the CNN is the network.
CNN_METHODS = (CNN_ESTIMATOR[0],)
#: Studio defaults that differ from the estimator's own: the KDE bound is O(n²) per layer, so
#: it measures a seeded subset of 512 rows (about 0.3 s per layer and epoch on one core).
_KNOB_DEFAULTS = {"kde": {"max_samples": 512}, CNN_ESTIMATOR[0]: dict(CNN_ESTIMATOR[1])}
#: Networks: an MLP of the widths typed, or the 1-D CNN (MNIST-1D only).
NETWORKS = {"MLP (layer widths)": "mlp", "1-D CNN (MNIST-1D only)": "cnn"}
#: binning knobs the bin rule sets (shown as the rule, not as raw numbers).
_RULE_KNOBS = ("range_min", "range_max", "bin_width")
#: Objectives offered: the plain network, or a bottleneck trained with an IB loss at β.
OBJECTIVE_CHOICES = {"cross-entropy (all layers)": "cross_entropy", "VIB(β)": "vib",
                     "nonlinear IB(β)": "nonlinear_ib", "CS-IB(β)": "csib"}
#: The bottleneck plane's rows are measured on this many rows (pairwise bounds: O(n²)).
_IB_ROWS = 1000
EVERY = {"every epoch": 1, "every 2nd epoch": 2, "every 5th epoch": 5, "every 10th epoch": 10,
         "log-spaced epochs": "log"}
class PlaneStudio(LiveTraining, TwoPaneApp):
    """Live information plane of a small network. Drive it with the widgets or in code::

        studio = PlaneStudio(epochs=50)   # runs go to workbench.runs.default_root()
        studio.start()            # training runs on a background thread
        studio.poll()             # stream what arrived (a periodic callback does this when
                                  # an event loop runs: served, or in JupyterLab)
        studio.pause(); studio.resume(); studio.stop(); studio.reset()
    """

    # ----- network and training -------------------------------------------------------------
    dataset = param.Selector(default="tishby12", objects={
        "12-bit task (Tishby)": "tishby12", "digits (8×8 images)": "digits",
        "Gaussian mixture": "gaussian_mixture", "MNIST-1D (40-sample signals)": "mnist1d"})
    objective = param.Selector(default="cross_entropy", objects=OBJECTIVE_CHOICES, doc=(
        "Training objective. IB objectives: loss = prediction + β·C (C bounds I(X;T)); the "
        "last hidden width becomes a Gaussian bottleneck T, whose plane is shown."))
    beta = param.Number(default=1e-3, bounds=(0, None), doc=(
        "β of the IB objective: larger compresses more (ignored by cross-entropy)."))
    network = param.Selector(default="mlp", objects=NETWORKS, doc=(
        "The network: an MLP of the layer widths typed, or the 1-D CNN of MNIST-1D (three "
        "convolutions and a softmax layer; tracked layers conv1-conv3 and out)."))
    arch = param.String(default="12-10-7-5-4-3-2")
    optimizer = param.Selector(default="adam", objects=list(train.OPTIMIZERS), doc="Optimizer.")
    lr = param.Number(default=0.002, doc=(
        "Learning rate. 0.002 trains tanh and ReLU alike; 0.004 (the `workbench plane` default) "
        "compresses tanh sooner but can kill a ReLU network (every unit of a layer at 0)."))
    batch_size = param.Integer(default=256)
    epochs = param.Integer(default=300)
    # ----- tracking ---------------------------------------------------------------------
    estimators = param.ListSelector(default=["binning"], objects=list(PLANE_METHODS),
                                    doc="Estimators measuring every layer each recorded epoch.")
    bin_rule = param.Selector(default="auto", objects=list(BIN_RULES), doc=(
        "Range of the binning estimator: fixed (the activation's bounds, tanh/sigmoid only), "
        "observed (follows the data each epoch), width (fixed width 2/n_bins), auto (fixed for "
        "bounded activations, observed otherwise)."))
    every = param.Selector(default=1, objects=EVERY, doc="How often the plane is measured.")
    shown_estimator = param.Selector(default=None, objects=[], allow_None=True,
                                     doc="Whose measurements the plots show.")
    runs_dir = param.String(default=None, allow_None=True, doc=(
        "Run store folder: every Start saves a run here (default: workbench.runs.default_root(),"
        " in the user's data directory)."))
    # ----- outputs ----------------------------------------------------------------------
    epoch = param.Integer(default=None, allow_None=True, doc=(
        "Last epoch the plots show (0: untrained); the counter shows it."))
    state = param.String(default="idle", doc="idle, running, paused, stopping, finished, "
                                             "stopped, failed or viewing (a loaded run).")
    status = param.String(default="", doc="What the studio is doing, in words.")
    run_id = param.String(default="", doc="Run being trained or viewed.")
    n_points = param.Integer(default=0, doc="Points in the information plane.")

    def __init__(self, **params):
        super().__init__(**params)
        self._estimators: dict[str, Estimator] = {}
        self._datasets: dict = {}
        self._frame = pd.DataFrame(columns=COLUMNS)
        if self.runs_dir is None:
            self.runs_dir = str(default_root())
        self._plots: LivePlane | None = None
        self._bounds = (12.0, 1.0)
        self._planned_epochs = self.epochs
        methods = [m for m in PLANE_METHODS if m in registry()]
        self.param.estimators.objects = methods
        self.estimators = [m for m in self.estimators if m in methods] or methods[:1]
        if "dataset" in params and "arch" not in params and self.network != "cnn":
            self.arch = default_arch(self._data())
        if self.network == "cnn" or (is_cnn(self.arch) and self.dataset == "mnist1d"):
            self.network = "cnn"
            self._on_network()
        self._build_widgets()
        # the seeds overlay: several seeds of the current settings, mean trajectory and band
        self._seed_overlay = SeedOverlay(settings=self.seed_settings,
                                         runs_dir=lambda: self.runs_dir, gate=self._gate,
                                         on_done=self.refresh_runs)
        self._output.append(self._seed_overlay)
        self._check_arch()
        self._show_plots(*self._planned_plots())
        self.refresh_runs()
        self._sync()

    # ----- inputs -----------------------------------------------------------------------
    def _data(self, name: str | None = None):
        key = (name or self.dataset, self.seed)
        if key not in self._datasets:
            self._datasets[key] = datasets.load(key[0], seed=key[1])
        return self._datasets[key]

    @param.depends("dataset", watch=True)
    def _on_dataset(self) -> None:
        if self.network == "cnn" and self.dataset != "mnist1d":
            self.network = "mlp"  # sets the dataset's default widths
        else:
            self.arch = CNN_ARCH if self.network == "cnn" else default_arch(self._data())
        self._check_arch()  # also when the text did not change
        if hasattr(self, "_network_w"):
            self._network_w.disabled = self._network_locked(self._session.alive)

    def _network_locked(self, alive: bool) -> bool:
        """The network choice is fixed while training, and off MNIST-1D only once it is the
        MLP (a CNN chosen there must stay undoable: its arch box is locked)."""
        return alive or (self.dataset != "mnist1d" and self.network != "cnn")

    @param.depends("network", watch=True)
    def _on_network(self) -> None:
        """The CNN: arch ``cnn`` and its estimator; back to the MLP: the default widths and
        binning. A dataset other than MNIST-1D keeps the choice and says why it cannot run."""
        cnn = self.network == "cnn"
        registered = registry()
        methods = [m for m in (*PLANE_METHODS, *(CNN_METHODS if cnn else ()))
                   if m in registered]
        self.param.estimators.objects = methods
        if cnn:
            self.estimators = [m for m in CNN_METHODS if m in registered] or methods[:1]
            self.arch = CNN_ARCH
        else:
            self.estimators = [m for m in self.estimators if m in methods] or methods[:1]
            if is_cnn(self.arch):
                self.arch = default_arch(self._data())
        if hasattr(self, "_arch_w"):
            self._arch_w.disabled = cnn or self._session.alive
        self._check_arch()

    @param.depends("arch", watch=True)
    def _check_arch(self) -> bool:
        """Validate the architecture text against the dataset; show the problem in the banner."""
        if is_cnn(self.arch) and self.network != "cnn" and self.dataset == "mnist1d":
            self.network = "cnn"  # "cnn" typed: the same as choosing the CNN (elsewhere the
            # banner says why not, and the arch box stays editable)
        try:
            checked_arch(self._data(), self.arch)
        except WorkbenchError as exc:
            self.error = str(exc)
            return False
        if self.error.startswith(("arch ", "widths")):
            self.error = ""
        return True

    def estimator(self, method: str) -> Estimator:
        """The estimator instance whose knobs the panel shows for ``method``."""
        if method not in self._estimators:
            self._estimators[method] = make_estimator(method, **_KNOB_DEFAULTS.get(method, {}))
        return self._estimators[method]

    def experiment_kwargs(self) -> dict:
        """Arguments of :func:`workbench.training.experiments.run_experiment` for the current
        settings."""
        knobs = {method: self.estimator(method).knobs() for method in self.estimators}
        extra = {}
        if "binning" in knobs:  # the range comes from the rule, through the one resolver
            given = {k: v for k, v in knobs["binning"].items() if k not in _RULE_KNOBS}
            extra["n_bins"] = given["n_bins"]
            knobs["binning"] = resolve_binning_knobs(["binning"], {"binning": given},
                                                     self.activation, given["n_bins"],
                                                     self.bin_rule)["binning"]
        return {"data": self._data(), "arch": self.arch, "activation": self.activation,
                "epochs": self.epochs, "lr": self.lr, "optimizer": self.optimizer,
                "batch_size": self.batch_size, "seed": self.seed,
                "estimators": list(self.estimators), "estimator_knobs": knobs,
                "bin_rule": self.bin_rule, "every": self.every, **extra}

    def seed_settings(self) -> dict:
        """:func:`workbench.training.seeds.run_seeds` keywords for the current settings (the
        seeds overlay adds the seeds; the dataset is loaded per seed, as in the CLI)."""
        if not self._check_arch():
            raise InputError(self.error)
        if self.uses_bottleneck:  # the studio's objective and β carry into every seed's run
            kwargs = self.ib_kwargs()
            for key in ("data", "seed", "hidden", "k"):
                del kwargs[key]
            return {**kwargs, "data": self.dataset, "archs": self.arch}
        kwargs = self.experiment_kwargs()
        del kwargs["seed"]
        kwargs.update(data=self.dataset, activations=kwargs.pop("activation"),
                      archs=kwargs.pop("arch"))
        return kwargs

    @property
    def seed_overlay(self) -> SeedOverlay:
        """The seeds overlay (``studio.seed_overlay.seeds = "0-4"; .start(); .join(); .poll()``)."""
        return self._seed_overlay

    def close(self) -> None:
        self._seed_overlay.close()
        super().close()

    @property
    def uses_bottleneck(self) -> bool:
        """Whether the objective trains a Gaussian-bottleneck network (not the plain MLP)."""
        return self.objective != "cross_entropy"

    def ib_kwargs(self) -> dict:
        """Arguments of :func:`workbench.ib.experiment.run_ib_experiment`: the arch's hidden
        widths but the last form the encoder, the last hidden width is the bottleneck T."""
        if is_cnn(self.arch):
            raise InputError("IB objectives train an MLP with a Gaussian bottleneck: choose "
                             "the MLP network (layer widths) for them")
        hidden, k = ib_layout(self.arch)
        return {"data": self._data(), "objective": self.objective, "beta": float(self.beta),
                "hidden": hidden, "k": k,
                "epochs": self.epochs, "lr": self.lr, "optimizer": self.optimizer,
                "batch_size": self.batch_size, "seed": self.seed, "every": self.every,
                "subsample": _IB_ROWS}

    # ----- control ----------------------------------------------------------------------
    def start(self) -> None:
        """Validate the settings and start a run on the background thread (saved in
        ``runs_dir``)."""
        if self._session.alive:
            self.error = "A run is going: stop it before starting another."
            return
        try:
            if not self._check_arch():
                return
            if self.uses_bottleneck:
                kwargs, target = self.ib_kwargs(), _ib_target()
            else:
                if not self.estimators:
                    raise InputError("choose at least one estimator")
                # a bad bin rule fails here, not on the thread
                kwargs, target = self.experiment_kwargs(), None
        except WorkbenchError as exc:
            self.error = str(exc)
            return
        tag = self.objective if self.uses_bottleneck else self.activation
        run_id = RunStore.new_id(f"{kwargs['data'].name}-{tag}")
        # training first: drawing the empty plots can take a moment, the thread need not wait
        self._session.start(target=target, store=RunStore(self.runs_dir), run=run_id, **kwargs)
        self._reset_view()
        self._planned_epochs = self.epochs
        self._show_plots(*self._planned_plots())
        self.run_id = run_id
        self._begin()

    def _planned_plots(self) -> tuple[list, str | None]:
        """Layers and estimator label of a run with the current settings (none if invalid);
        sets the plane's axis bounds H(X), H(Y) of the dataset."""
        data = self._data()
        self._bounds = plane_limits(data.x, data.y)
        if self.uses_bottleneck:  # X uniform over the measured rows: I(X;T) <= log2(rows)
            from workbench.ib.tracker import ESTIMATOR, LAYER

            rows = min(_IB_ROWS, len(data.x))
            self._bounds = (min(self._bounds[0], math.log2(rows)), self._bounds[1])
            return [LAYER], ESTIMATOR
        try:
            layers = list(CNN_LAYERS) if is_cnn(self.arch) else models.layer_names(self.arch)
            return layers, self._label_guess()
        except WorkbenchError:
            return [], None

    def reset(self) -> None:
        """Stop any run and clear the plots, the counter and the messages (saved runs stay)."""
        self._session.reset()
        self._stop_polling()
        self._reset_view()
        self._plots.clear()
        self.param.update(state="idle", run_id="", error="")
        self._check_arch()
        self._sync()

    # ----- runs -------------------------------------------------------------------------
    def runs(self) -> pd.DataFrame:
        """The saved runs (:meth:`workbench.runs.RunStore.list`), newest first."""
        listing = RunStore(self.runs_dir).list()
        return listing.iloc[::-1].reset_index(drop=True)

    def refresh_runs(self) -> None:
        try:
            listing = self.runs()
        except (WorkbenchError, OSError) as exc:
            self.error = f"cannot read the runs in {self.runs_dir!r}: {exc}"
            return
        options = {}
        for row in listing.itertuples():
            epochs = f"{row.epochs} epochs" if row.epochs >= 0 else "no epochs"
            status = f", {row.status}" if row.status else ""
            options[f"{row.run}  ({row.arch}, {epochs}{status})"] = row.run
        selected = [r for r in self._run_list.value if r in options.values()]
        self._run_list.param.update(options=options, value=selected)
        self._run_note.object = (f"<small>{len(options)} saved run(s) in "
                                 f"<code>{escape(str(self.runs_dir))}</code>. Select one to "
                                 "view it, two or more to overlay them.</small>")

    def load_run(self, run_id: str) -> None:
        """Show a saved run in the plots (not while a run is training)."""
        if self._session.alive:
            self.error = "Stop the current run before loading another."
            return
        try:
            config, frame = RunStore(self.runs_dir).load(run_id)
            if not estimators_in(frame):
                raise WorkbenchError(f"run {run_id!r} has no information-plane rows yet")
        except WorkbenchError as exc:
            self.error = str(exc)
            return
        self._reset_view()
        self._frame = frame
        self._bounds = plane_limits(frame=frame)
        self._planned_epochs = int(config.get("epochs") or frame["epoch"].max() or 1)
        layers = list(dict.fromkeys(frame.sort_values("layer_index").query("layer != 'model'")
                                    ["layer"]))
        self._update_estimator_choices(frame)
        self._show_plots(layers, self.shown_estimator,
                         title=f"Information plane · saved {config.get('activation', '')} run")
        self._plots.send(frame)
        self.param.update(state="viewing", run_id=run_id, error="",
                          n_points=self._plots.n_points)
        self._sync()

    def overlay_runs(self, run_ids) -> None:
        """Overlay the planes of several saved runs (colour = layer, dash = run)."""
        run_ids = list(run_ids)
        if len(run_ids) < 2:
            self.error = "Select two or more runs to overlay."
            return
        try:
            frame = RunStore(self.runs_dir).compare(run_ids)
            names = self._run_names(run_ids)
            frame["run"] = frame["run"].map(names)
            plot = plane_plots.overlay_planes(frame)
        except WorkbenchError as exc:
            self.error = str(exc)
            return
        self.error = ""
        show_plot(self._overlay_slot, plot.opts(width=760, height=460))

    def _run_names(self, run_ids) -> dict:
        """Short legend names: activation, dataset and the id's last characters."""
        store, names = RunStore(self.runs_dir), {}
        for run_id in run_ids:
            config = store.load(run_id)[0]
            name = f"{config.get('activation', '?')} {config.get('data', '')} …{run_id[-4:]}"
            while name in names.values():
                name += "'"
            names[run_id] = name
        return names

    # ----- internals --------------------------------------------------------------------
    def _finished(self) -> None:
        self.refresh_runs()  # the run just saved

    def _label_guess(self) -> str | None:
        """The label the first estimator's rows will carry (so the plots can show it at once)."""
        method = self.estimators[0]
        knobs = self.experiment_kwargs()["estimator_knobs"][method]
        return make_estimator(method, **knobs).label()

    def _reset_view(self) -> None:
        self._clear_rows()
        self.param.update(epoch=None, n_points=0)
        self.param.shown_estimator.objects = []
        self.shown_estimator = None
        self._shown_w.visible = False  # an empty choice says nothing; it returns with data

    def _update_estimator_choices(self, frame: pd.DataFrame) -> bool:
        """Add newly seen estimator labels to the choices; True when the shown one changed."""
        found = estimators_in(frame)
        known = [e for e in self.param.shown_estimator.objects if e is not None]
        if not set(found) - set(known):
            return False
        self.param.shown_estimator.objects = known + [e for e in found if e not in known]
        self._shown_w.visible = True
        if self.shown_estimator not in found:
            self._shown_guard = True
            try:
                self.shown_estimator = found[0]
            finally:
                self._shown_guard = False
            return True
        return False

    def _draw(self, new: pd.DataFrame) -> None:
        self._update_estimator_choices(self._frame)
        plots = self._plots
        if plots is None or plots.estimator != self.shown_estimator or not plots.accepts(new):
            self._redraw()  # the whole frame, new rows included
            return
        plots.send(new)
        self.n_points = plots.n_points

    @param.depends("shown_estimator", watch=True)
    def _on_shown(self) -> None:
        if getattr(self, "_shown_guard", False) or self._plots is None:
            return
        if self.shown_estimator is not None and self.shown_estimator != self._plots.estimator:
            self._redraw()

    def _redraw(self) -> None:
        self._undrawn = []  # they are in the frame drawn here
        layers = list(dict.fromkeys(self._frame.sort_values("layer_index")
                                    .query("layer != 'model'")["layer"]))
        layers += [name for name in (self._plots.layers if self._plots else [])
                   if name not in layers]
        self._show_plots(layers, self.shown_estimator)
        if self.shown_estimator is not None:
            self._plots.send(self._frame)
        self.n_points = self._plots.n_points

    def _show_plots(self, layers=(), estimator: str | None = None, title: str = "") -> None:
        """Empty plots for these layers; the current ones, cleared, when they would look the
        same (no new Bokeh models, no flicker)."""
        spec = (tuple(layers), estimator or "", self._planned_epochs, self._bounds, title)
        if self._plots is not None and self._plots.spec == spec:
            self._plots.clear()
            return
        self._plots = LivePlane(layers, estimator or "", self._planned_epochs, self._bounds,
                                title=title)
        show_plot(self._plane_slot, self._plots.plane)
        show_plot(self._loss_slot, self._plots.loss)
        show_plot(self._accuracy_slot, self._plots.accuracy)
        show_plot(self._entropy_slot, self._plots.entropy)

    def _sync(self) -> None:
        """Counter, status line, banner and button states from the session's state."""
        session = self._session
        if session.alive:  # the final state is set by poll() once the last rows are in
            self.state = session.state
        self.epoch = None if self._plots is None else self._plots.last
        state, epoch = self.state, self.epoch
        shown = "–" if epoch is None else str(epoch)
        self._show_counter(self._counter, "epoch", epoch, self._planned_epochs)
        self._points_w.object = (f'<small class="wb-muted"><span class="wb-points-value">'
                                 f"{self.n_points}</span> points in the plane</small>")
        run = f" · run {self.run_id}" if self.run_id else ""
        self.status = {
            "idle": "Ready: set up the network and press Start.",
            "queued": self._queue_note(),
            "running": f"Training{run}" if epoch is not None else f"Starting{run}…",
            "paused": f"Paused at epoch {shown}{run}",
            "stopping": "Stopping after the current mini-batch…",
            "finished": f"Finished {shown} epochs; saved{run}",
            "stopped": f"Stopped at epoch {shown}; saved{run}",
            "failed": "Failed: see the message above.",
            "viewing": f"Viewing a saved run{run}",
        }.get(state, state)
        self._status_w.object = f'<span class="wb-status-text">{escape(self.status)}</span>'
        set_alert(self._error_w, self.error)
        alive = session.alive
        self._start_b.disabled = alive
        self._pause_b.disabled = state != "running"
        self._resume_b.disabled = state != "paused"
        self._stop_b.disabled = state not in ("queued", "running", "paused")
        self._load_b.disabled = self._overlay_b.disabled = alive
        for w in self._settings:
            w.disabled = alive
        self._beta_w.disabled = alive or not self.uses_bottleneck
        self._network_w.disabled = self._network_locked(alive)
        self._arch_w.disabled = alive or self.network == "cnn"

    @param.depends("error", watch=True)
    def _on_error(self) -> None:
        if hasattr(self, "_error_w"):
            set_alert(self._error_w, self.error)

    # ----- view -------------------------------------------------------------------------
    def _knob_card(self, method: str) -> pn.Card:
        est = self.estimator(method)
        prefix = f"wb-knob-{method}"
        body = [pn.pane.HTML(f"<small>{escape(get_estimator_class(method).summary)}"
                             "</small>", margin=(0, 10), sizing_mode="stretch_width")]
        if method == "binning":
            body.append(pn.widgets.Select.from_param(self.param.bin_rule, name="bin range rule",
                                                     css_classes=["wb-bin-rule"],
                                                     sizing_mode="stretch_width"))
        body.append(knob_panel(est, prefix, exclude=_RULE_KNOBS if method == "binning" else ()))
        return pn.Card(*body, title=f"{method} knobs", collapsed=method != self.estimators[0],
                       css_classes=[f"wb-knobs-{method}"], sizing_mode="stretch_width",
                       margin=(5, 0))

    @param.depends("estimators", watch=True)
    def _on_estimators(self) -> None:
        if hasattr(self, "_knob_holder"):
            self._knob_holder.objects = [self._knob_card(m) for m in self.estimators]

    def _build_widgets(self) -> None:
        w = pn.widgets
        wide = {"sizing_mode": "stretch_width"}

        net = self._network_widgets()
        bound = functools.partial(param_widget, self)
        self._network_w = bound(w.Select, "network", "Network", "network",
                                disabled=self.dataset != "mnist1d")
        self._arch_w = net["arch"]
        self._arch_w.disabled = self.network == "cnn"
        estimators_w = bound(w.CheckBoxGroup, "estimators", "Estimators", "estimators",
                             inline=True)
        every_w = bound(w.Select, "every", "Measure the plane", "every")
        self._knob_holder = pn.Column(*[self._knob_card(m) for m in self.estimators], **wide)
        optimizer_w = bound(w.Select, "optimizer", "Optimizer", "optimizer")
        objective_w = bound(w.Select, "objective", "Objective", "objective")
        self._beta_w = bound(w.FloatInput, "beta", "β (IB objectives)", "beta",
                             format="0.[000000]", disabled=not self.uses_bottleneck)
        self._settings = [*net.values(), optimizer_w, estimators_w, every_w, objective_w]
        self._controls = pn.Column(
            "#### Data and network", net["dataset"], self._network_w, net["arch"],
            net["activation"],
            "#### Training", pn.Row(objective_w, self._beta_w, **wide),
            pn.pane.HTML("<small>IB objectives: the last hidden width is a Gaussian "
                         "bottleneck T; the plane shows T (estimator <i>channel</i>).</small>",
                         margin=(0, 10)),
            pn.Row(optimizer_w, net["lr"], **wide),
            pn.Row(net["batch_size"], net["epochs"], **wide), net["seed"],
            "#### Information plane", pn.pane.Markdown("Estimators", margin=(0, 10)),
            estimators_w, every_w,
            self._knob_holder,
            pn.pane.HTML("<small>Knob changes apply to the next Start.</small>", margin=(0, 10)),
            css_classes=["wb-controls"], width=340, margin=(0, 10))

        self._start_b = self._button("Start", "start", "primary", self.start)
        self._pause_b = self._button("Pause", "pause", "default", self.pause)
        self._resume_b = self._button("Resume", "resume", "default", self.resume)
        self._stop_b = self._button("Stop", "stop", "danger", self.stop)
        self._reset_b = self._button("Reset", "reset", "light", self.reset)
        self._counter = self._counter_pane("wb-epoch-counter")
        self._status_w = pn.pane.HTML("", css_classes=["wb-status"], margin=(8, 10), **wide)
        self._points_w = pn.pane.HTML("", css_classes=["wb-points-count"], margin=(0, 10))
        self._error_w = alert("danger", "wb-error")
        self._shown_w = w.Select.from_param(self.param.shown_estimator,
                                            name="Estimator shown in the plots",
                                            css_classes=["wb-shown-estimator"], width=380,
                                            visible=False)
        self._plane_slot = plot_slot("wb-plot-plane")
        self._loss_slot = plot_slot("wb-plot-loss")
        self._accuracy_slot = plot_slot("wb-plot-accuracy")
        self._entropy_slot = plot_slot("wb-plot-entropy")
        self._run_list = w.MultiSelect(options={}, size=7,
                                       css_classes=["wb-run-list"], **wide)
        self._run_note = pn.pane.HTML("", margin=(0, 10), **wide)
        self._load_b = self._button("View", "load", "primary", self._load_selected)
        self._overlay_b = self._button("Overlay", "overlay", "default", self._overlay_selected)
        self._refresh_b = self._button("Refresh", "refresh-runs", "light", self.refresh_runs)
        self._overlay_slot = plot_slot("wb-plot-overlay")
        # FlexBoxes wrap: side by side on a wide page, stacked in a narrow notebook cell
        header = pn.FlexBox(
            pn.Row(self._start_b, self._pause_b, self._resume_b, self._stop_b, self._reset_b),
            self._counter, pn.Column(self._status_w, self._points_w, min_width=260,
                                     styles={"flex": "1 1 260px"}),
            flex_wrap="wrap", align_items="center", **wide)
        plots = pn.FlexBox(
            pn.Column(self._shown_w, self._plane_slot,
                      pn.pane.HTML(f"<small>{plane_plots.LAYER_NOTE}</small>",
                                   css_classes=["wb-layer-note"], margin=(0, 10)),
                      min_width=480, styles={"flex": "1 1 480px"}),
            pn.Column(self._loss_slot, self._accuracy_slot, self._entropy_slot, width=430),
            flex_wrap="wrap", **wide)
        runs = pn.Column(
            "#### Saved runs", self._run_note,
            pn.Row(self._run_list, pn.Column(self._load_b, self._overlay_b, self._refresh_b),
                   **wide),
            self._overlay_slot, css_classes=["wb-runs"], **wide)
        self._export = ExportBar("plane_studio", lambda: self._plots.figure(), lambda: self._frame)
        self._output = pn.Column(header, self._error_w, plots, self._export, runs,
                                 css_classes=["wb-output"],
                                 sizing_mode="stretch_width", min_width=500)

    @param.depends("objective", watch=True)
    def _on_objective(self) -> None:
        # the plain default (d-10-7-5-4-3-k) would leave a 3-wide bottleneck behind 4 narrow
        # layers; an IB objective starts from d-64-8-k instead (either default, not user text)
        data = self._data()
        ib_default = f"{data.n_features}-64-8-{data.n_classes}"
        if is_cnn(self.arch):
            pass
        elif self.uses_bottleneck and self.arch == default_arch(data):
            self.arch = ib_default
        elif not self.uses_bottleneck and self.arch == ib_default:
            self.arch = default_arch(data)
        if hasattr(self, "_beta_w"):
            self._beta_w.disabled = not self.uses_bottleneck or self._session.alive
        if not self._session.alive and self.state in ("idle", "finished", "stopped", "failed"):
            self._show_plots(*self._planned_plots())

    def _load_selected(self) -> None:
        chosen = list(self._run_list.value)
        if not chosen:
            self.error = "Select a saved run to view."
            return
        self.load_run(chosen[0])

    def _overlay_selected(self) -> None:
        self.overlay_runs(self._run_list.value)

def _ib_target():
    from workbench.ib.experiment import run_ib_experiment

    return run_ib_experiment


def page(config=None) -> pn.viewable.Viewable:
    """The ``/plane_studio`` page of ``workbench serve`` (``config``: a
    :class:`widgets.app.AppConfig`; runs are saved in its ``runs_dir``)."""
    runs_dir = getattr(config, "runs_dir", None)
    return PlaneStudio(runs_dir=None if runs_dir is None else str(runs_dir),
                       gate=getattr(config, "gate", None)).page("Plane Studio")
