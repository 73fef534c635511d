"""Intrinsic dimension: workbench's TwoNN and MLE against scikit-dimension (skdim) on the same
data — a 6-sphere in R⁷ and an 8-dimensional subspace of R⁵⁰, n = 2000 — with the estimates
side by side and the time ratio measured in this run. Also the cost of the local rank (batched
``vmap(jacrev)``) against a Python loop of ``torch.autograd.functional.jacobian`` calls.

scikit-dimension is a benchmark-only dependency (the ``bench`` extra); without it the
comparison is skipped with a message.
"""
from __future__ import annotations

import numpy as np

from benchmarks import best_seconds
from workbench.bench.tasks.manifolds import linear_subspace, sphere
from workbench.measures.geometry import intrinsic_dimension, jacobian_ranks, local_rank

N = 2000
K = 20


def _skdim_rows(skdim, name, x):
    rows = []
    ours = intrinsic_dimension(x, method="twonn")
    ref = skdim.id.TwoNN(discard_fraction=0.1)
    t_ours = best_seconds(lambda: intrinsic_dimension(x, method="twonn"))
    t_ref = best_seconds(lambda: ref.fit(x))
    rows.append((name, "twonn", ours.value, ours.error, ref.fit(x).dimension_, t_ours, t_ref))
    ours = intrinsic_dimension(x, method="mle", k=K)
    ref = skdim.id.MLE()
    t_ours = best_seconds(lambda: intrinsic_dimension(x, method="mle", k=K))
    t_ref = best_seconds(lambda: ref.fit(x, n_neighbors=K, comb="mle"), repeat=1)
    rows.append((name, "mle", ours.value, ours.error,
                 ref.fit(x, n_neighbors=K, comb="mle").dimension_, t_ours, t_ref))
    return rows


def _local_rank_loop(model, x, layer):
    import torch

    f = dict(model.named_modules())[layer]
    sub = torch.nn.Sequential(*[m for n, m in model.named_children()
                                if int(n[5:]) <= int(layer[5:])]) if layer != "" else f
    jac = np.stack([torch.autograd.functional.jacobian(
        lambda r: sub(r.unsqueeze(0)).squeeze(0), torch.as_tensor(row, dtype=torch.float64))
        .numpy() for row in x])  # the per-sample loop the library avoids
    return float(jacobian_ranks(jac).mean())


def main() -> None:
    data = {"S^6 in R^7": (6, sphere(6, N, seed=0)),
            "8-dim subspace of R^50": (8, linear_subspace(8, N, 50, seed=0))}
    try:
        import skdim
    except ImportError:
        skdim = None
        print("scikit-dimension is not installed (pip install scikit-dimension): skipping the "
              "comparison")
    if skdim is not None:
        print(f"{'data':24s} {'method':6s} {'true':>5s} {'workbench':>16s} {'skdim':>7s} "
              f"{'t_wb [ms]':>10s} {'t_skdim [ms]':>13s} {'skdim/wb':>9s}")
        for name, (d, x) in data.items():
            for row in _skdim_rows(skdim, name, x):
                _, method, value, error, ref, t_ours, t_ref = row
                print(f"{name:24s} {method:6s} {d:5d} {value:9.3f} ± {error:5.3f} {ref:7.3f} "
                      f"{1e3 * t_ours:10.1f} {1e3 * t_ref:13.1f} {t_ref / t_ours:9.1f}")

    from workbench.training.models import mlp

    model = mlp("12-64-64-32-2", activation="relu", seed=0).double()
    x = np.random.default_rng(0).normal(size=(256, 12))
    t_batched = best_seconds(lambda: local_rank(model, x, "layer3", max_samples=None))
    t_loop = best_seconds(lambda: _local_rank_loop(model, x, "layer3"), repeat=1)
    same = local_rank(model, x, "layer3", max_samples=None).value == \
        _local_rank_loop(model, x, "layer3")
    print(f"\nlocal rank, 256 points, 12-64-64-32 ReLU layer3: vmap(jacrev) "
          f"{1e3 * t_batched:.1f} ms, per-sample autograd loop {1e3 * t_loop:.1f} ms, "
          f"ratio {t_loop / t_batched:.1f}x (same value: {same})")
