"""A bigger real model on a CPU: the information plane of a 1-D CNN and an MLP on MNIST-1D, and
what tracking costs against training, per epoch.

Per model: mean seconds per epoch of the updates (4000 signals, batch 128, Adam) and of the
tracking (activation capture on a seeded 1000-row subsample, then compressed KSG, PCA to 4 + 4
dims with noise std 0.1, for I(X;T) and I(T;Y) of each of the 4 tracked layers, plus the
store write), their ratio, the final test accuracy and the last plane point per layer. One
thread for torch and BLAS (``mnist1d_plane(threads=1)``). ``WORKBENCH_FULL=1``: 60 epochs.

Measured on the 2-core shared development machine (load ~10; numbers vary with load), 20 epochs:
see the README section "Experiments over seeds and MNIST-1D" for the table.
"""
from __future__ import annotations

import os
import time

from workbench.training.mnist1d_plane import cost_table, mnist1d_plane

EPOCHS = 60 if os.environ.get("WORKBENCH_FULL") else 20


def main() -> None:
    print(f"MNIST-1D, {EPOCHS} epochs, tracking every epoch (seconds per epoch)")
    print(f"{'model':<22}{'train s':>9}{'track s':>9}{'capture':>9}{'track/train':>13}"
          f"{'test acc':>10}{'total s':>9}")
    planes = {}
    for model in ("cnn", "mlp"):
        start = time.perf_counter()
        tracker, result, config = mnist1d_plane(model, epochs=EPOCHS, seed=0)
        total = time.perf_counter() - start
        costs = cost_table(tracker, result)
        name = f"{model}: {config['arch']}"
        print(f"{name:<22}{costs['train_seconds'].mean():>9.3f}"
              f"{costs['tracking_seconds'].mean():>9.3f}{costs['capture_seconds'].mean():>9.3f}"
              f"{costs['tracking_seconds'].sum() / costs['train_seconds'].sum():>13.2f}"
              f"{result.history[-1]['test_accuracy']:>10.3f}{total:>9.1f}", flush=True)
        planes[model] = tracker.frame()
    for model, frame in planes.items():
        info = frame[frame["quantity"].isin(["I(X;T)", "I(T;Y)"])]
        last = info[info["epoch"] == info["epoch"].max()]
        table = last.pivot_table(index=["layer_index", "layer"], columns="quantity",
                                 values="value")
        print(f"\n{model}: plane at epoch {EPOCHS} [bits]")
        print(table.round(2).to_string())


if __name__ == "__main__":
    main()
