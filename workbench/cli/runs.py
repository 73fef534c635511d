"""``workbench runs list | show ID | compare ID ID ... | delete ID`` over a RunStore."""
from __future__ import annotations

import json

from ..errors import InputError


def register(sub) -> None:
    p = sub.add_parser("runs", help="list, show, compare or delete stored runs",
                       description="Inspect the runs written by `workbench plane` (and the apps).")
    p.add_argument("action", choices=["list", "show", "compare", "delete"])
    p.add_argument("ids", nargs="*", help="run id(s)")
    p.add_argument("--root", default=None,
                   help="run store folder (default: $WORKBENCH_RUNS or workbench/runs in your "
                        "data directory)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--png", default=None,
                   help="compare: also save the planes side by side to this PNG file")
    p.set_defaults(func=_runs)


def _runs(args, extra) -> int:
    import pandas as pd

    from ..runs import RunStore

    store = RunStore(args.root)
    need = {"list": (0, 0), "show": (1, 1), "delete": (1, None), "compare": (2, None)}
    lo, hi = need[args.action]
    if len(args.ids) < lo or (hi is not None and len(args.ids) > hi):
        raise InputError(f"`runs {args.action}` takes "
                         f"{lo if lo == hi else f'at least {lo}'} run id(s); got {len(args.ids)}")
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        if args.action == "list":
            table = store.list()
            if args.json:
                print(table.to_json(orient="records"))
            elif table.empty:
                print(f"no runs in {str(store.root)!r}")
            else:
                print(table.to_string(index=False))
        elif args.action == "show":
            _show(store, args.ids[0], args.json)
        elif args.action == "compare":
            _compare(store, args.ids, args.json, args.png)
        else:
            for run_id in args.ids:
                store.delete(run_id)
                print(f"deleted {run_id}")
    return 0


def _summary(frame):
    from ..tracking.tables import compression_table, estimators_in

    return [compression_table(frame, est) for est in estimators_in(frame)]


def _final_metrics(frame) -> dict:
    m = frame[frame["layer"] == "model"]
    if m.empty:
        return {}
    last = m[m["epoch"] == m["epoch"].max()]
    return {"epoch": int(m["epoch"].max()), **dict(zip(last["quantity"], last["value"]))}


def _show(store, run_id: str, as_json: bool) -> None:
    config, frame = store.load(run_id)
    tables = _summary(frame)
    if as_json:
        print(json.dumps({"config": config, "final": _final_metrics(frame),
                          "compression": [t.to_dict(orient="records") for t in tables]},
                         default=str))
        return
    print(f"run {run_id}")
    for key in sorted(config):
        print(f"  {key}: {config[key]}")
    final = _final_metrics(frame)
    if final:
        print("final metrics: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else
                                            f"{k}={v}" for k, v in final.items()))
    for t in tables:
        print(f"\nI(X;T) per layer [{t['units'].iloc[0]}], {t['estimator'].iloc[0]}:")
        print(t[["layer", "peak", "peak_epoch", "final", "drop"]].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))


def _compare(store, ids, as_json: bool, png) -> None:
    import pandas as pd

    frame = store.compare(ids)
    summaries = _summary(frame) if len(frame) else []
    tables = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    if as_json:
        print(tables.to_json(orient="records"))
    elif tables.empty:
        print("no information-plane rows in these runs")
    else:
        wide = tables.pivot_table(index=["estimator", "layer_index", "layer"], columns="run",
                                  values="drop")
        print("compression of I(X;T) (peak - final) per layer and run:")
        print(wide.to_string(float_format=lambda v: f"{v:.3f}"))
    if png:
        from ..plots.static import plane_figure, save_png
        from ..tracking.tables import estimators_in

        panels = []
        for run_id in ids:
            rows = frame[frame["run"] == run_id]
            found = estimators_in(rows)
            if not found:
                raise InputError(f"run {run_id!r} has no information-plane rows to plot")
            panels.append((run_id, rows, found[0]))
        print(f"wrote {save_png(plane_figure(panels), png)}")
