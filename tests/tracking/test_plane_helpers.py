"""Shared plumbing of the trackers: ``every`` normalised once (generators, numpy integers),
the shared experiment config / training helper, unit conversion of tidy frames."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.runs import RunStore
from workbench.tracking.base import check_every
from workbench.tracking.plane import InformationPlane
from workbench.tracking.tables import axis_limits
from workbench.training import datasets, models
from workbench.training.experiments import run_experiment
from workbench.units import convert_columns


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    return datasets.split(x, (x[:, 0] > 0).astype(int), seed=0, name="small")


def test_check_every_forms():
    assert check_every(np.int64(3)) == 3 and type(check_every(np.int64(3))) is int
    assert check_every(e for e in (7, 2, 2)) == [2, 7]
    assert check_every("log") == "log"
    for bad in (0, "linear", 1.5, True, [1, "a"]):
        with pytest.raises(InputError):
            check_every(bad)


@pytest.mark.parametrize("every, want", [(np.int64(2), [0, 2, 4]),
                                         ((e for e in (1, 4)), [1, 4])])
def test_tracker_every_numpy_int_and_generator(small, every, want):
    net = models.mlp("4-5-2", activation="tanh", seed=0)
    tracked = InformationPlane(net, x=small.x, y=small.y, every=every)
    assert [e for e in range(6) if tracked.wants(e)] == want


@pytest.mark.parametrize("make_every, want, recorded", [
    (lambda: np.int64(2), 2, [0, 2]), (lambda: (e for e in (3, 0)), [0, 3], [0, 3])])
def test_run_experiments_read_every_once(small, tmp_path, make_every, want, recorded):
    # InformationPlane experiment: the config and the recorded epochs agree
    p, result, config = run_experiment(small, arch="4-5-2", epochs=3, every=make_every(),
                                             store=RunStore(tmp_path / "a"))
    assert config["every"] == want
    assert sorted(p.frame()["epoch"].unique()) == recorded
    saved = json.loads((p.store.path / "config.json").read_text())
    assert saved["every"] == want and saved["status"] == "finished"
    assert saved["epochs_completed"] == 3 and saved["estimator_labels"]
    assert p.model_ is p.model and p.dataset_ is small
    # RepresentationTracker experiment: the same helpers, its own config keys
    t, _, config = run_experiment(
        small, tracker="representation", arch="4-5-2", epochs=3, every=make_every(),
        measures=["vne"],
        store=RunStore(tmp_path / "b"))
    assert config["every"] == want and config["kind"] == "representation_entropy"
    assert sorted(t.frame()["epoch"].unique()) == recorded
    saved = json.loads((t.store.path / "config.json").read_text())
    assert saved["labels"] == t.labels and saved["lr"] == 1e-3
    assert saved["status"] == "finished" and saved["epochs_completed"] == 3


def test_convert_columns_one_factor_per_unit():
    frame = pd.DataFrame({"value": [1.0, 2.0, 0.5, 3.0], "other": [1.0, 1.0, 1.0, 1.0],
                          "units": ["bits", "nats", "", "bits"]}, index=[0, 0, 1, 1])
    out = convert_columns(frame, ["value", "missing"], "nats")
    assert out["value"].tolist() == pytest.approx([math.log(2), 2.0, 0.5, 3 * math.log(2)])
    assert out["units"].tolist() == ["nats", "nats", "", "nats"]
    assert out["other"].tolist() == [1.0] * 4 and frame["units"].iloc[0] == "bits"
    back = convert_columns(out, ["value"], "bits")
    assert back["value"].tolist() == pytest.approx(frame["value"].where(
        frame["units"] != "nats", frame["value"] / math.log(2)).tolist())


def test_adaptive_binning_keeps_n_bins_next_to_other_knobs(small):
    # `--n-bins 10 --knob adaptive_binning.scope=neuron` used to drop n_bins (back to 30)
    _, _, config = run_experiment(
        small, epochs=0, estimators=["adaptive_binning"], n_bins=10,
        estimator_knobs={"adaptive_binning": {"scope": "neuron"}})
    assert config["estimator_knobs"]["adaptive_binning"] == {"n_bins": 10, "scope": "neuron"}
    _, _, config = run_experiment(
        small, epochs=0, estimators=["adaptive_binning"], n_bins=10,
        estimator_knobs={"adaptive_binning": {"n_bins": 4}})
    assert config["estimator_knobs"]["adaptive_binning"] == {"n_bins": 4}


def test_axis_limits_are_the_input_and_label_entropies():
    # 12-bit task: 4096 distinct inputs, balanced binary label -> (12, 1) bits exactly
    data = datasets.load("tishby12")
    h_x, h_y = axis_limits(data.x, data.y)
    assert h_x == pytest.approx(12.0, abs=1e-12)
    p = float(np.mean(data.y))
    assert h_y == pytest.approx(-(p * math.log2(p) + (1 - p) * math.log2(1 - p)), abs=1e-12)
    assert axis_limits(data.x, data.y, "nats")[0] == pytest.approx(12 * math.log(2))
