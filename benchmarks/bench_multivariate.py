"""Multiplet sweeps: O-information of every triplet of n = 20 variables (1140 multiplets) from
10 000 samples with the Gaussian copula, and every multiplet of order 3..5 (21 489).

References, measured in the same run:
* the per-multiplet loop through the public single-multiplet call
  (``o_information(x[:, m], method="gaussian_copula")``: five MI estimates per multiplet;
  timed on every 10th triplet and scaled by 10, the full loop takes minutes);
* a per-multiplet loop over the same log-determinant algebra (the sweep's maths without the
  batching, one ``slogdet`` + ``inv`` per multiplet);
* hoi's ``Oinfo(...).fit(method="gc")`` (jax), when hoi is installed.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from benchmarks import best_seconds
from workbench.estimators.gaussian import copula_normalize
from workbench.measures.multivariate import multiplets, o_information

N_VARS, N_SAMPLES = 20, 10_000


def _data() -> np.ndarray:
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(N_SAMPLES, 4))
    mix = rng.normal(size=(4, N_VARS))
    return np.tanh(latent @ mix + rng.normal(size=(N_SAMPLES, N_VARS)))


def _loop_public(x, combos):
    return np.array([float(o_information(x[:, list(m)], method="gaussian_copula"))
                     for m in combos])


def _loop_logdet(x, combos):
    corr = np.corrcoef(copula_normalize(x), rowvar=False)
    out = np.empty(len(combos))
    for i, m in enumerate(combos):
        sub = corr[np.ix_(m, m)]
        logdet = np.linalg.slogdet(sub)[1]
        inv_diag = np.diag(np.linalg.inv(sub))
        out[i] = (-0.5 * logdet - 0.5 * (logdet + np.log(inv_diag).sum())) / math.log(2)
    return out


def main() -> None:
    x = _data()
    combos = list(itertools.combinations(range(N_VARS), 3))
    sweep = multiplets(x, orders=3, method="gaussian_copula")
    t_sweep = best_seconds(lambda: multiplets(x, orders=3, method="gaussian_copula"))
    # the public loop takes minutes: time every 10th triplet and scale by 10
    t_public = 10 * best_seconds(lambda: _loop_public(x, combos[::10]), repeat=1)
    t_logdet = best_seconds(lambda: _loop_logdet(x, combos))
    ours = sweep["o_information"].to_numpy()
    err_public = np.abs(ours[:50] - _loop_public(x, combos[:50])).max()
    err_logdet = np.abs(ours - _loop_logdet(x, combos)).max()
    rows = [("sweep (batched Cholesky)", t_sweep, "-", np.nan),
            ("loop: o_information (x10 of 1/10)", t_public, f"{err_public:.1e}",
             t_public / t_sweep),
            ("loop: slogdet + inv per triplet", t_logdet, f"{err_logdet:.1e}",
             t_logdet / t_sweep)]
    try:
        from hoi.metrics import Oinfo
    except ImportError:
        print("hoi is not installed: its row is skipped (pip install hoi)")
    else:
        def run_hoi():
            return np.asarray(Oinfo(x, verbose=False).fit(minsize=3, maxsize=3, method="gc"))
        hoi_values = run_hoi()  # jit compilation happens here, outside the timing
        t_hoi = best_seconds(run_hoi)
        # hoi's sign convention and units may differ: compare magnitudes in bits and nats
        flat = hoi_values.ravel()[:len(ours)]
        err = min(np.abs(np.abs(flat) - np.abs(ours) * f).max() for f in (1.0, math.log(2)))
        rows.append(("hoi Oinfo(method='gc')", t_hoi, f"{err:.1e}", t_hoi / t_sweep))
    print(f"n = {N_VARS} variables, {N_SAMPLES} samples, {len(combos)} triplets, "
          "gaussian_copula; best of 3 (1 for the public loop)")
    print(f"{'what':<34} {'seconds':>9} {'max |diff| bits':>16} {'sweep speed-up':>15}")
    for label, seconds, err, ratio in rows:
        speed = "" if np.isnan(ratio) else f"{ratio:13.1f}x"
        print(f"{label:<34} {seconds:9.4f} {err:>16} {speed:>15}")
    t_all = best_seconds(lambda: multiplets(x, orders=(3, 4, 5), method="gaussian_copula"))
    n_all = sum(math.comb(N_VARS, k) for k in (3, 4, 5))
    print(f"orders 3..5: {n_all} multiplets in {t_all:.3f} s")


if __name__ == "__main__":
    main()
