"""Experiments over seeds: the grid, determinism across schedulers, and the seed tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.runs import COLUMNS, RunStore
from workbench.tracking.seed_tables import (
    compression_over_seeds,
    format_compression,
    group_verdict,
    seed_band,
)
from workbench.training.seeds import parse_seeds, requested_names, run_seeds, run_summary

TINY = {"epochs": 4, "every": 2, "data": "tishby12"}


def test_parse_seeds():
    assert parse_seeds("0-9") == list(range(10))
    assert parse_seeds("0, 3,5-7") == [0, 3, 5, 6, 7]
    assert parse_seeds(4) == [4]
    with pytest.raises(InputError, match=">= 0"):
        parse_seeds(-1)  # an int took a path that skipped the check
    assert parse_seeds(range(2)) == [0, 1]
    for bad in ("", "a", "3-1", "1,1", "-2", [-1], "1.5"):
        with pytest.raises(InputError):
            parse_seeds(bad)


def test_requested_names_are_stable_and_distinct():
    assert requested_names("binning") == ["binning"]
    assert requested_names(["binning", ("binning", {"n_bins": 8}), "binning"]) == [
        "binning", "binning(n_bins=8)", "binning#2"]


def test_same_numbers_on_sync_and_a_local_cluster(tmp_path):
    # each job seeds its initialisation, batch order and subsample and runs torch on one
    # thread, so two jobs side by side on the LocalCluster's threads give the numbers of the
    # one-after-another run exactly (compared with no tolerance)
    kw = dict(seeds="0-1", activations=("tanh", "relu"), **TINY)
    sync = run_seeds(scheduler="sync", root=tmp_path / "a", **kw)
    local = run_seeds(scheduler="local", n_workers=2, root=tmp_path / "b", **kw)
    cols = [c for c in sync.columns if c not in ("run", "seconds")]
    pd.testing.assert_frame_equal(sync[cols], local[cols])
    pd.testing.assert_frame_equal(compression_over_seeds(sync), compression_over_seeds(local))
    assert list(sync.columns[:len(COLUMNS)]) == COLUMNS
    # grid order: arch, activation, seed; every run saved with its seed and activation
    runs = run_summary(sync)
    assert list(zip(runs["group"], runs["seed"])) == [("tanh", 0), ("tanh", 1), ("relu", 0),
                                                      ("relu", 1)]
    store = RunStore(tmp_path / "a")
    assert sorted(store.ids()) == sorted(runs["run"])
    config, frame = store.load(runs["run"].iloc[3])
    assert (config["seed"], config["activation"], config["status"]) == (1, "relu", "finished")
    assert len(frame) == (sync["run"] == runs["run"].iloc[3]).sum()
    # the bin rule gives tanh a fixed range and ReLU an observed one; the grid names both
    # "binning" so they share one table, and keeps the runs' own labels in the summaries
    assert set(sync["estimator"].unique()) <= {"binning", ""}
    assert runs["estimator_labels"].iloc[0]["binning"].startswith("binning(range_min=-1")
    assert runs["estimator_labels"].iloc[2]["binning"] == "binning"


def test_seeds_differ_and_repeat():
    a = run_seeds(seeds=[0, 1], scheduler="sync", **TINY)
    b = run_seeds(seeds=[1], scheduler="sync", **TINY)
    ixt = a[a["quantity"] == "I(X;T)"]
    by_seed = {s: g["value"].to_numpy() for s, g in ixt.groupby("seed")}
    assert not np.array_equal(by_seed[0], by_seed[1])  # another initialisation, another path
    again = b[b["quantity"] == "I(X;T)"]["value"].to_numpy()
    assert np.array_equal(again, by_seed[1])  # the same seed alone: the same numbers


def test_run_seeds_refuses_what_it_sets():
    with pytest.raises(InputError):
        run_seeds(seeds=[0], seed=3, **TINY)
    with pytest.raises(InputError):
        run_seeds(seeds=[0], activations=(), **TINY)


def test_thread_settings_are_restored():
    import torch
    from threadpoolctl import threadpool_info

    def blas():
        return [p["num_threads"] for p in threadpool_info()]

    before = torch.get_num_threads(), blas()
    run_seeds(seeds=[0], scheduler="sync", epochs=1, data="tishby12")
    assert (torch.get_num_threads(), blas()) == before


def _synthetic(values: dict) -> pd.DataFrame:
    """Tidy rows of I(X;T) and I(T;Y) for one layer: ``{(group, seed): [ixt per epoch]}``,
    with I(T;Y) = ixt / 10."""
    rows = []
    for (group, seed), series in values.items():
        run = f"{group}-{seed}"
        for epoch, v in enumerate(series):
            for q, val in (("I(X;T)", v), ("I(T;Y)", v / 10)):
                rows.append({"run": run, "epoch": epoch, "layer": "layer1", "layer_index": 1,
                             "quantity": q, "estimator": "binning", "value": val,
                             "units": "bits", "seconds": 0.0, "group": group, "seed": seed})
    return pd.DataFrame(rows)


def test_band_and_compression_tables_match_hand_computation():
    frame = _synthetic({("tanh", 0): [1.0, 3.0, 2.0], ("tanh", 1): [1.0, 5.0, 3.0],
                        ("relu", 0): [1.0, 2.0, 2.0]})
    band = seed_band(frame)
    tanh = band[band["group"] == "tanh"].set_index("epoch")
    assert tanh.loc[1, "ixt_mean"] == 4.0
    assert tanh.loc[1, "ixt_std"] == pytest.approx(np.sqrt(2.0))  # sample std of 3 and 5
    assert tanh.loc[2, "ity_mean"] == pytest.approx(0.25)
    assert (tanh["n_seeds"] == 2).all()
    relu = band[band["group"] == "relu"]
    assert (relu["ixt_std"] == 0).all() and (relu["n_seeds"] == 1).all()
    assert list(dict.fromkeys(band["group"])) == ["tanh", "relu"]  # grid order, not sorted

    table = compression_over_seeds(frame, min_drop=0.5).set_index("group")
    # drops: tanh 3-2 = 1 and 5-3 = 2; relu: peak 2 (first at epoch 1), final 2, drop 0
    assert table.loc["tanh", "drop_mean"] == 1.5
    assert table.loc["tanh", "drop_std"] == pytest.approx(np.sqrt(0.5))
    assert table.loc["tanh", "peak_mean"] == 4.0 and table.loc["tanh", "final_mean"] == 2.5
    assert (table.loc["tanh", "compressing"], table.loc["tanh", "n_seeds"]) == (2, 2)
    assert (table.loc["relu", "compressing"], table.loc["relu", "drop_mean"]) == (0, 0.0)
    text = format_compression(table.reset_index())
    assert "1.500 ± 0.707" in text and "2/2" in text and "0/1" in text
    verdict = group_verdict(table.reset_index(), hidden_only=False).set_index("group")
    assert verdict.loc["tanh", "compressing_share"] == 1.0
    assert verdict.loc["relu", "compressing_share"] == 0.0


def test_seed_tables_need_grid_columns():
    frame = _synthetic({("tanh", 0): [1.0, 2.0]}).drop(columns=["group"])
    with pytest.raises(InputError):
        seed_band(frame)


def test_ib_objective_carries_into_every_seed(tmp_path):
    """objective/beta train each seed's bottleneck network (not the plain MLP): the rows are
    exactly those of run_ib_experiment with the same settings, the group is named by the
    objective, and every saved run's config and summary carry it."""
    from workbench.ib.experiment import run_ib_experiment
    from workbench.training import datasets

    settings = {"epochs": 2, "lr": 0.004, "batch_size": 256, "subsample": 300}
    frame = run_seeds("0-1", data="tishby12", archs="12-16-4-2", objective="vib", beta=0.01,
                      root=tmp_path, **settings)
    assert set(frame["group"]) == {"vib β=0.01"}
    assert set(frame["layer"]) == {"bottleneck", "model"}
    assert set(frame["estimator"]) == {"channel", ""}
    for run in run_summary(frame).itertuples():
        assert (run.objective, run.beta, run.activation) == ("vib", 0.01, "relu")
        config = RunStore(tmp_path).load(run.run)[0]
        assert (config["objective"], config["beta"], config["k"]) == ("vib", 0.01, 4)
    tracker, _, _ = run_ib_experiment(datasets.load("tishby12", seed=1), "vib", 0.01,
                                      hidden="16", k=4, seed=1, threads=1, **settings)
    direct = tracker.frame().query("quantity == 'I(X;T)'")["value"].to_numpy()
    grid = frame.query("seed == 1 and quantity == 'I(X;T)'")["value"].to_numpy()
    assert np.array_equal(grid, direct)
    # what the studio's seeds overlay draws: the bottleneck's band and compression row
    assert set(seed_band(frame)["layer"]) == {"bottleneck"}
    assert compression_over_seeds(frame)["n_seeds"].tolist() == [2]


def test_ib_objective_refuses_what_does_not_apply():
    with pytest.raises(InputError, match="objective"):
        run_seeds([0], objective="nope", **TINY)
    with pytest.raises(InputError, match="ReLU"):
        run_seeds([0], activations="tanh", objective="vib", **TINY)
    with pytest.raises(InputError, match="bottleneck"):
        run_seeds([0], archs="12-2", objective="vib", **TINY)
    with pytest.raises(InputError, match="weight_decay"):
        run_seeds([0], objective="vib", weight_decay=0.1, **TINY)
