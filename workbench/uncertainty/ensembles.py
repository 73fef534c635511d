"""Predictive distributions to decompose: MC-dropout sampling of any torch classifier, and a
small seeded two-moons demo (a deep ensemble or MC dropout) with epistemic uncertainty that grows
away from the data."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import InputError
from ..torch_utils import seeded, torch_threads
from ..units import check_units
from ..validation import to_numpy
from .decomposition import Decomposition, _is_tensor, decompose

_DROPOUT = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.Dropout3d,
            torch.nn.AlphaDropout, torch.nn.FeatureAlphaDropout)


def mc_dropout_probs(model: torch.nn.Module, x: Any, samples: int = 30, seed: int = 0, *,
                     logits: bool = True, batch_size: int | None = None) -> torch.Tensor:
    """Predictive distributions from ``samples`` stochastic forward passes with dropout on.

    Only dropout modules are switched to training mode (BatchNorm and the rest stay in eval,
    as MC dropout prescribes; Gal & Ghahramani 2016); every module's mode is restored after.
    ``logits=True`` applies softmax to the model's outputs; pass ``logits=False`` if the model
    already returns probabilities. The torch RNG is seeded inside a forked state, so the same
    seed gives the same samples and the caller's global RNG is untouched.

    Returns a tensor (samples, n, classes) ready for :func:`decompose`.
    """
    if samples < 2:
        raise InputError(f"samples={samples}; MC dropout needs at least 2 passes to measure "
                         "disagreement (30-100 is common)")
    drops = [m for m in model.modules() if isinstance(m, _DROPOUT)]
    if not drops or all(m.p == 0 for m in drops):
        raise InputError("the model has no dropout layer with p > 0, so every pass would be "
                         "identical (epistemic = 0); add nn.Dropout or use an ensemble")
    xt = x if _is_tensor(x) else torch.as_tensor(to_numpy(x, "x"))
    param0 = next(model.parameters(), None)
    if param0 is not None:
        xt = xt.to(device=param0.device, dtype=param0.dtype if xt.is_floating_point()
                   else xt.dtype)
    modes = {m: m.training for m in model.modules()}
    model.eval()
    for m in drops:
        m.train()
    chunks = [xt] if batch_size is None else list(torch.split(xt, batch_size))
    try:
        with seeded(seed):
            with torch.no_grad():
                out = torch.stack([torch.cat([model(c) for c in chunks]) for _ in range(samples)])
    finally:
        for m, mode in modes.items():
            m.train(mode)
    return out.softmax(-1) if logits else out


# ---------------------------------------------------------------------------------------------
# Ensemble demo on two moons
# ---------------------------------------------------------------------------------------------
@dataclass
class EnsembleDemo:
    """Result of :func:`ensemble_demo`: training data, grid, decomposition on the grid."""

    X: np.ndarray              # (n, 2) training inputs
    y: np.ndarray              # (n,) labels
    xs: np.ndarray             # (g,) grid x coordinates
    ys: np.ndarray             # (g,) grid y coordinates
    grid: np.ndarray           # (g*g, 2) grid points, x fastest
    probs: np.ndarray          # (members, g*g, 2) member predictions on the grid
    result: Decomposition      # on the grid, numpy arrays
    distance: np.ndarray       # (g*g,) distance from each grid point to the nearest training point
    train_accuracy: list[float]

    def frame(self) -> pd.DataFrame:
        """Tidy frame: x, y, distance, total, aleatoric, epistemic, units (one row per point)."""
        out = self.result.frame()
        out.insert(0, "y", self.grid[:, 1])
        out.insert(0, "x", self.grid[:, 0])
        out.insert(2, "distance", self.distance)
        return out

    def maps(self) -> dict[str, np.ndarray]:
        """The three uncertainty maps as (g, g) arrays, rows along y, columns along x."""
        g = len(self.xs)
        return {k: getattr(self.result, k).reshape(g, g)
                for k in ("total", "aleatoric", "epistemic")}


def _mlp(hidden: Sequence[int], dropout: float) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    width = 2
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        if dropout > 0:
            layers.append(torch.nn.Dropout(dropout))
        width = h
    layers.append(torch.nn.Linear(width, 2))
    return torch.nn.Sequential(*layers)


def _fit(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(steps):  # full batch: n is a few hundred points
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    model.eval()


def ensemble_demo(seed: int = 0, *, method: str = "ensemble", members: int = 5, n: int = 200,
                  noise: float = 0.15, hidden: Sequence[int] = (32, 32), steps: int = 300,
                  lr: float = 0.01, bootstrap: bool = True, dropout: float = 0.2,
                  samples: int = 30, grid_size: int = 60,
                  extent: tuple[float, float, float, float] = (-3.0, 4.0, -2.5, 3.0),
                  units: str = "bits", num_threads: int = 1) -> EnsembleDemo:
    """Train small MLPs on two moons and decompose their predictive uncertainty on a grid.

    ``method="ensemble"``: ``members`` ReLU MLPs (``hidden`` widths) trained full-batch with
    Adam, member m from seed ``1000 * seed + m`` and, with ``bootstrap=True``, on its own
    bootstrap resample of the ``n`` points. ``method="mc_dropout"``: one MLP with dropout
    ``dropout`` after each hidden layer, then ``samples`` MC-dropout passes
    (:func:`mc_dropout_probs`). Data: ``sklearn.datasets.make_moons`` (generated locally,
    ``noise``). The decomposition is evaluated on a ``grid_size`` × ``grid_size`` grid over
    ``extent`` = (xmin, xmax, ymin, ymax). Training uses ``num_threads`` torch threads
    (restored after; 0 leaves the setting).

    Members agree near the data (epistemic ≈ 0) and extrapolate differently away from it, so
    epistemic uncertainty grows with the distance to the training set; aleatoric uncertainty
    concentrates on the class boundary, where the data themselves overlap.
    """
    from scipy.spatial import cKDTree
    from sklearn.datasets import make_moons

    check_units(units)
    if method not in ("ensemble", "mc_dropout"):
        raise InputError(f"method must be 'ensemble' or 'mc_dropout', got {method!r}")
    if method == "ensemble" and members < 2:
        raise InputError(f"members={members}; an ensemble needs at least 2 members")
    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    xs = np.linspace(extent[0], extent[1], grid_size)
    ys = np.linspace(extent[2], extent[3], grid_size)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    rng = np.random.default_rng(seed)
    gt = torch.as_tensor(grid, dtype=torch.float32)
    Xall = torch.as_tensor(X, dtype=torch.float32)
    probs, accs = [], []
    with seeded(seed), torch_threads(num_threads):
        for m in range(members if method == "ensemble" else 1):
            torch.manual_seed(seed * 1000 + m)
            idx = rng.integers(0, n, n) if bootstrap and method == "ensemble" else np.arange(n)
            model = _mlp(hidden, dropout if method == "mc_dropout" else 0.0)
            _fit(model, Xall[idx], torch.as_tensor(y[idx]), steps, lr)
            with torch.no_grad():
                accs.append(float((model(Xall).argmax(-1).numpy() == y).mean()))
                if method == "ensemble":
                    probs.append(model(gt).softmax(-1).double().numpy())
        if method == "mc_dropout":
            probs = list(mc_dropout_probs(model, gt, samples, seed).double().numpy())
    probs_arr = np.stack(probs)
    distance = cKDTree(X).query(grid)[0]
    return EnsembleDemo(X, y, xs, ys, grid, probs_arr, decompose(probs_arr, units), distance,
                        accs)
