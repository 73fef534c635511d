"""The peer grid's bookkeeping (no timing is asserted): ratios and the largest value
difference per peer, peers that fail or are missing, and the Gaussian cells' exact MI."""
from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import bench_grid


def test_grid_records_value_differences_and_failures(capsys):
    grid = bench_grid.Grid()
    grid.cell("a", lambda: 1.0, {"peer": lambda: 1.25, "broken": lambda: 1 / 0,
                                 "absent": None}, repeats=1)
    grid.cell("b", lambda: 2.0, {"peer": lambda: 1.5}, repeats=1)
    grid.cell("c", lambda: 0.0, {"peer": lambda: 9.0}, repeats=1, compare=False)
    assert grid.diffs["peer"] == pytest.approx(0.5)  # c is not compared
    assert len(grid.ratios["peer"]) == 3 and "broken" not in grid.ratios
    assert "absent" not in grid.ratios
    grid.missing["gone"] = "not installed"
    grid.summary()
    out = capsys.readouterr().out
    assert "broken: failed (ZeroDivisionError)" in out
    assert "gone" in out and "not installed" in out


def test_gaussian_cells_carry_their_exact_mi():
    x, y, truth = bench_grid.gaussian(20_000, 2, seed=1)
    assert truth == pytest.approx(-math.log(1 - bench_grid.RHO ** 2))  # d/2 · −log(1 − ρ²)
    # the sample correlation of each coordinate pair is ρ within a few standard errors
    # (1 − ρ²)/√n ≈ 0.0045
    r = [np.corrcoef(x[:, j], y[:, j])[0, 1] for j in range(2)]
    assert np.allclose(r, bench_grid.RHO, atol=0.02)
