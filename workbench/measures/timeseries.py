"""Information measures of time series: transfer entropy (Schreiber 2000).

TE(X → Y) = I(Y_{t+1} ; X_t^(k) | Y_t^(l)), with the delay embeddings
Y_t^(l) = (Y_t, …, Y_{t−l+1}) and X_t^(k) = (X_{t+1−lag}, …, X_{t+2−lag−k}). It is computed by
:func:`workbench.conditional_mutual_info`, so any method that estimates CMI works: ``"ksg"``
(Frenzel & Pompe 2007; the usual choice for continuous series), ``"gaussian"`` (exact for linear
Gaussian processes, where TE equals Granger causality / 2), or a plug-in method for discrete
series.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import api
from ..errors import InputError
from ..units import DEFAULT_UNITS, Estimate
from ..validation import as_samples, check_same_length


def _series(s: Any, name: str) -> np.ndarray:
    arr = as_samples(s, name, dtype=None)
    if arr.shape[1] != 1:
        raise InputError(f"{name} must be a 1-D time series, got shape {arr.shape}; pass one "
                         "series (one column) at a time")
    return arr[:, 0]


def delay_embedding(source: Any, target: Any, lag: int = 1, history: int = 1,
                    source_history: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(future, source_past, target_past)`` rows for TE: Y_{t+1}, X_t^(k) and Y_t^(l) for
    every t where all are defined (``n − max(history, lag + source_history − 1)`` rows)."""
    for knob, value, low in (("lag", lag, 1), ("history", history, 1),
                             ("source_history", source_history, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise InputError(f"{knob} must be an integer >= {low}, got {value!r}")
    x, y = _series(source, "source"), _series(target, "target")
    n = check_same_length(source=x, target=y)
    start = max(history, lag + source_history - 1)  # index of the first predicted Y_{t+1}
    if n - start < 2:
        raise InputError(
            f"series of length {n} are too short for lag={lag}, history={history}, "
            f"source_history={source_history}: at least {start + 2} samples are needed")
    future = y[start:, None]
    # window w[i] = y[i : i + l]; the window ending at Y_t for future index s starts at s − l
    target_past = sliding_window_view(y, history)[start - history:n - history]
    first = start - lag - source_history + 1
    source_past = sliding_window_view(x, source_history)[first:n - lag - source_history + 1]
    return future, source_past, target_past


def transfer_entropy(source: Any, target: Any, lag: int = 1, history: int = 1,
                     source_history: int = 1, method: str = "ksg", units: str = DEFAULT_UNITS,
                     **knobs: Any) -> Estimate:
    """Transfer entropy TE(source → target) = I(Y_{t+1}; X_t^(k) | Y_t^(l)) in ``units``.

    ``lag``: delay from the source to the target (1: X_t drives Y_{t+1}); ``history`` = l,
    ``source_history`` = k. ``method`` and ``knobs`` go to
    :func:`workbench.conditional_mutual_info`. The raw estimate is returned (kNN estimates
    can be slightly negative when no information flows).

    >>> import numpy as np, workbench.measures.timeseries as ts
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, 5000)
    >>> y = np.roll(x, 1)                       # Y_{t+1} = X_t: one bit per step
    >>> round(ts.transfer_entropy(x, y, method="plugin"), 2)
    1.0
    """
    future, source_past, target_past = delay_embedding(source, target, lag, history,
                                                       source_history)
    return api.conditional_mutual_info(future, source_past, target_past, method=method,
                                       units=units, **knobs)
