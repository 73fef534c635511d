"""Information-plane tracking cost on the 12-bit network (12-10-7-5-4-3-2, tanh, Adam, batch 256).

Prints epochs/s of training alone, with the tracker (binning fast path, 30 bins on [-1, 1]),
with the tracker and a RunStore (atomic parquet rewrite + fsync per epoch), and with the same
binning estimator called through the generic front door; ratios are against training alone,
measured in the same run. Then runs the `workbench plane` default (300 epochs) once and checks
the science: I(X;T) of layer4 or layer5 (the last hidden layers) drops by >= 0.5 bit after
its peak.

Measured on the 2-core shared development machine (best of 3; numbers vary with load):

    setting                                 epochs/s   s/epoch  vs train  track s/ep
    train only                                  58.5    0.0171      1.00      0.0000
    + tracking (binning fast path)              38.0    0.0263      1.54      0.0088
    + tracking + RunStore (fsync/epoch)         33.2    0.0301      1.76      0.0114
    + tracking via front door (generic)         23.9    0.0418      2.45      0.0238

i.e. tracking itself (activation capture + 6 layers x 3 quantities) costs ~9 ms per epoch, about
half of one training epoch (14 mini-batches plus the train/test evaluation, ~17 ms); the
RunStore's durable per-epoch write (rewrite, two fsyncs and a rename) adds 2-20 ms depending on
the disk. The default `workbench plane` run (300 epochs) took 9-13 s here.
"""
from __future__ import annotations

import tempfile
import time

import numpy as np

from workbench.runs import RunStore
from workbench.tracking.binning_rules import binning_knobs
from workbench.tracking.plane import InformationPlane
from workbench.tracking.tables import compression_table
from workbench.training import datasets, models
from workbench.training.experiments import run_experiment
from workbench.training.loop import train

EPOCHS = 40
REPEATS = 3


def _epochs_per_second(make_callbacks) -> tuple[float, float]:
    data = datasets.tishby12(seed=0)
    net = models.mlp(seed=0)
    callbacks, plane = make_callbacks(net, data)
    start = time.perf_counter()
    train(net, data, epochs=EPOCHS, lr=0.004, callbacks=callbacks)
    seconds = time.perf_counter() - start
    tracking = sum(c["seconds"] for c in plane.costs) / len(plane.costs) if plane else 0.0
    return (EPOCHS + 1) / seconds, tracking


def _plane(net, data, store=None, generic=False):
    return InformationPlane(net, x=data.x, y=data.y, store=store, fast=not generic,
                            estimators=[("binning", binning_knobs("tanh"))])


def main() -> None:
    # warm up torch (first backward / optimizer step pay one-off initialisation)
    train(models.mlp(seed=0), datasets.tishby12(seed=0), epochs=2)
    store_root = tempfile.mkdtemp(prefix="bench_plane_")

    def none(net, data):
        return [], None

    def fast(net, data):
        p = _plane(net, data)
        return [p.as_callback()], p

    def stored(net, data):
        p = _plane(net, data, store=RunStore(store_root))
        return [p.as_callback()], p

    def generic(net, data):
        p = _plane(net, data, generic=True)
        return [p.as_callback()], p

    rows = [("train only", none), ("+ tracking (binning fast path)", fast),
            ("+ tracking + RunStore (fsync/epoch)", stored),
            ("+ tracking via front door (generic)", generic)]
    # interleaved repeats, best of REPEATS: the machine is shared, the minimum is the least noisy
    best: dict[str, tuple[float, float]] = {}
    for _ in range(REPEATS):
        for name, fn in rows:
            eps, tracking = _epochs_per_second(fn)
            if name not in best or eps > best[name][0]:
                best[name] = (eps, tracking)
    results = [(name, *best[name]) for name, _ in rows]
    base = results[0][1]
    print(f"{EPOCHS} epochs each (best of {REPEATS}), tishby12, 12-10-7-5-4-3-2 tanh, Adam lr "
          "0.004, batch 256")
    print(f"{'setting':<38} {'epochs/s':>9} {'s/epoch':>9} {'vs train':>9} {'track s/ep':>11}")
    for name, eps, tracking in results:
        print(f"{name:<38} {eps:>9.1f} {1 / eps:>9.4f} {base / eps:>9.2f} {tracking:>11.4f}")

    start = time.perf_counter()
    plane, result, _ = run_experiment(seed=0)  # the `workbench plane` defaults
    seconds = time.perf_counter() - start
    table = compression_table(plane.frame())
    print(f"\n`workbench plane` default: {result.epochs_completed} epochs in {seconds:.1f} s, "
          f"final train accuracy {result.history[-1]['train_accuracy']:.3f}")
    print(table[["layer", "peak", "peak_epoch", "final", "drop"]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
    hidden = table[table["layer"].isin(["layer4", "layer5"])]
    assert hidden["drop"].max() >= 0.5, "no compression of >= 0.5 bit in layer4/layer5"
    assert np.isfinite(table["drop"]).all()


if __name__ == "__main__":
    main()
