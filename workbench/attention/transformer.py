"""A tiny decoder-only character transformer for watching attention entropy during training.

The model is small and explicit (own attention, no fused kernels) so parts can be removed or
changed: ``remove_layernorm`` (every LayerNorm becomes the identity), ``remove_ffn_nonlinearity``
(the feed-forward block becomes linear), ``attention_temperature`` τ (attention logits are
Q Kᵀ / (√d_head · τ): τ < 1 sharpens, τ > 1 flattens). These are the ablations of Jha & Reagen
2025 ("Entropy-guided attention for private LLMs"), who report entropy collapse in deep layers
and entropic overload in early layers when nonlinearities are removed.

Every attention module follows the :mod:`workbench.attention` capture protocol
(``store_attention`` / ``last_attention``), so
:class:`~workbench.attention.recorder.AttentionRecorder`
reads its per-head maps. :func:`train_char_transformer` trains on a shipped public-domain text
(character vocabulary), seeded and deterministic on CPU, and emits tidy rows
(step, layer, head, entropy in bits, normalised entropy, loss) to callbacks for live plots.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import param
import torch
from torch import nn

from ..data import load_text
from ..errors import InputError, KnobError
from ..torch_utils import seeded, torch_device, torch_threads
from .entropy import attention_entropy, summarize_maps
from .recorder import AttentionRecorder


class CharTransformerConfig(param.Parameterized):
    """Architecture and training knobs of the tiny character transformer."""

    n_layers = param.Integer(4, bounds=(1, 24), doc="number of transformer blocks")
    n_heads = param.Integer(4, bounds=(1, 32), doc="attention heads per block")
    d_model = param.Integer(32, bounds=(4, 2048), doc="residual width (divisible by n_heads)")
    context = param.Integer(32, bounds=(2, 1024), doc="context length in characters")
    ffn_mult = param.Integer(4, bounds=(1, 16), doc="feed-forward width = ffn_mult * d_model")
    remove_layernorm = param.Boolean(False, doc="replace every LayerNorm with the identity")
    remove_ffn_nonlinearity = param.Boolean(False, doc="make the feed-forward block linear")
    attention_temperature = param.Number(1.0, bounds=(1e-3, 1e3), doc=(
        "divide attention logits by this: < 1 sharpens (lower entropy), > 1 flattens"))
    dropout = param.Number(0.0, bounds=(0.0, 0.9), doc="dropout on attention and residual")
    steps = param.Integer(300, bounds=(1, 10_000_000), doc="optimisation steps")
    batch_size = param.Integer(16, bounds=(1, 4096), doc="sequences per step")
    lr = param.Number(3e-3, bounds=(1e-7, 1.0), doc="AdamW learning rate")
    weight_decay = param.Number(0.0, bounds=(0.0, 1.0), doc="AdamW weight decay")
    grad_clip = param.Number(1.0, bounds=(0.0, None), doc="max gradient norm (0: no clipping)")
    eval_every = param.Integer(25, bounds=(1, None), doc="steps between entropy measurements")
    probe_batch = param.Integer(16, bounds=(1, 4096), doc="held-out sequences for entropies")
    text = param.String("alice", doc="shipped text to train on (workbench.data.TEXTS)")
    seed = param.Integer(0, doc="seed for initialisation, batches and dropout")
    device = param.String("cpu", doc="torch device ('cpu' by default; 'cuda' if available)")
    num_threads = param.Integer(1, bounds=(0, 256), doc=(
        "torch CPU threads while training (restored after); 0 leaves torch's setting. One is "
        "fastest for this tiny model: thread synchronisation costs more than it saves"))

    def values(self) -> dict:
        return {k: v for k, v in self.param.values().items() if k != "name"}


def make_config(config: CharTransformerConfig | dict | None = None,
                **overrides: Any) -> CharTransformerConfig:
    """A config from a config, a dict and/or keyword overrides, with clear errors."""
    base = config.values() if isinstance(config, CharTransformerConfig) else dict(config or {})
    base.update(overrides)
    unknown = sorted(set(base) - set(CharTransformerConfig().values()))
    if unknown:
        raise KnobError(f"unknown transformer knob(s) {unknown}; knobs are "
                        f"{sorted(CharTransformerConfig().values())}")
    try:
        cfg = CharTransformerConfig(**base)
    except (ValueError, TypeError) as exc:
        raise KnobError(f"bad transformer knob value: {exc}") from exc
    if cfg.d_model % cfg.n_heads:
        raise KnobError(f"d_model={cfg.d_model} is not divisible by n_heads={cfg.n_heads}; "
                        "pick d_model a multiple of n_heads")
    return cfg


# ---------------------------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with explicit softmax(Q Kᵀ / (√d_head τ)).

    Follows the :mod:`workbench.attention` protocol: while ``store_attention`` is True, each
    forward stores its (batch, heads, L, L) probabilities in ``last_attention``.
    """

    store_attention = False
    last_attention: torch.Tensor | None = None

    def __init__(self, d_model: int, n_heads: int, context: int, temperature: float = 1.0,
                 dropout: float = 0.0):
        super().__init__()
        self.n_heads = n_heads
        self.temperature = temperature
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("mask", torch.ones(context, context).tril().bool(), persistent=False)
        self.last_attention = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        d = c // self.n_heads
        q, k, v = (z.view(b, t, self.n_heads, d).transpose(1, 2)
                   for z in self.qkv(x).split(c, dim=-1))
        scores = q @ k.transpose(-2, -1) / (math.sqrt(d) * self.temperature)
        scores = scores.masked_fill(~self.mask[:t, :t], float("-inf"))
        probs = scores.softmax(-1)
        if self.store_attention:
            self.last_attention = probs.detach()
        out = (self.drop(probs) @ v).transpose(1, 2).reshape(b, t, c)
        return self.proj(out)


class Block(nn.Module):
    """Pre-norm block: x + attn(ln1(x)), then x + ffn(ln2(x))."""

    def __init__(self, cfg: CharTransformerConfig):
        super().__init__()
        norm = (lambda: nn.Identity()) if cfg.remove_layernorm else \
            (lambda: nn.LayerNorm(cfg.d_model))
        self.ln1, self.ln2 = norm(), norm()
        self.attn = CausalSelfAttention(cfg.d_model, cfg.n_heads, cfg.context,
                                        cfg.attention_temperature, cfg.dropout)
        hidden = cfg.ffn_mult * cfg.d_model
        self.ffn = nn.Sequential(
            nn.Linear(cfg.d_model, hidden),
            nn.Identity() if cfg.remove_ffn_nonlinearity else nn.GELU(),
            nn.Linear(hidden, cfg.d_model), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))


class CharTransformer(nn.Module):
    """Decoder-only transformer over characters: token + learned position embeddings, blocks,
    final norm, linear head. ``forward(idx)`` maps (batch, T) ints to (batch, T, vocab) logits."""

    def __init__(self, vocab_size: int, cfg: CharTransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.context, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.Identity() if cfg.remove_layernorm else nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.shape[1]
        if t > self.cfg.context:
            raise InputError(f"sequence length {t} exceeds the model's context {self.cfg.context}")
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def set_temperature(self, temperature: float) -> None:
        """Change the attention temperature of every layer (e.g. after training)."""
        for block in self.blocks:
            block.attn.temperature = float(temperature)

    def attention_maps(self, idx: torch.Tensor) -> torch.Tensor:
        """Per-layer, per-head attention probabilities (layers, batch, heads, T, T) for ``idx``,
        in eval mode without gradients (the model's mode is restored)."""
        was = self.training
        self.eval()
        try:
            with torch.no_grad(), AttentionRecorder(self) as rec:
                self(idx)
            return rec.stacked()
        finally:
            self.train(was)


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
@dataclass
class CharVocab:
    """Character vocabulary: ``encode`` text to int64 ids and ``decode`` back."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.chars)}
        missing = sorted(set(text) - set(lookup))
        if missing:
            raise InputError(f"characters {missing[:10]} are not in the vocabulary")
        return np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def _windows(ids: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    return ids[starts[:, None] + np.arange(length)]


# ---------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------
def layer_head_entropy(model: CharTransformer, idx: torch.Tensor, units: str = "bits",
                       normalize: bool | str = False) -> np.ndarray:
    """The layer × head matrix of mean attention entropy (over batch and queries) for ``idx``.

    ``normalize="causal"`` divides query i by log(i + 1) (keys it can see), giving a unitless
    number in [0, 1]; otherwise entropies are in ``units``.
    """
    return _layer_head_mean(model.attention_maps(idx), units, normalize)


def _layer_head_mean(maps: torch.Tensor, units: str = "bits",
                     normalize: bool | str = False) -> np.ndarray:
    """Mean attention entropy over batch and queries of maps (layers, batch, heads, T, T)."""
    return attention_entropy(maps, units, normalize).mean(dim=(1, 3)).double().cpu().numpy()


@dataclass
class CharTrainResult:
    """What :func:`train_char_transformer` returns."""

    model: CharTransformer
    config: dict
    vocab: CharVocab
    rows: pd.DataFrame            # step, layer, head, entropy, entropy_normalized, loss, ...
    losses: np.ndarray            # training loss per step (nats per character)
    summary: pd.DataFrame         # per-head summary at the end (attention.entropy.summarize)
    probe: torch.Tensor           # the held-out batch the entropies were measured on
    stopped: str = ""             # "" if all steps ran, else why training stopped early

    def entropy_matrix(self, step: int | None = None, value: str = "entropy") -> pd.DataFrame:
        """Layer × head matrix of ``value`` at ``step`` (default: the last measured step)."""
        steps = self.rows["step"].unique()
        step = int(steps.max()) if step is None else step
        if step not in steps:
            raise InputError(f"no measurement at step {step}; measured steps: {list(steps)}")
        at = self.rows[self.rows["step"] == step]
        return at.pivot_table(index="layer", columns="head", values=value)


Callback = Callable[[pd.DataFrame], Any]


def _measure(model, probe, step, train_loss, val_loss, cfg) -> pd.DataFrame:
    maps = model.attention_maps(probe)
    bits, norm = _layer_head_mean(maps, "bits"), _layer_head_mean(maps, normalize="causal")
    layers, heads = np.meshgrid(np.arange(cfg.n_layers), np.arange(cfg.n_heads), indexing="ij")
    return pd.DataFrame({"step": step, "layer": layers.ravel(), "head": heads.ravel(),
                         "entropy": bits.ravel(), "entropy_normalized": norm.ravel(),
                         "loss": train_loss, "val_loss": val_loss, "units": "bits"})


def train_char_transformer(config: CharTransformerConfig | dict | None = None, *,
                           steps: int | None = None, callbacks: Sequence[Callback] = (),
                           corpus: str | None = None, **overrides: Any) -> CharTrainResult:
    """Train a :class:`CharTransformer` on a character text and record attention entropies.

    ``config``: a :class:`CharTransformerConfig`, a dict, or None (defaults); ``steps`` and
    ``**overrides`` replace config knobs. ``corpus``: a string to train on instead of the
    shipped text named by the ``text`` knob. The last 10% of the text is held out:
    ``probe_batch`` windows from it are the probe on which entropies are measured every
    ``eval_every`` steps (and at steps 0 and last), giving rows with columns step, layer, head,
    entropy (mean per-query entropy, bits), entropy_normalized (each query divided by the log of
    the keys it sees; unitless), loss (mean training loss since the previous measurement,
    nats/char), val_loss (on the probe), units.

    Each callback is called with the new rows (a DataFrame) after each measurement; a callback
    returning ``False`` stops training (for Stop buttons). Initialisation, batches and dropout
    are seeded by ``seed`` inside a forked torch RNG: the same seed gives the same numbers on
    the same machine, and the caller's global RNG is left alone. If the loss becomes
    non-finite, training stops there and ``stopped`` says so.
    """
    if steps is not None:
        overrides["steps"] = steps
    cfg = make_config(config, **overrides)
    corpus = load_text(cfg.text) if corpus is None else corpus
    vocab = CharVocab.from_text(corpus)
    ids = vocab.encode(corpus)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    span = cfg.context + 1
    if len(val_ids) < span + 1 or len(train_ids) < span + 1:
        raise InputError(f"text of {len(ids)} characters is too short for context {cfg.context}"
                         "; use a longer text or a shorter context")
    rng = np.random.default_rng(cfg.seed)
    device = torch_device(cfg.device)
    probe_np = _windows(val_ids, rng.integers(0, len(val_ids) - span, cfg.probe_batch), span)
    probe = torch.as_tensor(probe_np, device=device)
    with torch_threads(cfg.num_threads):
        return _train(cfg, vocab, train_ids, probe, rng, device, callbacks)


def _train(cfg, vocab, train_ids, probe, rng, device, callbacks) -> CharTrainResult:
    span = cfg.context + 1
    rows: list[pd.DataFrame] = []
    losses: list[float] = []
    stopped = ""
    loss_fn = nn.CrossEntropyLoss()

    def evaluate(model) -> float:
        model.eval()
        with torch.no_grad():
            logits = model(probe[:, :-1])
            val = float(loss_fn(logits.reshape(-1, logits.shape[-1]), probe[:, 1:].reshape(-1)))
        model.train()
        return val

    with seeded(cfg.seed):
        model = CharTransformer(len(vocab), cfg).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        since: list[float] = []
        for step in range(cfg.steps + 1):
            last = step == cfg.steps  # measured, not trained: its loss needs no gradient
            starts = rng.integers(0, len(train_ids) - span, cfg.batch_size)
            batch = torch.as_tensor(_windows(train_ids, starts, span), device=device)
            with torch.set_grad_enabled(not last):
                logits = model(batch[:, :-1])
                loss = loss_fn(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
            if not torch.isfinite(loss):
                stopped = f"loss became non-finite at step {step}"
                warnings.warn(f"train_char_transformer: {stopped}; lower lr or keep "
                              "LayerNorm", RuntimeWarning, stacklevel=3)
                break
            since.append(loss.item())
            if not last:
                losses.append(since[-1])
            if step % cfg.eval_every == 0 or last:
                # loss: mean training loss of the steps since the last measurement, this one
                # included (evaluated before its update, on the same parameters as the maps).
                chunk = _measure(model, probe[:, :-1], step, float(np.mean(since)),
                                 evaluate(model), cfg)
                since = []
                rows.append(chunk)
                if any(cb(chunk) is False for cb in callbacks):
                    stopped = f"a callback stopped training at step {step}"
                    break
            if last:
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
    model.eval()
    maps = model.attention_maps(probe[:, :-1])
    summary = summarize_maps(list(maps), units="bits", causal=True)
    if not rows:  # training diverged before the first measurement
        rows = [_measure(model, probe[:, :-1], 0, float("nan"), evaluate(model), cfg).iloc[:0]]
    return CharTrainResult(model, cfg.values(), vocab, pd.concat(rows, ignore_index=True),
                       np.asarray(losses), summary, probe, stopped)
