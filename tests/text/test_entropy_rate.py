"""Entropy-rate estimators against Markov chains of known rate.

Tolerances come from repeated sampling: each test draws R independent chains and compares the
mean estimate with the exact rate within 4 standard errors (sd of the R estimates / √R), plus,
for the Lempel–Ziv estimator, its known finite-n bias (documented where used).
"""
from __future__ import annotations

import subprocess
import sys
from functools import cache

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.text import (
    conditional_entropies,
    entropy_rate,
    lz_entropy_rate,
    markov_entropy_rate,
    match_lengths,
    ngram_entropy_rate,
    sample_markov,
)

#: first order, 3 symbols, all transitions possible
P1 = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.25, 0.25, 0.5]])
#: second order, binary: P2[a, b, c] = P(x_t = c | x_{t-2} = a, x_{t-1} = b)
P2 = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.3, 0.7], [0.8, 0.2]]])
R, N = 10, 20_000


def _h2(q):
    return -(q * np.log2(q) + (1 - q) * np.log2(1 - q))


@cache
def _chains(which):
    # the same R chains serve every estimator (sampling is the slow part)
    transition = {"P1": P1, "P2": P2}[which]
    return tuple(sample_markov(transition, N, seed) for seed in range(R))


def _replicates(transition, estimate):
    which = "P1" if transition is P1 else "P2"
    return np.array([estimate(x) for x in _chains(which)])


def test_exact_rates_of_simple_chains():
    assert markov_entropy_rate([0.5, 0.25, 0.25]) == pytest.approx(1.5)       # i.i.d.
    q = 0.2  # symmetric flip chain: h = H2(q) whatever the stationary law
    assert markov_entropy_rate([[1 - q, q], [q, 1 - q]]) == pytest.approx(_h2(q))
    # a second-order chain that ignores x_{t-2} has the first-order chain's rate
    first = np.array([[0.7, 0.3], [0.4, 0.6]])
    assert markov_entropy_rate(np.stack([first, first])) == \
        pytest.approx(markov_entropy_rate(first))
    assert markov_entropy_rate([[1 - q, q], [q, 1 - q]], units="nats") == \
        pytest.approx(_h2(q) * np.log(2))


def test_sampled_chain_has_the_stationary_frequencies():
    x = sample_markov(P1, 50_000, seed=3)
    pi = np.linalg.matrix_power(P1.T, 200)[:, 0]
    # multinomial sd ≤ 0.5/√n = 0.0022, inflated by the chain's correlation (|λ2| ≈ 0.4,
    # factor √((1+λ)/(1−λ)) ≈ 1.5): 0.015 is more than 4 sd
    assert np.bincount(x, minlength=3) / len(x) == pytest.approx(pi, abs=0.015)


@pytest.mark.parametrize("transition, order", [(P1, 1), (P2, 2)], ids=["first", "second"])
@pytest.mark.parametrize("correction", ["plugin", "miller_madow", "grassberger"])
def test_block_estimator_recovers_markov_rates(transition, order, correction):
    truth = markov_entropy_rate(transition)
    est = _replicates(transition, lambda x: ngram_entropy_rate(x, order, correction))
    se = est.std(ddof=1) / np.sqrt(R)
    assert abs(est.mean() - truth) < 4 * se + 1e-3, (est.mean(), truth, se)
    # and each single estimate is within 5 sd of the truth (sd ≈ 0.005–0.008 bits here)
    assert np.abs(est - truth).max() < 5 * est.std(ddof=1) + 1e-3


def test_orders_above_the_true_one_give_the_same_rate():
    x = _chains("P2")[0]
    h = conditional_entropies(x, max_order=4)["h"].to_numpy()
    truth = markov_entropy_rate(P2)
    # h_0 ≥ h_1 ≥ h_2 = h_3 = h_4 = h (up to sampling noise, sd ≈ 0.008 bits)
    assert h[0] > h[1] > truth + 0.02
    assert np.abs(h[2:] - truth).max() < 0.03


def test_miller_madow_removes_most_of_the_plugin_bias_when_undersampled():
    # N = 300 windows, 3^3 = 27 possible 3-blocks: the plug-in h_2 is biased low by about
    # (m_3 − m_2)/(2N) ≈ 0.03 nats; averaged over 40 chains its mean is below the truth by
    # more than 4 se, while Miller–Madow's is closer
    truth = markov_entropy_rate(P1)
    reps = {c: np.array([ngram_entropy_rate(sample_markov(P1, 302, s), 2, c)
                         for s in range(40)]) for c in ("plugin", "miller_madow")}
    plug, mm = reps["plugin"], reps["miller_madow"]
    assert truth - plug.mean() > 4 * plug.std(ddof=1) / np.sqrt(40)
    assert abs(mm.mean() - truth) < abs(plug.mean() - truth) / 2


@pytest.mark.parametrize("transition", [P1, P2], ids=["first", "second"])
def test_lempel_ziv_estimator_recovers_markov_rates(transition):
    truth = markov_entropy_rate(transition)
    est = _replicates(transition, lz_entropy_rate)
    # The match-length estimator converges slowly (relative bias of order log log n / log n,
    # Kontoyiannis et al. 1998). Over 40 seeds at n = 20000 its mean was 7.6% below the rate
    # for P1 and 1.2% above it for P2, with sd ≤ 0.006 bits; 10% of h (plus 4 se) holds both.
    se = est.std(ddof=1) / np.sqrt(R)
    assert abs(est.mean() - truth) < 0.10 * truth + 4 * se, (est.mean(), truth)


def test_lempel_ziv_on_an_iid_fair_coin():
    x = np.random.default_rng(0).integers(0, 2, 50_000)
    # h = 1 bit; the same slow convergence as above (measured within 5% at this n)
    assert lz_entropy_rate(x) == pytest.approx(1.0, rel=0.08)


def test_match_lengths_equal_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(100):
        x = rng.integers(0, rng.integers(1, 4), rng.integers(1, 40)).tolist()
        n = len(x)
        brute = []
        for i in range(n):
            best = 0
            for j in range(i):
                k = 0
                while i + k < n and x[j + k] == x[i + k]:
                    k += 1
                best = max(best, k)
            brute.append(best)
        assert match_lengths(x).tolist() == brute, x


def _match_lengths_python(x):
    """The former implementation (a Python stack over the suffix array), kept as a reference
    for the compiled nearest-smaller-value pass."""
    from workbench.text.entropy_rate import _codes, _doubling_ranks, _lcp

    codes = _codes(x, 1)
    n = len(codes)
    levels = _doubling_ranks(codes)
    sa = np.argsort(levels[-1]).tolist()
    psv, nsv = [-1] * n, [-1] * n
    stack = []
    for p, v in enumerate(sa):
        while stack and sa[stack[-1]] > v:
            nsv[stack.pop()] = p
        psv[p] = stack[-1] if stack else -1
        stack.append(p)
    best = np.zeros(n, dtype=np.int64)
    for side in (np.asarray(psv), np.asarray(nsv)):
        q = side[levels[-1]]
        has = q >= 0
        i = np.flatnonzero(has)
        best[i] = np.maximum(best[i], _lcp(levels, i, np.asarray(sa)[q[has]]))
    return best


def test_match_lengths_equal_the_former_python_loop():
    rng = np.random.default_rng(2)
    block = rng.integers(0, 3, 37)
    cases = [rng.integers(0, 2, 3000), rng.integers(0, 20, 3000),       # random
             np.tile(block, 60), np.tile([0, 1], 1000), np.zeros(500, int),  # repetitive
             np.concatenate([np.tile(block, 20), rng.integers(0, 3, 500), np.tile(block, 20)]),
             "abracadabra " * 80, [7]]
    for x in cases:
        got, want = match_lengths(x), _match_lengths_python(x)
        assert np.array_equal(got, want)
    assert match_lengths(np.zeros(500, int)).tolist() == [0] + list(range(499, 0, -1))


def test_strings_and_deterministic_sequences():
    text = "ab" * 500
    table = conditional_entropies(text, max_order=2, correction="plugin")
    assert table["h"].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)
    assert table["units"].eq("bits").all()
    # a periodic sequence is its own beginning repeated: no novel strings to time
    with pytest.raises(InputError, match="repetition"):
        lz_entropy_rate(text)
    assert entropy_rate("abcab" * 50, order=0, units="nats") == pytest.approx(
        -(0.4 * np.log(0.4) * 2 + 0.2 * np.log(0.2)) + 2 / (2 * 250))   # Miller–Madow term


def test_estimates_state_their_units_and_method():
    x = sample_markov(P1, 2000, seed=0)
    bits = ngram_entropy_rate(x, 1)
    nats = ngram_entropy_rate(x, 1, units="nats")
    assert bits.units == "bits" and nats.units == "nats"
    assert nats == pytest.approx(bits * np.log(2))
    assert bits.method == "ngram(order=1, miller_madow)"
    assert lz_entropy_rate(x, units="nats") == pytest.approx(lz_entropy_rate(x) * np.log(2))
    assert ngram_entropy_rate(x).method.startswith("ngram(order=")


@pytest.mark.parametrize("bad, kwargs, match", [
    (np.zeros((5, 2)), {}, "1-D"),
    ([0, 1, np.nan, 1], {}, "NaN"),
    ([0, 1, 0, 1], {"order": 7}, "order"),
    ([0, 1, 0, 1], {"correction": "nsb"}, "correction"),
    ([0, 1, 0, 1], {"units": "dits"}, "units"),
    ([0], {}, "at least"),
])
def test_bad_input_is_refused(bad, kwargs, match):
    with pytest.raises(Exception, match=match) as info:
        ngram_entropy_rate(bad, **kwargs)
    assert isinstance(info.value, ValueError)
    with pytest.raises(InputError, match="method"):
        entropy_rate([0, 1, 0, 1], method="zip")


def test_text_package_does_not_import_torch():
    code = "import sys, workbench.text; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
