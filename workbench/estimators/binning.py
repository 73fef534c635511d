"""Binning estimators for continuous data: the information-plane workhorse.

Each column is cut into bins, each binned row is hashed to one integer symbol (a mixed-radix
key over the bin indices, :func:`~workbench.estimators.encoding.encode_rows`), and the
plug-in entropy (optionally Miller–Madow corrected) of those symbols is taken. MI and CMI follow
by the chain rule on joint counts, e.g. I(X;T) = H(T) − H(T|X) = H(T) + H(X) − H(X,T).

* ``binning``: fixed-width bins (Shwartz-Ziv & Tishby 2017 use 30 bins on [−1, 1] for tanh
  layers). ``n_bins`` equal bins on [range_min, range_max], or bins of width ``bin_width``
  starting at range_min. An unset end of the range is the observed min / max, pooled over all
  columns (``scope="layer"``, as in the papers) or per column (``scope="neuron"``). Values
  outside a fixed range are **clipped into the edge bins**.
* ``adaptive_binning``: equal-mass (quantile) bins whose edges follow the data (Chelombiev,
  Houghton & O'Donnell 2019): value v goes to bin ⌊B · #{values < v} / N⌋, with the ranking
  per column (``scope="neuron"``) or over all values of the layer (``scope="layer"``). Tied
  values always share a bin, so heavily tied data (ReLU zeros) give fewer, fuller bins.

An input that is already discrete (integer or bool dtype, or whole numbers with few levels per
column; :func:`workbench.validation.is_discrete`) is used as symbols directly, not binned
(knob ``discrete_as_symbols``): the network input X of the information plane (each distinct row
one symbol) and the class label Y.

For a training loop, :func:`bin_codes`, :func:`entropy_from_codes`,
:func:`binned_mi_from_codes` and :func:`plane_terms` work on codes directly, so H(T) is
computed once per layer and the codes of X and Y once per run.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import param

from ..errors import InputError, KnobError
from ..units import DEFAULT_UNITS, from_nats
from ..validation import as_samples, is_discrete
from . import register
from .base import TorchBackend
from .discrete import (
    CountingEstimator,
    joint_counts,
    miller_madow_entropy_from_counts,
    plugin_entropy_from_counts,
    symbol_counts,
)
from .encoding import encode_rows, row_keys

#: Entropy of a count vector (nats) for each value of the ``correction`` knob.
CORRECTIONS = {"none": plugin_entropy_from_counts, "miller_madow": miller_madow_entropy_from_counts}
SCOPES = ("layer", "neuron")

#: More bins per column than this means bin_width is absurdly small for the data range.
_MAX_BINS = 2 ** 31


# ----- binning -----------------------------------------------------------------------------
def _fixed_width_bins(a: np.ndarray, n_bins: int, bin_width: float | None,
                      lo: float | None, hi: float | None, scope: str,
                      device: str | None = None) -> np.ndarray:
    """(n, d) int64 bin indices of fixed-width bins; see the module docstring. ``device``:
    compute the indices in torch there (identical)."""
    per_column = scope == "neuron"
    obs_lo = a.min(axis=0) if per_column else np.full(a.shape[1], a.min())
    obs_hi = a.max(axis=0) if per_column else np.full(a.shape[1], a.max())
    lo_arr = obs_lo if lo is None else np.full(a.shape[1], float(lo))
    hi_arr = obs_hi if hi is None else np.full(a.shape[1], float(hi))
    if np.any(hi_arr < lo_arr):
        j = int(np.flatnonzero(hi_arr < lo_arr)[0])
        raise InputError(
            f"the bin range is empty for column {j}: range_min={lo_arr[j]:.6g} is above "
            f"range_max={hi_arr[j]:.6g} (one end set, the other observed); set both range_min "
            "and range_max, or neither")
    span = hi_arr - lo_arr
    if bin_width is None:
        width = span / n_bins
        n_col = np.full(a.shape[1], n_bins, dtype=np.float64)
    else:
        width = np.full(a.shape[1], float(bin_width))
        n_col = np.maximum(1.0, np.ceil(span / bin_width))
        if n_col.max() > _MAX_BINS:
            raise KnobError(f"bin_width={bin_width:g} gives {n_col.max():.3g} bins over the data "
                            "range; use a larger bin_width or n_bins")
    # a zero-width range (constant column) is one bin: any positive width puts it in bin 0
    width = np.where(width > 0, width, 1.0)
    if device is not None:
        from .torch_backend import fixed_width_codes

        return fixed_width_codes(a, lo_arr, width, n_col, device)
    idx = np.floor((a - lo_arr) / width)
    # clipping in float first keeps far out-of-range values from overflowing the int cast
    np.clip(idx, 0.0, n_col - 1.0, out=idx)
    return idx.astype(np.int64)


def _equal_mass_bins(a: np.ndarray, n_bins: int, scope: str) -> np.ndarray:
    """(n, d) int64 bin indices of equal-mass bins: ⌊n_bins · rank_min / N⌋."""
    if scope == "layer":
        ranks = np.searchsorted(np.sort(a, axis=None), a)  # number of values strictly below
        total = a.size
    else:
        ordered = np.sort(a, axis=0)
        ranks = np.column_stack([np.searchsorted(ordered[:, j], a[:, j])
                                 for j in range(a.shape[1])])
        total = a.shape[0]
    return (ranks.astype(np.int64) * n_bins) // total


def bin_codes(a: Any, n_bins: int = 30, range: tuple | None = None, adaptive: bool = False,
              scope: str = "layer", bin_width: float | None = None) -> tuple[np.ndarray, int]:
    """Bin each column of ``a`` (rows are samples) and hash each binned row to one symbol.

    Returns ``(codes, m)``: int64 codes ``0..m-1``, one per row, and the number ``m`` of
    distinct binned rows. ``range=(lo, hi)`` fixes the fixed-width bin range (either end may be
    ``None`` for the observed value); values outside it are clipped into the edge bins.
    ``adaptive=True`` uses equal-mass bins instead (``range`` and ``bin_width`` then do not
    apply). ``scope`` is ``"layer"`` (one range / one ranking over all columns) or
    ``"neuron"`` (per column).

    >>> codes, m = bin_codes(np.tanh(np.random.default_rng(0).normal(size=(100, 3))),
    ...                      n_bins=30, range=(-1, 1))
    >>> codes.shape, m <= 100
    ((100,), True)
    """
    arr = as_samples(a, "a", min_samples=1)
    lo, hi = (None, None) if range is None else range
    _check_binning_knobs(n_bins, bin_width, lo, hi, scope)
    if adaptive:
        idx = _equal_mass_bins(arr, n_bins, scope)
    else:
        idx = _fixed_width_bins(arr, n_bins, bin_width, lo, hi, scope)
    return encode_rows(idx)


def _check_binning_knobs(n_bins, bin_width, lo, hi, scope) -> None:
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise KnobError(f"n_bins must be a positive integer, got {n_bins!r}")
    if bin_width is not None and not (bin_width > 0 and math.isfinite(bin_width)):
        raise KnobError(f"bin_width must be a positive finite number, got {bin_width!r}")
    for end, value in (("range_min", lo), ("range_max", hi)):
        if value is not None and not math.isfinite(value):
            raise KnobError(f"{end} must be finite, got {value!r}")
    if lo is not None and hi is not None and not lo < hi:
        raise KnobError(f"range_min ({lo!r}) must be below range_max ({hi!r}); e.g. "
                        "range_min=-1, range_max=1 for tanh activations")
    if scope not in SCOPES:
        raise KnobError(f"scope must be one of {SCOPES}, got {scope!r}")


# ----- entropies and MI from codes (the tracker's fast path) ---------------------------------
def _correction(correction: str):
    if correction not in CORRECTIONS:
        raise KnobError(f"correction must be one of {tuple(CORRECTIONS)}, got {correction!r}")
    return CORRECTIONS[correction]


def entropy_from_codes(codes: np.ndarray, correction: str = "none",
                       units: str = DEFAULT_UNITS) -> float:
    """Entropy of a vector of symbol codes (non-negative ints), in ``units``; plug-in or
    Miller–Madow (``correction="miller_madow"``)."""
    return from_nats(_correction(correction)(symbol_counts(codes)), units)


def binned_mi_from_codes(t_codes: np.ndarray, partner_codes: np.ndarray, *,
                         h_t: float | None = None, h_partner: float | None = None,
                         correction: str = "none", units: str = DEFAULT_UNITS) -> float:
    """I(T;P) = H(T) + H(P) − H(T,P) from symbol codes, in ``units``.

    Pass ``h_t`` / ``h_partner`` (in the same ``units``) when they are already known, e.g. H(T)
    shared by I(X;T) and I(T;Y), or H(X) fixed for a whole run.
    """
    fn = _correction(correction)
    if h_t is None:
        h_t = entropy_from_codes(t_codes, correction, units)
    if h_partner is None:
        h_partner = entropy_from_codes(partner_codes, correction, units)
    h_joint = from_nats(fn(joint_counts(t_codes, partner_codes)), units)
    return float(h_t + h_partner - h_joint)


def plane_terms(t_codes: np.ndarray, x_codes: np.ndarray, y_codes: np.ndarray, *,
                h_x: float | None = None, h_y: float | None = None, correction: str = "none",
                units: str = DEFAULT_UNITS) -> dict[str, float]:
    """``{"H(T)", "I(X;T)", "I(T;Y)"}`` for one layer, in ``units``, computing H(T) once.

    I(X;T) = H(T) − H(T|X) (= H(T) for a deterministic net on distinct inputs) and
    I(T;Y) = H(T) − H(T|Y). ``h_x`` / ``h_y`` may be passed (in ``units``) to skip recounting.
    """
    h_t = entropy_from_codes(t_codes, correction, units)
    return {"H(T)": h_t,
            "I(X;T)": binned_mi_from_codes(t_codes, x_codes, h_t=h_t, h_partner=h_x,
                                           correction=correction, units=units),
            "I(T;Y)": binned_mi_from_codes(t_codes, y_codes, h_t=h_t, h_partner=h_y,
                                           correction=correction, units=units)}


# ----- estimators ------------------------------------------------------------------------------
class _BinningBase(CountingEstimator):
    family = "binning"
    data_kind = "any"
    #: keep integer dtypes so that discrete inputs are recognised as symbols
    integer_input = True

    n_bins = param.Integer(default=30, bounds=(1, None), softbounds=(2, 100), label="Bins",
                           doc="Number of bins per column (per neuron).")
    scope = param.Selector(default="layer", objects=list(SCOPES),
                           doc="'layer': one bin range / ranking over all columns; "
                               "'neuron': per column.")
    correction = param.Selector(default="none", objects=list(CORRECTIONS),
                                doc="Entropy of the binned symbols: 'none' (plug-in) or "
                                    "'miller_madow' (+ (m-1)/(2n)).")
    discrete_as_symbols = param.Boolean(
        default=True, doc="Use discrete inputs (integer dtype, or few whole-number levels) as "
                          "symbols directly instead of binning them.")

    def _bin(self, a: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _codes(self, a):
        if self.discrete_as_symbols and is_discrete(a):
            return encode_rows(a)[0]
        return encode_rows(self._bin(a.astype(np.float64, copy=False)))[0]

    def _keys(self, a):
        # bin indices (or symbols) as a mixed-radix key: no sort unless the key range is too
        # large to count in a table, where the counting falls back to np.unique by itself
        if self.discrete_as_symbols and is_discrete(a):
            return row_keys(a)
        return row_keys(self._bin(a.astype(np.float64, copy=False)))

    def _entropy_counts(self, counts):
        return CORRECTIONS[self.correction](counts)


@register
class BinningEstimator(TorchBackend, _BinningBase):
    method_name = "binning"
    summary = ("Fixed-width bins per column, each binned row hashed to a symbol, plug-in "
               "entropy; MI/CMI by the chain rule (information plane).")
    references = ("Shwartz-Ziv & Tishby (2017), Opening the black box of deep neural networks "
                  "via information; Saxe et al. (2018), On the information bottleneck theory of "
                  "deep learning.")

    bin_width = param.Number(default=None, allow_None=True, bounds=(0, None),
                             inclusive_bounds=(False, True),
                             doc="Bin width; overrides n_bins when set.")
    range_min = param.Number(default=None, allow_None=True,
                             doc="Lower end of the bin range (None: observed minimum). Values "
                                 "below it go to the first bin.")
    range_max = param.Number(default=None, allow_None=True,
                             doc="Upper end of the bin range (None: observed maximum). Values "
                                 "above it go to the last bin.")

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self._check()

    def _check(self) -> None:
        _check_binning_knobs(self.n_bins, self.bin_width, self.range_min, self.range_max,
                             self.scope)

    def _bin(self, a):
        self._check()  # knobs may have been changed (widgets) since construction
        return _fixed_width_bins(a, self.n_bins, self.bin_width, self.range_min,
                                 self.range_max, self.scope, self._torch_device())


@register
class AdaptiveBinningEstimator(_BinningBase):
    method_name = "adaptive_binning"
    summary = ("Equal-mass (quantile) bins per column or over the layer, rows hashed to "
               "symbols, plug-in entropy; MI/CMI by the chain rule.")
    references = ("Chelombiev, Houghton & O'Donnell (2019), Adaptive estimators show "
                  "information compression in deep neural networks, ICLR.")

    def _bin(self, a):
        return _equal_mass_bins(a, self.n_bins, self.scope)


__all__ = ["BinningEstimator", "AdaptiveBinningEstimator", "bin_codes", "entropy_from_codes",
           "binned_mi_from_codes", "plane_terms", "CORRECTIONS"]
