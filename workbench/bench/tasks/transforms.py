"""Invertible transforms that keep a task's mutual information.

I(f(X); g(Y)) = I(X; Y) for injective smooth f and g (the Jacobians cancel in the density
ratio), so transforming a Gaussian or Student-t task gives a non-Gaussian task with the same
known truth (Czyż et al. 2023, "Beyond normal: on the evaluation of mutual information
estimators", NeurIPS). Each transform here has an explicit ``inverse`` so that this can be
checked numerically and so that :meth:`TransformedTask.pointwise_mi` maps back to the base
density.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

from ...errors import InputError
from .base import Task
from .gaussian import bivariate


def _bisect_increasing(func, target: np.ndarray, lo, hi, tol: float = 1e-13) -> np.ndarray:
    """Solve func(t) = target elementwise for an increasing ``func`` with the root in [lo, hi]
    (vectorised bisection down to a bracket of width ``tol``)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    lo, hi = lo.copy(), hi.copy()
    width = float(np.max(hi - lo)) if lo.size else 0.0
    for _ in range(max(1, math.ceil(math.log2(max(width, tol) / tol)))):
        mid = 0.5 * (lo + hi)
        above = func(mid) > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return 0.5 * (lo + hi)


class Transform:
    """A map applied to every row of one side of a task; ``inverse`` undoes it."""

    name = "transform"

    def forward(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def inverse(self, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def out_dim(self, dim: int) -> int:
        return dim


@dataclass(frozen=True)
class NormalCDF(Transform):
    """Φ, the standard normal CDF, on every coordinate: Gaussian margins become uniform."""

    name = "normal_cdf"

    def forward(self, a):
        return ndtr(a)

    def inverse(self, b):
        return ndtri(b)


@dataclass(frozen=True)
class Asinh(Transform):
    """asinh on every coordinate: tames the heavy tails of Student-t tasks."""

    name = "asinh"

    def forward(self, a):
        return np.arcsinh(a)

    def inverse(self, b):
        return np.sinh(b)


@dataclass(frozen=True)
class HalfCube(Transform):
    """h(x) = x |x|^{1/2} on every coordinate (lengthens the tails)."""

    name = "half_cube"

    def forward(self, a):
        return a * np.sqrt(np.abs(a))

    def inverse(self, b):
        return np.sign(b) * np.abs(b) ** (2.0 / 3.0)


#: Coefficients (amplitude, frequency, phase) of the "wiggly" maps of Czyż et al. (2023); the
#: derivative stays above 0.16 (X side) and 0.53 (Y side), so both are strictly increasing.
WIGGLES = {
    "x": ((0.4, 1.0, 0.0), (0.2, 1.7, 1.0), (0.03, 3.3, -2.5)),
    "y": ((-0.4, 0.4, 0.0), (0.17, 1.3, 3.5), (0.02, 4.3, -2.5)),
}


@dataclass(frozen=True)
class Wiggly(Transform):
    """x + Σ a_k sin(ω_k x + φ_k) on every coordinate: monotone but with wandering slope."""

    side: str = "x"
    name = "wiggly"

    def forward(self, a):
        a = np.asarray(a, dtype=np.float64)
        return a + sum(amp * np.sin(freq * a + phase) for amp, freq, phase in WIGGLES[self.side])

    def inverse(self, b):
        b = np.asarray(b, dtype=np.float64)
        reach = sum(abs(amp) for amp, _, _ in WIGGLES[self.side])
        return _bisect_increasing(self.forward, b, b - reach, b + reach)


@dataclass(frozen=True)
class GaussianToMixture(Transform):
    """Maps a standard normal coordinate to a Gaussian mixture by matching quantiles:
    t = F⁻¹(Φ(z)) with F the mixture CDF. Solved as G(t) = z for the increasing
    G(t) = Φ⁻¹(F(t)), evaluated through the survival function in the upper tail so that
    large |z| keep full precision."""

    weights: tuple = (0.5, 0.5)
    means: tuple = (-1.0, 3.0)
    stds: tuple = (1.0, 1.0)
    name = "mixture"

    def _g(self, t):
        w, m, s = (np.asarray(v, dtype=np.float64) for v in (self.weights, self.means, self.stds))
        u = (t[..., None] - m) / s
        cdf = (w * ndtr(u)).sum(axis=-1)
        sf = (w * ndtr(-u)).sum(axis=-1)
        return np.where(cdf < 0.5, ndtri(cdf), -ndtri(sf))

    def forward(self, a):
        a = np.asarray(a, dtype=np.float64)
        span = 40.0 * max(self.stds)  # Φ⁻¹ of doubles stays within ±38.5
        # bracket each root between two points of a coarse monotone grid, then bisect
        grid = np.linspace(min(self.means) - span, max(self.means) + span, 4097)
        k = np.clip(np.searchsorted(self._g(grid), a), 1, grid.size - 1)
        return _bisect_increasing(self._g, a, grid[k - 1], grid[k])

    def inverse(self, b):
        return self._g(np.asarray(b, dtype=np.float64))


@dataclass(frozen=True)
class Spiral(Transform):
    """x ↦ R(θ) x, a rotation in the coordinate plane ``plane`` by θ = speed · ‖x‖² (Czyż et al.
    2023). Rotations keep ‖x‖, so the inverse rotates back by the same angle."""

    speed: float = 1.0 / 3.0
    plane: tuple = (0, 1)
    name = "spiral"

    def _rotate(self, a, sign):
        a = np.array(a, dtype=np.float64)
        i, j = self.plane
        theta = sign * self.speed * (a * a).sum(axis=1)
        c, s = np.cos(theta), np.sin(theta)
        ai, aj = a[:, i].copy(), a[:, j].copy()
        a[:, i] = c * ai - s * aj
        a[:, j] = s * ai + c * aj
        return a

    def forward(self, a):
        if a.shape[1] <= max(self.plane):
            raise InputError(f"spiral in plane {self.plane} needs at least {max(self.plane) + 1}"
                             f" coordinates, got {a.shape[1]}")
        return self._rotate(a, 1.0)

    def inverse(self, b):
        return self._rotate(b, -1.0)


@dataclass(frozen=True)
class SwissRoll(Transform):
    """Embeds u ∈ [0, 1] on a swiss roll: t = 1.5π(1 + 2u) ↦ (t cos t, t sin t); a second
    coordinate v (if present) becomes the roll's height: (t cos t, v, t sin t). Injective,
    since t > 0 is the distance from the roll's axis, so the MI is that of the flat variable."""

    name = "swissroll"

    def out_dim(self, dim):
        if dim not in (1, 2):
            raise InputError(f"swiss roll embeds 1 or 2 coordinates, got {dim}")
        return dim + 1

    def forward(self, a):
        a = np.asarray(a, dtype=np.float64)
        t = 1.5 * math.pi * (1.0 + 2.0 * a[:, 0])
        cols = [t * np.cos(t)] + ([a[:, 1]] if a.shape[1] == 2 else []) + [t * np.sin(t)]
        return np.column_stack(cols)

    def inverse(self, b):
        b = np.asarray(b, dtype=np.float64)
        t = np.hypot(b[:, 0], b[:, -1])
        u = (t / (1.5 * math.pi) - 1.0) / 2.0
        return np.column_stack([u] + ([b[:, 1]] if b.shape[1] == 3 else []))


@dataclass(frozen=True, eq=False, kw_only=True)
class TransformedTask(Task):
    """``base`` pushed through ``fx`` on X and ``fy`` on Y (either may be None: identity)."""

    base: Task = field(repr=False)
    fx: Transform | None = None
    fy: Transform | None = None

    def _sample(self, n, rng):
        x, y = self.base.sample(n, rng)
        return (self.fx.forward(x) if self.fx else x), (self.fy.forward(y) if self.fy else y)

    def invert(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """The base task's samples that map to (x, y)."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        return (self.fx.inverse(x) if self.fx else x), (self.fy.inverse(y) if self.fy else y)

    def pointwise_mi(self, x, y):
        return self.base.pointwise_mi(*self.invert(x, y))


def transform(task: Task, fx: Transform | None, fy: Transform | None = None,
              name: str | None = None, description: str = "") -> TransformedTask:
    """``task`` with X replaced by fx(X) and Y by fy(Y); the exact MI is unchanged."""
    if task.discrete:
        raise InputError("transforms apply to continuous tasks only")
    label = "+".join(sorted({f.name for f in (fx, fy) if f is not None})) or "identity"
    return TransformedTask(
        name=name or f"{label}-{task.name}",
        dim_x=fx.out_dim(task.dim_x) if fx else task.dim_x,
        dim_y=fy.out_dim(task.dim_y) if fy else task.dim_y,
        mutual_info=task.mutual_info, base=task, fx=fx, fy=fy,
        description=description or f"{label} of ({task.description})",
        params={"base": task.name, **task.params})


def normal_cdf(task: Task) -> TransformedTask:
    """Uniform margins: Φ on every coordinate of both sides."""
    return transform(task, NormalCDF(), NormalCDF())


def asinh(task: Task) -> TransformedTask:
    return transform(task, Asinh(), Asinh())


def half_cube(task: Task) -> TransformedTask:
    return transform(task, HalfCube(), HalfCube())


def wiggly(task: Task) -> TransformedTask:
    return transform(task, Wiggly("x"), Wiggly("y"))


def spiral(task: Task, speed: float = 1.0 / 3.0) -> TransformedTask:
    """Spiral on both sides (plane (0, 1) of X; plane (1, 2) of Y when it has three or more
    coordinates, else (0, 1))."""
    if task.dim_x < 2 or task.dim_y < 2:
        raise InputError(f"spiral needs at least 2 coordinates per side, got "
                         f"{task.dim_x} x {task.dim_y}")
    plane_y = (1, 2) if task.dim_y >= 3 else (0, 1)
    return transform(task, Spiral(speed, (0, 1)), Spiral(speed, plane_y))


def swiss_roll(task: Task | None = None) -> TransformedTask:
    """X (1 or 2 coordinates, the first in [0, 1]) rolled up into 2 or 3 dimensions; Y kept.
    Default: the "Swiss roll 2 × 1" task of Czyż et al. (2023), built on a bivariate normal
    (ρ = 0.75) with uniform margins."""
    task = task if task is not None else normal_cdf(bivariate(0.75))
    return transform(task, SwissRoll(), None, name=f"swissroll-{task.name}")


def bimodal(rho: float = 0.75) -> TransformedTask:
    """Bivariate normal (correlation ``rho``) with both margins mapped monotonically onto
    two-component Gaussian mixtures: X to 0.3 N(0,1) + 0.7 N(5,1), Y to ½ N(−1,1) + ½ N(3,1)
    (the "Bimodal 1 × 1" task of Czyż et al. 2023)."""
    return transform(bivariate(rho),
                     GaussianToMixture((0.3, 0.7), (0.0, 5.0), (1.0, 1.0)),
                     GaussianToMixture((0.5, 0.5), (-1.0, 3.0), (1.0, 1.0)),
                     name=f"1v1-bimodal-{rho:g}",
                     description=f"bimodal margins, Gaussian copula with correlation {rho:g}")
