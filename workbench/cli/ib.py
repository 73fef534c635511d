"""``workbench ib``: train one bottleneck model per (β, seed) as Dask jobs and print the IB
table (loss = prediction + β · C, so a larger β compresses more)."""
from __future__ import annotations

import json

from ..cluster import add_scheduler_arguments
from ..units import UNITS

#: Objectives the command offers (kept free of torch: the parser never imports it; a test
#: checks this against workbench.ib.losses.OBJECTIVES).
OBJECTIVES = ("ce", "vib", "nonlinear_ib", "nonlinear_ib_squared", "csib", "mineib")
DATASETS = ("mnist1d", "digits", "tishby12", "gaussian_mixture")


def register(sub) -> None:
    p = sub.add_parser(
        "ib", help="train with an information bottleneck over several betas (IB curve)",
        description="Train one stochastic-bottleneck network per (beta, seed) with an IB "
                    "objective (loss = prediction + beta * bound on I(X;T)), store each as a "
                    "run, and print per beta: I(X;T) of the trained Gaussian bottleneck "
                    "(pairwise-KL bound, Kolchinsky & Tracey 2017), I(T;Y) by a named "
                    "workbench estimator on a sampled T, the objective's own bound, and the "
                    "train/test accuracy.")
    p.add_argument("--data", default="mnist1d", choices=DATASETS,
                   help="dataset (mnist1d: 4000/1000 x 40, 10 classes, generated locally)")
    p.add_argument("--objective", default="vib", choices=OBJECTIVES,
                   help="ce (beta ignored), vib, nonlinear_ib[_squared], csib, mineib")
    p.add_argument("--betas", default="1e-4,1e-3,1e-2,1e-1", metavar="B[,B...]",
                   help="trade-off parameters (larger: more compression)")
    p.add_argument("--seeds", default="0", metavar="S[,S...]", help="seeds (0)")
    p.add_argument("--epochs", type=int, default=30, help="epochs per run (30)")
    p.add_argument("--hidden", default="128-128", metavar="W-W",
                   help="encoder hidden widths (128-128)")
    p.add_argument("--k", type=int, default=8, help="bottleneck dimensions (8)")
    p.add_argument("--conv", type=int, default=0, metavar="C",
                   help="channels of a 1-D convolutional front before the encoder MLP (0: none)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (1e-3)")
    p.add_argument("--batch-size", type=int, default=128, help="mini-batch size (128)")
    p.add_argument("--rows", type=int, default=2000,
                   help="rows the plane is measured on (seeded subset of train + test; "
                        "I(X;T) <= log2(rows) bits)")
    p.add_argument("--ty-estimator", default="mixed",
                   help="registered estimator of I(T;Y) on a sampled T (mixed: Gao et al.'s "
                        "kNN for continuous T and discrete Y); 'channel' uses the pairwise "
                        "estimate instead")
    p.add_argument("--units", default="bits", choices=UNITS)
    add_scheduler_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run store folder (default: workbench.runs.default_root())")
    p.add_argument("--json", action="store_true",
                   help="print a list of records (beta, seed, I_XT, I_TY, bound_XT, "
                        "test_accuracy, units, ...)")
    p.set_defaults(func=_ib)


def _ib(args, extra) -> int:
    from ..ib.sweep import format_table, parse_floats, sweep
    from ..runs import default_root
    from ..training.seeds import parse_seeds

    betas, seeds = parse_floats(args.betas), parse_seeds(args.seeds)
    out = str(args.out or default_root())
    records = sweep(args.data, args.objective, betas, seeds, scheduler=args.scheduler,
                    n_workers=args.workers, out=out, epochs=args.epochs, hidden=args.hidden,
                    k=args.k, conv=args.conv, lr=args.lr, batch_size=args.batch_size,
                    subsample=args.rows, units=args.units,
                    ty_estimator=None if args.ty_estimator == "channel" else args.ty_estimator)
    if args.json:
        print(json.dumps(records, indent=1))
    else:
        print(format_table(records))
        print(f"runs stored in {out}")
    return 0
