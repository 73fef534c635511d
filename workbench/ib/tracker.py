"""The information plane of a stochastic bottleneck, measured from its own noise each epoch.

:class:`IBPlane` hooks ``bottleneck.stats`` (the channel's ``[μ, log σ²]``, see
:mod:`workbench.ib.models`) on fixed rows and emits tidy rows (layer ``"bottleneck"``,
estimator ``"channel"``): I(X;T) (pairwise-KL upper bound, :func:`workbench.ib.channel`),
``"I(X;T) lower"`` (Bhattacharyya lower bound), I(T;Y) and H(T) (pairwise estimates), plus,
on layer ``"model"``, ``"bound"``: the objective's own compression term C on the same rows
(nats converted to ``units``) and the usual loss / accuracy rows.

Why measure from the noise: T is a mixture of the n Gaussians the encoder outputs, so its
information is defined without binning or added noise of our choosing (Saxe et al. 2018,
Goldfeld et al. 2019 measure noisy networks the same way); the pairwise bounds bracket it.
X is uniform over the rows measured, so I(X;T) ≤ log n: measure on enough rows (default
2000 of train + test, a seeded subset) for the ceiling (11 bits) not to bind.
"""
from __future__ import annotations

import math

import numpy as np

from ..tracking.base import EpochTracker, labelled_rows
from ..units import check_units, convert
from . import channel

LAYER = "bottleneck"
ESTIMATOR = "channel"
#: Rows measured by default (train + test, seeded subset).
DEFAULT_ROWS = 2000


def channel_terms(mean, logvar, y, units: str = "bits", lower: bool = True) -> dict:
    """I(X;T) (upper and, with ``lower``, Bhattacharyya lower bound), I(T;Y) and H(T) of the
    Gaussian channel, X uniform over the rows, in ``units``."""
    mean, logvar = channel.check_channel(mean, logvar)
    a, b = channel.pairwise_log_terms(mean, logvar, "upper", groups=y)
    h_cond = 0.5 * float((logvar + math.log(2 * math.pi * math.e)).sum(axis=1).mean())
    nats = {"I(X;T)": max(0.0, -float(a.mean())), "I(T;Y)": max(0.0, float(np.mean(b - a))),
            "H(T)": h_cond - float(a.mean())}
    if lower:
        nats["I(X;T) lower"] = channel.channel_mi(mean, logvar, "lower")
    return {q: convert(v, "nats", units) for q, v in nats.items()}


class IBPlane(EpochTracker):
    """Per-epoch information plane of a :class:`~workbench.ib.models.BottleneckNet`'s
    bottleneck (see the module docstring). ``loss`` (an :class:`~workbench.ib.losses.IBLoss`)
    adds its compression term C as the ``bound`` row; ``lower=True`` adds the Bhattacharyya
    lower bound each epoch (about three times the cost of the rest)."""

    def __init__(self, model, x=None, y=None, loss=None, every=1, units: str = "bits",
                 store=None, callbacks=(), subsample: int | None = DEFAULT_ROWS, seed: int = 0,
                 run: str | None = None, epochs: int | None = None, config: dict | None = None,
                 lower: bool = False):
        self.units = check_units(units)
        x, y = labelled_rows(x, y, subsample, seed)
        self.y, self.loss, self.lower = y, loss, lower
        super().__init__(model, ["bottleneck.stats"], x, every=every, epochs=epochs, store=store,
                         callbacks=callbacks, run=run, config=config)

    def measure(self, acts: dict, epoch: int) -> list[dict]:
        stats = acts["bottleneck.stats"].astype(np.float64)
        k = stats.shape[1] // 2
        mean, logvar = stats[:, :k], stats[:, k:]
        values = channel_terms(mean, logvar, self.y, self.units, self.lower)
        rows = [{"run": self.run_id, "epoch": epoch, "layer": LAYER, "layer_index": 1,
                 "quantity": q, "estimator": ESTIMATOR, "value": float(v), "units": self.units,
                 "seconds": 0.0} for q, v in values.items()]
        bound = self.bound(mean, logvar)
        if bound is not None and math.isfinite(bound):
            rows.append({"run": self.run_id, "epoch": epoch, "layer": "model", "layer_index": 0,
                         "quantity": "bound", "estimator": "", "value": bound,
                         "units": self.units, "seconds": 0.0})
        return rows

    def channel(self) -> tuple[np.ndarray, np.ndarray]:
        """The model's ``(mean, logvar)`` on the measured rows now."""
        from ..tracking.probes import capture

        stats = capture(self.model, self.x, ["bottleneck.stats"])["bottleneck.stats"]
        k = stats.shape[1] // 2
        return stats[:, :k].astype(np.float64), stats[:, k:].astype(np.float64)

    def bound(self, mean: np.ndarray, logvar: np.ndarray) -> float | None:
        """The objective's compression term on the measured rows (in ``units``), or None."""
        if self.loss is None:
            return None
        return objective_bound(self.loss, self.model, self.x, mean, logvar, self.units)


def objective_bound(loss, model, x, mean, logvar, units: str = "bits") -> float:
    """C of ``loss`` evaluated on these rows (eval mode: T sampled once from the channel with
    a fixed seed, for the losses that read a sample)."""
    import torch

    from .losses import BottleneckOutput, reparameterise

    with torch.no_grad():
        m = torch.as_tensor(mean, dtype=torch.float32)
        lv = torch.as_tensor(logvar, dtype=torch.float32)
        t = reparameterise(m, lv, seed=0)
        out = BottleneckOutput(None, m, lv, t, torch.as_tensor(np.asarray(x), dtype=torch.float32))
        c = float(loss.compression(out))
    return convert(c, "nats", units)
