"""Binning rules for layer activations: which ``binning`` knobs a network with a given activation
gets, and the one resolver that merges them with knobs a user gave (used by the experiments, the
CLI and the apps alike)."""
from __future__ import annotations

from ..errors import InputError

#: Binning rules for the hidden layers: "auto" picks by activation (see binning_knobs).
BIN_RULES = ("auto", "fixed", "observed", "width")
_BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def binning_knobs(activation: str = "tanh", n_bins: int = 30, rule: str = "auto") -> dict:
    """Knobs of ``binning`` for a network with this activation.

    * ``"fixed"``: ``n_bins`` equal bins on the activation's bounded range ([−1, 1] for tanh,
      [0, 1] for sigmoid), the Shwartz-Ziv & Tishby setting; the softmax output is binned on the
      same range.
    * ``"observed"``: ``n_bins`` equal bins over the range observed *in this epoch* (pooled over
      the layer): the range follows the data, so the bins widen as the activations grow.
    * ``"width"``: bins of the fixed width ``2 / n_bins`` (the width of the tanh bins) from the
      observed minimum: the resolution stays fixed and the number of bins grows with the range.
    * ``"auto"``: ``"fixed"`` for tanh and sigmoid, ``"observed"`` otherwise.
    """
    if rule not in BIN_RULES:
        raise InputError(f"bin rule must be one of {BIN_RULES}, got {rule!r}")
    if rule == "auto":
        rule = "fixed" if activation in _BOUNDED else "observed"
    if rule == "fixed":
        if activation not in _BOUNDED:
            raise InputError(f"bin rule 'fixed' needs a bounded activation (tanh, sigmoid); "
                             f"{activation!r} is unbounded: use 'observed' or 'width'")
        lo, hi = _BOUNDED[activation]
        return {"n_bins": n_bins, "range_min": lo, "range_max": hi}
    if rule == "observed":
        return {"n_bins": n_bins}
    return {"bin_width": 2.0 / n_bins}


def resolve_binning_knobs(estimators, estimator_knobs: dict | None, activation: str,
                          n_bins: int = 30, bin_rule: str = "auto") -> dict:
    """``{method: knobs}`` for the estimators named in ``estimators``: ``binning`` gets
    :func:`binning_knobs` (``activation``, ``n_bins``, ``bin_rule``) with any knobs the user
    gave on top; ``adaptive_binning`` gets ``n_bins`` under its given knobs; other methods keep
    exactly the knobs given. Estimators given as ``(name, knobs)`` pairs or instances carry
    their own knobs and are left alone."""
    knobs = {k: dict(v) for k, v in (estimator_knobs or {}).items()}
    names = [estimators] if isinstance(estimators, str) else [e for e in estimators
                                                              if isinstance(e, str)]
    if "binning" in names:
        knobs["binning"] = {**binning_knobs(activation, n_bins, bin_rule),
                            **knobs.get("binning", {})}
    if "adaptive_binning" in names:
        knobs["adaptive_binning"] = {"n_bins": n_bins, **knobs.get("adaptive_binning", {})}
    return knobs
