"""Small fully connected networks for the information plane.

``mlp("12-10-7-5-4-3-2", activation="tanh", seed=0)`` builds the Shwartz-Ziv & Tishby (2017)
network. Layer ``layer{i}`` is ``Linear`` followed by its nonlinearity, so a forward hook on
``layer{i}`` sees the layer's *activation output* T_i; the last one, ``layer{L}``, is the output
layer with a softmax, so T_L is the vector of class probabilities (as in Saxe et al. 2018, who
bin the softmax output with the hidden layers). The names are in ``model.tracked_layers``.

The network returns class **probabilities** and sets ``outputs_probabilities = True``;
:func:`workbench.training.loop.train` then uses the negative log-likelihood of those probabilities.

Initialisation follows Saxe et al. (2018): weights ~ N(0, 1/fan_in) truncated at two standard
deviations (as TensorFlow's ``truncated_normal``), biases zero; drawn from a
``torch.Generator`` seeded with ``seed``, so the same seed gives the same network.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InputError

ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "linear": nn.Identity,
}


def truncated_normal_init(layers, seed: int | None = 0) -> None:
    """Weights ~ N(0, 1/fan_in) truncated at two standard deviations (resampled beyond, like
    TensorFlow's ``truncated_normal``; Saxe et al. 2018), biases zero, for each layer in
    order from one ``torch.Generator`` seeded with ``seed`` (None: 0). fan_in is the number of
    inputs of one output unit (in_features, or in_channels × kernel size)."""
    gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
    with torch.no_grad():
        for layer in layers:
            w = torch.randn(layer.weight.shape, generator=gen)
            bad = w.abs() > 2
            while bad.any():
                w[bad] = torch.randn(int(bad.sum()), generator=gen)
                bad = w.abs() > 2
            layer.weight.copy_(w * (1.0 / math.sqrt(layer.weight[0].numel())))
            layer.bias.zero_()


def parse_widths(widths) -> list[int]:
    """``"12-10-7-5-4-3-2"`` (or a list of ints) → ``[12, 10, 7, 5, 4, 3, 2]``."""
    if isinstance(widths, str):
        try:
            out = [int(w) for w in widths.replace(",", "-").split("-") if w.strip()]
        except ValueError as exc:
            raise InputError(f"widths must look like '12-10-7-5-4-3-2', got {widths!r}") from exc
    else:
        out = [int(w) for w in widths]
    if len(out) < 2 or min(out) < 1:
        raise InputError(f"widths need an input and an output size, all >= 1; got {widths!r}")
    return out


def layer_names(widths) -> list[str]:
    """Names of the tracked layers of an :class:`MLP` with these widths: layer1 … layerL,
    one per weight layer (the softmax output is the last)."""
    return [f"layer{i}" for i in range(1, len(parse_widths(widths)))]


class MLP(nn.Module):
    """A multilayer perceptron whose layers ``layer1..layerL`` are the tracked layers."""

    outputs_probabilities = True

    def __init__(self, widths, activation: str = "tanh", seed: int | None = 0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise InputError(f"unknown activation {activation!r}; use one of "
                             f"{', '.join(ACTIVATIONS)}")
        self.widths = parse_widths(widths)
        self.activation = activation
        self.tracked_layers = layer_names(self.widths)
        n = len(self.tracked_layers)
        for i, (a, b) in enumerate(zip(self.widths[:-1], self.widths[1:]), start=1):
            last = i == n
            nonlin = nn.Softmax(dim=1) if last else ACTIVATIONS[activation]()
            self.add_module(f"layer{i}", nn.Sequential(nn.Linear(a, b), nonlin))
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int | None = 0) -> None:
        """Truncated N(0, 1/fan_in) weights, zero biases (Saxe et al. 2018)."""
        truncated_normal_init([getattr(self, name)[0] for name in self.tracked_layers], seed)

    def forward(self, x):
        for name in self.tracked_layers:
            x = getattr(self, name)(x)
        return x

    def extra_repr(self) -> str:
        return f"widths={'-'.join(map(str, self.widths))}, activation={self.activation!r}"


def mlp(widths="12-10-7-5-4-3-2", activation: str = "tanh", seed: int | None = 0) -> MLP:
    """The information-plane network; see the module docstring for layer names and init."""
    return MLP(widths, activation=activation, seed=seed)


# ----- MNIST-1D models: a 1-D CNN (issue 18, "a bigger real model on a CPU") --------------------
# Kept apart from the MLP above; the MLP on MNIST-1D is ``mlp("40-256-128-10")``.

class CNN1D(nn.Module):
    """A 1-D convolutional classifier for 40-sample signals (MNIST-1D, Greydanus & Kobak 2024),
    shaped like the paper's CNN: three convolutions of ``channels`` filters (kernel 5 then 3,
    stride 2, so 40 → 20 → 10 → 5 positions), each followed by the nonlinearity, then a linear
    softmax layer on the flattened last feature map.

    Tracked layers: ``conv1``, ``conv2``, ``conv3`` (feature maps ``channels × positions``,
    which :mod:`workbench.tracking.probes` flattens to ``channels·positions`` columns per row)
    and ``out`` (class probabilities; ``outputs_probabilities = True`` as for :class:`MLP`).
    Inputs are rows of 40 floats, ``(n, 40)``, or ``(n, 1, 40)``. Weights are drawn like the
    MLP's (truncated N(0, 1/fan_in), zero biases) from a generator seeded with ``seed``.
    """

    outputs_probabilities = True

    def __init__(self, length: int = 40, n_classes: int = 10, channels: int = 16,
                 activation: str = "relu", seed: int | None = 0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise InputError(f"unknown activation {activation!r}; use one of "
                             f"{', '.join(ACTIVATIONS)}")
        if length < 8 or n_classes < 2 or channels < 1:
            raise InputError(f"need length >= 8, n_classes >= 2 and channels >= 1; got "
                             f"{length}, {n_classes}, {channels}")
        self.length, self.n_classes, self.channels = int(length), int(n_classes), int(channels)
        self.activation = activation
        self.tracked_layers = ["conv1", "conv2", "conv3", "out"]
        act = ACTIVATIONS[activation]
        self.conv1 = nn.Sequential(nn.Conv1d(1, channels, 5, stride=2, padding=2), act())
        self.conv2 = nn.Sequential(nn.Conv1d(channels, channels, 3, stride=2, padding=1), act())
        self.conv3 = nn.Sequential(nn.Conv1d(channels, channels, 3, stride=2, padding=1), act())
        with torch.no_grad():
            positions = self._features(torch.zeros(1, 1, self.length)).shape[-1]
        self.out = nn.Sequential(nn.Flatten(), nn.Linear(channels * positions, n_classes),
                                 nn.Softmax(dim=1))
        self.reset_parameters(seed)

    def _features(self, x):
        return self.conv3(self.conv2(self.conv1(x)))

    def reset_parameters(self, seed: int | None = 0) -> None:
        """Truncated N(0, 1/fan_in) weights, zero biases, from a seeded generator."""
        truncated_normal_init([self.conv1[0], self.conv2[0], self.conv3[0], self.out[1]], seed)

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.out(self._features(x))

    def extra_repr(self) -> str:
        return (f"length={self.length}, channels={self.channels}, classes={self.n_classes}, "
                f"activation={self.activation!r}")


def cnn1d(length: int = 40, n_classes: int = 10, channels: int = 16, activation: str = "relu",
          seed: int | None = 0) -> CNN1D:
    """The MNIST-1D CNN; see :class:`CNN1D`."""
    return CNN1D(length, n_classes, channels, activation, seed)
