"""Toy worlds: modular addition data, sparse features, the superposition toy model (dense
features are not superposed, sparse ones are) and a short grokking run's schema."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.training import toys


def test_modular_addition_covers_every_pair_once():
    xtr, ytr, xte, yte = toys.modular_addition(7, 0.5, seed=0)
    x, y = np.vstack([xtr, xte]), np.concatenate([ytr, yte])
    assert x.shape == (49, 14) and len(xtr) in (24, 25)
    a, b = x[:, :7].argmax(1), x[:, 7:].argmax(1)
    assert np.array_equal(y, (a + b) % 7) and len({(i, j) for i, j in zip(a, b)}) == 49
    assert (x.sum(1) == 2).all()
    with pytest.raises(InputError):
        toys.modular_addition(7, 1.0)


def test_sparse_features_and_superposition_data():
    x = toys.sparse_features(20_000, 10, 0.9, seed=0)
    # fraction of non-zeros: binomial, sd = sqrt(0.09 / 200 000) ≈ 7e-4
    assert abs((x > 0).mean() - 0.1) < 5 * 7e-4 and x.max() <= 1
    h, f, w = toys.superposition_data(n=100, n_features=8, n_dims=3, seed=1)
    assert h.shape == (100, 3) and f.shape == (100, 8) and w.shape == (8, 3)
    assert np.allclose(np.linalg.norm(w, axis=1), 1) and np.allclose(h, f @ w)
    with pytest.raises(InputError):
        toys.sparse_features(10, 3, 1.0)


def test_toy_model_superposes_only_sparse_features():
    """Elhage et al. 2022 (equal importance): dense features -> about n_dims of them are
    stored (column norm ~1), the rest dropped; sparse features -> more than n_dims are stored."""
    dense = toys.train_superposition_model(8, 3, sparsity=0.0, steps=800, seed=0)
    sparse = toys.train_superposition_model(8, 3, sparsity=0.95, steps=800, seed=0)
    stored = [int((np.linalg.norm(w, axis=0) > 0.5).sum()) for w in (dense, sparse)]
    assert dense.shape == (3, 8)
    assert stored[0] <= 4 and stored[1] > 4


def test_grokking_rows():
    seen = []
    df = toys.grokking(p=7, hidden=16, steps=40, every=20, callback=seen.append)
    assert list(df.columns) == ["step", "train_accuracy", "test_accuracy", "local_rank",
                                "intrinsic_dimension"]
    assert list(df["step"]) == [0, 20, 40] and len(seen) == 3
    assert df[["train_accuracy", "test_accuracy"]].stack().between(0, 1).all()
    assert (df["local_rank"] <= 14).all()


def test_full_scale_flag(monkeypatch):
    monkeypatch.delenv("WORKBENCH_FULL", raising=False)
    assert not toys.full_scale()
    monkeypatch.setenv("WORKBENCH_FULL", "1")
    assert toys.full_scale()
