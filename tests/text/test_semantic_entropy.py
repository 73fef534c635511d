"""Semantic entropy: hand-computed values, correct normalisation (no class probability above
1), the SNNE-style soft variant's limits, and bootstrap intervals."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.text import (
    cluster_answers,
    cluster_distribution,
    first_word,
    same_first_word,
    semantic_entropy,
    semantic_entropy_ci,
    soft_semantic_entropy,
    soft_semantic_entropy_ci,
)


def same_city(a, b):
    return a.lower().strip(" .") == b.lower().strip(" .")


def indicator(ids):
    ids = np.asarray(ids)
    return (ids[:, None] == ids[None, :]).astype(float)


def test_greedy_clustering_with_an_equivalence():
    answers = ["Paris", "paris.", "Lyon", "PARIS", "lyon", "Rome"]
    assert cluster_answers(answers, same_city).tolist() == [0, 0, 1, 0, 1, 2]

    def entails(a, b):       # one-directional: "Paris, France" entails "Paris"
        return b in a
    ids = cluster_answers(["Paris", "Paris, France", "Paris"], entails, bidirectional=True)
    assert ids.tolist() == [0, 1, 0]
    assert cluster_answers(["Paris", "Paris, France"], entails).tolist() == [0, 0]


def test_first_word_equivalence():
    assert first_word('  "Well," said Alice') == "well"
    assert first_word("... !") == "" and first_word("") == ""
    ids = cluster_answers(["Alice ran", "alice, too", "The cat", "the end."], same_first_word)
    assert ids.tolist() == [0, 0, 1, 1]


def test_all_answers_equivalent_gives_zero():
    answers = ["Paris", "paris", "PARIS.", "Paris"]
    lp = np.log([0.4, 0.1, 0.05, 0.4])
    assert semantic_entropy(answers, equivalent=same_city) == 0.0
    assert semantic_entropy(answers, equivalent=same_city, log_probs=lp,
                            variant="weighted") == 0.0
    assert soft_semantic_entropy(np.ones((4, 4))) == pytest.approx(0.0, abs=1e-12)
    assert soft_semantic_entropy(np.ones((4, 4)), log_probs=lp) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_k_equiprobable_clusters_give_log_k(k):
    ids = np.repeat(np.arange(k), 3)
    assert semantic_entropy(cluster_ids=ids) == pytest.approx(np.log2(k))
    assert semantic_entropy(cluster_ids=ids, units="nats") == pytest.approx(np.log(k))
    # weighted: unequal counts but equal total probability per class
    counts = np.arange(1, k + 1)
    ids_w = np.repeat(np.arange(k), counts)
    lp = np.log(np.concatenate([np.full(c, 1.0 / (k * c)) for c in counts]))
    assert semantic_entropy(cluster_ids=ids_w, log_probs=lp, variant="weighted") == \
        pytest.approx(np.log2(k))
    # soft variant: 0/1 similarity and a small temperature give the same limit; the
    # cross-class terms are exp(−1/τ) = e^−1000 here
    assert soft_semantic_entropy(indicator(ids), tau=1e-3) == pytest.approx(np.log2(k))
    assert soft_semantic_entropy(indicator(ids_w), tau=1e-3, log_probs=lp) == \
        pytest.approx(np.log2(k))


def test_hand_computed_values():
    ids = ["a", "a", "a", "b", "b", "c"]
    p = np.array([3, 2, 1]) / 6
    assert semantic_entropy(cluster_ids=ids) == pytest.approx(-(p * np.log2(p)).sum())
    # weighted: p(s) = .3 .1 .05 | .2 .1 | .05 (sum .8) -> classes .45/.8, .3/.8, .05/.8
    lp = np.log([0.3, 0.1, 0.05, 0.2, 0.1, 0.05])
    q = np.array([0.45, 0.3, 0.05]) / 0.8
    assert cluster_distribution(cluster_ids=ids, log_probs=lp, variant="weighted") == \
        pytest.approx(q)
    assert semantic_entropy(cluster_ids=ids, log_probs=lp, variant="weighted",
                            units="nats") == pytest.approx(-(q * np.log(q)).sum())
    # length normalisation divides each log-probability by its token count
    lengths = [1, 2, 1, 1, 2, 1]
    r = np.exp(np.log([0.3, 0.1, 0.05, 0.2, 0.1, 0.05]) / lengths)
    r = np.array([r[:3].sum(), r[3:5].sum(), r[5]]) / r.sum()
    assert cluster_distribution(cluster_ids=ids, log_probs=lp, lengths=lengths,
                                variant="weighted") == pytest.approx(r)


def test_a_repeated_sample_counts_once_so_no_class_probability_exceeds_one():
    # "yes" sampled 5 times with p = 0.5: summing raw probabilities would give the class 2.5
    answers = ["yes"] * 5 + ["no"]
    lp = np.log([0.5] * 5 + [0.3])
    p = cluster_distribution(answers, equivalent=str.__eq__, log_probs=lp, variant="weighted")
    assert p == pytest.approx([0.5 / 0.8, 0.3 / 0.8])
    # without deduplication the repeat is weighted by its count (still normalised)
    p_all = cluster_distribution(answers, equivalent=str.__eq__, log_probs=lp,
                                 variant="weighted", dedupe=False)
    assert p_all == pytest.approx([2.5 / 2.8, 0.3 / 2.8])


def test_normalisation_property_on_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 30))
        ids = rng.integers(0, rng.integers(1, 6), n)
        # log-probabilities from −1e3 (underflows if exponentiated directly) to 0
        lp = -rng.exponential(rng.choice([0.1, 10.0, 300.0]), n)
        for variant, kw in (("discrete", {}), ("weighted", {"log_probs": lp})):
            p = cluster_distribution(cluster_ids=ids, variant=variant, **kw)
            assert np.all(p >= 0) and np.all(p <= 1) and p.sum() == pytest.approx(1.0)
            se = semantic_entropy(cluster_ids=ids, variant=variant, units="nats", **kw)
            assert -1e-12 <= se <= np.log(len(p)) + 1e-12


def test_soft_variant_matches_the_paper_up_to_its_shift():
    rng = np.random.default_rng(2)
    f = rng.uniform(0, 1, (7, 7))
    f = (f + f.T) / 2
    np.fill_diagonal(f, 1.0)
    tau = 0.7
    paper = -np.mean(np.log(np.exp(f / tau).sum(axis=1)))
    assert soft_semantic_entropy(f, tau=tau, normalized=False, units="nats") == \
        pytest.approx(paper)
    assert soft_semantic_entropy(f, tau=tau, units="nats") == \
        pytest.approx(paper + np.log(7) + 1 / tau)
    # less similar answers -> higher soft entropy
    assert soft_semantic_entropy(f * 0.5, tau=tau) > soft_semantic_entropy(f, tau=tau)


def test_bootstrap_intervals():
    ids = np.repeat([0, 1, 2], [10, 6, 4])
    lp = np.log(np.linspace(0.01, 0.05, 20))
    answers = [f"answer {i}" for i in range(20)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = semantic_entropy_ci(cluster_ids=ids, n_resamples=300, seed=1)
        again = semantic_entropy_ci(cluster_ids=ids, n_resamples=300, seed=1)
        weighted = semantic_entropy_ci(answers, cluster_ids=ids, log_probs=lp,
                                       variant="weighted", n_resamples=200)
        soft = soft_semantic_entropy_ci(indicator(ids), tau=1e-3, n_resamples=300, seed=1)
    assert res.estimate == pytest.approx(semantic_entropy(cluster_ids=ids))
    assert res.low < res.estimate <= res.high <= np.log2(3) + 1e-12
    assert (res.low, res.high) == (again.low, again.high)
    assert res.units == "bits" and "semantic_entropy(discrete)" in str(res)
    assert weighted.estimate == pytest.approx(
        semantic_entropy(answers, cluster_ids=ids, log_probs=lp, variant="weighted"))
    assert np.all((weighted.replicates >= 0) & (weighted.replicates <= np.log2(3) + 1e-12))
    assert soft.estimate == pytest.approx(res.estimate)
    # 0/1 similarity at a tiny τ is the discrete variant, resample for resample
    assert (soft.low, soft.high) == pytest.approx((res.low, res.high), abs=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"cluster_ids": [0, 1], "log_probs": [0.5, -1.0], "variant": "weighted"}, "≤ 0"),
    ({"cluster_ids": [0, 1], "variant": "weighted"}, "needs log_probs"),
    ({"cluster_ids": [0, 1], "log_probs": [-1.0, -1.0]}, "weighted"),
    ({"cluster_ids": [0, 1], "variant": "mean"}, "variant"),
    ({"answers": ["a"]}, "equivalence"),
    ({"cluster_ids": [0, 1], "log_probs": [-1.0], "variant": "weighted"}, "values for 2"),
    ({"cluster_ids": [0, 1], "log_probs": [-np.inf] * 2, "variant": "weighted"}, "probability 0"),
])
def test_bad_input_is_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        semantic_entropy(**kwargs)


def test_unhashable_answers_are_refused_when_deduplicating():
    with pytest.raises(InputError, match="hashable"):
        semantic_entropy([["a"], ["b"]], cluster_ids=[0, 1], log_probs=[-1.0, -2.0],
                         variant="weighted")
    assert semantic_entropy([["a"], ["b"]], cluster_ids=[0, 1], log_probs=[-1.0, -1.0],
                            variant="weighted", dedupe=False) == pytest.approx(1.0)


def test_bad_similarity_is_refused():
    with pytest.raises(InputError, match="≤ 1"):
        soft_semantic_entropy(np.full((2, 2), 2.0))
    with pytest.raises(InputError, match="square"):
        soft_semantic_entropy(np.ones((2, 3)))
    with pytest.raises(InputError, match="tau"):
        soft_semantic_entropy(np.ones((2, 2)), tau=0)
