"""Token-level entropy, surprisal and cross-entropy against closed forms."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.errors import InputError
from workbench.text import (
    cross_entropy,
    perplexity,
    sequence_log_prob,
    surprisal,
    token_entropy,
)


def test_uniform_and_one_hot_rows():
    probs = np.array([[0.25] * 4, [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    assert token_entropy(probs).tolist() == pytest.approx([2.0, 0.0, 1.0])
    assert token_entropy(probs, units="nats") == pytest.approx(np.array([2, 0, 1]) * np.log(2))


def test_logits_give_the_softmax_entropy_and_are_shift_invariant():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 5, 11)) * 3
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = -(p * np.log2(p)).sum(-1)
    assert token_entropy(logits=logits) == pytest.approx(expected, rel=1e-12)
    assert token_entropy(logits=logits + 1000.0) == pytest.approx(expected, rel=1e-9)
    assert token_entropy(p) == pytest.approx(expected, rel=1e-12)
    # −inf masks a token: the entropy is that of the rest
    masked = np.array([0.0, 0.0, -np.inf])
    assert float(token_entropy(logits=masked)) == pytest.approx(1.0)


def test_torch_tensors_are_accepted():
    logits = torch.randn(4, 7, generator=torch.Generator().manual_seed(0))
    ref = token_entropy(logits=logits.numpy())
    assert token_entropy(logits=logits) == pytest.approx(ref)
    assert token_entropy(torch.softmax(logits, -1)) == pytest.approx(ref, abs=1e-5)


def test_surprisal_cross_entropy_and_perplexity():
    probs = np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    s = surprisal([0, 2], probs)
    assert s.tolist() == pytest.approx([1.0, -np.log2(0.8)])
    assert cross_entropy([0, 2], probs) == pytest.approx(s.mean())
    assert perplexity([0, 2], probs) == pytest.approx(np.exp(np.mean(-np.log([0.5, 0.8]))))
    assert np.isinf(surprisal([1], [[1.0, 0.0]])[0])
    seqs = np.array([[[0.5, 0.5], [0.9, 0.1]]])        # one sequence of two tokens
    assert sequence_log_prob([[1, 0]], seqs) == pytest.approx([np.log(0.45)])
    assert sequence_log_prob([[1, 0]], seqs, normalize=True) == pytest.approx([np.log(0.45) / 2])


def test_on_its_own_samples_mean_surprisal_equals_mean_entropy():
    # E[−log p(X)] = H(p) for X ~ p. With T draws from one fixed distribution the sample mean
    # of surprisal has sd = sd(surprisal)/√T; 5 sd is the tolerance.
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(20))
    T = 20_000
    x = rng.choice(20, size=T, p=p)
    probs = np.broadcast_to(p, (T, 20))
    s = surprisal(x, probs)
    assert abs(s.mean() - token_entropy(p)) < 5 * s.std() / np.sqrt(T)


@pytest.mark.parametrize("kwargs, match", [
    ({"probs": [[0.5, 0.6]]}, "sum to 1"),
    ({"probs": [[1.5, -0.5]]}, "negative"),
    ({"probs": [[np.nan, 1.0]]}, "NaN"),
    ({"logits": [[np.nan, 1.0]]}, "NaN"),
    ({"logits": [[-np.inf, -np.inf]]}, "all −inf"),
    ({"probs": np.zeros((2, 0))}, "non-empty"),
    ({}, "exactly one"),
])
def test_bad_distributions_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        token_entropy(**kwargs)


def test_bad_targets_are_refused():
    with pytest.raises(InputError, match="ids in"):
        surprisal([3], [[0.5, 0.5]])
    with pytest.raises(InputError, match="shape"):
        surprisal([0, 1], [[0.5, 0.5]])
    with pytest.raises(InputError, match="integer"):
        surprisal([0.5], [[0.5, 0.5]])
