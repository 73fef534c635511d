"""Knobs and plumbing shared by the score-based estimators (no torch at import time)."""
from __future__ import annotations

import math

import numpy as np
import param

from ...errors import InputError, KnobError
from ...progress import Progress
from ...torch_utils import limit_threads, seeded, torch_device
from ...validation import check_seed, standardize
from ..base import EXECUTION_PRECEDENCE, Device, Estimator, Seeded
from ..gaussian import copula_normalize
from ..neural.critics import _HIDDEN_RE, parse_hidden


def _without_monotone_copies(z: np.ndarray) -> np.ndarray:
    """Copula-normalised columns minus those equal to ± an earlier one (same or reversed
    ranks: the copula of a strictly monotone function of a column is ± that column)."""
    keep: list[int] = []
    for j in range(z.shape[1]):
        if not any(np.allclose(z[:, j], s * z[:, k], rtol=0, atol=1e-9)
                   for k in keep for s in (1, -1)):
            keep.append(j)
    return z[:, keep]


class ScoreEstimator(Seeded, Estimator):
    """A masked denoising network trained on the data; subclasses say which modes it learns and
    which score differences they integrate (see :mod:`workbench.estimators.score.model`)."""

    family = "score"
    # resampled duplicates would land on both sides of the train/held-out split
    duplicate_sensitive = True

    marginals = param.Selector(
        default="copula", objects=["copula", "standardize"],
        doc="Per-column preprocessing for MI: 'copula' maps every column through its ranks to "
            "a standard normal (MI is unchanged by monotone maps; heavy tails disappear), "
            "'standardize' only centres and scales. Entropy always standardises.")
    reference = param.Selector(
        default="none", objects=["none", "gaussian"],
        doc="'none': a plain network, as in the papers. 'gaussian': the network learns the "
            "residual to the exact denoiser of the Gaussian with the data's correlations, so "
            "the estimate starts at the Gaussian value: accurate in few steps for "
            "near-Gaussian data, but it stays there on heavy-tailed dependence (measured on "
            "the Student-t tasks), so it is not the default.")
    hidden = param.String(default="128,128,128", regex=_HIDDEN_RE,
                          doc="Hidden layer widths of the score network, comma-separated.")
    lr = param.Number(default=2e-3, bounds=(0, 1), inclusive_bounds=(False, True),
                      softbounds=(1e-5, 0.1), label="Learning rate", doc="Adam learning rate.")
    weight_decay = param.Number(
        default=0.0, bounds=(0, None), softbounds=(0, 0.3),
        doc="Decoupled weight decay (AdamW; 0: plain Adam). It shrinks every weight by "
            "lr × weight_decay per step, which keeps a long-trained score network from "
            "building score differences the sample does not support (the integral squares "
            "them, so such spurious structure only ever raises the estimate).")
    batch_size = param.Integer(default=512, bounds=(8, None), softbounds=(32, 4096),
                               doc="Rows per training step (shared out among the modes).")
    steps = param.Integer(default=5000, bounds=(0, None), softbounds=(100, 20_000),
                          doc="Most training steps.")
    eval_every = param.Integer(default=150, bounds=(1, None), softbounds=(10, 1000),
                               doc="Steps between held-out denoising-loss evaluations.")
    patience = param.Integer(default=8, bounds=(1, None), softbounds=(1, 20),
                             doc="Stop after this many held-out evaluations without "
                                 "improvement (the best network is kept).")
    ema = param.Number(
        default=0.0, bounds=(0, 1), inclusive_bounds=(True, False), softbounds=(0, 0.999),
        label="EMA decay",
        doc="Decay of an exponential moving average of the network weights, used for the "
            "held-out loss, early stopping and the integral (0: the live weights). The "
            "integral is a mean of *squared* score differences, so the optimiser's noise in "
            "the live weights raises it: averaging the weights removes most of that bias.")
    train_lambda = param.Selector(
        default="uniform", objects=["uniform", "mixed"],
        doc="λ distribution of the training loss (the integral always draws λ uniformly). "
            "'mixed': half the rows uniform, half with α² = sigmoid(λ) uniform (plain "
            "denoising score matching, uniform t on a linear schedule), which puts more of "
            "the training where signal and noise are comparable (λ near 0 for standardised "
            "columns), where the score differences of MI live. Each λ's loss has the same "
            "minimiser, so this only moves the network's effort, not its target.")
    valid_fraction = param.Number(default=0.2, bounds=(0.05, 0.5), step=0.05,
                                  doc="Fraction of rows held out for early stopping and for "
                                      "the integral.")
    n_lambda = param.Integer(default=64, bounds=(1, None), softbounds=(4, 256),
                             label="λ draws per row",
                             doc="Stratified log-SNR draws per held-out row in the integral.")
    lambda_min = param.Number(default=-10.0, bounds=(-30, 0), softbounds=(-15, -4),
                              doc="Lowest log signal-to-noise ratio of the diffusion.")
    lambda_max = param.Number(default=12.0, bounds=(0, 30), softbounds=(4, 16),
                              doc="Highest log signal-to-noise ratio of the diffusion.")
    device = Device(default="cpu", precedence=EXECUTION_PRECEDENCE,
                    doc="Execution setting: torch device, 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    threads = param.Integer(
        default=1, allow_None=True, bounds=(1, None), precedence=EXECUTION_PRECEDENCE,
        doc="Execution setting: CPU threads (torch and BLAS) while training, restored "
            "afterwards. None: leave the libraries' settings.")
    progress = param.Boolean(default=False, precedence=EXECUTION_PRECEDENCE,
                             doc="Execution setting: show a tqdm progress bar (console).")
    callback = param.Callable(default=None, allow_None=True, precedence=EXECUTION_PRECEDENCE,
                              doc="Execution setting: called as callback(step, total_steps, "
                                  "held-out loss) at each held-out evaluation.")

    def min_samples(self) -> int:
        return 20

    def _prepared(self, parts: list[np.ndarray],
                  copula: bool) -> tuple[np.ndarray, float, list[int]]:
        """Columns side by side, copula-normalised or standardised; with the log-Jacobian of
        the standardisation (to add to an entropy) and the width of each part.

        With the copula, a column whose ranks equal (or reverse) those of an earlier column
        of the same part is dropped: it is a monotone function of that column, so the part
        carries the same information without it (I(X; [Y, f(Y)]) = I(X; Y)), while the two
        together would lie on a line, a degenerate density whose score differences a network
        overstates (Song & Ermon's data-processing test: ×1.34 before this)."""
        if self.lambda_min >= self.lambda_max:
            raise KnobError(f"lambda_min ({self.lambda_min}) must be below lambda_max "
                            f"({self.lambda_max})")
        if copula:
            parts = [_without_monotone_copies(copula_normalize(p)) for p in parts]
            z = np.hstack(parts)
            return z / np.where(z.std(0) > 0, z.std(0), 1.0), 0.0, [p.shape[1] for p in parts]
        z, log_scale = standardize(np.hstack(parts))
        return z, float(log_scale.sum()), [p.shape[1] for p in parts]

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        order = check_seed(self.seed).permutation(n)
        n_valid = min(max(10, int(round(self.valid_fraction * n))), n - 10)
        return np.sort(order[:n_valid]), np.sort(order[n_valid:])

    def _fit_and_integrate(self, data: np.ndarray, dims: list[int], modes: list[tuple],
                           pairs: list) -> list[float]:
        """Train on ``modes`` and return the integrals of ``pairs`` (nats)."""
        if np.any(data.std(0) == 0):
            raise InputError(f"{self.method_name}: a column is constant; drop it first (it "
                             "carries no information)")
        with limit_threads(self.threads, use_torch=True):
            from . import model as m

            dev = torch_device(self.device)
            valid, train_rows = self._split(len(data))
            with Progress(self.steps, self.callback, self.progress, self.method_name) as prog, \
                    seeded(self.seed):
                net = m.train(data, dims, modes, hidden=parse_hidden(self.hidden),
                              reference=self.reference == "gaussian", lr=self.lr,
                              weight_decay=self.weight_decay,
                              batch_size=self.batch_size, steps=self.steps,
                              eval_every=self.eval_every, patience=self.patience, valid=valid,
                              train_rows=train_rows,
                              lam_range=(self.lambda_min, self.lambda_max), seed=self.seed,
                              device=dev, progress=prog.update, ema=self.ema,
                              train_lambda=self.train_lambda)
                values = m.integrate(net, data, valid, pairs,
                                     (self.lambda_min, self.lambda_max), self.n_lambda,
                                     self.seed)
        if not all(math.isfinite(v) for v in values):
            from ...errors import EstimationError

            raise EstimationError(f"{self.method_name}: training diverged; lower lr")
        return values


__all__ = ["ScoreEstimator"]
