"""Information dynamics of time series: transfer entropy (Schreiber 2000), multivariate
(conditional) transfer entropy and active information storage (Lizier, Prokopenko & Zomaya
2012, "Local measures of information storage in complex distributed computation").

* TE(X → Y) = I(Y_{t+1} ; X_t^(k) | Y_t^(l)), with the delay embeddings
  Y_t^(l) = (Y_t, …, Y_{t−l+1}) and X_t^(k) = (X_{t+1−lag}, …, X_{t+2−lag−k});
* multivariate TE (Lizier, Prokopenko & Zomaya 2008; Montalto, Faes & Marinazzo 2014):
  TE(X → Y | Z) = I(Y_{t+1} ; X_t^(k) | Y_t^(l), Z_t^(k)), each other source Z embedded like X;
* AIS(Y) = I(Y_{t+1} ; Y_t^(l)): how much of the next value the series' own past predicts.

All are computed by :func:`workbench.conditional_mutual_info` / :func:`workbench.mutual_info`,
so any method that estimates CMI works: ``"ksg"`` (Frenzel & Pompe 2007; the usual choice for
continuous series), ``"gaussian"`` (exact for linear Gaussian processes, where TE equals Granger
causality / 2), or a plug-in method for discrete series. :func:`transfer_entropy_test` adds a
surrogate p-value (:func:`workbench.measures.stats.surrogate_test`). Closed forms for coupled
linear-Gaussian VAR processes: :class:`workbench.bench.tasks.VARProcess`.
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


def _check_embedding(**knobs) -> None:
    for knob, value in knobs.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise InputError(f"{knob} must be an integer >= 1, got {value!r}")


def delay_embedding(source: Any, target: Any, lag: int = 1, history: int = 1,
                    source_history: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(future, source_past, target_past)`` rows for TE: Y_{t+1}, X_t^(k) and Y_t^(l) for
    every t where all are defined (``n − max(history, lag + source_history − 1)`` rows).
    ``source`` may have several columns (several sources): their windows are side by side."""
    _check_embedding(lag=lag, history=history, source_history=source_history)
    xs = as_samples(source, "source", dtype=None)
    y = _series(target, "target")
    n = check_same_length(source=xs, target=y)
    start = max(history, lag + source_history - 1)  # index of the first predicted Y_{t+1}
    if n - start < 2:
        raise InputError(
            f"series of length {n} are too short for lag={lag}, history={history}, "
            f"source_history={source_history}: at least {start + 2} samples are needed")
    future = y[start:, None]
    # window w[i] = y[i : i + l]; the window ending at Y_t for future index s starts at s − l
    target_past = sliding_window_view(y, history)[start - history:n - history]
    first = start - lag - source_history + 1
    source_past = np.hstack([sliding_window_view(x, source_history)
                             [first:n - lag - source_history + 1] for x in xs.T])
    return future, source_past, target_past


def transfer_entropy(source: Any, target: Any, lag: int = 1, history: int = 1,
                     source_history: int = 1, method: str = "ksg", units: str = DEFAULT_UNITS,
                     conditional: Any = None, **knobs: Any) -> Estimate:
    """Transfer entropy TE(source → target) = I(Y_{t+1}; X_t^(k) | Y_t^(l)) in ``units``.

    ``lag``: delay from the source to the target (1: X_t drives Y_{t+1}); ``history`` = l,
    ``source_history`` = k. ``conditional``: other sources (one series per column) whose
    pasts Z_t^(k), embedded like the source, are conditioned on as well (multivariate TE,
    I(Y_{t+1}; X_t^(k) | Y_t^(l), Z_t^(k))). ``method`` and ``knobs`` go to
    :func:`workbench.conditional_mutual_info`. The raw estimate is returned (kNN estimates
    can be slightly negative when no information flows).

    >>> import numpy as np, workbench.measures.timeseries as ts
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, 5000)
    >>> y = np.roll(x, 1)                       # Y_{t+1} = X_t: one bit per step
    >>> round(ts.transfer_entropy(x, y, method="plugin"), 2)
    1.0
    """
    source = _series(source, "source")  # one source; other sources go in ``conditional``
    future, source_past, target_past = delay_embedding(source, target, lag, history,
                                                       source_history)
    if conditional is not None:
        others = as_samples(conditional, "conditional", dtype=None)
        check_same_length(source=source, conditional=others)
        _, other_past, _ = delay_embedding(others, target, lag, history, source_history)
        target_past = np.hstack([target_past, other_past])
    result = api.conditional_mutual_info(future, source_past, target_past, method=method,
                                         units=units, **knobs)
    result.quantity = "TE(X→Y)" if conditional is None else "TE(X→Y|Z)"
    return result


def active_information_storage(series: Any, history: int = 1, method: str = "ksg",
                               units: str = DEFAULT_UNITS, **knobs: Any) -> Estimate:
    """Active information storage AIS(Y) = I(Y_{t+1}; Y_t^(l)) (Lizier et al. 2012), ``history``
    = l, in ``units``; ``method`` and ``knobs`` go to :func:`workbench.mutual_info`.

    >>> import numpy as np, workbench.measures.timeseries as ts
    >>> y = np.tile([0, 1], 500)                # alternating: the past fixes the next bit
    >>> round(ts.active_information_storage(y, method="plugin"), 2)
    1.0
    """
    _check_embedding(history=history)
    y = _series(series, "series")
    if len(y) - history < 2:
        raise InputError(f"a series of length {len(y)} is too short for history={history}")
    past = sliding_window_view(y, history)[:-1]
    result = api.mutual_info(y[history:, None], past, method=method, units=units, **knobs)
    result.quantity = "AIS(Y)"
    return result


def transfer_entropy_test(source: Any, target: Any, lag: int = 1, history: int = 1,
                          source_history: int = 1, method: str = "ksg",
                          units: str = DEFAULT_UNITS, conditional: Any = None, *,
                          n_surrogates: int = 100, surrogate: str = "shift",
                          block: int | None = None, resample_seed: Any = 0, **knobs: Any):
    """TE(source → target) (optionally conditional) with a surrogate p-value under
    H0 "no information flows from the source".

    The source series is replaced by ``n_surrogates`` surrogates that keep its own dynamics
    but break its timing relative to the target: ``surrogate="shift"`` (circular time shifts
    by at least ``block`` steps) or ``"block"`` (blocks of length ``block`` permuted), see
    :func:`workbench.measures.stats.surrogate_test`. Returns a
    :class:`~workbench.measures.stats.SurrogateResult`.
    """
    from .stats import surrogate_test

    def statistic(src):
        return float(transfer_entropy(src, target, lag, history, source_history, method,
                                      units, conditional, **knobs))

    te = transfer_entropy(source, target, lag, history, source_history, method, units,
                          conditional, **knobs)
    return surrogate_test(statistic, _series(source, "source"), observed=float(te),
                          n_surrogates=n_surrogates, kind=surrogate, block=block,
                          seed=resample_seed, units=units, method=te.method,
                          quantity=te.quantity)


def transfer_entropy_matrix(data: Any, names: Any = None, lag: int = 1, history: int = 1,
                            source_history: int = 1, method: str = "gaussian",
                            units: str = DEFAULT_UNITS, conditional: bool = False,
                            n_surrogates: int = 0, surrogate: str = "shift",
                            resample_seed: Any = 0, **knobs: Any):
    """TE(i → j) for every ordered pair of columns of ``data`` (one series per column), as a
    tidy pandas DataFrame: ``source``, ``target``, ``te``, ``units``, ``method`` and, with
    ``n_surrogates > 0``, ``p_value`` (:func:`transfer_entropy_test`). With ``conditional``
    each TE conditions on the pasts of all other columns (multivariate TE)."""
    import pandas as pd

    arr = as_samples(data, "data", dtype=None)
    k = arr.shape[1]
    if k < 2:
        raise InputError(f"data needs at least 2 columns (series), got {k}")
    names = [f"x{j}" for j in range(k)] if names is None else [str(v) for v in names]
    rows = []
    for i in range(k):  # k (k − 1) estimates; each is vectorised over the samples
        for j in range(k):
            if i == j:
                continue
            others = [c for c in range(k) if c not in (i, j)]
            z = arr[:, others] if conditional and others else None
            args = (arr[:, i], arr[:, j], lag, history, source_history, method, units, z)
            if n_surrogates:
                res = transfer_entropy_test(*args, n_surrogates=n_surrogates,
                                            surrogate=surrogate, resample_seed=resample_seed,
                                            **knobs)
                value, p, label = res.estimate, res.p_value, res.method
            else:
                est = transfer_entropy(*args, **knobs)
                value, p, label = float(est), float("nan"), est.method
            rows.append({"source": names[i], "target": names[j], "te": value, "p_value": p,
                         "units": units, "method": label})
    frame = pd.DataFrame(rows)
    return frame if n_surrogates else frame.drop(columns="p_value")
