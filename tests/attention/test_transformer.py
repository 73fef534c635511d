"""The tiny character transformer: it trains, it is deterministic, its knobs do what they say,
its attention maps are captured through the protocol, and `workbench attention` writes its files."""
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import workbench as wb
from workbench.attention.entropy import max_entropy
from workbench.attention.recorder import AttentionRecorder
from workbench.attention.transformer import (
    CharTransformer,
    CharVocab,
    layer_head_entropy,
    make_config,
    train_char_transformer,
)

# CI-sized: ~1 s on one core.
SMALL = dict(n_layers=2, n_heads=2, d_model=16, context=16, batch_size=8, probe_batch=4,
             eval_every=20, lr=1e-2)


@pytest.fixture(scope="module")
def run():
    return train_char_transformer(steps=60, seed=0, **SMALL)


def test_trains_and_rows_are_tidy(run):
    rows = run.rows
    assert list(rows.columns) == ["step", "layer", "head", "entropy", "entropy_normalized",
                                  "loss", "val_loss", "units"]
    assert sorted(rows["step"].unique()) == [0, 20, 40, 60]
    assert len(rows) == 4 * 2 * 2 and (rows["units"] == "bits").all()
    per_step = rows.groupby("step")[["loss", "val_loss"]].first()
    # Step 0 loss is near log(vocab) = log 67 = 4.2 nats; 60 steps at lr 1e-2 reach ~2.9.
    assert per_step["loss"].iloc[0] > 3.8
    assert per_step["loss"].iloc[-1] < per_step["loss"].iloc[0] - 0.7
    assert per_step["val_loss"].iloc[-1] < per_step["val_loss"].iloc[0]
    top = max_entropy(16, causal=True)
    assert rows["entropy"].between(0, top + 1e-6).all()
    assert rows["entropy_normalized"].between(0, 1 + 1e-6).all()
    assert not run.stopped and len(run.losses) == 60


def test_same_seed_same_numbers(run):
    state = torch.random.get_rng_state()
    again = train_char_transformer(steps=60, seed=0, **SMALL)
    assert torch.equal(torch.random.get_rng_state(), state)     # global RNG untouched
    pd.testing.assert_frame_equal(again.rows, run.rows)
    np.testing.assert_array_equal(again.losses, run.losses)
    other = train_char_transformer(steps=20, seed=1, **{**SMALL, "eval_every": 20})
    assert not np.allclose(other.rows["entropy"].to_numpy(),
                           run.rows[run.rows["step"] <= 20]["entropy"].to_numpy())


@pytest.mark.parametrize("steps,eval_every", [(1, 1), (4, 3)])
def test_every_measurement_has_a_training_loss(steps, eval_every):
    # the last step is measured but not trained; it must still report the loss of a training
    # batch on the measured parameters (it was the mean of an empty list: NaN and warnings)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = train_char_transformer(steps=steps, seed=0, **{**SMALL, "eval_every": eval_every})
    assert set(r.rows["step"]) == set(range(0, steps, eval_every)) | {steps}
    assert np.isfinite(r.rows["loss"]).all() and len(r.losses) == steps


def test_entropy_matrix_matches_rows(run):
    mat = layer_head_entropy(run.model, run.probe[:, :-1])
    assert mat.shape == (2, 2)
    np.testing.assert_allclose(mat, run.entropy_matrix().to_numpy(), atol=1e-5)
    assert list(run.summary["layer"]) == [0, 0, 1, 1]
    np.testing.assert_allclose(run.summary["mean"].to_numpy(), mat.ravel(), atol=1e-5)


def test_maps_follow_protocol_and_are_causal_distributions(run):
    idx = run.probe[:2, :-1]
    maps = run.model.attention_maps(idx)
    assert maps.shape == (2, 2, 2, 16, 16)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 2, 2, 16))
    assert float(maps.triu(1).abs().max()) == 0.0
    with torch.no_grad(), AttentionRecorder(run.model) as rec:
        run.model(idx)
    assert list(rec.maps) == ["blocks.0.attn", "blocks.1.attn"]
    assert all(b.attn.store_attention is False for b in run.model.blocks)


def test_temperature_orders_first_layer_entropy(run):
    # Layer 0 sees the same input whatever τ is; the entropy of softmax(z / τ) increases with τ.
    idx = run.probe[:, :-1]
    vals = []
    for tau in (0.25, 1.0, 4.0):
        run.model.set_temperature(tau)
        vals.append(layer_head_entropy(run.model, idx)[0])
    run.model.set_temperature(1.0)
    assert (vals[0] < vals[1]).all() and (vals[1] < vals[2]).all()


def test_ablation_switches():
    vocab = 10
    plain = CharTransformer(vocab, make_config(**SMALL))
    cut = CharTransformer(vocab, make_config(**SMALL, remove_layernorm=True,
                                             remove_ffn_nonlinearity=True,
                                             attention_temperature=0.5))
    assert any(isinstance(m, nn.LayerNorm) for m in plain.modules())
    assert any(isinstance(m, nn.GELU) for m in plain.modules())
    assert not any(isinstance(m, (nn.LayerNorm, nn.GELU)) for m in cut.modules())
    assert all(b.attn.temperature == 0.5 for b in cut.blocks)
    # A linear FFN is affine: f(x + y) − f(y) = f(x) − f(0).
    ffn = cut.blocks[0].ffn.eval()
    x, y, zero = torch.randn(3, 16), torch.randn(3, 16), torch.zeros(3, 16)
    torch.testing.assert_close(ffn(x + y) - ffn(y), ffn(x) - ffn(zero), atol=1e-5, rtol=0)


def test_callbacks_and_stop():
    seen = []

    def cb(chunk):
        seen.append(chunk)
        return len(seen) < 2            # stop after the second measurement

    r = train_char_transformer(steps=100, callbacks=[cb], **{**SMALL, "eval_every": 10})
    assert len(seen) == 2 and sorted(r.rows["step"].unique()) == [0, 10]
    assert "callback" in r.stopped
    assert all(set(c["step"]) == {s} for c, s in zip(seen, (0, 10)))


def test_bad_config_and_text():
    with pytest.raises(wb.KnobError, match="divisible"):
        make_config(d_model=10, n_heads=4)
    with pytest.raises(wb.KnobError, match="unknown"):
        make_config(layers=3)
    with pytest.raises(wb.KnobError, match="bad"):
        make_config(n_layers=0)
    with pytest.raises(wb.InputError, match="too short"):
        train_char_transformer(steps=1, corpus="abc" * 5, **SMALL)
    with pytest.raises(wb.InputError, match="no shipped text"):
        train_char_transformer(steps=1, **{**SMALL, "text": "nope"})
    vocab = CharVocab.from_text("abca")
    assert vocab.decode(vocab.encode("cab")) == "cab"
    with pytest.raises(wb.InputError, match="vocabulary"):
        vocab.encode("z")
    model = CharTransformer(3, make_config(**SMALL))
    with pytest.raises(wb.InputError, match="context"):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_cli_parser_does_not_import_torch():
    import subprocess
    import sys

    from workbench.attention import entropy as attention
    from workbench.cli import attention as cli_attention
    assert cli_attention.COLLAPSE_THRESHOLD == attention.COLLAPSE_THRESHOLD
    assert cli_attention.OVERLOAD_FRACTION == attention.OVERLOAD_FRACTION
    code = ("import sys, workbench.cli.attention as a, argparse; "
            "a.register(argparse.ArgumentParser().add_subparsers()); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_cli_attention_writes_files(tmp_path, capsys):
    from workbench.cli import main
    code = main(["attention", "--out", str(tmp_path), "--steps", "20", "--layers", "2",
                 "--heads", "2", "--d-model", "16", "--context", "16", "--eval-every", "10",
                 "--no-layernorm", "--temperature", "0.5"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "collapse (<" in printed and "overload (>" in printed and "bits" in printed
    for name in ("rows.csv", "rows.parquet", "summary.csv", "config.json", "heatmap.png",
                 "heatmap.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert sorted(rows["step"].unique()) == [0, 10, 20] and rows["layer"].nunique() == 2
    import json
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["remove_layernorm"] is True and cfg["attention_temperature"] == 0.5
    assert math.isclose(cfg["overload_fraction"], 0.75)
    assert main(["attention", "--out", str(tmp_path), "--layers", "3", "--heads", "2",
                 "--d-model", "15", "--steps", "1"]) == 2         # clear error, exit code 2
