"""Capture layer activations of any ``torch.nn.Module`` with forward hooks.

::

    with Probe(model, layers=["layer1", "layer2"]) as probe:
        model(x)
    probe.activations        # {"layer1": float32 array (n, d1), "layer2": ...}

Layers are picked by name (as in ``model.named_modules()``), by module type (``nn.Tanh``: every
module of that type), or both; ``layers=None`` takes ``model.tracked_layers`` when the model
defines it (:func:`workbench.training.models.mlp` does) and otherwise every leaf module. Each
layer's
output is detached, moved to the CPU as float32 and flattened to ``(n_samples, features)``; a
tuple or dict output contributes its first tensor.

Memory is bounded with ``subsample=k``: only k rows are kept, a uniform random subset chosen by a
seeded hash of each row's position in the stream (a bottom-k sketch). The choice depends on the
position alone, not on the batching, so the same ``seed`` keeps the same rows every epoch for the
same data order; ``probe.rows`` gives their positions (ascending, matching the activation rows).

Hooks exist only inside the ``with`` block; they are removed on exit, also when the block
raises.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError

_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def _row_keys(start: int, stop: int, seed: int) -> np.ndarray:
    """Pseudo-random uint64 keys of stream positions ``start..stop-1`` (splitmix64 finaliser)."""
    with np.errstate(over="ignore"):
        z = np.arange(start, stop, dtype=np.uint64)
        z += np.uint64((int(seed) * _GOLDEN + 0x632BE59BD9B4E019) & _MASK64)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def resolve_layers(model: nn.Module, layers=None) -> list[str]:
    """Names of the modules to hook; see the module docstring for what ``layers`` may be."""
    modules = dict(model.named_modules())
    if layers is None:
        tracked = getattr(model, "tracked_layers", None)
        if tracked:
            return resolve_layers(model, list(tracked))
        leaves = [n for n, m in model.named_modules() if n and not any(True for _ in m.children())]
        return leaves or [""]
    if isinstance(layers, (str, type)):
        layers = [layers]
    names: list[str] = []
    for item in layers:
        if isinstance(item, type) and issubclass(item, nn.Module):
            found = [n for n, m in model.named_modules() if isinstance(m, item)]
            if not found:
                raise InputError(f"the model has no module of type {item.__name__}")
            names.extend(found)
        elif isinstance(item, str):
            if item not in modules:
                valid = [n for n in modules if n]
                shown = ", ".join(valid[:40]) + (" ..." if len(valid) > 40 else "")
                raise InputError(f"unknown layer name {item!r}; the model's layers are: {shown}")
            names.append(item)
        else:
            raise InputError(f"layers must be names (str) or module types, got {item!r}")
    return list(dict.fromkeys(names))


def _first_tensor(out: Any):
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict):
        values = out.values()
    else:
        values = out if isinstance(out, (tuple, list)) else ()
    for v in values:
        if isinstance(v, torch.Tensor):
            return v
    return None


class Probe:
    """Forward hooks that record the outputs of chosen layers; see the module docstring."""

    def __init__(self, model: nn.Module, layers=None, subsample: int | None = None,
                 seed: int = 0):
        if subsample is not None and (not isinstance(subsample, (int, np.integer))
                                      or subsample < 1):
            raise InputError(f"subsample must be a positive int or None, got {subsample!r}")
        self.model = model
        self.names = resolve_layers(model, layers)
        self.subsample = subsample
        self.seed = int(seed)
        self._handles: list = []
        self.clear()

    # ----- hook plumbing -------------------------------------------------------------------
    def clear(self) -> None:
        """Forget everything recorded so far."""
        self._chunks: dict[str, list[np.ndarray]] = {n: [] for n in self.names}
        self._kept: dict[str, np.ndarray] = {}
        self._seen = 0                    # rows streamed past the probe so far
        self._keys = np.empty(0, np.uint64)
        self._rows = np.empty(0, np.int64)
        self._call: dict | None = None    # selection of the current forward call

    def attach(self) -> Probe:
        if self._handles:
            return self
        modules = dict(self.model.named_modules())
        self._handles.append(self.model.register_forward_pre_hook(self._new_call))
        for name in self.names:
            self._handles.append(modules[name].register_forward_hook(self._hook(name)))
        return self

    def detach(self) -> None:
        """Remove every hook this probe added."""
        while self._handles:
            self._handles.pop().remove()

    def __enter__(self) -> Probe:
        self.clear()
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    def _new_call(self, module, args) -> None:
        if self._call is not None:
            self._seen += self._call["n"]
        self._call = None

    def _select(self, n: int) -> dict:
        """Which old kept rows and which rows of this batch survive (bottom-k keys)."""
        if self._call is not None:
            if self._call["n"] != n:
                raise InputError(f"layers saw different batch sizes ({self._call['n']} and {n}) "
                                 "in one forward call; use subsample=None for this model")
            return self._call
        if self.subsample is None:
            self._call = {"n": n}
            return self._call
        keys = np.concatenate([self._keys, _row_keys(self._seen, self._seen + n, self.seed)])
        k = min(self.subsample, len(keys))
        best = np.sort(np.argpartition(keys, k - 1)[:k]) if k < len(keys) else np.arange(len(keys))
        old = len(self._keys)
        keep_old, keep_new = best[best < old], best[best >= old] - old
        self._keys = keys[best]
        self._rows = np.concatenate([self._rows[keep_old], self._seen + keep_new])
        self._call = {"n": n, "old": keep_old, "new": torch.as_tensor(keep_new)}
        return self._call

    def _hook(self, name: str):
        def hook(module, args, output):
            t = _first_tensor(output)
            if t is None:
                return
            t = t.detach()
            sel = self._select(int(t.shape[0]) if t.ndim else 1)
            if self.subsample is None:
                self._chunks[name].append(_to_numpy(t))
                return
            new = _to_numpy(t[sel["new"].to(t.device)]) if len(sel["new"]) else None
            old = self._kept.get(name)
            parts = ([] if old is None else [old[sel["old"]]]) + ([] if new is None else [new])
            if parts:
                self._kept[name] = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return hook

    # ----- results -------------------------------------------------------------------------
    @property
    def rows(self) -> np.ndarray | None:
        """Stream positions of the kept rows (ascending), or ``None`` without subsampling."""
        if self.subsample is None:
            return None
        return np.sort(self._rows)

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """Layer name → float32 array (n_rows, features), rows in stream order."""
        if self.subsample is None:
            return {n: np.concatenate(c) for n, c in self._chunks.items() if c}
        order = np.argsort(self._rows, kind="stable")
        return {n: a[order] for n, a in self._kept.items()}


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    arr = t.to("cpu", torch.float32).numpy()
    return arr.reshape(len(arr), -1) if arr.ndim != 1 else arr.reshape(-1, 1)


def _model_dtype_device(model: nn.Module):
    p = next(iter(model.parameters()), None)
    return (torch.float32, "cpu") if p is None else (p.dtype, p.device)


def capture(model: nn.Module, x, layers=None, batch_size: int = 4096,
            subsample: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Activations of ``layers`` for inputs ``x``: eval mode, no gradients, in batches.

    The model's train/eval mode is restored afterwards. ``x`` may be a numpy array or a tensor;
    it is cast to the model's parameter dtype and device.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    dtype, device = _model_dtype_device(model)
    xt = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    # int32/int64 inputs stay integers (token ids for embeddings); other numbers become features
    keep_int = xt.dtype in (torch.int32, torch.int64)
    xt = xt.to(device) if keep_int else xt.to(device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), Probe(model, layers, subsample=subsample, seed=seed) as probe:
            for start in range(0, len(xt), batch_size):
                model(xt[start:start + batch_size])
    finally:
        model.train(was_training)
    return probe.activations


def hook_count(model: nn.Module) -> int:
    """Number of forward (pre-)hooks on ``model`` and its submodules (0 after a probe exits)."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
