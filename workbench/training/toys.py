"""Two toy worlds for the geometry of representations.

* **Toy models of superposition** (Elhage et al. 2022, "Toy models of superposition"):
  ``n_features`` sparse features x_i (each non-zero with probability p = 1 − sparsity, then
  uniform on [0, 1]) squeezed into ``n_dims`` < ``n_features`` dimensions.
  :func:`superposition_data` embeds them with random unit directions (superposition by
  construction); :func:`train_superposition_model` learns the embedding W of the paper's model
  x̂ = ReLU(WᵀW x + b) with importance 1 (dense features are not superposed: about
  ``n_dims`` are kept; sparse ones are), and :func:`superposition_study` counts the features
  a sparse autoencoder finds in h = W x at several sparsities
  (:func:`workbench.measures.geometry.sae_features`).
* **Grokking** (Power et al. 2022, "Grokking: generalization beyond overfitting on small
  algorithmic datasets"): :func:`grokking` trains an MLP on (a + b) mod p from a fraction of
  all pairs with AdamW and weight decay, recording train / test accuracy, the local rank of
  the hidden layer (Patel & Shwartz-Ziv 2024) and the intrinsic dimension (TwoNN) of its
  representations over training.

Defaults are CI-sized (seconds on a CPU); ``WORKBENCH_FULL=1`` in the environment selects the
full-scale settings (:func:`full_scale`).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import InputError
from ..validation import check_seed


def full_scale() -> bool:
    """True when the environment asks for full-scale toys (``WORKBENCH_FULL=1``)."""
    return os.environ.get("WORKBENCH_FULL", "") not in ("", "0")


# ----- superposition -------------------------------------------------------------------------
def sparse_features(n: int, n_features: int, sparsity: float, seed: Any = 0) -> np.ndarray:
    """(n, n_features) features: each is 0 with probability ``sparsity``, else U[0, 1]."""
    if not 0.0 <= sparsity < 1.0:
        raise InputError(f"sparsity must be in [0, 1), got {sparsity!r}")
    rng = check_seed(seed)
    return rng.random((n, n_features)) * (rng.random((n, n_features)) >= sparsity)


def superposition_data(n: int = 10_000, n_features: int = 20, n_dims: int = 10,
                       sparsity: float = 0.95, seed: Any = 0):
    """``(h, x, w)``: ``n_features`` sparse features ``x`` embedded in ``n_dims`` dimensions
    along random unit directions (rows of ``w``, shape (n_features, n_dims)): h = x w."""
    if n_dims < 1 or n_features < 1:
        raise InputError("n_features and n_dims must be >= 1")
    rng = check_seed(seed)
    w = rng.normal(size=(n_features, n_dims))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    x = sparse_features(n, n_features, sparsity, rng)
    return x @ w, x, w


def train_superposition_model(n_features: int = 20, n_dims: int = 5, sparsity: float = 0.9,
                              steps: int = 3000, batch_size: int = 1024, lr: float = 1e-2,
                              seed: int = 0) -> np.ndarray:
    """Train Elhage et al.'s toy model x̂ = ReLU(WᵀW x + b) on sparse features (importance 1,
    squared error, Adam) and return W, shape (n_dims, n_features)."""
    import torch

    from ..torch_utils import limit_threads, seeded

    rng = check_seed(seed)
    with limit_threads(1, use_torch=True), seeded(seed):
        w = torch.nn.init.xavier_normal_(torch.empty(n_dims, n_features)).requires_grad_(True)
        b = torch.zeros(n_features, requires_grad=True)
        opt = torch.optim.Adam([w, b], lr=lr)
        for _ in range(steps):
            x = torch.as_tensor(sparse_features(batch_size, n_features, sparsity, rng),
                                dtype=torch.float32)
            loss = ((torch.relu(x @ w.T @ w + b) - x) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return w.detach().double().numpy()


def superposition_study(sparsities=(0.5, 0.8, 0.95), embedding: str = "random",
                        n_features: int | None = None, n_dims: int | None = None,
                        n: int | None = None, seed: int = 0, **sae_knobs):
    """For each sparsity: embed ``n_features`` sparse features in ``n_dims`` dimensions and
    count the features a sparse autoencoder (2 · n_features latents) finds in h.

    ``embedding="random"``: fixed random unit directions (:func:`superposition_data`; every
    feature is stored by construction); ``"trained"``: the W of Elhage et al.'s toy model
    trained at that sparsity (:func:`train_superposition_model`), which decides itself how
    many features to store. Returns a DataFrame with ``sparsity``, ``n_features`` (the truth),
    ``stored`` (features whose embedding has norm > 0.5), ``sae_effective``, ``sae_alive`` and
    ``sae_fvu``. CI default: 20 features in 10 dimensions, 5000 rows; ``WORKBENCH_FULL=1``:
    80 features in 40 dimensions, 20 000 rows. The same seeds at every sparsity."""
    import pandas as pd

    from ..measures.geometry import sae_features

    if embedding not in ("random", "trained"):
        raise InputError(f"embedding must be 'random' or 'trained', got {embedding!r}")
    big = full_scale()
    n_features = n_features or (80 if big else 20)
    n_dims = n_dims or (40 if big else 10)
    n = n or (20_000 if big else 5000)
    rows = []
    for s in sparsities:
        if embedding == "trained":
            w = train_superposition_model(n_features, n_dims, s, steps=6000 if big else 1000,
                                          seed=seed).T
        else:
            w = superposition_data(1, n_features, n_dims, s, seed)[2]
        h = sparse_features(n, n_features, s, seed + 1000) @ w
        found = sae_features(h, n_features=2 * n_features, seed=seed, **sae_knobs)
        rows.append({"sparsity": s, "n_features": n_features,
                     "stored": int((np.linalg.norm(w, axis=1) > 0.5).sum()),
                     "sae_effective": found.effective, "sae_alive": found.alive,
                     "sae_fvu": found.reconstruction_error})
    return pd.DataFrame(rows)


# ----- grokking ------------------------------------------------------------------------------
def modular_addition(p: int = 23, train_fraction: float = 0.5, seed: Any = 0):
    """All pairs (a, b) of Z_p as one-hot rows (2p columns) with label (a + b) mod p, split
    into train and test: ``(x_train, y_train, x_test, y_test)``."""
    if p < 2 or not 0.0 < train_fraction < 1.0:
        raise InputError("need p >= 2 and 0 < train_fraction < 1")
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    a, b = a.ravel(), b.ravel()
    x = np.zeros((p * p, 2 * p), dtype=np.float32)
    x[np.arange(p * p), a] = 1.0
    x[np.arange(p * p), p + b] = 1.0
    y = (a + b) % p
    order = check_seed(seed).permutation(p * p)
    cut = int(round(train_fraction * p * p))
    tr, te = order[:cut], order[cut:]
    return x[tr], y[tr], x[te], y[te]


def grokking(p: int | None = None, hidden: int | None = None,
             train_fraction: float | None = None, steps: int | None = None,
             lr: float | None = None, weight_decay: float | None = None,
             every: int | None = None, threshold: float = 1e-2, seed: int = 0,
             callback=None):
    """Train a one-hidden-layer ReLU MLP (embedding of the one-hot pair → hidden → p logits)
    on modular addition with full-batch AdamW and weight decay; every ``every`` steps record
    train / test accuracy, the local rank of the hidden layer at the training points
    (threshold ``threshold``) and the TwoNN intrinsic dimension of the hidden representations
    of all pairs.

    Returns a DataFrame with ``step``, ``train_accuracy``, ``test_accuracy``, ``local_rank``,
    ``intrinsic_dimension``. CI default: p = 31, 128 hidden units, 60 % of the pairs for
    training, lr 1e-2, weight decay 2, 1500 full-batch steps: train accuracy reaches 1 within
    ~150 steps, test accuracy follows over the next ~1000 (a short grokking delay).
    ``WORKBENCH_FULL=1``: p = 97, 512 units, 40 % training pairs, lr 3e-3, weight decay 1,
    20 000 steps (the long delay of Power et al.). ``callback(row)`` gets each row."""
    import pandas as pd
    import torch
    from torch import nn

    from ..measures.geometry import local_rank
    from ..torch_utils import limit_threads, seeded

    big = full_scale()
    p = p or (97 if big else 31)
    hidden = hidden or (512 if big else 128)
    train_fraction = train_fraction or (0.4 if big else 0.6)
    lr = lr or (3e-3 if big else 1e-2)
    weight_decay = (1.0 if big else 2.0) if weight_decay is None else weight_decay
    steps = steps or (20_000 if big else 1500)
    every = every or max(1, steps // 10)
    xtr, ytr, xte, yte = modular_addition(p, train_fraction, seed)
    rows = []
    with limit_threads(1, use_torch=True), seeded(seed):
        model = nn.Sequential(nn.Linear(2 * p, hidden), nn.ReLU(), nn.Linear(hidden, p))
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        xt, yt = torch.as_tensor(xtr), torch.as_tensor(ytr)
        xv, yv = torch.as_tensor(xte), torch.as_tensor(yte)
        x_all = np.concatenate([xtr, xte])
        for step in range(steps + 1):
            if step % every == 0 or step == steps:
                with torch.no_grad():
                    acc = float((model(xt).argmax(1) == yt).float().mean())
                    test = float((model(xv).argmax(1) == yv).float().mean())
                    hid = model[1](model[0](torch.as_tensor(x_all))).numpy()
                row = {"step": step, "train_accuracy": acc, "test_accuracy": test,
                       "local_rank": local_rank(model, xtr, layer="1", threshold=threshold,
                                                max_samples=64, seed=seed).value,
                       "intrinsic_dimension": _safe_id(hid)}
                rows.append(row)
                if callback is not None:
                    callback(row)
            if step == steps:
                break
            loss = nn.functional.cross_entropy(model(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return pd.DataFrame(rows)


def _safe_id(h: np.ndarray) -> float:
    from ..errors import WorkbenchError
    from ..measures.geometry import intrinsic_dimension

    try:
        return intrinsic_dimension(h).value
    except WorkbenchError:
        return float("nan")


__all__ = ["full_scale", "sparse_features", "superposition_data", "train_superposition_model",
           "superposition_study", "modular_addition", "grokking"]
