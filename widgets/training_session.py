"""The Panel side of a live training run: buttons, polling and throttled drawing.

:class:`LiveTraining` is the base of apps that train on a background thread
(:class:`workbench.training.session.TrainingSession`) and draw what it reports. It owns the
session and
a periodic callback that calls :meth:`LiveTraining.poll` every ``poll_ms`` ms while a run is
going; ``poll`` takes the new rows, keeps them all in ``_frame``, and hands the ones not yet
drawn to the subclass's :meth:`LiveTraining._draw`. Drawing (HoloViews re-renders) costs far
more than counting, so it is throttled: the next draw waits at least twice as long as the last
one took, so drawing takes at most a third of the UI's time and clicks are answered between
draws even on a busy machine; the counter and status still move every poll.

Subclasses build their widgets and page, start runs with
``self._session.start(...)`` followed by :meth:`_begin`, and implement ``_draw`` and ``_sync``.
``_draw`` streams rows into a :class:`workbench.plots.live.LiveBoard`, which redraws all plots
of the run at once; the counter (:meth:`_counter_pane`, :meth:`_show_counter`) shows the
board's last epoch, so the plots and the counter agree.
Outside an event loop (a script, a test, a notebook cell that blocks) nothing polls by itself:
call ``poll()``.
"""
from __future__ import annotations

import functools
import logging
import time

import pandas as pd
import panel as pn
import param

from workbench.training import models
from workbench.training.session import TrainingGate, TrainingSession

from .components import IpywidgetMixin, error_message, param_widget

log = logging.getLogger(__name__)

#: States in which a run's thread may still deliver rows.
ACTIVE = ("queued", "running", "paused", "stopping")
_COUNTER_CSS = """
.wb-counter { font-family: var(--bokeh-base-font, sans-serif); line-height: 1.3; }
.wb-counter .wb-counter-label { color: #555; font-size: 0.95em; }
.wb-counter .wb-counter-value { font-size: 2em; font-weight: 600; color: #1f4e79; }
.wb-counter .wb-counter-total { color: #555; font-size: 1.1em; }
.wb-counter .wb-counter-idle { color: #555; font-size: 1.2em; font-style: italic; }
"""


class LiveTraining(IpywidgetMixin, pn.viewable.Viewer):
    """Base of the live-training apps (see the module docstring)."""

    # ----- the network and its training (subclasses set their own defaults) ---------------
    dataset = param.Selector(default=None, objects=[], doc="Built-in classification dataset.")
    arch = param.String(default="", doc=(
        "Layer widths from input to output, e.g. 12-10-7-5-4-3-2: the first is the number of "
        "input features, the last the number of classes; every layer is tracked."))
    activation = param.Selector(default="tanh", objects=list(models.ACTIVATIONS),
                                doc="Hidden-layer nonlinearity (the output is a softmax).")
    lr = param.Number(default=1e-3, bounds=(1e-6, 10.0), doc="Learning rate.")
    batch_size = param.Integer(default=64, bounds=(1, 100_000), doc="Mini-batch size.")
    epochs = param.Integer(default=100, bounds=(1, 100_000), doc="Epochs to train.")
    seed = param.Integer(default=0, bounds=(0, None),
                         doc="Seed of the data split, the initial weights and the batch order.")
    poll_ms = param.Integer(default=300, bounds=(50, 5000),
                            doc="How often the page takes new rows from the training thread.")
    state = param.String(default="idle", doc="idle, running, paused, stopping, finished, "
                                             "stopped or failed (subclasses may add more).")
    error = param.String(default="", doc="Message of the last failure ('' if none).")

    def __init__(self, gate: TrainingGate | None = None, **params):
        super().__init__(**params)
        #: Shared with the server's other pages: trainings beyond its limit wait in line.
        self._gate = gate
        self._session = TrainingSession(gate=gate)
        self._periodic = None
        self._frame = pd.DataFrame()
        self._undrawn: list[pd.DataFrame] = []  # rows taken from the session, not yet drawn
        self._next_draw = 0.0  # time.monotonic() before which poll() does not draw

    # ----- control ----------------------------------------------------------------------
    def pause(self) -> None:
        self._session.pause()
        self._sync()

    def resume(self) -> None:
        self._session.resume()
        self._sync()

    def stop(self) -> None:
        """Ask the run to stop (training halts within one mini-batch; a measurement already
        under way finishes first; rows so far stay)."""
        self._session.stop()
        self._sync()

    def close(self) -> None:
        """Stop the run and the polling (when the page or the notebook goes away)."""
        self._session.close()
        self._stop_polling()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the training thread to end (True when it has)."""
        return self._session.join(timeout)

    def poll(self) -> None:
        """Take the rows that arrived, draw them (throttled), update counter and status."""
        done = not self._session.alive  # read first: rows queued before the end get drained
        new = self._session.drain()
        if len(new):
            self._frame = new if self._frame.empty else pd.concat([self._frame, new],
                                                                 ignore_index=True)
            self._undrawn.append(new)
        if self._undrawn and (done or time.monotonic() >= self._next_draw):
            rows = pd.concat(self._undrawn, ignore_index=True)
            self._undrawn = []
            began = time.monotonic()
            self._draw(rows)
            cost = time.monotonic() - began
            self._next_draw = time.monotonic() + max(self.poll_ms / 1000, 2 * cost)
        if done and self.state in ACTIVE:
            session = self._session
            if session.state == "failed":
                self.error = error_message(session.error)
            self.state = session.state
            self._stop_polling()
            self._finished()
        self._sync()

    # ----- for subclasses ---------------------------------------------------------------
    def _network_widgets(self) -> dict[str, pn.widgets.Widget]:
        """Widgets of the dataset, network and training settings above, by parameter name."""
        w = pn.widgets
        bound = functools.partial(param_widget, self)
        return {
            "dataset": bound(w.Select, "dataset", "Dataset", "dataset"),
            "arch": bound(w.TextInput, "arch", "Layer widths (input-…-classes)", "arch"),
            "activation": bound(w.Select, "activation", "Activation", "activation"),
            "lr": bound(w.FloatInput, "lr", "Learning rate", "lr", step=0.0005,
                        format="0.[00000]"),
            "batch_size": bound(w.IntInput, "batch_size", "Batch size", "batch-size"),
            "epochs": bound(w.IntInput, "epochs", "Epochs", "epochs", step=50),
            "seed": bound(w.IntInput, "seed", "Seed", "seed"),
        }

    def _begin(self) -> None:
        """Call right after ``self._session.start(...)``: state, banner, polling."""
        self.param.update(state="running", error="")
        self._start_polling()
        self._sync()

    def flush_plots(self) -> None:
        """Draw every row received but not yet drawn now (polling throttles drawing)."""
        if self._undrawn:
            rows = pd.concat(self._undrawn, ignore_index=True)
            self._undrawn = []
            self._draw(rows)
        self._sync()

    def _counter_pane(self, css_class: str) -> pn.pane.HTML:
        """The pane of the progress counter (filled by :meth:`_show_counter`)."""
        return pn.pane.HTML("", css_classes=[css_class], stylesheets=[_COUNTER_CSS], width=170,
                            margin=(0, 10))

    def _show_counter(self, pane: pn.pane.HTML, unit: str, shown: int | None,
                      total: int) -> None:
        """``unit shown / total`` in ``pane``: the last epoch (step) the plots show; "not
        started" while idle with nothing shown."""
        if shown is None and self.state == "idle":
            pane.object = ('<div class="wb-counter"><span class="wb-counter-idle">not started'
                           '</span></div>')
            return
        value = "–" if shown is None else str(shown)
        pane.object = (f'<div class="wb-counter"><span class="wb-counter-label">{unit} </span>'
                       f'<span class="wb-counter-value">{value}</span>'
                       f'<span class="wb-counter-total"> / {total}</span></div>')

    def _clear_rows(self) -> None:
        """Forget the rows of the last run (drawn or not)."""
        self._frame = self._frame.iloc[0:0]
        self._undrawn = []
        self._next_draw = 0.0

    def _draw(self, rows: pd.DataFrame) -> None:
        """Stream ``rows`` (new since the last draw) into the plots."""
        raise NotImplementedError

    def _queue_note(self) -> str:
        """The status while the run waits for a slot: "Waiting: 3rd in line (...)"."""
        return self._session.queue_note() or "Waiting for a free slot…"

    def _finished(self) -> None:
        """Called once when a run's thread has ended and its last rows are drawn."""

    def _sync(self) -> None:
        """Show the state: counter, status, banner, which buttons are enabled."""

    def _button(self, label: str, css: str, color: str, action) -> pn.widgets.Button:
        """A button with the class ``wb-{css}`` whose clicks run ``action`` guarded."""
        button = pn.widgets.Button(label=label, color=color, css_classes=[f"wb-{css}"], width=90)
        button.on_click(lambda *_: self._guarded(action))
        return button

    def _guarded(self, action) -> None:
        """Run a button's action; an unexpected failure becomes a banner, not a traceback."""
        try:
            action()
        except Exception as exc:
            log.exception("%s: unexpected error", type(self).__name__)
            self.error = error_message(exc)
            self._sync()

    def _start_polling(self) -> None:
        self._stop_polling()
        # served or in JupyterLab this runs on the event loop; in a script nothing runs it
        self._periodic = pn.state.add_periodic_callback(self.poll, period=self.poll_ms)

    def _stop_polling(self) -> None:
        if self._periodic is not None:
            try:
                self._periodic.stop()
            except Exception:  # a callback whose session is gone is already stopped
                log.debug("periodic callback already stopped", exc_info=True)
            self._periodic = None
