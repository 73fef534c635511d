"""RunStore: round trip, atomic per-epoch appends that survive SIGKILL, reproducibility."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.cli import main
from workbench.errors import InputError, WorkbenchError
from workbench.runs import COLUMNS, METRICS, RunStore
from workbench.training.experiments import run_experiment

REPO = Path(__file__).resolve().parents[1]


def _rows(epoch: int, n: int = 3) -> list[dict]:
    return [{"run": "", "epoch": epoch, "layer": f"layer{i}", "layer_index": i,
             "quantity": "I(X;T)", "estimator": "binning", "value": float(epoch + i),
             "units": "bits", "seconds": 0.001} for i in range(1, n + 1)]


def test_create_append_load_list_compare_delete(tmp_path):
    store = RunStore(tmp_path / "runs")
    assert store.list().empty and store.ids() == []
    run = store.create({"data": "tishby12", "seed": 3, "knobs": {"n_bins": np.int64(30)}},
                       run_id="a")
    run.append(_rows(0))
    run.append(pd.DataFrame(_rows(1)))
    config, frame = store.load("a")
    assert config["seed"] == 3 and config["knobs"]["n_bins"] == 30 and config["run"] == "a"
    assert list(frame.columns) == COLUMNS and len(frame) == 6
    assert set(frame["run"]) == {"a"} and frame["epoch"].tolist() == [0, 0, 0, 1, 1, 1]
    other = store.create({"data": "digits"})  # generated id
    other.append(_rows(0, n=2))
    listing = store.list()
    assert set(listing["run"]) == {"a", other.id}
    assert listing.set_index("run").loc["a", "epochs"] == 1
    both = store.compare(["a", other.id])
    assert len(both) == 8 and set(both["run"]) == {"a", other.id}
    # reopening continues the same table
    store.open("a").append(_rows(2))
    assert len(store.load("a")[1]) == 9
    # no temporary files are left behind
    assert sorted(p.name for p in (tmp_path / "runs" / "a").iterdir()) == ["config.json",
                                                                         METRICS]
    store.delete(other.id)
    assert store.ids() == ["a"]
    with pytest.raises(WorkbenchError, match="already exists"):
        store.create({}, run_id="a")
    with pytest.raises(WorkbenchError, match="no run"):
        store.load("nope")
    with pytest.raises(InputError, match="bad run id"):
        store.path("../escape")
    with pytest.raises(TypeError):
        store.create({"bad": object()}, run_id="b")
    assert not (tmp_path / "runs" / "b").exists()  # a config that cannot be saved leaves no folder


_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from workbench.training.experiments import run_experiment
    from workbench.runs import RunStore

    def slow(epoch, model, metrics):
        print(epoch, flush=True)
        time.sleep(0.05)

    run_experiment(data="tishby12", epochs=100000, lr=0.004, store=RunStore({root!r}),
                   run="killed", callbacks=[slow])
""")


@pytest.mark.slow
def test_sigkill_mid_training_keeps_every_completed_epoch(tmp_path, capsys):
    root = tmp_path / "runs"
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(repo=str(REPO), root=str(root)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:  # the callback prints after the epoch was stored
            if int(line) >= 6 or time.monotonic() > deadline:
                break
        # while the child lives, its run reads back as running
        assert RunStore(root).load("killed")[0]["status"] == "running"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # killed mid-way: no final status, so it reads back as incomplete (list, load, show) ...
    assert RunStore(root).list().set_index("run").loc["killed", "status"] == "incomplete"
    assert main(["runs", "show", "killed", "--root", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["status"] == "incomplete"
    # ... and reading wrote nothing
    assert "status" not in json.loads((root / "killed" / "config.json").read_text())
    path = root / "killed" / METRICS
    pq.read_table(path)  # the file is a complete, valid parquet file
    config, frame = RunStore(root).load("killed")
    assert config["data"] == "tishby12" and config["lr"] == 0.004
    epochs = sorted(frame["epoch"].unique())
    assert epochs == list(range(len(epochs))) and len(epochs) >= 7
    # every stored epoch is complete: 6 layers x 3 quantities + 4 training metrics
    assert (frame.groupby("epoch").size() == 22).all()
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1  # at most the write that was interrupted


def test_same_config_and_seed_give_the_same_numbers(tmp_path):
    store = RunStore(tmp_path)
    kwargs = dict(data="tishby12", epochs=3, lr=0.004, seed=11, every=1)
    run_experiment(store=store, run="one", **kwargs)
    run_experiment(store=store, run="two", **kwargs)
    run_experiment(store=store, run="three", **{**kwargs, "seed": 12})
    (c1, f1), (c2, f2), (_, f3) = (store.load(r) for r in ("one", "two", "three"))
    strip = ("run", "created", "train_seconds")
    assert {k: v for k, v in c1.items() if k not in strip} == \
        {k: v for k, v in c2.items() if k not in strip}
    assert c1["estimator_knobs"] == {"binning": {"n_bins": 30, "range_min": -1.0,
                                                 "range_max": 1.0}}
    cols = ["epoch", "layer", "quantity", "estimator", "value"]
    assert f1[cols].equals(f2[cols])
    assert not f1["value"].equals(f3["value"])


def test_a_run_without_a_final_status_reads_back_running_then_incomplete(tmp_path):
    store = RunStore(tmp_path)
    run = store.create({"data": "x"}, run_id="open")
    run.append(_rows(0))
    assert store.load("open")[0]["status"] == "running"
    assert store.list()["status"].tolist() == ["running"]
    run.close()
    config, frame = store.load("open")
    assert config["status"] == "incomplete" and len(frame) == 3
    # reopening to append takes the writer lock again; a final status is kept as written
    again = store.open("open")
    assert store.load("open")[0]["status"] == "running"
    again.append(_rows(1))
    again.update_config(status="finished")
    del again
    assert store.load("open")[0]["status"] == "finished"
    assert len(store.load("open")[1]) == 6


def test_run_ids_are_matched_whole(tmp_path):
    store = RunStore(tmp_path)
    for bad in ("a\n", "a\nb", "a/b", "", ".hidden", "x" * 129):
        with pytest.raises(InputError, match="bad run id"):
            store.path(bad)
    with pytest.raises(InputError, match="bad run id"):
        store.create({}, run_id="trailing\n")
    assert store.path("ok-1.2_3") == tmp_path / "ok-1.2_3"


def _create_once(root, run_id, barrier) -> str:
    barrier.wait(timeout=60)
    try:
        RunStore(root).create({"n": 1}, run_id=run_id)
        return "created"
    except WorkbenchError as exc:
        return "exists" if "already exists" in str(exc) else f"other: {exc}"
    except Exception as exc:  # a foreign error is the bug
        return f"{type(exc).__name__}: {exc}"


def test_concurrent_threads_creating_one_id_get_one_run_and_clear_errors(tmp_path):
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the threads as much as possible
    try:
        with ThreadPoolExecutor(4) as pool:
            for i in range(200):  # the unprotected check-then-mkdir lost ~5% of such rounds
                barrier = threading.Barrier(4)
                got = list(pool.map(_create_once, [tmp_path] * 4, [f"r{i}"] * 4,
                                    [barrier] * 4))
                assert sorted(got) == ["created"] + ["exists"] * 3, got
    finally:
        sys.setswitchinterval(switch)
    assert len(RunStore(tmp_path).ids()) == 200


def _create_many(root, ids, barrier, queue) -> None:
    queue.put([_create_once(root, run_id, barrier) for run_id in ids])


@pytest.mark.slow
def test_concurrent_processes_creating_one_id_get_one_run_and_clear_errors(tmp_path):
    ctx = multiprocessing.get_context("spawn")  # no fork of a threaded test process
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    ids = [f"p{i}" for i in range(100)]
    procs = [ctx.Process(target=_create_many, args=(tmp_path, ids, barrier, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    try:
        first, second = (queue.get(timeout=120) for _ in procs)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    for a, b in zip(first, second):
        assert sorted([a, b]) == ["created", "exists"], (a, b)
    assert RunStore(tmp_path).ids() == sorted(ids)


def test_default_root_is_in_the_user_data_directory_not_the_repository(monkeypatch, tmp_path):
    from workbench.runs import default_root

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.delenv("WORKBENCH_RUNS", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    root = default_root()
    assert root.is_absolute() and repo not in root.parents and root != repo
    assert root.parts[-2:] == ("workbench", "runs")
    if os.name == "posix" and sys.platform != "darwin":
        assert root == Path.home() / ".local" / "share" / "workbench" / "runs"
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        assert default_root() == tmp_path / "data" / "workbench" / "runs"
        monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # ignored, as the spec says
        assert default_root() == root
    # the environment variable wins; RunStore() uses the default
    monkeypatch.setenv("WORKBENCH_RUNS", str(tmp_path / "mine"))
    assert default_root() == tmp_path / "mine" == RunStore().root


def test_no_run_folder_default_names_the_working_directory():
    """Every default run folder goes through default_root: the CLI and the apps."""
    pytest.importorskip("panel")
    from widgets.app import AppConfig
    from workbench.cli import build_parser
    from workbench.runs import default_root

    parser = build_parser()
    assert parser.parse_args(["runs", "list"]).root is None
    assert parser.parse_args(["plane"]).out is None
    assert parser.parse_args(["serve"]).runs_dir is None
    assert AppConfig().runs_dir == str(default_root())
