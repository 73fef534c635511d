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

Many sessions on one machine (a classroom on one ``workbench serve``) share a
:class:`TrainingGate`: at most ``limit`` of their runs train at once, the others wait in line,
first come first served, in the ``queued`` state, and :attr:`TrainingSession.position` says
their place (1: next). Stop leaves the line at once; a finished or stopped run frees its slot
for the next one::

    gate = TrainingGate(limit=2)            # one per server, shared by every page
    session = TrainingSession(gate=gate)
    session.start(...)                      # state "queued" while two others train
    session.position                        # 3 -> "waiting: 3rd in line"
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from ..runs import COLUMNS

log = logging.getLogger(__name__)


class TrainingGate:
    """At most ``limit`` trainings at once; later ones wait in line, first come first served.

    A caller takes a ticket with :meth:`join` (admitted at once when a slot is free and nobody
    waits), blocks in :meth:`wait` until admitted, and gives the slot (or its place in line)
    back with :meth:`leave`. :meth:`position` is 0 for an admitted ticket and 1, 2, ... for the
    waiting ones in order. Thread-safe; one object is shared by every session of a server.
    """

    def __init__(self, limit: int = 2):
        if int(limit) < 1:
            raise WorkbenchError(f"the number of trainings at once must be at least 1, got "
                                 f"{limit}")
        self.limit = int(limit)
        self._cond = threading.Condition()
        self._running: set[int] = set()
        self._waiting: list[int] = []
        self._next_ticket = 0

    def join(self) -> int:
        """A new ticket: admitted now if a slot is free and nobody waits, else last in line."""
        with self._cond:
            self._next_ticket += 1
            ticket = self._next_ticket
            self._waiting.append(ticket)
            self._admit()
            return ticket

    def wait(self, ticket: int, cancel: threading.Event | None = None,
             timeout: float | None = None) -> bool:
        """Block until ``ticket`` is admitted (True). False when ``cancel`` is set, the ticket
        left the line, or ``timeout`` seconds passed; a ticket still waiting then stays in
        line (call :meth:`leave` to give up its place)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while ticket not in self._running:
                if ticket not in self._waiting or (cancel is not None and cancel.is_set()):
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                # wake now and then to notice ``cancel`` (an Event cannot notify a Condition)
                self._cond.wait(0.1 if left is None else min(0.1, left))
            return True

    def leave(self, ticket: int) -> None:
        """Free ``ticket``'s slot or its place in line (idempotent) and admit the next."""
        with self._cond:
            self._running.discard(ticket)
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            self._admit()

    def withdraw(self, ticket: int) -> None:
        """Leave the line if ``ticket`` still waits; an admitted ticket keeps its slot."""
        with self._cond:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                self._admit()

    def position(self, ticket: int) -> int | None:
        """0: admitted; n >= 1: n-th in line; None: unknown ticket (left or never joined)."""
        with self._cond:
            if ticket in self._running:
                return 0
            if ticket in self._waiting:
                return self._waiting.index(ticket) + 1
            return None

    @property
    def running(self) -> int:
        """How many tickets hold a slot."""
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        """How many tickets wait in line."""
        with self._cond:
            return len(self._waiting)

    def _admit(self) -> None:
        """Move the head of the line into free slots (call holding the lock)."""
        while self._waiting and len(self._running) < self.limit:
            self._running.add(self._waiting.pop(0))
        self._cond.notify_all()  # admitted, or moved up in line


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class TrainingSession:
    """One background training run at a time (see the module docstring).

    ``target`` is the experiment function (default
    :func:`workbench.training.experiments.run_experiment`);
    it must accept ``tracker_callbacks``, ``callbacks``, ``stop_event`` and ``pause_event`` and
    return ``(plane, result, config)``. ``gate``: a :class:`TrainingGate` shared with other
    sessions; a run waits there (state ``queued``) until a slot is free. None: no limit.
    """

    def __init__(self, target: Callable | None = None, gate: TrainingGate | None = None):
        if target is None:
            from .experiments import run_experiment as target
        self._target = target
        self.gate = gate
        self._ticket: int | None = None
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
    def start(self, target: Callable | None = None, **kwargs: Any) -> None:
        """Start ``target(**kwargs)`` on a new thread (rows from an earlier run are dropped);
        ``target`` (same convention as the session's own) overrides it for this run, e.g.
        :func:`workbench.ib.experiment.run_ib_experiment`."""
        if self.alive:
            raise WorkbenchError("a run is still going: stop it (or wait for it) before "
                                 "starting another")
        self._clear()
        # fresh events per run: a late set() aimed at the previous run cannot touch this one
        self._stop, self._pause = threading.Event(), threading.Event()
        kwargs = dict(kwargs)
        self._run_target = target or self._target
        self.run_id = kwargs.get("run")
        self._generation += 1
        # in line now, so that position is right as soon as start() returns
        self._ticket = None if self.gate is None else self.gate.join()
        self._thread = threading.Thread(target=self._main, name="workbench-training", daemon=True,
                                        args=(kwargs, self._stop, self._pause, self._generation,
                                              self._ticket))
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
        if self.gate is not None and self._ticket is not None:
            self.gate.withdraw(self._ticket)  # a queued run leaves the line at once
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
            if self.position:
                return "queued"
            return "paused" if self._pause.is_set() else "running"
        return self._final

    @property
    def position(self) -> int | None:
        """Place in the gate's line while the run waits (1: next), else None."""
        if self.gate is None or self._ticket is None or not self.alive:
            return None
        return self.gate.position(self._ticket) or None

    def queue_note(self) -> str:
        """The place in line in words ("Waiting: 3rd in line ...") or "" when not waiting."""
        place = self.position
        if not place:
            return ""
        limit = self.gate.limit
        return (f"Waiting: {ordinal(place)} in line ({limit} training"
                f"{'s run' if limit > 1 else ' runs'} at a time on this server)")

    # ----- internals ------------------------------------------------------------------------
    def _main(self, kwargs: dict, stop: threading.Event, pause: threading.Event,
              generation: int, ticket: int | None) -> None:
        try:
            if ticket is not None and not self.gate.wait(ticket, cancel=stop):
                if generation == self._generation:
                    self._final = "stopped"  # left the line before training began
                return
            self._run(kwargs, stop, pause, generation)
        finally:
            if ticket is not None:
                self.gate.leave(ticket)

    def _run(self, kwargs: dict, stop: threading.Event, pause: threading.Event,
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
            target = getattr(self, "_run_target", None) or self._target
            outcome = target(stop_event=stop, pause_event=pause, **kwargs)
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
