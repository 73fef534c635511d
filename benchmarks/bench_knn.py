"""Speed and accuracy of the kNN estimators (``python -m benchmarks knn``).

Targets (not asserted): KSG on n = 5000 with 5 + 5 dimensions in <= 70 ms; n = 100 000 with
1 + 1 dimensions in <= 2 s and < 1 GB. References measured in the same run: the O(n²)
definition (``naive_ksg``) on n = 2000 and scikit-learn's ``mutual_info_regression``
(n_neighbors=3) on the 1-D case. Accuracy is against the exact Gaussian MI, in nats.
"""
from __future__ import annotations

import math
import resource
import subprocess
import sys
import time

import numpy as np

from workbench.api import make_estimator
from workbench.estimators.knn import naive_ksg

RHO = 0.6


def gaussian_pair(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """x, y with d coordinates each, coordinate i of x correlated RHO with coordinate i of y;
    exact MI = −(d/2) log(1 − RHO²) nats."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = RHO * x + math.sqrt(1 - RHO ** 2) * rng.standard_normal((n, d))
    return x, y, -0.5 * d * math.log(1 - RHO ** 2)


def best_time(fn, repeats: int = 3) -> tuple[float, float]:
    """(best wall time in s, result) over ``repeats`` calls."""
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


_CHILD = """
import resource, sys
import numpy as np
sys.path.insert(0, {root!r})
from benchmarks.bench_knn import gaussian_pair
from workbench.api import make_estimator
x, y, _ = gaussian_pair({n}, 1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
make_estimator("ksg").mutual_info(x, y)
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory_mb(n: int) -> tuple[float, float]:
    """Peak resident memory (MB) of a fresh process before and after KSG on n × (1 + 1)
    (ru_maxrss also sees the C++ allocations of cKDTree, which tracemalloc would miss)."""
    import pathlib

    root = str(pathlib.Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _CHILD.format(root=root, n=n)],
                         capture_output=True, text=True, check=True).stdout.split()
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB on Linux
    return int(out[0]) / scale, int(out[1]) / scale


def row(label, seconds, value, truth, target=None, ref=None, quantity="MI"):
    err = value - truth
    extra = f"  target <= {target * 1e3:.0f} ms" if target else ""
    ratio = f"  {ref / seconds:7.1f}x faster than reference" if ref else ""
    print(f"{label:<46} {seconds * 1e3:9.1f} ms  {quantity} {value:7.4f} nats  (exact {truth:.4f}, "
          f"error {err:+.4f}){extra}{ratio}")


def main() -> None:
    print(f"cores visible: {len(__import__('os').sched_getaffinity(0))}; times are best of 3")

    x, y, truth = gaussian_pair(5000, 5)
    for method in ("ksg", "ksg2", "mixed"):
        est = make_estimator(method)
        t, v = best_time(lambda: est.mutual_info(x, y, units="nats"))
        row(f"{method}  n=5000, 5+5 dims", t, v, truth, target=0.07 if method == "ksg" else None)

    x, y, truth = gaussian_pair(100_000, 1)
    est = make_estimator("ksg")
    t_big, v = best_time(lambda: est.mutual_info(x, y, units="nats"), repeats=2)
    row("ksg   n=100000, 1+1 dims", t_big, v, truth, target=2.0)
    from sklearn.feature_selection import mutual_info_regression

    t_sk, v_sk = best_time(lambda: float(mutual_info_regression(
        x, y[:, 0], n_neighbors=3, random_state=0)[0]), repeats=1)
    row("sklearn mutual_info_regression n=100000, 1+1", t_sk, v_sk, truth)
    print(f"  -> ksg is {t_sk / t_big:.1f}x faster than scikit-learn on the same data")
    before, after = peak_memory_mb(100_000)
    print(f"  peak resident memory of a fresh process: {after:.0f} MB after KSG ({before:.0f} MB "
          "before it, after imports and data); target < 1024 MB")

    for d in (1, 5):
        x, y, truth = gaussian_pair(2000, d)
        t_naive, v_naive = best_time(lambda: naive_ksg(x / x.std(0), y / y.std(0)), repeats=1)
        t_fast, v_fast = best_time(lambda: est.mutual_info(x, y, units="nats"))
        row(f"naive O(n^2) KSG n=2000, {d}+{d} dims", t_naive, v_naive, truth)
        row(f"ksg              n=2000, {d}+{d} dims", t_fast, v_fast, truth, ref=t_naive)

    x = np.random.default_rng(1).standard_normal((100_000, 2))
    t, v = best_time(lambda: make_estimator("kl").entropy(x, units="nats"), repeats=2)
    row("kl entropy n=100000, 2 dims", t, v, math.log(2 * math.pi * math.e), quantity="H")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"this process: {usage.ru_utime + usage.ru_stime:.1f} s CPU")


if __name__ == "__main__":
    main()
