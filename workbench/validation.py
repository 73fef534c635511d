"""The one place where input is checked and coerced (cf. scikit-learn's ``check_array``).

Samples are rows: arrays are ``(n_samples, n_features)``; 1-D means one feature. numpy arrays,
lists, pandas objects and CPU (or GPU, moved to CPU) torch tensors are accepted. Anything that
would give a silently wrong number raises :class:`~workbench.errors.InputError` instead.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InputError

#: Largest number of distinct values per column for a whole-number float column to count as
#: discrete in :func:`is_discrete` (integer and bool dtypes always count as discrete).
MAX_DISCRETE_LEVELS = 256


def _is_torch_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def to_numpy(x: Any, name: str = "x") -> np.ndarray:
    """Turn supported containers into a numpy array without copying when possible."""
    if x is None:
        raise InputError(f"{name} is None; pass an array of samples (rows) x features (columns)")
    if _is_torch_tensor(x):
        x = x.detach().cpu().numpy()
    elif hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):  # pandas DataFrame / Series
        x = x.to_numpy()
    if isinstance(x, (str, bytes)):
        raise InputError(f"{name} is a string ({x!r:.40}); pass numeric samples, or a file path "
                         "to workbench.io.load_array")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged lists
        raise InputError(f"{name} could not be read as an array: {exc}. Rows must all have "
                         "the same number of features") from exc
    return arr


def _numeric(arr: np.ndarray, name: str) -> np.ndarray:
    kind = arr.dtype.kind
    if kind == "b":
        return arr.astype(np.int64)
    if kind in "iu":
        return arr
    if kind == "f":
        return arr
    if kind == "c":
        raise InputError(f"{name} is complex ({arr.dtype}); pass real-valued samples")
    if kind == "O":
        try:
            return arr.astype(np.float64)
        except (ValueError, TypeError):
            pass
    raise InputError(
        f"{name} contains non-numeric values (dtype {arr.dtype}); encode categories as integers, "
        f"e.g. np.unique({name}, return_inverse=True)[1]")


def as_samples(x: Any, name: str = "x", *, min_samples: int = 2, dtype=np.float64,
               allow_constant: bool = True) -> np.ndarray:
    """Validate ``x`` and return it as a C-contiguous 2-D ``(n_samples, n_features)`` array.

    Raises :class:`InputError` for: ``None``, strings / non-numeric data, complex data, 0-D or
    3-D+ arrays, empty arrays, NaN or infinity, fewer than ``min_samples`` rows, and (with
    ``allow_constant=False``) columns that never change.

    ``dtype=None`` keeps integer dtypes (for discrete estimators); the default gives float64.
    """
    arr = _numeric(to_numpy(x, name), name)
    if arr.ndim == 0:
        raise InputError(f"{name} is a scalar; pass an array of samples")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    elif arr.ndim > 2:
        raise InputError(
            f"{name} has {arr.ndim} dimensions (shape {arr.shape}); samples are rows, so pass a "
            f"2-D (n_samples, n_features) array, e.g. {name}.reshape(len({name}), -1)")
    n, d = arr.shape
    if n == 0 or d == 0:
        raise InputError(f"{name} is empty (shape {arr.shape}); it needs at least one sample "
                         "and one feature")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        rows = np.flatnonzero(bad.any(axis=1))
        what = "NaN" if np.isnan(arr).any() else "infinite"
        raise InputError(
            f"{name} has {int(bad.sum())} {what} value(s) (first in row {int(rows[0])}); drop or "
            "impute those rows before estimating")
    if n < min_samples:
        raise InputError(f"{name} has {n} sample(s); this estimator needs at least {min_samples}")
    if not allow_constant:
        reject_constant_columns(arr, name)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return np.ascontiguousarray(arr)


def constant_columns(arr: np.ndarray) -> np.ndarray:
    """Indices of columns of a 2-D array whose values never change."""
    return np.flatnonzero((arr == arr[:1]).all(axis=0))


def reject_constant_columns(arr: np.ndarray, name: str = "x") -> None:
    """Raise :class:`InputError` if a column of ``arr`` never changes: differential entropy
    estimators need every column to vary."""
    const = constant_columns(arr)
    if const.size:
        raise InputError(
            f"{name} column(s) {const.tolist()} are constant; a constant has no differential "
            "entropy (it is -inf). Drop those columns or use a discrete estimator, for which "
            "the entropy of a constant is 0")


def drop_constant_columns(arr: np.ndarray) -> np.ndarray:
    """``arr`` without its constant columns (a constant carries no information)."""
    const = constant_columns(arr)
    return np.delete(arr, const, axis=1) if const.size else arr


def check_same_length(**arrays: np.ndarray) -> int:
    """Raise unless every array has the same number of rows; return that number."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise InputError(f"inputs must have the same number of samples (rows): {desc}")
    return next(iter(lengths.values()))


def check_class_labels(y: Any, n: int | None = None, name: str = "y") -> np.ndarray:
    """``y`` as a 1-D int64 array of class labels, one per row (``n`` rows when given).

    Accepts a 1-D array or one column ``(n, 1)``, as numpy, list, pandas or torch. Labels are
    whole numbers (integer, bool, or floats without a fractional part); they are used as symbols,
    so they need not be ``0..C-1`` (:func:`workbench.training.datasets.split` renumbers them).
    Raises
    :class:`InputError` for other shapes, non-numeric or non-finite values, fractional values
    and a length other than ``n``.
    """
    arr = to_numpy(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D array of class labels, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} holds non-numeric labels (dtype {arr.dtype}); encode classes "
                         f"as integers, e.g. np.unique({name}, return_inverse=True)[1]")
    if n is not None and len(arr) != n:
        raise InputError(f"x has {n} rows but {name} has {len(arr)} labels; give one class "
                         "label per row")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise InputError(f"{name} has NaN or infinite labels; labels are class indices")
        frac = arr != np.round(arr)
        if frac.any():
            raise InputError(f"{name} must hold class labels (whole numbers); got fractional "
                             f"values such as {float(arr[frac][0]):g}")
    return arr.astype(np.int64)


def is_discrete(x: Any) -> bool:
    """Whether ``x`` looks discrete: integer/bool dtype, or whole-number floats taking at most
    ``min(MAX_DISCRETE_LEVELS, max(2, n // 4))`` distinct values in every column."""
    arr = _numeric(to_numpy(x), "x")
    if arr.dtype.kind in "iub":
        return True
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.size == 0 or not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
        return False
    limit = min(MAX_DISCRETE_LEVELS, max(2, arr.shape[0] // 4))
    return all(np.unique(arr[:, j]).size <= limit for j in range(arr.shape[1]))


def check_seed(seed: Any) -> np.random.Generator:
    """A numpy Generator from an int seed, ``None`` or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed must be an int or None, got {seed!r}")
    return np.random.default_rng(seed)


def subsample_rows(n: int, size: int | None, seed: Any = 0) -> np.ndarray | None:
    """Sorted indices of a seeded uniform subset of ``size`` of ``n`` rows, without
    replacement; ``None`` when every row is kept (``size`` is None or ≥ n). Same seed, same
    rows, so a subsample stays fixed across epochs and calls."""
    if size is None or n <= size:
        return None
    return np.sort(check_seed(seed).choice(n, int(size), replace=False))


# ----- scale-safe standardisation ------------------------------------------------------------
def pow2_exponents(a: np.ndarray, axis: int | None = 0) -> np.ndarray:
    """Exponents ``e`` with ``max |a| / 2**e`` in [0.5, 1) along ``axis`` (per column by
    default; ``None``: one for the whole array; 0 where the maximum is 0). Dividing by a power
    of two is exact, so ``np.ldexp(a, -e)`` rescales any finite array, subnormals and values
    near the float64 maximum included, without rounding, overflow or underflow."""
    return np.frexp(np.abs(a).max(axis=axis))[1]


def pow2_scaled(a: np.ndarray) -> tuple[np.ndarray, int]:
    """``(a / 2**e, e)`` with one exponent for the whole array (see :func:`pow2_exponents`): a
    lossless rescaling into [−1, 1] that keeps the columns' relative scales."""
    e = int(pow2_exponents(a, axis=None))
    return np.ldexp(a, -e), e


def standardize(a: np.ndarray, fit_rows: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Centre every column and scale it to unit standard deviation, at any finite scale.

    Returns ``(z, log_scale)``: ``a[:, j] = centre_j + exp(log_scale[j]) · z[:, j]``, so a
    differential entropy of ``z`` plus ``log_scale.sum()`` is that of ``a``. Columns are first
    divided by a power of two (exact, see :func:`pow2_exponents`) that brings them into
    [−1, 1], so the mean and the standard deviation can neither overflow (data near 1e154 and
    above square to infinity) nor underflow (data below 1e-154 square to 0): a naive ``a.std()``
    turns such data into zeros or NaN, and scale-free estimators then silently return 0.
    ``fit_rows`` (indices) computes the centre and scale from those rows only (e.g. a training
    split). Constant columns are centred and keep scale 1 (``log_scale`` 0 after the power of
    two).
    """
    a = np.asarray(a, dtype=np.float64)
    e = pow2_exponents(a)
    b = np.ldexp(a, -e[None, :])
    ref = b if fit_rows is None else b[fit_rows]
    centre = ref.mean(axis=0)
    sd = (ref - centre).std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (b - centre) / sd, e * math.log(2.0) + np.log(sd)


def scaled_width(width: float, e: int, power: int = 1) -> float:
    """A kernel width (``power`` 1) or variance (``power`` 2) given in data units, expressed in
    the units of data divided by ``2**e`` (:func:`pow2_scaled`), clamped to [1e-150, 1e150]^power:
    beyond those bounds every kernel value between distinct points of the rescaled data
    (distances between ~1e-16 and 2√d) is already 0, or 1, so the clamp changes nothing."""
    w = float(np.ldexp(float(width), -power * int(e)))
    return min(max(w, 1e-150 ** power), 1e150 ** power)

