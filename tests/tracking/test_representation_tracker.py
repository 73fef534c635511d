"""RepresentationTracker: row schema, values equal to direct estimator calls on the captured
activations, determinism, degenerate layers, label noise and the one-call experiment."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from workbench.api import make_estimator
from workbench.errors import InputError, KnobError
from workbench.measures.representation import effective_rank
from workbench.runs import COLUMNS, RunStore
from workbench.tracking.binning_rules import binning_knobs
from workbench.tracking.probes import capture
from workbench.tracking.representation import (
    DEFAULT_MEASURES,
    RepresentationTracker,
    check_measures,
    measure_estimator,
)
from workbench.tracking.tables import final_values
from workbench.training import datasets, models
from workbench.training.experiments import run_experiment, with_label_noise
from workbench.training.loop import train


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


@pytest.fixture
def model():
    return models.mlp("6-8-5-3", activation="tanh", seed=0)


def info_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["layer"] != "model"]


def test_rows_follow_the_plane_schema(model, data):
    x, y = data
    tracker = RepresentationTracker(model, x=x, y=y, subsample=100)
    metrics = {"train_loss": 1.2, "train_accuracy": 0.5, "test_loss": float("nan")}
    frame = tracker.record(3, metrics)
    assert list(frame.columns) == COLUMNS
    info = info_rows(frame)
    # 3 layers x (binned, matrix_renyi, vne: H(T); effective_rank; dse: H(T) and I(T;Y))
    assert len(info) == 3 * 6
    assert set(info["layer"]) == {"layer1", "layer2", "layer3"}
    assert info.groupby("layer")["layer_index"].first().to_dict() == {
        "layer1": 1, "layer2": 2, "layer3": 3}
    units = info.groupby("quantity")["units"].unique().to_dict()
    assert [list(units[q]) for q in ("H(T)", "I(T;Y)", "effective_rank")] == [
        ["bits"], ["bits"], [""]]
    assert set(info[info["quantity"] == "I(T;Y)"]["estimator"]) == {tracker.labels["dse"]}
    assert tracker.labels == {"binned": "binning(range_min=-1.0, range_max=1.0)",
                              "matrix_renyi": "matrix_renyi(max_samples=100)", "vne": "vne",
                              "effective_rank": "effective_rank",
                              "dse": "dse(max_samples=100)"}
    assert (info["epoch"] == 3).all() and (info["seconds"] >= 0).all()
    assert np.isfinite(frame["value"]).all()
    # the NaN test loss is left out; loss in nats, accuracy unitless
    model_rows = frame[frame["layer"] == "model"].set_index("quantity")
    assert set(model_rows.index) == {"loss", "accuracy"}
    assert model_rows.loc["loss", "units"] == "nats" and model_rows.loc["accuracy", "units"] == ""
    assert len(tracker.frame()) == len(frame) and tracker.cost > 0


def test_values_equal_direct_estimator_calls(model, data):
    x, y = data
    tracker = RepresentationTracker(model, x=x, y=y, subsample=90, seed=4, units="nats",
                                    measure_knobs={"dse": {"t": 2},
                                                   "effective_rank": {"center": True}})
    frame = info_rows(tracker.record(0)).set_index(["layer", "estimator", "quantity"])["value"]
    binned = make_estimator("binning", **binning_knobs("tanh"))
    renyi = make_estimator("matrix_renyi", max_samples=90, seed=4)
    vne = make_estimator("vne")
    dse = make_estimator("dse", t=2, max_samples=90, seed=4)
    assert tracker.labels == {"binned": binned.label(), "matrix_renyi": renyi.label(),
                              "vne": "vne", "effective_rank": "effective_rank(center=True)",
                              "dse": dse.label()}
    for layer, t in capture(model, x).items():
        t = t.astype(np.float64)
        expected = {(binned.label(), "H(T)"): binned.entropy(t, units="nats"),
                    (renyi.label(), "H(T)"): renyi.entropy(t, units="nats"),
                    ("vne", "H(T)"): vne.entropy(t, units="nats"),
                    ("effective_rank(center=True)", "effective_rank"):
                        effective_rank(t, center=True),
                    (dse.label(), "H(T)"): dse.entropy(t, units="nats"),
                    (dse.label(), "I(T;Y)"): dse.mutual_info(t, y, units="nats")}
        for (label, quantity), value in expected.items():
            # the same code path on the same float64 array: equal to rounding
            assert frame[(layer, label, quantity)] == pytest.approx(float(value), rel=1e-12)


def test_kernel_rows_are_the_estimators_rows(model, data):
    x, y = data
    tracker = RepresentationTracker(model, x=x, y=y, subsample=60, seed=7)
    rows = tracker.kernel_rows()
    assert len(rows) == 60 and len(np.unique(rows)) == 60
    est = tracker.estimators["dse"]
    np.testing.assert_array_equal(rows, est._subsample(np.arange(len(x)))[0])
    t = capture(model, x, ["layer2"])["layer2"].astype(np.float64)
    assert float(est.entropy(t)) == pytest.approx(float(est.entropy(t[rows])), rel=1e-12)
    assert RepresentationTracker(model, x=x, y=y, subsample=None).kernel_rows() is None


def test_same_seed_same_rows(data):
    x, y = data
    dataset = datasets.split(x, y, seed=0)

    def run(seed):
        net = models.mlp("6-8-5-3", activation="relu", seed=seed)
        tracker = RepresentationTracker(net, x=x, y=y, subsample=80, seed=seed)
        train(net, dataset, epochs=2, seed=seed, callbacks=[tracker.as_callback()])
        return tracker.frame().drop(columns="seconds")

    first, again, other = run(1), run(1), run(2)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["value"], other["value"])
    assert sorted(first["epoch"].unique()) == [0, 1, 2]


class ConstantLayer(nn.Module):
    """Input -> a layer whose output is the same row for every input (or all zeros)."""

    def __init__(self, value: float):
        super().__init__()
        self.hidden = nn.Linear(6, 4)
        with torch.no_grad():
            self.hidden.weight.zero_()
            self.hidden.bias.fill_(value)
        self.tracked_layers = ["hidden"]

    def forward(self, x):
        return self.hidden(x)


def test_constant_layer_has_zero_entropy_and_no_nan(data):
    x, y = data
    tracker = RepresentationTracker(ConstantLayer(0.3), x=x, y=y)
    frame = tracker.record(0).set_index(["estimator", "quantity"])["value"]
    assert np.isfinite(frame).all()
    for label, value in frame.items():
        if label[1] == "effective_rank":
            assert value == pytest.approx(1.0)  # rank one: exp(0)
        else:
            assert value == pytest.approx(0.0, abs=1e-9), label  # one point, no spread
    assert len(frame) == 6


def test_all_zero_layer_skips_undefined_measures_with_a_warning(data):
    x, y = data
    tracker = RepresentationTracker(ConstantLayer(0.0), x=x, y=y)
    with pytest.warns(UserWarning) as caught:
        frame = tracker.record(0)
    assert sorted(str(w.message).split(" could")[0] for w in caught) == ["effective_rank", "vne"]
    # vne (no row direction) and the effective rank (all zeros) are undefined: no rows, no NaN
    labels = tracker.labels
    assert set(frame["estimator"]) == {labels["binned"], labels["matrix_renyi"], labels["dse"]}
    assert np.isfinite(frame["value"]).all() and (frame["value"] == 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per (measure, layer)
        tracker.record(1)


def test_schedule_and_bad_arguments(model, data):
    x, y = data
    tracker = RepresentationTracker(model, x=x, y=y, measures=["vne"], every=5)
    assert [tracker.wants(e) for e in (0, 3, 5, 10)] == [True, False, True, True]
    assert tracker.record(3).empty
    assert len(tracker.record(3, force=True)) == 3
    logged = RepresentationTracker(model, x=x, y=y, measures=["vne"], every="log", epochs=100)
    assert logged.wants(100) and logged.wants(1) and not logged.wants(99)
    listed = RepresentationTracker(model, x=x, y=y, measures=["vne"], every=[2, 7])
    assert [listed.wants(e) for e in (2, 3, 7)] == [True, False, True]
    with pytest.raises(InputError, match="needs epochs"):
        RepresentationTracker(model, x=x, y=y, every="log")
    with pytest.raises(InputError, match="unknown measure"):
        RepresentationTracker(model, x=x, y=y, measures=["shannon"])
    with pytest.raises(InputError, match="not tracked"):
        RepresentationTracker(model, x=x, y=y, measures=["vne"], measure_knobs={"dse": {}})
    with pytest.raises(InputError, match="labels"):
        RepresentationTracker(model, x=x, y=y[:-1])
    with pytest.raises(KnobError):
        RepresentationTracker(model, x=x, y=y, measures=["dse"], measure_knobs={"dse": {"t": 0}})
    with pytest.raises(KnobError, match="center"):
        measure_estimator("effective_rank", {"alpha": 2})
    assert check_measures("dse") == ["dse"] and tuple(check_measures(DEFAULT_MEASURES)) == \
        DEFAULT_MEASURES


def test_store_receives_every_recorded_epoch(tmp_path, model, data):
    x, y = data
    tracker = RepresentationTracker(model, x=x, y=y, measures=["vne", "effective_rank"],
                                    store=RunStore(tmp_path), config={"name": "t"})
    tracker.record(0, {"train_loss": 1.0})
    tracker.record(1)
    _, stored = RunStore(tmp_path).load(tracker.run_id)
    assert len(stored) == len(tracker.frame()) == 2 * 3 * 2 + 1
    assert (stored["run"] == tracker.run_id).all()


def test_label_noise_shuffles_the_training_labels_only():
    clean = datasets.digits(seed=0)
    none = with_label_noise(clean, 0.0, seed=1)
    np.testing.assert_array_equal(none.y_train, clean.y_train)
    full = with_label_noise(clean, 1.0, seed=1)
    np.testing.assert_array_equal(np.bincount(full.y_train), np.bincount(clean.y_train))
    np.testing.assert_array_equal(full.y_test, clean.y_test)
    # a random permutation of 10 balanced classes keeps about 1/10 of the labels
    assert 0.8 < np.mean(full.y_train != clean.y_train) < 0.95
    half = with_label_noise(clean, 0.5, seed=1)
    changed = np.mean(half.y_train != clean.y_train)
    assert 0.35 < changed <= 0.5  # 50% shuffled, ~1/10 of those keep their label
    np.testing.assert_array_equal(with_label_noise(clean, 0.5, seed=1).y_train, half.y_train)
    assert half.info["label_noise"] == 0.5
    with pytest.raises(InputError, match="fraction"):
        with_label_noise(clean, 1.5)


def test_run_experiment_tracks_test_rows(tmp_path):
    tracker, result, config = run_experiment(
        "digits", tracker="representation", arch="64-16-10", epochs=2, measures=("dse", "vne"),
        measure_on="test",
        subsample=100, store=RunStore(tmp_path), label_noise=0.2)
    assert len(tracker.x) == 359 and config["label_noise"] == 0.2
    assert result.epochs_completed == 2
    frame = tracker.frame()
    assert sorted(frame["epoch"].unique()) == [0, 1, 2]
    dsmi = final_values(frame, "I(T;Y)")
    assert list(dsmi.index) == [1, 2] and np.isfinite(dsmi).all()
    stored_config, stored = RunStore(tmp_path).load(tracker.run_id)
    assert stored_config["status"] == "finished" and len(stored) == len(frame)
    with pytest.raises(InputError, match="measure_on"):
        run_experiment("digits", tracker="representation", arch="64-16-10", epochs=0,
                       measure_on="val")
    assert math.isfinite(tracker.cost)
