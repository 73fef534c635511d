"""Tidy frames to tables: wide pivots, the information-plane table, compression and final
values per layer, axis bounds, and the colours every plot of layers shares. No plotting imports.
"""
from __future__ import annotations

import math

import pandas as pd

from ..errors import InputError
from ..estimators.encoding import encode_rows
from ..units import convert_columns, from_nats
from ..validation import to_numpy

LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"]
EPOCH_CMAP = "viridis"


def estimators_in(frame: pd.DataFrame) -> list[str]:
    """Estimator labels of the information rows, in order of appearance."""
    info = frame[frame["estimator"].astype(str) != ""]
    return list(dict.fromkeys(info["estimator"]))


def pick_estimator(frame: pd.DataFrame, estimator: str | None) -> str:
    found = estimators_in(frame)
    if not found:
        raise InputError("the frame holds no information-plane rows (no estimator column values)")
    if estimator is None:
        return found[0]
    if estimator not in found:
        raise InputError(f"estimator {estimator!r} not in the frame; it has {found}")
    return estimator


def frame_in_units(df: pd.DataFrame, units: str) -> pd.DataFrame:
    """``df`` with its bits/nats ``value`` rows converted to ``units`` (loss and accuracy
    rows, in other units, unchanged)."""
    return convert_columns(df, ["value"], units)


def wide_table(rows: pd.DataFrame, index, columns, by: str = "quantity") -> pd.DataFrame:
    """Tidy ``rows`` pivoted to one row per ``index`` and one column per value of ``by`` listed
    in ``columns``, in that order (the mean of repeated rows; NaN where a value is missing)."""
    index, columns = list(index), list(columns)
    if rows.empty:
        return pd.DataFrame(columns=index + columns)
    wide = rows.pivot_table(index=index, columns=by, values="value", aggfunc="mean")
    wide = wide.reindex(columns=columns).reset_index()
    wide.columns.name = None
    return wide


def plane_table(frame: pd.DataFrame, estimator: str | None = None,
                units: str = "bits") -> pd.DataFrame:
    """Wide table: run, layer, layer_index, epoch, ``ixt`` = I(X;T), ``ity`` = I(T;Y), in
    ``units``."""
    est = pick_estimator(frame, estimator)
    df = frame_in_units(frame[(frame["estimator"] == est)
                              & frame["quantity"].isin(["I(X;T)", "I(T;Y)"])], units)
    wide = wide_table(df, ["run", "layer", "layer_index", "epoch"], ["I(X;T)", "I(T;Y)"])
    wide = wide.rename(columns={"I(X;T)": "ixt", "I(T;Y)": "ity"}).dropna(subset=["ixt", "ity"])
    return wide.sort_values(["run", "layer_index", "epoch"]).reset_index(drop=True)


def compression_table(frame: pd.DataFrame, estimator: str | None = None,
                      quantity: str = "I(X;T)") -> pd.DataFrame:
    """Per layer (and run): peak of ``quantity`` over epochs, its epoch, the final value and the
    drop ``peak − final`` (a positive drop is compression)."""
    df = frame[frame["quantity"] == quantity]
    if estimator is not None:
        df = df[df["estimator"] == estimator]
    if df.empty:
        raise InputError(f"no {quantity} rows" + (f" for estimator {estimator!r}" if estimator
                                                  else ""))
    out = []
    for (run, est, layer, li), g in df.groupby(["run", "estimator", "layer", "layer_index"]):
        g = g.sort_values("epoch")
        peak_at = int(g["value"].to_numpy().argmax())
        out.append({"run": run, "estimator": est, "layer": layer, "layer_index": li,
                    "peak": float(g["value"].iloc[peak_at]),
                    "peak_epoch": int(g["epoch"].iloc[peak_at]),
                    "final": float(g["value"].iloc[-1]), "final_epoch": int(g["epoch"].iloc[-1]),
                    "drop": float(g["value"].iloc[peak_at] - g["value"].iloc[-1]),
                    "units": g["units"].iloc[0]})
    return pd.DataFrame(out).sort_values(["run", "estimator", "layer_index"]).reset_index(drop=True)


def axis_limits(x, y, units: str = "bits") -> tuple[float, float]:
    """Upper bounds of the information plane's axes for inputs ``x`` and labels ``y``, in
    ``units``: I(X;T) ≤ H(X) ≤ log(number of distinct input rows) and I(T;Y) ≤ H(Y), the
    plug-in entropy of the labels (what the binned estimates can reach at most)."""
    from ..api import entropy

    distinct = encode_rows(to_numpy(x))[1]
    return (from_nats(math.log(distinct), units),
            float(entropy(to_numpy(y), method="plugin", units=units)))


def final_values(frame: pd.DataFrame, quantity: str, estimator: str | None = None,
                 last: int = 1) -> pd.Series:
    """Per layer: the mean of ``quantity`` over the ``last`` recorded epochs."""
    df = frame[frame["quantity"] == quantity]
    if estimator is not None:
        df = df[df["estimator"] == estimator]
    if df.empty:
        raise InputError(f"no {quantity!r} rows" + (f" for {estimator!r}" if estimator else ""))
    epochs = sorted(df["epoch"].unique())[-last:]
    df = df[df["epoch"].isin(epochs)]
    return df.groupby("layer_index")["value"].mean()
