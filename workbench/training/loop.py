"""A small, deterministic training loop with epoch callbacks, pause and stop.

``train(model, dataset, epochs=..., callbacks=[plane.as_callback()])`` trains a classifier with
mini-batch Adam or SGD. It is meant for the small networks of the information plane; bring your
own loop for anything bigger and call :meth:`InformationPlane.record` from it.

* **Callbacks** are called as ``cb(epoch, model, metrics)`` — once with ``epoch=0`` before the
  first update (the untrained network), then after every epoch. ``metrics`` holds ``epoch``,
  ``train_loss``, ``train_accuracy``, ``test_loss``, ``test_accuracy`` (full-data evaluation in
  eval mode) and ``seconds`` (wall time of the epoch's updates). Objects with an
  ``on_epoch_end(epoch, model, metrics)`` method work too. A callback that returns ``False``
  stops training.
* **Pause / stop**: ``stop_event`` and ``pause_event`` are :class:`threading.Event` objects,
  checked between mini-batches, so a UI running ``train`` in a thread gets an answer within one
  batch (milliseconds here). While ``pause_event`` is set the loop sleeps in 50 ms steps.
* **Determinism**: on CPU, the same ``seed`` (with the same initial model) gives the same
  numbers: batch order comes from a ``torch.Generator`` seeded with ``seed``, and the global
  torch RNG (dropout, ...) is seeded inside a forked RNG state, so the caller's RNG is untouched.
* **Loss**: negative log-likelihood of the probabilities for models that set
  ``outputs_probabilities = True`` (:func:`workbench.training.models.mlp`), cross-entropy of logits
  otherwise.
* **Objective hook**: ``objective(model, x_batch, y_batch) -> loss tensor`` replaces
  ``loss_fn(model(x), y)`` for the updates only (evaluation still reports ``loss_fn``): an
  information-bottleneck loss needs more than the outputs
  (:meth:`workbench.ib.losses.IBLoss.step_loss`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..torch_utils import seeded, torch_threads
from .datasets import Dataset

OPTIMIZERS = ("adam", "sgd")
#: Probabilities are clamped here before the log so a saturated softmax never gives log(0).
_TINY = 1e-30


@dataclass
class TrainResult:
    """What :func:`train` did: one metrics dict per recorded epoch (epoch 0 first)."""

    history: list[dict] = field(default_factory=list)
    stopped: bool = False
    seconds: float = 0.0

    @property
    def epochs_completed(self) -> int:
        return int(self.history[-1]["epoch"]) if self.history else 0

    def frame(self):
        """The history as a pandas DataFrame (one row per epoch)."""
        import pandas as pd

        return pd.DataFrame(self.history)


def _as_tensors(dataset, device) -> tuple[torch.Tensor, ...]:
    if isinstance(dataset, Dataset):
        parts = (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
    elif isinstance(dataset, (tuple, list)) and len(dataset) in (2, 4):
        parts = tuple(dataset) if len(dataset) == 4 else (*dataset, dataset[0][:0], dataset[1][:0])
    else:
        raise InputError("dataset must be a workbench Dataset or a tuple (x_train, y_train[, "
                         "x_test, y_test])")
    xs = [torch.as_tensor(np.asarray(p, dtype=np.float32), device=device) for p in parts[::2]]
    ys = [torch.as_tensor(np.asarray(p).ravel().astype(np.int64), device=device)
          for p in parts[1::2]]
    if len(xs[0]) == 0 or len(xs[0]) != len(ys[0]):
        raise InputError(f"training data need rows and one label per row; got x "
                         f"{tuple(xs[0].shape)} and y {tuple(ys[0].shape)}")
    return xs[0], ys[0], xs[1], ys[1]


def loss_function(model) -> Callable:
    """The loss :func:`train` uses for ``model`` (see the module docstring)."""
    if getattr(model, "outputs_probabilities", False):
        return lambda out, y: F.nll_loss(torch.log(out.clamp_min(_TINY)), y)
    return F.cross_entropy


@torch.no_grad()
def evaluate(model, x: torch.Tensor, y: torch.Tensor, loss_fn=None,
             batch_size: int = 8192) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)`` in eval mode (NaN when empty)."""
    if len(x) == 0:
        return float("nan"), float("nan")
    loss_fn = loss_fn or loss_function(model)
    was_training = model.training
    model.eval()
    try:
        total, correct = 0.0, 0
        for start in range(0, len(x), batch_size):
            out = model(x[start:start + batch_size])
            yb = y[start:start + batch_size]
            total += float(loss_fn(out, yb)) * len(yb)
            correct += int((out.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    return total / len(x), correct / len(x)


def _make_optimizer(name: str, params, lr: float, momentum: float, weight_decay: float):
    # foreach: one fused update over all parameter tensors (the per-tensor loop dominates the
    # step time of these tiny networks)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               foreach=True)
    raise InputError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def _call(cb, epoch: int, model, metrics: dict) -> bool:
    fn = getattr(cb, "on_epoch_end", cb)
    return fn(epoch, model, dict(metrics)) is not False


def _wait_while_paused(pause_event, stop_event) -> None:
    while pause_event is not None and pause_event.is_set():
        if stop_event is not None and stop_event.is_set():
            return
        time.sleep(0.05)


def train(model: torch.nn.Module, dataset, epochs: int = 100, lr: float = 1e-3,
          optimizer: str = "adam", batch_size: int = 256, seed: int = 0,
          callbacks: Iterable[Any] = (), stop_event: threading.Event | None = None,
          pause_event: threading.Event | None = None, momentum: float = 0.0,
          weight_decay: float = 0.0, device: str = "cpu", loss_fn=None,
          threads: int | None = 1, objective: Callable | None = None) -> TrainResult:
    """Train ``model`` on ``dataset`` for ``epochs`` epochs; see the module docstring.

    ``threads``: torch CPU threads while training, restored afterwards (default 1: for networks
    this small, extra threads only add synchronisation, up to 25x slower on a busy 2-core
    machine); ``None`` leaves the setting alone.
    """
    if epochs < 0 or batch_size < 1 or not lr > 0:
        raise InputError(f"need epochs >= 0, batch_size >= 1 and lr > 0; got epochs={epochs}, "
                         f"batch_size={batch_size}, lr={lr}")
    with torch_threads(threads):
        return _train(model, dataset, epochs, lr, optimizer, batch_size, seed, callbacks,
                      stop_event, pause_event, momentum, weight_decay, device, loss_fn,
                      objective)


def _train(model, dataset, epochs, lr, optimizer, batch_size, seed, callbacks, stop_event,
           pause_event, momentum, weight_decay, device, loss_fn, objective=None) -> TrainResult:
    model.to(device)
    x_tr, y_tr, x_te, y_te = _as_tensors(dataset, device)
    loss_fn = loss_fn or loss_function(model)
    step_loss = objective or (lambda m, xb, yb: loss_fn(m(xb), yb))
    callbacks = list(callbacks)
    result = TrainResult()
    start_all = time.perf_counter()
    gen = torch.Generator().manual_seed(int(seed))
    opt = _make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    n = len(x_tr)

    def finish_epoch(epoch: int, seconds: float) -> bool:
        tr_loss, tr_acc = evaluate(model, x_tr, y_tr, loss_fn)
        te_loss, te_acc = evaluate(model, x_te, y_te, loss_fn)
        metrics = {"epoch": epoch, "train_loss": tr_loss, "train_accuracy": tr_acc,
                   "test_loss": te_loss, "test_accuracy": te_acc, "seconds": seconds}
        result.history.append(metrics)
        keep_going = True
        for cb in callbacks:
            keep_going = _call(cb, epoch, model, metrics) and keep_going
        return keep_going

    with seeded(seed):
        if not finish_epoch(0, 0.0):
            result.stopped = True
        for epoch in range(1, epochs + 1):
            if result.stopped:
                break
            model.train()
            t0 = time.perf_counter()
            order = torch.randperm(n, generator=gen).to(device)
            for start in range(0, n, batch_size):
                _wait_while_paused(pause_event, stop_event)
                if stop_event is not None and stop_event.is_set():
                    result.stopped = True
                    break
                idx = order[start:start + batch_size]
                opt.zero_grad(set_to_none=True)
                loss = step_loss(model, x_tr[idx], y_tr[idx])
                loss.backward()
                opt.step()
            if result.stopped:  # an interrupted epoch is not reported as complete
                break
            if not finish_epoch(epoch, time.perf_counter() - t0):
                result.stopped = True
    result.seconds = time.perf_counter() - start_all
    return result
