"""Entropy where language models live (issue 15): token-level predictive entropy, the entropy
rate of symbol sequences, and semantic entropy over sampled answers.

Modules: :mod:`~workbench.text.tokens` (predictive entropy, surprisal, cross-entropy),
:mod:`~workbench.text.entropy_rate` (block estimator with bias corrections, Lempel–Ziv
match lengths), :mod:`~workbench.text.markov` (Markov chains of known entropy rate),
:mod:`~workbench.text.semantic` (semantic entropy, discrete and probability-weighted, and the
soft nearest-neighbour variant). numpy and scipy only: torch tensors are accepted and
converted, never imported.
"""
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
    log_probs,
    perplexity,
    sequence_log_prob,
    surprisal,
    token_entropy,
)

__all__ = [
    "auto_order", "cluster_answers", "cluster_distribution", "conditional_entropies",
    "cross_entropy", "entropy_rate", "first_word", "log_probs",
    "lz_entropy_rate", "markov_entropy_rate", "match_lengths", "ngram_entropy_rate",
    "perplexity", "same_first_word", "sample_markov", "semantic_entropy", "semantic_entropy_ci",
    "sequence_log_prob", "soft_semantic_entropy", "soft_semantic_entropy_ci",
    "stationary_contexts", "surprisal", "symbols", "token_entropy",
]
