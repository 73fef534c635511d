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
        gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
        with torch.no_grad():
            for name in self.tracked_layers:
                lin = getattr(self, name)[0]
                std = 1.0 / math.sqrt(lin.in_features)
                w = torch.randn(lin.weight.shape, generator=gen)
                # resample beyond two standard deviations, like tf.truncated_normal
                bad = w.abs() > 2
                while bad.any():
                    w[bad] = torch.randn(int(bad.sum()), generator=gen)
                    bad = w.abs() > 2
                lin.weight.copy_(w * std)
                lin.bias.zero_()

    def forward(self, x):
        for name in self.tracked_layers:
            x = getattr(self, name)(x)
        return x

    def extra_repr(self) -> str:
        return f"widths={'-'.join(map(str, self.widths))}, activation={self.activation!r}"


def mlp(widths="12-10-7-5-4-3-2", activation: str = "tanh", seed: int | None = 0) -> MLP:
    """The information-plane network; see the module docstring for layer names and init."""
    return MLP(widths, activation=activation, seed=seed)
