"""The information plane: per-epoch, per-layer I(X;T), I(T;Y) and H(T) of a network.

::

    plane = InformationPlane(model, x=data.x, y=data.y, estimators=["binning"],
                             estimator_knobs={"binning": {"n_bins": 30, "range_min": -1,
                                                          "range_max": 1}})
    train(model, data, epochs=500, callbacks=[plane.as_callback()])
    plane.frame()            # tidy DataFrame, one row per (epoch, layer, quantity, estimator)

Definitions (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018). X is the network input, each
distinct input row one symbol (uniform over the rows given); Y the class label; T the
activations of one layer on all rows.

* ``H(T)``: the estimator's entropy of T.
* ``I(X;T) = H(T) − H(T|X)``. For binning, T is a function of X, so with distinct inputs
  ``H(T|X) = 0`` and ``I(X;T) = H(T)`` (the binned entropy); other estimators get
  ``est.mutual_info(T, X_ids)`` with X as integer symbols and use their own definition (the
  noisy-layer ``kde`` bound subtracts the entropy of the added noise, (d/2) log(2πeσ²)).
* ``I(T;Y) = H(T) − Σ_y p(y) H(T|Y=y)``, from ``est.mutual_info(T, Y)`` with Y as symbols.

The layer always comes first in ``mutual_info``, since some estimators' MI is asymmetric.

Estimators come from the registry (:func:`workbench.make_estimator`), so every registered method
works. ``binning`` and ``adaptive_binning`` take a fast path that computes each layer's bin
codes once per epoch and reuses them for all three quantities (the codes and entropies of X and
Y are computed once per run); it gives the same numbers as the front door (tested).

Each recorded epoch emits tidy rows ``run, epoch, layer, layer_index, quantity, estimator,
value, units, seconds`` (``seconds``: time to estimate that layer with that estimator), plus
rows ``loss``, ``accuracy``, ``test_loss``, ``test_accuracy`` from the training metrics
(layer ``"model"``, layer_index 0; loss in nats, accuracy as a fraction with units ``""``).
``plane.costs`` holds the tracking time of every recorded epoch (capture, estimation, and in
``seconds`` the total including the store write and callbacks); ``plane.cost`` is its mean.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .errors import InputError, WorkbenchError
from .estimators.base import Estimator
from .estimators.encoding import encode_rows
from .runs import COLUMNS
from .units import check_units, convert_columns, from_nats
from .validation import check_class_labels, subsample_rows, to_numpy

QUANTITIES = ("I(X;T)", "I(T;Y)", "H(T)")
METRIC_QUANTITIES = {"train_loss": ("loss", "nats"), "train_accuracy": ("accuracy", ""),
                     "test_loss": ("test_loss", "nats"), "test_accuracy": ("test_accuracy", "")}
_BINNING_METHODS = ("binning", "adaptive_binning")


def log_epochs(epochs: int, per_decade: int = 20) -> list[int]:
    """Epochs ``0..epochs`` spaced evenly on a log scale (every epoch up to ``per_decade``)."""
    if epochs <= 0:
        return [0]
    pts = np.unique(np.round(np.logspace(0, math.log10(epochs), per_decade *
                                         max(1, math.ceil(math.log10(epochs + 1))))))
    return sorted({0, *range(1, min(per_decade, epochs) + 1), *pts.astype(int).tolist(), epochs})


def _make(spec, knobs: dict) -> Estimator:
    from .api import make_estimator

    if isinstance(spec, Estimator):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return make_estimator(spec[0], **dict(spec[1]))
    if isinstance(spec, str):
        return make_estimator(spec, **knobs.get(spec, {}))
    raise InputError(f"estimators must be method names, (name, knobs) pairs or Estimator "
                     f"instances; got {spec!r}")


class _BinningFastPath:
    """Codes-once evaluation of the binning estimators (same numbers as the front door)."""

    def __init__(self, est: Estimator, x_codes: np.ndarray, y_codes: np.ndarray, units: str):
        from .estimators import binning

        self.est, self.mod, self.units = est, binning, units
        self.x_codes, self.y_codes = x_codes, y_codes
        self.h_x = binning.entropy_from_codes(x_codes, est.correction, units)
        self.h_y = binning.entropy_from_codes(y_codes, est.correction, units)
        # distinct inputs: T is a function of X, so H(T|X) = 0 and I(X;T) = H(T) exactly
        self.x_distinct = len(np.unique(x_codes)) == len(x_codes)

    def codes(self, t: np.ndarray) -> np.ndarray:
        """One symbol per row of ``t``: the estimator's own validation and binning, so the
        codes are those its public ``entropy`` / ``mutual_info`` would use."""
        return self.est.symbols(t, "T")

    def __call__(self, t: np.ndarray) -> dict[str, float]:
        codes, corr, mod = self.codes(t), self.est.correction, self.mod
        if not self.x_distinct or corr != "none":
            return mod.plane_terms(codes, self.x_codes, self.y_codes, h_x=self.h_x, h_y=self.h_y,
                                   correction=corr, units=self.units)
        h_t = mod.entropy_from_codes(codes, corr, self.units)
        return {"H(T)": h_t, "I(X;T)": h_t,
                "I(T;Y)": mod.binned_mi_from_codes(codes, self.y_codes, h_t=h_t, h_partner=self.h_y,
                                                   correction=corr, units=self.units)}


class _FrontDoor:
    """Any registered estimator through its public entropy / mutual_info."""

    def __init__(self, est: Estimator, x_ids: np.ndarray, y: np.ndarray, units: str):
        self.est, self.x_ids, self.y, self.units = est, x_ids, y, units

    def __call__(self, t: np.ndarray) -> dict[str, float]:
        est, out = self.est, {}
        t = t.astype(np.float64)
        if est.supports("entropy"):
            out["H(T)"] = float(est.entropy(t, units=self.units))
        if est.supports("mutual_info"):
            # the layer first: estimators with an asymmetric MI (kde: activations, then the
            # variable whose distinct values group the rows) read it that way
            out["I(X;T)"] = float(est.mutual_info(t, self.x_ids, units=self.units))
            out["I(T;Y)"] = float(est.mutual_info(t, self.y, units=self.units))
        return out


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
    :func:`workbench.probes.capture`), calls :meth:`measure` (subclasses implement it and return
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
        """A :func:`workbench.train.train` callback: ``cb(epoch, model, metrics)``."""
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


class InformationPlane(EpochTracker):
    """Track I(X;T), I(T;Y) and H(T) of every layer during training.

    Parameters
    ----------
    model : torch.nn.Module
    layers : None, names or module types (see :mod:`workbench.probes`); None takes
        ``model.tracked_layers`` or every leaf module.
    x, y : inputs (rows) and integer class labels the quantities are measured on (usually the
        whole dataset).
    estimators : method names, ``(name, knobs)`` pairs or Estimator instances.
    every : record every ``every``-th epoch (int), the epochs in an iterable, or ``"log"``
        (log-spaced, needs ``epochs``).
    units : ``"bits"`` (default) or ``"nats"``.
    store : a :class:`workbench.runs.Run` (or a RunStore, in which a new run is created with
        ``config``) to append every recorded epoch to, atomically.
    callbacks : callables receiving a DataFrame of each recorded epoch's new rows.
    estimator_knobs : ``{method name: {knob: value}}`` for estimators given by name.
    subsample : measure on this many rows only (chosen once with ``seed``, the same every
        epoch).
    fast : use the codes-once path for ``binning`` / ``adaptive_binning`` (default); False
        sends them through their public ``entropy`` / ``mutual_info`` like any other method.
    """

    def __init__(self, model, layers=None, x=None, y=None, estimators: Iterable = ("binning",),
                 every: Any = 1, units: str = "bits", store=None,
                 callbacks: Iterable[Callable] = (), estimator_knobs: dict | None = None,
                 subsample: int | None = None, seed: int = 0, run: str | None = None,
                 epochs: int | None = None, config: dict | None = None,
                 batch_size: int = 4096, fast: bool = True):
        if x is None or y is None:
            raise InputError("InformationPlane needs the inputs x and labels y to measure on")
        self.units = check_units(units)
        x = to_numpy(x, "x")
        y = check_class_labels(y, len(x))
        rows = subsample_rows(len(x), subsample, seed)
        if rows is not None:
            x, y = x[rows], y[rows]
        self.y = y
        self.x_ids = encode_rows(x.reshape(len(x), -1))[0].reshape(-1, 1)
        self.y_ids = encode_rows(self.y)[0]
        self.fast = fast
        knobs = dict(estimator_knobs or {})
        self.estimators = [_make(s, knobs) for s in estimators]
        if not self.estimators:
            raise InputError("give at least one estimator")
        self._evaluators = [self._evaluator(e) for e in self.estimators]
        super().__init__(model, layers, x, every=every, epochs=epochs, store=store,
                         callbacks=callbacks, run=run, config=config, batch_size=batch_size)

    def _evaluator(self, est: Estimator):
        if self.fast and est.method_name in _BINNING_METHODS:
            return _BinningFastPath(est, self.x_ids.ravel(), self.y_ids, self.units)
        return _FrontDoor(est, self.x_ids, self.y.reshape(-1, 1), self.units)

    def measure(self, acts: dict[str, np.ndarray], epoch: int) -> list[dict]:
        new: list[dict] = []
        for idx, name in enumerate(self.layers, start=1):
            t = acts.get(name)
            if t is None:
                continue
            for est, fn in zip(self.estimators, self._evaluators):
                label = est.label()
                start = time.perf_counter()
                try:
                    values = fn(t)
                except WorkbenchError as exc:
                    self._warn_once(label, name, exc)
                    continue
                seconds = time.perf_counter() - start
                new.extend({"run": self.run_id, "epoch": epoch, "layer": name,
                            "layer_index": idx, "quantity": q, "estimator": label,
                            "value": float(values[q]), "units": self.units, "seconds": seconds}
                           for q in QUANTITIES if q in values)
        return new


# ----- frames -> tables (shared by plots and static export; no plotting imports here) ------------
LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"]
EPOCH_CMAP = "viridis"


def estimators_in(frame: pd.DataFrame) -> list[str]:
    """Estimator labels of the information rows, in order of appearance."""
    info = frame[frame["estimator"].astype(str) != ""]
    return list(dict.fromkeys(info["estimator"]))


def pick_estimator(frame: pd.DataFrame, estimator: str | None) -> str:
    found = estimators_in(frame)
    if not found:
        raise InputError("the frame holds no information-plane rows (no estimator column values)")
    if estimator is None:
        return found[0]
    if estimator not in found:
        raise InputError(f"estimator {estimator!r} not in the frame; it has {found}")
    return estimator


def frame_in_units(df: pd.DataFrame, units: str) -> pd.DataFrame:
    """``df`` with its bits/nats ``value`` rows converted to ``units`` (loss and accuracy
    rows, in other units, unchanged)."""
    return convert_columns(df, ["value"], units)


def wide_table(rows: pd.DataFrame, index, columns, by: str = "quantity") -> pd.DataFrame:
    """Tidy ``rows`` pivoted to one row per ``index`` and one column per value of ``by`` listed
    in ``columns``, in that order (the mean of repeated rows; NaN where a value is missing)."""
    index, columns = list(index), list(columns)
    if rows.empty:
        return pd.DataFrame(columns=index + columns)
    wide = rows.pivot_table(index=index, columns=by, values="value", aggfunc="mean")
    wide = wide.reindex(columns=columns).reset_index()
    wide.columns.name = None
    return wide


def plane_table(frame: pd.DataFrame, estimator: str | None = None,
                units: str = "bits") -> pd.DataFrame:
    """Wide table: run, layer, layer_index, epoch, ``ixt`` = I(X;T), ``ity`` = I(T;Y), in
    ``units``."""
    est = pick_estimator(frame, estimator)
    df = frame_in_units(frame[(frame["estimator"] == est)
                              & frame["quantity"].isin(["I(X;T)", "I(T;Y)"])], units)
    wide = wide_table(df, ["run", "layer", "layer_index", "epoch"], ["I(X;T)", "I(T;Y)"])
    wide = wide.rename(columns={"I(X;T)": "ixt", "I(T;Y)": "ity"}).dropna(subset=["ixt", "ity"])
    return wide.sort_values(["run", "layer_index", "epoch"]).reset_index(drop=True)


def compression_table(frame: pd.DataFrame, estimator: str | None = None,
                      quantity: str = "I(X;T)") -> pd.DataFrame:
    """Per layer (and run): peak of ``quantity`` over epochs, its epoch, the final value and the
    drop ``peak − final`` (a positive drop is compression)."""
    df = frame[frame["quantity"] == quantity]
    if estimator is not None:
        df = df[df["estimator"] == estimator]
    if df.empty:
        raise InputError(f"no {quantity} rows" + (f" for estimator {estimator!r}" if estimator
                                                  else ""))
    out = []
    for (run, est, layer, li), g in df.groupby(["run", "estimator", "layer", "layer_index"]):
        g = g.sort_values("epoch")
        peak_at = int(g["value"].to_numpy().argmax())
        out.append({"run": run, "estimator": est, "layer": layer, "layer_index": li,
                    "peak": float(g["value"].iloc[peak_at]),
                    "peak_epoch": int(g["epoch"].iloc[peak_at]),
                    "final": float(g["value"].iloc[-1]), "final_epoch": int(g["epoch"].iloc[-1]),
                    "drop": float(g["value"].iloc[peak_at] - g["value"].iloc[-1]),
                    "units": g["units"].iloc[0]})
    return pd.DataFrame(out).sort_values(["run", "estimator", "layer_index"]).reset_index(drop=True)


# ----- one-call experiments (CLI, notebooks, apps) ---------------------------------------------
#: Binning rules for the hidden layers: "auto" picks by activation (see binning_knobs).
BIN_RULES = ("auto", "fixed", "observed", "width")
_BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def binning_knobs(activation: str = "tanh", n_bins: int = 30, rule: str = "auto") -> dict:
    """Knobs of ``binning`` for a network with this activation.

    * ``"fixed"``: ``n_bins`` equal bins on the activation's bounded range ([−1, 1] for tanh,
      [0, 1] for sigmoid), the Shwartz-Ziv & Tishby setting; the softmax output is binned on the
      same range.
    * ``"observed"``: ``n_bins`` equal bins over the range observed *in this epoch* (pooled over
      the layer): the range follows the data, so the bins widen as the activations grow.
    * ``"width"``: bins of the fixed width ``2 / n_bins`` (the width of the tanh bins) from the
      observed minimum: the resolution stays fixed and the number of bins grows with the range.
    * ``"auto"``: ``"fixed"`` for tanh and sigmoid, ``"observed"`` otherwise.
    """
    if rule not in BIN_RULES:
        raise InputError(f"bin rule must be one of {BIN_RULES}, got {rule!r}")
    if rule == "auto":
        rule = "fixed" if activation in _BOUNDED else "observed"
    if rule == "fixed":
        if activation not in _BOUNDED:
            raise InputError(f"bin rule 'fixed' needs a bounded activation (tanh, sigmoid); "
                             f"{activation!r} is unbounded: use 'observed' or 'width'")
        lo, hi = _BOUNDED[activation]
        return {"n_bins": n_bins, "range_min": lo, "range_max": hi}
    if rule == "observed":
        return {"n_bins": n_bins}
    return {"bin_width": 2.0 / n_bins}


def axis_limits(x, y, units: str = "bits") -> tuple[float, float]:
    """Upper bounds of the information plane's axes for inputs ``x`` and labels ``y``, in
    ``units``: I(X;T) ≤ H(X) ≤ log(number of distinct input rows) and I(T;Y) ≤ H(Y), the
    plug-in entropy of the labels (what the binned estimates can reach at most)."""
    from .api import entropy

    distinct = encode_rows(to_numpy(x))[1]
    return (from_nats(math.log(distinct), units),
            float(entropy(to_numpy(y), method="plugin", units=units)))


def default_arch(data) -> str:
    """``12-10-7-5-4-3-2`` for the 12-bit task, else ``d-10-7-5-4-3-k`` for d features and
    k classes."""
    if data.name == "tishby12":
        return "12-10-7-5-4-3-2"
    return f"{data.n_features}-10-7-5-4-3-{data.n_classes}"


def checked_arch(dataset, arch: str | None) -> str:
    """``arch`` (default: :func:`default_arch`) after checking that its first and last widths
    match the dataset's features and classes."""
    from . import models

    arch = arch or default_arch(dataset)
    widths = models.parse_widths(arch)
    if widths[0] != dataset.n_features or widths[-1] != dataset.n_classes:
        raise InputError(f"arch {arch!r} needs {dataset.n_features} inputs and "
                         f"{dataset.n_classes} outputs for {dataset.name!r}; e.g. "
                         f"{default_arch(dataset)}")
    return arch


def experiment_config(dataset, arch: str, *, activation: str, epochs: int, lr: float,
                      optimizer: str, batch_size: int, seed: int, weight_decay: float,
                      units: str, every: Any, subsample: int | None, **extra) -> dict:
    """The ``config.json`` keys every tracked training run shares (dataset, network, training
    settings, what is recorded, library versions), then the tracker's own ``extra`` keys.

    :func:`train_tracked` reads the training settings back from it, so a config always holds
    what the run was trained with."""
    import torch

    from . import __version__

    return {"data": dataset.name, "data_info": dataset.info, "arch": arch,
            "activation": activation, "epochs": epochs, "lr": lr, "optimizer": optimizer,
            "batch_size": batch_size, "seed": seed, "weight_decay": weight_decay,
            "units": units, "every": check_every(every), "subsample": subsample, **extra,
            "torch": torch.__version__, "workbench": __version__}


def train_tracked(tracker: EpochTracker, dataset, config: dict, *, callbacks=(),
                  stop_event=None, pause_event=None, threads: int | None = 1, **final_config):
    """Train ``tracker.model`` on ``dataset`` with the settings in ``config`` (from
    :func:`experiment_config`) and ``tracker`` recording; returns the
    :class:`~workbench.train.TrainResult`.

    Afterwards the tracker's store run (if any) gets ``status`` (``"finished"`` or
    ``"stopped"``), ``epochs_completed``, ``train_seconds`` and ``final_config`` in its
    config, and the tracker keeps ``model_`` and ``dataset_`` for the caller.
    """
    from . import train

    result = train.train(tracker.model, dataset, epochs=config["epochs"], lr=config["lr"],
                         optimizer=config["optimizer"], batch_size=config["batch_size"],
                         seed=config["seed"], weight_decay=config["weight_decay"],
                         callbacks=[tracker.as_callback(), *callbacks], stop_event=stop_event,
                         pause_event=pause_event, threads=threads)
    if tracker.store is not None:
        tracker.store.update_config(**final_config,
                                    status="stopped" if result.stopped else "finished",
                                    epochs_completed=result.epochs_completed,
                                    train_seconds=result.seconds)
    tracker.model_, tracker.dataset_ = tracker.model, dataset
    return result


def run_experiment(data="tishby12", arch: str | None = None, activation: str = "tanh",
                   epochs: int = 300, lr: float = 0.004, optimizer: str = "adam",
                   batch_size: int = 256, seed: int = 0, estimators=("binning",),
                   estimator_knobs: dict | None = None, n_bins: int = 30, bin_rule: str = "auto",
                   every: Any = 1, units: str = "bits", store=None, train_fraction=None,
                   subsample: int | None = None, weight_decay: float = 0.0, callbacks=(),
                   plane_callbacks=(), stop_event=None, pause_event=None, run: str | None = None,
                   threads: int | None = 1):
    """Build the dataset and network, train with an :class:`InformationPlane` attached.

    Returns ``(plane, train_result, config)``. ``data`` is a :class:`~workbench.datasets.Dataset`,
    a built-in name or a file path; ``binning`` knobs default to :func:`binning_knobs` (
    ``n_bins``, ``bin_rule``) unless ``estimator_knobs["binning"]`` is given;
    ``adaptive_binning`` takes ``n_bins`` unless its own knobs name another. ``config`` (all
    arguments that reproduce the run) is written to the store's ``config.json``.
    """
    from . import datasets, models

    every = check_every(every)  # once: a generator is read here, not again by the tracker
    estimators = [estimators] if isinstance(estimators, str) else list(estimators)
    kwargs = {} if train_fraction is None else {"train_fraction": train_fraction}
    dataset = data if isinstance(data, datasets.Dataset) else datasets.load(data, seed=seed,
                                                                          **kwargs)
    arch = checked_arch(dataset, arch)
    knobs = {k: dict(v) for k, v in (estimator_knobs or {}).items()}
    if "binning" in estimators and "binning" not in knobs:
        knobs["binning"] = binning_knobs(activation, n_bins, bin_rule)
    if "adaptive_binning" in estimators:  # n_bins under any other knob given
        knobs["adaptive_binning"] = {"n_bins": n_bins, **knobs.get("adaptive_binning", {})}
    config = experiment_config(
        dataset, arch, activation=activation, epochs=epochs, lr=lr, optimizer=optimizer,
        batch_size=batch_size, seed=seed, weight_decay=weight_decay, units=units, every=every,
        subsample=subsample,
        estimators=[e if isinstance(e, str) else list(e) for e in estimators],
        estimator_knobs=knobs, bin_rule=bin_rule, n_bins=n_bins,
        init="truncated normal N(0, 1/fan_in), zero bias (Saxe et al. 2018)",
        measured_on="all rows (train + test)")
    model = models.mlp(arch, activation=activation, seed=seed)
    plane = InformationPlane(model, x=dataset.x, y=dataset.y, estimators=estimators,
                             estimator_knobs=knobs, every=every, units=units, store=store,
                             callbacks=plane_callbacks, subsample=subsample, seed=seed,
                             epochs=epochs, config=config, run=run)
    result = train_tracked(plane, dataset, config, callbacks=callbacks, stop_event=stop_event,
                           pause_event=pause_event, threads=threads,
                           estimator_labels=[e.label() for e in plane.estimators])
    return plane, result, config
