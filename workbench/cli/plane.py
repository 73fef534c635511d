"""``workbench plane``: train a small network while tracking its information plane.

With no arguments it reproduces the Shwartz-Ziv & Tishby picture on the 12-bit task in well under
a minute: 12-10-7-5-4-3-2 tanh network, Adam (lr 0.004, batch 256) for 300 epochs, 30 bins on
[−1, 1]. It writes a run folder (config.json, metrics.parquet) under ``--out`` plus
``plane.png`` and ``plane.html``, and prints a per-layer compression table.

``--seeds 0-9`` (and/or several ``--activation tanh,relu`` or ``--arch A B``) trains one run per
(seed, activation, arch) as Dask tasks (``--scheduler``, :func:`workbench.cluster.map_jobs`),
saves each as a run, and prints the compression table with its spread over seeds; the mean
trajectories with their bands go to ``seeds.html`` in an experiment folder beside the runs
(:mod:`workbench.training.seeds`).
"""
from __future__ import annotations

import argparse
import time

from ..cluster import add_scheduler_arguments
from ..errors import KnobError
from ..estimators import get_estimator_class
from ..tracking.binning_rules import BIN_RULES
from ..units import UNITS
from .knobs import parse_knobs

# Spelled out here so that building the parser never imports torch (a test checks they match
# workbench.training.models.ACTIVATIONS and workbench.training.loop.OPTIMIZERS).
ACTIVATIONS = ("tanh", "relu", "sigmoid", "elu", "gelu", "linear")
OPTIMIZERS = ("adam", "sgd")
#: --objective: the plain network or an IB loss of workbench.ib.losses (a test checks them).
OBJECTIVES = ("cross_entropy", "vib", "nonlinear_ib", "csib")

DEFAULTS = {"data": "tishby12", "activation": "tanh", "epochs": 300, "lr": 0.004,
            "optimizer": "adam", "batch_size": 256, "estimator": "binning", "n_bins": 30,
            "bin_rule": "auto", "out": None, "seed": 0}


def register(sub) -> None:
    p = sub.add_parser(
        "plane", help="train a network and track its information plane",
        description="Train a small MLP and record I(X;T), I(T;Y) and H(T) of every layer each "
                    "epoch. Writes a run (config.json + metrics.parquet) and plane.png / "
                    "plane.html under --out/RUN_ID. With no arguments: the Shwartz-Ziv & Tishby "
                    "12-bit tanh network, 30 bins on [-1, 1].")
    p.add_argument("--data", default=DEFAULTS["data"],
                   help="tishby12 (default), digits, gaussian_mixture, mnist1d, or a .npz (x, y) / "
                        ".npy (last column label) / .csv (column 'label' or 'y', else last) file")
    p.add_argument("--arch", default=None, nargs="+",
                   help="layer widths, e.g. 12-10-7-5-4-3-2 (default for tishby12; "
                        "d-10-7-5-4-3-k otherwise), or 'cnn': the 1-D CNN (--data mnist1d "
                        "only; its plane defaults to compressed_ksg on 1000 rows); several "
                        "(space-separated) train one run per architecture")
    p.add_argument("--activation", default=None, type=_activations,
                   help=f"one of {', '.join(ACTIVATIONS)}, or several comma-separated "
                        "(tanh,relu: one run per activation); default tanh (relu, the only "
                        "one, with an IB --objective)")
    p.add_argument("--objective", default="cross_entropy", choices=list(OBJECTIVES),
                   help="cross_entropy (default: the MLP, every layer tracked) or an IB loss "
                        "= prediction + β·C: each run then trains a Gaussian bottleneck T "
                        "(the last hidden width of --arch) and tracks T; runs as a seed grid")
    p.add_argument("--beta", type=float, default=None,
                   help="β of an IB --objective (default 1e-3)")
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="learning rate")
    p.add_argument("--optimizer", default=DEFAULTS["optimizer"], choices=list(OPTIMIZERS))
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], dest="batch_size")
    p.add_argument("--weight-decay", type=float, default=0.0, dest="weight_decay")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--seeds", default=None, metavar="0-9",
                   help="train one run per seed (e.g. 0-9 or 0,2,5-7) and report the mean "
                        "trajectory and the spread over seeds")
    p.add_argument("--estimator", default=None,
                   help="comma-separated methods, each a name or name(knob=value, ...), e.g. "
                        "'binning,adaptive_binning' or 'binning(n_bins=30),binning(bin_width=0.1)'"
                        " (default: binning; compressed_ksg(dim=4, noise_std=0.1, k=3) for "
                        "--arch cnn)")
    p.add_argument("--n-bins", type=int, default=DEFAULTS["n_bins"], dest="n_bins",
                   help="bins per neuron for binning / adaptive_binning (default 30)")
    p.add_argument("--bin-rule", default=DEFAULTS["bin_rule"], choices=list(BIN_RULES),
                   dest="bin_rule",
                   help="binning range: fixed (activation bounds), observed (follows the data "
                        "each epoch), width (fixed width 2/n_bins), auto (fixed for tanh/sigmoid)")
    p.add_argument("--knob", action="append", default=[], metavar="METHOD.KNOB=VALUE",
                   help="an estimator knob, e.g. --knob kde.noise_variance=0.1 (repeatable)")
    p.add_argument("--every", default=1, type=_every,
                   help="record every N epochs, or 'log' for log-spaced epochs (default 1)")
    p.add_argument("--subsample", type=int, default=None,
                   help="measure on this many rows only (default: all; 1000 for --arch cnn)")
    p.add_argument("--units", default="bits", choices=UNITS)
    p.add_argument("--out", default=DEFAULTS["out"],
                   help="run store folder (default: $WORKBENCH_RUNS or workbench/runs in your "
                        "data directory)")
    p.add_argument("--run-id", default=None, dest="run_id", help="name of the run folder")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: fastest for these tiny networks)")
    p.add_argument("--no-html", action="store_true", dest="no_html",
                   help="skip plane.html (about 3 MB with BokehJS inlined)")
    p.add_argument("--quiet", action="store_true")
    add_scheduler_arguments(p)
    p.set_defaults(func=_plane)


def _activations(text: str) -> list[str]:
    """The comma-separated activation names, stripped and checked."""
    names = [a.strip() for a in text.split(",")]
    bad = [a for a in names if a not in ACTIVATIONS]
    if bad or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"expected activations among {', '.join(ACTIVATIONS)} (comma-separated, each once), "
            f"got {text!r}")
    return names


def _estimators(given: str | None, archs) -> str:
    """``--estimator`` as given, else the default: binning, or for the 1-D CNN (its feature
    maps keep every MNIST-1D row apart, so binned I(X;T) = log2 n) the compressed KSG of
    :mod:`workbench.training.mnist1d_plane`. Bad names fail here, before any training."""
    from ..training.mnist1d_plane import ESTIMATOR, is_cnn

    if given is not None:
        return given
    if any(is_cnn(a) for a in archs):
        name, knobs = ESTIMATOR
        return f"{name}({', '.join(f'{k}={v}' for k, v in knobs.items())})"
    return DEFAULTS["estimator"]


def _every(text: str):
    if text == "log":
        return "log"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'log', got {text!r}")
    return value


def split_specs(text: str) -> list[str]:
    """Split ``"binning(n_bins=30, range_min=-1),kde"`` at the commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth != 0:
        raise KnobError(f"unbalanced parentheses in --estimator {text!r}")
    return [s for s in [*out, cur.strip()] if s]


def parse_spec(spec: str) -> tuple[str, dict]:
    """``"binning(n_bins=30, range_min=-1)"`` → ``("binning", {"n_bins": 30, "range_min": -1.0})``
    (the format of ``Estimator.label()``; knob values are typed by the method's declarations)."""
    name, paren, rest = spec.partition("(")
    name = name.strip()
    cls = get_estimator_class(name)
    if not paren:
        return name, {}
    if not rest.endswith(")"):
        raise KnobError(f"estimator spec {spec!r} must end with ')'")
    args = []
    for item in (i.strip() for i in rest[:-1].split(",")):
        if not item:
            continue
        knob, eq, value = item.partition("=")
        if not eq:
            raise KnobError(f"estimator spec {spec!r}: expected KNOB=VALUE, got {item!r}")
        args.extend([f"--{knob.strip()}", value.strip()])
    return name, parse_knobs(cls, args)


def parse_knob_options(items: list[str], methods: list[str]) -> dict:
    """``["kde.noise_variance=0.1", ...]`` → ``{"kde": {"noise_variance": 0.1}}`` (typed)."""
    raw: dict[str, list[str]] = {}
    for item in items:
        head, sep, value = item.partition("=")
        method, dot, knob = head.partition(".")
        if not (sep and dot and method and knob):
            raise KnobError(f"--knob expects METHOD.KNOB=VALUE, got {item!r}")
        if method not in methods:
            raise KnobError(f"--knob {item!r}: method {method!r} is not among --estimator "
                            f"{','.join(methods)}")
        raw.setdefault(method, []).extend([f"--{knob}", value])
    return {m: parse_knobs(get_estimator_class(m), args) for m, args in raw.items()}


def _plane(args, extra) -> int:
    from ..plots.static import save_plane_html, save_plane_png
    from ..runs import RunStore
    from ..tracking.tables import compression_table, estimators_in
    from ..training.experiments import run_experiment


    archs = args.arch or [None]
    if args.subsample is None:  # all rows for the MLPs, 1000 for the CNN (run_experiment's)
        args.subsample = "default"
    specs = [parse_spec(s) for s in split_specs(_estimators(args.estimator, archs))]
    methods = [name for name, _ in specs]
    knobs = parse_knob_options(args.knob, methods)
    # run_experiment puts explicit knobs on top of the binning rule's defaults
    # a bare name takes the defaults above; name(knob=value, ...) gives exactly those knobs
    methods = [name if not k else (name, k) for name, k in specs]
    activations = args.activation or [DEFAULTS["activation"]]
    if args.beta is not None and args.objective == "cross_entropy":
        raise KnobError("--beta is the β of an IB --objective (vib, nonlinear_ib, csib)")
    if args.objective != "cross_entropy":  # a bottleneck grid (seeds: --seeds or --seed)
        from ..training.mnist1d_plane import is_cnn
        from .plane_seeds import plane_seeds

        if args.estimator is not None or args.knob:
            raise KnobError("--estimator/--knob do not apply with an IB --objective: the "
                            "bottleneck T is measured from its own noise (pairwise bounds "
                            "on its Gaussian mixture; workbench.ib.channel)")
        if any(a is not None and is_cnn(a) for a in archs):
            raise KnobError("an IB --objective trains the MLP bottleneck network; give MLP "
                            "widths for --arch (e.g. 40-64-8-10), not 'cnn'")

        return plane_seeds(args, methods, knobs, args.activation, archs)
    if args.seeds is not None or len(activations) > 1 or len(archs) > 1:
        from .plane_seeds import plane_seeds

        return plane_seeds(args, methods, knobs, activations, archs)
    store = RunStore(args.out)
    last = [time.perf_counter()]

    def progress(epoch, model, metrics):
        if args.quiet or (epoch % max(1, args.epochs // 10) and epoch != args.epochs):
            return
        now = time.perf_counter()
        print(f"epoch {epoch:>5}  train acc {metrics['train_accuracy']:.3f}  test acc "
              f"{metrics['test_accuracy']:.3f}  loss {metrics['train_loss']:.4f}  "
              f"({now - last[0]:.1f} s)", flush=True)
        last[0] = now

    start = time.perf_counter()
    plane, result, _ = run_experiment(
        data=args.data, arch=archs[0], activation=activations[0], epochs=args.epochs,
        lr=args.lr, optimizer=args.optimizer, batch_size=args.batch_size, seed=args.seed,
        estimators=methods, estimator_knobs=knobs, n_bins=args.n_bins, bin_rule=args.bin_rule,
        every=args.every, units=args.units, store=store, subsample=args.subsample,
        weight_decay=args.weight_decay, callbacks=[progress], run=args.run_id,
        threads=args.threads)
    run = plane.store
    frame = plane.frame()
    png = save_plane_png(frame, run.path / "plane.png", units=args.units)
    html = None if args.no_html else save_plane_html(frame, run.path / "plane.html",
                                                     units=args.units)
    seconds = time.perf_counter() - start
    train_s = sum(h["seconds"] for h in result.history)
    print(f"\nrun {run.id}: {result.epochs_completed} epochs in {seconds:.1f} s "
          f"(updates {train_s:.1f} s, tracking {sum(c['seconds'] for c in plane.costs):.1f} s)")
    for est in estimators_in(frame):
        table = compression_table(frame, est)
        print(f"\nI(X;T) per layer [{args.units}], {est}:")
        print(table[["layer", "peak", "peak_epoch", "final", "drop"]].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nwrote {run.path / 'config.json'}\n      {run.path / 'metrics.parquet'}\n      {png}")
    if html is not None:
        print(f"      {html}")
    return 0
