"""Predictive uncertainty from an ensemble or MC-dropout: total = aleatoric + epistemic.

Given M predictive distributions p_m(y | x) for each input x (ensemble members, or dropout
masks), with p̄ = (1/M) Σ_m p_m:

* total       H[p̄]                      — entropy of the averaged prediction,
* aleatoric   (1/M) Σ_m H[p_m]          — expected entropy of one member (noise in the data),
* epistemic   H[p̄] − (1/M) Σ_m H[p_m]   — the mutual information I(y; m | x) between the label
  and the member index (disagreement between members; "BALD", Houlsby et al. 2011,
  "Bayesian active learning for classification and preference learning"; decomposition as in
  Depeweg et al. 2018, "Decomposition of uncertainty in Bayesian deep learning for efficient and
  risk-sensitive learning"; MC dropout: Gal & Ghahramani 2016).

By concavity of entropy (Jensen) epistemic ≥ 0, and epistemic ≤ min(log M, log C): M members can
disagree about at most log M nats, and about no more than the label entropy log C.

The helpers :func:`check_distributions` and :func:`categorical_entropy` work along the last axis
of numpy arrays or torch tensors and return the type they were given; attention entropy
(:mod:`workbench.attention`) uses them too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.special import xlogy

from .errors import InputError
from .torch_utils import seeded, torch_threads
from .units import LN2, check_units
from .validation import to_numpy

#: How far a row may sum from 1 before it is rejected, by dtype: softmax in float32 over a
#: thousand entries sums to 1 within ~1e-6, in half precision within ~1e-3.
_ROW_SUM_TOL = {8: 1e-6, 4: 1e-4, 2: 1e-2}


def _is_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def _row_sum_tol(dtype_itemsize: int) -> float:
    return _ROW_SUM_TOL.get(dtype_itemsize, 1e-6)


def check_distributions(probs: Any, name: str = "probs", *, min_ndim: int = 1,
                        what: str = "probability distributions along the last axis",
                        atol: float | None = None):
    """Validate ``probs`` as probability vectors along the last axis and return it as a float
    numpy array or a floating torch tensor (device kept, autograd graph kept).

    Checks: numeric, at least ``min_ndim`` dimensions, non-empty, finite, non-negative, every
    row summing to 1 within ``atol`` (by default 1e-6 for float64, 1e-4 for float32, 1e-2 for
    half precision). Raises :class:`~workbench.errors.InputError` saying what failed and how to
    fix it.
    """
    if _is_tensor(probs):
        if probs.is_complex():
            raise InputError(f"{name} is complex ({probs.dtype}); pass real probabilities")
        out = probs if probs.is_floating_point() else probs.to(torch.get_default_dtype())
        p = out.detach()  # checks need no graph; the returned tensor keeps it (differentiable)
        itemsize = p.element_size()
        lib = torch
    else:
        p = to_numpy(probs, name)
        if p.dtype.kind not in "biuf":
            raise InputError(f"{name} has dtype {p.dtype}; pass real-valued probabilities")
        if p.dtype.kind != "f":
            p = p.astype(np.float64)
        itemsize = p.dtype.itemsize
        lib = np
    shape = tuple(p.shape)
    if p.ndim < min_ndim:
        raise InputError(f"{name} has shape {shape} but must be {what} with at least "
                         f"{min_ndim} dimensions")
    if 0 in shape:
        raise InputError(f"{name} is empty (shape {shape}); pass {what}")
    finite = lib.isfinite(p)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        raise InputError(f"{name} has {bad} NaN or infinite value(s); {what} must be finite "
                         "(a row whose keys/classes are all masked comes out of softmax as NaN:"
                         " drop such rows first)")
    if bool((p < 0).any()):
        raise InputError(f"{name} has negative entries (min {float(p.min()):.3g}); pass "
                         f"probabilities, not logits: apply softmax over the last axis first")
    tol = _row_sum_tol(itemsize) if atol is None else float(atol)
    sums = p.sum(-1)
    worst = float(abs(sums - 1).max())
    if worst > tol:
        raise InputError(f"{name}: rows must sum to 1 over the last axis (size {shape[-1]}), but "
                         f"one is off by {worst:.3g} (tolerance {tol:g}); normalise, e.g. "
                         f"{name} / {name}.sum(-1, keepdims=True), or pass softmax outputs")
    return out if lib is torch else p


def categorical_entropy(probs: Any, units: str = "bits", *, validate: bool = True):
    """Entropy −Σ_c p_c log p_c of each distribution along the last axis (0·log 0 = 0).

    ``probs`` is a numpy array or torch tensor (..., C); the result has shape (...) and the
    same type (torch keeps device and floating dtype; half precision is computed in float32).
    Torch results are differentiable (usable as an entropy regulariser).
    """
    check_units(units)
    p = check_distributions(probs) if validate else probs
    if _is_tensor(p):
        work = p if p.dtype in (torch.float32, torch.float64) else p.float()
        h = -torch.special.xlogy(work, work).sum(-1)
        # Rows summing to 1 + eps can give -1e-17 (and one-hot rows -0.0); entropy is >= +0.
        h = h.clamp_min(0.0) + 0.0
        if units == "bits":
            h = h / LN2
        return h.to(p.dtype)
    h = np.maximum(-xlogy(p, p).sum(-1), 0.0)
    return h / LN2 if units == "bits" else h


# ---------------------------------------------------------------------------------------------
# decomposition
# ---------------------------------------------------------------------------------------------
@dataclass
class Decomposition:
    """Per-sample total, aleatoric and epistemic uncertainty (arrays of shape (n,)), in ``units``.

    Arrays have the type that was passed to :func:`decompose` (numpy or torch).
    """

    total: Any
    aleatoric: Any
    epistemic: Any
    units: str
    n_members: int
    n_classes: int

    def frame(self) -> pd.DataFrame:
        """Tidy frame: one row per sample with total, aleatoric, epistemic and units."""
        cols = {k: to_numpy(getattr(self, k)).astype(np.float64)
                for k in ("total", "aleatoric", "epistemic")}
        out = pd.DataFrame(cols)
        out["units"] = self.units
        return out

    def __repr__(self) -> str:
        means = ", ".join(f"{k}={float(getattr(self, k).mean()):.4g}"
                          for k in ("total", "aleatoric", "epistemic"))
        return (f"Decomposition(n={len(self.total)}, members={self.n_members}, "
                f"classes={self.n_classes}, mean {means} {self.units})")


def decompose(probs: Any, units: str = "bits") -> Decomposition:
    """Split predictive uncertainty into aleatoric and epistemic parts, per sample.

    ``probs`` has shape (members, n, classes): member m's predicted class distribution for
    sample i (softmax outputs of an ensemble, or of MC-dropout passes, see
    :func:`mc_dropout_probs`). Returns a :class:`Decomposition` with

    * ``total[i]     = H[(1/M) Σ_m p_m(·|x_i)]``
    * ``aleatoric[i] = (1/M) Σ_m H[p_m(·|x_i)]``
    * ``epistemic[i] = total[i] − aleatoric[i] = I(y; m | x_i)`` (BALD; Houlsby et al. 2011,
      Depeweg et al. 2018),

    in ``units`` ("bits" by default, or "nats"), of the array type given (numpy or torch).
    Identical members give epistemic = 0; M one-hot members each on a different class give
    aleatoric = 0 and epistemic = log M.
    """
    check_units(units)
    p = check_distributions(probs, min_ndim=3, what="an array of shape (members, n, classes)")
    if p.ndim != 3:
        raise InputError(f"probs has shape {tuple(p.shape)}; pass (members, n, classes), e.g. "
                         "np.stack([member.predict_proba(x) for member in ensemble])")
    members, _, classes = p.shape
    total = categorical_entropy(p.mean(0), units, validate=False)
    aleatoric = categorical_entropy(p, units, validate=False).mean(0)
    # Jensen makes total ≥ aleatoric exactly; rounding can leave -1e-16 where members agree.
    diff = total - aleatoric
    epistemic = diff.clamp_min(0.0) if _is_tensor(diff) else np.maximum(diff, 0.0)
    return Decomposition(total, aleatoric, epistemic, units, int(members), int(classes))


# ---------------------------------------------------------------------------------------------
# MC dropout
# ---------------------------------------------------------------------------------------------
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


def max_epistemic(members: int, classes: int, units: str = "bits") -> float:
    """Upper bound on epistemic uncertainty: min(log M, log C) (in ``units``)."""
    value = math.log(min(members, classes))
    return value / LN2 if check_units(units) == "bits" else value
