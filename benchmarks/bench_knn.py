"""Speed and accuracy of the kNN estimators (``python -m benchmarks knn``).

Targets (not asserted): KSG on n = 5000 with 5 + 5 dimensions in <= 70 ms wall; n = 100 000
with 1 + 1 dimensions in <= 2 s and < 1 GB. References measured in the same run, on the same
data: the tree engine (``algorithm="tree"``, the implementation before the brute-force engine),
the O(n²) definition (``naive_ksg``, n = 2000: it holds n × n × d arrays) and scikit-learn's
``mutual_info_regression`` (n_neighbors=3) on the 1-D case. Accuracy is against the exact
Gaussian MI, in nats. Times are CPU (``time.process_time``: all threads, robust to other load on
the machine) and wall (best and median), because a shared machine makes wall times noisy.
"""
from __future__ import annotations

import contextlib
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np

from workbench.api import make_estimator
from workbench.bench import tasks
from workbench.estimators import knn
from workbench.estimators.knn import naive_ksg

RHO = 0.6


def gaussian_pair(n: int, d: int, seed: int = 0, dy: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """x (d columns) and y (dy, default d): coordinate i of y is correlated RHO with coordinate
    i of x; exact MI = −(min(d, dy)/2) log(1 − RHO²) nats."""
    dy = d if dy is None else dy
    task = tasks.sparse(d, dy, n_pairs=min(d, dy), rho=RHO)
    x, y = task.sample(n, seed)
    return x, y, task.mutual_info


class Timing:
    """Best wall, median wall and best CPU time (s) of ``repeats`` calls, and the result."""

    def __init__(self, fn, repeats: int = 5):
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            self.value = fn()
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        self.wall, self.median, self.cpu = min(walls), float(np.median(walls)), min(cpus)

    def text(self) -> str:
        return (f"cpu {self.cpu * 1e3:8.1f} ms  wall {self.wall * 1e3:8.1f} ms "
                f"(median {self.median * 1e3:7.1f})")


@contextlib.contextmanager
def trees_only():
    """Force the tree engine everywhere (the reference implementation)."""
    saved = knn.use_brute_force
    knn.use_brute_force = lambda n, dims, task="ksg": False
    try:
        yield
    finally:
        knn.use_brute_force = saved


def row(label: str, t: Timing, truth: float | None = None, ref: Timing | None = None,
        target: float | None = None, quantity: str = "MI") -> None:
    acc = "" if truth is None else (f"  {quantity} {t.value:7.4f} nats (exact {truth:.4f}, "
                                    f"error {t.value - truth:+.4f})")
    speed = "" if ref is None else f"  {ref.cpu / t.cpu:5.1f}x less CPU than the reference"
    goal = "" if target is None else f"  [target wall <= {target * 1e3:.0f} ms]"
    print(f"{label:<44} {t.text()}{acc}{speed}{goal}")


_CHILD = """
import sys
sys.path.insert(0, {root!r})
from benchmarks.bench_knn import gaussian_pair, resident_mb
from workbench.api import make_estimator
x, y, _ = gaussian_pair({n}, 1)
before = resident_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:  # restart the high-water mark here
    f.write("5")
make_estimator("ksg").mutual_info(x, y)
print(before, resident_mb("VmHWM"))
"""


def resident_mb(field: str) -> float:
    """A memory line of /proc/self/status in MB: VmRSS (now) or VmHWM (peak). Unlike
    ru_maxrss, VmHWM belongs to this program's memory map, so it does not inherit the peak of
    the parent that forked it."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def peak_memory_mb(n: int) -> tuple[float, float] | None:
    """Resident memory (MB) of a fresh process with the data loaded, and its peak during KSG on
    n × (1 + 1) (also counts the C++ allocations of cKDTree, which tracemalloc would miss).
    None where /proc is missing (not Linux)."""
    import pathlib

    if not os.path.exists("/proc/self/clear_refs"):
        return None
    root = str(pathlib.Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", _CHILD.format(root=root, n=n)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores visible: {cores}; load average {os.getloadavg()[0]:.1f}; 'reference' = tree "
          "engine on the same data unless named")

    print("\n-- moderate dimension: n = 5000, 5 + 5 dims (brute-force engine) --")
    x, y, truth = gaussian_pair(5000, 5)
    for method in ("ksg", "ksg2", "mixed"):
        est = make_estimator(method)
        fast = Timing(lambda: est.mutual_info(x, y, units="nats"), repeats=9)
        with trees_only():
            ref = Timing(lambda: est.mutual_info(x, y, units="nats"), repeats=2)
        assert fast.value == ref.value, (method, fast.value, ref.value)  # identical counts
        row(f"{method:<6} trees (reference)", ref, truth)
        row(f"{method:<6} auto", fast, truth, ref=ref, target=0.07 if method == "ksg" else None)

    print("\n-- against the O(n^2) definition, n = 2000 (no jitter, unit-std columns) --")
    for d in (1, 5):
        x, y, truth = gaussian_pair(2000, d)
        xs, ys = x / x.std(0), y / y.std(0)
        est = make_estimator("ksg", jitter=0.0, normalize=False)
        naive = Timing(lambda: naive_ksg(xs, ys), repeats=1)
        fast = Timing(lambda: est.mutual_info(xs, ys, units="nats"))
        row(f"naive O(n^2) KSG {d}+{d} dims", naive, truth)
        row(f"ksg              {d}+{d} dims", fast, truth, ref=naive)
        print(f"  |ksg - naive| = {abs(fast.value - naive.value):.1e} nats")

    print("\n-- large n, 1 + 1 dims: n = 100 000 (tree engine, sorted 1-D counts) --")
    x, y, truth = gaussian_pair(100_000, 1)
    est = make_estimator("ksg")
    big = Timing(lambda: est.mutual_info(x, y, units="nats"), repeats=2)
    from sklearn.feature_selection import mutual_info_regression

    sk = Timing(lambda: float(mutual_info_regression(x, y[:, 0], n_neighbors=3,
                                                     random_state=0)[0]), repeats=1)
    row("sklearn mutual_info_regression (reference)", sk, truth)
    row("ksg", big, truth, ref=sk, target=2.0)
    memory = peak_memory_mb(100_000)
    if memory is not None:
        print(f"  resident memory of a fresh process: {memory[0]:.0f} MB with imports and data, "
              f"peak {memory[1]:.0f} MB during KSG; target < 1024 MB")
    x = np.random.default_rng(1).standard_normal((100_000, 2))
    kl = Timing(lambda: make_estimator("kl").entropy(x, units="nats"), repeats=2)
    row("kl entropy n=100000, 2 dims", kl, math.log(2 * math.pi * math.e), quantity="H")

    print("\n-- engine crossover (KSG statistics, CPU ms): one brute-force sweep, trees for "
          "everything, and what 'auto' runs --")
    for dx, dy in ((2, 2), (3, 3), (5, 5)):
        cells = []
        for n in (2000, 5000, 10_000):
            x, y, _ = gaussian_pair(n, dx, seed=2, dy=dy)
            x, y = x / x.std(0), y / y.std(0)

            def run(algorithm, x=x, y=y):
                return knn.neighbour_counts([x, y], 3, [(0,), (1,)], "below_eps",
                                            algorithm=algorithm)
            ms = {a: Timing(lambda a=a: run(a), 1).cpu * 1e3 for a in ("brute", "tree", "auto")}
            cells.append(f"n={n}: {ms['brute']:5.0f} / {ms['tree']:5.0f} / {ms['auto']:5.0f}")
        print(f"{dx}+{dy} dims (brute / tree / auto)  " + "   ".join(cells))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"this process: {usage.ru_utime + usage.ru_stime:.1f} s CPU")


if __name__ == "__main__":
    main()
