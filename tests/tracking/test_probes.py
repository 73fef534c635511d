"""Probes: hooks by name and type, clean removal, bounded seeded subsampling, capture()."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import InputError
from workbench.tracking.probes import Probe, capture, hook_count, resolve_layers
from workbench.training.models import mlp


@pytest.fixture
def net():
    return mlp("6-5-4-2", activation="tanh", seed=1)


def _x(n=50, d=6, seed=0):
    return torch.as_tensor(np.random.default_rng(seed).normal(size=(n, d)), dtype=torch.float32)


def test_probe_by_name_records_the_activation_outputs(net):
    x = _x()
    with Probe(net, ["layer1", "layer3"]) as probe:
        out = net(x)
    acts = probe.activations
    assert list(acts) == ["layer1", "layer3"]
    lin = net.layer1[0]
    expected = torch.tanh(x @ lin.weight.T + lin.bias).detach().numpy()
    assert acts["layer1"].dtype == np.float32 and acts["layer1"].shape == (50, 5)
    assert np.allclose(acts["layer1"], expected, atol=1e-6)
    assert np.allclose(acts["layer3"], out.detach().numpy())  # softmax output layer
    assert np.allclose(acts["layer3"].sum(axis=1), 1.0, atol=1e-6)


def test_default_layers_and_module_types(net):
    assert resolve_layers(net) == ["layer1", "layer2", "layer3"]
    tanh_names = resolve_layers(net, [nn.Tanh])
    assert tanh_names == ["layer1.1", "layer2.1"]
    # a plain Sequential without tracked_layers: every leaf module
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert resolve_layers(seq) == ["0", "1", "2"]
    acts = capture(seq, np.ones((7, 3), np.float32), layers=[nn.ReLU, "2"])
    assert acts["1"].shape == (7, 4) and acts["2"].shape == (7, 2) and (acts["1"] >= 0).all()


def test_unknown_layer_name_lists_the_valid_ones(net):
    with pytest.raises(InputError, match="unknown layer name 'layer9'.*layer1.*layer2"):
        Probe(net, ["layer9"])
    with pytest.raises(InputError, match="no module of type ReLU"):
        Probe(net, [nn.ReLU])
    with pytest.raises(InputError):
        Probe(net, [3.5])


def test_hooks_are_removed_on_exit_and_on_exception(net):
    assert hook_count(net) == 0
    with Probe(net) as probe:
        assert hook_count(net) == 4  # three layer hooks + the call counter on the root
        net(_x())
    assert hook_count(net) == 0 and len(probe.activations) == 3
    with pytest.raises(RuntimeError, match="boom"):
        with Probe(net):
            net(_x())
            raise RuntimeError("boom")
    assert hook_count(net) == 0
    with pytest.raises(RuntimeError):  # a forward that fails inside the block
        with Probe(net):
            net(torch.zeros(3, 99))
    assert hook_count(net) == 0


def test_subsample_is_bounded_seeded_and_independent_of_batching(net):
    x = _x(n=1000)
    full = capture(net, x)

    def run(batch, seed=7):
        with torch.no_grad(), Probe(net, subsample=64, seed=seed) as probe:
            for start in range(0, len(x), batch):
                net(x[start:start + batch])
        return probe.rows, probe.activations

    rows_a, acts_a = run(1000)
    rows_b, acts_b = run(37)
    rows_again, _ = run(1000)
    rows_other, _ = run(1000, seed=8)
    assert len(rows_a) == 64 and np.all(np.diff(rows_a) > 0)
    assert np.array_equal(rows_a, rows_b) and np.array_equal(rows_a, rows_again)
    assert not np.array_equal(rows_a, rows_other)
    for name in full:
        assert acts_a[name].shape == (64, full[name].shape[1])
        assert np.allclose(acts_a[name], full[name][rows_a])
        assert np.allclose(acts_b[name], full[name][rows_a])
    # a uniform subset: the kept positions spread over the whole stream
    assert rows_a.min() < 200 and rows_a.max() > 800


def test_capture_restores_mode_and_needs_no_grad(net):
    net.train()
    x = _x(n=20)
    acts = capture(net, x.numpy(), batch_size=6)
    assert net.training
    assert acts["layer2"].shape == (20, 4)
    assert np.allclose(acts["layer3"], net(x).detach().numpy(), atol=1e-6)
    with pytest.raises(InputError):
        capture(net, x, batch_size=0)
    with pytest.raises(InputError):
        Probe(net, subsample=0)


def test_tuple_outputs_use_the_first_tensor():
    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 4, batch_first=True)

        def forward(self, x):
            return self.rnn(x)[0]

    model = Wrap()
    acts = capture(model, torch.zeros(5, 2, 3), layers=["rnn"])
    assert acts["rnn"].shape == (5, 8)  # (batch, seq * hidden), flattened
