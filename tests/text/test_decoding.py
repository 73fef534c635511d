"""Decoding rules keep the mass they promise, on random distributions (hypothesis), and agree
with hand-computed cases.

Distributions are Dirichlet draws (peaked to flat), with zeros and exact ties mixed in, as
single vectors and as batches of rows. Mass comparisons allow 1e-12: the rules sum sorted
float64 probabilities, and reordering a sum of at most 80 terms in [0, 1] moves it by a few
ulps (~1e-16 each), far below 1e-12.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import InputError, KnobError
from workbench.text import decoding as dec

settings.register_profile(
    "workbench-decoding", max_examples=150, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile("workbench-decoding")
EPS = 1e-12


@st.composite
def distributions(draw, batch: bool = False) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    v = draw(st.integers(1, 80))
    rows = draw(st.integers(1, 5)) if batch else 1
    alpha = draw(st.sampled_from([0.05, 0.3, 1.0, 10.0]))
    p = rng.dirichlet(np.full(v, alpha), size=rows)
    kind = draw(st.sampled_from(["plain", "zeros", "ties", "uniform"]))
    if kind == "zeros" and v > 1:
        p[:, rng.random(v) < 0.4] = 0.0
        p[:, 0] += 1e-3  # keep every row non-empty
    elif kind == "ties":
        p = np.round(p * 8) + 1.0  # few distinct values, many exact ties
    elif kind == "uniform":
        p = np.ones((rows, v))
    p = p / p.sum(axis=1, keepdims=True)
    return p if batch else p[0]


def rows(t: dec.Truncation):
    """(kept, q, kept mass, entropy) of a truncation, as one row per distribution."""
    kept, q = np.atleast_2d(t.kept), np.atleast_2d(t.probs)
    return kept, q, np.atleast_1d(t.kept_mass), np.atleast_1d(t.entropy)


def check_common(p: np.ndarray, t: dec.Truncation) -> None:
    """Renormalised on the kept set, sums to 1, mass and entropy as defined."""
    p2 = np.atleast_2d(p)
    kept, q, mass, h = rows(t)
    assert q.shape == p2.shape and kept.dtype == bool
    assert np.allclose(q.sum(axis=1), 1.0, atol=1e-12)
    assert (q[~kept] == 0).all()
    assert np.allclose(mass, np.where(kept, p2, 0).sum(axis=1), atol=EPS)
    assert np.allclose(q[kept], (p2 / mass[:, None])[kept], rtol=1e-12)
    safe = np.where(q > 0, q, 1.0)
    assert np.allclose(h, -(q * np.log2(safe)).sum(axis=1), atol=1e-12)  # bits by default
    assert (kept.sum(axis=1) >= 1).all()


@PROFILE
@given(distributions(batch=True), st.floats(0.01, 1.0))
def test_top_p_keeps_mass_p_with_the_fewest_tokens(p, top):
    t = dec.top_p(p, top)
    check_common(p, t)
    kept, _, mass, _ = rows(t)
    for row, keep, m in zip(p, kept, mass):
        assert m >= top - EPS
        # minimal: the kept tokens are the most probable ones, and dropping the least probable
        # of them falls below p (no set of fewer tokens can reach p)
        assert row[keep].min() >= row[~keep].max(initial=0.0)
        assert m - row[keep].min() < top + EPS
        assert (row[keep] > 0).all()


@PROFILE
@given(distributions(batch=True), st.floats(0.01, 1.0))
def test_typical_set_is_the_shortest_prefix_by_surprisal_distance(p, mass_knob):
    t = dec.typical(p, mass_knob)
    check_common(p, t)
    kept, _, mass, _ = rows(t)
    for row, keep, m in zip(p, kept, mass):
        h = -np.sum(row[row > 0] * np.log(row[row > 0]))
        with np.errstate(divide="ignore"):
            dev = np.abs(-np.log(row) - h)
        assert m >= mass_knob - EPS
        # every kept token is at least as close to the entropy as every dropped one
        assert dev[keep].max() <= dev[~keep].min(initial=math.inf)
        # shortest: the kept token farthest from H, removed, leaves less than the mass asked
        worst = np.flatnonzero(keep)[np.argmax(dev[keep])]
        assert m - row[worst] < mass_knob + EPS


@PROFILE
@given(distributions(batch=True), st.integers(1, 100))
def test_top_k_keeps_the_k_most_probable(p, k):
    t = dec.top_k(p, k)
    check_common(p, t)
    kept, _, _, _ = rows(t)
    assert (kept.sum(axis=1) == min(k, p.shape[1])).all()
    for row, keep in zip(p, kept):
        assert row[keep].min() >= row[~keep].max(initial=0.0)


@PROFILE
@given(distributions(batch=True), st.floats(0.0, 1.0))
def test_min_p_keeps_exactly_the_tokens_above_the_scaled_maximum(p, base):
    t = dec.min_p(p, base)
    check_common(p, t)
    kept, _, _, _ = rows(t)
    expected = (p >= base * p.max(axis=1, keepdims=True)) & (p > 0)
    assert (kept == expected).all()
    assert kept[np.arange(len(p)), p.argmax(axis=1)].all()


@PROFILE
@given(distributions(batch=True), st.floats(1e-6, 0.5))
def test_eta_threshold(p, epsilon):
    t = dec.eta(p, epsilon)
    check_common(p, t)
    kept, _, _, _ = rows(t)
    for row, keep in zip(p, kept):
        h = -np.sum(row[row > 0] * np.log(row[row > 0]))
        eta = min(epsilon, math.sqrt(epsilon) * math.exp(-h))
        assert (keep == (row > eta)).all()


@PROFILE
@given(distributions(), st.floats(0.05, 20.0))
def test_temperature_is_a_power_of_p_and_cuts_nothing(p, tau):
    t = dec.temperature(p, tau, units="nats")
    assert t.kept_mass == pytest.approx(1.0, abs=1e-12)
    assert (t.kept == (p > 0)).all()
    expected = np.where(p > 0, p, 0.0) ** (1 / tau)
    expected /= expected.sum()
    assert np.allclose(t.probs, expected, rtol=1e-9, atol=1e-300)
    safe = np.where(t.probs > 0, t.probs, 1.0)
    assert t.entropy == pytest.approx(-(t.probs * np.log(safe)).sum(), abs=1e-12)


@PROFILE
@given(distributions(batch=True), st.sampled_from(sorted(dec.RULES)))
def test_batches_equal_rows_one_by_one(p, rule):
    batch = dec.decode(p, rule)
    for i, row in enumerate(p):
        one = dec.decode(row, rule)
        assert (one.kept == batch.kept[i]).all()
        assert one.entropy == pytest.approx(batch.entropy[i], abs=1e-12)
        assert isinstance(one.entropy, float) and isinstance(one.kept_mass, float)


def test_hand_computed_dyadic_case():
    # p = (1/2, 1/4, 1/8, 1/8): H = 1.75 bits; surprisals 1, 2, 3, 3 bits
    p = np.array([0.5, 0.25, 0.125, 0.125])
    assert dec.top_p(p, 0.75).n_kept == 2
    assert dec.top_p(p, 0.76).n_kept == 3
    assert dec.top_k(p, 2).entropy == pytest.approx(math.log2(3) - 2 / 3 * 1)  # (2/3, 1/3)
    # typical: |s - 1.75| = .75, .25, 1.25, 1.25 -> token 1 first, then token 0
    t = dec.typical(p, 0.7)
    assert list(t.kept) == [True, True, False, False] and t.kept_mass == 0.75
    assert dec.typical(p, 0.2).kept.tolist() == [False, True, False, False]
    assert dec.min_p(p, 0.5).kept.tolist() == [True, True, False, False]
    # η = min(ε, √ε·2^-1.75): ε = 0.2 -> min(0.2, 0.133) = 0.133 keeps 1/2 and 1/4
    assert dec.eta(p, 0.2).kept.tolist() == [True, True, False, False]
    assert dec.temperature(p, 1.0).entropy == pytest.approx(1.75)
    assert dec.temperature(p, 1.0, units="nats").entropy == pytest.approx(1.75 * math.log(2))
    assert dec.top_k(p, 1).entropy == 0.0  # greedy


def test_decode_applies_temperature_before_the_rule():
    p = np.array([0.5, 0.25, 0.125, 0.125])
    # τ = 1/2 squares p: (16, 4, 1, 1)/22, so 0.9 is reached by two tokens (20/22 ≈ 0.91),
    # where the untempered p needs all four (0.875 < 0.9)
    sharp = dec.decode(p, "top_p", 0.9, temperature=0.5)
    assert sharp.knobs == {"p": 0.9, "temperature": 0.5}
    assert sharp.n_kept == 2 and sharp.kept_mass == pytest.approx(20 / 22)
    assert dec.decode(p, "top_p", 0.9).n_kept == 4


def test_sampling_follows_the_truncated_distribution():
    p = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    draws = dec.sample(np.tile(dec.top_k(p, 2).probs, (30000, 1)), 0)
    assert set(np.unique(draws)) == {0, 1}
    # frequency of token 0 is 2/3; its std over 30000 draws is sqrt(2/9/30000) ≈ 0.0027: 5 σ
    assert abs(np.mean(draws == 0) - 2 / 3) < 0.014
    assert dec.sample(p, 3) == dec.sample(p, 3)  # same seed, same token


@pytest.mark.parametrize("rule, value, match", [
    ("top_p", 0.0, r"\(0, 1\]"), ("top_p", 1.5, "top_p"), ("top_k", 0, "integer"),
    ("top_k", 2.5, "integer"), ("typical", -0.1, "mass"), ("min_p", 1.1, "p_base"),
    ("eta", 1.0, "epsilon"), ("temperature", 0.0, "temperature"),
    ("top_p", float("nan"), "top_p"), ("top_k", True, "integer"), ("nucleus", 0.9, "rules"),
    ("top_p", "0.9", "number"),
])
def test_bad_knobs_are_named(rule, value, match):
    with pytest.raises(KnobError, match=match):
        dec.decode([0.5, 0.5], rule, value)


@pytest.mark.parametrize("p, match", [
    ([0.5, 0.6], "sum to 1"), ([1.2, -0.2], "non-negative"), ([np.nan, 1.0], "finite"),
    ([], "non-empty"), (np.ones((2, 2, 2)) / 4, "2-D"), (["a", "b"], "numbers"),
])
def test_bad_distributions_are_refused(p, match):
    with pytest.raises(InputError, match=match):
        dec.top_p(p, 0.9)


def test_softmax_of_logits():
    z = np.array([[0.0, math.log(3.0), -np.inf]])
    assert np.allclose(dec.softmax(z), [[0.25, 0.75, 0.0]])
    assert np.allclose(dec.softmax([0.0, math.log(3.0)], temperature=0.5), [0.1, 0.9])
    with pytest.raises(InputError, match="finite value"):
        dec.softmax([-np.inf, -np.inf])


@PROFILE
@given(distributions(batch=True), st.sampled_from(sorted(dec.RULES)),
       st.integers(0, 2**32 - 1))
def test_sampling_never_draws_a_dropped_token(p, rule, seed):
    t = dec.decode(p, rule)
    drawn = dec.sample(t, seed)
    assert t.kept[np.arange(len(p)), drawn].all()
    assert (t.probs[np.arange(len(p)), drawn] > 0).all()


def test_temperature_rule_composes_with_the_temperature_setting():
    p = np.array([0.5, 0.25, 0.125, 0.125])
    # temperatures multiply: (p^(1/2))^(1/2) = p^(1/4)
    both = dec.decode(p, "temperature", 2.0, temperature=2.0)
    assert np.allclose(both.probs, dec.temperature(p, 4.0).probs)


def test_decoding_imports_no_torch_or_ui():
    import subprocess
    import sys

    code = ("import sys, workbench.text.decoding; "
            "print(sorted(m for m in ('torch', 'panel', 'bokeh', 'holoviews', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_package_exports_decoding_eagerly_and_generation_lazily():
    import subprocess
    import sys

    # workbench.text re-exports the rules at once, but DecodingSession / load_or_train only on
    # first use: generate needs torch, which `import workbench.text` must not pay for
    code = ("import sys, workbench.text as t; "
            "assert t.decode is t.decoding.decode and t.Truncation is t.decoding.Truncation; "
            "print(sorted(m for m in ('torch', 'workbench.text.generate', 'panel') "
            "if m in sys.modules)); "
            "from workbench.text import DecodingSession, load_or_train; "
            "from workbench.text.generate import DecodingSession as D; "
            "print(DecodingSession is D, callable(load_or_train))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True True"]
    import workbench.text as text

    assert {"DecodingSession", "load_or_train", "decode"} <= set(dir(text))
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        text.nonsense  # noqa: B018
