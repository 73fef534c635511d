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
forward call. :class:`workbench.transformer.CharTransformer` follows this protocol.
"""
from __future__ import annotations

import inspect
import math
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from .errors import InputError, NotSupportedError, WorkbenchError
from .uncertainty import _is_tensor, _row_sum_tol, categorical_entropy, check_distributions
from .units import LN2, check_units

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
def _as_layers(entropies: Any) -> "OrderedDict[Any, Any]":
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


# ---------------------------------------------------------------------------------------------
# capture
# ---------------------------------------------------------------------------------------------
def attention_modules(model: nn.Module) -> "OrderedDict[str, nn.Module]":
    """The modules :class:`AttentionRecorder` records from, in model order, by qualified name:
    every ``nn.MultiheadAttention`` and every module with a ``last_attention`` attribute."""
    found = OrderedDict()
    for name, mod in model.named_modules():
        if isinstance(mod, nn.MultiheadAttention) or hasattr(mod, "last_attention"):
            found[name or type(mod).__name__] = mod
    return found


class AttentionRecorder:
    """Context manager that records per-head attention probabilities during forward passes.

    >>> with AttentionRecorder(model) as rec:          # doctest: +SKIP
    ...     model(x)
    >>> rec.maps["layers.0.self_attn"].shape            # doctest: +SKIP
    torch.Size([batch, heads, L_query, L_key])
    >>> rec.summary()                                   # doctest: +SKIP

    For ``nn.MultiheadAttention`` (alone or inside Transformer{Encoder,Decoder}Layer) a forward
    pre-hook rewrites the call to ``need_weights=True, average_attn_weights=False`` and a
    forward hook takes the per-head weights and hands the caller exactly what it asked for
    (``None`` when it passed ``need_weights=False``, the head average when it asked for that).
    While recording, torch's MHA "fast path" (``torch.backends.mha``; fused kernels in eval
    mode that skip the Python forward) is switched off globally, since fused kernels would
    bypass the hooks; the previous setting is restored on exit, as are all hooks and the
    ``store_attention`` flags of protocol modules (see the module docstring).

    ``keep="last"`` keeps the latest map per module (``maps``); ``keep="all"`` also appends
    every call to ``records`` as (name, probs). Maps are detached; ``to_cpu=True`` moves them
    to the CPU. In training mode with attention dropout, torch returns post-dropout weights
    whose rows no longer sum to 1: record in ``model.eval()`` for entropies.
    """

    def __init__(self, model: nn.Module, *, keep: str = "last", to_cpu: bool = False):
        if not isinstance(model, nn.Module):
            raise InputError(f"AttentionRecorder needs a torch.nn.Module, got {type(model)}")
        if keep not in ("last", "all"):
            raise WorkbenchError(f"keep must be 'last' or 'all', got {keep!r}")
        self.model = model
        self.keep = keep
        self.to_cpu = to_cpu
        self.modules = attention_modules(model)
        self.maps: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        self.records: list[tuple[str, torch.Tensor]] = []
        self._handles: list = []
        self._saved_flags: dict = {}
        self._pending: dict[int, list] = {}
        self._fastpath: bool | None = None
        self._active = False

    # -- context ----------------------------------------------------------------------------
    def __enter__(self) -> "AttentionRecorder":
        if self._active:
            raise WorkbenchError("this AttentionRecorder is already recording")
        if not self.modules:
            raise InputError(
                f"{type(self.model).__name__} has no nn.MultiheadAttention and no module with a "
                "`last_attention` attribute; see workbench.attention's docstring for the protocol")
        self._fastpath = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            for name, mod in self.modules.items():
                if isinstance(mod, nn.MultiheadAttention):
                    self._hook_mha(name, mod)
                else:
                    self._hook_protocol(name, mod)
        except BaseException:
            self._restore()
            raise
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

    def _restore(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        for mod, (store, last) in self._saved_flags.items():
            mod.store_attention = store
            mod.last_attention = last
        self._saved_flags.clear()
        self._pending.clear()
        if self._fastpath is not None:
            torch.backends.mha.set_fastpath_enabled(self._fastpath)
            self._fastpath = None
        self._active = False

    # -- hooks ------------------------------------------------------------------------------
    def _keep(self, name: str, probs: torch.Tensor) -> None:
        probs = probs.detach()
        if self.to_cpu:
            probs = probs.cpu()
        self.maps[name] = probs
        if self.keep == "all":
            self.records.append((name, probs))

    def _hook_mha(self, name: str, mod: nn.MultiheadAttention) -> None:
        sig = inspect.signature(mod.forward)
        stack = self._pending.setdefault(id(mod), [])

        def pre(module, args, kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError:  # let the module raise its own, clearer error
                stack.append(None)
                return None
            arguments = bound.arguments
            stack.append((arguments.get("need_weights", True),
                          arguments.get("average_attn_weights", True)))
            arguments["need_weights"] = True
            arguments["average_attn_weights"] = False
            return bound.args, bound.kwargs

        def post(module, args, output):
            asked = stack.pop() if stack else None
            if asked is None or not isinstance(output, tuple) or output[1] is None:
                return None
            out, weights = output[0], output[1]
            self._keep(name, weights)
            need, average = asked
            if not need:
                return out, None
            if average:  # what MHA itself returns: the mean over the head axis
                return out, weights.mean(dim=-3)
            return output

        self._handles.append(mod.register_forward_pre_hook(pre, with_kwargs=True))
        self._handles.append(mod.register_forward_hook(post))

    def _hook_protocol(self, name: str, mod: nn.Module) -> None:
        self._saved_flags[mod] = (getattr(mod, "store_attention", False),
                                  getattr(mod, "last_attention", None))
        mod.store_attention = True
        mod.last_attention = None

        def post(module, args, output):
            probs = getattr(module, "last_attention", None)
            if probs is not None:
                self._keep(name, probs)
                module.last_attention = None

        self._handles.append(mod.register_forward_hook(post))

    # -- results ----------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget recorded maps (hooks stay in place while inside the context)."""
        self.maps.clear()
        self.records.clear()

    def stacked(self) -> torch.Tensor:
        """Latest maps of all modules stacked to (modules, batch, heads, L_query, L_key); needs
        equal shapes (true for a stack of identical self-attention layers)."""
        if not self.maps:
            raise WorkbenchError("nothing recorded yet: run a forward pass inside the `with`")
        shapes = {tuple(m.shape) for m in self.maps.values()}
        if len(shapes) > 1:
            raise WorkbenchError(f"recorded maps have different shapes {sorted(shapes)}; use "
                                 ".maps (a dict by module name) instead")
        return torch.stack(list(self.maps.values()))

    def entropies(self, units: str = "bits", normalize: bool | str = False) -> dict:
        """:func:`attention_entropy` of each module's latest map, by module name."""
        return OrderedDict((k, attention_entropy(v, units, normalize))
                           for k, v in self.maps.items())

    def summary(self, units: str = "bits", **kwargs) -> pd.DataFrame:
        """:func:`summarize_maps` of the latest maps (one row per layer and head)."""
        if not self.maps:
            raise WorkbenchError("nothing recorded yet: run a forward pass inside the `with`")
        return summarize_maps(self.maps, units=units, **kwargs)


def entropy_matrix(summary: pd.DataFrame, value: str = "mean") -> pd.DataFrame:
    """Pivot a per-head frame (from :func:`summarize` or training rows) to layer × head."""
    return summary.pivot_table(index="layer", columns="head", values=value, aggfunc="mean")


def direct_mha_attention(mha: nn.MultiheadAttention, query: torch.Tensor, key: torch.Tensor,
                         attn_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-head softmax(Q Kᵀ / √d_head + mask) recomputed from an MHA's own projection weights
    (packed ``in_proj_weight``), for checking captured maps. Inputs are batched
    (batch, L, E) if ``mha.batch_first`` else (L, batch, E); returns (batch, heads, L_q, L_k).
    Boolean ``attn_mask`` marks positions that may NOT be attended (torch's convention)."""
    if not mha._qkv_same_embed_dim or mha.in_proj_weight is None:
        raise NotSupportedError("direct_mha_attention needs packed in_proj weights "
                                "(kdim == vdim == embed_dim)")
    if not mha.batch_first:
        query, key = query.transpose(0, 1), key.transpose(0, 1)
    e, h = mha.embed_dim, mha.num_heads
    w, b = mha.in_proj_weight, mha.in_proj_bias
    wq, wk = w[:e], w[e:2 * e]
    bq, bk = (b[:e], b[e:2 * e]) if b is not None else (None, None)
    q = nn.functional.linear(query, wq, bq)
    k = nn.functional.linear(key, wk, bk)
    n, lq, lk, d = q.shape[0], q.shape[1], k.shape[1], e // h
    q = q.view(n, lq, h, d).transpose(1, 2)
    k = k.view(n, lk, h, d).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    if attn_mask is not None:
        scores = scores.masked_fill(attn_mask, float("-inf")) if attn_mask.dtype == torch.bool \
            else scores + attn_mask
    return scores.softmax(-1)


__all__ = ["attention_entropy", "max_entropy", "causal_key_counts", "summarize",
           "summarize_maps", "flag", "is_causal_map", "AttentionRecorder",
           "attention_modules", "entropy_matrix", "direct_mha_attention",
           "COLLAPSE_THRESHOLD", "OVERLOAD_FRACTION"]
