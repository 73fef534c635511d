"""The Estimator Lab: pick data (a ground-truth task, a built-in dataset or an uploaded file)
and an estimator, move its knobs, and watch the estimate, its bootstrap interval, the error
against the truth, and how it changes with sample size and with one knob.

The same object works in a JupyterLab cell (``EstimatorLab()`` displays itself) and as the
``/estimator_lab`` page of ``workbench serve``. Every number comes from :mod:`workbench.lab`;
this module only wires widgets to those calls. Recomputations are debounced and run on a worker
thread so the page stays responsive; with ``debounce_ms=0`` (or outside an event loop, e.g. in
a script or a test) they run synchronously.
"""
from __future__ import annotations

import asyncio
import functools
import html
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import panel as pn
import param

from workbench import lab
from workbench.api import make_estimator
from workbench.errors import WorkbenchError
from workbench.estimators import get_estimator_class
from workbench.estimators.base import QUANTITY_SYMBOLS, Estimator
from workbench.io import DEFAULT_MAX_BYTES
from workbench.plots import estimators as est_plots
from workbench.units import UNITS, from_nats
from workbench.validation import as_samples, is_discrete

from .components import (
    APP_CSS,
    TwoPaneApp,
    UploadBox,
    alert,
    error_message,
    knob_panel,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
)

log = logging.getLogger(__name__)

#: Shared by every Lab in the process: estimates run here, off the UI thread. Two workers so
#: one slow session does not queue every other session behind it.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="estimator-lab")
#: Methods tried in order for the default selection; the first registered one wins.
_PREFERRED = {"mutual_info": ("ksg", "gaussian", "plugin"),
              "entropy": ("kl", "gaussian", "plugin")}
_NO_SWEEP = "(none)"


class _Waiting(Exception):
    """Nothing to compute yet (e.g. no file uploaded); not an error."""


@dataclass
class _Job:
    """Everything one recomputation needs, copied from the widgets on the UI thread."""

    source: str
    task: Any
    dataset: str | None
    n: int
    seed: int
    x_file: tuple | None
    y_file: tuple | None
    y_columns: str
    max_bytes: int
    quantity: str
    method: str
    knobs: dict
    n_resamples: int
    sweeps: bool
    sweep_knob: str | None
    n_seeds: int
    budget: float
    notes: list = field(default_factory=list)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _task_label(task) -> str:
    return f"{task.name} ({task.dim_x}×{task.dim_y})"


class EstimatorLab(TwoPaneApp):
    """Interactive estimator playground. Set parameters in code or through the widgets::

        lab = EstimatorLab(method="ksg", n=1000)
        lab.estimator.k = 5          # knobs live on the estimator instance
        lab.shown_value              # the estimate in the chosen units
    """

    # ----- data ---------------------------------------------------------------------------
    source = param.Selector(default="task", objects={"Task": "task", "Dataset": "dataset",
                                                     "Upload": "upload"},
                            doc="Where the samples come from: a ground-truth task (exact MI "
                                "known), a built-in dataset (x = inputs, y = labels), or a file.")
    task = param.Selector(default=None, objects=[], allow_None=True,
                          doc="Ground-truth task (exact MI known).")
    dataset = param.Selector(default=None, objects=[], allow_None=True,
                             doc="Built-in dataset: x are its inputs, y its labels.")
    n = param.Integer(default=500, bounds=(10, 200_000),
                      doc="Sample size: rows drawn from the task or the dataset.")
    seed = param.Integer(default=0, bounds=(0, None),
                         doc="Seed of the samples drawn (task, dataset rows) and of the "
                             "bootstrap.")
    y_columns = param.String(default="-1", doc=(
        "With one uploaded file: which columns are y (Python indices: -1, 3, 0,2 or 2:4); "
        "the other columns are x. An .npz with arrays named x and y needs nothing here."))
    max_upload_mb = param.Number(default=DEFAULT_MAX_BYTES / 2**20, bounds=(0.001, None),
                                 constant=True, doc="Largest upload accepted, in MB (2**20 bytes).")
    # ----- estimator ----------------------------------------------------------------------
    quantity = param.Selector(default="mutual_info", objects={"I(X;Y)": "mutual_info",
                                                              "H(X)": "entropy"},
                              doc="Mutual information, or entropy of x.")
    method = param.Selector(default=None, objects=[], allow_None=True,
                            doc="Estimator (registered method name).")
    units = param.Selector(default="bits", objects=list(UNITS), doc="Units of every number.")
    n_resamples = param.Integer(default=20, bounds=(0, 500), doc=(
        "Bootstrap resamples for the interval (0 turns it off; otherwise at least 10)."))
    # ----- plots --------------------------------------------------------------------------
    sweeps = param.Boolean(default=True, doc="Also compute the error-vs-n and knob plots.")
    sweep_knob = param.Selector(default=_NO_SWEEP, objects=[_NO_SWEEP],
                                doc="Knob swept in the estimate-vs-knob plot.")
    n_seeds = param.Integer(default=3, bounds=(1, 10), doc="Seeds per sample size (error vs n).")
    time_budget_s = param.Number(default=20.0, bounds=(0.001, None), doc=(
        "Skip the interval or the plots when, judged by the time of one estimate, they would "
        "take longer than this many seconds."))
    debounce_ms = param.Integer(default=300, bounds=(0, 10_000), doc=(
        "Wait this long after the last change before recomputing (0: compute at once)."))
    # ----- outputs (in nats; shown in `units`) ---------------------------------------------
    estimator = param.ClassSelector(class_=Estimator, allow_None=True,
                                    doc="The estimator instance whose knobs the panel shows.")
    result = param.ClassSelector(class_=lab.LabEstimate, allow_None=True,
                                 doc="Latest estimate (nats).")
    n_curve = param.DataFrame(default=None, allow_None=True, doc="Error/estimate vs n (nats).")
    knob_curve = param.DataFrame(default=None, allow_None=True, doc="Estimate vs knob (nats).")
    error = param.String(default="", doc="Message of the last failure ('' if none).")
    warning = param.String(default="", doc="Caveats about the last result ('' if none).")
    status = param.String(default="", doc="What the Lab is waiting for ('' if nothing).")
    busy = param.Boolean(default=False, doc="True while an estimate is being computed.")

    def __init__(self, **params):
        self._estimators: dict[str, Estimator] = {}
        self._generation = 0
        self._ready = False
        super().__init__(**params)
        self._init_sources()
        self._uploads = {
            "x": UploadBox("x file (or x and y columns)", "wb-upload-x",
                           max_bytes=self._max_bytes()),
            "y": UploadBox("y file (optional)", "wb-upload-y",
                           max_bytes=self._max_bytes())}
        for box in self._uploads.values():
            box.param.watch(self._on_upload, ["data", "error"])
        self._build_widgets()
        self._on_quantity()
        self._ready = True
        self._request()

    # ----- state ------------------------------------------------------------------------
    def _init_sources(self) -> None:
        tasks = lab.available_tasks()
        self._tasks = tasks
        self.param.task.objects = {_task_label(t): name for name, t in tasks.items()}
        if self.task not in tasks:
            self.task = next(iter(tasks), None)
        self.param.dataset.objects = lab.available_datasets()
        if self.dataset not in self.param.dataset.objects:
            self.dataset = next(iter(self.param.dataset.objects), None)

    @param.depends("quantity", watch=True)
    def _on_quantity(self) -> None:
        names = lab.methods_for(self.quantity)
        self.param.method.objects = {f"{m} ({get_estimator_class(m).family})": m for m in names}
        if self.method not in names:
            preferred = [m for m in _PREFERRED[self.quantity] if m in names]
            self.method = (preferred or names or [None])[0]  # _on_method recomputes
        elif self.estimator is None:
            self._on_method()
        else:
            self._request()  # same method, other quantity

    @param.depends("method", watch=True)
    def _on_method(self) -> None:
        if self.method is None:
            self.estimator = None
            return
        if self.method not in self._estimators:
            est = make_estimator(self.method)
            est.param.watch(lambda *_: self._request(), est.knob_names())
            self._estimators[self.method] = est
        self.estimator = self._estimators[self.method]
        knobs = lab.sweepable_knobs(self.method)
        self.param.sweep_knob.objects = [_NO_SWEEP, *knobs]
        if self.sweep_knob not in knobs:
            self.sweep_knob = knobs[0] if knobs else _NO_SWEEP
        if hasattr(self, "_knob_holder"):
            self._knob_holder.objects = [knob_panel(self.estimator)]
            self._summary.object = self._method_summary()
        self._request()

    @param.depends("source", "task", "dataset", "n", "seed", "y_columns", "n_resamples",
                   "sweeps", "sweep_knob", "n_seeds", "time_budget_s", watch=True)
    def _on_input(self) -> None:
        self._request()

    def _on_upload(self, *events) -> None:
        box = events[0].obj
        if box.error:  # refused before parsing (too large)
            self.param.update(error=box.error, status="", result=None, n_curve=None,
                              knob_curve=None)
        elif box.data is not None and self.source != "upload":
            self.source = "upload"  # triggers a request
        else:
            self._request()

    def upload(self, data: bytes, filename: str, which: str = "x") -> None:
        """Hand the Lab a file's bytes as if uploaded (``which`` is ``"x"`` or ``"y"``)."""
        self._uploads[which].accept(data, filename)

    def clear_uploads(self) -> None:
        for box in self._uploads.values():
            box.clear()
        self._request()

    @property
    def shown_value(self) -> float | None:
        """The latest estimate in the chosen units, as displayed."""
        return None if self.result is None else self.result.to(self.units).value

    # ----- computation ------------------------------------------------------------------
    def _job(self) -> _Job:
        boxes = self._uploads
        files = {k: (b.data, b.filename) if b.data is not None else None for k, b in boxes.items()}
        return _Job(source=self.source, task=self._tasks.get(self.task), dataset=self.dataset,
                    n=self.n, seed=self.seed, x_file=files["x"], y_file=files["y"],
                    y_columns=self.y_columns, max_bytes=self._max_bytes(),
                    quantity=self.quantity, method=self.method,
                    knobs=self.estimator.knobs() if self.estimator else {},
                    n_resamples=self.n_resamples, sweeps=self.sweeps,
                    sweep_knob=None if self.sweep_knob == _NO_SWEEP else self.sweep_knob,
                    n_seeds=self.n_seeds, budget=self.time_budget_s)

    @staticmethod
    def _load(job: _Job):
        if job.method is None:
            raise _Waiting("No estimator is registered for this quantity yet.")
        if job.source == "task":
            if job.task is None:
                raise _Waiting("No ground-truth task is available; upload a file instead.")
            x, y = job.task.sample(job.n, job.seed)
            return x, y, lab.task_truth(job.task, job.quantity)
        if job.source == "dataset":
            if job.dataset is None:
                raise _Waiting("No built-in dataset is available; upload a file instead.")
            x, y = lab.dataset_xy(job.dataset, job.n, job.seed)
            return x, (None if job.quantity == "entropy" else y), None
        if job.x_file is None:
            raise _Waiting("Upload a .npy, .npz or .csv file of samples (rows) to start.")
        (xb, xname), (yb, yname) = job.x_file, job.y_file or (None, None)
        x, y = lab.load_xy(xb, xname, yb, yname, y_columns=job.y_columns,
                           quantity=job.quantity, max_bytes=job.max_bytes)
        return x, y, None

    @staticmethod
    def _estimate_stage(job: _Job):
        x, y, truth = EstimatorLab._load(job)
        cls = get_estimator_class(job.method)
        if cls.data_kind == "discrete" and not is_discrete(x):
            job.notes.append(f"{job.method} is meant for discrete data but x looks continuous: "
                             "each distinct value counts as its own symbol, so the estimate "
                             "grows like log n. Bin the data or pick a continuous method.")
        elif cls.data_kind == "continuous" and is_discrete(x):
            job.notes.append(f"x looks discrete; ties bias {job.method}. Consider 'mixed' or "
                             "a discrete method such as 'plugin'.")
        result = lab.estimate(x, y, method=job.method, quantity=job.quantity,
                              n_resamples=job.n_resamples, bootstrap_seed=job.seed,
                              truth=truth, interval_budget_s=job.budget, **job.knobs)
        if result.note:
            job.notes.append(result.note + "; raise the time budget to compute it")
        return x, y, truth, result

    @staticmethod
    def _sweep_stage(job: _Job, x, y, truth, seconds: float):
        n = len(as_samples(x, "x", dtype=None))
        est = get_estimator_class(job.method)(**job.knobs)
        ns = lab.default_ns(n, min_n=est.min_samples() + 1)
        seeds = range(job.seed, job.seed + job.n_seeds)
        knob_values = lab.knob_sweep_values(job.method, job.sweep_knob,
                                            job.knobs.get(job.sweep_knob)) \
            if job.sweep_knob else []
        runs = len(ns) * len(seeds) + len(knob_values)
        # smaller n are faster, so this overestimates: a conservative guard
        predicted = seconds * runs
        if predicted > job.budget:
            # the first estimate in a process can include one-off warm-up (imports, thread
            # pools): time a second one before skipping
            start = time.perf_counter()
            getattr(est, job.quantity)(*((x,) if y is None else (x, y)))
            predicted = (time.perf_counter() - start) * runs
        if predicted > job.budget:
            job.notes.append(f"plots skipped: about {predicted:.0f} s of estimates, over the "
                             f"{job.budget:g} s time budget; raise it or use fewer seeds")
            return None, None
        if job.source == "task":
            n_frame = lab.error_vs_n(job.task, job.method, ns, seeds, quantity=job.quantity,
                                     **job.knobs)
        else:
            n_frame = lab.estimate_vs_n(x, y, method=job.method, ns=ns, seeds=seeds,
                                        quantity=job.quantity, truth=truth, **job.knobs)
        knob_frame = None
        if job.sweep_knob:
            knob_frame = lab.estimate_vs_knob(x, y, method=job.method, knob=job.sweep_knob,
                                              values=knob_values, quantity=job.quantity,
                                              truth=truth, **job.knobs)
            skipped = knob_frame.attrs.get("skipped", {})
            if skipped:
                value, message = next(iter(skipped.items()))
                job.notes.append(f"{job.sweep_knob} = {', '.join(map(str, skipped))} skipped in "
                                 f"the knob plot ({job.sweep_knob} = {value}: {message})")
        return n_frame, knob_frame

    def refresh(self) -> None:
        """Recompute everything now, synchronously (the widgets call this debounced)."""
        self._generation += 1
        job = self._job()
        self.busy = True
        try:
            x, y, truth, result = self._estimate_stage(job)
            self._apply_estimate(job, result)
            if job.sweeps:
                self._apply_sweeps(job, *self._sweep_stage(job, x, y, truth, result.seconds))
        except Exception as exc:  # every failure becomes a banner, never a traceback
            self._fail(exc)
        finally:
            self.busy = False

    def _request(self) -> None:
        if not self._ready:
            return
        if self.debounce_ms == 0 or not _loop_running():
            self.refresh()  # no event loop (script, test): nothing to debounce against
            return
        self._generation += 1
        generation = self._generation

        async def run() -> None:
            await self._run(generation)

        pn.state.execute(run)

    async def _run(self, generation: int) -> None:
        await asyncio.sleep(self.debounce_ms / 1000)
        if generation != self._generation:
            return  # a newer change arrived during the wait
        job = self._job()
        loop = asyncio.get_running_loop()
        self.busy = True
        try:
            x, y, truth, result = await loop.run_in_executor(_EXECUTOR, self._estimate_stage,
                                                             job)
            if generation != self._generation:
                return
            self._apply_estimate(job, result)
            if job.sweeps:
                frames = await loop.run_in_executor(_EXECUTOR, self._sweep_stage, job, x, y,
                                                    truth, result.seconds)
                if generation == self._generation:
                    self._apply_sweeps(job, *frames)
        except Exception as exc:
            if generation == self._generation:
                self._fail(exc)
        finally:
            if generation == self._generation:
                self.busy = False

    def _apply_estimate(self, job: _Job, result) -> None:
        self.param.update(result=result, error="", status="", warning="\n\n".join(job.notes))
        if not job.sweeps:
            self.param.update(n_curve=None, knob_curve=None)

    def _apply_sweeps(self, job: _Job, n_frame, knob_frame) -> None:
        self.param.update(n_curve=n_frame, knob_curve=knob_frame,
                          warning="\n\n".join(job.notes))

    def _fail(self, exc: Exception) -> None:
        if isinstance(exc, _Waiting):
            self.param.update(status=str(exc), error="", warning="", result=None, n_curve=None,
                              knob_curve=None)
            return
        if not isinstance(exc, WorkbenchError):
            log.exception("Estimator Lab: unexpected error")
        self.param.update(error=error_message(exc), status="", warning="", result=None,
                          n_curve=None, knob_curve=None)

    # ----- view -------------------------------------------------------------------------
    def _method_summary(self) -> str:
        if self.method is None:
            return ""
        cls = get_estimator_class(self.method)
        refs = f"<br><small>{html.escape(cls.references)}</small>" if cls.references else ""
        return f"<small>{html.escape(cls.summary)}</small>{refs}"

    def _build_widgets(self) -> None:
        w = pn.widgets
        wide = {"sizing_mode": "stretch_width"}

        bound = functools.partial(param_widget, self)

        self._source_w = bound(w.RadioButtonGroup, "source", "", "source")
        self._task_w = bound(w.Select, "task", "Task", "task")
        self._task_info = pn.pane.Markdown("", css_classes=["wb-task-info"], margin=(0, 10),
                                           **wide)
        self._dataset_w = bound(w.Select, "dataset", "Dataset", "dataset")
        self._n_w = bound(w.IntInput, "n", "Sample size n", "n", step=100)
        self._seed_w = bound(w.IntInput, "seed", "Data seed", "seed")
        self._ycols_w = bound(w.TextInput, "y_columns", "y columns (one file)", "y-columns")
        self._forget_w = w.Button(label="Forget uploaded files", color="light",
                                  css_classes=["wb-forget"], **wide)
        self._forget_w.on_click(lambda *_: self.clear_uploads())
        self._task_box = pn.Column(self._task_w, self._task_info, **wide)
        self._upload_box = pn.Column(self._uploads["x"], self._uploads["y"], self._ycols_w,
                                     self._forget_w, **wide)
        self._quantity_w = bound(w.RadioButtonGroup, "quantity", "", "quantity")
        self._method_w = bound(w.Select, "method", "Estimator", "method")
        self._summary = pn.pane.HTML(self._method_summary(), css_classes=["wb-method-summary"],
                                     margin=(0, 10), **wide)
        self._knob_holder = pn.Column(knob_panel(self.estimator) if self.estimator else None,
                                      **wide)
        self._units_w = bound(w.RadioButtonGroup, "units", "", "units")
        self._resamples_w = bound(w.IntInput, "n_resamples", "Bootstrap resamples (0 = off)",
                                  "resamples")
        self._sweeps_w = bound(w.Checkbox, "sweeps", "Draw the plots", "sweeps")
        self._sweep_knob_w = bound(w.Select, "sweep_knob", "Knob to sweep", "sweep-knob")
        self._seeds_w = bound(w.IntInput, "n_seeds", "Seeds per n", "seeds")
        self._budget_w = bound(w.FloatInput, "time_budget_s", "Time budget (s)", "budget")
        self._error_w = alert("danger", "wb-error")
        self._warning_w = alert("warning", "wb-warning")
        self._status_w = alert("info", "wb-status")
        self._result_w = pn.pane.HTML("", css_classes=["wb-result"], stylesheets=[APP_CSS],
                                      min_height=120, **wide)
        self._n_plot = plot_slot("wb-plot-n")
        self._knob_plot = plot_slot("wb-plot-knob")
        self._controls = pn.Column(
            "#### Data", self._source_w, self._task_box, self._dataset_w, self._upload_box,
            self._n_w, self._seed_w,
            "#### Estimator", self._quantity_w, self._method_w, self._summary,
            self._knob_holder,
            "#### Units and plots", self._units_w, self._resamples_w, self._sweeps_w,
            self._sweep_knob_w, self._seeds_w, self._budget_w,
            css_classes=["wb-controls"], width=340, margin=(0, 10))
        # banners stay outside the part that greys out while computing
        self._body = pn.Column(
            self._result_w, pn.Row(self._n_plot, self._knob_plot, sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
        self._output = pn.Column(self._error_w, self._warning_w, self._status_w, self._body,
                                 css_classes=["wb-output"], sizing_mode="stretch_width",
                                 min_width=500)
        self._sync_view()
        self._draw_plots()

    @param.depends("source", "task", "quantity", "units", "result", "error", "warning",
                   "status", "busy", "sweeps", watch=True)
    def _sync_view(self) -> None:
        if not hasattr(self, "_output"):
            return
        self._task_box.visible = self.source == "task"
        self._upload_box.visible = self.source == "upload"
        self._dataset_w.visible = self.source == "dataset"
        self._n_w.visible = self.source != "upload"
        self._ycols_w.disabled = self.quantity == "entropy"
        task = self._tasks.get(self.task)
        self._task_info.object = self._task_text(task) if task else ""
        set_alert(self._error_w, self.error)
        set_alert(self._warning_w, self.warning)
        set_alert(self._status_w, self.status)
        self._result_w.object = self._result_html()
        self._body.loading = self.busy
        self._sweep_knob_w.disabled = self._seeds_w.disabled = not self.sweeps

    @param.depends("n_curve", "knob_curve", "units", watch=True)
    def _draw_plots(self) -> None:
        if not hasattr(self, "_output"):
            return
        # a plot with nothing to show is left out rather than drawn empty
        for slot, frame, draw in ((self._n_plot, self.n_curve, est_plots.error_vs_n),
                                  (self._knob_plot, self.knob_curve,
                                   est_plots.estimate_vs_knob)):
            has_data = frame is not None and len(frame) > 0
            show_plot(slot, draw(lab.frame_in_units(frame, self.units)) if has_data else None)

    def _task_text(self, task) -> str:
        value = lab.task_truth(task, self.quantity)
        truth = "unknown" if value is None else f"{from_nats(value, self.units):.4g}"
        symbol = QUANTITY_SYMBOLS[self.quantity]
        desc = html.escape(task.description) if task.description else ""
        return f"<small>{desc}<br>true {symbol} = {truth} {self.units}</small>"

    def _result_html(self) -> str:
        if self.result is None:
            return ""
        r = self.result.to(self.units)
        u = html.escape(r.units)
        rows = [f'<div class="wb-symbol">{r.symbol} by <b>{html.escape(r.method)}</b>, '
                f"n = {r.n}</div>",
                f'<div class="wb-big"><span class="wb-estimate-value">{r.value:.4f}</span>'
                f'<span class="wb-estimate-units">{u}</span></div>']
        if r.low is not None:
            kind = "bootstrap" if r.scheme == "bootstrap" else "subsampling"
            rows.append(f'<div class="wb-row wb-ci">{round(100 * r.confidence)}% interval '
                        f"[{r.low:.4f}, {r.high:.4f}] {u} <span class='wb-muted'>"
                        f"({r.n_resamples} {kind} resamples)</span></div>")
        if r.truth is not None:
            rows.append(f'<div class="wb-row wb-truth">true value {r.truth:.4f} {u} · '
                        f'absolute error <span class="wb-abs-error">{r.abs_error:.4f}</span> '
                        f"{u}</div>")
        rows.append(f'<div class="wb-muted wb-time">computed in '
                    f'<span class="wb-seconds">{r.seconds:.3g}</span> s (point estimate)</div>')
        return '<div class="wb-result">' + "".join(rows) + "</div>"

    def _max_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    def close(self) -> None:
        """Drop pending and running recomputations (their results are no longer shown)."""
        self._generation += 1
        self._ready = False



def page(config=None) -> pn.viewable.Viewable:
    """The ``/estimator_lab`` page of ``workbench serve`` (``config``: a
    :class:`widgets.app.AppConfig`)."""
    max_mb = getattr(config, "max_upload_mb", DEFAULT_MAX_BYTES / 2**20)
    return EstimatorLab(max_upload_mb=max_mb).page("Estimator Lab")
