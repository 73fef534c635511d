"""Compiled nearest-smaller-value sweep for :func:`workbench.text.entropy_rate.match_lengths`
(imported on first use, so that importing the text package does not load numba)."""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def nearest_smaller(sa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each index p of ``sa`` (distinct values), the nearest index before (``psv``) and
    after (``nsv``) p whose value is smaller, −1 where there is none: one stack pass, O(n)."""
    n = sa.size
    psv = np.full(n, -1, np.int64)
    nsv = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    top = 0
    for p in range(n):
        v = sa[p]
        while top and sa[stack[top - 1]] > v:
            top -= 1
            nsv[stack[top]] = p
        if top:
            psv[p] = stack[top - 1]
        stack[top] = p
        top += 1
    return psv, nsv
