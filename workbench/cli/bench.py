"""``workbench bench``: run estimators on the ground-truth task suite and print the summary."""
from __future__ import annotations

import json

from ..cluster import add_scheduler_arguments
from ..errors import InputError
from ..units import UNITS


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"expected comma-separated integers, got {text!r}") from None


def register(sub) -> None:
    p = sub.add_parser(
        "bench", help="benchmark estimators on ground-truth tasks (exact MI known)",
        description="Run estimators on the 40-task suite (Czyż et al. 2023, 'Beyond normal') "
                    "or a subset, and print one summary line per estimator: tasks within "
                    "max(0.1 nat, 10% of truth), median absolute error, total time.")
    p.add_argument("--tasks", default=None, metavar="PATTERN",
                   help="comma-separated name patterns, e.g. '1v1-*,student' (default: all)")
    p.add_argument("--estimators", default=None, metavar="A,B,C",
                   help="comma-separated method names; 'auto' (fast budget) and "
                        "'auto:thorough' (may train a MINDE score network) report the two "
                        "budgets of method='auto' side by side (default: the registered "
                        "ones of workbench.bench.runner.DEFAULT_ESTIMATORS)")
    p.add_argument("--n", default="5000", metavar="N[,N...]", help="sample size(s) (5000)")
    p.add_argument("--seeds", default="0", metavar="S[,S...]", help="seeds (0)")
    add_scheduler_arguments(p)
    p.add_argument("--units", default="nats", choices=UNITS,
                   help="units of the printed errors (tables on disk are always in nats)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write results.parquet, results.csv, summary.csv, config.json here")
    p.add_argument("--list", action="store_true", help="list the selected tasks and exit")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_bench)


def _bench(args, extra) -> int:
    from ..bench import runner as bench
    from ..bench import tasks

    selected = tasks.select(args.tasks)
    if args.list:
        rows = [{"task": t.name, "dim_x": t.dim_x, "dim_y": t.dim_y,
                 "mutual_info": t.mi(args.units), "units": args.units} for t in selected]
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            for r in rows:
                print(f"{r['task']:<45} {r['dim_x']:>3} x {r['dim_y']:<3} "
                      f"{r['mutual_info']:.4f} {args.units}")
        return 0
    result = bench.run(selected, estimators=args.estimators, ns=_ints(args.n),
                       seeds=_ints(args.seeds), scheduler=args.scheduler,
                       n_workers=args.workers)
    summary = result.summary(units=args.units)
    if args.out:
        result.save(args.out)
    if args.json:
        print(json.dumps({"summary": summary.to_dict(orient="records"),
                          "skipped": result.config["skipped"], "out": args.out}, default=str))
        return 0
    print(f"tolerance: |error| <= max({bench.ABS_TOL} nat, {bench.REL_TOL:.0%} of truth); "
          f"errors in {args.units}")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if result.config["skipped"]:
        print(f"(not registered, skipped: {', '.join(result.config['skipped'])})")
    if args.out:
        print(f"tables written to {args.out}")
    return 0
