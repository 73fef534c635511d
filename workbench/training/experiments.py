"""One-call experiments: build a dataset and a network, attach a tracker, train.

Used by the CLI, the notebooks and the live apps (through
:class:`workbench.training.session.TrainingSession`). ``config`` dicts written to a run's
``config.json`` hold everything needed to reproduce the run.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..tracking.base import EpochTracker, check_every
from ..tracking.binning_rules import resolve_binning_knobs
from ..tracking.representation import (
    DEFAULT_MEASURES,
    DEFAULT_SUBSAMPLE,
    RepresentationTracker,
    check_measures,
)
from ..validation import check_seed
from .mnist1d_plane import CNN_ARCH, CNN_SUBSAMPLE, check_cnn_data, is_cnn
from .mnist1d_plane import ESTIMATOR as CNN_ESTIMATOR


def default_arch(data) -> str:
    """``12-10-7-5-4-3-2`` for the 12-bit task, else ``d-10-7-5-4-3-k`` for d features and
    k classes."""
    if data.name == "tishby12":
        return "12-10-7-5-4-3-2"
    return f"{data.n_features}-10-7-5-4-3-{data.n_classes}"


def checked_arch(dataset, arch: str | None) -> str:
    """``arch`` (default: :func:`default_arch`) after checking that its first and last widths
    match the dataset's features and classes; ``"cnn"`` (the 1-D CNN,
    :mod:`workbench.training.mnist1d_plane`) passes for MNIST-1D only."""
    from . import models

    if is_cnn(arch):  # the MNIST-1D CNN instead of layer widths
        check_cnn_data(dataset)
        return CNN_ARCH
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

    from .. import __version__

    return {"data": dataset.name, "data_info": dataset.info, "arch": arch,
            "activation": activation, "epochs": epochs, "lr": lr, "optimizer": optimizer,
            "batch_size": batch_size, "seed": seed, "weight_decay": weight_decay,
            "units": units, "every": check_every(every), "subsample": subsample, **extra,
            "torch": torch.__version__, "workbench": __version__}


def train_tracked(tracker: EpochTracker, dataset, config: dict, *, callbacks=(),
                  stop_event=None, pause_event=None, threads: int | None = 1, **final_config):
    """Train ``tracker.model`` on ``dataset`` with the settings in ``config`` (from
    :func:`experiment_config`) and ``tracker`` recording; returns the
    :class:`~workbench.training.loop.TrainResult`.

    Afterwards the tracker's store run (if any) gets ``status`` (``"finished"`` or
    ``"stopped"``), ``epochs_completed``, ``train_seconds`` and ``final_config`` in its
    config, and the tracker keeps ``model_`` and ``dataset_`` for the caller.
    """
    from . import loop as train

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


TRACKERS = ("plane", "representation")
#: The settings each tracker's experiment starts from: the information plane's classic 12-bit
#: tanh network (Shwartz-Ziv & Tishby 2017), and a ReLU MLP on digits for representations.
DEFAULTS = {
    "plane": {"data": "tishby12", "activation": "tanh", "epochs": 300, "lr": 0.004,
              "batch_size": 256, "subsample": None},
    "representation": {"data": "digits", "activation": "relu", "epochs": 100, "lr": 1e-3,
                       "batch_size": 128, "subsample": DEFAULT_SUBSAMPLE},
}
#: Tracker-specific options of :func:`run_experiment` and their defaults.
OPTIONS = {
    "plane": {"estimators": ("binning",), "estimator_knobs": None, "n_bins": 30,
              "bin_rule": "auto"},
    "representation": {"measures": DEFAULT_MEASURES, "measure_knobs": None,
                       "measure_on": "all"},
}


def run_experiment(data=None, arch: str | None = None, *, tracker: str = "plane",
                   activation: str | None = None, epochs: int | None = None,
                   lr: float | None = None, optimizer: str = "adam",
                   batch_size: int | None = None, seed: int = 0, every: Any = 1,
                   units: str = "bits", subsample: Any = "default", weight_decay: float = 0.0,
                   label_noise: float = 0.0, train_fraction: float | None = None, store=None,
                   run: str | None = None, callbacks=(), tracker_callbacks=(), stop_event=None,
                   pause_event=None, threads: int | None = 1, **options):
    """Build the dataset and an MLP, attach a tracker, train; returns
    ``(tracker, train_result, config)``.

    ``tracker`` is ``"plane"`` (an :class:`~workbench.tracking.plane.InformationPlane`) or
    ``"representation"`` (a :class:`~workbench.tracking.representation.RepresentationTracker`).
    Settings left at None take that tracker's :data:`DEFAULTS`; ``subsample="default"`` too.
    ``data`` is a :class:`~workbench.training.datasets.Dataset`, a built-in name or a file path;
    ``label_noise`` shuffles that fraction of the training labels (:func:`with_label_noise`);
    ``arch`` defaults to :func:`default_arch`.

    ``callbacks`` get ``(epoch, model, metrics)`` after every epoch of training;
    ``tracker_callbacks`` get a DataFrame of each recorded epoch's new rows. ``config`` (every
    argument that reproduces the run) is written to the store's ``config.json``.

    Tracker options (:data:`OPTIONS`):

    * plane: ``estimators`` (names, ``(name, knobs)`` pairs or instances),
      ``estimator_knobs`` (``{name: knobs}``), ``n_bins`` and ``bin_rule`` (the binning rule,
      :func:`workbench.tracking.binning_rules.resolve_binning_knobs`);
    * representation: ``measures``, ``measure_knobs``, ``measure_on`` (``"all"``,
      ``"train"`` or ``"test"`` rows, :func:`measured_rows`).
    """
    from . import datasets, models

    if tracker not in TRACKERS:
        raise InputError(f"tracker must be one of {TRACKERS}, got {tracker!r}")
    unknown = sorted(set(options) - set(OPTIONS[tracker]))
    if unknown:
        raise InputError(f"{unknown} are not options of the {tracker!r} experiment; its options "
                         f"are {sorted(OPTIONS[tracker])}")
    given = {"data": data, "activation": activation, "epochs": epochs, "lr": lr,
             "batch_size": batch_size, "subsample": subsample}
    s = {k: (DEFAULTS[tracker][k] if v is None or (k == "subsample" and v == "default") else v)
         for k, v in given.items()}
    if subsample is None:
        s["subsample"] = None
    opts = {**OPTIONS[tracker], **options}
    cnn = is_cnn(arch)
    if cnn and tracker == "plane":  # binning keeps all 5000 continuous rows apart: log2(n)
        if "estimators" not in options:
            opts["estimators"] = (CNN_ESTIMATOR,)
        if subsample == "default":
            s["subsample"] = CNN_SUBSAMPLE
    every = check_every(every)  # once: a generator is read here, not again by the tracker
    kwargs = {} if train_fraction is None else {"train_fraction": train_fraction}
    clean = (s["data"] if isinstance(s["data"], datasets.Dataset)
             else datasets.load(s["data"], seed=seed, **kwargs))
    dataset = with_label_noise(clean, label_noise, seed) if label_noise else clean
    arch = checked_arch(dataset, arch)
    parts = _plane_parts if tracker == "plane" else _representation_parts
    extra, make, final = parts(dataset, s["activation"], seed, s["subsample"], threads, **opts)
    config = experiment_config(
        dataset, arch, activation=s["activation"], epochs=s["epochs"], lr=s["lr"],
        optimizer=optimizer, batch_size=s["batch_size"], seed=seed, weight_decay=weight_decay,
        units=units, every=every, subsample=s["subsample"], tracker=tracker,
        label_noise=label_noise, **extra)
    model = (models.cnn1d(dataset.n_features, dataset.n_classes, activation=s["activation"],
                          seed=seed) if cnn
             else models.mlp(arch, activation=s["activation"], seed=seed))
    made = make(model, every=every, units=units, store=store, callbacks=tracker_callbacks,
                run=run, epochs=s["epochs"], config=config)
    result = train_tracked(made, dataset, config, callbacks=callbacks, stop_event=stop_event,
                           pause_event=pause_event, threads=threads, **final(made))
    return made, result, config


def _plane_parts(dataset, activation, seed, subsample, threads, *, estimators, estimator_knobs,
                 n_bins, bin_rule):
    from ..tracking.feature_plane import FeaturePlane
    from ..tracking.plane import InformationPlane
    from .models import CNN1D

    estimators = [estimators] if isinstance(estimators, str) else list(estimators)
    knobs = resolve_binning_knobs(estimators, estimator_knobs, activation, n_bins, bin_rule)
    extra = {"estimators": [e if isinstance(e, str) else list(e) for e in estimators],
             "estimator_knobs": knobs, "bin_rule": bin_rule, "n_bins": n_bins,
             "init": "truncated normal N(0, 1/fan_in), zero bias (Saxe et al. 2018)",
             "measured_on": "all rows (train + test)"}

    def make(model, **common):
        # the CNN's feature maps are measured against the input signals, not row ids
        plane = FeaturePlane if isinstance(model, CNN1D) else InformationPlane
        return plane(model, x=dataset.x, y=dataset.y, estimators=estimators,
                     estimator_knobs=knobs, subsample=subsample, seed=seed, **common)

    return extra, make, lambda plane: {"estimator_labels": [e.label() for e in plane.estimators]}


def _representation_parts(dataset, activation, seed, subsample, threads, *, measures,
                          measure_knobs, measure_on):
    from ..tracking.representation import RepresentationTracker

    measures = check_measures(measures)
    x, y = measured_rows(dataset, measure_on)
    extra = {"measures": measures, "measure_knobs": measure_knobs or {},
             "measure_on": measure_on, "kind": "representation_entropy"}

    def make(model, **common):
        return RepresentationTracker(model, x=x, y=y, measures=measures,
                                     measure_knobs=measure_knobs, subsample=subsample, seed=seed,
                                     threads=threads, **common)

    return extra, make, lambda tracker: {"labels": tracker.labels}


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

    from . import datasets, models
    from . import loop as train

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
