"""The benchmark runner: tidy table, determinism across schedulers, failures recorded."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.bench import runner as bench
from workbench.bench import tasks
from workbench.cli import main as cli_main
from workbench.errors import InputError, UnknownMethodError

TINY = [tasks.bivariate(0.75), tasks.xor(0.1)]
# a discrete and a continuous (kNN) estimator
ESTIMATORS = ["plugin", "ksg"]


def same_table(a: pd.DataFrame, b: pd.DataFrame):
    # timings differ from run to run; everything else must not
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))


@pytest.fixture(scope="module")
def sync_result():
    return bench.run(TINY, estimators=ESTIMATORS, ns=(300,), seeds=(0, 1), scheduler="sync")


def test_table_is_tidy(sync_result):
    t = sync_result.table
    assert list(t.columns) == bench.COLUMNS
    assert len(t) == len(TINY) * len(ESTIMATORS) * 2
    assert set(t["units"]) == {"nats"}
    assert set(t["task"]) == {"1v1-normal-0.75", "xor-0.1"}
    ok = t[t["error"] == ""]
    np.testing.assert_allclose(ok["abs_error"], (ok["estimate"] - ok["truth"]).abs())
    truth = dict(zip(t["task"], t["truth"]))
    assert truth["xor-0.1"] == pytest.approx(tasks.xor(0.1).mutual_info)


def test_plugin_is_accurate_on_the_discrete_task(sync_result):
    t = sync_result.table
    row = t[(t["task"] == "xor-0.1") & (t["estimator"] == "plugin")]
    # plug-in bias ≈ (cells − 1)/(2n) ≈ 3/600 nats; spread over seeds at n = 300 ≈ 0.03 nats
    assert (row["abs_error"] < 0.12).all() and row["within"].all()


def test_failures_are_recorded_not_raised(sync_result):
    t = sync_result.table
    failed = t[(t["task"] == "1v1-normal-0.75") & (t["estimator"] == "plugin")]
    assert len(failed) == 2 and failed["estimate"].isna().all()
    assert failed["error"].str.contains("InputError").all()
    assert not failed["within"].any()
    s = sync_result.summary().set_index("estimator")
    assert s.loc["plugin", "failures"] == 2 and s.loc["plugin", "tasks"] == 2


def test_deterministic_across_runs_and_schedulers(sync_result):
    again = bench.run(TINY, estimators=ESTIMATORS, ns=(300,), seeds=(0, 1), scheduler="sync")
    same_table(sync_result.table, again.table)
    local = bench.run(TINY, estimators=ESTIMATORS, ns=(300,), seeds=(0, 1), scheduler="local",
                      n_workers=2)
    same_table(sync_result.table, local.table)


def test_existing_cluster_by_address_and_client(sync_result):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://")
        by_address = bench.run(TINY, estimators=ESTIMATORS, ns=(300,), seeds=(0, 1),
                               scheduler=cluster.scheduler_address)
        by_client = bench.run(TINY, estimators=ESTIMATORS, ns=(300,), seeds=(0, 1),
                              scheduler=client)
    same_table(sync_result.table, by_address.table)
    same_table(sync_result.table, by_client.table)


@pytest.mark.parametrize("method", ["auto", "ksg", "gaussian", "gaussian_copula"])
def test_registered_estimators_pass_the_gaussian_task(method):
    assert method == "auto" or method in {m["name"] for m in wb.methods()}
    res = bench.run([tasks.bivariate(0.75)], estimators=[method], ns=(2000,), seeds=(0,),
                    scheduler="sync")
    row = res.table.iloc[0]
    # every one of these is consistent for a bivariate Gaussian; at n = 2000 their spread is
    # ~0.02 nats, far inside the 0.1-nat tolerance
    assert row["error"] == "" and bool(row["within"]), row.to_dict()


def test_jobs_share_samples_and_standardize():
    task = tasks.dense(2, 2)
    x1, y1 = bench.job_data(task, 200, 3)
    x2, _ = bench.job_data(task, 200, 3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_allclose(x1.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y1.std(axis=0), 1)
    raw, _ = bench.job_data(task, 200, 3, standardize=False)
    assert not np.allclose(raw, x1)
    # a different seed or n gives different data
    assert not np.array_equal(bench.job_data(task, 200, 4)[0], x1)


def test_summary_counts_tasks_within_tolerance():
    t = pd.DataFrame({"task": ["a", "a", "b", "c"], "estimator": "e", "method": "e",
                      "n": 10, "seed": [0, 1, 0, 0], "dim_x": 1, "dim_y": 1,
                      "truth": [2.0, 2.0, 0.5, 0.05], "estimate": [1.7, 2.1, 0.65, np.nan],
                      "seconds": 1.0, "units": "nats", "error": ["", "", "", "boom"]})
    t["abs_error"] = (t["estimate"] - t["truth"]).abs()
    t["within"] = t["abs_error"] <= bench.tolerance(t["truth"])
    res = bench.BenchResult(t[bench.COLUMNS], {})
    per = res.per_task().set_index("task")
    # task a: mean 1.9, error 0.1 <= 10 % of 2 -> within; b: 0.15 > 0.1 -> not; c failed
    assert per.loc["a", "within"] and not per.loc["b", "within"] and not per.loc["c", "within"]
    s = res.summary().iloc[0]
    assert (s["tasks"], s["within"], s["failures"]) == (3, 1, 1)
    assert s["median_abs_error"] == pytest.approx(0.15)
    assert s["total_seconds"] == pytest.approx(4.0)
    assert res.summary(units="bits").iloc[0]["median_abs_error"] == pytest.approx(
        0.15 / np.log(2))


def test_save_and_load_round_trip(sync_result, tmp_path):
    paths = sync_result.save(tmp_path / "out")
    assert set(paths) == {"results.parquet", "results.csv", "summary.csv", "config.json"}
    back = bench.BenchResult.load(tmp_path / "out")
    pd.testing.assert_frame_equal(back.table, sync_result.table)
    csv = pd.read_csv(paths["results.csv"])
    assert list(csv.columns) == bench.COLUMNS and len(csv) == len(sync_result.table)
    assert json.loads(paths["config.json"].read_text())["seeds"] == [0, 1]


def test_bad_arguments_are_clear():
    with pytest.raises(UnknownMethodError, match="no_such_method"):
        bench.run(TINY, estimators=["no_such_method"], scheduler="sync")
    with pytest.raises(InputError, match="no task"):
        bench.run("no-such-task*", estimators=["plugin"], scheduler="sync")
    with pytest.raises(InputError, match="labels must be unique"):
        bench.run(TINY, estimators=["plugin", "plugin"], scheduler="sync")
    for bad in (42, "lcoal"):
        with pytest.raises(InputError, match="scheduler"):
            bench.run(TINY, estimators=["plugin"], scheduler=bad)
    # estimator spec tuples carry their own knobs and label
    res = bench.run([tasks.xor(0.0)], estimators=[("pi", "plugin", {})], ns=(50,),
                    scheduler="sync")
    assert res.table["estimator"].tolist() == ["pi"]


def test_cli_bench(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(["bench", "--tasks", "xor-*", "--estimators", "plugin", "--n", "200",
                   "--seeds", "0,1", "--scheduler", "sync", "--out", str(out), "--json"])
    assert rc == 0
    payload = json.loads(capsys.readouterr().out)
    (row,) = payload["summary"]
    assert row["estimator"] == "plugin" and row["units"] == "nats"
    assert (out / "results.parquet").exists()
    rc = cli_main(["bench", "--tasks", "1v1-normal-0.75", "--list", "--units", "bits"])
    text = capsys.readouterr().out
    assert rc == 0 and "bits" in text and "1v1-normal-0.75" in text


def test_cli_bench_text_summary(capsys):
    rc = cli_main(["bench", "--tasks", "xor-0", "--estimators", "plugin", "--n", "100",
                   "--scheduler", "sync", "--units", "bits"])
    text = capsys.readouterr().out
    assert rc == 0 and "plugin" in text and "bits" in text and "tolerance" in text


def test_both_budgets_of_auto_side_by_side():
    # 1+1 dimensions: the thorough rule is the fast one, so the same number
    res = bench.run(["1v1-normal-0.75"], estimators=["auto", "auto:thorough"], ns=(500,),
                    seeds=(0,), scheduler="sync")
    assert set(res.summary()["estimator"]) == {"auto", "auto:thorough"}
    one = res.table.set_index("estimator")
    assert one.loc["auto", "estimate"] == one.loc["auto:thorough", "estimate"]
    # 3+3: score_max (a 20-step MINDE keeps this quick), never below the copula_max it holds
    res = bench.run(["multinormal-dense-3-3"], estimators=["auto", "auto:thorough"],
                    ns=(500,), seeds=(0,), scheduler="sync",
                    knobs={"auto:thorough": {"steps": 20}})
    three = res.table.set_index("estimator")
    assert three.loc["auto", "method"] == "copula_max"
    assert three.loc["auto:thorough", "method"] == "score_max"
    assert three.loc["auto:thorough", "error"] == ""
    assert three.loc["auto:thorough", "estimate"] >= three.loc["auto", "estimate"] - 1e-12
    with pytest.raises(InputError, match="budget"):
        bench.run(["1v1-normal-0.75"], estimators=["auto:slow"], scheduler="sync")
