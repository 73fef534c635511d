"""Entropy where language models live (issue 15): token-level predictive entropy, the entropy
rate of symbol sequences, and semantic entropy over sampled answers.

Modules: :mod:`~workbench.text.tokens` (predictive entropy, surprisal, cross-entropy),
:mod:`~workbench.text.entropy_rate` (block estimator with bias corrections, Lempel–Ziv
match lengths), :mod:`~workbench.text.markov` (Markov chains of known entropy rate),
:mod:`~workbench.text.semantic` (semantic entropy, discrete and probability-weighted, and the
soft nearest-neighbour variant), :mod:`~workbench.text.decoding` (temperature, top-k, top-p,
η, locally typical and min-p as pure functions on probability vectors). numpy and scipy only:
torch tensors are accepted and converted, never imported.

:mod:`~workbench.text.generate` (step-by-step generation with the character transformer,
:class:`DecodingSession`, :func:`load_or_train`) needs torch, so its names load lazily: on first
use of ``workbench.text.DecodingSession``, not on ``import workbench.text``.
"""
from typing import Any

from .decoding import (
    RULES,
    Truncation,
    decode,
    eta,
    min_p,
    sample,
    softmax,
    temperature,
    top_k,
    top_p,
    typical,
)
from .entropy_rate import (
    auto_order,
    conditional_entropies,
    entropy_rate,
    lz_entropy_rate,
    match_lengths,
    ngram_entropy_rate,
    symbols,
)
from .markov import markov_entropy_rate, sample_markov, stationary_contexts
from .semantic import (
    cluster_answers,
    cluster_distribution,
    first_word,
    same_first_word,
    semantic_entropy,
    semantic_entropy_ci,
    soft_semantic_entropy,
    soft_semantic_entropy_ci,
)
from .tokens import (
    cross_entropy,
    entropy_nats,
    log_probs,
    perplexity,
    sequence_log_prob,
    surprisal,
    token_entropy,
)

#: names of :mod:`workbench.text.generate`, imported on first use (it imports torch lazily too,
#: but pandas, param and the run store are more than ``import workbench.text`` needs)
_LAZY = ("CharLM", "DecodingSession", "SemanticDemo", "StableBand", "load_or_train",
         "semantic_tables", "stable_band")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import generate

        return getattr(generate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # tab completion lists the lazy names too, without importing them
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "RULES", "Truncation", "auto_order", "cluster_answers", "cluster_distribution",
    "conditional_entropies", "cross_entropy", "decode", "entropy_nats", "entropy_rate", "eta",
    "first_word", "log_probs", "lz_entropy_rate", "markov_entropy_rate", "match_lengths",
    "min_p", "ngram_entropy_rate", "perplexity", "same_first_word", "sample", "sample_markov",
    "semantic_entropy", "semantic_entropy_ci", "sequence_log_prob", "soft_semantic_entropy",
    "soft_semantic_entropy_ci", "softmax", "stationary_contexts", "surprisal", "symbols",
    "temperature", "token_entropy", "top_k", "top_p", "typical", *_LAZY,
]
