"""SΩI: O-information and S-information from score functions (Bounoua, Franzese & Michiardi
2024, "S Ω I: Score-based O-INFORMATION Estimation", ICML).

One masked score network (see :mod:`workbench.estimators.score.model`) learns, for k
variables X₁..X_k, the joint score (all diffused), each marginal score (X_i diffused, the rest
absent) and each conditional score (X_i diffused given the rest, clean). With Λ = λmax − λmin
and λ uniform:

* total correlation TC = KL(p(x) ‖ Π p(x_i)) = ½ Λ E ‖ε̂(x_λ) − [ε̂_i(x_i,λ)]_i‖²
  (all variables diffused together; the product's score is the marginal scores side by side);
* S-information S = Σ_i I(X_i; X₋i) = Σ_i ½ Λ E ‖ε̂_i(x_i,λ | x₋i) − ε̂_i(x_i,λ)‖²
  (MINDE-C for each variable against the rest);
* DTC = S − TC and O-information Ω = TC − DTC = 2 TC − S (Rosas et al. 2019: Ω > 0
  redundancy-dominated, Ω < 0 synergy-dominated).

For two variables TC is I(X;Y), which is what ``mutual_info`` reports.
"""
from __future__ import annotations

import numpy as np
import param

from .. import register
from .base import ScoreEstimator
from .model_modes import CONDITIONED, DIFFUSED, MARGINAL

#: More variables than this make the 2k + 1 modes share each batch too thinly.
MAX_VARIABLES = 10


@register
class SOI(ScoreEstimator):
    """TC, DTC, S- and O-information of a handful of variables from one score network."""

    method_name = "soi"
    summary = ("SΩI: O-information, S-information, TC and DTC of a few variables from one "
               "masked score network (MI for two); use with wb.o_information (torch).")
    references = ("Bounoua, Franzese & Michiardi (2024), S Ω I: Score-based O-INFORMATION "
                  "Estimation, ICML; Rosas et al. (2019), Quantifying high-order "
                  "interdependencies via multivariate extensions of the mutual information, "
                  "Phys. Rev. E.")

    reference = param.Selector(
        default="gaussian", objects=["none", "gaussian"],
        doc="'gaussian' (default here): the network learns the residual to the exact denoiser "
            "of the Gaussian with the data's correlations; 'none': a plain network. Measured on "
            "five Gaussian variables at n = 5000 (benchmarks/bench_score.py): the plain network "
            "overstates Ω = 2 TC − S by 60-150 % (the joint-vs-product integral runs high and "
            "is doubled), the Gaussian reference is within 0.1 nat.")

    def terms_nats(self, variables: list[np.ndarray]) -> dict[str, float]:
        """{"tc", "dtc", "s", "o"} in nats for validated 2-D arrays, one per variable."""
        from ...errors import InputError

        k = len(variables)
        if not 2 <= k <= MAX_VARIABLES:
            raise InputError(f"soi needs 2 to {MAX_VARIABLES} variables, got {k}")
        data, _, dims = self._prepared(variables, copula=self.marginals == "copula")
        joint = (DIFFUSED,) * k
        offs = np.concatenate([[0], np.cumsum(dims)])

        def alone(i, other):
            return tuple(DIFFUSED if j == i else other for j in range(k))

        marg = [alone(i, MARGINAL) for i in range(k)]
        cond = [alone(i, CONDITIONED) for i in range(k)]
        pairs = [(joint, [(marg[i], list(range(offs[i], offs[i + 1]))) for i in range(k)], None)]
        pairs += [(cond[i], [(marg[i], list(range(dims[i])))], None) for i in range(k)]
        values = self._fit_and_integrate(data, dims, [joint, *marg, *cond], pairs)
        tc, s = values[0], float(sum(values[1:]))
        return {"tc": tc, "dtc": s - tc, "s": s, "o": 2 * tc - s}

    def _mutual_info(self, x, y):
        return self.terms_nats([x, y])["tc"]


__all__ = ["SOI"]
