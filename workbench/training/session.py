"""A training run in a background thread that a UI can start, pause, resume and stop.

:class:`TrainingSession` runs :func:`workbench.training.experiments.run_experiment` on a worker
thread. Each
recorded epoch's tidy rows go into a thread-safe queue; the UI thread takes them out with
:meth:`TrainingSession.drain` at its own pace (a periodic callback), so the training loop never
waits for drawing and the UI never waits for training::

    session = TrainingSession()
    session.start(data="tishby12", epochs=50, store=RunStore())
    ...
    rows = session.drain()        # DataFrame of the rows recorded since the last drain
    session.pause(); session.resume(); session.stop()

Pause and stop are :class:`threading.Event` objects that :func:`workbench.training.loop.train`
checks
between mini-batches, so training halts within one batch. An epoch's measurement that has begun
(a few milliseconds with binning, longer with the O(n²) ``kde`` bound) finishes first; its rows
are still delivered and saved. Nothing here imports a UI toolkit.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from ..runs import COLUMNS

log = logging.getLogger(__name__)


class TrainingSession:
    """One background training run at a time (see the module docstring).

    ``target`` is the experiment function (default
    :func:`workbench.training.experiments.run_experiment`);
    it must accept ``tracker_callbacks``, ``callbacks``, ``stop_event`` and ``pause_event`` and
    return ``(plane, result, config)``.
    """

    def __init__(self, target: Callable | None = None):
        if target is None:
            from .experiments import run_experiment as target
        self._target = target
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pause = threading.Event()
        self._final = "idle"
        self._generation = 0
        #: Id of the run in its store (the ``run`` argument, else the tracker's once known).
        self.run_id: str | None = None
        #: Last epoch the training loop finished (0: the untrained network), or None.
        self.epoch: int | None = None
        #: The exception that ended the last run, if any.
        self.error: BaseException | None = None
        self.plane = self.result = self.config = None

    # ----- control --------------------------------------------------------------------------
    def start(self, **kwargs: Any) -> None:
        """Start ``target(**kwargs)`` on a new thread (rows from an earlier run are dropped)."""
        if self.alive:
            raise WorkbenchError("a run is still going: stop it (or wait for it) before "
                                 "starting another")
        self._clear()
        # fresh events per run: a late set() aimed at the previous run cannot touch this one
        self._stop, self._pause = threading.Event(), threading.Event()
        kwargs = dict(kwargs)
        self.run_id = kwargs.get("run")
        self._generation += 1
        self._thread = threading.Thread(target=self._main, name="workbench-training", daemon=True,
                                        args=(kwargs, self._stop, self._pause, self._generation))
        self._final = "running"
        self._thread.start()

    def pause(self) -> None:
        if self.alive:
            self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self, timeout: float | None = 0.0) -> bool:
        """Ask the run to stop; wait up to ``timeout`` seconds (None: until it has). Returns
        True when no thread is left running."""
        self._stop.set()
        self._pause.clear()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has (or there was none)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return not self.alive

    def reset(self, timeout: float | None = 10.0) -> bool:
        """Stop any run, wait for it, and forget its rows and results. True when clean."""
        clean = self.stop(timeout)
        self._generation += 1  # a thread that outlives the timeout reports nothing
        self._clear()
        self._final = "idle"
        return clean

    close = reset

    # ----- reading ----------------------------------------------------------------------
    def drain(self) -> pd.DataFrame:
        """Every row queued since the last call, as one tidy DataFrame (maybe empty)."""
        frames = []
        while True:
            try:
                frames.append(self._queue.get_nowait())
            except queue.Empty:
                break
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=COLUMNS)
        return pd.concat(frames, ignore_index=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> str:
        """``idle``, ``running``, ``paused``, ``stopping``, ``finished``, ``stopped`` or
        ``failed``."""
        if self.alive:
            if self._stop.is_set():
                return "stopping"
            return "paused" if self._pause.is_set() else "running"
        return self._final

    # ----- internals ------------------------------------------------------------------------
    def _main(self, kwargs: dict, stop: threading.Event, pause: threading.Event,
              generation: int) -> None:
        def current() -> bool:
            return generation == self._generation

        def on_epoch(epoch, model, metrics) -> None:
            if current():
                self.epoch = int(epoch)

        def on_rows(frame) -> None:
            if current():
                self._queue.put(frame)

        kwargs["tracker_callbacks"] = [*kwargs.get("tracker_callbacks", ()), on_rows]
        kwargs["callbacks"] = [*kwargs.get("callbacks", ()), on_epoch]
        final, error, outcome = "failed", None, (None, None, None)
        try:
            outcome = self._target(stop_event=stop, pause_event=pause, **kwargs)
            final = "stopped" if outcome[1].stopped else "finished"
        except BaseException as exc:  # the UI reports it; a thread has nobody else to tell
            error = exc
            if not isinstance(exc, WorkbenchError):
                log.exception("training run failed")
        finally:
            if current():
                self.plane, self.result, self.config = outcome
                if outcome[0] is not None and outcome[0].run_id:
                    self.run_id = outcome[0].run_id
                self.error, self._final = error, final

    def _clear(self) -> None:
        self.drain()
        self.epoch = self.run_id = self.error = None
        self.plane = self.result = self.config = None
