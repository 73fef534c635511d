"""The torch backend against the numpy/numba/scipy engines (``python -m benchmarks torch``).

For each cell (KSG and KL over n × dims, the KDE mixture bound, matrix-Rényi / VNE / DSE Gram
spectra, fixed-width binning) it prints the engine's time, the torch backend's time on CPU
and, where torch sees a CUDA GPU, on the GPU, with the ratio engine / torch and the largest
difference of the values (0 for counts and codes: identical by construction).

Run on a GPU machine as the device check: ``python -m benchmarks torch`` (or
``WORKBENCH_FULL=1`` for the large cells). Times are best of ``repeats`` wall times; the GPU's
include the transfers to and from the device and a synchronisation.
"""
from __future__ import annotations

import os
import time

import numpy as np

import workbench as wb

FULL = os.environ.get("WORKBENCH_FULL") == "1"


def _best(fn, repeats: int) -> tuple[float, float]:
    import torch

    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = float(fn())
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times), value


def _cells(gpu: bool):
    rng = np.random.default_rng(0)
    # CPU torch is the reference path, not the fast one: small cells suffice to compare it
    ns = (1000, 5000) + ((20_000,) if gpu else ()) + ((100_000,) if gpu and FULL else ())
    for n in ns:
        for d in (1, 2, 5, 10):
            if n * n * d > (4e10 if FULL else 5e9):
                continue  # the dense O(n²) work is a GPU job beyond this
            x = rng.normal(size=(n, d))
            y = 0.6 * x + 0.8 * rng.normal(size=(n, d))
            yield f"ksg {d}+{d}, n={n}", "mutual_info", (x, y), "ksg", {}
            if d <= 5:
                yield f"kl {d}, n={n}", "entropy", (x,), "kl", {"norm": "chebyshev"}
    h = np.tanh(rng.normal(size=(4000 if not FULL else 20_000, 10)))
    labels = rng.integers(0, 10, size=len(h))
    yield f"kde I(T;Y), n={len(h)}", "mutual_info", (h, labels), "kde", {}
    yield f"binning H(T), n={len(h)}", "entropy", (h,), "binning", {}
    z = rng.normal(size=(2000, 64))
    yield "matrix_renyi H, 2000 x 64", "entropy", (z,), "matrix_renyi", {}
    yield "vne H, 2000 x 64", "entropy", (z,), "vne", {}
    yield "dse DSMI, 2000 x 64", "mutual_info", (z, labels[:2000]), "dse", {}


def main() -> None:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"torch {torch.__version__}; GPU: {gpu or 'none (CPU torch only)'}; "
          f"cores {os.cpu_count()}; best of 3 wall times")
    header = f"{'cell':<28}{'engine':>10}{'torch cpu':>11}{'ratio':>7}"
    header += f"{'torch gpu':>11}{'ratio':>7}" if gpu else ""
    print(header + f"{'max |diff|':>12}")
    for label, quantity, args, method, knobs in _cells(gpu is not None):
        fn = getattr(wb, quantity)
        t_np, v_np = _best(lambda: fn(*args, method=method, units="nats", **knobs), 3)
        t_cpu, v_cpu = _best(lambda: fn(*args, method=method, units="nats", backend="torch",
                                         **knobs), 3)
        line = f"{label:<28}{t_np * 1e3:8.1f}ms{t_cpu * 1e3:9.1f}ms{t_np / t_cpu:6.2f}x"
        diff = abs(v_cpu - v_np)
        if gpu:
            t_gpu, v_gpu = _best(lambda: fn(*args, method=method, units="nats",
                                            device="cuda", **knobs), 3)
            line += f"{t_gpu * 1e3:9.1f}ms{t_np / t_gpu:6.2f}x"
            diff = max(diff, abs(v_gpu - v_np))
        print(line + f"{diff:12.2e}", flush=True)


if __name__ == "__main__":
    main()
