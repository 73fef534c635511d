"""Attention entropy: exact values on hand-built maps, types, normalisation, summaries, flags,
and capture from real torch attention modules checked against a direct recomputation."""
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import workbench as wb
from workbench.attention.entropy import (
    attention_entropy,
    causal_key_counts,
    flag,
    is_causal_map,
    max_entropy,
    summarize,
    summarize_maps,
)
from workbench.attention.recorder import AttentionRecorder, direct_mha_attention

# float32 softmax maps: entropies agree to ~1e-6 bits; float64 hand-built maps to ~1e-12.
TOL32, TOL64 = 1e-5, 1e-12


def causal_uniform(n: int) -> np.ndarray:
    m = np.tril(np.ones((n, n)))
    return m / m.sum(1, keepdims=True)


# ----- exact values ---------------------------------------------------------------------------
def test_hand_built_maps_bits_and_nats():
    probs = np.array([[0.25, 0.25, 0.25, 0.25],   # uniform -> log 4 = 2 bits
                      [1.0, 0.0, 0.0, 0.0],       # one-hot -> 0
                      [0.5, 0.5, 0.0, 0.0],       # two keys -> 1 bit
                      [0.5, 0.25, 0.25, 0.0]])    # 1.5 bits
    bits = attention_entropy(probs)
    np.testing.assert_allclose(bits, [2.0, 0.0, 1.0, 1.5], atol=TOL64)
    nats = attention_entropy(probs, units="nats")
    np.testing.assert_allclose(nats, np.array([2.0, 0.0, 1.0, 1.5]) * math.log(2), atol=TOL64)
    assert bits[1] == 0.0 and not np.signbit(bits[1])


def test_numpy_and_torch_types_shapes_device_dtype():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5, 7))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    h_np = attention_entropy(p)
    assert isinstance(h_np, np.ndarray) and h_np.shape == (2, 3, 5)
    for dtype, tol in ((torch.float64, TOL64 * 10), (torch.float32, TOL32)):
        t = torch.as_tensor(p, dtype=dtype)
        h_t = attention_entropy(t)
        assert isinstance(h_t, torch.Tensor) and h_t.dtype == dtype and h_t.device == t.device
        assert h_t.shape == (2, 3, 5)
        np.testing.assert_allclose(h_t.numpy(), h_np, atol=tol)
    half = attention_entropy(torch.as_tensor(p, dtype=torch.bfloat16))
    assert half.dtype == torch.bfloat16
    # Rows of a 2-D map; integer one-hot maps are accepted (entropy 0).
    assert attention_entropy(np.eye(3, dtype=int)).tolist() == [0.0, 0.0, 0.0]


def test_torch_entropy_is_differentiable():
    logits = torch.zeros(2, 4, requires_grad=True)
    h = attention_entropy(logits.softmax(-1))
    assert h.requires_grad
    h.sum().backward()
    # Uniform rows are the entropy maximum: the gradient w.r.t. the logits vanishes there.
    torch.testing.assert_close(logits.grad, torch.zeros(2, 4), atol=1e-6, rtol=0)


def test_normalize_full_and_causal():
    probs = np.full((4, 8), 1 / 8)
    np.testing.assert_allclose(attention_entropy(probs, normalize=True), 1.0, atol=TOL64)
    # Causal uniform: query i spreads over i + 1 keys: entropy log(i + 1), normalised 1 (0 for i=0).
    c = causal_uniform(6)
    np.testing.assert_allclose(attention_entropy(c, units="nats"), np.log(np.arange(1, 7)),
                               atol=TOL64)
    np.testing.assert_allclose(attention_entropy(c, normalize="causal"), [0, 1, 1, 1, 1, 1],
                               atol=TOL64)
    # Under full normalisation the same map is below 1: log(i + 1) / log 6.
    np.testing.assert_allclose(attention_entropy(c, normalize=True),
                               np.log(np.arange(1, 7)) / np.log(6), atol=TOL64)
    # Single key: entropy 0, normalised 0 (not 0/0).
    assert attention_entropy(np.ones((3, 1)), normalize=True).tolist() == [0.0, 0.0, 0.0]
    # KV-cache layout: 2 queries over 5 keys see 4 and 5 keys.
    assert causal_key_counts(2, 5).tolist() == [4, 5]
    tail = causal_uniform(5)[-2:]
    np.testing.assert_allclose(attention_entropy(tail, normalize="causal"), [1, 1], atol=TOL64)
    t = attention_entropy(torch.as_tensor(c, dtype=torch.float32), normalize="causal")
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), [0, 1, 1, 1, 1, 1], atol=TOL32)


def test_max_entropy():
    assert max_entropy(8) == pytest.approx(3.0)
    assert max_entropy(8, "nats") == pytest.approx(math.log(8))
    assert max_entropy(4, causal=True) == pytest.approx(np.mean(np.log2([1, 2, 3, 4])))
    assert max_entropy(4, "normalized") == 1.0


@pytest.mark.parametrize("bad, match", [
    (np.array([0.5, 0.5]), "at least 2 dimensions"),
    (np.array([[0.5, 0.6]]), "sum to 1"),
    (np.array([[1.5, -0.5]]), "negative"),
    (np.array([[np.nan, 1.0]]), "NaN"),
    (np.zeros((2, 0)), "empty"),
    (np.array([["a", "b"]]), "dtype"),
])
def test_bad_maps_give_clear_errors(bad, match):
    with pytest.raises(wb.InputError, match=match):
        attention_entropy(bad)


def test_bad_arguments():
    with pytest.raises(wb.WorkbenchError, match="units"):
        attention_entropy(np.eye(2), units="bans")
    with pytest.raises(wb.WorkbenchError, match="normalize"):
        attention_entropy(np.eye(2), normalize="yes")
    with pytest.raises(wb.InputError, match="future keys"):
        attention_entropy(np.full((3, 3), 1 / 3), normalize="causal")


# ----- summaries and flags --------------------------------------------------------------------
def test_summarize_and_flags():
    # Layer 0: head 0 uniform over 8 keys (3 bits, overload), head 1 one-hot (0 bits, collapse).
    # Layer 1: both heads on 2 keys (1 bit): neither flag.
    uniform = np.full((2, 8), 1 / 8)
    onehot = np.eye(8)[:2]
    two = np.zeros((2, 8))
    two[:, :2] = 0.5
    maps = {"block0": np.stack([uniform, onehot])[None], "block1": np.stack([two, two])[None]}
    s = summarize_maps(maps, causal=False)
    assert list(s.columns) == ["layer", "name", "head", "mean", "std", "min", "max", "units",
                               "max_entropy", "collapse", "overload"]
    assert s["mean"].tolist() == pytest.approx([3.0, 0.0, 1.0, 1.0])
    assert s["collapse"].tolist() == [False, True, False, False]
    assert s["overload"].tolist() == [True, False, False, False]
    assert (s["units"] == "bits").all() and s["max_entropy"].tolist() == pytest.approx([3.0] * 4)
    assert s["name"].tolist() == ["block0", "block0", "block1", "block1"]
    # Knobs move the flags: 1 bit > 0.3 * 3 bits.
    s2 = flag(s, overload_fraction=0.3, collapse_threshold=0.0)
    assert s2["overload"].tolist() == [True, False, True, True] and not s2["collapse"].any()
    # Without a maximum the overload flag is unknown, not False.
    s3 = summarize([np.zeros((2, 3))])
    assert s3["overload"].isna().all() and s3["collapse"].all()
    with pytest.raises(wb.WorkbenchError, match="overload_fraction"):
        flag(s, overload_fraction=1.5)


def test_summary_stats_and_causal_detection():
    c = causal_uniform(4)[None, None]          # (batch, heads, L, L)
    assert is_causal_map(c) and not is_causal_map(np.full((1, 1, 4, 4), 0.25))
    s = summarize_maps([c])
    h = np.log2([1, 2, 3, 4])
    assert s["mean"].iloc[0] == pytest.approx(h.mean())
    assert s["std"].iloc[0] == pytest.approx(h.std())
    assert (s["min"].iloc[0], s["max"].iloc[0]) == pytest.approx((0.0, 2.0))
    assert s["max_entropy"].iloc[0] == pytest.approx(h.mean())   # causal maximum
    n = summarize_maps([c], normalize="causal")
    assert n["units"].iloc[0] == "normalized" and n["max_entropy"].iloc[0] == 1.0
    assert n["mean"].iloc[0] == pytest.approx(0.75)               # queries 1..3 -> 1, query 0 -> 0


# ----- capture from torch modules -------------------------------------------------------------
@pytest.fixture
def mha():
    torch.manual_seed(0)
    return nn.MultiheadAttention(16, 4, batch_first=True).eval()


def test_recorder_matches_direct_computation_on_mha(mha):
    x = torch.randn(3, 6, 16)
    with torch.no_grad():
        before_out, before_w = mha(x, x, x)
        with AttentionRecorder(mha) as rec:
            out, w = mha(x, x, x)               # default call: head-averaged weights
            out_none, w_none = mha(x, x, x, need_weights=False)
        direct = direct_mha_attention(mha, x, x)
    (name, maps), = rec.maps.items()
    assert maps.shape == (3, 4, 6, 6)
    torch.testing.assert_close(maps, direct, atol=1e-6, rtol=0)
    # The caller gets exactly what it asked for.
    torch.testing.assert_close(w, before_w, atol=1e-6, rtol=0)
    torch.testing.assert_close(out, before_out, atol=1e-6, rtol=0)
    assert w_none is None
    torch.testing.assert_close(out_none, before_out, atol=1e-6, rtol=0)
    # Entropies of the captured maps equal those of the direct maps.
    torch.testing.assert_close(rec.entropies()[name], attention_entropy(direct), atol=1e-5,
                               rtol=0)


def test_recorder_with_causal_mask_and_positional_flags(mha):
    x = torch.randn(2, 5, 16)
    mask = torch.ones(5, 5).triu(1).bool()
    with torch.no_grad(), AttentionRecorder(mha) as rec:
        _, w = mha(x, x, x, None, False, mask)   # need_weights=False passed positionally
    assert w is None
    maps = rec.maps["MultiheadAttention"]
    torch.testing.assert_close(maps, direct_mha_attention(mha, x, x, mask), atol=1e-6, rtol=0)
    assert is_causal_map(maps)
    assert rec.summary()["max_entropy"].iloc[0] == pytest.approx(np.log2(np.arange(1, 6)).mean())


def test_recorder_inside_encoder_layer_eval_fastpath():
    torch.manual_seed(1)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.1,
                                       batch_first=True).eval()
    x = torch.randn(2, 7, 16)
    fast = torch.backends.mha.get_fastpath_enabled()
    with torch.no_grad():
        before = layer(x)                    # eval + no_grad: torch's fused fast path
        with AttentionRecorder(layer) as rec:
            during = layer(x)
        after = layer(x)
        direct = direct_mha_attention(layer.self_attn, x, x)   # norm_first=False: raw input
    torch.testing.assert_close(rec.maps["self_attn"], direct, atol=1e-6, rtol=0)
    torch.testing.assert_close(during, before, atol=1e-5, rtol=0)
    assert torch.equal(after, before)
    # Restored: no hooks anywhere, fast-path flag back.
    assert torch.backends.mha.get_fastpath_enabled() == fast
    for m in layer.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks


def test_recorder_on_encoder_stack_and_decoder_layer():
    torch.manual_seed(2)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True),
                                num_layers=2, enable_nested_tensor=False).eval()
    dec = nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True).eval()
    src, tgt = torch.randn(2, 5, 8), torch.randn(2, 3, 8)
    with torch.no_grad(), AttentionRecorder(enc) as rec:
        memory = enc(src)
    assert list(rec.maps) == ["layers.0.self_attn", "layers.1.self_attn"]
    assert rec.stacked().shape == (2, 2, 2, 5, 5)
    with torch.no_grad(), AttentionRecorder(dec) as rec2:
        dec(tgt, memory)
    assert rec2.maps["self_attn"].shape == (2, 2, 3, 3)
    assert rec2.maps["multihead_attn"].shape == (2, 2, 3, 5)     # cross-attention
    s = rec2.summary()
    assert s["name"].tolist() == ["self_attn"] * 2 + ["multihead_attn"] * 2
    assert s["max_entropy"].tolist()[-1] == pytest.approx(np.log2(5))


class ToyAttention(nn.Module):
    """A custom module following the documented protocol."""

    store_attention = False
    last_attention = None

    def __init__(self):
        super().__init__()
        self.scores = nn.Parameter(torch.tensor([[[[2.0, 0.0], [0.0, 0.0]]]]))

    def forward(self, x):
        probs = self.scores.softmax(-1)
        if self.store_attention:
            self.last_attention = probs
        return x


def test_custom_protocol_and_restore():
    toy = ToyAttention()
    with AttentionRecorder(nn.Sequential(toy), keep="all") as rec:
        assert toy.store_attention is True
        toy(torch.zeros(1))
        toy(torch.zeros(1))
    assert toy.store_attention is False and toy.last_attention is None
    assert not toy._forward_hooks
    assert len(rec.records) == 2
    h = rec.entropies()["0"]
    p = 1 / (1 + math.exp(-2.0))
    expected = -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
    assert h[0, 0].tolist() == pytest.approx([expected, 1.0], abs=1e-6)


def test_recorder_errors():
    with pytest.raises(wb.InputError, match="last_attention"):
        AttentionRecorder(nn.Linear(2, 2)).__enter__()
    with pytest.raises(wb.InputError, match="nn.Module"):
        AttentionRecorder("model")
    rec = AttentionRecorder(nn.MultiheadAttention(4, 2))
    with pytest.raises(wb.WorkbenchError, match="nothing recorded"):
        rec.summary()
    # An exception inside the block still restores the module.
    mha = nn.MultiheadAttention(4, 2)
    with pytest.raises(RuntimeError):
        with AttentionRecorder(mha):
            raise RuntimeError("boom")
    assert not mha._forward_hooks and not mha._forward_pre_hooks


def test_entropy_heatmap_plots():
    from workbench.plots.attention import (
        entropy_heatmap,
        entropy_over_training,
        heatmaps_over_training,
    )
    rows = pd.DataFrame([{"step": s, "layer": l, "head": h, "entropy": 1.0 + l + 0.1 * s,
                          "loss": 1.0, "val_loss": 1.0, "units": "bits"}
                         for s in (0, 10, 20) for l in range(2) for h in range(3)])
    heat = entropy_heatmap(rows)
    assert heat.vdims[0].label == "attention entropy (bits)"
    assert len(heat.data) == 6 and heat.data["entropy"].max() == pytest.approx(4.0)
    assert len(heatmaps_over_training(rows, 2)) == 2
    assert len(entropy_over_training(rows)) == 2


def test_snapshot_steps_are_evenly_spaced_with_both_ends():
    from workbench.plots.attention import snapshot_steps
    steps = list(range(0, 101, 10))                  # 11 steps: entries round(i * 10 / 3)
    assert snapshot_steps(steps, 4) == [0, 30, 70, 100]
    assert snapshot_steps(reversed(steps * 2), 2) == [0, 100]   # sorted, duplicates ignored
    assert snapshot_steps([0, 10, 20], 9) == [0, 10, 20]       # fewer steps than asked
    assert snapshot_steps([5], 1) == [5]
    with pytest.raises(wb.WorkbenchError):
        snapshot_steps([], 3)
    with pytest.raises(wb.WorkbenchError):
        snapshot_steps([0, 10], 0)


def test_static_attention_exports(tmp_path):
    from workbench.plots.attention import entropy_over_training, loss_over_training
    from workbench.plots.static import attention_figure, save_attention_html, save_attention_png
    rows = pd.DataFrame([{"step": s, "layer": l, "head": h, "entropy": 1.0 + l + 0.1 * h,
                          "loss": 2.0, "val_loss": 2.1, "units": "bits"}
                         for s in (0, 10, 20, 30) for l in range(2) for h in range(3)])
    fig = attention_figure(rows, snapshots=3)
    heat = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(heat, [[1.0, 1.1, 1.2], [2.0, 2.1, 2.2]])  # layer x head
    # steps 0, 10, 20, 30: entries round(0), round(1.5) = 2 (half to even), round(3)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["step 0", "step 20", "step 30"]
    assert fig.axes[3].get_ylabel() == "mean attention entropy (bits)"
    assert save_attention_png(rows, tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    html = save_attention_html(rows, tmp_path / "a.html", resources="cdn").read_text()
    assert "attention entropy (bits)" in html
    # layers without rows still get a (empty) curve
    overlay = entropy_over_training(rows[rows["layer"] == 0], layers=range(3), width=None)
    assert list(overlay.keys()) == [0, 1, 2] and len(overlay[2]) == 0
    assert "width" not in overlay.opts.get().kwargs
    loss = loss_over_training(rows, width=None)
    assert [c.kdims[0].label for c in loss] == ["training step"] * 2
    assert [c.vdims[0].label for c in loss] == ["cross-entropy (nats/char)"] * 2
