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
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import panel as pn
import param

from workbench import lab
from workbench.api import make_estimator
from workbench.errors import FileLoadError, WorkbenchError
from workbench.estimators import get_estimator_class
from workbench.estimators.base import QUANTITY_SYMBOLS, Estimator
from workbench.io import DEFAULT_MAX_BYTES
from workbench.plots import estimators as est_plots
from workbench.units import UNITS, convert_columns, from_nats
from workbench.validation import as_samples, is_discrete

from .components import (
    APP_CSS,
    ExportBar,
    TwoPaneApp,
    UploadBox,
    alert,
    error_message,
    escape,
    knob_panel,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
    slot_figure,
)

log = logging.getLogger(__name__)

#: Shared by every Lab in the process: estimates run here, off the UI thread. Two workers so
#: one slow session does not queue every other session behind it.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="estimator-lab")
#: Methods tried in order for the default selection; the first registered one wins.
_PREFERRED = {"mutual_info": ("ksg", "gaussian", "plugin"),
              "entropy": ("kl", "gaussian", "plugin")}
_NO_SWEEP = "(none)"
#: Seconds between two looks at a running job's progress.
_PROGRESS_EVERY_S = 0.25


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
    x_upload: lab.Upload | None
    y_upload: lab.Upload | None
    upload_error: str
    y_columns: str
    quantity: str
    method: str
    knobs: dict
    n_resamples: int
    sweeps: bool
    sweep_knob: str | None
    n_seeds: int
    budget: float
    notes: list = field(default_factory=list)
    progress: lab.ProgressClock = field(default_factory=lab.ProgressClock)


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
    n = param.Integer(default=500, doc=(
        f"Sample size: rows drawn from the task or the dataset ({lab.MIN_N} to "
        f"{lab.MAX_N:,}; outside that range the page says so and waits)."))
    seed = param.Integer(default=0, bounds=(0, None),
                         doc="Seed of the samples drawn (task, dataset rows) and of the "
                             "bootstrap.")
    y_columns = param.String(default="-1", doc=(
        "With one uploaded file: which columns are y (Python indices: -1, 3, 0,2 or 2:4); "
        "the other columns are x. An .npz with arrays named x and y needs nothing here."))
    max_upload_mb = param.Number(default=DEFAULT_MAX_BYTES / 2**20, bounds=(0.001, None),
                                 constant=True, doc="Largest upload accepted, in MB (2**20 bytes).")
    upload_budget = param.ClassSelector(class_=lab.UploadBudget, default=lab.UPLOAD_BUDGET,
                                        instantiate=False, constant=True, precedence=-1, doc=(
        "Budget of upload bytes shared with the other sessions of this process "
        "(workbench.lab.UPLOAD_BUDGET); this Lab's files are released when it closes."))
    # ----- estimator ----------------------------------------------------------------------
    quantity = param.Selector(default="mutual_info", objects={"I(X;Y)": "mutual_info",
                                                              "H(X)": "entropy"},
                              doc="Mutual information, or entropy of x.")
    method = param.Selector(default=None, objects=[], allow_None=True,
                            doc="Estimator (registered method name, or 'auto').")
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
    stale = param.Boolean(default=False, doc=(
        "True from a change until its estimate arrives: what is shown is out of date."))

    def __init__(self, **params):
        self._estimators: dict[str, Estimator] = {}
        self._generation = 0
        self._ready = False
        self._clock: lab.ProgressClock | None = None  # of the job running now
        self._owner = object()  # this Lab's key in the upload budget
        super().__init__(**params)
        self._init_sources()
        self._uploads = {
            "x": UploadBox("x file (or x and y columns)", "wb-upload-x",
                           functools.partial(self._read_upload, "x"),
                           max_bytes=self._max_bytes()),
            "y": UploadBox("y file (optional)", "wb-upload-y",
                           functools.partial(self._read_upload, "y"),
                           max_bytes=self._max_bytes())}
        for which, box in self._uploads.items():
            box.param.watch(functools.partial(self._on_upload, which),
                            ["content", "error", "reading"])
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
        self.param.method.objects = {
            "auto (chosen from the data)": lab.AUTO,
            **{f"{m} ({get_estimator_class(m).family})": m for m in names}}
        if self.method not in (lab.AUTO, *names):
            preferred = [m for m in _PREFERRED[self.quantity] if m in names]
            self.method = (preferred or names or [None])[0]  # _on_method recomputes
        elif self.estimator is None and self.method != lab.AUTO:
            self._on_method()
        else:
            self._request()  # same method, other quantity

    @param.depends("method", watch=True)
    def _on_method(self) -> None:
        # the previous method's result and plots go at once: they are not this method's
        self.param.update(result=None, n_curve=None, knob_curve=None, warning="")
        if self.method is None:
            self.estimator = None
            return
        if self.method == lab.AUTO:
            self.estimator = None
        elif self.method not in self._estimators:
            est = make_estimator(self.method)
            est.param.watch(lambda *_: self._request(), est.knob_names())
            self._estimators[self.method] = est
        if self.method != lab.AUTO:
            self.estimator = self._estimators[self.method]
        knobs = [] if self.method == lab.AUTO else lab.sweepable_knobs(self.method)
        self.param.sweep_knob.objects = [_NO_SWEEP, *knobs]
        if self.sweep_knob not in knobs:
            self.sweep_knob = knobs[0] if knobs else _NO_SWEEP
        if hasattr(self, "_knob_holder"):
            self._knob_holder.objects = [self._knobs_view()]
            self._summary.object = self._method_summary()
        self._request()

    @param.depends("source", "task", "dataset", "n", "seed", "y_columns", "n_resamples",
                   "sweeps", "sweep_knob", "n_seeds", "time_budget_s", watch=True)
    def _on_input(self) -> None:
        self._request()

    def _read_upload(self, which: str, data: bytes, filename: str) -> lab.Upload:
        """Parse an uploaded file once (on a worker thread in a served page), holding its
        size in the process's upload budget."""
        return lab.read_upload(data, filename, max_bytes=self._max_bytes(),
                               budget=self.upload_budget, owner=(self._owner, which))

    def _on_upload(self, which: str, *events) -> None:
        box = self._uploads[which]
        if box.content is None:
            self.upload_budget.release((self._owner, which))
        if box.reading:
            self.param.update(status=f"Reading {box.reading!r}…", error="")
            return
        if (box.content is not None or box.error) and self.source != "upload":
            self.source = "upload"  # triggers a request, which shows a refusal as an error
        else:
            self._request()
        if box.error:  # at once too, not after the running job
            self.param.update(error=box.error, status="", result=None, n_curve=None,
                              knob_curve=None, stale=False)

    def upload(self, data: bytes, filename: str, which: str = "x") -> None:
        """Hand the Lab a file's bytes as if uploaded (``which`` is ``"x"`` or ``"y"``)."""
        self._uploads[which].accept(data, filename)

    def clear_uploads(self) -> None:
        """Forget the uploaded files (and free their share of the upload budget)."""
        for box in self._uploads.values():
            box.clear()
        self._request()

    @property
    def shown_value(self) -> float | None:
        """The latest estimate in the chosen units, as displayed."""
        return None if self.result is None else self.result.to(self.units).value

    # ----- computation ------------------------------------------------------------------
    def _job(self) -> _Job:
        return _Job(source=self.source, task=self._tasks.get(self.task), dataset=self.dataset,
                    n=self.n, seed=self.seed, x_upload=self._uploads["x"].content,
                    y_upload=self._uploads["y"].content,
                    upload_error=self._uploads["x"].error or self._uploads["y"].error,
                    y_columns=self.y_columns,
                    quantity=self.quantity, method=self.method,
                    knobs=self.estimator.knobs() if self.estimator else {},
                    n_resamples=self.n_resamples, sweeps=self.sweeps,
                    sweep_knob=None if self.sweep_knob == _NO_SWEEP else self.sweep_knob,
                    n_seeds=self.n_seeds, budget=self.time_budget_s)

    @staticmethod
    def _load(job: _Job):
        if job.method is None:
            raise _Waiting("No estimator is registered for this quantity yet.")
        if job.source != "upload":
            lab.check_sample_size(job.n)
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
        if job.upload_error:  # refused: too large, over the budget, or unreadable
            raise FileLoadError(job.upload_error)
        if job.x_upload is None:
            raise _Waiting("Upload a .npy, .npz or .csv file of samples (rows) to start.")
        x, y = lab.xy_from_uploads(job.x_upload, job.y_upload, y_columns=job.y_columns,
                                   quantity=job.quantity)
        return x, y, None

    @staticmethod
    def _estimate_stage(job: _Job):
        x, y, truth = EstimatorLab._load(job)
        cls = None if job.method == lab.AUTO else get_estimator_class(job.method)
        if cls is None:
            pass  # auto picks by the data's kind
        elif cls.data_kind == "discrete" and not is_discrete(x):
            job.notes.append(f"{job.method} is meant for discrete data but x looks continuous: "
                             "each distinct value counts as its own symbol, so the estimate "
                             "grows like log n. Bin the data or pick a continuous method.")
        elif cls.data_kind == "continuous" and is_discrete(x):
            job.notes.append(f"x looks discrete; ties bias {job.method}. Consider 'mixed' or "
                             "a discrete method such as 'plugin'.")
        result = lab.estimate(x, y, method=job.method, quantity=job.quantity,
                              n_resamples=job.n_resamples, bootstrap_seed=job.seed,
                              truth=truth, interval_budget_s=job.budget, clock=job.progress,
                              **job.knobs)
        if result.note:
            job.notes.append(result.note + "; raise the time budget to compute it")
        return x, y, truth, result

    @staticmethod
    def _sweep_stage(job: _Job, x, y, truth, result: lab.LabEstimate):
        job.progress.start_stage("plots")
        # what computed the estimate: the method auto chose, with its knobs
        method, knobs, seconds = result.method_name, result.knobs, result.seconds
        n = len(as_samples(x, "x", dtype=None))
        est = get_estimator_class(method)(**knobs)
        ns = lab.default_ns(n, min_n=est.min_samples() + 1)
        seeds = range(job.seed, job.seed + job.n_seeds)
        knob_values = lab.knob_sweep_values(method, job.sweep_knob, knobs.get(job.sweep_knob)) \
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
            n_frame = lab.error_vs_n(job.task, method, ns, seeds, quantity=job.quantity, **knobs)
        else:
            n_frame = lab.estimate_vs_n(x, y, method=method, ns=ns, seeds=seeds,
                                        quantity=job.quantity, truth=truth, **knobs)
        knob_frame = None
        if job.sweep_knob:
            knob_frame = lab.estimate_vs_knob(x, y, method=method, knob=job.sweep_knob,
                                              values=knob_values, quantity=job.quantity,
                                              truth=truth, **knobs)
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
                self._apply_sweeps(job, *self._sweep_stage(job, x, y, truth, result))
        except Exception as exc:  # every failure becomes a banner, never a traceback
            self._fail(exc)
        finally:
            self.busy = False

    def _request(self) -> None:
        if not self._ready:
            return
        self._cancel_running()
        self.stale = True  # at once: what is shown no longer matches the settings
        if self.debounce_ms == 0 or not _loop_running():
            self.refresh()  # no event loop (script, test): nothing to debounce against
            return
        self._generation += 1
        generation = self._generation

        async def run() -> None:
            await self._run(generation)

        pn.state.execute(run)

    def _cancel_running(self) -> None:
        """Stop the job running now, if any, at its next progress report (its result would
        be thrown away)."""
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None

    async def _run(self, generation: int) -> None:
        await asyncio.sleep(self.debounce_ms / 1000)
        if generation != self._generation:
            return  # a newer change arrived during the wait
        job = self._job()
        self._clock = job.progress
        loop = asyncio.get_running_loop()
        self.busy = True
        try:
            x, y, truth, result = await self._watch(
                generation, job, loop.run_in_executor(_EXECUTOR, self._estimate_stage, job))
            if generation != self._generation:
                return
            self._apply_estimate(job, result)
            if job.sweeps:
                frames = await self._watch(generation, job, loop.run_in_executor(
                    _EXECUTOR, self._sweep_stage, job, x, y, truth, result))
                if generation == self._generation:
                    self._apply_sweeps(job, *frames)
        except Exception as exc:
            if generation == self._generation:
                self._fail(exc)
        finally:
            if generation == self._generation:
                self._clock = None
                self.busy = False
                self._show_progress(None)

    async def _watch(self, generation: int, job: _Job, future):
        """Await a worker's ``future``, showing the job's progress meanwhile."""
        while True:
            done, _ = await asyncio.wait({future}, timeout=_PROGRESS_EVERY_S)
            if done:
                return future.result()
            if generation == self._generation:
                self._show_progress(job)

    def _apply_estimate(self, job: _Job, result) -> None:
        self.param.update(result=result, error="", status="", warning="\n\n".join(job.notes),
                          stale=False)
        if not job.sweeps:
            self.param.update(n_curve=None, knob_curve=None)

    def _apply_sweeps(self, job: _Job, n_frame, knob_frame) -> None:
        self.param.update(n_curve=n_frame, knob_curve=knob_frame,
                          warning="\n\n".join(job.notes))

    def _fail(self, exc: Exception) -> None:
        if isinstance(exc, _Waiting):
            self.param.update(status=str(exc), error="", warning="", result=None, n_curve=None,
                              knob_curve=None, stale=False)
            return
        if not isinstance(exc, WorkbenchError):
            log.exception("Estimator Lab: unexpected error")
        self.param.update(error=error_message(exc), status="", warning="", result=None,
                          n_curve=None, knob_curve=None, stale=False)

    # ----- view -------------------------------------------------------------------------
    def _method_summary(self) -> str:
        if self.method is None:
            return ""
        if self.method == lab.AUTO:
            return f"<small>{escape(lab.AUTO_SUMMARY)}</small>"
        cls = get_estimator_class(self.method)
        refs = f"<br><small>{escape(cls.references)}</small>" if cls.references else ""
        return f"<small>{escape(cls.summary)}</small>{refs}"

    def _knobs_view(self):
        if self.estimator is None:
            return pn.pane.HTML("<small><i>auto has no knobs: the rule sets the chosen "
                                "method's.</i></small>", css_classes=["wb-knobs"],
                                margin=(0, 10))
        return knob_panel(self.estimator)

    def _show_progress(self, job: _Job | None) -> None:
        """The working indicator: hidden when idle; a bar that fills with the training steps
        of estimators that report them (with a guess of the time left), an endless bar for
        the others."""
        if not hasattr(self, "_working"):
            return
        if job is None:
            self._working.visible = self.busy or self.stale
            if self._working.visible:
                self._progress_text.object = self._progress_label("Recomputing after your "
                                                                  "change…")
                self._progress_w.value = -1
            return
        report = job.progress.report()
        what = {"estimate": f"the estimate with <b>{escape(job.method)}</b>",
                "interval": "the bootstrap interval", "plots": "the plots"}[report.stage]
        text = f"Computing {what}… {report.elapsed:.0f} s"
        if report.fraction is not None and report.stage == "estimate":
            text += (f" · training step {report.step:,} of {report.total:,}")
            if report.seconds_left is not None:
                text += (f" · about {report.seconds_left:.0f} s left at most (training stops "
                         "early once the held-out bound stops improving)")
            self._progress_w.value = min(int(1000 * report.fraction), 1000)
        else:
            self._progress_w.value = -1  # no step count: an endless bar
        self._progress_text.object = self._progress_label(text)
        self._working.visible = True

    @staticmethod
    def _progress_label(text: str) -> str:
        return f'<small class="wb-progress-label">{text}</small>'

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
        self._knob_holder = pn.Column(self._knobs_view() if self.method else None, **wide)
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
        self._progress_text = pn.pane.HTML("", css_classes=["wb-progress-text"],
                                           margin=(0, 10), **wide)
        self._progress_w = pn.indicators.Progress(value=-1, max=1000, active=True,
                                                  bar_color="info", css_classes=["wb-progress"],
                                                  height=12, margin=(0, 10), **wide)
        self._working = pn.Column(self._progress_text, self._progress_w,
                                  css_classes=["wb-working"], visible=False, **wide)
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
        self._export = ExportBar("estimator_lab",
                                 lambda: slot_figure(self._n_plot, self._knob_plot), self.curves)
        self._body = pn.Column(
            self._result_w, pn.Row(self._n_plot, self._knob_plot, sizing_mode="stretch_width"),
            self._export, sizing_mode="stretch_width")
        self._output = pn.Column(self._error_w, self._warning_w, self._status_w, self._working,
                                 self._body,
                                 css_classes=["wb-output"], sizing_mode="stretch_width",
                                 min_width=500)
        self._sync_view()
        self._draw_plots()

    @param.depends("source", "task", "quantity", "units", "result", "error", "warning",
                   "status", "busy", "stale", "sweeps", watch=True)
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
        if not self.busy:  # while busy, _watch shows the job's progress
            self._show_progress(None)
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
            shown = convert_columns(frame, lab.VALUE_COLUMNS, self.units) if has_data else None
            show_plot(slot, draw(shown) if has_data else None)

    def curves(self) -> pd.DataFrame | None:
        """The rows behind the plots, in the chosen units: the n sweep and the knob sweep, one
        table with a ``plot`` column naming which (None before any plot)."""
        frames = [convert_columns(frame, lab.VALUE_COLUMNS, self.units).assign(plot=name)
                  for name, frame in (("n", self.n_curve), ("knob", self.knob_curve))
                  if frame is not None and len(frame)]
        return pd.concat(frames, ignore_index=True) if frames else None

    def _task_text(self, task) -> str:
        value = lab.task_truth(task, self.quantity)
        truth = "unknown" if value is None else f"{from_nats(value, self.units):.4g}"
        symbol = QUANTITY_SYMBOLS[self.quantity]
        desc = escape(task.description) if task.description else ""
        return f"<small>{desc}<br>true {symbol} = {truth} {self.units}</small>"

    def _result_html(self) -> str:
        if self.result is None:
            return ""
        r = self.result.to(self.units)
        u = escape(r.units)
        auto = " (auto)" if r.reason else ""
        rows = [f'<div class="wb-symbol">{r.symbol} by <b>{escape(r.method)}</b>{auto}, '
                f"n = {r.n}</div>",
                f'<div class="wb-big"><span class="wb-estimate-value">{r.value:.4f}</span>'
                f'<span class="wb-estimate-units">{u}</span></div>']
        if r.reason:
            rows.append(f'<div class="wb-row wb-auto-reason">auto chose '
                        f"<b>{escape(r.method)}</b>: {escape(r.reason)}</div>")
        if r.saturated:
            rows.append(f'<div class="wb-row wb-saturated">saturated: {r.symbol} sits at '
                        f"log n = {r.ceiling:.4f} {u}, the most n = {r.n} samples can give "
                        "(nearly every sample is its own symbol), so it measures the sample "
                        "size, not the data. Bin the data or pick a continuous method.</div>")
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
        if self.stale:
            rows.insert(0, '<div class="wb-stale-note">out of date: recomputing for the new '
                           "settings…</div>")
            return '<div class="wb-result wb-stale">' + "".join(rows) + "</div>"
        return '<div class="wb-result">' + "".join(rows) + "</div>"

    def _max_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    def close(self) -> None:
        """Drop pending and running recomputations (their results are no longer shown) and
        free this Lab's share of the upload budget."""
        self._generation += 1
        self._ready = False
        self._cancel_running()
        for which in self._uploads:
            self.upload_budget.release((self._owner, which))



def page(config=None) -> pn.viewable.Viewable:
    """The ``/estimator_lab`` page of ``workbench serve`` (``config``: a
    :class:`widgets.app.AppConfig`)."""
    max_mb = getattr(config, "max_upload_mb", DEFAULT_MAX_BYTES / 2**20)
    return EstimatorLab(max_upload_mb=max_mb).page("Estimator Lab")
