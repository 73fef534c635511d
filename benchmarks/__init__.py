"""Speed and accuracy benchmarks, run by ``make bench`` (``python -m benchmarks``).

Each ``benchmarks/bench_*.py`` module defines ``main() -> None`` that prints its own table of
timings and ratios against a reference measured in the same run. Nothing here asserts timing.
"""
from __future__ import annotations

import math
import time


def best_seconds(fn, repeat: int = 3, number: int = 1) -> float:
    """Best of ``repeat`` wall-clock timings of ``number`` calls of ``fn``, per call (s)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best
