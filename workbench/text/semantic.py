"""Semantic entropy over sampled answers (Kuhn, Gal & Farquhar 2023, "Semantic uncertainty:
linguistic invariances for uncertainty estimation in natural language generation"; Farquhar
et al. 2024, Nature, "Detecting hallucinations in large language models using semantic
entropy") and a soft, similarity-based variant after SNNE (Nguyen, Payani & Mirzasoleiman
2025, "Beyond semantic entropy: boosting LLM uncertainty quantification with pairwise
semantic similarity").

Sample n answers s_1..s_n to one question, group them into meaning classes c (a user-given
equivalence, e.g. bidirectional entailment, or precomputed cluster ids), then

* **discrete** SE: p̂(c) = n_c / n, SE = −Σ_c p̂(c) log p̂(c) (Farquhar et al. 2024; needs no
  probabilities);
* **probability-weighted** SE: p̂(c) = Σ_{s∈c} p(s) / Σ_s p(s), the model's sequence
  probabilities p(s) = exp(ℓ_s) renormalised over the distinct sampled sequences, so that
  Σ_c p̂(c) = 1 and no p̂(c) exceeds 1 (computed with log-sum-exp, never by summing raw
  probabilities); SE = −Σ_c p̂(c) log p̂(c) (the "Rao" form of Farquhar et al.). A sequence
  sampled twice is one sequence: it enters once (``dedupe``), or a frequent answer would be
  counted as p(s) times its count. ℓ_s may be length-normalised (mean token log-probability,
  Kuhn et al.'s choice; pass ``lengths``).

Both are 0 when all answers are equivalent and log k for k equiprobable classes.

**Soft (SNNE-style) SE** takes a similarity matrix f_ij ≤ 1 (1 = same meaning; e.g. ROUGE-L,
an entailment probability or an embedding cosine) and a temperature τ > 0. With weights
w_i (1/n, or the renormalised sequence probabilities) it is

    H_soft = −Σ_i w_i log Σ_j w_j exp((f_ij − 1) / τ).

Each inner sum is a soft probability of answer i's meaning, in (0, 1]; for a 0/1 same-class
similarity it tends to p̂(class of i) as τ → 0, so H_soft tends to the discrete (uniform w)
or probability-weighted SE. Nguyen et al.'s SNNE is −(1/n) Σ_i log Σ_j exp(f_ij / τ)
= H_soft − log n − 1/τ for uniform weights (``normalized=False`` returns it): the same
ordering of questions, shifted so that "all answers the same" reads 0. (Their white-box WSNNE
weights by sequence probabilities too; the weighting here is ours, chosen so that the limit is
the probability-weighted SE.)

Intervals: :func:`semantic_entropy_ci` and :func:`soft_semantic_entropy_ci` resample the
answers (bootstrap) through :func:`workbench.measures.stats.resample`. With few answers
(5–20 per question is typical) the plug-in SE is biased low and so is its bootstrap; the
result says so when the interval excludes the estimate.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.special import logsumexp

from ..errors import InputError
from ..units import Estimate, check_units, from_nats
from ..validation import to_numpy
from .tokens import entropy_nats

VARIANTS = ("discrete", "weighted")


def cluster_answers(answers: Sequence[Any], equivalent: Callable[[Any, Any], bool], *,
                    bidirectional: bool = False) -> np.ndarray:
    """Cluster ids 0..k−1 by greedy grouping (Kuhn et al. 2023, Algorithm 1): each answer
    joins the first existing class whose first member it is ``equivalent`` to, else starts
    a new class. ``bidirectional=True`` requires ``equivalent(a, b) and equivalent(b, a)``
    (for one-directional tests such as entailment). The equivalence should be transitive;
    comparing with each class's first member is what makes the result well defined if not."""
    answers = list(answers)
    if not answers:
        raise InputError("no answers to cluster")
    if not callable(equivalent):
        raise InputError("equivalent must be a function (a, b) -> bool")
    reps: list[Any] = []
    ids = np.empty(len(answers), dtype=np.int64)
    for i, a in enumerate(answers):
        for c, r in enumerate(reps):
            if bool(equivalent(a, r)) and (not bidirectional or bool(equivalent(r, a))):
                ids[i] = c
                break
        else:
            ids[i] = len(reps)
            reps.append(a)
    return ids


def first_word(text: str) -> str:
    """The first word of ``text``, lower-cased, without surrounding punctuation ("" if none)."""
    for token in str(text).split():
        word = token.strip(".,;:!?\"'()[]-").lower()
        if word:
            return word
    return ""


def same_first_word(a: str, b: str) -> bool:
    """A crude equivalence for sampled continuations: same :func:`first_word` (what a
    teaching page can compute without an entailment model)."""
    return first_word(a) == first_word(b)


def _cluster_codes(cluster_ids: Any) -> np.ndarray:
    arr = np.asarray(list(cluster_ids) if not hasattr(cluster_ids, "shape")
                     else to_numpy(cluster_ids, "cluster_ids"))
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"cluster_ids must be a non-empty 1-D sequence, got shape {arr.shape}")
    return np.unique(arr, return_inverse=True)[1].ravel()


def _sequence_log_probs(log_probs: Any, n: int, lengths: Any = None) -> np.ndarray:
    lp = to_numpy(log_probs, "log_probs").astype(np.float64).ravel()
    if lp.size != n:
        raise InputError(f"log_probs has {lp.size} values for {n} answers")
    if np.isnan(lp).any() or np.isposinf(lp).any():
        raise InputError("log_probs contain NaN or +inf")
    if lp.max() > 1e-9:
        raise InputError(f"log_probs must be log-probabilities (≤ 0); the largest is "
                         f"{lp.max():.4g}, a probability of {np.exp(min(lp.max(), 700)):.4g} "
                         "> 1. Pass log p(s), not logits or scores")
    if lengths is not None:
        ln = to_numpy(lengths, "lengths").astype(np.float64).ravel()
        if ln.size != n or not (np.isfinite(ln).all() and (ln > 0).all()):
            raise InputError(f"lengths must be {n} positive token counts")
        lp = lp / ln
    if np.isneginf(lp).all():
        raise InputError("every answer has probability 0 (log_probs all −inf)")
    return lp


def _keep_distinct(answers: Sequence[Any] | None, lp: np.ndarray, dedupe: bool) -> np.ndarray:
    """Indices of the first occurrence of each distinct (answer, log-probability) pair: the
    same text with another probability is another token sequence, so it stays."""
    if not dedupe or answers is None:
        return np.arange(len(lp))
    seen: dict = {}
    try:
        for i, (a, v) in enumerate(zip(answers, lp)):
            seen.setdefault((a, round(float(v), 9)), i)
    except TypeError as exc:
        raise InputError(f"answers must be hashable (e.g. strings) to find repeats: {exc}; or "
                         "pass dedupe=False") from exc
    return np.array(sorted(seen.values()), dtype=np.int64)


def _inputs(answers, cluster_ids, equivalent, log_probs, lengths, variant, bidirectional):
    if variant not in VARIANTS:
        raise InputError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if cluster_ids is None:
        if answers is None or equivalent is None:
            raise InputError("pass cluster_ids, or answers together with an equivalence "
                             "function equivalent(a, b) -> bool")
        answers = list(answers)
        codes = cluster_answers(answers, equivalent, bidirectional=bidirectional)
    else:
        if equivalent is not None:
            raise InputError("pass either cluster_ids or equivalent, not both")
        codes = _cluster_codes(cluster_ids)
        if answers is not None:
            answers = list(answers)
            if len(answers) != len(codes):
                raise InputError(f"{len(answers)} answers but {len(codes)} cluster ids")
    lp = None
    if variant == "weighted":
        if log_probs is None:
            raise InputError("variant='weighted' needs log_probs (log p(s) of each answer); "
                             "variant='discrete' uses counts only")
        lp = _sequence_log_probs(log_probs, len(codes), lengths)
    elif log_probs is not None:
        raise InputError("log_probs are used by variant='weighted' only; drop them or set "
                         "variant='weighted'")
    return answers, codes, lp


def _distribution(codes: np.ndarray, lp: np.ndarray | None, keep: np.ndarray) -> np.ndarray:
    """p̂ over the classes present (natural order of the class codes), summing to 1."""
    k = int(codes.max()) + 1
    if lp is None:
        counts = np.bincount(codes, minlength=k).astype(np.float64)
        return counts[counts > 0] / counts.sum()
    c, v = codes[keep], lp[keep]
    total = logsumexp(v)
    out = []
    for cls in np.unique(c):
        out.append(np.exp(logsumexp(v[c == cls]) - total))
    p = np.clip(np.array(out), 0.0, 1.0)   # rounding can leave 1 + 1e-16
    return p / p.sum()


def cluster_distribution(answers: Sequence[Any] | None = None, *, cluster_ids: Any = None,
                         equivalent: Callable | None = None, log_probs: Any = None,
                         lengths: Any = None, variant: str = "discrete", dedupe: bool = True,
                         bidirectional: bool = False) -> np.ndarray:
    """The class probabilities p̂(c) that semantic entropy is the entropy of (see the module
    doc): non-negative, each ≤ 1, summing to 1. One entry per class present, in the order of
    the sorted ``cluster_ids`` (or of first appearance, when clustering with ``equivalent``)."""
    answers, codes, lp = _inputs(answers, cluster_ids, equivalent, log_probs, lengths,
                                 variant, bidirectional)
    keep = _keep_distinct(answers, lp, dedupe) if lp is not None else np.arange(len(codes))
    return _distribution(codes, lp, keep)


def semantic_entropy(answers: Sequence[Any] | None = None, *, cluster_ids: Any = None,
                     equivalent: Callable | None = None, log_probs: Any = None,
                     lengths: Any = None, variant: str = "discrete", dedupe: bool = True,
                     bidirectional: bool = False, units: str = "bits") -> Estimate:
    """Semantic entropy SE = −Σ_c p̂(c) log p̂(c) of sampled answers (Kuhn et al. 2023).

    Classes from ``cluster_ids`` (one per answer) or from ``answers`` grouped by
    ``equivalent(a, b) -> bool`` (:func:`cluster_answers`). ``variant="discrete"``: p̂ from
    counts; ``"weighted"``: from the sequence log-probabilities ``log_probs`` (natural log,
    ≤ 0; divided by ``lengths`` if given), renormalised over the distinct sampled sequences
    (``dedupe``; needs ``answers``). 0 if all answers are equivalent, log k for k classes of
    equal probability. See :func:`cluster_distribution` for p̂ itself.
    """
    check_units(units)
    p = cluster_distribution(answers, cluster_ids=cluster_ids, equivalent=equivalent,
                             log_probs=log_probs, lengths=lengths, variant=variant,
                             dedupe=dedupe, bidirectional=bidirectional)
    return Estimate(from_nats(float(entropy_nats(p)), units), units, f"semantic_entropy({variant})",
                    "SE")


def _similarity(similarity: Any, normalized: bool) -> np.ndarray:
    f = to_numpy(similarity, "similarity").astype(np.float64)
    if f.ndim != 2 or f.shape[0] != f.shape[1] or f.shape[0] == 0:
        raise InputError(f"similarity must be a square (n, n) matrix, got shape {f.shape}")
    if np.isnan(f).any() or np.isposinf(f).any():
        raise InputError("similarity contains NaN or +inf")
    if normalized and f.max() > 1 + 1e-9:
        raise InputError(f"similarity must be ≤ 1 (1 = same meaning), got max {f.max():.4g}; "
                         "rescale it (e.g. to [0, 1]) or pass normalized=False")
    return f


def _soft_nats(f: np.ndarray, log_w: np.ndarray, tau: float) -> float:
    inner = logsumexp(log_w[None, :] + (f - 1.0) / tau, axis=1)   # ≤ 0 when f ≤ 1
    w = np.exp(log_w)
    return float(-(w * np.minimum(inner, 0.0)).sum()) + 0.0


def _check_tau(tau: float) -> float:
    if isinstance(tau, bool) or not np.isfinite(tau) or tau <= 0:
        raise InputError(f"tau must be a finite number > 0, got {tau!r}")
    return float(tau)


def _soft_weights(n, answers, log_probs, lengths, dedupe):
    if log_probs is None:
        return np.arange(n), np.full(n, -np.log(n))
    lp = _sequence_log_probs(log_probs, n, lengths)
    keep = _keep_distinct(None if answers is None else list(answers), lp, dedupe)
    v = lp[keep]
    return keep, v - logsumexp(v)


def soft_semantic_entropy(similarity: Any, *, tau: float = 1.0, log_probs: Any = None,
                          lengths: Any = None, answers: Sequence[Any] | None = None,
                          dedupe: bool = True, normalized: bool = True,
                          units: str = "bits") -> Estimate:
    """SNNE-style soft semantic entropy from pairwise similarities (see the module doc):
    H_soft = −Σ_i w_i log Σ_j w_j exp((f_ij − 1)/τ), w uniform or the renormalised sequence
    probabilities (``log_probs``; with ``answers`` a repeated (answer, probability) pair
    enters once). ``normalized=False`` returns Nguyen et al.'s SNNE,
    −(1/n) Σ_i log Σ_j exp(f_ij/τ) (uniform weights only)."""
    check_units(units)
    tau = _check_tau(tau)
    f = _similarity(similarity, normalized)
    n = f.shape[0]
    if answers is not None and len(list(answers)) != n:
        raise InputError(f"{len(list(answers))} answers for a {n} × {n} similarity matrix")
    if not normalized:
        if log_probs is not None:
            raise InputError("normalized=False is the paper's unweighted SNNE; drop log_probs")
        value = float(-logsumexp(f / tau, axis=1).mean())
        return Estimate(from_nats(value, units), units, f"snne(tau={tau:g})", "SNNE")
    keep, log_w = _soft_weights(n, answers, log_probs, lengths, dedupe)
    value = _soft_nats(f[np.ix_(keep, keep)], log_w, tau)
    kind = "weighted" if log_probs is not None else "uniform"
    return Estimate(from_nats(value, units), units, f"soft_semantic_entropy({kind}, "
                    f"tau={tau:g})", "SE_soft")


# ----- intervals ------------------------------------------------------------------------------
def _bootstrap(statistic, n, point, units, method, quantity, n_resamples, confidence, seed):
    from ..measures.stats import BootstrapResult, resample

    res = resample(statistic, [np.arange(n)], point, n_resamples=n_resamples,
                   confidence=confidence, scheme="bootstrap", seed=seed)
    low, high = (float(b) for b in res.bounds)
    excludes = not low <= point <= high
    if excludes:
        warnings.warn(f"the bootstrap interval [{low:.4g}, {high:.4g}] excludes the estimate "
                      f"{point:.4g} {units}: with this few answers the resampled entropies are "
                      "biased low; sample more answers", stacklevel=3)
    return BootstrapResult(float(point), low, high, confidence, units, method, quantity,
                           n_resamples, "bootstrap", seed if isinstance(seed, int) else None,
                           res.replicates, bool(excludes))


def semantic_entropy_ci(answers: Sequence[Any] | None = None, *, cluster_ids: Any = None,
                        equivalent: Callable | None = None, log_probs: Any = None,
                        lengths: Any = None, variant: str = "discrete", dedupe: bool = True,
                        bidirectional: bool = False, units: str = "bits",
                        n_resamples: int = 500, confidence: float = 0.95,
                        seed: int | None = 0):
    """:func:`semantic_entropy` with a percentile bootstrap interval over the answers (a
    :class:`~workbench.measures.stats.BootstrapResult`). Classes are formed once on all
    answers; each replicate resamples answers with replacement (and, for the weighted
    variant, counts a repeated sequence once, as the estimate does)."""
    check_units(units)
    answers, codes, lp = _inputs(answers, cluster_ids, equivalent, log_probs, lengths,
                                 variant, bidirectional)
    # the replicate's "answer identity" is the original index: a resampled copy is the same
    # sequence, while distinct samples that share a text are deduplicated as in the estimate
    ident = list(range(len(codes))) if answers is None else answers

    def stat(idx):
        keep = (_keep_distinct([ident[i] for i in idx], lp[idx], dedupe)
                if lp is not None else np.arange(len(idx)))
        p = _distribution(codes[idx], None if lp is None else lp[idx], keep)
        return from_nats(float(entropy_nats(p)), units)

    point = stat(np.arange(len(codes)))
    return _bootstrap(stat, len(codes), point, units, f"semantic_entropy({variant})", "SE",
                      n_resamples, confidence, seed)


def soft_semantic_entropy_ci(similarity: Any, *, tau: float = 1.0, log_probs: Any = None,
                             lengths: Any = None, answers: Sequence[Any] | None = None,
                             dedupe: bool = True, units: str = "bits",
                             n_resamples: int = 500, confidence: float = 0.95,
                             seed: int | None = 0):
    """:func:`soft_semantic_entropy` (normalised form) with a percentile bootstrap interval
    over the answers (rows and columns of the similarity matrix resampled together)."""
    check_units(units)
    tau = _check_tau(tau)
    f = _similarity(similarity, True)
    n = f.shape[0]
    lp = None if log_probs is None else _sequence_log_probs(log_probs, n, lengths)
    ident = list(range(n)) if answers is None else list(answers)
    if len(ident) != n:
        raise InputError(f"{len(ident)} answers for a {n} × {n} similarity matrix")

    def stat(idx):
        if lp is None:
            keep, log_w = np.arange(len(idx)), np.full(len(idx), -np.log(len(idx)))
        else:
            keep = _keep_distinct([ident[i] for i in idx], lp[idx], dedupe)
            v = lp[idx][keep]
            log_w = v - logsumexp(v)
        sub = idx[keep]
        return from_nats(_soft_nats(f[np.ix_(sub, sub)], log_w, tau), units)

    point = stat(np.arange(n))
    kind = "weighted" if lp is not None else "uniform"
    return _bootstrap(stat, n, point, units, f"soft_semantic_entropy({kind}, tau={tau:g})",
                      "SE_soft", n_resamples, confidence, seed)
