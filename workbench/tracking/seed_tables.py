"""Tables over seeds: the mean information-plane trajectory with its spread, and the
compression table with its spread, from the tidy rows of
:func:`workbench.training.seeds.run_seeds` (columns ``group`` and ``seed`` added to the
tracker's rows). No plotting imports.

Spread is the sample standard deviation over seeds (ddof = 1; 0 for a single seed): the band
``mean ± std`` shows how far one run strays from the mean, which is what decides whether a
single run could show compression by chance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .tables import compression_table, pick_estimator, plane_table

BAND_COLUMNS = ("group", "layer", "layer_index", "epoch", "ixt_mean", "ixt_std", "ity_mean",
                "ity_std", "n_seeds")


def _groups(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("run", "group", "seed"):
        if col not in frame.columns:
            raise InputError(f"the frame lacks the column {col!r}; seed tables need the rows "
                             "of workbench.training.seeds.run_seeds")
    return frame[["run", "group", "seed"]].drop_duplicates("run")


def _over_seeds(frame: pd.DataFrame, keys: list[str], values: dict[str, str],
                order: list) -> pd.DataFrame:
    """Per ``keys`` group (in first-seen order), ``{prefix}_mean`` and ``{prefix}_std`` of each
    column in ``values`` ({prefix: column}; sample std, ddof = 1, 0 for a single seed) and
    ``n_seeds``, in one vectorised groupby. ``keys`` start with "group" and "layer"; rows are
    ordered by the groups' ``order``, then by the keys after those two."""
    grouped = frame.groupby(keys, sort=False)
    stats = {}
    for prefix, col in values.items():
        stats[f"{prefix}_mean"] = (col, "mean")
        stats[f"{prefix}_std"] = (col, "std")
    out = grouped.agg(**stats, n_seeds=("seed", "nunique"), _size=("seed", "size"))
    single = out.pop("_size") == 1
    for prefix in values:
        out.loc[single, f"{prefix}_std"] = 0.0
    out = out.reset_index()
    out["_g"] = out["group"].map({g: i for i, g in enumerate(order)})
    return out.sort_values(["_g", *keys[2:]]).drop(columns="_g").reset_index(drop=True)


def seed_band(frame: pd.DataFrame, estimator: str | None = None,
              units: str = "bits") -> pd.DataFrame:
    """Per group, layer and epoch: mean and std over seeds of I(X;T) (``ixt_*``) and I(T;Y)
    (``ity_*``) in ``units``, and how many seeds measured that epoch (``n_seeds``)."""
    est = pick_estimator(frame, estimator)
    groups = _groups(frame)
    wide = plane_table(frame, est, units).merge(groups, on="run")
    out = _over_seeds(wide, ["group", "layer", "layer_index", "epoch"],
                      {"ixt": "ixt", "ity": "ity"}, list(dict.fromkeys(groups["group"])))
    return out.astype({"layer_index": int, "epoch": int, "n_seeds": int})[list(BAND_COLUMNS)]


def compression_over_seeds(frame: pd.DataFrame, estimator: str | None = None,
                           quantity: str = "I(X;T)", min_drop: float = 0.5) -> pd.DataFrame:
    """Per group and layer, over seeds: mean and std of the peak of ``quantity``, of its final
    value and of the drop ``peak − final`` (:func:`~workbench.tracking.tables.compression_table`
    per run), and ``compressing``: how many seeds dropped by more than ``min_drop`` (in the
    frame's units; half a bit by default, well above the run-to-run wobble of a layer that
    keeps its information, about 0.05 bit on the 12-bit task) out of ``n_seeds``.

    This is the Tishby / Saxe question over seeds: a group compresses a layer when most seeds
    drop and the mean drop stands clear of its spread, not when one run happens to fall."""
    est = pick_estimator(frame, estimator)
    groups = _groups(frame)
    per_run = compression_table(frame, est, quantity).merge(groups, on="run")
    keys = ["group", "layer", "layer_index"]
    out = _over_seeds(per_run, keys, {"peak": "peak", "final": "final", "drop": "drop"},
                      list(dict.fromkeys(groups["group"])))
    by = per_run.assign(_down=per_run["drop"] > min_drop).groupby(keys, sort=False)
    extra = by.agg(compressing=("_down", "sum"), units=("units", "first")).reset_index()
    out = out.merge(extra, on=keys, how="left").assign(estimator=est)
    out = out.astype({"layer_index": int, "compressing": int, "n_seeds": int})
    return out[[*keys, "peak_mean", "peak_std", "final_mean", "final_std", "drop_mean",
                "drop_std", "compressing", "n_seeds", "units", "estimator"]]


def format_compression(table: pd.DataFrame) -> str:
    """The table of :func:`compression_over_seeds` as text: ``mean ± std`` cells and
    ``k/n`` seeds compressing."""
    def pm(m, s):
        return f"{m:.3f} ± {s:.3f}"

    shown = pd.DataFrame({
        "group": table["group"], "layer": table["layer"],
        "peak": [pm(m, s) for m, s in zip(table["peak_mean"], table["peak_std"])],
        "final": [pm(m, s) for m, s in zip(table["final_mean"], table["final_std"])],
        "drop": [pm(m, s) for m, s in zip(table["drop_mean"], table["drop_std"])],
        "seeds compressing": [f"{k}/{n}" for k, n in zip(table["compressing"],
                                                         table["n_seeds"])]})
    return shown.to_string(index=False)


def group_verdict(table: pd.DataFrame, hidden_only: bool = True) -> pd.DataFrame:
    """Per group: the share of (layer, seed) pairs that compress and the mean drop over
    layers and seeds, from :func:`compression_over_seeds` rows. ``hidden_only`` leaves out
    each group's last layer, the softmax output, whose binned I(X;T) falls in every network
    once the outputs crowd into the edge bins (it says nothing about the activation)."""
    rows = []
    for group, g in table.groupby("group", sort=False):
        if hidden_only:
            g = g[g["layer_index"] < g["layer_index"].max()]
        n = int(g["n_seeds"].sum())
        rows.append({"group": group, "compressing_share": float(g["compressing"].sum() / n)
                     if n else np.nan, "mean_drop": float(g["drop_mean"].mean())})
    return pd.DataFrame(rows)


__all__ = ["BAND_COLUMNS", "compression_over_seeds", "format_compression", "group_verdict",
           "seed_band"]
