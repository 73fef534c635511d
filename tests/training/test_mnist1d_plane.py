"""MNIST-1D: the 1-D CNN, the feature-space information plane and the cost table."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import InputError
from workbench.tracking.feature_plane import FeaturePlane
from workbench.tracking.probes import capture
from workbench.training.mnist1d_plane import build_model, cost_table, mnist1d_plane
from workbench.training.models import cnn1d


def test_cnn_shapes_probabilities_and_seeding():
    net = cnn1d(seed=3)
    x = torch.randn(5, 40)
    p = net(x)
    assert p.shape == (5, 10)
    assert torch.allclose(p.sum(dim=1), torch.ones(5))
    acts = capture(net, x.numpy(), net.tracked_layers)
    # stride 2 three times: 40 -> 20 -> 10 -> 5 positions, 16 channels, flattened
    assert [acts[k].shape[1] for k in net.tracked_layers] == [320, 160, 80, 10]
    assert torch.equal(net(x), cnn1d(seed=3)(x))
    assert not torch.equal(net(x), cnn1d(seed=4)(x))
    with pytest.raises(InputError):
        cnn1d(activation="swish")
    with pytest.raises(InputError):
        build_model("resnet")


class _Identity(nn.Module):
    tracked_layers = ["t"]

    def __init__(self):
        super().__init__()
        self.t = nn.Identity()

    def forward(self, x):
        return self.t(x)


def test_feature_plane_measures_against_the_inputs():
    # T = X, a standard normal column; compressed_ksg adds N(0, 1) noise to both continuous
    # sides, so I(X;T) is the MI of X + Z1 and X + Z2: correlation rho = 1/2 and
    # I = -0.5 ln(1 - rho^2) = 0.1438 nats. KSG's spread at n = 2000 is about 0.02 nats
    # (repeated sampling), so 0.06 is three of those.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 1))
    y = (x[:, 0] > 0).astype(int)
    plane = FeaturePlane(_Identity(), x=x, y=y, units="nats",
                         estimators=[("compressed_ksg", {"noise_std": 1.0, "seed": 1})])
    plane.record(0)
    frame = plane.frame().set_index("quantity")
    truth = -0.5 * math.log(1 - 0.25)
    assert frame.loc["I(X;T)", "value"] == pytest.approx(truth, abs=0.06)
    # a subsample keeps the base class's rows: the features line up with the labels
    sub = FeaturePlane(_Identity(), x=x, y=y, subsample=500, seed=2, estimators=["binning"])
    assert np.array_equal(sub.x.ravel() > 0, sub.y.astype(bool))
    assert np.array_equal(sub._features, sub.x)


def test_mnist1d_plane_small_run():
    tracker, result, config = mnist1d_plane("cnn", epochs=2, n_samples=400, subsample=200)
    frame = tracker.frame()
    info = frame[frame["quantity"].isin(["I(X;T)", "I(T;Y)"])]
    # 4 layers x 2 quantities x 3 recorded epochs (0, 1, 2)
    assert len(info) == 4 * 2 * 3
    assert set(info["layer"]) == {"conv1", "conv2", "conv3", "out"}
    assert (info["units"] == "bits").all()
    assert config["model"] == "cnn" and "flattened" in config["feature_maps"]
    costs = cost_table(tracker, result)
    assert list(costs["epoch"]) == [1, 2]
    assert (costs["train_seconds"] > 0).all() and (costs["tracking_seconds"] > 0).all()


def test_cost_table_pairs_each_epoch_with_its_own_training_time():
    from types import SimpleNamespace

    tracker = SimpleNamespace(costs=[
        {"epoch": 0, "seconds": 9.0, "capture_seconds": 1.0},   # before training: left out
        {"epoch": 1, "seconds": 0.5, "capture_seconds": 0.1},
        {"epoch": 3, "seconds": 1.5, "capture_seconds": 0.2}])
    result = SimpleNamespace(history=[{"epoch": e, "seconds": s}
                                      for e, s in ((1, 2.0), (2, 4.0), (3, 3.0))])
    costs = cost_table(tracker, result)
    assert list(costs["epoch"]) == [1, 3]
    assert list(costs["train_seconds"]) == [2.0, 3.0]
    assert list(costs["ratio"]) == [0.25, 0.5]


def test_mlp_and_cnn_share_the_truncated_normal_init():
    from workbench.training.models import mlp

    for net, layers in ((cnn1d(seed=0), ("conv1", "conv2", "conv3")),
                        (mlp("40-256-128-10", seed=0), ("layer1", "layer2"))):
        w = torch.cat([getattr(net, name)[0].weight.detach().ravel()
                       * math.sqrt(getattr(net, name)[0].weight[0].numel()) for name in layers])
        # N(0, 1) truncated at ±2 has sd 0.8796; > 1600 weights: sd error < 0.02 (3 se 0.05)
        assert float(w.abs().max()) <= 2.0
        assert float(w.std()) == pytest.approx(0.8796, abs=0.05)
        assert all(float(getattr(net, name)[0].bias.detach().abs().max()) == 0.0
                   for name in layers)
