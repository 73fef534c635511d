"""The epoch-tracker base: which epochs to record, and the one per-layer measurement loop.

:class:`EpochTracker` captures the activations of a model's layers on fixed rows (see
:mod:`workbench.tracking.probes`), asks its subclass what to measure on each layer, adds the
training-metric rows, appends everything to a run store, and calls back with the new rows.
:class:`~workbench.tracking.plane.InformationPlane` and
:class:`~workbench.tracking.representation.RepresentationTracker` are its subclasses; every
tracker emits rows of one tidy schema (:data:`workbench.runs.COLUMNS`).
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..runs import COLUMNS
from ..validation import check_class_labels, subsample_rows, to_numpy

METRIC_QUANTITIES = {"train_loss": ("loss", "nats"), "train_accuracy": ("accuracy", ""),
                     "test_loss": ("test_loss", "nats"), "test_accuracy": ("test_accuracy", "")}


def log_epochs(epochs: int, per_decade: int = 20) -> list[int]:
    """Epochs ``0..epochs`` spaced evenly on a log scale (every epoch up to ``per_decade``)."""
    if epochs <= 0:
        return [0]
    pts = np.unique(np.round(np.logspace(0, math.log10(epochs), per_decade *
                                         max(1, math.ceil(math.log10(epochs + 1))))))
    return sorted({0, *range(1, min(per_decade, epochs) + 1), *pts.astype(int).tolist(), epochs})


def check_every(every: Any) -> int | str | list[int]:
    """``every`` in the one form trackers and ``config.json`` keep: an int >= 1 (numpy
    integers too), ``"log"``, or the sorted epochs of an iterable (read once, so a generator
    works)."""
    if isinstance(every, str):
        if every != "log":
            raise InputError(f"every must be an int, an iterable of epochs or 'log', got {every!r}")
        return every
    if isinstance(every, (int, np.integer)) and not isinstance(every, bool):
        if every < 1:
            raise InputError(f"every must be >= 1, got {every}")
        return int(every)
    try:
        return sorted({int(e) for e in every})
    except (TypeError, ValueError) as exc:
        raise InputError(f"every must be an int, an iterable of epochs or 'log', got "
                         f"{every!r}") from exc


def epoch_schedule(every: Any = 1, epochs: int | None = None) -> set[int] | None:
    """The epochs to record: ``None`` means "every ``every``-th epoch" (an int >= 1); an
    iterable gives them explicitly; ``"log"`` spaces them on a log scale over ``epochs``."""
    every = check_every(every)
    if every == "log":
        if epochs is None:
            raise InputError("every='log' needs epochs=N (the planned number of epochs)")
        return set(log_epochs(epochs))
    if isinstance(every, list):
        return set(every)
    return None


def labelled_rows(x: Any, y: Any, subsample: int | None, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` as arrays, y checked as one class label per row, cut to ``subsample`` rows
    chosen once with ``seed`` (the same rows every epoch; None keeps them all)."""
    x = to_numpy(x, "x")
    y = check_class_labels(y, len(x))
    rows = subsample_rows(len(x), subsample, seed)
    return (x, y) if rows is None else (x[rows], y[rows])


def metric_rows(run: str, epoch: int, metrics: dict | None) -> list[dict]:
    """Tidy rows for the training metrics (loss in nats, accuracy as a fraction)."""
    out = []
    for key, (q, unit) in METRIC_QUANTITIES.items():
        value = (metrics or {}).get(key)
        if value is not None and math.isfinite(value):
            out.append({"run": run, "epoch": int(epoch), "layer": "model", "layer_index": 0,
                        "quantity": q, "estimator": "", "value": float(value), "units": unit,
                        "seconds": 0.0})
    return out


class EpochTracker:
    """Per-epoch measurement of a model's layers: the shared plumbing.

    ``record(epoch, metrics)`` captures the activations of ``layers`` on the rows ``x`` (see
    :func:`workbench.tracking.probes.capture`), calls :meth:`measure` (subclasses implement it and
    return
    tidy rows), adds the training-metric rows, appends everything to the ``store`` run, passes a
    DataFrame of the new rows to each callback and notes the cost in ``costs``. Subclass it for
    other per-layer measures; :class:`InformationPlane` is one.
    """

    def __init__(self, model, layers=None, x=None, every: Any = 1, epochs: int | None = None,
                 store=None, callbacks: Iterable[Callable] = (), run: str | None = None,
                 config: dict | None = None, batch_size: int = 4096):
        from .probes import resolve_layers

        if x is None:
            raise InputError(f"{type(self).__name__} needs the inputs x to measure on")
        self.model = model
        self.layers = resolve_layers(model, layers)
        self.x = to_numpy(x, "x")
        self.every = check_every(every)
        self._epoch_set = epoch_schedule(self.every, epochs)
        self.batch_size = batch_size
        self.callbacks = list(callbacks)
        self.rows: list[dict] = []
        self.costs: list[dict] = []
        self._warned: set = set()
        self.run_id = run or ""
        self.store = None
        if store is not None:
            if hasattr(store, "create"):  # a RunStore: start a run for this tracker
                store = store.create(config or {}, run_id=run)
            self.store = store
            self.run_id = store.id

    def measure(self, acts: dict[str, np.ndarray], epoch: int) -> list[dict]:
        """Tidy rows for one epoch from ``{layer name: activations}``."""
        raise NotImplementedError

    # ----- recording -----------------------------------------------------------------------
    def wants(self, epoch: int) -> bool:
        """Whether ``epoch`` is one this tracker records."""
        if self._epoch_set is not None:
            return int(epoch) in self._epoch_set
        return int(epoch) % self.every == 0

    def record(self, epoch: int, metrics: dict | None = None, force: bool = False) -> pd.DataFrame:
        """Measure every layer now and emit the rows; returns them (empty when skipped)."""
        if not (force or self.wants(epoch)):
            return pd.DataFrame(columns=COLUMNS)
        from .probes import capture

        t0 = time.perf_counter()
        acts = capture(self.model, self.x, self.layers, batch_size=self.batch_size)
        t_capture = time.perf_counter() - t0
        new = self.measure(acts, int(epoch)) + metric_rows(self.run_id, epoch, metrics)
        t_estimate = time.perf_counter() - t0 - t_capture
        self.rows.extend(new)
        frame = pd.DataFrame(new, columns=COLUMNS)
        if self.store is not None:
            self.store.append(new)
        for cb in self.callbacks:
            cb(frame)
        self.costs.append({"epoch": int(epoch), "capture_seconds": t_capture,
                           "estimate_seconds": t_estimate,
                           "seconds": time.perf_counter() - t0})
        return frame

    def _warn_once(self, label: str, layer: str, exc: Exception) -> None:
        if (label, layer) not in self._warned:
            self._warned.add((label, layer))
            warnings.warn(f"{label} could not estimate layer {layer!r}: {exc}", stacklevel=4)

    def as_callback(self) -> Callable:
        """A :func:`workbench.training.loop.train` callback: ``cb(epoch, model, metrics)``."""
        def callback(epoch, model, metrics):
            self.record(epoch, metrics)
        return callback

    # ----- results -------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """Everything recorded so far (tidy)."""
        return pd.DataFrame(self.rows, columns=COLUMNS)

    @property
    def cost(self) -> float:
        """Mean tracking seconds per recorded epoch (capture, measures, store, callbacks)."""
        return float(np.mean([c["seconds"] for c in self.costs])) if self.costs else 0.0
