"""Cost of RepresentationTracker per recorded epoch, measure by measure, against one training
epoch of the same network (the reference, measured in the same run): digits, MLP
``64-512-256-10`` (ReLU), batch 64, measured on the 359 test rows and on all 1797 rows (the
Gram-matrix measures subsample 500 rows). The ratio says how much slower training gets when
every epoch is recorded.
"""
from __future__ import annotations

from benchmarks import best_seconds
from workbench.tracking.representation import MEASURES, RepresentationTracker
from workbench.training import datasets, models
from workbench.training.loop import train


def main() -> None:
    data = datasets.digits(seed=0)
    net = models.mlp("64-512-256-10", activation="relu", seed=0)
    train(net, data, epochs=1, batch_size=64)  # warm-up (first call imports optimizer code)
    t_epoch = best_seconds(lambda: train(net, data, epochs=1, batch_size=64))
    rows = []
    for where, (x, y) in (("test rows (359)", (data.x_test, data.y_test)),
                          ("all rows (1797)", (data.x, data.y))):
        for name in (*MEASURES, "all five"):
            measures = MEASURES if name == "all five" else (name,)
            tracker = RepresentationTracker(net, x=x, y=y, measures=measures)
            seconds = best_seconds(lambda tracker=tracker: tracker.record(0, force=True))
            rows.append((where, name, seconds))
        tracker = RepresentationTracker(net, x=x, y=y, threads=None)
        rows.append((where, "all five, threads=None", best_seconds(
            lambda tracker=tracker: tracker.record(0, force=True))))
    print(f"reference: one training epoch (1438 rows, batch 64) = {t_epoch:.3f} s; "
          "best of 3; 3 tracked layers")
    print(f"{'rows':<17} {'measure':<24} {'s / record':>10} {'x epoch':>8}")
    for where, name, seconds in rows:
        print(f"{where:<17} {name:<24} {seconds:10.4f} {seconds / t_epoch:8.2f}")


if __name__ == "__main__":
    main()
