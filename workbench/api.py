"""The front door: ``entropy``, ``mutual_info``, ``conditional_mutual_info``, ``methods``.

Every function takes ``method`` (a registered name or ``"auto"``), ``units`` (``"bits"``, the
default, or ``"nats"``) and the method's knobs as keyword arguments, and returns an
:class:`~workbench.units.Estimate` — a float that also carries ``.units`` and ``.method``.
The same keywords also take the method's *execution settings* (``device``, ``threads``,
``progress``, ``callback``, ``backend``: how it runs, not what it computes), e.g.
``mutual_info(x, y, method="mine", device="cpu", threads=1)``; ``methods()`` lists them apart
from the knobs, and they never show in ``.method`` or ``.knobs``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .errors import KnobError
from .estimators import get_estimator_class, registry
from .estimators.base import Estimator
from .units import DEFAULT_UNITS, Estimate
from .validation import as_samples, is_discrete

#: Continuous data with at most this many dimensions in total (x and y together) go to kNN
#: estimators under ``method="auto"`` (kNN bias grows quickly with dimension, Czyż et al. 2023).
AUTO_KNN_MAX_DIM = 4
#: Up to this total dimension, MI uses ``copula_max``; above it the Gaussian copula.
AUTO_HYBRID_MAX_DIM = 10
#: ``budget`` values of ``method="auto"``: "fast" (the default: closed-form and kNN
#: estimators, seconds for the whole 40-task suite) or "thorough" (may train a score network).
BUDGETS = ("fast", "thorough")


@dataclass(frozen=True)
class AutoChoice:
    """What ``method="auto"`` picked and why."""

    method: str
    reason: str
    knobs: dict = field(default_factory=dict)


def choose_method(x: Any, y: Any = None, z: Any = None,
                  quantity: str = "mutual_info", budget: str = "fast") -> AutoChoice:
    """The documented rule behind ``method="auto"``.

    * all inputs discrete (integer/bool dtype or few whole-number values, see
      :func:`workbench.validation.is_discrete`) → ``miller_madow`` (plug-in with bias correction);
    * a mix of discrete and continuous → ``mixed`` (Gao et al. 2017; handles ties);
    * all continuous, total dimension ≤ ``AUTO_KNN_MAX_DIM`` (4) → ``kl`` for entropy,
      ``ksg`` with ``copula=True`` for MI (rank-normalised columns: heavy tails no longer bias
      it) and ``ksg`` for CMI;
    * all continuous, total dimension ≤ ``AUTO_HYBRID_MAX_DIM`` (10) → ``copula_max`` for MI
      (the larger of two estimators that are both biased low there);
    * higher → ``gaussian_copula`` with ``bias_correct=True`` for MI, ``gaussian`` for entropy
      and CMI.

    On the 40-task suite of Czyż et al. (2023) at n = 5000 this rule is within
    max(0.1 nat, 10 %) of the truth on 30 tasks (seed 0); see README.

    ``budget="thorough"`` changes one case: continuous MI with AUTO_KNN_MAX_DIM < total
    dimension ≤ AUTO_HYBRID_MAX_DIM goes to ``score_max``, the larger of ``copula_max`` and a
    trained MINDE score network (:class:`workbench.estimators.hybrid.ScoreMax`; 12–27 s of
    one CPU core at n = 5000, measured). On the 40-task suite at n = 5000 (seed 0) it is
    within tolerance on 36 tasks, against 30 for the fast rule. That dimension range is
    where the fast rule misses (Student-t tails, spirals) and where all three estimators are
    biased low, so their maximum is the better estimate.
    Below it kNN is already accurate; above it a network is too slow for the budget. Every
    other case is the fast rule, unchanged.
    """
    if budget not in BUDGETS:
        raise KnobError(f"budget must be one of {BUDGETS}, got {budget!r}")
    parts = [p for p in (x, y, z) if p is not None]
    arrays = [as_samples(p, n, dtype=None) for p, n in zip(parts, "xyz")]
    discrete = [is_discrete(a) for a in arrays]
    dim = sum(a.shape[1] for a in arrays)
    if all(discrete):
        return AutoChoice("miller_madow", "all inputs are discrete")
    if any(discrete):
        if quantity == "mutual_info":
            return AutoChoice("mixed", "one input is discrete and one continuous")
        if quantity == "conditional_mutual_info":
            return AutoChoice("ksg", "mixed discrete/continuous inputs; kNN CMI (Frenzel-Pompe)")
    if quantity == "entropy":
        if dim <= AUTO_KNN_MAX_DIM:
            return AutoChoice("kl", f"continuous, {dim} dimension(s) <= {AUTO_KNN_MAX_DIM}")
        return AutoChoice("gaussian", f"continuous, {dim} dimensions > {AUTO_KNN_MAX_DIM}")
    if quantity == "conditional_mutual_info":
        if dim <= AUTO_HYBRID_MAX_DIM:
            return AutoChoice("ksg", f"continuous, {dim} dimensions: kNN CMI (Frenzel-Pompe)")
        return AutoChoice("gaussian", f"continuous, {dim} dimensions: Gaussian CMI")
    if dim <= AUTO_KNN_MAX_DIM:
        return AutoChoice("ksg", f"continuous, {dim} dimension(s) <= {AUTO_KNN_MAX_DIM}: KSG on "
                          "copula-normalised columns", {"copula": True})
    if dim <= AUTO_HYBRID_MAX_DIM and budget == "thorough":
        return AutoChoice("score_max", f"continuous, {dim} dimensions <= {AUTO_HYBRID_MAX_DIM}, "
                          "thorough budget: larger of copula_max and a MINDE score network")
    if dim <= AUTO_HYBRID_MAX_DIM:
        return AutoChoice("copula_max", f"continuous, {dim} dimensions <= {AUTO_HYBRID_MAX_DIM}: "
                          "larger of copula KSG and bias-corrected Gaussian copula")
    return AutoChoice("gaussian_copula", f"continuous, {dim} dimensions > {AUTO_HYBRID_MAX_DIM}",
                      {"bias_correct": True})


def make_estimator(method: str, **knobs: Any) -> Estimator:
    """An estimator instance for a registered method name with the given knobs."""
    cls = get_estimator_class(method)
    return cls(**knobs)


def auto_choice(quantity: str, knobs: dict, *data, budget: str = "fast") -> AutoChoice:
    """:func:`choose_method` for ``data`` with the caller's ``knobs`` merged into the rule's
    (``choice.knobs``); a knob the chosen estimator does not have is an error."""
    choice = choose_method(*data, quantity=quantity, budget=budget)
    cls = get_estimator_class(choice.method)
    # knobs the chosen estimator does not have would be silently meaningless
    unknown = set(knobs) - set(cls.knob_names()) - set(cls.setting_names())
    if unknown:
        raise KnobError(f"method='auto' chose {choice.method!r}, which has no knob(s) "
                        f"{sorted(unknown)}; name the method explicitly")
    return replace(choice, knobs={**choice.knobs, **knobs})


def _resolve(method: str, quantity: str, knobs: dict, *data, budget: str = "fast") -> Estimator:
    if method == "auto":
        choice = auto_choice(quantity, knobs, *data, budget=budget)
        return make_estimator(choice.method, **choice.knobs)
    if budget != "fast":
        raise KnobError(f"budget={budget!r} applies to method='auto' only; method {method!r} "
                        "runs as its knobs say")
    return make_estimator(method, **knobs)


def entropy(x: Any, method: str = "auto", units: str = DEFAULT_UNITS, **knobs: Any) -> Estimate:
    """Entropy H(X) of samples ``x`` (rows), in ``units``; differential for continuous methods.

    >>> import numpy as np, workbench as wb
    >>> x = np.random.default_rng(0).integers(0, 4, size=10_000)
    >>> round(wb.entropy(x, method="plugin"), 2)
    2.0
    """
    return _resolve(method, "entropy", knobs, x).entropy(x, units=units)


def mutual_info(x: Any, y: Any, method: str = "auto", units: str = DEFAULT_UNITS,
                budget: str = "fast", **knobs: Any) -> Estimate:
    """Mutual information I(X;Y) between paired samples ``x`` and ``y``, in ``units``.

    ``budget`` (``method="auto"`` only): ``"fast"`` (default) or ``"thorough"``, which may
    train a score network where the fast rule is weak (see :func:`choose_method`)."""
    est = _resolve(method, "mutual_info", knobs, x, y, budget=budget)
    return est.mutual_info(x, y, units=units)


def conditional_mutual_info(x: Any, y: Any, z: Any, method: str = "auto",
                            units: str = DEFAULT_UNITS, **knobs: Any) -> Estimate:
    """Conditional mutual information I(X;Y|Z), in ``units``."""
    est = _resolve(method, "conditional_mutual_info", knobs, x, y, z)
    return est.conditional_mutual_info(x, y, z, units=units)


def methods() -> list[dict]:
    """Every registered method: name, family, what it computes, data kind, knobs, execution
    settings (accepted as keywords, but not knobs), references."""
    out = []
    for name, cls in registry().items():
        out.append({
            "name": name,
            "family": cls.family,
            "summary": cls.summary,
            "computes": cls.quantities(),
            "data": cls.data_kind,
            "knobs": cls.describe_knobs(),
            "settings": cls.describe_settings(),
            "references": cls.references,
        })
    return out


#: Short names of the quantities in the README's methods table.
_QUANTITY_ABBREVIATIONS = {"entropy": "H", "mutual_info": "MI", "conditional_mutual_info": "CMI"}


def methods_markdown() -> str:
    """``methods()`` as the Markdown table of README's "Methods" section (method | family |
    computes | knobs | what it is), so the README is generated, never edited by hand; a test
    compares the two."""
    lines = ["| method | family | computes | knobs | what it is |", "|---|---|---|---|---|"]
    for m in methods():
        computes = ", ".join(_QUANTITY_ABBREVIATIONS[q] for q in m["computes"])
        knobs = ", ".join(k["name"] for k in m["knobs"])
        summary = m["summary"].replace("|", "\\|")
        lines.append(f"| `{m['name']}` | {m['family']} | {computes} | {knobs} | {summary} |")
    return "\n".join(lines) + "\n"


def methods_table() -> Any:
    """``methods()`` as a pandas DataFrame (one row per method)."""
    import pandas as pd

    rows = [{"name": m["name"], "family": m["family"], "computes": ", ".join(m["computes"]),
             "data": m["data"], "knobs": ", ".join(k["name"] for k in m["knobs"]),
             "summary": m["summary"]} for m in methods()]
    return pd.DataFrame(rows)
