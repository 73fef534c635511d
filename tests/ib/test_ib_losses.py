"""The IB losses against closed forms (Gaussian KL, mixture entropies, CS-QMI of Gaussians,
MINE on Gaussians of known MI)."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from workbench.errors import InputError  # noqa: E402
from workbench.ib import channel  # noqa: E402
from workbench.ib.losses import (  # noqa: E402
    CSIB,
    MINEIB,
    VIB,
    BottleneckOutput,
    NonlinearIB,
    cs_qmi,
    gaussian_kl_to_standard,
    kde_mi_upper,
    make_loss,
)


def _out(mean, logvar, logits=None, x=None, t=None):
    mean = torch.as_tensor(mean, dtype=torch.float64)
    logvar = torch.as_tensor(logvar, dtype=torch.float64)
    if logits is None:
        logits = torch.zeros(len(mean), 3, dtype=torch.float64)
    return BottleneckOutput(logits, mean, logvar, mean if t is None else t, x)


def test_vib_term_is_the_gaussian_kl_to_the_standard_normal():
    # ½ Σ (μ² + σ² − 1 − log σ²) with μ = (1, −2), σ² = (1/2, 2): ½(1.1931 + 4.3069) = 2.75
    kl = gaussian_kl_to_standard(torch.tensor([[1.0, -2.0]], dtype=torch.float64),
                                 torch.log(torch.tensor([[0.5, 2.0]], dtype=torch.float64)))
    assert float(kl) == pytest.approx(2.75, abs=1e-12)
    gen = torch.Generator().manual_seed(0)
    mean = torch.randn(20, 4, generator=gen, dtype=torch.float64)
    logvar = torch.randn(20, 4, generator=gen, dtype=torch.float64)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, (0.5 * logvar).exp()),
        torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))).sum(1)
    assert torch.allclose(gaussian_kl_to_standard(mean, logvar), ref, atol=1e-12)


def test_vib_loss_is_cross_entropy_plus_beta_times_the_kl():
    y = torch.tensor([0, 2])
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.1, 0.3]], dtype=torch.float64)
    out = _out([[1.0, -2.0], [0.0, 0.0]], np.log([[0.5, 2.0], [1.0, 1.0]]), logits)
    loss = VIB(beta=0.1)(out, y)
    ce = torch.nn.functional.cross_entropy(logits, y)
    # the second row's KL is 0 (it is the prior), so the mean KL is 2.75 / 2
    assert float(loss) == pytest.approx(float(ce) + 0.1 * 2.75 / 2, abs=1e-12)
    # regression: ½ mean ‖ŷ − y‖² (Gaussian NLL with unit variance, up to a constant)
    reg = VIB(beta=0.0, task="regression")(out, torch.zeros(2, 3, dtype=torch.float64))
    assert float(reg) == pytest.approx(0.5 * float((logits ** 2).sum(1).mean()), abs=1e-12)


def test_nonlinear_ib_bound_is_exact_at_its_limits_and_matches_the_kde_estimator():
    # components 100σ apart: I(X;T) = log 2 up to e^{-5000}; one component twice: 0
    far = kde_mi_upper(torch.tensor([[0.0], [100.0]], dtype=torch.float64),
                       torch.zeros(2, 1, dtype=torch.float64))
    same = kde_mi_upper(torch.zeros(2, 1, dtype=torch.float64),
                        torch.zeros(2, 1, dtype=torch.float64))
    assert float(far) == pytest.approx(math.log(2), abs=1e-12)
    assert float(same) == pytest.approx(0.0, abs=1e-12)
    # shared variance: the registered kde estimator's I(T; X) on the means is the same bound
    from workbench.api import mutual_info

    rng = np.random.default_rng(1)
    mean = rng.normal(size=(60, 3))
    var = 0.3
    ours = float(kde_mi_upper(torch.as_tensor(mean), torch.full((60, 3), math.log(var),
                                                                 dtype=torch.float64)))
    kde = float(mutual_info(mean, np.arange(60).reshape(-1, 1), method="kde",
                            noise_variance=var, units="nats"))
    assert ours == pytest.approx(kde, abs=1e-9)
    assert channel.channel_mi(mean, math.log(var)) == pytest.approx(ours, abs=1e-9)


def test_kde_bounds_bracket_the_exact_mixture_information():
    # 1-D mixture of three Gaussians (means 0, 1, 3; variances 0.25, 1, 0.5), X uniform:
    # I(X;T) = H(T) − mean_i H(p_i), H(T) by quadrature (error far below 1e-6 on this grid)
    mean = np.array([[0.0], [1.0], [3.0]])
    var = np.array([[0.25], [1.0], [0.5]])
    grid = np.linspace(-15, 18, 200_001)
    dens = np.mean([np.exp(-(grid - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
                    for m, v in zip(mean.ravel(), var.ravel())], axis=0)
    h_t = -np.trapezoid(dens * np.log(dens), grid)
    exact = h_t - np.mean(0.5 * np.log(2 * np.pi * np.e * var))
    upper = float(kde_mi_upper(torch.as_tensor(mean), torch.as_tensor(np.log(var))))
    lower = channel.channel_mi(mean, np.log(var), "lower")
    assert lower < exact < upper
    assert upper == pytest.approx(channel.channel_mi(mean, np.log(var)), abs=1e-12)
    assert upper - lower < math.log(3)  # both inside [0, log n] and not trivially wide


def test_squared_ib_multiplies_beta_by_the_square():
    out = _out([[0.0], [100.0]], [[0.0], [0.0]])
    y = torch.tensor([0, 1])
    plain = NonlinearIB(beta=0.5)(out, y) - NonlinearIB(beta=0.0)(out, y)
    squared = NonlinearIB(beta=0.5, squared=True)(out, y) - NonlinearIB(beta=0.0)(out, y)
    assert float(plain) == pytest.approx(0.5 * math.log(2), abs=1e-12)
    assert float(squared) == pytest.approx(0.5 * math.log(2) ** 2, abs=1e-12)
    assert make_loss("nonlinear_ib_squared").squared


def test_cs_qmi_of_correlated_gaussians_matches_its_closed_form():
    # X, T standard normal with correlation ρ, Gaussian kernels of width τ: the plug-in
    # converges to log[(c² − ρ²) / (c √(c² − 4ρ²))], c = 2 + τ² (Gaussian integrals). Over 20
    # repeats with n = 1000 the estimate had sd 0.007 and mean bias +0.003 (the V-statistic's
    # diagonal), so 0.03 is > 3.5 sd
    rho, tau = 0.8, 1.0
    c = 2 + tau ** 2
    truth = math.log((c * c - rho * rho) / (c * math.sqrt(c * c - 4 * rho * rho)))
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(1000, 2, generator=gen, dtype=torch.float64)
    x, t = z[:, :1], rho * z[:, :1] + math.sqrt(1 - rho ** 2) * z[:, 1:]
    assert float(cs_qmi(x, t, tau, tau)) == pytest.approx(truth, abs=0.03)
    # independent: 0 in the limit (same sd budget)
    assert abs(float(cs_qmi(x, z[:, 1:], tau, tau))) < 0.03
    loss = CSIB(beta=2.0, sigma_x=tau, sigma_t=tau)
    out = BottleneckOutput(torch.zeros(1000, 2, dtype=torch.float64), t, t, t, x)
    total = loss(out, torch.zeros(1000, dtype=torch.long))
    assert float(total) == pytest.approx(math.log(2) + 2.0 * float(cs_qmi(x, t, tau, tau)),
                                         abs=1e-9)


def test_mine_ib_critic_estimates_a_known_mi_and_only_the_encoder_gets_its_gradient():
    # ρ = 0.8: I = −½ log(1 − ρ²) = 0.511 nats. After 400 critic steps on 512 pairs the DV
    # value on 512 fresh pairs was 0.47-0.55 over four seeds; 0.15 covers that spread
    rho = 0.8
    gen = torch.Generator().manual_seed(100)
    z = torch.randn(1024, 2, generator=gen)
    x, t = z[:, :1], rho * z[:, :1] + math.sqrt(1 - rho ** 2) * z[:, 1:]
    from workbench.torch_utils import torch_threads

    loss = MINEIB(beta=1.0, lr=5e-3, seed=0)
    with torch_threads(1):  # two threads on a busy 2-core machine are many times slower
        loss.fit_critic(x[:512], t[:512], steps=400)
    loss._opt.zero_grad(set_to_none=True)
    loss.steps = 0  # no critic step inside this call: check the encoder's gradient alone
    t_new = t[512:].clone().requires_grad_(True)
    c = loss.compression(BottleneckOutput(None, t_new, t_new, t_new, x[512:]))
    assert float(c.detach()) == pytest.approx(-0.5 * math.log(1 - rho ** 2), abs=0.15)
    c.backward()
    assert t_new.grad is not None and float(t_new.grad.abs().sum()) > 0
    assert all(p.grad is None for p in loss.critic.parameters())  # the critic is held fixed
    assert all(p.requires_grad for p in loss.critic.parameters())  # restored afterwards


def test_bad_settings_are_refused():
    with pytest.raises(InputError):
        VIB(beta=-1.0)
    with pytest.raises(InputError):
        VIB(beta=float("nan"))
    with pytest.raises(InputError):
        VIB(task="ranking")
    with pytest.raises(InputError):
        make_loss("nope")
    with pytest.raises(InputError):
        CSIB()(_out([[0.0]], [[0.0]]), torch.tensor([0]))  # no inputs x
    with pytest.raises(InputError):
        channel.channel_mi([[0.0], [np.nan]], [[0.0], [0.0]])


def test_the_loop_updates_with_the_objective_and_still_reports_the_prediction_loss():
    from workbench.ib.models import bottleneck_net
    from workbench.training.datasets import gaussian_mixture
    from workbench.training.loop import train

    data = gaussian_mixture(n=200, classes=2, dim=2, seed=0)
    calls = []
    vib = VIB(beta=0.5)

    def objective(model, x, y):
        calls.append(len(x))
        return vib.step_loss(model, x, y)

    net = bottleneck_net("2-8", k=2, n_out=2, seed=0)
    result = train(net, data, epochs=2, batch_size=64, objective=objective)
    assert sum(calls) == 2 * len(data.x_train)  # every training row, every epoch
    assert vib.last["compression"] > 0 and vib.last["loss"] > vib.last["prediction"]
    # reported losses are the prediction loss (cross-entropy) of the eval-mode network
    import torch

    net.eval()
    with torch.no_grad():
        ce = torch.nn.functional.cross_entropy(net(torch.as_tensor(data.x_test)),
                                               torch.as_tensor(data.y_test))
    assert result.history[-1]["test_loss"] == pytest.approx(float(ce), rel=1e-5)


def test_cs_ib_default_width_is_the_cauchy_schwarz_estimators_median_rule():
    # one width rule (σ² = median squared distance, estimators.matrix.kernel_width): CSIB's
    # compression term with σ = None is the registered cauchy_schwarz estimate on the same
    # rows (float64; both sum the same Gram matrices, so they agree to rounding)
    from workbench.api import mutual_info

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(300, 3, generator=gen, dtype=torch.float64)
    t = x[:, :2] + 0.5 * torch.randn(300, 2, generator=gen, dtype=torch.float64)
    want = float(mutual_info(x.numpy(), t.numpy(), method="cauchy_schwarz", units="nats"))
    got = float(cs_qmi(x, t))
    assert want > 0.05  # dependent: not a comparison of two zeros
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    # the width is held fixed, the Gram matrix keeps its gradient
    t.requires_grad_(True)
    cs_qmi(x, t).backward()
    assert torch.isfinite(t.grad).all() and float(t.grad.abs().sum()) > 0


def test_the_reparameterised_sample_is_mean_plus_sd_times_noise():
    from workbench.ib.losses import reparameterise

    mean = torch.tensor([[1.0, -2.0]])
    logvar = torch.log(torch.tensor([[4.0, 0.25]]))
    eps = torch.tensor([[0.5, 2.0]])
    assert torch.allclose(reparameterise(mean, logvar, eps), torch.tensor([[2.0, -1.0]]))
    # seeded: the same draw every time, and the draw torch.randn gives that seed
    a, b = reparameterise(mean, logvar, seed=7), reparameterise(mean, logvar, seed=7)
    noise = torch.randn(mean.shape, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and torch.allclose(a, mean + noise * torch.tensor([[2.0, 0.5]]))
