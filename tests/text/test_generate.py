"""Step-by-step generation with the tiny character transformer: per-token entropies, the stable
entropy band, saving and safely loading the model, and the semantic-entropy demo built on
workbench.text.semantic (closed forms: one cluster -> 0, k equiprobable clusters -> log k)."""
from __future__ import annotations

import dataclasses
import json
import math
import pickle

import numpy as np
import pytest

from workbench.errors import FileLoadError, InputError, KnobError
from workbench.text import generate as gen

#: A small, quick model: the tests check bookkeeping and exact identities, not its quality.
TINY = dict(steps=30, eval_every=30, n_layers=1, n_heads=2, d_model=16, context=16)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    return tmp_path_factory.mktemp("char-lm-runs")


@pytest.fixture(scope="module")
def lm(runs_root):
    return gen.load_or_train(runs_root, **TINY)


def test_trained_model_is_saved_and_loaded_back_identically(lm, runs_root):
    run_id = gen._run_id(lm.config)
    folder = runs_root / run_id
    saved = json.loads((folder / "config.json").read_text())
    assert saved["status"] == "complete" and saved["vocab"] == lm.vocab.chars
    assert (folder / gen.WEIGHTS).is_file()
    gen._CACHE.clear()  # force a read from disk
    again = gen.load_or_train(runs_root, **TINY)
    assert again.source == f"loaded run {run_id}"
    ids = lm.encode("Alice was ")
    assert np.array_equal(again.next_probs(ids), lm.next_probs(ids))
    # other settings are another run, never this one's weights
    assert gen._run_id(gen._model_config({**TINY, "seed": 1})) != run_id


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_damaged_or_pickled_weights_are_refused(lm, tmp_path):
    folder = tmp_path / gen._run_id(lm.config)
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"transformer": lm.config, "vocab": lm.vocab.chars}))
    (folder / gen.WEIGHTS).write_bytes(b"not a torch file")
    gen._CACHE.clear()
    with pytest.raises(FileLoadError, match="could not load"):
        gen.load_or_train(tmp_path, **TINY)

    class Boom:  # a pickle that would run code: weights_only=True must refuse it
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / gen.WEIGHTS).write_bytes(pickle.dumps(Boom()))
    with pytest.raises(FileLoadError, match="could not load"):
        gen.load_or_train(tmp_path, **TINY)
    gen._CACHE.clear()


def test_greedy_generation_records_the_models_entropy(lm):
    s = gen.DecodingSession(lm, prompt="Alice was ", rule="top_k", top_k=1)
    rows = s.generate(12)
    assert len(rows) == 12 and len(s.generated) == 12 and s.text.startswith("Alice was ")
    assert (rows["truncated_entropy"] == 0).all() and (rows["kept"] == 1).all()
    # the same argmax path computed as a batch of one
    greedy = gen.greedy_entropies(lm, ["Alice was "], steps=12)[0]
    assert np.allclose(rows["model_entropy"], greedy, atol=1e-12)
    assert (rows["p_sampled"] == 1.0).all()


def test_rules_keep_their_mass_along_generation_and_units_convert(lm):
    s = gen.DecodingSession(lm, prompt="The ", rule="top_p", top_p=0.8, seed=3)
    bits = s.generate(20)
    assert (bits["kept_mass"] >= 0.8 - 1e-12).all()
    assert (bits["units"] == "bits").all()
    s.units = "nats"
    relabelled = s.table()  # the history is shown in the new units
    assert np.allclose(relabelled["model_entropy"], bits["model_entropy"] * math.log(2))
    assert (relabelled["units"] == "nats").all()
    s.reset()  # same seed, same text
    nats = s.generate(20)
    assert s.generated == "".join(bits["char"])
    assert np.allclose(nats["model_entropy"], bits["model_entropy"] * math.log(2))
    # plain temperature 1 samples the model itself: both entropies agree
    s.param.update(rule="temperature", temperature=1.0)
    same = s.generate(5)
    assert np.allclose(same["model_entropy"], same["truncated_entropy"], atol=1e-12)
    assert np.allclose(same["kept_mass"], 1.0, atol=1e-12)


def test_session_refuses_bad_prompts_and_counts(lm):
    s = gen.DecodingSession(lm, prompt="Alice")
    with pytest.raises(InputError, match="not in the vocabulary"):
        s.reset("Ω")
    with pytest.raises(InputError, match="non-empty"):
        s.reset("")
    with pytest.raises(KnobError, match="integer"):
        s.generate(0)
    empty = gen.DecodingSession(load=False)
    with pytest.raises(InputError, match="no model yet"):
        empty.step()
    empty.attach(lm)
    assert empty.step()["position"] == 0


def test_each_step_returns_the_row_the_table_shows(lm):
    # step() builds its own row (O(1)), no longer the whole table: it must be the table's row
    s = gen.DecodingSession(lm, prompt="Alice ", rule="top_k", top_k=5)
    for units in ("bits", "nats"):
        s.units = units
        rows = [s.step() for _ in range(4)]
        table = s.table()
        assert list(rows[0]) == list(table.columns)
        for row in rows:
            assert row == table.iloc[row["position"]].to_dict()
        assert rows[-1]["units"] == units and rows[-1]["position"] == len(table) - 1


def test_stable_band_is_mean_plus_minus_k_std(lm):
    values = gen.human_entropies(lm)
    band = gen.stable_band(lm, "human", k=1.5)
    assert band.mean == pytest.approx(values.mean()) and band.n == values.size
    assert band.low == pytest.approx(values.mean() - 1.5 * values.std())
    assert band.high == pytest.approx(values.mean() + 1.5 * values.std())
    # an entropy over V characters lies in [0, log2 V]
    assert 0 < band.mean < math.log2(len(lm.vocab))
    greedy = gen.stable_band(lm, "greedy", k=1.0, n_prompts=3, steps=5)
    assert greedy.n == 15 and greedy.source == "greedy"
    with pytest.raises(KnobError, match="human"):
        gen.stable_band(lm, "random")
    with pytest.raises(KnobError, match="finite"):
        gen.stable_band(lm, k=-1)


def test_semantic_tables_closed_forms():
    # all answers in one cluster: 0 both ways
    texts = [f"a{i}" for i in range(5)]
    one = gen.semantic_tables(texts, [-1, -2, -3, -4, -5], lambda a, b: True)
    assert one.entropy_counts == 0.0 and one.entropy_weighted == 0.0
    assert one.entropy_counts.units == "bits"
    # k clusters, equally often and equally probable: log k
    for k in (2, 3, 7):
        texts = [f"{i % k} answer {i}" for i in range(4 * k)]
        demo = gen.semantic_tables(texts, [-2.0] * (4 * k))   # same first word = same cluster
        assert demo.entropy_counts == pytest.approx(math.log2(k))
        assert demo.entropy_weighted == pytest.approx(math.log2(k))
        assert list(demo.clusters["n"]) == [4] * k
    nats = gen.semantic_tables(["x", "y", "z"], [0.0, 0.0, 0.0], units="nats")
    assert nats.entropy_weighted == pytest.approx(math.log(3))


def test_semantic_tables_weight_distinct_sequences_and_normalise():
    # distinct sequences with p = .2, .2, .1 (cluster a, a, b): p(a) = .8, p(b) = .2; the
    # repeated "a x" counts once in the weighted version, twice in the counts
    demo = gen.semantic_tables(["a x", "a x", "a y", "b z"], np.log([0.2, 0.2, 0.2, 0.1]))
    assert demo.entropy_weighted == pytest.approx(-(0.8 * math.log2(0.8) + 0.2 * math.log2(0.2)))
    assert demo.entropy_counts == pytest.approx(
        -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    assert list(demo.clusters["cluster"]) == ["a", "b"]
    assert demo.clusters["p_weighted"].tolist() == pytest.approx([0.8, 0.2])
    # a repeat whose log-probability differs in the last bits (batched float32 rows) is still
    # the same sequence: it counts once
    jitter = gen.semantic_tables(["a x", "a x", "a y", "b z"],
                                 np.log([0.2, 0.2 * (1 + 1e-7), 0.2, 0.1]))
    assert jitter.entropy_weighted == pytest.approx(demo.entropy_weighted)
    # log-probabilities far below 0 still normalise (log-sum-exp), and none exceeds 1
    far = gen.semantic_tables(["a", "b"], [-900.0, -900.0])
    assert far.entropy_weighted == pytest.approx(1.0)
    assert far.clusters["p_weighted"].sum() == pytest.approx(1.0)
    assert far.clusters["p_weighted"].max() <= 1
    with pytest.raises(InputError, match="NaN"):
        gen.semantic_tables(["a"], [np.nan])
    with pytest.raises(InputError, match="> 1"):   # a score, not a log-probability
        gen.semantic_tables(["a", "b"], [900.0, 900.0])


def test_semantic_tables_label_clusters_and_give_intervals():
    # a custom equivalence that puts two first words together, and one that splits a word
    texts = ["cat sat", "dog ran", "cat ate", "cow mooed"]
    animals = {"cat": 0, "dog": 0, "cow": 1}
    demo = gen.semantic_tables(texts, [-1.0] * 4,
                               lambda a, b: animals[a.split()[0]] == animals[b.split()[0]],
                               n_resamples=50)
    assert list(demo.clusters["n"]) == [3, 1]
    assert list(demo.clusters["cluster"]) == ["cat", "cow"]
    assert demo.samples["cluster"].tolist() == ["cat", "cat", "cat", "cow"]
    split = gen.semantic_tables(texts, [-1.0] * 4, lambda a, b: a == b)
    assert list(split.clusters["cluster"]) == ["0: cat", "1: dog", "2: cat", "3: cow"]
    for ci, point in ((demo.ci_counts, demo.entropy_counts),
                      (demo.ci_weighted, demo.entropy_weighted)):
        assert ci.n_resamples == 50 and ci.units == "bits" and ci.estimate == point
        # a resample has at most 2 classes: every replicate lies in [0, 1] bit
        assert 0 <= ci.low <= ci.high <= 1 + 1e-12
    assert split.ci_counts is None


def test_semantic_demo_on_sampled_continuations(lm):
    s = gen.DecodingSession(lm, prompt="Alice ", rule="top_p", top_p=0.95, seed=1)
    demo = s.semantic_demo(n_samples=6, length=8, n_resamples=20)
    assert len(demo.samples) == 6 and (demo.samples["continuation"].str.len() == 8).all()
    assert demo.clusters["n"].sum() == 6
    assert demo.clusters["p_counts"].sum() == pytest.approx(1.0)
    assert demo.clusters["p_weighted"].sum() == pytest.approx(1.0)
    assert 0 <= demo.entropy_counts <= math.log2(6) + 1e-12
    assert (demo.samples["log_prob"] < 0).all()
    assert demo.ci_counts.low <= demo.ci_counts.high
    # the log-probabilities are the model's own: recompute the first sample's by hand
    ids = lm.encode("Alice " + demo.samples["continuation"][0])
    p = np.stack([lm.next_probs(ids[:6 + t])[0] for t in range(8)])
    assert demo.samples["log_prob"][0] == pytest.approx(np.log(p[np.arange(8), ids[6:]]).sum())
    one = s.semantic_demo(n_samples=4, length=4, equivalent=lambda a, b: True)
    assert one.entropy_counts == 0.0 and one.entropy_weighted == 0.0
    with pytest.raises(KnobError, match="n_samples"):
        s.semantic_demo(n_samples=0)
    with pytest.raises(KnobError, match="n_resamples"):
        s.semantic_demo(n_resamples=-1)


def test_session_plot_has_units_and_both_curves(lm):
    import holoviews as hv

    s = gen.DecodingSession(lm, prompt="Alice ", units="nats")
    s.generate(5)
    overlay = s.plot()
    curves = [el for el in overlay if type(el) is hv.Curve]  # an Area is a Curve too
    assert len(curves) == 2 and all(len(c) == 5 for c in curves)
    assert overlay.opts.get().kwargs["ylabel"] == "entropy (nats)"
    assert len(s.plot(band=None).traverse(lambda el: el, [hv.Area])) == 0
    # a band computed once is drawn as given (its edges are the Area's), in matching units only
    band = gen.StableBand(1.0, 0.25, 2.0, "nats", "human", 10)
    area = s.plot(band=band).traverse(lambda el: el, [hv.Area])[0]
    assert area.dframe().iloc[:, 1:].min().min() == pytest.approx(band.low)
    assert area.dframe().iloc[:, 1:].max().max() == pytest.approx(band.high)
    with pytest.raises(InputError, match="bits"):
        s.plot(band=dataclasses.replace(band, units="bits"))
