"""Capture per-head attention probabilities from torch models (hooks and a small protocol).

``nn.MultiheadAttention`` (also inside ``nn.TransformerEncoderLayer/DecoderLayer``) is recorded
through forward hooks with the fused fast path turned off; any custom module with a
``last_attention`` attribute takes part too: the recorder sets ``store_attention=True`` and the
module stores its probabilities ``(batch, heads, L_query, L_key)`` there.
"""
from __future__ import annotations

import inspect
import math
from collections import OrderedDict

import pandas as pd
import torch
from torch import nn

from ..errors import InputError, NotSupportedError, WorkbenchError
from .entropy import attention_entropy, summarize_maps


def attention_modules(model: nn.Module) -> OrderedDict[str, nn.Module]:
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
        self.maps: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.records: list[tuple[str, torch.Tensor]] = []
        self._handles: list = []
        self._saved_flags: dict = {}
        self._pending: dict[int, list] = {}
        self._fastpath: bool | None = None
        self._active = False

    # -- context ----------------------------------------------------------------------------
    def __enter__(self) -> AttentionRecorder:
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


__all__ = ["AttentionRecorder", "attention_modules", "direct_mha_attention"]
