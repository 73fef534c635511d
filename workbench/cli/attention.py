"""``workbench attention``: train the tiny character transformer, save the layer × head
attention-entropy heatmaps over training (PNG and HTML), the tidy rows, and print a summary
with entropy-collapse / entropic-overload flags."""
from __future__ import annotations

import json
from pathlib import Path

# Spelled out so that building the parser never imports torch (a test checks they equal
# workbench.attention.entropy.COLLAPSE_THRESHOLD and OVERLOAD_FRACTION).
COLLAPSE_THRESHOLD = 0.1
OVERLOAD_FRACTION = 0.75


def register(sub) -> None:
    p = sub.add_parser(
        "attention", help="attention entropy of a tiny character transformer over training",
        description="Train a tiny decoder-only character transformer on a shipped public-domain"
                    " text and measure per-layer, per-head attention entropy (bits) during "
                    "training. Writes rows.csv/rows.parquet (step, layer, head, entropy, ...), "
                    "summary.csv, config.json, heatmap.png and heatmap.html to --out, and prints "
                    "the final layer x head entropies with collapse/overload flags "
                    "(Jha & Reagen 2025, 'Entropy-guided attention for private LLMs').")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default 300)")
    p.add_argument("--layers", type=int, default=None, help="transformer blocks (default 4)")
    p.add_argument("--heads", type=int, default=None, help="heads per block (default 4)")
    p.add_argument("--d-model", type=int, default=None, dest="d_model",
                   help="residual width (default 32)")
    p.add_argument("--context", type=int, default=None, help="context length (default 32)")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 3e-3)")
    p.add_argument("--eval-every", type=int, default=None, dest="eval_every",
                   help="steps between entropy measurements (default 25)")
    p.add_argument("--no-layernorm", action="store_true", help="remove every LayerNorm")
    p.add_argument("--linear-ffn", action="store_true",
                   help="remove the feed-forward nonlinearity (linear FFN)")
    p.add_argument("--temperature", type=float, default=None,
                   help="attention temperature: logits / (sqrt(d) * T) (default 1)")
    p.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    p.add_argument("--collapse-threshold", type=float, default=COLLAPSE_THRESHOLD,
                   help=f"flag heads whose mean entropy is below this many bits "
                        f"(default {COLLAPSE_THRESHOLD})")
    p.add_argument("--overload-fraction", type=float, default=OVERLOAD_FRACTION,
                   help="flag heads whose mean entropy exceeds this fraction of the maximum "
                        f"(mean log2 of visible keys) (default {OVERLOAD_FRACTION})")
    p.add_argument("--snapshots", type=int, default=4, help="heatmaps over training (4)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_attention)


def _overrides(args) -> dict:
    names = {"steps": "steps", "layers": "n_layers", "heads": "n_heads", "d_model": "d_model",
             "context": "context", "lr": "lr", "eval_every": "eval_every",
             "temperature": "attention_temperature", "seed": "seed"}
    out = {knob: getattr(args, flag_) for flag_, knob in names.items()
           if getattr(args, flag_) is not None}
    if args.no_layernorm:
        out["remove_layernorm"] = True
    if args.linear_ffn:
        out["remove_ffn_nonlinearity"] = True
    return out


def _attention(args, extra) -> int:
    from ..attention.entropy import flag
    from ..attention.transformer import train_char_transformer
    from ..plots.static import save_attention_html, save_attention_png

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = train_char_transformer(**_overrides(args))
    rows = result.rows
    summary = flag(result.summary, collapse_threshold=args.collapse_threshold,
                   overload_fraction=args.overload_fraction)
    rows.to_csv(out / "rows.csv", index=False)
    rows.to_parquet(out / "rows.parquet", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    (out / "config.json").write_text(json.dumps(
        {**result.config, "collapse_threshold": args.collapse_threshold,
         "overload_fraction": args.overload_fraction, "stopped": result.stopped}, indent=1))
    save_attention_png(rows, out / "heatmap.png", args.snapshots)
    save_attention_html(rows, out / "heatmap.html", args.snapshots)

    last = rows[rows["step"] == rows["step"].max()]
    report = {
        "steps": int(rows["step"].max()), "stopped": result.stopped,
        "final_loss": float(last["loss"].iloc[0]),
        "final_val_loss": float(last["val_loss"].iloc[0]),
        "max_entropy_bits": float(summary["max_entropy"].iloc[0]),
        "entropy_bits": result.entropy_matrix().round(4).to_numpy().tolist(),
        "collapsed_heads": _heads(summary, "collapse"),
        "overloaded_heads": _heads(summary, "overload"),
        "out": str(out)}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"trained {report['steps']} steps: loss {report['final_loss']:.3f}, held-out "
          f"{report['final_val_loss']:.3f} nats/char" + (f" ({result.stopped})"
                                                         if result.stopped else ""))
    print(f"mean attention entropy (bits), layer x head; maximum (uniform causal) "
          f"{report['max_entropy_bits']:.3f} bits")
    for layer, row in enumerate(report["entropy_bits"]):
        print(f"  layer {layer}: " + "  ".join(f"{v:6.3f}" for v in row))
    print(f"collapse (< {args.collapse_threshold:g} bits): "
          f"{_fmt(report['collapsed_heads'])}")
    print(f"overload (> {args.overload_fraction:g} x max): "
          f"{_fmt(report['overloaded_heads'])}")
    print(f"wrote {out}/rows.csv, rows.parquet, summary.csv, config.json, heatmap.png, "
          "heatmap.html")
    return 0


def _heads(summary, column: str) -> list[list[int]]:
    hit = summary[summary[column].fillna(False).astype(bool)]
    return [[int(r.layer), int(r.head)] for r in hit.itertuples()]


def _fmt(heads: list[list[int]]) -> str:
    return ", ".join(f"L{l}H{h}" for l, h in heads) if heads else "none"


__all__ = ["register"]
