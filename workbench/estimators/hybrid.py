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
