"""Shared fixtures. Tests assert against closed-form truth; tolerances are justified inline."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (reference files that are not shipped)."""
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _runs_outside_the_user_data(monkeypatch, tmp_path_factory):
    """Code that saves runs to the default folder (workbench.runs.default_root) writes into a
    temporary folder during the tests, never into the user's data directory."""
    monkeypatch.setenv("WORKBENCH_RUNS", str(tmp_path_factory.getbasetemp() / "default-runs"))
