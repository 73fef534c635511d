"""The peer grid (``python -m benchmarks grid``): the workbench against its peers, cell by cell.

Cells: KSG (MI) and Kozachenko–Leonenko (H) for n ∈ {10³, 5·10³, 2·10⁴, 10⁵, 10⁶} × dims
{1+1, 2+2, 5+5, 10+10}; plug-in H and MI at n = 10⁶ with alphabets 10 and 1000; binning MI;
DSE and DSMI (2000 × 64, 10 classes); the neural bounds. Every cell prints our time (best of
k wall), each peer's time over ours (> 1: we are faster), and the largest value difference to
each peer over all cells. Peers are benchmark-only dependencies (``pip install -e .[bench]``);
one that is not installed is skipped with a note.

Fairness: every timed call starts from the samples (counting, trees, kernels included) and
gives the number in nats. KSG runs with ``normalize=False`` and KL with ``norm="chebyshev"``,
the definitions npeet-plus and infomeasure implement (max-norm, no per-column scaling), so the
values agree to the peers' own tie-breaking noise; KL differs a little where we whiten
correlated columns (documented in ``workbench.estimators.knn``).

Caps: *our* cells are never skipped by default. For partial runs, environment variables pick
cells: ``WORKBENCH_BENCH_GRID_MAX_N`` (largest n), ``WORKBENCH_BENCH_GRID_DIMS`` (e.g. "1,2")
and ``WORKBENCH_BENCH_GRID_ONLY`` (sections: discrete, binning, diffusion, knn, neural, rss);
the README says which cells were measured. Peers are slow on large cells, so each runs only
up to ``PEER_MAX_N`` (printed with the grid).

The grid runs in a child process with ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` unset
(they slow a current OpenBLAS on this machine's processors; the DSE cells are BLAS-bound), so
ours and the peers' BLAS calls run the same kernels.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

N_GRID = (1_000, 5_000, 20_000, 100_000, 1_000_000)
DIMS = (1, 2, 5, 10)
RHO = 0.6
K = 3
#: Largest n at which each peer runs, by dimension per side.
PEER_MAX_N = {
    "npeet-plus": {1: 100_000, 2: 100_000, 5: 20_000, 10: 20_000},
    "infomeasure": {1: 100_000, 2: 20_000, 5: 5_000, 10: 5_000},
    "scikit-learn": {1: 1_000_000},
}
_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
LN2 = math.log(2.0)


def repeats_for(n: int) -> int:
    return 5 if n <= 20_000 else (2 if n <= 100_000 else 1)


def best(fn, repeats: int) -> tuple[float, float, float]:
    """Best wall time (s), best CPU time (s, all threads) of ``repeats`` calls and the last
    value. CPU time is the robust figure on a shared machine: other processes stretch the
    wall time of whichever side happens to run while they do."""
    walls, cpus, value = [], [], float("nan")
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        value = float(fn())
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - start)
    return min(walls), min(cpus), value


class Grid:
    """Collects cells and the per-peer summary (ratios, largest value difference)."""

    def __init__(self):
        self.ratios: dict[str, list[float]] = defaultdict(list)
        self.cpu_ratios: dict[str, list[float]] = defaultdict(list)
        self.diffs: dict[str, float] = defaultdict(float)
        self.missing: dict[str, str] = {}

    def cell(self, label: str, ours, peers: dict, repeats: int, compare: bool = True,
             truth: float | None = None) -> None:
        t_ours, c_ours, v_ours = best(ours, repeats)
        parts = [f"{label:<34} ours {t_ours * 1e3:9.1f} ms (cpu {c_ours * 1e3:8.1f})  "
                 f"{v_ours:8.4f}"]
        if truth is not None:
            parts.append(f"(exact {truth:.4f})")
        for name, fn in peers.items():
            if fn is None:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t, c, v = best(fn, min(repeats, 3))
            except Exception as exc:  # a peer failing on a cell is reported, not fatal
                parts.append(f"| {name}: failed ({type(exc).__name__})")
                continue
            ratio, cpu_ratio = t / t_ours, c / max(c_ours, 1e-9)
            self.ratios[name].append(ratio)
            self.cpu_ratios[name].append(cpu_ratio)
            if compare:
                self.diffs[name] = max(self.diffs[name], abs(v - v_ours))
            parts.append(f"| {name} {t * 1e3:9.1f} ms {ratio:6.1f}x (cpu {cpu_ratio:5.1f}x) "
                         f"{v:8.4f}")
        print("  ".join(parts), flush=True)

    def summary(self) -> None:
        print("\nper peer: cells compared, slowest and median ratio (peer time / ours) in wall "
              "and in CPU time, largest |value difference| (nats)")
        for name, ratios in self.ratios.items():
            cpu = self.cpu_ratios[name]
            print(f"  {name:<26} {len(ratios):3d} cells  wall min {min(ratios):6.1f}x  median "
                  f"{float(np.median(ratios)):7.1f}x  cpu min {min(cpu):6.1f}x  median "
                  f"{float(np.median(cpu)):7.1f}x  max |diff| {self.diffs[name]:.2e}")
        for name, why in self.missing.items():
            print(f"  {name:<26} skipped: {why}")


def _peer(name: str, module: str, grid: Grid):
    try:
        return __import__(module, fromlist=["_"])
    except Exception as exc:
        grid.missing[name] = f"not installed ({type(exc).__name__}); pip install -e .[bench]"
        return None


def gaussian(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """x, y with d columns each, y_i = ρ x_i + √(1−ρ²) ε_i: I = −(d/2) log(1 − ρ²) nats."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = RHO * x + math.sqrt(1 - RHO ** 2) * rng.standard_normal((n, d))
    return x, y, -0.5 * d * math.log(1 - RHO ** 2)


def knn_cells(grid: Grid, max_n: int) -> None:
    import workbench as wb

    npeet = _peer("npeet-plus", "npeet_plus", grid)
    im = _peer("infomeasure", "infomeasure", grid)
    try:
        from sklearn.feature_selection import mutual_info_regression
    except ImportError:  # pragma: no cover - a runtime dependency
        mutual_info_regression = None

    def allowed(peer: str, n: int, d: int) -> bool:
        caps = PEER_MAX_N[peer]
        return d in caps and n <= caps[d]

    print(f"\nKSG (k = {K}) and KL, n x dims; peer caps (largest n): {PEER_MAX_N}")
    dims = [int(v) for v in os.environ.get("WORKBENCH_BENCH_GRID_DIMS", "1,2,5,10").split(",")]
    for n in N_GRID:  # every dimension at one n before the next n: the cheap cells first
        for d in dims:
            if n > max_n:
                print(f"KSG/KL {d}+{d} n = {n}: not run (WORKBENCH_BENCH_GRID_MAX_N={max_n})")
                continue
            x, y, truth = gaussian(n, d)
            reps = repeats_for(n)
            peers = {
                "npeet-plus": (lambda: npeet.mi(x, y, k=K, base=math.e))
                if npeet and allowed("npeet-plus", n, d) else None,
                "infomeasure": (lambda: im.mutual_information(
                    x, y, approach="ksg", k=K, base="e", minkowski_p=np.inf))
                if im and allowed("infomeasure", n, d) else None,
                "scikit-learn": (lambda: mutual_info_regression(
                    x, y[:, 0], n_neighbors=K, random_state=0)[0])
                if mutual_info_regression and allowed("scikit-learn", n, d) else None,
            }
            grid.cell(f"KSG {d}+{d} n = {n}",
                      lambda: wb.mutual_info(x, y, method="ksg", k=K, normalize=False,
                                             units="nats"),
                      peers, reps, truth=truth)
            h_truth = 0.5 * d * math.log(2 * math.pi * math.e)
            peers = {
                "npeet-plus": (lambda: npeet.entropy(x, k=K, base=math.e))
                if npeet and allowed("npeet-plus", n, d) else None,
                "infomeasure": (lambda: im.entropy(x, approach="kl", k=K, base="e",
                                                   minkowski_p=np.inf))
                if im and allowed("infomeasure", n, d) else None,
            }
            grid.cell(f"KL {d}-d n = {n}",
                      lambda: wb.entropy(x, method="kl", k=K, norm="chebyshev",
                                         units="nats"),
                      peers, reps, truth=h_truth)


def discrete_cells(grid: Grid) -> None:
    from scipy.stats import entropy as scipy_entropy
    from sklearn.metrics import mutual_info_score

    import workbench as wb

    dit = _peer("dit", "dit", grid)
    im = _peer("infomeasure", "infomeasure", grid)
    n = 1_000_000
    print(f"\nplug-in H and MI from samples, n = {n} (peers: the whole computation from the "
          "samples, counting included)")

    def dit_entropy(a):
        values, counts = np.unique(a, return_counts=True)
        dist = dit.Distribution([str(v) for v in values], counts / counts.sum())
        return dit.shannon.entropy(dist) * math.log(2)

    def dit_mi(a, b):
        rows, counts = np.unique(np.c_[a, b], axis=0, return_counts=True)
        dist = dit.Distribution([(str(i), str(j)) for i, j in rows],
                                counts / counts.sum())
        return dit.shannon.mutual_information(dist, [0], [1]) * math.log(2)

    def scipy_mi(a, b, m):
        return (scipy_entropy(np.bincount(a)) + scipy_entropy(np.bincount(b))
                - scipy_entropy(np.bincount(a * m + b)))

    for m in (10, 1000):
        rng = np.random.default_rng(m)
        a = rng.integers(0, m, n)
        b = (a + rng.integers(0, 3, n)) % m
        grid.cell(f"plug-in H alphabet {m}",
                  lambda: wb.entropy(a, method="plugin", units="nats"),
                  {"scipy (bincount+entropy)": lambda: scipy_entropy(np.bincount(a)),
                   "dit": (lambda: dit_entropy(a)) if dit else None,
                   "infomeasure": (lambda: im.entropy(a, approach="discrete", base="e"))
                   if im else None}, 5)
        grid.cell(f"plug-in MI alphabets {m} x {m}",
                  lambda: wb.mutual_info(a, b, method="plugin", units="nats"),
                  {"scipy (bincount+entropy)": lambda: scipy_mi(a, b, m),
                   "scikit-learn mutual_info_score": lambda: mutual_info_score(a, b),
                   # dit builds one Python object per joint outcome: 10 x 10 only
                   "dit": (lambda: dit_mi(a, b)) if dit and m == 10 else None,
                   "infomeasure": (lambda: im.mutual_information(a, b, approach="discrete",
                                                                 base="e"))
                   if im else None}, 5)


def binning_cells(grid: Grid) -> None:
    from scipy.stats import entropy as scipy_entropy

    import workbench as wb

    im = _peer("infomeasure", "infomeasure", grid)
    print("\nbinning MI, 30 fixed-width bins per column over the data range")
    for n in (100_000, 1_000_000):
        x, y, _ = gaussian(n, 1)

        def codes(v):
            edges = np.linspace(v.min(), v.max(), 31)
            return np.clip(np.digitize(v[:, 0], edges[1:-1]), 0, 29)

        def numpy_mi():
            h = np.histogram2d(x[:, 0], y[:, 0], bins=30)[0]
            return (scipy_entropy(h.sum(0)) + scipy_entropy(h.sum(1))
                    - scipy_entropy(h.ravel()))

        grid.cell(f"binning MI 1+1 n = {n}",
                  lambda: wb.mutual_info(x, y, method="binning", n_bins=30, units="nats"),
                  {"numpy histogram2d+scipy": numpy_mi,
                   "infomeasure (digitize+discrete)": (lambda: im.mutual_information(
                       codes(x), codes(y), approach="discrete", base="e")) if im else None},
                  repeats_for(n))


def diffusion_cells(grid: Grid) -> None:
    from workbench.estimators.diffusion import DiffusionSpectralEntropy

    dse = _peer("dse-dsmi", "dse_dsmi", grid)
    rng = np.random.default_rng(0)
    n, d = 2000, 64
    labels = rng.integers(0, 10, n)
    z = rng.standard_normal((n, d)) + 0.3 * labels[:, None]
    est = DiffusionSpectralEntropy()
    sigma = est._width(z)  # the peer takes σ in data units; give it ours
    print(f"\nDSE / DSMI, {n} x {d}, 10 classes, σ = {sigma:.3f} for both; dse-dsmi reports "
          "bits (converted). DSMI draws its matched subsets with each package's own "
          "generator, so its values differ by that draw and are not compared")
    grid.cell("DSE 2000 x 64", lambda: est.entropy(z, units="nats"),
              {"dse-dsmi": (lambda: LN2 * dse.diffusion_spectral_entropy(
                  z, gaussian_kernel_sigma=sigma)) if dse else None}, 3)
    grid.cell("DSMI 2000 x 64, labels", lambda: est.mutual_info(z, labels, units="nats"),
              {"dse-dsmi": (lambda: LN2 * dse.diffusion_spectral_mutual_information(
                  z, labels.reshape(-1, 1), gaussian_kernel_sigma=sigma,
                  num_repetitions=5)[0]) if dse else None}, 3, compare=False)


def neural_cells(grid: Grid) -> None:
    import workbench as wb

    print("\nneural bounds, 5+5 Gaussian, n = 5000 (torch-mist, the peer, needs numpy < 2 "
          "and is not in the bench extra)")
    x, y, truth = gaussian(5000, 5)
    for method in ("infonce", "smile"):
        grid.cell(f"{method} 5+5 n = 5000",
                  lambda: wb.mutual_info(x, y, method=method, seed=0, units="nats"),
                  {}, 1, truth=truth)
    grid.missing.setdefault("torch-mist", "its pins would downgrade numpy to 1.x")


def peak_rss_ksg_1e6() -> None:
    """Peak resident memory of a fresh process that runs KSG 1+1 at n = 10⁶ (and of one that
    only imports and makes the data, for scale)."""
    code = """
import re, time, numpy as np, workbench as wb
from benchmarks.bench_grid import gaussian
x, y, _ = gaussian(1_000_000, 1)
if {run}:
    wb.mutual_info(x[:2000], y[:2000], method="ksg")   # compiled kernels from the disk cache
    t = time.perf_counter(); wb.mutual_info(x, y, method="ksg"); t = time.perf_counter() - t
else:
    t = 0.0
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a large parent
# would report the parent's peak
hwm = re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)
print(int(hwm) / 1024, t)
"""
    root = Path(__file__).resolve().parents[1]
    out = {}
    for run in (False, True):
        res = subprocess.run([sys.executable, "-c", code.format(run=run)], cwd=root,
                             capture_output=True, text=True, check=False)
        if res.returncode:
            print("peak RSS measurement failed:", res.stderr.strip()[-300:])
            return
        out[run] = [float(v) for v in res.stdout.split()]
    print(f"\nKSG 1+1 n = 10^6 (default knobs, fresh process): {out[True][1]:.2f} s wall, "
          f"peak RSS {out[True][0]:.0f} MB ({out[False][0]:.0f} MB of it imports and data)")


def run_grid() -> None:
    from workbench.estimators import brute_force, counting

    brute_force.warm_up()  # compiled kernels loaded before any timing
    counting.warm_up()
    max_n = int(float(os.environ.get("WORKBENCH_BENCH_GRID_MAX_N", N_GRID[-1])))
    only = os.environ.get("WORKBENCH_BENCH_GRID_ONLY",
                          "discrete,binning,diffusion,knn,neural,rss").split(",")
    grid = Grid()
    for name, section in (("discrete", discrete_cells), ("binning", binning_cells),
                          ("diffusion", diffusion_cells), ("neural", neural_cells)):
        if name in only:
            section(grid)
    if "knn" in only:
        knn_cells(grid, max_n)
    grid.summary()
    if "rss" in only:
        peak_rss_ksg_1e6()


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_VARS}
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "benchmarks.bench_grid", "--child"], cwd=root,
                   env=env, check=False)


if __name__ == "__main__":
    if "--child" in sys.argv:
        run_grid()
    else:
        main()
