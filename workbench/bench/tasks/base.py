"""The :class:`Task` interface: a distribution that can be sampled and knows its exact MI.

Modelled on the tasks of benchmark-mi (Czyż et al. 2023, "Beyond normal: on the evaluation of
mutual information estimators"): each task carries its own ground truth, so an estimator can
be scored against it without trusting any other estimator.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError, NotSupportedError
from ...units import DEFAULT_UNITS, from_nats
from ...validation import check_seed


def stable_seed(*parts: Any) -> np.random.SeedSequence:
    """A SeedSequence determined by ``parts`` alone (their ``str``), identical in every process.

    Python's ``hash()`` of a string changes between interpreter runs, so it must never seed
    anything that a second process (a Dask worker) has to reproduce; SHA-256 does not.
    """
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return np.random.SeedSequence(int.from_bytes(digest[:16], "little"))


def as_generator(seed: Any) -> np.random.Generator:
    """A Generator from an int, ``None``, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    return check_seed(seed)


@dataclass(frozen=True, eq=False, kw_only=True)
class Task:
    """A joint distribution of (X, Y) with exact mutual information.

    Attributes: ``name`` (stable, short, unique within a suite), ``dim_x``, ``dim_y``,
    ``mutual_info`` (exact, in **nats**), ``description``, ``discrete`` (samples are integer
    symbols) and ``params`` (what the task was built from).

    ``sample(n, seed)`` returns ``(x, y)`` arrays of shape ``(n, dim_x)`` and ``(n, dim_y)``:
    float64 for continuous tasks, int64 for discrete ones. The same seed gives the same samples.
    """

    name: str
    dim_x: int
    dim_y: int
    mutual_info: float
    description: str = ""
    discrete: bool = False
    params: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.dim_x < 1 or self.dim_y < 1:
            raise InputError(f"task {self.name!r}: dimensions must be >= 1, got "
                             f"{self.dim_x} x {self.dim_y}")
        if not (math.isfinite(self.mutual_info) and self.mutual_info >= 0):
            raise InputError(f"task {self.name!r}: exact MI must be finite and >= 0, got "
                             f"{self.mutual_info}")

    def mi(self, units: str = DEFAULT_UNITS) -> float:
        """The exact mutual information in ``units`` (bits by default)."""
        return from_nats(self.mutual_info, units)

    def sample(self, n: int, seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` paired samples; ``seed`` is an int, a SeedSequence or a Generator."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"n must be a positive integer, got {n!r}")
        x, y = self._sample(int(n), as_generator(seed))
        return x.reshape(int(n), self.dim_x), y.reshape(int(n), self.dim_y)

    def pointwise_mi(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """log p(x,y) / (p(x) p(y)) at each sample (nats); its mean over samples of the task is
        a Monte-Carlo estimate of the MI. Not every task has a closed-form density."""
        raise NotSupportedError(f"task {self.name!r} has no closed-form density ratio")

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError  # pragma: no cover

    def __str__(self) -> str:
        return (f"{self.name}: {self.dim_x} x {self.dim_y}, I(X;Y) = {self.mutual_info:.4f} nats"
                f" ({self.mi('bits'):.4f} bits)")
