"""One bottleneck training run: dataset, :class:`~workbench.ib.models.BottleneckNet`, an IB
loss, the :class:`~workbench.ib.tracker.IBPlane`, :func:`workbench.training.loop.train`.

:func:`run_ib_experiment` has the calling convention of
:func:`workbench.training.experiments.run_experiment` (``callbacks``, ``tracker_callbacks``,
``stop_event``, ``pause_event``, ``store``, ``run``; returns ``(tracker, result, config)``), so
the live apps' :class:`~workbench.training.session.TrainingSession` runs it unchanged.
:func:`summary` turns a finished run into the record the sweep tables print.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..errors import InputError
from ..units import check_units, convert
from .channel import channel_mi
from .tracker import DEFAULT_ROWS, IBPlane

#: Settings a run starts from (MNIST-1D scale; the CLI and notebook shrink epochs at CI scale).
DEFAULTS = {"data": "mnist1d", "objective": "vib", "beta": 1e-3, "hidden": "128-128", "k": 8,
            "epochs": 30, "lr": 1e-3, "batch_size": 128}
#: Registered estimator for I(T;Y) on one sampled T (continuous T, discrete Y: GKOV's kNN).
TY_ESTIMATOR = "mixed"


@functools.lru_cache(maxsize=8)
def load_dataset(name: str, seed: int = 0):
    """:func:`workbench.training.datasets.load`, kept: generating MNIST-1D takes seconds and a
    sweep trains many models on one seed's data (the arrays are only read)."""
    from ..training import datasets

    return datasets.load(name, seed=seed)


def widths_for(dataset, hidden: str) -> str:
    """Encoder widths: the dataset's features, then ``hidden``."""
    hidden = str(hidden).strip("-")
    return f"{dataset.n_features}-{hidden}" if hidden else str(dataset.n_features)


def run_ib_experiment(data: Any = None, objective: str | None = None, beta: float | None = None,
                      *, hidden: str | None = None, k: int | None = None,
                      epochs: int | None = None, lr: float | None = None,
                      batch_size: int | None = None, optimizer: str = "adam", seed: int = 0,
                      every: Any = 1, units: str = "bits",
                      subsample: int | None = DEFAULT_ROWS, shared_variance: bool | None = None,
                      loss_options: dict | None = None, lower: bool = False, conv: int = 0,
                      store=None,
                      run: str | None = None, callbacks=(), tracker_callbacks=(),
                      stop_event=None, pause_event=None, threads: int | None = 1):
    """Train a bottleneck network with ``objective`` at ``beta`` (loss = prediction + β·C, a
    larger β compresses more) and track its bottleneck; returns ``(tracker, result, config)``.

    ``shared_variance`` defaults to True for the nonlinear IB (Kolchinsky et al.'s
    homoscedastic noise) and False otherwise (VIB's per-input variance).
    """
    from ..training import datasets
    from ..training import loop as train
    from .losses import make_loss
    from .models import bottleneck_net

    s = {key: DEFAULTS[key] if value is None else value for key, value in
         {"data": data, "objective": objective, "beta": beta, "hidden": hidden, "k": k,
          "epochs": epochs, "lr": lr, "batch_size": batch_size}.items()}
    units = check_units(units)
    dataset = (s["data"] if isinstance(s["data"], datasets.Dataset)
               else load_dataset(s["data"], seed))
    loss = make_loss(s["objective"], s["beta"], **dict(loss_options or {}))
    if shared_variance is None:
        shared_variance = loss.objective.startswith("nonlinear_ib")
    widths = widths_for(dataset, s["hidden"])
    model = bottleneck_net(widths, k=int(s["k"]), n_out=dataset.n_classes,
                           shared_variance=shared_variance, seed=seed, conv=conv)
    config = ib_config(dataset, s, loss, widths=widths, optimizer=optimizer, seed=seed,
                       every=every, units=units, subsample=subsample,
                       shared_variance=shared_variance, conv=conv)
    tracker = IBPlane(model, x=dataset.x, y=dataset.y, loss=loss, every=every, units=units,
                      store=store, callbacks=tracker_callbacks, subsample=subsample, seed=seed,
                      run=run, epochs=s["epochs"], config=config, lower=lower)
    result = train.train(model, dataset, epochs=s["epochs"], lr=s["lr"], optimizer=optimizer,
                         batch_size=s["batch_size"], seed=seed,
                         callbacks=[tracker.as_callback(), *callbacks], stop_event=stop_event,
                         pause_event=pause_event, threads=threads, objective=loss.step_loss)
    if tracker.store is not None:
        tracker.store.update_config(status="stopped" if result.stopped else "finished",
                                    epochs_completed=result.epochs_completed,
                                    train_seconds=result.seconds)
    tracker.model_, tracker.dataset_, tracker.loss_ = model, dataset, loss
    return tracker, result, config


def ib_config(dataset, s: dict, loss, **extra) -> dict:
    """``config.json`` of a bottleneck run: everything that reproduces it."""
    import torch

    from .. import __version__

    conv = f"conv{extra['conv']}:" if extra.get("conv") else ""
    arch = f"{conv}{extra['widths']}-[{s['k']}]-{dataset.n_classes}"
    return {"kind": "ib", "data": dataset.name, "data_info": dataset.info, "arch": arch,
            "objective": loss.objective, "beta": loss.beta, "compression": loss.compression_kind,
            "hidden": s["hidden"], "k": int(s["k"]), "epochs": int(s["epochs"]), "lr": s["lr"],
            "batch_size": int(s["batch_size"]), "activation": "relu",
            "measured": "bottleneck channel N(mu(x), diag sigma^2(x)), pairwise-distance "
                        "bounds (Kolchinsky & Tracey 2017)", **extra,
            "torch": torch.__version__, "workbench": __version__}


def sampled_ty(model, x, y, estimator: str = TY_ESTIMATOR, units: str = "bits",
               seed: int = 0) -> float:
    """I(T;Y) by the registered ``estimator`` on one seeded sample T ~ p(t|x) of every row."""
    import torch

    from ..api import mutual_info
    from .losses import reparameterise

    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model.forward_ib(torch.as_tensor(np.asarray(x), dtype=torch.float32))
            t = reparameterise(out.mean, out.logvar, seed=seed)
    finally:
        model.train(was)
    return float(mutual_info(t.numpy().astype(np.float64), np.asarray(y).reshape(-1, 1),
                             method=estimator, units=units))


def summary(tracker: IBPlane, result, config: dict, ty_estimator: str | None = TY_ESTIMATOR
            ) -> dict:
    """The record of a finished run: final I(X;T) (channel upper bound) and its lower bound,
    I(T;Y) by ``ty_estimator`` on a sampled T (and by the channel), the objective's bound, the
    accuracies, the units and what measured what."""
    if not tracker.rows:
        raise InputError("the run recorded nothing")
    frame = tracker.frame()
    last = frame[frame["epoch"] == frame["epoch"].max()]
    value = dict(zip(last["quantity"] + "|" + last["layer"], last["value"]))
    final = result.history[-1] if result.history else {}
    record = {"objective": config["objective"], "beta": config["beta"],
              "seed": config["seed"], "epochs": final.get("epoch"),
              "I_XT": value.get("I(X;T)|bottleneck"),
              "I_XT_lower": None,
              "I_TY": None, "I_TY_channel": value.get("I(T;Y)|bottleneck"),
              "bound_XT": value.get("bound|model"),
              "train_accuracy": final.get("train_accuracy"),
              "test_accuracy": final.get("test_accuracy"), "units": tracker.units,
              "I_XT_estimator": "channel (pairwise KL upper bound; lower: Bhattacharyya)",
              "I_TY_estimator": "channel", "bound_kind": config["compression"],
              "rows_measured": len(tracker.x), "run": tracker.run_id}
    mean, logvar = tracker.channel()
    record["I_XT_lower"] = convert(channel_mi(mean, logvar, "lower"), "nats", tracker.units)
    if ty_estimator:
        record["I_TY"] = sampled_ty(tracker.model, tracker.x, tracker.y, ty_estimator,
                                    tracker.units, seed=config["seed"])
        record["I_TY_estimator"] = f"{ty_estimator} on one sampled T"
    else:
        record["I_TY"] = record["I_TY_channel"]
    return {key: (float(v) if isinstance(v, (np.floating, np.integer)) else v)
            for key, v in record.items()}
