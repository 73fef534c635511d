"""Hybrids of two estimators that fail in opposite places.

``copula_max`` = max(KSG on copula-normalised columns, bias-corrected Gaussian copula).
In moderate dimension (about 5–10 in total) both are biased *low*, for different reasons:
kNN estimators lose MI as the dimension grows (Gao, Ver Steeg & Galstyan 2015), and the
Gaussian copula only sees the part of the dependence that a Gaussian copula explains (it is the
least-MI copula for given normal-score correlations). Taking the larger of two low-biased
estimates is then the better estimate; it is what ``method="auto"`` uses there (measured on the
40-task suite of Czyż et al. 2023, see README).
"""
from __future__ import annotations

import param

from . import get_estimator_class, register
from .base import Estimator, Seeded


@register
class CopulaMax(Seeded, Estimator):
    """max(KSG(copula=True, k), gaussian_copula(bias_correct=True)) for I(X;Y); ``seed`` seeds
    the KSG part's tie-breaking jitter."""

    method_name = "copula_max"
    family = "hybrid"
    summary = "Larger of copula-normalised KSG and bias-corrected Gaussian copula (MI)."
    references = ("Kraskov et al. (2004); Ince et al. (2017); Czyż et al. (2023), Beyond "
                  "normal: on the evaluation of mutual information estimators, NeurIPS.")
    duplicate_sensitive = True

    k = param.Integer(default=3, bounds=(1, None), softbounds=(1, 20), label="k (neighbours)",
                      doc="Neighbours for the KSG part.")

    def min_samples(self) -> int:
        return self.k + 1

    def _mutual_info(self, x, y):
        knn = get_estimator_class("ksg")(k=self.k, seed=self.seed, copula=True)
        cop = get_estimator_class("gaussian_copula")(bias_correct=True)
        return max(knn._mutual_info(x, y), cop._mutual_info(x, y))


@register
class ScoreMax(Seeded, Estimator):
    """max(copula_max, minde) for I(X;Y): what ``method="auto"`` runs with
    ``budget="thorough"`` on 5–10 continuous dimensions.

    The first two are biased *low* there: kNN loses MI with the dimension, and the Gaussian
    copula misses dependence a Gaussian copula cannot express (the tail dependence of a
    Student-t, the curvature of a spiral). MINDE-C (early stopped on held-out denoising
    loss) learns that dependence but was low or right on the Student-t tasks (−29 % to +1 %)
    and at most 7 % high on the Gaussian ones (n = 5000; MINDE-J was 15 % high on
    the 5×5 Gaussian, so it is not used here). The larger of estimates that err low is the
    better one, and a max only loses when one part is high by more than the tolerance."""

    method_name = "score_max"
    family = "hybrid"
    summary = "Larger of copula_max and MINDE (MI; the thorough auto, torch)."
    references = ("Franzese et al. (2024), MINDE, ICLR; Kraskov et al. (2004); Ince et al. "
                  "(2017); Czyż et al. (2023).")
    duplicate_sensitive = True

    steps = param.Integer(default=5000, bounds=(0, None), softbounds=(100, 20_000),
                          doc="Most training steps of the MINDE part.")

    def min_samples(self) -> int:
        return 20

    def _mutual_info(self, x, y):
        fast = get_estimator_class("copula_max")(seed=self.seed)._mutual_info(x, y)
        score = get_estimator_class("minde")(seed=self.seed, steps=self.steps,
                                             **THOROUGH_MINDE_KNOBS)._mutual_info(x, y)
        return max(fast, score)


#: MINDE's knobs in the thorough auto (see README: chosen on the Student-t tasks). They pin
#: the configuration the suite was measured with (live weights, λ uniform on [−10, 12],
#: early-stopped; steps is score_max's own knob, 5000): it errs low, which the max needs;
#: minde's own defaults aim at the truth. Not pinned: the score estimators' dropping of
#: columns that are monotone copies of another (data processing), which the suite's tasks
#: do not have, so their numbers are unchanged.
THOROUGH_MINDE_KNOBS = {"variant": "c", "reference": "none", "patience": 8, "ema": 0.0,
                        "weight_decay": 0.0, "train_lambda": "uniform", "lr": 2e-3,
                        "lambda_min": -10.0, "lambda_max": 12.0}
