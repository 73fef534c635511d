"""Torch backend for the O(n²)-shaped work: exact max-norm neighbour statistics, the
pairwise-distance (KDE) mixture terms and histogram codes, on any torch device.

The estimators use it when their ``backend`` execution setting is ``"torch"`` or their
``device`` is not ``"cpu"`` (:class:`workbench.estimators.base.TorchBackend`). On a GPU the
n × n work runs as dense blocks of pairwise distances; on a CPU the same code runs too (the tests
compare it with the numpy/numba engines there), though the compiled engines are faster.

Exactness
---------
* Neighbour statistics compare float64 max-norm distances max_j |v_j − w_j|: a subtraction, an
  absolute value and a maximum, each exactly rounded by IEEE 754 on every device, so distances,
  k-th neighbour radii and counts are *identical* to :mod:`.brute_force` and the trees (tests).
  Among equidistant candidates for the k nearest, the lowest indices are taken, as the brute
  force does.
* Euclidean k-th neighbour distances (``kl`` with ``norm="euclidean"``) are sums of squares:
  equal to scipy's to float64 rounding, not bitwise.
* The mixture terms log (1/n) Σ_j exp(−‖h_i − h_j‖²/(2σ²)) use the same BLAS expansion as the
  numpy path: equal to float64 rounding.
* Histogram codes floor((v − lo)/w) are exact float64 operations: identical codes.

Memory: rows are processed in blocks of at most ``block_elements`` pairwise distances
(default 2²⁵ on a GPU, 2²² on a CPU), never an n × n matrix.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..torch_utils import torch_device
from .brute_force import RULES, self_counted, self_inside
from .matrix import pairwise_sq_dists

#: Pairwise distances held at once per device type (float64: 256 MB on a GPU, 32 MB on a CPU).
_BLOCK_ELEMENTS = {"cpu": 1 << 22}
_DEFAULT_BLOCK_ELEMENTS = 1 << 25


def _block_rows(n: int, device, copies: int = 1, block_elements: int | None = None) -> int:
    budget = block_elements or _BLOCK_ELEMENTS.get(device.type, _DEFAULT_BLOCK_ELEMENTS)
    return max(1, budget // max(1, n * copies))


def _tensor(a: np.ndarray, device):
    import torch

    return torch.as_tensor(np.ascontiguousarray(a, dtype=np.float64), device=device)


def _maxnorm(rows, points):
    """(c, n) max-norm distances between the rows of ``rows`` (c, d) and ``points`` (n, d),
    column by column so memory stays at one c × n block."""
    dist = (rows[:, None, 0] - points[None, :, 0]).abs()
    for j in range(1, points.shape[1]):
        dist = dist.maximum((rows[:, None, j] - points[None, :, j]).abs())
    return dist


def _k_nearest(dist, k: int):
    """Distance to the (k+1)-th smallest entry of each row (the row's own 0 counts as one) and
    the indices of the k + 1 smallest, lowest indices first among ties, ascending by
    (distance, index)."""
    import torch

    vals, idx = torch.topk(dist, k + 1, dim=1, largest=False, sorted=True)
    eps = vals[:, k]
    # topk picks any of equidistant candidates: where more than k + 1 entries lie within eps,
    # take those below eps and the lowest-indexed ones at eps, as the compiled engine does
    tied_rows = torch.nonzero((dist <= eps[:, None]).sum(dim=1) > k + 1)[:, 0]
    if len(tied_rows):
        sub, sub_eps = dist[tied_rows], eps[tied_rows, None]
        tied = sub == sub_eps
        need = (k + 1) - (sub < sub_eps).sum(dim=1, keepdim=True)
        chosen = (sub < sub_eps) | (tied & (torch.cumsum(tied, dim=1) <= need))
        idx[tied_rows] = torch.nonzero(chosen)[:, 1].reshape(len(tied_rows), k + 1)
    idx = torch.sort(idx, dim=1).values
    order = torch.sort(torch.gather(dist, 1, idx), dim=1, stable=True).indices
    return eps, torch.gather(idx, 1, order)


def neighbour_rows(blocks: Sequence[np.ndarray], k: int, spaces: Sequence[tuple[int, ...]],
                   rule: str, device: str = "cpu", block_elements: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Torch :func:`workbench.estimators.knn.neighbour_counts`: the joint max-norm k-NN of the
    stacked ``blocks`` (distance ``eps`` to the k-th nearest other row, indices ``idx`` of the
    k + 1 nearest, the row itself included) and, for every space (a tuple of block numbers),
    the number of *other* rows within the radius ``rule`` sets (see
    :func:`workbench.estimators.knn.radii_of`). Identical to the numba and tree engines."""
    import torch

    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, not {rule!r}")
    dev = torch_device(device)
    parts = [_tensor(b, dev) for b in blocks]
    n = len(parts[0])
    if not 1 <= k < n:
        raise ValueError(f"need 1 <= k < n, got k={k}, n={n}")
    eps_out = torch.empty(n, dtype=torch.float64, device=dev)
    idx_out = torch.empty((n, k + 1), dtype=torch.int64, device=dev)
    counts_out = torch.empty((len(spaces), n), dtype=torch.int64, device=dev)
    step = _block_rows(n, dev, copies=len(parts) + 2, block_elements=block_elements)
    with torch.no_grad():
        for start in range(0, n, step):
            stop = min(n, start + step)
            per_block = [_maxnorm(p[start:stop], p) for p in parts]
            joint = per_block[0]
            for d in per_block[1:]:
                joint = joint.maximum(d)
            eps, idx = _k_nearest(joint, k)
            del joint
            eps_out[start:stop], idx_out[start:stop] = eps, idx
            for s, space in enumerate(spaces):
                dist = per_block[space[0]]
                for b in space[1:]:
                    dist = dist.maximum(per_block[b])
                if rule == "below_eps":
                    inside = dist < eps[:, None]
                elif rule == "below_eps_or_atom":
                    radius = torch.where(eps == 0, torch.zeros_like(eps),
                                         torch.nextafter(eps, torch.zeros_like(eps)))
                    inside = dist <= radius[:, None]
                else:  # span: the largest distance in this space among the k + 1 nearest
                    inside = dist <= torch.gather(dist, 1, idx).amax(dim=1, keepdim=True)
                counts_out[s, start:stop] = inside.sum(dim=1)
    eps = eps_out.cpu().numpy()
    counts = counts_out.cpu().numpy() - self_counted(rule, eps)
    return eps, idx_out.cpu().numpy(), list(counts)


def count_rows(points: np.ndarray, radii: np.ndarray, strict: bool, device: str = "cpu",
               block_elements: int | None = None) -> np.ndarray:
    """Torch :func:`workbench.estimators.knn.count_neighbours`: for every row, the number of
    *other* rows within max-norm distance radii[i] (< if ``strict``, else ≤)."""
    import torch

    dev = torch_device(device)
    pts = _tensor(points, dev)
    r = _tensor(radii, dev)
    n = len(pts)
    out = torch.empty(n, dtype=torch.int64, device=dev)
    step = _block_rows(n, dev, copies=2, block_elements=block_elements)
    with torch.no_grad():
        for start in range(0, n, step):
            stop = min(n, start + step)
            dist = _maxnorm(pts[start:stop], pts)
            rr = r[start:stop, None]
            out[start:stop] = (dist < rr if strict else dist <= rr).sum(dim=1)
    return out.cpu().numpy() - self_inside(np.asarray(radii, dtype=np.float64), strict)


def kth_neighbour(points: np.ndarray, k: int, p: float = np.inf, device: str = "cpu",
                  block_elements: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Torch :func:`workbench.estimators.knn.kth_neighbour` in the max-norm (``p = inf``,
    identical to the other engines) or the Euclidean norm (``p = 2``, to float64 rounding)."""
    import torch

    if p == np.inf:
        eps, idx, _ = neighbour_rows([points], k, (), "below_eps", device, block_elements)
        return eps, idx
    if p != 2:
        raise ValueError(f"p must be 2 or inf, got {p!r}")
    dev = torch_device(device)
    pts = _tensor(points, dev)
    n = len(pts)
    eps_out = torch.empty(n, dtype=torch.float64, device=dev)
    idx_out = torch.empty((n, k + 1), dtype=torch.int64, device=dev)
    step = _block_rows(n, dev, copies=3, block_elements=block_elements)
    with torch.no_grad():
        for start in range(0, n, step):
            stop = min(n, start + step)
            if pts.shape[1] <= 4:  # few columns: the exact differences, as a tree computes
                diff = pts[start:stop, None, :] - pts[None, :, :]
                sq = (diff * diff).sum(dim=2)
            else:
                sq = torch.cdist(pts[start:stop], pts, compute_mode="donot_use_mm_for_euclid_dist")
                sq = sq * sq
            eps_sq, idx = _k_nearest(sq, k)
            eps_out[start:stop], idx_out[start:stop] = eps_sq.sqrt(), idx
    return eps_out.cpu().numpy(), idx_out.cpu().numpy()


def mixture_log_terms(h: np.ndarray, variance: float, groups: np.ndarray | None = None,
                      device: str = "cpu", block_elements: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """Torch :func:`workbench.estimators.kernel.mixture_log_terms`: per row i,
    a_i = log (1/n) Σ_j exp(−‖h_i − h_j‖²/(2·variance)) and, with integer ``groups``, the same
    average over i's own group, b_i. ``h`` must already be scaled and centred as the numpy
    path does (:func:`workbench.validation.pow2_scaled`)."""
    import torch

    from .kernel import blocked_log_means

    dev = torch_device(device)
    ht = _tensor(h, dev)
    n = len(ht)

    def logits(start: int, stop: int):
        return pairwise_sq_dists(ht[start:stop], ht) * (-0.5 / variance)

    with torch.no_grad():
        step = _block_rows(n, dev, copies=2, block_elements=block_elements)
        return blocked_log_means(n, logits, step, groups)


def fixed_width_codes(a: np.ndarray, lo: np.ndarray, width: np.ndarray, n_col: np.ndarray,
                      device: str = "cpu") -> np.ndarray:
    """Torch histogram bin indices: clip(floor((a − lo)/width), 0, n_col − 1) per column, as
    int64; identical to the numpy path (the same float64 operations, clipped in float before
    the integer cast)."""
    import torch

    dev = torch_device(device)
    at = _tensor(a, dev)
    lo_t, w_t = _tensor(np.asarray(lo), dev), _tensor(np.asarray(width), dev)
    top = _tensor(np.asarray(n_col) - 1.0, dev)
    with torch.no_grad():
        idx = torch.floor((at - lo_t) / w_t)
        idx = torch.minimum(torch.clamp_min(idx, 0.0), top)
    return idx.to(torch.int64).cpu().numpy()
