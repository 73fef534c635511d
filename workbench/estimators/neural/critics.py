"""Critics T(x, y) for the neural MI bounds: separable (two encoders, inner product) or
joint (one network on the concatenated pair); each gives a B×B score matrix on a batch."""
from __future__ import annotations

from ...errors import KnobError

_HIDDEN_RE = r"^\s*\d+\s*(,\s*\d+\s*)*$"


def parse_hidden(spec: str) -> list[int]:
    """Hidden layer widths from a ``hidden`` knob such as ``"128,128"``."""
    widths = [int(h) for h in spec.split(",")]
    if min(widths) < 1:
        raise KnobError(f"hidden layer widths must be ≥ 1, got {spec!r}")
    return widths


# ----- critics ------------------------------------------------------------------------------
ACTIVATIONS = {"softplus": "Softplus", "relu": "ReLU", "elu": "ELU", "silu": "SiLU",
               "tanh": "Tanh"}


def _mlp(d_in: int, hidden: list[int], d_out: int, activation: str = "softplus"):
    from torch import nn

    layers, width = [], d_in
    for h in hidden:
        layers += [nn.Linear(width, h), getattr(nn, ACTIVATIONS[activation])()]
        width = h
    layers.append(nn.Linear(width, d_out))
    return nn.Sequential(*layers)


def make_critic(kind: str, dx: int, dy: int, hidden: list[int], embed_dim: int,
                activation: str = "softplus"):
    """A torch module mapping (x: B×dx, y: B×dy) to the B×B scores S_ij = T(x_i, y_j).

    ``"separable"``: T = f(x)ᵀg(y), two MLPs into ``embed_dim`` dimensions; the B² scores cost
    one matrix product. ``"joint"``: one MLP on the concatenation [x, y], evaluated on all B²
    pairs (more flexible, B times more work).
    """
    import torch
    from torch import nn

    class Separable(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = _mlp(dx, hidden, embed_dim, activation)
            self.g = _mlp(dy, hidden, embed_dim, activation)

        def forward(self, x, y):
            return self.f(x) @ self.g(y).T

    class Joint(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _mlp(dx + dy, hidden, 1, activation)

        def forward(self, x, y):
            b = x.shape[0]
            pairs = torch.cat([x[:, None, :].expand(b, b, dx), y[None, :, :].expand(b, b, dy)],
                              dim=2)
            return self.net(pairs).squeeze(-1)

    if kind == "separable":
        return Separable()
    if kind == "joint":
        return Joint()
    raise KnobError(f"critic must be 'separable' or 'joint', got {kind!r}")


# ----- bounds on a B×B score matrix ---------------------------------------------------------
