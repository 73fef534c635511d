"""Entropy of representations over training: per-epoch, per-layer spectral and binned measures.

::

    tracker = RepresentationTracker(model, x=data.x_test, y=data.y_test)
    train(model, data, epochs=200, callbacks=[tracker.as_callback()])
    tracker.frame()     # tidy rows, the same schema as InformationPlane.frame()

The tracker is a :class:`workbench.tracking.base.EpochTracker`, like
:class:`~workbench.tracking.plane.InformationPlane`: the same interface (``record(epoch, metrics)``,
``as_callback()``, ``frame()``, ``cost``, ``store``, ``callbacks``) and row schema (rows
``run, epoch, layer, layer_index, quantity, estimator, value, units, seconds`` plus the loss /
accuracy rows of the training metrics), so runs, stores and plots treat both alike. What it
measures for every layer T (the activations on the rows ``x``):

=================  ==================  ===============================================  =======
measure            quantity            definition                                       units
=================  ==================  ===============================================  =======
``binned``         ``H(T)``            plug-in entropy of the binned rows (``binning``;  bits
                                       Shwartz-Ziv & Tishby 2017)
``matrix_renyi``   ``H(T)``            S_α of the trace-normalised Gaussian Gram matrix  bits
                                       (Sánchez Giraldo et al. 2015)
``vne``            ``H(T)``            von Neumann entropy of ZᵀZ/n, rows L2-normalised  bits
                                       (Kim et al. 2023)
``effective_rank`` ``effective_rank``  exp(entropy of the singular values) (Roy &        ``""``
                                       Vetterli 2007)
``dse``            ``H(T)``,           diffusion spectral entropy and DSMI with the      bits
                   ``I(T;Y)``          labels y (Liao et al. 2023)
=================  ==================  ===============================================  =======

Geometry measures (:mod:`workbench.measures.geometry`; opt-in, not in
:data:`DEFAULT_MEASURES`; unitless, units ``""``; the quantity is the measure's name):

=======================  ==================================================================
measure                  definition (knobs in ``measure_knobs``)
=======================  ==================================================================
``intrinsic_dimension``  TwoNN (Facco et al. 2017) or MLE (Levina & Bickel 2005) of the
                         layer's rows (``method``, ``k``, ``discard``, ``max_samples`` =
                         2000)
``local_rank``           mean numerical rank of the Jacobian input → layer at a seeded
                         subset of ``x`` (Patel & Shwartz-Ziv 2024; ``threshold``,
                         ``max_samples`` = 256); needs the tracker's model and inputs
``spectrum_slope``       power-law decay α of the covariance spectrum (α-ReQ; ``start``,
                         ``stop``)
``condition_number``     λ_max/λ_min of the covariance on its numerical range
``sae_features``         effective number of features of a sparse autoencoder trained on
                         the layer's rows (exp of the entropy of feature usage; ``kind``,
                         ``l1``, ``n_features``, ``steps`` = 300, ``max_samples`` = 1000)
=======================  ==================================================================

The ``estimator`` column holds the estimator's label (``dse(max_samples=500)``: its knobs that
differ from the defaults) and ``"effective_rank"`` for the effective rank. These are
*representation* measures (how spread out the rows are in the kernel / spectral sense), not
estimates of a differential entropy; see docs/representation_entropy.md.

Cost: the Gram-matrix measures (``matrix_renyi``, ``dse``) cost O(n³) per layer, so by default
they use ``subsample=500`` rows — the estimators' own seeded ``max_samples`` choice, the same
rows every epoch since n and the seed do not change. ``binned``, ``vne`` and
``effective_rank`` are cheap (O(n·d) or O(n·d²)) and use every row. Of the geometry measures,
``intrinsic_dimension`` uses at most 2000 seeded rows (a kNN query, O(n²·d) above 12 columns)
and ``local_rank`` one batched Jacobian at 256 seeded rows per layer; both knobs are
``max_samples``. Estimation runs with
``threads=1`` BLAS threads by default, several times faster than the default on a busy machine.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import InputError, KnobError, WorkbenchError
from ..estimators.base import Estimator
from ..measures import geometry
from ..measures.representation import effective_rank
from ..units import check_units
from ..validation import check_class_labels, subsample_rows
from .base import EpochTracker
from .binning_rules import binning_knobs

#: Measure name → registered estimator method (None: a plain function, no estimator; its
#: rows are unitless and their quantity is the measure's name).
MEASURES = {"binned": "binning", "matrix_renyi": "matrix_renyi", "vne": "vne",
            "effective_rank": None, "dse": "dse", "intrinsic_dimension": None,
            "local_rank": None, "spectrum_slope": None, "condition_number": None,
            "sae_features": None}
#: Tracked when no measures are named (the geometry measures are opt-in).
DEFAULT_MEASURES = ("binned", "matrix_renyi", "vne", "effective_rank", "dse")
#: Human titles for plots and widgets.
MEASURE_TITLES = {"binned": "binned H(T)", "matrix_renyi": "matrix-Rényi S_α(T)",
                  "vne": "von Neumann entropy (VNE)", "effective_rank": "effective rank",
                  "dse": "diffusion spectral entropy (DSE)",
                  "intrinsic_dimension": "intrinsic dimension", "local_rank": "local rank",
                  "spectrum_slope": "spectrum slope α", "condition_number": "condition number",
                  "sae_features": "SAE effective features"}
#: Plain-function measures: name → their knobs with defaults (``measure_knobs`` may set these).
PLAIN_KNOBS = {
    "effective_rank": {"center": False},
    "intrinsic_dimension": {"method": "twonn", "k": 20, "discard": 0.1, "max_samples": 2000},
    "local_rank": {"threshold": 1e-3, "max_samples": 256, "atol": 1e-7},
    "spectrum_slope": {"start": 1, "stop": None},
    "condition_number": {},
    # a short SAE on a seeded subset each recorded epoch: enough to see the count move
    "sae_features": {"n_features": None, "kind": "l1", "l1": 3e-2, "steps": 300,
                     "max_samples": 1000},
}
#: Measures whose cost grows like n³ (Gram-matrix eigenvalues): they get ``subsample`` rows.
KERNEL_MEASURES = ("matrix_renyi", "dse")
DEFAULT_SUBSAMPLE = 500
#: Quantity names beyond the information plane's.
EFFECTIVE_RANK = "effective_rank"
DSMI = "I(T;Y)"


def check_measures(measures: Iterable[str]) -> list[str]:
    """The measure names, checked against :data:`MEASURES` (order kept, duplicates dropped)."""
    if isinstance(measures, str):
        measures = [measures]
    names = list(dict.fromkeys(measures))
    unknown = [m for m in names if m not in MEASURES]
    if unknown:
        raise InputError(f"unknown measure(s) {unknown}; measures are {list(MEASURES)}")
    if not names:
        raise InputError(f"give at least one measure of {list(MEASURES)}")
    return names


def measure_estimator(measure: str, knobs: dict | None = None,
                      subsample: int | None = DEFAULT_SUBSAMPLE, seed: int = 0,
                      activation: str | None = None) -> Estimator | None:
    """The estimator behind ``measure`` with the tracker's defaults (None for the
    plain-function measures, whose ``knobs`` are checked against :data:`PLAIN_KNOBS`).

    Defaults that ``knobs`` (``{knob: value}``) may override: ``binned`` gets 30 bins on the
    activation's range (:func:`workbench.tracking.binning_rules.binning_knobs`: [−1, 1] for tanh,
    the observed
    range otherwise);
    the Gram-matrix measures get ``max_samples=subsample`` and ``seed``. Widgets show the
    returned estimator's knobs (``pn.Param``).
    """
    from ..api import make_estimator

    method = MEASURES[check_measures([measure])[0]]
    knobs = dict(knobs or {})
    if method is None:
        plain_knobs(measure, knobs)
        return None
    defaults: dict[str, Any] = {}
    if measure == "binned":
        defaults = binning_knobs(activation or "", 30, "auto")
    elif measure in KERNEL_MEASURES:
        defaults = {"max_samples": subsample, "seed": seed}
    return make_estimator(method, **{**defaults, **knobs})


def plain_knobs(measure: str, knobs: dict | None = None) -> dict:
    """The knobs of a plain-function measure: its defaults updated by ``knobs`` (checked)."""
    allowed = PLAIN_KNOBS[measure]
    extra = sorted(set(knobs or {}) - set(allowed))
    if extra:
        raise KnobError(f"{measure} takes only the knob(s) {sorted(allowed)}, got {extra}")
    return {**allowed, **(knobs or {})}


def _plain_label(measure: str, knobs: dict | None) -> str:
    """``measure(knob=value, ...)`` with the knobs that differ from the defaults."""
    changed = {k: v for k, v in plain_knobs(measure, knobs).items()
               if v != PLAIN_KNOBS[measure][k]}
    inner = ", ".join(f"{k}={v}" for k, v in changed.items())
    return f"{measure}({inner})" if inner else measure


def _label(estimator: Estimator | None, measure: str = "effective_rank",
           knobs: dict | None = None) -> str:
    if estimator is not None:
        return estimator.label()
    return _plain_label(measure, knobs)


def measure_labels(measures: Iterable[str], measure_knobs: dict | None = None,
                   subsample: int | None = DEFAULT_SUBSAMPLE, seed: int = 0,
                   activation: str | None = None) -> dict[str, str]:
    """Measure name → the ``estimator`` label its rows will carry in a tracker built with the
    same arguments (for plots set up before the first row arrives)."""
    knobs = measure_knobs or {}
    return {m: _label(measure_estimator(m, knobs.get(m), subsample, seed, activation), m,
                      knobs.get(m))
            for m in check_measures(measures)}


def plain_measure(measure: str, t: np.ndarray, knobs: dict | None = None, *, model=None,
                  x: np.ndarray | None = None, layer: str | None = None, seed: int = 0) -> float:
    """Value of the plain-function ``measure`` on the activations ``t`` of ``layer``
    (``local_rank`` differentiates ``model`` at rows of ``x`` instead)."""
    k = plain_knobs(measure, knobs)
    if measure == "effective_rank":
        return effective_rank(t, center=k["center"])
    if measure == "intrinsic_dimension":
        return geometry.intrinsic_dimension(t, seed=seed, **k).value
    if measure == "local_rank":
        if model is None or x is None:
            raise InputError("local_rank needs the model and its inputs x")
        return geometry.local_rank(model, x, layer, seed=seed, **k).value
    if measure == "spectrum_slope":
        return geometry.spectrum_slope(t, **k)
    if measure == "sae_features":
        rows = subsample_rows(len(t), k.pop("max_samples"), seed)
        return geometry.sae_features(t if rows is None else t[rows], seed=seed,
                                     **k).effective
    return geometry.condition_number(t)


class _Measure:
    """One measure bound to its estimator (or plain function and knobs):
    ``measure(t, y, **context) -> {quantity: (value, units)}``."""

    def __init__(self, name: str, estimator: Estimator | None, units: str,
                 knobs: dict | None = None):
        self.name, self.estimator, self.units = name, estimator, units
        self.knobs = None if estimator is not None else plain_knobs(name, knobs)
        self.label = _label(estimator, name, knobs)

    def __call__(self, t: np.ndarray, y: np.ndarray, **context) -> dict[str, tuple[float, str]]:
        if self.estimator is None:
            return {self.name: (float(plain_measure(self.name, t, self.knobs, **context)), "")}
        out = {"H(T)": (float(self.estimator.entropy(t, units=self.units)), self.units)}
        if self.name == "dse":
            # the layer first, then the labels (DSMI groups the rows by label)
            out[DSMI] = (float(self.estimator.mutual_info(t, y, units=self.units)), self.units)
        return out


class RepresentationTracker(EpochTracker):
    """Track representation entropies of every layer during training.

    ``model``, ``layers``, ``every``, ``epochs``, ``store``, ``callbacks``, ``run``,
    ``config`` and ``batch_size`` work as for :class:`~workbench.tracking.plane.InformationPlane`.

    Parameters
    ----------
    x, y : inputs (rows) the layers are measured on and their integer class labels (DSMI).
    measures : names from :data:`MEASURES` (default: :data:`DEFAULT_MEASURES`, the
        entropies and the effective rank).
    units : ``"bits"`` (default) or ``"nats"`` for the entropies; the effective rank is
        unitless (units ``""``).
    measure_knobs : ``{measure: {knob: value}}``, e.g. ``{"dse": {"t": 2}}``,
        ``{"effective_rank": {"center": True}}``, ``{"local_rank": {"threshold": 1e-2}}``
        (:data:`PLAIN_KNOBS` lists the plain-function measures' knobs).
    subsample : rows used by the Gram-matrix measures (``max_samples`` of ``matrix_renyi``
        and ``dse``, seeded by ``seed``, the same rows every epoch); None uses all rows.
    threads : BLAS / torch threads while estimating (None: the libraries' defaults).
    """

    def __init__(self, model, layers=None, x=None, y=None,
                 measures: Iterable[str] = DEFAULT_MEASURES, every: Any = 1,
                 units: str = "bits", store=None, callbacks: Iterable[Callable] = (),
                 measure_knobs: dict | None = None, subsample: int | None = DEFAULT_SUBSAMPLE,
                 seed: int = 0, run: str | None = None, epochs: int | None = None,
                 config: dict | None = None, batch_size: int = 4096, threads: int | None = 1):
        if x is None or y is None:
            raise InputError("RepresentationTracker needs the inputs x and labels y to measure "
                             "on")
        self.y = check_class_labels(y, len(x))
        self.units = check_units(units)
        if subsample is not None and (not isinstance(subsample, (int, np.integer))
                                      or subsample < 2):
            raise InputError(f"subsample must be an int >= 2 or None, got {subsample!r}")
        self.subsample, self.seed, self.threads = subsample, int(seed), threads
        knobs = {k: dict(v) for k, v in (measure_knobs or {}).items()}
        self.measure_names = check_measures(measures)
        extra = sorted(set(knobs) - set(self.measure_names))
        if extra:
            raise InputError(f"measure_knobs for measure(s) {extra} that are not tracked "
                             f"(measures: {self.measure_names})")
        activation = getattr(model, "activation", None)
        self.measures: list[_Measure] = []
        for name in self.measure_names:
            est = measure_estimator(name, knobs.get(name), subsample, self.seed, activation)
            self.measures.append(_Measure(name, est, self.units, knobs.get(name)))
        super().__init__(model, layers, x, every=every, epochs=epochs, store=store,
                         callbacks=callbacks, run=run, config=config, batch_size=batch_size)

    # ----- what is measured ----------------------------------------------------------------
    @property
    def labels(self) -> dict[str, str]:
        """Measure name → the label in the ``estimator`` column."""
        return {m.name: m.label for m in self.measures}

    @property
    def estimators(self) -> dict[str, Estimator]:
        """Measure name → its estimator instance (not for the plain-function measures)."""
        return {m.name: m.estimator for m in self.measures if m.estimator is not None}

    def kernel_rows(self) -> np.ndarray | None:
        """Indices (into ``x``) of the rows the Gram-matrix measures use; None: all rows."""
        return subsample_rows(len(self.x), self.subsample, self.seed)

    # ----- recording (EpochTracker.record captures, calls this, stores, calls back) -----------
    def measure(self, activations: dict[str, np.ndarray], epoch: int = 0) -> list[dict]:
        """Rows of every measure on already captured ``{layer: (n, d) array}`` activations."""
        from ..torch_utils import limit_threads

        new: list[dict] = []
        with limit_threads(self.threads):
            for idx, name in enumerate(self.layers, start=1):
                t = activations.get(name)
                if t is None:
                    continue
                t = t.astype(np.float64, copy=False)
                for m in self.measures:
                    start = time.perf_counter()
                    try:
                        values = m(t, self.y, model=self.model, x=self.x, layer=name,
                                   seed=self.seed)
                    except WorkbenchError as exc:
                        self._warn_once(m.label, name, exc)
                        continue
                    seconds = time.perf_counter() - start
                    new.extend({"run": self.run_id, "epoch": int(epoch), "layer": name,
                                "layer_index": idx, "quantity": q, "estimator": m.label,
                                "value": v, "units": u, "seconds": seconds}
                               for q, (v, u) in values.items())
        return new
