"""Networks with a stochastic Gaussian bottleneck whose noise the information plane measures.

``bottleneck_net("40-128-128", k=8, n_out=10)``: an encoder MLP (ReLU; ``conv=C`` puts a 1-D
convolutional front with C channels before it, for signals like MNIST-1D's) maps x to 2k numbers,
the mean μ(x) and log-variance log σ²(x) of the bottleneck T | x ~ N(μ(x), diag σ²(x)); the
decoder (one linear layer, as in Alemi et al.'s VIB) maps a sample of T to logits. In training
mode T is sampled with the reparametrisation t = μ + σ ⊙ ε, ε ~ N(0, I) (Kingma & Welling
2014), so gradients flow through the noise; in eval mode the decoder reads T = μ(x) (the mode),
so accuracies are deterministic.

``shared_variance=True`` gives every row one learned diagonal variance (the homoscedastic noise
of Kolchinsky et al.'s nonlinear IB). The module ``bottleneck.stats`` outputs ``[μ, log σ²]``
(an identity, so forward hooks see the channel's parameters): :mod:`workbench.ib.channel`
measures the *trained stochastic* T from them, and :class:`workbench.ib.tracker.IBPlane` does
so each epoch. Initialisation: PyTorch's default for Linear, drawn inside a forked RNG seeded
with ``seed`` (same seed, same network; the caller's RNG untouched); the bottleneck's noise
comes from its own generator seeded with ``seed``, so runs in parallel threads give the same
numbers as runs one after another.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import InputError
from ..torch_utils import RNG_LOCK
from ..training.models import parse_widths
from .losses import BottleneckOutput, reparameterise

#: Parameter initialisation seeds the global torch RNG inside a fork; threads (a LocalCluster's
#: workers) take turns so that one's seed never lands in another's draw.
INIT_LOCK = RNG_LOCK
#: log σ² is clamped here: e^{±12} spans any useful noise level and keeps KL terms finite.
LOGVAR_RANGE = (-12.0, 12.0)


class GaussianBottleneck(nn.Module):
    """Split ``2k`` encoder outputs into μ and log σ² (or use one learned log σ² per dimension
    with ``shared_variance``) and sample T by reparametrisation in training mode."""

    def __init__(self, k: int, shared_variance: bool = False, init_logvar: float = 0.0,
                 seed: int = 0):
        super().__init__()
        self.k, self.shared_variance = int(k), bool(shared_variance)
        # the noise has its own generator: threads training side by side (a LocalCluster)
        # draw the same numbers as one after another
        self.generator = torch.Generator().manual_seed(int(seed))
        if self.shared_variance:
            self.logvar = nn.Parameter(torch.full((self.k,), float(init_logvar)))
        self.stats = nn.Identity()

    def noise(self, like: torch.Tensor) -> torch.Tensor:
        """ε ~ N(0, I) shaped like ``like``, from this layer's generator (CPU)."""
        if like.device.type != "cpu":
            return torch.randn_like(like)
        return torch.randn(like.shape, generator=self.generator, dtype=like.dtype)

    @property
    def n_inputs(self) -> int:
        return self.k if self.shared_variance else 2 * self.k

    def forward(self, h: torch.Tensor):
        if self.shared_variance:
            mean, logvar = h, self.logvar.expand_as(h)
        else:
            mean, logvar = h[:, :self.k], h[:, self.k:]
        logvar = logvar.clamp(*LOGVAR_RANGE)
        self.stats(torch.cat([mean, logvar], dim=1))
        if self.training:
            t = reparameterise(mean, logvar, self.noise(mean))
        else:
            t = mean
        return t, mean, logvar


class BottleneckNet(nn.Module):
    """encoder MLP → Gaussian bottleneck T (k dims) → linear decoder; ``forward`` returns the
    logits, :meth:`forward_ib` a :class:`~workbench.ib.losses.BottleneckOutput`."""

    outputs_probabilities = False
    #: the channel's parameters [μ, log σ²]: what the IB plane measures
    tracked_layers = ["bottleneck.stats"]

    def __init__(self, widths="40-128-128", k: int = 8, n_out: int = 10,
                 shared_variance: bool = False, seed: int | None = 0, conv: int = 0):
        super().__init__()
        self.widths = parse_widths(widths)
        if k < 1 or n_out < 1 or conv < 0:
            raise InputError(f"need k >= 1 bottleneck dimensions, n_out >= 1 and conv >= 0, "
                             f"got k={k}, n_out={n_out}, conv={conv}")
        self.k, self.n_out, self.conv = int(k), int(n_out), int(conv)
        seed = 0 if seed is None else int(seed)
        with INIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            d = self.widths[0]
            self.front = _conv_front(d, self.conv) if self.conv else nn.Identity()
            # the conv front halves the length (stride 2) and has `conv` channels
            widths = [self.conv * ((d + 1) // 2) if self.conv else d, *self.widths[1:]]
            layers = []
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            self.bottleneck = GaussianBottleneck(k, shared_variance, seed=seed)
            layers.append(nn.Linear(widths[-1], self.bottleneck.n_inputs))
            self.encoder = nn.Sequential(*layers)
            self.decoder = nn.Linear(self.k, self.n_out)

    def forward_ib(self, x: torch.Tensor) -> BottleneckOutput:
        t, mean, logvar = self.bottleneck(self.encoder(self.front(x.reshape(len(x), -1))))
        return BottleneckOutput(self.decoder(t), mean, logvar, t, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_ib(x).logits

    def extra_repr(self) -> str:
        return (f"widths={'-'.join(map(str, self.widths))}, k={self.k}, n_out={self.n_out}, "
                f"shared_variance={self.bottleneck.shared_variance}, conv={self.conv}")


def _conv_front(length: int, channels: int) -> nn.Sequential:
    """A 1-D convolutional front for signals such as MNIST-1D's (rows of ``length`` samples):
    two convolutions of width 5 (the second with stride 2), ReLU, flattened."""
    return nn.Sequential(nn.Unflatten(1, (1, length)),
                         nn.Conv1d(1, channels, 5, padding=2), nn.ReLU(),
                         nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU(),
                         nn.Flatten())


def bottleneck_net(widths="40-128-128", k: int = 8, n_out: int = 10,
                   shared_variance: bool = False, seed: int | None = 0,
                   conv: int = 0) -> BottleneckNet:
    """A :class:`BottleneckNet`; ``widths`` are the encoder's (input first); ``conv`` > 0
    puts a 1-D convolutional front with that many channels before the MLP."""
    return BottleneckNet(widths, k=k, n_out=n_out, shared_variance=shared_variance, seed=seed,
                         conv=conv)
