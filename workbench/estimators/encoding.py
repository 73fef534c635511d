"""Turn rows into integer symbols: the shared step of every plug-in (discrete, binning)
estimator. Vectorised: a mixed-radix key when the value ranges fit in int64, else
``np.unique(axis=0)``; never a Python loop over samples."""
from __future__ import annotations

import numpy as np

_MAX_KEY = 2 ** 62


def encode_rows(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes ``0..m-1`` (int64, one per row) and ``m``, the number of distinct rows."""
    a = np.asarray(a)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.dtype.kind in "iub" or (a.dtype.kind == "f" and np.all(a == np.round(a))):
        ai = a.astype(np.int64, copy=False)
        mins = ai.min(axis=0)
        # spans in float64: a column spanning >= 2**63 would wrap around in int64
        spans = ai.max(axis=0).astype(np.float64) - mins + 1
        if float(np.prod(spans)) < _MAX_KEY:
            spans = spans.astype(np.int64)
            multipliers = np.concatenate(([1], np.cumprod(spans[:-1]))).astype(np.int64)
            key = (ai - mins) @ multipliers
            _, codes = np.unique(key, return_inverse=True)
            return codes.ravel().astype(np.int64), int(codes.max()) + 1
    _, codes = np.unique(a, axis=0, return_inverse=True)
    codes = codes.ravel().astype(np.int64)
    return codes, int(codes.max()) + 1


def joint_codes(*parts: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of the joint symbol of several already-encoded 1-D code arrays."""
    stacked = np.column_stack([np.asarray(p).ravel() for p in parts])
    return encode_rows(stacked)


def counts_of(codes: np.ndarray, m: int | None = None) -> np.ndarray:
    """Occupancy counts of codes (length ``m``)."""
    return np.bincount(codes, minlength=m or 0)
