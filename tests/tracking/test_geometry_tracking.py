"""The representation tracker's geometry measures: tidy rows (unitless, quantity = measure
name), values equal to direct calls, knobs in the labels, bad knobs rejected; the Entropy
Monitor's panel list covers them."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import KnobError
from workbench.measures.geometry import (
    condition_number,
    intrinsic_dimension,
    local_rank,
    spectrum_slope,
)
from workbench.runs import COLUMNS
from workbench.tracking.probes import capture
from workbench.tracking.representation import (
    MEASURES,
    PLAIN_KNOBS,
    RepresentationTracker,
    measure_estimator,
    measure_labels,
)
from workbench.training import models
from workbench.training.experiments import run_experiment

GEOMETRY = ["intrinsic_dimension", "local_rank", "spectrum_slope", "condition_number"]


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return models.mlp("6-8-5-3", activation="tanh", seed=0), x, y


def test_geometry_rows_equal_direct_calls(setup):
    model, x, y = setup
    knobs = {"local_rank": {"threshold": 1e-2, "max_samples": 64},
             "intrinsic_dimension": {"method": "mle", "k": 10}}
    tracker = RepresentationTracker(model, x=x, y=y, measures=GEOMETRY, measure_knobs=knobs,
                                    seed=3)
    frame = tracker.record(0)
    assert list(frame.columns) == COLUMNS
    info = frame[frame["layer"] != "model"]
    assert len(info) == 3 * 4 and set(info["units"]) == {""}
    assert set(info["quantity"]) == set(GEOMETRY)
    assert tracker.labels == {"intrinsic_dimension": "intrinsic_dimension(method=mle, k=10)",
                              "local_rank": "local_rank(threshold=0.01, max_samples=64)",
                              "spectrum_slope": "spectrum_slope",
                              "condition_number": "condition_number"}
    assert measure_labels(GEOMETRY, knobs) == tracker.labels
    acts = capture(model, x, tracker.layers)
    for layer in tracker.layers:
        t = acts[layer].astype(np.float64)
        got = info[info["layer"] == layer].set_index("quantity")["value"]
        assert got["intrinsic_dimension"] == pytest.approx(
            intrinsic_dimension(t, method="mle", k=10).value)
        assert got["local_rank"] == pytest.approx(
            local_rank(model, x, layer, threshold=1e-2, max_samples=64, seed=3).value)
        assert got["spectrum_slope"] == pytest.approx(spectrum_slope(t))
        assert got["condition_number"] == pytest.approx(condition_number(t))
    # tanh layers: at most the narrowest width up to the layer, and nearly that (a saturated
    # unit can push a singular value below the 1 % threshold at a few points)
    ranks = info[info["quantity"] == "local_rank"].set_index("layer")["value"].to_dict()
    assert ranks["layer1"] == 6 and 4.5 < ranks["layer2"] <= 5
    assert ranks["layer3"] == 2  # softmax over 3 classes: rank <= 2


def test_geometry_knobs_are_checked():
    assert set(GEOMETRY) <= set(MEASURES) and set(GEOMETRY) <= set(PLAIN_KNOBS)
    assert measure_estimator("local_rank", {"threshold": 0.1}) is None
    with pytest.raises(KnobError, match="threshold"):
        measure_estimator("local_rank", {"treshold": 0.1})
    with pytest.raises(KnobError, match="condition_number"):
        measure_estimator("condition_number", {"center": True})


def test_run_experiment_tracks_geometry_per_layer():
    tracker, _, config = run_experiment(
        "tishby12", "12-8-6-2", tracker="representation", activation="relu", epochs=2,
        measures=["local_rank", "intrinsic_dimension"],
        measure_knobs={"local_rank": {"max_samples": 32},
                       "intrinsic_dimension": {"max_samples": 500}})
    frame = tracker.frame()
    rows = frame[frame["quantity"].isin(["local_rank", "intrinsic_dimension"])]
    assert sorted(rows["epoch"].unique()) == [0, 1, 2]
    assert rows.groupby("quantity")["layer"].nunique().to_dict() == {
        "intrinsic_dimension": 3, "local_rank": 3}
    assert config["measures"] == ["local_rank", "intrinsic_dimension"]
    lr = rows[rows["quantity"] == "local_rank"]
    widths = {"layer1": 8, "layer2": 6, "layer3": 1}  # 2-class softmax: rank <= 1
    assert all(v <= widths[layer] for layer, v in zip(lr["layer"], lr["value"]))


def test_sae_features_are_tracked_as_the_direct_call_on_the_same_rows(setup):
    from workbench.measures.geometry import sae_features
    from workbench.validation import subsample_rows

    model, x, y = setup
    knobs = {"sae_features": {"steps": 50, "max_samples": 200}}
    tracker = RepresentationTracker(model, x=x, y=y, measures=["sae_features"],
                                    measure_knobs=knobs, seed=2)
    info = tracker.record(0)
    info = info[info["layer"] != "model"]
    assert len(info) == 3 and set(info["units"]) == {""}
    acts = capture(model, x, tracker.layers)
    rows = subsample_rows(len(x), 200, 2)
    for layer in tracker.layers:
        t = acts[layer].astype(np.float64)[rows]
        direct = sae_features(t, steps=50, seed=2)
        got = info.loc[info["layer"] == layer, "value"].iloc[0]
        assert got == pytest.approx(direct.effective, rel=1e-6)
        assert 1.0 <= got <= direct.n_features  # exp of an entropy over n_features latents
