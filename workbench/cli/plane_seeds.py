"""``workbench plane --seeds 0-9 [--activation tanh,relu] [--scheduler ...]``: the grid of
runs behind :func:`workbench.training.seeds.run_seeds`, reported as the compression table with
its spread over seeds (not a subcommand of its own: ``workbench plane`` hands over here).

Writes every run to the run store and, in an experiment folder beside them (no
``config.json``, so it is not listed as a run): ``runs.csv`` (one row per run),
``compression.csv`` and ``band.csv`` (the tables over seeds) and ``seeds.html`` (mean
trajectories with ±1 std bands, one plane per group).
"""
from __future__ import annotations

import time


def plane_seeds(args, methods, knobs, activations, archs) -> int:
    from ..runs import RunStore
    from ..tracking.seed_tables import (
        compression_over_seeds,
        format_compression,
        group_verdict,
        seed_band,
    )
    from ..tracking.tables import estimators_in
    from ..training.seeds import parse_seeds, run_seeds, run_summary

    seeds = parse_seeds(args.seeds if args.seeds is not None else args.seed)
    if args.run_id is not None:
        print("note: --run-id names a single run; the runs of a seed grid get their own ids")
    store = RunStore(args.out)
    n_runs = len(seeds) * len(activations or [None]) * len(archs)
    objective = getattr(args, "objective", "cross_entropy")
    if not args.quiet:
        what = (f"{len(activations)} activation(s)" if objective == "cross_entropy" else
                f"objective {objective}")
        print(f"{n_runs} runs ({len(seeds)} seeds × {what} × {len(archs)} architecture(s)) "
              f"on scheduler {args.scheduler!r}", flush=True)
    grid = ({} if objective == "cross_entropy" else
            {"objective": objective, "beta": getattr(args, "beta", None)})
    start = time.perf_counter()
    frame = run_seeds(
        seeds, activations, archs, data=args.data, scheduler=args.scheduler,
        n_workers=args.workers, root=store.root, tag=f"seeds-{args.data}",
        progress=False, epochs=args.epochs, lr=args.lr, optimizer=args.optimizer,
        batch_size=args.batch_size, estimators=methods, estimator_knobs=knobs,
        n_bins=args.n_bins, bin_rule=args.bin_rule, every=args.every, units=args.units,
        subsample=args.subsample, **grid,
        **({"weight_decay": args.weight_decay} if args.weight_decay or not grid else {}))
    seconds = time.perf_counter() - start
    runs = run_summary(frame)
    folder = store.root / RunStore.new_id(f"experiment-seeds-{args.data}")
    folder.mkdir(parents=True)
    runs.to_csv(folder / "runs.csv", index=False)
    print(f"\n{n_runs} runs in {seconds:.1f} s (updates {runs['train_seconds'].sum():.1f} s, "
          f"tracking {runs['tracking_seconds'].sum():.1f} s, summed over runs)")
    print(runs[["group", "seed", "run", "test_accuracy"]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}"))
    tables, bands = [], []
    for est in estimators_in(frame):
        table = compression_over_seeds(frame, est)
        tables.append(table)
        bands.append(seed_band(frame, est, args.units).assign(estimator=est))
        print(f"\nI(X;T) per layer [{args.units}] over {len(seeds)} seed(s), {est} "
              "(mean ± std; drop = peak − final; compressing: drop > 0.5):")
        print(format_compression(table))
        if grid:  # one bottleneck layer: no hidden layers to share out
            continue
        verdict = group_verdict(table)
        print("  " + "; ".join(f"{r.group}: {r.compressing_share:.0%} of (layer, seed) pairs "
                               f"compress, mean drop {r.mean_drop:.3f} (hidden layers)"
                               for r in verdict.itertuples()))
    import pandas as pd

    pd.concat(tables).to_csv(folder / "compression.csv", index=False)
    band = pd.concat(bands)
    band.to_csv(folder / "band.csv", index=False)
    print(f"\nwrote {n_runs} runs under {store.root}\n      {folder / 'runs.csv'}\n      "
          f"{folder / 'compression.csv'}\n      {folder / 'band.csv'}")
    if not args.no_html:
        import holoviews as hv

        from ..plots.plane import seed_band_grid

        first = band[band["estimator"] == band["estimator"].iloc[0]]
        hv.save(seed_band_grid(first, args.units), folder / "seeds.html", backend="bokeh",
                resources="inline")
        print(f"      {folder / 'seeds.html'}")
    return 0
