"""The seeds overlay of the Plane Studio: train the studio's network once per seed and show the
mean trajectory of every layer with its ±1 std band, and the compression table over seeds.

The runs go one after another on a background thread (each a saved run, through
:func:`workbench.training.seeds.run_seeds`); the band and the table are redrawn after every
finished run, so the picture firms up while the rest train. A server's
:class:`~workbench.training.session.TrainingGate` counts the grid as one training. Numbers come
from :mod:`workbench.tracking.seed_tables`, plots from :mod:`workbench.plots.plane`; this
module only wires them.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd
import panel as pn
import param

from workbench.errors import WorkbenchError
from workbench.plots.plane import seed_band_plane
from workbench.tracking.seed_tables import compression_over_seeds, format_compression, seed_band
from workbench.training.seeds import parse_seeds, run_seeds

from .components import alert, error_message, escape, plot_slot, set_alert, show_plot


class SeedOverlay(pn.viewable.Viewer):
    """A seeds box, Run seeds / Stop buttons, the band plane and the table over seeds.

    ``settings()`` returns the :func:`~workbench.training.seeds.run_seeds` keywords of the
    page's current network (no ``seeds``); ``runs_dir()`` the run store folder; ``on_done``
    is called on the event loop once the grid has ended."""

    seeds = param.String(default="0-4", doc="Seeds to train, e.g. 0-4 or 0,2,7.")
    state = param.String(default="idle", doc="idle, running, finished, stopped or failed.")
    done = param.Integer(default=0, doc="Runs finished in the current grid.")
    total = param.Integer(default=0, doc="Runs in the current grid.")
    error = param.String(default="")
    poll_ms = param.Integer(default=300, bounds=(50, 5000))

    def __init__(self, settings: Callable[[], dict], runs_dir: Callable[[], str],
                 gate=None, on_done: Callable[[], None] | None = None, **params):
        super().__init__(**params)
        self._settings, self._runs_dir, self._gate, self._on_done = (settings, runs_dir, gate,
                                                                     on_done)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._frames: list[pd.DataFrame] = []
        self._runs: list[dict] = []
        self._failure: BaseException | None = None
        self._drawn = 0
        self._periodic = None
        self.frame = pd.DataFrame()
        w = pn.widgets
        self._seeds_w = w.TextInput.from_param(self.param.seeds, name="Seeds (e.g. 0-4)",
                                               css_classes=["wb-seeds"], width=160)
        self._run_b = w.Button(label="Run seeds", color="primary",
                               css_classes=["wb-run-seeds"], width=110)
        self._run_b.on_click(lambda *_: self.start())
        self._stop_b = w.Button(label="Stop seeds", color="danger",
                                css_classes=["wb-stop-seeds"], width=110, disabled=True)
        self._stop_b.on_click(lambda *_: self.stop())
        self._status_w = pn.pane.HTML("", css_classes=["wb-seeds-status"], margin=(8, 10))
        self._error_w = alert("danger", "wb-seeds-error")
        self._slot = plot_slot("wb-plot-seeds")
        self._table_w = pn.pane.HTML("", css_classes=["wb-seeds-table"],
                                     sizing_mode="stretch_width")
        self._layout = pn.Column(
            "#### Over seeds",
            pn.pane.HTML("<small>Train the network above once per seed (each a saved run) and "
                         "show every layer's mean trajectory with a band of ±1 std over "
                         "seeds, and the compression table over seeds.</small>",
                         margin=(0, 10), sizing_mode="stretch_width"),
            pn.Row(self._seeds_w, self._run_b, self._stop_b, self._status_w),
            self._error_w, self._slot, self._table_w, css_classes=["wb-seed-overlay"],
            sizing_mode="stretch_width")
        self._sync()

    # ----- control ----------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Check the seeds and the settings, then train the grid on a background thread."""
        if self.alive:
            return
        try:
            seeds = parse_seeds(self.seeds)
            settings = dict(self._settings())
        except WorkbenchError as exc:
            self.error = str(exc)
            self._sync()
            return
        self._stop.clear()
        self._frames, self._runs, self._failure, self._drawn = [], [], None, 0
        self.frame = pd.DataFrame()
        show_plot(self._slot, None)
        self._table_w.object = ""
        self.param.update(state="running", done=0, total=len(seeds), error="")
        self._thread = threading.Thread(target=self._work, args=(seeds, settings,
                                                                 self._runs_dir()),
                                        name="seed-overlay", daemon=True)
        self._thread.start()
        self._periodic = pn.state.add_periodic_callback(self.poll, period=self.poll_ms)
        self._sync()

    def stop(self) -> None:
        """Stop after the run that is training (its rows and the finished runs stay)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def close(self) -> None:
        self.stop()
        self._stop_polling()

    def _work(self, seeds, settings, root) -> None:
        ticket = self._gate.join() if self._gate is not None else None
        try:
            if ticket is not None and not self._gate.wait(ticket, cancel=self._stop):
                return
            for seed in seeds:
                if self._stop.is_set():
                    return
                frame = run_seeds([seed], scheduler="sync", root=root, tag="studio-seeds",
                                  **settings)
                with self._lock:
                    self._frames.append(frame)
                    self._runs.extend(frame.attrs["runs"])
        except BaseException as exc:  # shown in the banner by poll()
            self._failure = exc
        finally:
            if ticket is not None:
                self._gate.leave(ticket)

    # ----- drawing ----------------------------------------------------------------------
    def poll(self) -> None:
        """Draw the runs finished since the last poll; end the polling when the grid ends."""
        ended = not self.alive
        with self._lock:
            frames, runs = list(self._frames), list(self._runs)
        if len(frames) > self._drawn:
            self._drawn = len(frames)
            self.frame = pd.concat(frames, ignore_index=True)
            self.frame.attrs["runs"] = runs
            self.done = len(frames)
            self._draw()
        if ended and self.state == "running":
            if self._failure is not None:
                self.error = error_message(self._failure)
                self.state = "failed"
            else:
                self.state = "finished" if self.done == self.total else "stopped"
            self._stop_polling()
            if self._on_done is not None:
                self._on_done()
        self._sync()

    def _draw(self) -> None:
        units = self.frame["units"].iloc[0] if "units" in self.frame else "bits"
        units = units if units in ("bits", "nats") else "bits"
        band = seed_band(self.frame, units=units)
        show_plot(self._slot, seed_band_plane(band, units=units).opts(width=640, height=440))
        table = compression_over_seeds(self.frame)
        self._table_w.object = (f"<small>I(X;T) per layer [{escape(units)}], mean ± std over "
                                f"{self.done} seed(s); drop = peak − final; compressing: drop "
                                "&gt; 0.5</small><pre>" + escape(format_compression(table))
                                + "</pre>")

    def _sync(self) -> None:
        running = self.state == "running"
        self._run_b.disabled = running
        self._stop_b.disabled = not running
        self._seeds_w.disabled = running
        text = {"idle": "", "running": f"Training seeds: {self.done} / {self.total} runs done",
                "finished": f"Done: {self.done} runs",
                "stopped": f"Stopped after {self.done} of {self.total} runs",
                "failed": "Failed: see the message."}.get(self.state, self.state)
        self._status_w.object = f'<span class="wb-seeds-status-text">{escape(text)}</span>'
        set_alert(self._error_w, self.error)

    def _stop_polling(self) -> None:
        if self._periodic is not None:
            try:
                self._periodic.stop()
            except Exception:  # noqa: BLE001 - a callback whose session is gone
                pass
            self._periodic = None

    def __panel__(self):
        return self._layout
