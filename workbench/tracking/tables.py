"""Tidy frames to tables: wide pivots, the information-plane table, the live pages' tables
(:func:`info_table`, :func:`metric_table`, :func:`layer_series`), compression and final values
per layer, axis bounds, and the colours every plot of layers shares. No plotting imports.
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
#: Information quantities per layer, in the column order of :func:`info_table`.
PLANE_QUANTITIES = {"I(X;T)": "ixt", "I(T;Y)": "ity", "H(T)": "ht"}
#: Training metrics (loss in nats, accuracy a fraction), in the order of :func:`metric_table`.
METRICS = ("loss", "test_loss", "accuracy", "test_accuracy")
INFO_COLUMNS = {"layer": "object", "layer_index": "int64", "epoch": "int64", "ixt": "float64",
                "ity": "float64", "ht": "float64"}
METRIC_COLUMNS = {"epoch": "int64", **{q: "float64" for q in METRICS}}
SERIES_COLUMNS = {"layer": "object", "layer_index": "int64", "epoch": "int64",
                  "value": "float64"}


def empty_table(columns: dict) -> pd.DataFrame:
    """An empty table with these column dtypes (what a streaming plot starts from)."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


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


def info_table(frame: pd.DataFrame, estimator: str, units: str = "bits") -> pd.DataFrame:
    """One row per (layer, epoch) of ``estimator``'s measurements, columns
    :data:`INFO_COLUMNS` (``ixt``, ``ity``, ``ht`` in ``units``; NaN where the estimator does
    not compute that quantity), sorted by layer and epoch."""
    rows = frame[(frame["estimator"] == estimator) & frame["quantity"].isin(PLANE_QUANTITIES)]
    if rows.empty:
        return empty_table(INFO_COLUMNS)
    wide = wide_table(frame_in_units(rows, units), ["layer", "layer_index", "epoch"],
                      PLANE_QUANTITIES).rename(columns=PLANE_QUANTITIES)
    wide = wide.sort_values(["layer_index", "epoch"]).reset_index(drop=True)
    return wide[list(INFO_COLUMNS)].astype(INFO_COLUMNS)


def metric_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per epoch: :data:`METRICS` (NaN where absent), sorted by epoch."""
    rows = frame[frame["quantity"].isin(METRICS)]
    if rows.empty:
        return empty_table(METRIC_COLUMNS)
    wide = wide_table(rows, ["epoch"], METRICS).sort_values("epoch").reset_index(drop=True)
    return wide.astype(METRIC_COLUMNS)


def layer_series(frame: pd.DataFrame, estimator: str, quantity: str) -> pd.DataFrame:
    """``quantity`` by ``estimator`` per layer and epoch: columns :data:`SERIES_COLUMNS`
    (values as stored; the tracker already wrote them in the run's units)."""
    rows = frame[(frame["estimator"] == estimator) & (frame["quantity"] == quantity)]
    if rows.empty:
        return empty_table(SERIES_COLUMNS)
    table = rows.groupby(["layer", "layer_index", "epoch"], as_index=False)["value"].mean()
    return table.sort_values(["layer_index", "epoch"]).reset_index(drop=True).astype(
        SERIES_COLUMNS)


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


def plane_limits(x=None, y=None, frame: pd.DataFrame | None = None,
                 units: str = "bits") -> tuple[float, float]:
    """Fixed axis ranges of an information plane that grows live, with a margin so the largest
    possible point stays inside: from the inputs ``x`` and labels ``y`` (H(X), H(Y); see
    :func:`axis_limits`), or from the largest I(X;T) and I(T;Y) in a saved ``frame``."""
    if frame is None:
        h_x, h_y = axis_limits(x, y, units)
        return h_x * 1.03, h_y * 1.05
    info = frame_in_units(frame[frame["quantity"].isin(["I(X;T)", "I(T;Y)"])], units)
    top = info.groupby("quantity")["value"].max()
    return (max(1.0, top.get("I(X;T)", 1.0)) * 1.05, max(0.1, top.get("I(T;Y)", 0.1)) * 1.05)


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
