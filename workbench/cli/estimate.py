"""``workbench methods``, ``workbench entropy``, ``workbench mi`` and ``workbench cmi``."""
from __future__ import annotations

import json
import time

from .. import api
from ..estimators import get_estimator_class
from ..io import load_array
from ..units import UNITS
from .knobs import parse_knobs

_QUANTITY = {"entropy": ("entropy", 1), "mi": ("mutual_info", 2),
             "cmi": ("conditional_mutual_info", 3)}


def register(sub) -> None:
    p = sub.add_parser("methods", help="list estimators, what they compute, and their knobs")
    p.add_argument("--json", action="store_true", help="print JSON (a list of objects)")
    p.set_defaults(func=_methods)

    helps = {"entropy": "entropy H(X) of a file of samples",
             "mi": "mutual information I(X;Y) between two files of paired samples",
             "cmi": "conditional mutual information I(X;Y|Z)"}
    for cmd, (_, nfiles) in _QUANTITY.items():
        p = sub.add_parser(cmd, help=helps[cmd],
                           description=helps[cmd] + ". Files: .npy, .npz (first array) or numeric "
                           ".csv; rows are samples. Knob flags (--k 5, --n-bins 30, ...) come from "
                           "the method's declarations: see `workbench methods`.")
        for name in "XYZ"[:nfiles]:
            p.add_argument(name, help=f"{name} samples file")
        p.add_argument("--method", default="auto", help="estimator name or 'auto' (default)")
        p.add_argument("--units", default="bits", choices=UNITS, help="bits (default) or nats")
        p.add_argument("--json", action="store_true", help="print JSON")
        if cmd == "mi":
            p.add_argument("--budget", default="fast", choices=api.BUDGETS,
                           help="with --method auto: 'fast' (default) or 'thorough' (may "
                                "train a MINDE score network in 5-10 dimensions)")
        p.set_defaults(func=_estimate, accepts_extra=True, cmd=cmd)


def _methods(args, extra) -> int:
    methods = api.methods()
    if args.json:
        print(json.dumps(methods, default=str, indent=1))
        return 0
    width = max(len(m["name"]) for m in methods)
    for m in methods:
        knobs = ", ".join(f"{k['name']}={k['default']!r}" for k in m["knobs"])
        print(f"{m['name']:<{width}}  {m['family']:<10} {', '.join(m['computes']):<45} {knobs}")
        print(f"{'':<{width}}  {m['summary']}")
    return 0


def _estimate(args, extra) -> int:
    quantity, nfiles = _QUANTITY[args.cmd]
    data = [load_array(getattr(args, n)) for n in "XYZ"[:nfiles]]
    knobs = {}
    if args.method != "auto":
        knobs = parse_knobs(get_estimator_class(args.method), extra)
    budget = {"budget": args.budget} if getattr(args, "budget", "fast") != "fast" else {}
    if args.method == "auto" and extra:
        choice = api.choose_method(*data, quantity=quantity, **budget)
        knobs = parse_knobs(get_estimator_class(choice.method), extra)
    func = getattr(api, quantity)
    start = time.perf_counter()
    value = func(*data, method=args.method, units=args.units, **budget, **knobs)
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"value": float(value), "units": value.units, "method": value.method,
                          "seconds": seconds, "knobs": value.knobs}, default=str))
    else:
        print(f"{value.describe()}  ({seconds:.3f} s)")
    return 0
