"""Information-bottleneck objectives as ``torch.nn.Module`` losses.

Convention (as in VIB): **loss = prediction loss + β · C**, where C is a bound on or an
estimate of I(X;T) in nats; a larger β compresses more. The prediction loss is the
cross-entropy of the decoder's logits (``task="classification"``, integer labels) or half the
mean squared error (``task="regression"``: the Gaussian negative log-likelihood with unit
variance, up to a constant). Every loss takes a :class:`BottleneckOutput` (what
:meth:`workbench.ib.models.BottleneckNet.forward_ib` returns; build one yourself for any other
encoder) and the targets, and keeps its last terms in ``loss.last`` (``prediction``,
``compression``, ``loss``; floats, nats), so it fits any training loop::

    out = model.forward_ib(x)
    loss = VIB(beta=1e-3)(out, y)
    loss.backward()

* :class:`VIB` — Alemi, Fischer, Dillon & Murphy (2017), Deep variational information
  bottleneck, ICLR: C = E_x KL(N(μ(x), diag σ²(x)) ‖ N(0, I)), an upper bound on I(X;T).
* :class:`NonlinearIB` — Kolchinsky, Tracey & Wolpert (2019), Nonlinear information
  bottleneck, Entropy 21:1181: C = the pairwise-KL (KDE) upper bound on I(X;T) over the batch;
  ``squared=True`` gives the squared-IB functional β·C² of Kolchinsky, Tracey & Van Kuyk (2019),
  Caveats for information bottleneck in deterministic scenarios, ICLR.
* :class:`CSIB` — Yu, Yu, Løkse, Jenssen & Príncipe (2024), Cauchy–Schwarz divergence
  information bottleneck for regression, ICLR: C = the Cauchy–Schwarz quadratic MI I_CS(X;T)
  from Gaussian Gram matrices of the batch (a kernel dependence measure, not Shannon MI). The
  paper's kernel CS-divergence prediction term is not implemented; the prediction term is the
  same as the other losses'.
* :class:`MINEIB` — a MINE critic (Belghazi et al. 2018, Mutual information neural
  estimation, ICML) estimates I(X;T) by the Donsker–Varadhan bound; the loss takes ``steps``
  critic ascent steps on the detached batch, then C = the DV value with the critic fixed, so the
  encoder's gradient lowers the critic's estimate (adversarial, as in MINE's IB experiment).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..estimators.matrix import cs_qmi_terms, kernel_width, pairwise_sq_dists

TASKS = ("classification", "regression")


@dataclass
class BottleneckOutput:
    """One forward pass through a stochastic bottleneck: decoder ``logits`` (or regression
    outputs) computed from the sample ``t`` = ``mean`` + exp(``logvar``/2)·ε, and the input
    ``x`` (flattened to rows by the losses that need it)."""

    logits: torch.Tensor
    mean: torch.Tensor
    logvar: torch.Tensor
    t: torch.Tensor
    x: torch.Tensor | None = None


def reparameterise(mean: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None,
                   seed: int = 0) -> torch.Tensor:
    """The reparameterised sample t = μ + exp(log σ²/2)·ε, ε ~ N(0, I) (Kingma & Welling 2014,
    Auto-encoding variational Bayes, ICLR), differentiable in μ and log σ². ``eps``: the noise
    to use; None draws it from a CPU generator seeded with ``seed`` (a fixed sample for
    measuring)."""
    if eps is None:
        eps = torch.randn(mean.shape, generator=torch.Generator().manual_seed(int(seed)))
    return mean + eps * (0.5 * logvar).exp()


def gaussian_kl_to_standard(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_k (μ_k² + σ_k² − 1 − log σ_k²), one value per row."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def pairwise_gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """B×B matrix KL(N_i ‖ N_j) of diagonal Gaussians (exactly 0 on the diagonal)."""
    mi, lvi = mean[:, None, :], logvar[:, None, :]
    mj, lvj = mean[None], logvar[None]
    kl = 0.5 * (lvj - lvi + (lvi.exp() + (mi - mj).pow(2)) * (-lvj).exp() - 1.0).sum(dim=2)
    return kl * (1.0 - torch.eye(len(mean), dtype=kl.dtype, device=kl.device))


def kde_mi_upper(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Kolchinsky–Tracey upper bound on I(X;T), X uniform over the batch rows:
    −(1/B) Σ_i log (1/B) Σ_j exp(−KL(p_i ‖ p_j)) (nats, in [0, log B])."""
    logits = -pairwise_gaussian_kl(mean, logvar)
    return -(torch.logsumexp(logits, dim=1) - math.log(len(mean))).mean()


def _gram(z: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """Gaussian Gram matrix exp(−‖z_i − z_j‖²/(2σ²)) of the batch rows, differentiable in z.
    σ = None: the median rule of the ``cauchy_schwarz`` estimator
    (:func:`workbench.estimators.matrix.kernel_width`, σ² = the median squared pairwise
    distance), taken on the batch and held fixed for the gradient."""
    sq = pairwise_sq_dists(z - z.mean(dim=0))  # centred: less cancellation in the expansion
    if sigma is None:
        s2 = kernel_width(z.detach().cpu(), "median", sq.detach()) ** 2
    else:
        s2 = float(sigma) ** 2
    return torch.exp(-sq / (2.0 * s2))


def cs_qmi(x: torch.Tensor, t: torch.Tensor, sigma_x: float | None = None,
           sigma_t: float | None = None) -> torch.Tensor:
    """Cauchy–Schwarz quadratic MI I_CS(X;T) = log(V_J V_M / V_C²) from Gaussian Gram matrices
    Kx, Kt of the batch, the terms of :func:`workbench.estimators.matrix.cs_qmi_terms`
    (Príncipe 2010, §2.7; Yu et al. 2024), as a differentiable tensor. σ = None: the median
    rule (σ² = median squared distance, as the ``cauchy_schwarz`` estimator). ≥ 0 by
    Cauchy–Schwarz."""
    kx, kt = _gram(x.reshape(len(x), -1), sigma_x), _gram(t.reshape(len(t), -1), sigma_t)
    v_j, v_m, v_c = cs_qmi_terms(kx, kt)
    return torch.log(v_j) + torch.log(v_m) - 2.0 * torch.log(v_c)


class IBLoss(nn.Module):
    """Base: ``forward(out, y)`` = prediction(out, y) + β · compression(out) (nats); see the
    module docstring. Subclasses implement :meth:`compression`."""

    #: Short name used in run configs and tables.
    objective = "ib"
    #: What the compression term is, in words (tables and plots say it).
    compression_kind = "I(X;T)"

    def __init__(self, beta: float = 1e-3, task: str = "classification"):
        super().__init__()
        if not (isinstance(beta, (int, float)) and not isinstance(beta, bool)
                and math.isfinite(beta) and beta >= 0):
            raise InputError(f"beta must be a finite number >= 0, got {beta!r}")
        if task not in TASKS:
            raise InputError(f"task must be one of {TASKS}, got {task!r}")
        self.beta, self.task = float(beta), task
        self.last: dict[str, float] = {}

    def prediction(self, out: BottleneckOutput, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the logits (classification) or ½·mean ‖ŷ − y‖² (regression)."""
        if self.task == "classification":
            return F.cross_entropy(out.logits, y.long().reshape(-1))
        pred = out.logits.reshape(len(out.logits), -1)
        return 0.5 * (pred - y.to(pred.dtype).reshape(pred.shape)).pow(2).sum(dim=1).mean()

    def compression(self, out: BottleneckOutput) -> torch.Tensor:
        raise NotImplementedError

    def penalty(self, c: torch.Tensor) -> torch.Tensor:
        """What β multiplies: C itself (the squared IB overrides it)."""
        return c

    def forward(self, out: BottleneckOutput, y: torch.Tensor) -> torch.Tensor:
        pred = self.prediction(out, y)
        if self.beta == 0:
            total, c = pred, None
        else:
            c = self.compression(out)
            total = pred + self.beta * self.penalty(c)
        self.last = {"prediction": float(pred.detach()), "loss": float(total.detach()),
                     "compression": float("nan") if c is None else float(c.detach())}
        return total

    def step_loss(self, model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The ``objective`` hook of :func:`workbench.training.loop.train`."""
        return self(model.forward_ib(x), y)

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}, task={self.task!r}"


class CrossEntropy(IBLoss):
    """The prediction loss alone (β = 0): the plain baseline on the same network."""

    objective = "ce"
    #: not trained on, but still a valid upper bound to report
    compression_kind = "E KL(p(t|x) ‖ N(0, I)) ≥ I(X;T)"

    def __init__(self, beta: float = 0.0, task: str = "classification"):
        super().__init__(0.0, task)

    def compression(self, out):
        return gaussian_kl_to_standard(out.mean, out.logvar).mean()


class VIB(IBLoss):
    """Deep VIB (Alemi et al. 2017): loss = prediction + β · (1/B) Σ_i KL(p(t|x_i) ‖ N(0, I)),
    with p(t|x) = N(μ(x), diag σ²(x)). The KL to any fixed prior r(t) bounds I(X;T) from above,
    since I(X;T) = E_x KL(p(t|x) ‖ p(t)) ≤ E_x KL(p(t|x) ‖ r(t))."""

    objective = "vib"
    compression_kind = "E KL(p(t|x) ‖ N(0, I)) ≥ I(X;T)"

    def compression(self, out):
        return gaussian_kl_to_standard(out.mean, out.logvar).mean()


class NonlinearIB(IBLoss):
    """Nonlinear IB (Kolchinsky, Tracey & Wolpert 2019): loss = prediction + β · Î(X;T), with
    Î = −(1/B) Σ_i log (1/B) Σ_j exp(−KL(p_i ‖ p_j)) the pairwise-KL (KDE) upper bound over the
    batch (Kolchinsky & Tracey 2017; with a shared noise variance σ² the KL is
    ‖μ_i − μ_j‖²/(2σ²)). ``squared=True``: loss = prediction + β · Î², the squared-IB
    functional (Kolchinsky, Tracey & Van Kuyk 2019), which keeps exploring the IB curve when Y
    is a deterministic function of X."""

    compression_kind = "pairwise-KL bound ≥ I(X;T)"

    def __init__(self, beta: float = 1e-3, task: str = "classification", squared: bool = False):
        super().__init__(beta, task)
        self.squared = bool(squared)
        self.objective = "nonlinear_ib_squared" if self.squared else "nonlinear_ib"

    def compression(self, out):
        return kde_mi_upper(out.mean, out.logvar)

    def penalty(self, c):
        return c.pow(2) if self.squared else c

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, squared={self.squared}"


class CSIB(IBLoss):
    """Cauchy–Schwarz IB (Yu et al. 2024): loss = prediction + β · I_CS(X;T), the CS quadratic
    MI between the batch inputs and the sampled bottleneck (:func:`cs_qmi`; kernel widths
    ``sigma_x``, ``sigma_t``; None: the median rule of the ``cauchy_schwarz`` estimator, σ² = the
    median squared distance, so C equals that estimate on the batch; earlier versions used
    half that σ², which gives a larger C, about 3× on a 12-bit batch, for the same β). I_CS is
    in nats of a log-ratio but is a kernel dependence measure, not Shannon MI."""

    objective = "csib"
    compression_kind = "I_CS(X;T) (not Shannon)"

    def __init__(self, beta: float = 1e-3, task: str = "classification",
                 sigma_x: float | None = None, sigma_t: float | None = None):
        super().__init__(beta, task)
        self.sigma_x, self.sigma_t = sigma_x, sigma_t

    def compression(self, out):
        if out.x is None:
            raise InputError("CSIB needs the inputs: pass a BottleneckOutput with x")
        return cs_qmi(out.x.to(out.t.dtype), out.t, self.sigma_x, self.sigma_t)


class MINEIB(IBLoss):
    """MINE-based IB: loss = prediction + β · DV(X;T), with DV the Donsker–Varadhan lower bound
    E_p[f] − log E_{p⊗p}[e^f] of a critic f(x, t) (Belghazi et al. 2018). Each call first takes
    ``steps`` Adam steps (learning rate ``lr``) raising DV on the detached batch (so the critic
    tracks the encoder), then evaluates DV with the critic's parameters fixed; only the encoder
    gets that gradient. The critic is a separable one from the neural estimators
    (:func:`workbench.estimators.neural.critics.make_critic`), built on the first call."""

    objective = "mineib"
    compression_kind = "DV(X;T) ≤ I(X;T)"

    def __init__(self, beta: float = 1e-3, task: str = "classification", hidden=(64,),
                 embed_dim: int = 16, lr: float = 1e-3, steps: int = 1, seed: int = 0):
        super().__init__(beta, task)
        self.hidden, self.embed_dim = [int(h) for h in hidden], int(embed_dim)
        self.lr, self.steps, self.seed = float(lr), int(steps), int(seed)
        self.critic: nn.Module | None = None
        self._opt = None

    def _scores(self, x, t):
        return self.critic(x, t)

    def _ensure_critic(self, x, t) -> None:
        if self.critic is None:
            from ..estimators.neural.critics import make_critic
            from .models import INIT_LOCK

            with INIT_LOCK, torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.critic = make_critic("separable", x.shape[1], t.shape[1], self.hidden,
                                          self.embed_dim).to(device=t.device, dtype=t.dtype)
            self._opt = torch.optim.Adam(self.critic.parameters(), lr=self.lr)

    def fit_critic(self, x: torch.Tensor, t: torch.Tensor, steps: int | None = None) -> float:
        """Raise the critic's DV on ``(x, t)`` for ``steps`` Adam steps; returns the last DV."""
        from ..estimators.neural.bounds import dv_bound

        x, t = x.reshape(len(x), -1).detach().to(t.dtype), t.detach()
        self._ensure_critic(x, t)
        value = float("nan")
        with torch.enable_grad():
            for _ in range(self.steps if steps is None else int(steps)):
                self._opt.zero_grad(set_to_none=True)
                dv = dv_bound(self._scores(x, t))
                (-dv).backward()
                self._opt.step()
                value = float(dv.detach())
        return value

    def compression(self, out):
        from ..estimators.neural.bounds import dv_bound

        if out.x is None:
            raise InputError("MINEIB needs the inputs: pass a BottleneckOutput with x")
        x = out.x.reshape(len(out.x), -1).to(out.t.dtype)
        if torch.is_grad_enabled():
            self.fit_critic(x, out.t)
        else:
            self._ensure_critic(x, out.t)
        for p in self.critic.parameters():
            p.requires_grad_(False)
        try:
            return dv_bound(self._scores(x, out.t))
        finally:
            for p in self.critic.parameters():
                p.requires_grad_(True)


OBJECTIVES = {"ce": CrossEntropy, "vib": VIB, "nonlinear_ib": NonlinearIB,
              "nonlinear_ib_squared": NonlinearIB, "csib": CSIB, "mineib": MINEIB}


def make_loss(objective: str, beta: float = 1e-3, task: str = "classification",
              **options) -> IBLoss:
    """The loss named ``objective`` (one of :data:`OBJECTIVES`) at ``beta``."""
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    if objective == "nonlinear_ib_squared":
        options["squared"] = True
    return OBJECTIVES[objective](beta=beta, task=task, **options)
