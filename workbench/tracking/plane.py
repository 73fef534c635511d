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

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import InputError, WorkbenchError
from ..estimators.base import Estimator
from ..estimators.encoding import encode_rows
from ..units import check_units
from .base import EpochTracker, labelled_rows

QUANTITIES = ("I(X;T)", "I(T;Y)", "H(T)")
_BINNING_METHODS = ("binning", "adaptive_binning")


def _make(spec, knobs: dict) -> Estimator:
    from ..api import make_estimator

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
        from ..estimators import binning

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



class InformationPlane(EpochTracker):
    """Track I(X;T), I(T;Y) and H(T) of every layer during training.

    Parameters
    ----------
    model : torch.nn.Module
    layers : None, names or module types (see :mod:`workbench.tracking.probes`); None takes
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
        x, y = labelled_rows(x, y, subsample, seed)
        self.y = y
        self._measured_x = x  # the rows measured on, subsampled once (subclasses read them)
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
