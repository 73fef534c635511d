"""HoloViews elements for the Decoding Lab: per-token entropy of the model's distribution and of
the truncated distribution actually sampled (:meth:`workbench.text.generate.DecodingSession.
table`), over the stable entropy band, and the semantic-entropy clusters as bars. Every value
axis names its unit."""
from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the Bokeh plot options used below)
import pandas as pd

_SIZE = {"responsive": True, "show_grid": True, "fontsize": {"title": 11, "labels": 11,
                                                             "ticks": 9}}
MODEL_COLOR, TRUNCATED_COLOR, BAND_COLOR = "#1f4e79", "#d62728", "#2ca02c"


def entropy_trace(table: pd.DataFrame, band=None, units: str = "bits",
                  title: str = "") -> hv.Overlay:
    """Model entropy H(p_t) and truncated entropy H(q_t) against the token position, over the
    band ``band.low``..``band.high`` (a :class:`~workbench.text.generate.StableBand`, drawn
    across the positions shown) when given. ``table`` may be empty (axes only)."""
    if len(table) and table["units"].iloc[0] != units:
        units = table["units"].iloc[0]
    label = f"entropy ({units})"
    pos = hv.Dimension("position", label="generated character")
    ent = hv.Dimension("model_entropy", label=label)
    frame = table[["position", "model_entropy", "truncated_entropy", "char"]]
    model = hv.Curve(frame, pos, [ent, "char"], label="model H(p)").opts(
        color=MODEL_COLOR, line_width=2, tools=["hover"])
    cut = hv.Curve(frame, pos, [hv.Dimension("truncated_entropy", label=label), "char"],
                   label="sampled H(q)").opts(
        color=TRUNCATED_COLOR, line_width=2, line_dash="dashed", tools=["hover"])
    layers = [model, cut]
    if band is not None:
        right = max(1, len(table) - 1)
        area = pd.DataFrame({"position": [0, right], "band_low": [band.low] * 2,
                             "band_high": [band.high] * 2})
        layers.insert(0, hv.Area(area, pos, [hv.Dimension("band_low", label=label),
                                             "band_high"],
                                 label=f"stable band ({band.source}, ±{band.k:g}σ)").opts(
            color=BAND_COLOR, alpha=0.2, line_alpha=0))
    return hv.Overlay(layers).opts(
        height=320, ylabel=label, legend_position="right",
        title=title or f"Entropy per generated character ({units})", **_SIZE)


def cluster_bars(clusters: pd.DataFrame, units: str = "bits", title: str = "") -> hv.Bars:
    """Probability of each semantic cluster, from counts and from sequence probabilities."""
    long = clusters.melt(id_vars=["cluster"], value_vars=["p_counts", "p_weighted"],
                         var_name="estimate", value_name="probability")
    long["estimate"] = long["estimate"].map({"p_counts": "counts",
                                             "p_weighted": "sequence probability"})
    long["cluster"] = long["cluster"].replace("", "(no word)")
    bars = hv.Bars(long, kdims=["cluster", "estimate"], vdims=["probability"])
    return bars.opts(height=300, ylabel="p(cluster)", xrotation=30, tools=["hover"],
                     title=title or f"Clusters of sampled continuations (entropies in {units})",
                     **_SIZE)
