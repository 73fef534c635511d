"""Speed and accuracy benchmarks, run by ``make bench`` (``python -m benchmarks``).

Each ``benchmarks/bench_*.py`` module defines ``main() -> None`` that prints its own table of
timings and ratios against a reference measured in the same run. Nothing here asserts timing.
"""
