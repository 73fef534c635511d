"""Entropy of representations over training: per-epoch, per-layer spectral and binned measures.

::

    tracker = RepresentationTracker(model, x=data.x_test, y=data.y_test)
    train(model, data, epochs=200, callbacks=[tracker.as_callback()])
    tracker.frame()     # tidy rows, the same schema as InformationPlane.frame()

The tracker is a :class:`workbench.plane.EpochTracker`, like
:class:`~workbench.plane.InformationPlane`: the same interface (``record(epoch, metrics)``,
``as_callback()``, ``frame()``, ``cost``, ``store``, ``callbacks``) and row schema (rows
``run, epoch, layer, layer_index, quantity, estimator, value, units, seconds`` plus the loss /
accuracy rows of the training metrics), so runs, stores and plots treat both alike. What it measures for every layer T (the activations on the rows ``x``):

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

The ``estimator`` column holds the estimator's label (``dse(max_samples=500)``: its knobs that
differ from the defaults) and ``"effective_rank"`` for the effective rank. These are
*representation* measures (how spread out the rows are in the kernel / spectral sense), not
estimates of a differential entropy; see docs/representation_entropy.md.

Cost: the Gram-matrix measures (``matrix_renyi``, ``dse``) cost O(n³) per layer, so by default
they use ``subsample=500`` rows — the estimators' own seeded ``max_samples`` choice, the same
rows every epoch since n and the seed do not change. ``binned``, ``vne`` and
``effective_rank`` are cheap (O(n·d) or O(n·d²)) and use every row. Estimation runs with
``threads=1`` BLAS threads by default, several times faster than the default on a busy machine.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .errors import InputError, KnobError, WorkbenchError
from .estimators.base import Estimator
from .plane import EpochTracker, binning_knobs, check_every
from .representation import effective_rank
from .units import check_units
from .validation import check_class_labels, check_seed, subsample_rows

#: Measure name → registered estimator method (None: a plain function, no estimator).
MEASURES = {"binned": "binning", "matrix_renyi": "matrix_renyi", "vne": "vne",
            "effective_rank": None, "dse": "dse"}
DEFAULT_MEASURES = tuple(MEASURES)
#: Human titles for plots and widgets.
MEASURE_TITLES = {"binned": "binned H(T)", "matrix_renyi": "matrix-Rényi S_α(T)",
                  "vne": "von Neumann entropy (VNE)", "effective_rank": "effective rank",
                  "dse": "diffusion spectral entropy (DSE)"}
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
    """The estimator behind ``measure`` with the tracker's defaults (None for
    ``effective_rank``).

    Defaults that ``knobs`` (``{knob: value}``) may override: ``binned`` gets 30 bins on the
    activation's range (:func:`workbench.plane.binning_knobs`: [−1, 1] for tanh, the observed
    range otherwise);
    the Gram-matrix measures get ``max_samples=subsample`` and ``seed``. Widgets show the
    returned estimator's knobs (``pn.Param``).
    """
    from .api import make_estimator

    method = MEASURES[check_measures([measure])[0]]
    knobs = dict(knobs or {})
    if method is None:
        if set(knobs) - {"center"}:
            raise KnobError(f"effective_rank takes only the knob 'center', got {sorted(knobs)}")
        return None
    defaults: dict[str, Any] = {}
    if measure == "binned":
        defaults = binning_knobs(activation or "", 30, "auto")
    elif measure in KERNEL_MEASURES:
        defaults = {"max_samples": subsample, "seed": seed}
    return make_estimator(method, **{**defaults, **knobs})


def _label(estimator: Estimator | None, center: bool = False) -> str:
    if estimator is not None:
        return estimator.label()
    return "effective_rank(center=True)" if center else "effective_rank"


def measure_labels(measures: Iterable[str], measure_knobs: dict | None = None,
                   subsample: int | None = DEFAULT_SUBSAMPLE, seed: int = 0,
                   activation: str | None = None) -> dict[str, str]:
    """Measure name → the ``estimator`` label its rows will carry in a tracker built with the
    same arguments (for plots set up before the first row arrives)."""
    knobs = measure_knobs or {}
    return {m: _label(measure_estimator(m, knobs.get(m), subsample, seed, activation),
                      bool(knobs.get(m, {}).get("center", False)))
            for m in check_measures(measures)}


class _Measure:
    """One measure bound to its estimator: ``measure(t, y) -> {quantity: (value, units)}``."""

    def __init__(self, name: str, estimator: Estimator | None, units: str, center: bool):
        self.name, self.estimator, self.units, self.center = name, estimator, units, center
        self.label = _label(estimator, center)

    def __call__(self, t: np.ndarray, y: np.ndarray) -> dict[str, tuple[float, str]]:
        if self.estimator is None:
            return {EFFECTIVE_RANK: (effective_rank(t, center=self.center), "")}
        out = {"H(T)": (float(self.estimator.entropy(t, units=self.units)), self.units)}
        if self.name == "dse":
            # the layer first, then the labels (DSMI groups the rows by label)
            out[DSMI] = (float(self.estimator.mutual_info(t, y, units=self.units)), self.units)
        return out


class RepresentationTracker(EpochTracker):
    """Track representation entropies of every layer during training.

    ``model``, ``layers``, ``every``, ``epochs``, ``store``, ``callbacks``, ``run``,
    ``config`` and ``batch_size`` work as for :class:`~workbench.plane.InformationPlane`.

    Parameters
    ----------
    x, y : inputs (rows) the layers are measured on and their integer class labels (DSMI).
    measures : names from :data:`MEASURES` (default: all of them).
    units : ``"bits"`` (default) or ``"nats"`` for the entropies; the effective rank is
        unitless (units ``""``).
    measure_knobs : ``{measure: {knob: value}}``, e.g. ``{"dse": {"t": 2}}``,
        ``{"effective_rank": {"center": True}}``.
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
            center = bool(knobs.get(name, {}).get("center", False))
            est = measure_estimator(name, knobs.get(name), subsample, self.seed, activation)
            self.measures.append(_Measure(name, est, self.units, center))
        super().__init__(model, layers, x, every=every, epochs=epochs, store=store,
                         callbacks=callbacks, run=run, config=config, batch_size=batch_size)

    # ----- what is measured ----------------------------------------------------------------
    @property
    def labels(self) -> dict[str, str]:
        """Measure name → the label in the ``estimator`` column."""
        return {m.name: m.label for m in self.measures}

    @property
    def estimators(self) -> dict[str, Estimator]:
        """Measure name → its estimator instance (not for ``effective_rank``)."""
        return {m.name: m.estimator for m in self.measures if m.estimator is not None}

    def kernel_rows(self) -> np.ndarray | None:
        """Indices (into ``x``) of the rows the Gram-matrix measures use; None: all rows."""
        return subsample_rows(len(self.x), self.subsample, self.seed)

    # ----- recording (EpochTracker.record captures, calls this, stores, calls back) -----------
    def measure(self, activations: dict[str, np.ndarray], epoch: int = 0) -> list[dict]:
        """Rows of every measure on already captured ``{layer: (n, d) array}`` activations."""
        from .torch_utils import limit_threads

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
                        values = m(t, self.y)
                    except WorkbenchError as exc:
                        self._warn_once(m.label, name, exc)
                        continue
                    seconds = time.perf_counter() - start
                    new.extend({"run": self.run_id, "epoch": int(epoch), "layer": name,
                                "layer_index": idx, "quantity": q, "estimator": m.label,
                                "value": v, "units": u, "seconds": seconds}
                               for q, (v, u) in values.items())
        return new


# ----- label noise and one-call experiments ------------------------------------------------------
def with_label_noise(dataset, fraction: float, seed: int = 0):
    """A copy of ``dataset`` whose training labels are shuffled on a random ``fraction`` of the
    training rows (a permutation among those rows, so the class counts are unchanged; some
    rows keep their label by chance). Test labels stay true. ``fraction=1`` shuffles all
    training labels, as in the random-label runs of Zhang et al. (2017) and Liao et al. (2023).
    """
    from dataclasses import replace

    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"label noise fraction must be in [0, 1], got {fraction!r}")
    rng = check_seed(seed)
    y = dataset.y_train.copy()
    rows = rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)
    y[rows] = y[rng.permutation(rows)]
    info = {**dataset.info, "label_noise": fraction, "label_noise_seed": seed}
    return replace(dataset, y_train=y, info=info)


MEASURE_ON = ("all", "train", "test")


def measured_rows(dataset, measure_on: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` to measure on: ``"all"`` rows, the ``"train"`` rows with the labels trained
    on (noisy ones included), or the ``"test"`` rows with their true labels."""
    if measure_on == "train":
        return dataset.x_train, dataset.y_train
    if measure_on == "test":
        if len(dataset.x_test) == 0:
            raise InputError("measure_on='test' but the dataset has no test rows; use a "
                             "train_fraction below 1")
        return dataset.x_test, dataset.y_test
    if measure_on == "all":
        return dataset.x, dataset.y
    raise InputError(f"measure_on must be one of {MEASURE_ON}, got {measure_on!r}")


def run_experiment(data="digits", arch: str | None = None, activation: str = "relu",
                   epochs: int = 100, lr: float = 1e-3, optimizer: str = "adam",
                   batch_size: int = 128, seed: int = 0, label_noise: float = 0.0,
                   measures: Iterable[str] = DEFAULT_MEASURES, measure_knobs: dict | None = None,
                   measure_on: str = "all", every: Any = 1, units: str = "bits",
                   subsample: int | None = DEFAULT_SUBSAMPLE, weight_decay: float = 0.0,
                   store=None, callbacks=(), tracker_callbacks=(), stop_event=None,
                   pause_event=None, run: str | None = None, threads: int | None = 1):
    """Build the dataset (with ``label_noise``) and an MLP, train with a tracker attached.

    Returns ``(tracker, train_result, config)``; ``config`` (every argument that reproduces
    the run) goes to the store's ``config.json``. ``arch`` defaults to
    :func:`workbench.plane.default_arch`.
    """
    from . import datasets, models
    from .plane import checked_arch, experiment_config, train_tracked

    every = check_every(every)  # once: a generator is read here, not again by the tracker
    measures = check_measures(measures)
    clean = data if isinstance(data, datasets.Dataset) else datasets.load(data, seed=seed)
    dataset = with_label_noise(clean, label_noise, seed) if label_noise else clean
    arch = checked_arch(dataset, arch)
    x, y = measured_rows(dataset, measure_on)
    config = experiment_config(
        dataset, arch, activation=activation, epochs=epochs, lr=lr, optimizer=optimizer,
        batch_size=batch_size, seed=seed, weight_decay=weight_decay, units=units, every=every,
        subsample=subsample, label_noise=label_noise, measures=measures,
        measure_knobs=measure_knobs or {}, measure_on=measure_on, kind="representation_entropy")
    model = models.mlp(arch, activation=activation, seed=seed)
    tracker = RepresentationTracker(model, x=x, y=y, measures=measures, every=every,
                                    units=units, store=store, callbacks=tracker_callbacks,
                                    measure_knobs=measure_knobs, subsample=subsample,
                                    seed=seed, run=run, epochs=epochs, config=config,
                                    threads=threads)
    result = train_tracked(tracker, dataset, config, callbacks=callbacks, stop_event=stop_event,
                           pause_event=pause_event, threads=threads, labels=tracker.labels)
    return tracker, result, config


def final_values(frame: pd.DataFrame, quantity: str, estimator: str | None = None,
                 last: int = 1) -> pd.Series:
    """Per layer: the mean of ``quantity`` over the ``last`` recorded epochs."""
    df = frame[frame["quantity"] == quantity]
    if estimator is not None:
        df = df[df["estimator"] == estimator]
    if df.empty:
        raise InputError(f"no {quantity!r} rows" + (f" for {estimator!r}" if estimator else ""))
    epochs = sorted(df["epoch"].unique())[-last:]
    df = df[df["epoch"].isin(epochs)]
    return df.groupby("layer_index")["value"].mean()


__all__ = ["RepresentationTracker", "MEASURES", "DEFAULT_MEASURES", "MEASURE_TITLES",
           "KERNEL_MEASURES", "measure_estimator", "measure_labels", "check_measures",
           "label_noise_study",
           "with_label_noise", "measured_rows", "run_experiment", "final_values"]


def label_noise_study(noises=(0.0, 0.5, 1.0), seeds=(0, 1, 2), data="digits",
                      arch: str = "64-512-256-10", activation: str = "relu", epochs: int = 300,
                      lr: float = 1e-3, batch_size: int = 64,
                      measures: Iterable[str] = DEFAULT_MEASURES, every: Any = "log",
                      subsample: int | None = DEFAULT_SUBSAMPLE,
                      fixed_sigma: float | None = 10.0,
                      progress: Callable[[str], Any] | None = None) -> pd.DataFrame:
    """Train one MLP per (label noise, seed) and track its layers; the DSE paper's overfitting
    experiment (Liao et al. 2023, §5) at small scale.

    Per run three trackers share the training loop (rows tagged in the column ``measured_on``):

    * ``"test"``: every measure in ``measures`` on the test rows with their *true* labels
      (DSMI there is what the paper plots);
    * ``"train"``: ``dse`` (DSE and DSMI) on the training rows with the labels the network was
      *trained on* (shuffled ones included: does the representation follow the memorised
      labels?);
    * ``"test, fixed σ"`` (unless ``fixed_sigma`` is None): ``dse`` of the penultimate layer
      on the test rows with the kernel width fixed at ``fixed_sigma`` in feature units (the
      authors' code uses σ = 10), so a growing feature scale shows as growing DSE; the
      default median rule is scale-free.

    Returns the tidy rows plus columns ``label_noise``, ``seed`` and ``measured_on``.
    """
    import torch  # noqa: F401  (the models need it; fail early with a clear ImportError)

    from . import datasets, models, train

    frames = []
    for noise in noises:
        for seed in seeds:
            clean = datasets.load(data, seed=seed) if isinstance(data, str) else data
            dataset = with_label_noise(clean, noise, seed) if noise else clean
            model = models.mlp(arch, activation=activation, seed=seed)
            layers = model.tracked_layers
            # the trackers' own seed (kernel row subsample) stays 0, so the estimator labels
            # are the same in every run and group across seeds
            common = dict(every=every, epochs=epochs, subsample=subsample)
            trackers = {
                "test": RepresentationTracker(model, x=dataset.x_test, y=dataset.y_test,
                                              measures=measures, **common),
                "train": RepresentationTracker(model, x=dataset.x_train, y=dataset.y_train,
                                               measures=("dse",), **common)}
            if fixed_sigma is not None:
                trackers["test, fixed σ"] = RepresentationTracker(
                    model, layers=[layers[-2] if len(layers) > 1 else layers[-1]],
                    x=dataset.x_test, y=dataset.y_test, measures=("dse",),
                    measure_knobs={"dse": {"sigma": float(fixed_sigma)}}, **common)
            result = train.train(model, dataset, epochs=epochs, lr=lr, batch_size=batch_size,
                                 seed=seed, callbacks=[t.as_callback() for t in
                                                       trackers.values()])
            for where, tracker in trackers.items():
                frames.append(tracker.frame().assign(label_noise=noise, seed=seed,
                                                     measured_on=where))
            if progress is not None:
                last = result.history[-1]
                progress(f"label noise {noise:g}, seed {seed}: train accuracy "
                         f"{last['train_accuracy']:.3f}, test accuracy "
                         f"{last['test_accuracy']:.3f}, {result.seconds:.0f} s")
    return pd.concat(frames, ignore_index=True)
