"""Entropy of attention maps, per query, head and layer; capture of maps from torch models.

For an attention map a (rows = queries i, columns = keys j, each row a distribution) the
per-query entropy is H_i = −Σ_j a_ij log a_ij. It is 0 for a query that attends to one key and
log L_key for one that attends uniformly. Averaged per head and layer it shows two failure modes
named in Jha & Reagen 2025, "Entropy-guided attention for private LLMs" (arXiv:2501.03489):

* **entropy collapse** — heads (typically in deep layers) whose attention is near one-hot,
  entropy near 0; it accompanies unstable training when LayerNorm / nonlinearities are removed;
* **entropic overload** — heads (typically in early layers) whose entropy stays near the
  maximum log L_key, attending almost uniformly and so carrying little; the paper counts heads
  with entropy above 3/4 of the maximum, which is the default of ``overload_fraction`` here.

Capture: :class:`AttentionRecorder` records per-head maps from ``nn.MultiheadAttention``
(also inside ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``, through their
``self_attn`` / ``multihead_attn``) and from custom modules following a small protocol:

    class MyAttention(nn.Module):
        store_attention = False   # the recorder sets True while recording (saves memory otherwise)
        last_attention = None     # probabilities (batch, heads, L_query, L_key)

        def forward(self, x):
            ...
            probs = scores.softmax(-1)
            if self.store_attention:
                self.last_attention = probs
            ...

Any module with a ``last_attention`` attribute takes part; the recorder reads it after each
forward call. :class:`workbench.attention.transformer.CharTransformer` follows this protocol.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import InputError, WorkbenchError
from ..uncertainty.decomposition import (
    _is_tensor,
    _row_sum_tol,
    categorical_entropy,
    check_distributions,
)
from ..units import LN2, check_units

#: Default collapse threshold: heads with mean entropy below this many bits (or nats, in the
#: units of the summary) attend almost to a single key (0.1 bits ~ 99% of mass on one key).
COLLAPSE_THRESHOLD = 0.1
#: Default overload fraction: heads with mean entropy above this fraction of the maximum entropy
#: (Jha & Reagen 2025 count heads between 3/4 of the maximum and the maximum).
OVERLOAD_FRACTION = 0.75
SUMMARY_UNITS = ("bits", "nats", "normalized")


# ---------------------------------------------------------------------------------------------
# entropy of maps
# ---------------------------------------------------------------------------------------------
def _check_maps(probs: Any, name: str = "probs"):
    return check_distributions(
        probs, name, min_ndim=2,
        what="attention probabilities of shape (..., L_query, L_key) with rows summing to 1")


def _causal_offset(shape: tuple) -> int:
    lq, lk = shape[-2], shape[-1]
    if lk < lq:
        raise InputError(f"normalize='causal' needs L_key >= L_query, got shape {shape}; queries "
                         "are taken to be the last L_query of the L_key positions")
    return lk - lq


def causal_key_counts(l_query: int, l_key: int | None = None) -> np.ndarray:
    """How many keys query i may attend to under a causal mask: i + 1 + (L_key − L_query).

    Queries are the last ``l_query`` of ``l_key`` positions (``l_key`` defaults to ``l_query``),
    as with a KV cache.
    """
    l_key = l_query if l_key is None else l_key
    return np.arange(l_query) + 1 + (l_key - l_query)


def _check_causal(p, tol: float) -> None:
    lq, lk = p.shape[-2], p.shape[-1]
    offset = _causal_offset(tuple(p.shape))
    future = np.triu(np.ones((lq, lk), dtype=bool), k=1 + offset)
    if not future.any():
        return
    if _is_tensor(p):
        leaked = float(p[..., torch.as_tensor(future, device=p.device)].abs().max())
    else:
        leaked = float(np.abs(p[..., future]).max())
    if leaked > tol:
        raise InputError(f"normalize='causal' but the map puts mass {leaked:.3g} on future keys "
                         "(j > i); it is not causally masked. Use normalize=True (divide by "
                         "log L_key) for full attention")


def attention_entropy(probs: Any, units: str = "bits", normalize: bool | str = False):
    """Entropy of each query's attention distribution.

    ``probs`` has shape (..., L_query, L_key) with every row a probability distribution
    (finite, non-negative, summing to 1), e.g. (batch, heads, L_query, L_key). Returns
    H_i = −Σ_j a_ij log a_ij with shape (..., L_query), of the type given: numpy → numpy,
    torch → torch with device and floating dtype kept. 0·log 0 = 0.

    ``units``: "bits" (default) or "nats". ``normalize``:

    * ``False`` — entropy in ``units`` (between 0 and log L_key);
    * ``True`` — divided by log L_key: unitless, in [0, 1], 1 = uniform over all keys
      (``units`` is then irrelevant); with L_key = 1 the result is 0;
    * ``"causal"`` — query i divided by the log of the number of keys it can see under a causal
      mask, log(i + 1) (with L_key > L_query, queries are the last L_query positions:
      log(i + 1 + L_key − L_query)); a query that sees one key gets 0. Raises if the map puts
      mass on future keys.
    """
    check_units(units)
    if normalize not in (False, True, "causal"):
        raise WorkbenchError(f"normalize must be False, True or 'causal', got {normalize!r}")
    p = _check_maps(probs)
    h_nats = categorical_entropy(p, "nats", validate=False)
    if normalize is False:
        return h_nats / LN2 if units == "bits" else h_nats
    if normalize is True:
        counts = np.full(p.shape[-2], p.shape[-1])
    else:
        _check_causal(p, _row_sum_tol(p.element_size() if _is_tensor(p) else p.dtype.itemsize))
        counts = causal_key_counts(p.shape[-2], p.shape[-1])
    logs = np.log(counts.astype(np.float64))
    # A query that can see a single key has entropy exactly 0; define its normalised value as 0.
    inv = np.divide(1.0, logs, out=np.zeros_like(logs), where=logs > 0)
    if _is_tensor(h_nats):
        return h_nats * torch.as_tensor(inv, dtype=h_nats.dtype, device=h_nats.device)
    return h_nats * inv


def max_entropy(l_key: int, units: str = "bits", *, causal: bool = False,
                l_query: int | None = None) -> float:
    """Upper bound on the mean per-query entropy: log L_key, or for a causal map the mean over
    queries of log(keys visible to query i). ``units`` may also be "normalized" (then 1)."""
    if units == "normalized":
        return 1.0
    check_units(units)
    if causal:
        nats = float(np.log(causal_key_counts(l_query or l_key, l_key)).mean())
    else:
        nats = math.log(l_key)
    return nats / LN2 if units == "bits" else nats


# ---------------------------------------------------------------------------------------------
# summaries and flags
# ---------------------------------------------------------------------------------------------
def _as_layers(entropies: Any) -> OrderedDict[Any, Any]:
    if isinstance(entropies, Mapping):
        return OrderedDict(entropies)
    if isinstance(entropies, (list, tuple)):
        return OrderedDict(enumerate(entropies))
    return OrderedDict([(0, entropies)])


def flag(frame: pd.DataFrame, *, max_entropy: Any = None,
         collapse_threshold: float = COLLAPSE_THRESHOLD,
         overload_fraction: float = OVERLOAD_FRACTION, value: str = "mean") -> pd.DataFrame:
    """Add boolean columns ``collapse`` and ``overload`` to a per-head frame.

    ``collapse``: ``frame[value] < collapse_threshold`` (threshold in the frame's units).
    ``overload``: ``frame[value] > overload_fraction * max_entropy``; ``max_entropy`` is a
    number, or taken from the frame's ``max_entropy`` column when None (missing → NA).
    """
    if not 0 < overload_fraction <= 1:
        raise WorkbenchError(f"overload_fraction must be in (0, 1], got {overload_fraction}")
    if collapse_threshold < 0:
        raise WorkbenchError(f"collapse_threshold must be >= 0, got {collapse_threshold}")
    if value not in frame:
        raise WorkbenchError(f"frame has no column {value!r}; columns: {list(frame.columns)}")
    out = frame.copy()
    if max_entropy is not None:
        out["max_entropy"] = float(max_entropy)
    elif "max_entropy" not in out:
        out["max_entropy"] = np.nan
    out["collapse"] = out[value] < collapse_threshold
    over = (out[value] > overload_fraction * out["max_entropy"]).astype("boolean")
    over[out["max_entropy"].isna()] = pd.NA
    out["overload"] = over
    return out


def summarize(entropies: Any, *, units: str = "bits", max_entropy: Any = None,
              collapse_threshold: float = COLLAPSE_THRESHOLD,
              overload_fraction: float = OVERLOAD_FRACTION) -> pd.DataFrame:
    """Per layer and head statistics of per-query entropies, as a tidy DataFrame.

    ``entropies``: a mapping layer → array, a sequence of arrays (layer = position), or one
    array (layer 0). Each array has shape (..., heads, L_query), e.g. the output of
    :func:`attention_entropy` on (batch, heads, L_query, L_key) maps; a 1-D array is one head.
    ``units``: the units the entropies are in ("bits", "nats", or "normalized").
    ``max_entropy``: a number, a mapping layer → number, or None (overload then NA);
    :func:`summarize_maps` fills it in from the maps.

    Columns: layer (int), name (the mapping key), head, mean, std, min, max, units,
    max_entropy, collapse, overload (see :func:`flag`).
    """
    if units not in SUMMARY_UNITS:
        raise WorkbenchError(f"units must be one of {SUMMARY_UNITS}, got {units!r}")
    rows = []
    for layer, (key, h) in enumerate(_as_layers(entropies).items()):
        arr = np.asarray(h.detach().cpu().double().numpy() if _is_tensor(h) else h,
                         dtype=np.float64)
        if arr.ndim == 0 or arr.size == 0:
            raise InputError(f"entropies of layer {key!r} have shape {arr.shape}; expected "
                             "(..., heads, L_query)")
        if not np.isfinite(arr).all():
            raise InputError(f"entropies of layer {key!r} contain NaN or infinity")
        if arr.ndim == 1:
            arr = arr[None, :]
        per_head = np.moveaxis(arr, -2, 0).reshape(arr.shape[-2], -1)
        top = max_entropy.get(key, np.nan) if isinstance(max_entropy, Mapping) else max_entropy
        for head, vals in enumerate(per_head):
            rows.append({"layer": layer, "name": str(key), "head": head,
                         "mean": vals.mean(), "std": vals.std(), "min": vals.min(),
                         "max": vals.max(), "units": units,
                         "max_entropy": np.nan if top is None else float(top)})
    frame = pd.DataFrame(rows)
    return flag(frame, collapse_threshold=collapse_threshold,
                overload_fraction=overload_fraction)


def is_causal_map(probs: Any, atol: float | None = None) -> bool:
    """Whether a (..., L_query, L_key) map puts no mass on future keys (and L_query > 1)."""
    p = _check_maps(probs)
    if p.shape[-2] < 2 or p.shape[-1] < p.shape[-2]:
        return False
    tol = _row_sum_tol(p.element_size() if _is_tensor(p) else p.dtype.itemsize) \
        if atol is None else atol
    try:
        _check_causal(p, tol)
    except InputError:
        return False
    return True


def summarize_maps(maps: Any, *, units: str = "bits", normalize: bool | str = False,
                   causal: bool | None = None, collapse_threshold: float = COLLAPSE_THRESHOLD,
                   overload_fraction: float = OVERLOAD_FRACTION) -> pd.DataFrame:
    """:func:`summarize` straight from attention maps (mapping / sequence / one array of
    (..., heads, L_query, L_key) probabilities), with ``max_entropy`` worked out per layer:
    log L_key, or for causal maps (``causal=None`` detects them) the mean over queries of
    log(keys visible). With ``normalize`` the summary is unitless ("normalized", maximum 1).
    """
    layers = _as_layers(maps)
    ents, tops = OrderedDict(), {}
    for key, m in layers.items():
        p = _check_maps(m, f"maps[{key!r}]")
        is_causal = is_causal_map(p) if causal is None else bool(causal)
        ents[key] = attention_entropy(p, units, normalize)
        out_units = "normalized" if normalize else units
        tops[key] = max_entropy(p.shape[-1], out_units, causal=is_causal, l_query=p.shape[-2])
    return summarize(ents, units="normalized" if normalize else units, max_entropy=tops,
                     collapse_threshold=collapse_threshold, overload_fraction=overload_fraction)


def entropy_matrix(summary: pd.DataFrame, value: str = "mean") -> pd.DataFrame:
    """Pivot a per-head frame (from :func:`summarize` or training rows) to layer × head."""
    return summary.pivot_table(index="layer", columns="head", values=value, aggfunc="mean")
