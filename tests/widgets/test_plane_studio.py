"""The Plane Studio driven in code (no browser): a background run streams rows into the plots,
Pause / Resume / Stop / Reset act on it, runs are saved and listed, bad input ends in a banner.

Nothing polls by itself outside an event loop, so the tests call ``studio.poll()`` while they
wait (with generous timeouts; no test assumes how fast the machine is)."""
from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

pn = pytest.importorskip("panel")

from widgets.plane_studio import PlaneStudio, page  # noqa: E402
from workbench.errors import InputError  # noqa: E402
from workbench.runs import RunStore  # noqa: E402
from workbench.tracking.tables import info_table, metric_table  # noqa: E402
from workbench.training.loop import _wait_while_paused  # noqa: E402
from workbench.training.session import TrainingGate, TrainingSession  # noqa: E402

TINY = "12-6-2"  # two tracked layers: a few ms per epoch
LONG = 100_000   # epochs for runs that the test stops itself
TIMEOUT = 60.0   # seconds; a loaded 2-core CI machine is slow, a hung thread is slower


def wait_for(studio: PlaneStudio, predicate, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        studio.poll()
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (state {studio.state}, "
                f"epoch {studio.epoch}, error {studio.error!r})")


def training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "workbench-training" and t.is_alive()]


def parked_in_pause() -> bool:
    """True when the training thread sits in train()'s pause loop (its current stack holds
    ``workbench.training.loop._wait_while_paused``). It gets there only at a mini-batch boundary,
    after the callbacks of every epoch it had begun, so the counter can no longer move."""
    frames = sys._current_frames()
    for thread in training_threads():
        frame = frames.get(thread.ident)
        while frame is not None:
            if frame.f_code is _wait_while_paused.__code__:
                return True
            frame = frame.f_back
    return False


@pytest.fixture
def make_studio(tmp_path):
    made = []

    def make(**params):
        params = {"arch": TINY, "epochs": 4, "runs_dir": str(tmp_path / "runs"), **params}
        studio = PlaneStudio(**params)
        made.append(studio)
        return studio

    yield make
    for studio in made:
        studio.close()
        assert studio.join(TIMEOUT), "the training thread outlived close()"


@pytest.fixture(autouse=True)
def no_leftover_threads():
    yield
    assert training_threads() == []


def finished(studio) -> bool:
    return studio.state in ("finished", "stopped", "failed")


def test_start_streams_rows_counter_and_saves_the_run(make_studio, tmp_path):
    studio = make_studio(epochs=4)
    assert studio.state == "idle" and studio.epoch is None
    studio.start()
    assert studio.state in ("running", "finished")
    wait_for(studio, lambda: finished(studio), "the run to finish")
    assert studio.state == "finished", studio.error
    assert studio.epoch == 4
    assert '<span class="wb-counter-value">4</span>' in studio._counter.object
    # every plot shows the epoch the counter shows
    assert studio._plots.last == 4
    assert studio._plots.data("info")["epoch"].max() == 4
    assert studio._plots.data("metrics")["epoch"].max() == 4
    # epochs 0..4 of both tracked layers, every epoch recorded
    assert studio.n_points == 5 * 2 == studio._plots.n_points
    frame = studio._frame
    info = frame[frame["quantity"].isin(["I(X;T)", "I(T;Y)", "H(T)"])]
    assert set(info["layer"]) == {"layer1", "layer2"}
    assert sorted(frame["epoch"].unique()) == [0, 1, 2, 3, 4]
    # 4096 distinct inputs: 0 <= I(X;T) <= H(X) = 12 bits; I(T;Y) <= H(Y) <= 1 bit
    assert info["value"].between(0, 12 + 1e-9).all()
    assert frame.loc[frame["quantity"] == "I(T;Y)", "value"].max() <= 1 + 1e-9
    # saved inside runs_dir, listed, with the same rows
    runs = studio.runs()
    assert list(runs["run"]) == [studio.run_id]
    assert studio.run_id in studio._run_list.options.values()
    config, saved = RunStore(tmp_path / "runs").load(studio.run_id)
    assert config["status"] == "finished" and config["arch"] == TINY
    assert len(saved) == len(frame)
    assert studio.run_id in studio.status


def test_pause_halts_the_counter_and_resume_continues(make_studio):
    studio = make_studio(epochs=LONG)
    studio.start()
    wait_for(studio, lambda: (studio.epoch or 0) >= 2, "two epochs")
    studio.pause()
    assert studio.state == "paused"
    at_pause = studio._session.epoch  # the last epoch trained (the plots may lag behind)
    # an epoch already being measured may still come in; nothing after it. Wait until the
    # worker is parked (that epoch, if any, has landed), then watch the counter stay put.
    wait_for(studio, parked_in_pause, "the training thread to park in the pause loop")
    studio.poll()
    studio.flush_plots()  # the counter shows the plots' last epoch: draw what is waiting
    held = studio.epoch
    assert held <= at_pause + 1
    for _ in range(10):  # the worker keeps re-checking the pause (50 ms steps) and stays
        time.sleep(0.05)
        studio.poll()
        assert parked_in_pause() and studio.epoch == held
    assert studio._resume_b.disabled is False and studio._pause_b.disabled is True
    studio.resume()
    assert studio.state == "running"
    wait_for(studio, lambda: studio.epoch > held + 1, "training to continue after Resume")
    studio.stop()


def test_stop_ends_the_run_and_keeps_what_was_saved(make_studio, tmp_path):
    studio = make_studio(epochs=LONG)
    studio.start()
    wait_for(studio, lambda: (studio.epoch or 0) >= 1, "the first epoch")
    studio.stop()
    at_stop = studio._session.epoch  # the last epoch trained (the plots may lag behind)
    assert studio.state in ("stopping", "stopped")
    assert studio._stop_b.disabled is True
    # train() checks the stop event between mini-batches; TIMEOUT only guards a hang
    assert studio.join(TIMEOUT), "training did not stop"
    wait_for(studio, lambda: studio.state == "stopped", "the stopped state")
    assert studio.epoch <= at_stop + 1
    config, saved = RunStore(tmp_path / "runs").load(studio.run_id)
    assert config["status"] == "stopped"
    assert config["epochs_completed"] == studio.epoch < LONG
    assert saved["epoch"].max() == studio.epoch
    assert studio.run_id in studio._run_list.options.values()  # listed after the stop


def test_reset_clears_plots_counter_and_messages(make_studio):
    studio = make_studio(epochs=2)
    studio.start()
    wait_for(studio, lambda: finished(studio), "the run to finish")
    assert studio.n_points > 0
    studio.error = "an old message"
    studio.reset()
    assert studio.state == "idle" and studio.epoch is None and studio.run_id == ""
    assert studio.n_points == 0 and studio._plots.n_points == 0 and studio._frame.empty
    assert studio.error == "" and not studio._error_w.visible
    assert "not started" in studio._counter.object and "–" not in studio._counter.object
    assert len(studio.runs()) == 1  # saved runs stay


def test_reset_while_running_stops_the_thread(make_studio):
    studio = make_studio(epochs=LONG)
    studio.start()
    wait_for(studio, lambda: (studio.epoch or 0) >= 1, "the first epoch")
    studio.reset()
    assert training_threads() == []
    assert studio.state == "idle" and studio.n_points == 0


@pytest.mark.parametrize("arch, message", [("12-x-2", "widths must look like"),
                                           ("10-5-2", "needs 12 inputs and 2 outputs")])
def test_bad_architecture_shows_a_banner_and_does_not_start(make_studio, tmp_path, arch,
                                                            message):
    studio = make_studio()
    studio.arch = arch
    assert message in studio.error
    assert studio._error_w.visible and message in studio._error_w.object
    studio.start()
    assert studio.state == "idle" and training_threads() == []
    assert not (tmp_path / "runs").exists()  # nothing written
    studio.arch = TINY
    assert studio.error == "" and not studio._error_w.visible


def test_dataset_change_sets_its_default_architecture(make_studio):
    studio = make_studio()
    studio.dataset = "digits"
    assert studio.arch == "64-10-7-5-4-3-10" and studio.error == ""
    studio.dataset = "tishby12"
    assert studio.arch == "12-10-7-5-4-3-2"


def test_knobs_and_bin_rule_reach_the_experiment(make_studio):
    studio = make_studio(activation="tanh", estimators=["binning", "adaptive_binning"])
    studio.estimator("binning").n_bins = 10
    studio.estimator("adaptive_binning").n_bins = 7
    knobs = studio.experiment_kwargs()["estimator_knobs"]
    assert knobs["binning"]["n_bins"] == 10
    assert (knobs["binning"]["range_min"], knobs["binning"]["range_max"]) == (-1.0, 1.0)
    assert knobs["adaptive_binning"]["n_bins"] == 7
    studio.activation = "relu"  # unbounded: "auto" bins over the observed range
    knobs = studio.experiment_kwargs()["estimator_knobs"]["binning"]
    assert "range_min" not in knobs and "bin_width" not in knobs and knobs["n_bins"] == 10
    studio.bin_rule = "fixed"
    studio.start()
    assert "bounded activation" in studio.error and studio.state == "idle"


def test_two_estimators_and_switching_the_shown_one(make_studio):
    studio = make_studio(epochs=2, estimators=["binning", "adaptive_binning"])
    assert not studio._shown_w.visible  # no measurements yet: no empty choice on the page
    studio.start()
    wait_for(studio, lambda: finished(studio), "the run to finish")
    assert studio._shown_w.visible
    labels = [e for e in studio.param.shown_estimator.objects if e]
    assert len(labels) == 2 and labels[1] == "adaptive_binning"
    assert studio._plots.estimator == labels[0]
    studio.shown_estimator = labels[1]
    assert studio._plots.estimator == labels[1] and studio.n_points == 3 * 2


def test_saved_runs_load_and_overlay(make_studio):
    studio = make_studio(epochs=2)
    ids = []
    for activation in ("tanh", "relu"):
        studio.activation = activation
        studio.start()
        wait_for(studio, lambda: finished(studio), f"the {activation} run")
        ids.append(studio.run_id)
    assert set(studio._run_list.options.values()) == set(ids)
    studio.reset()
    studio.load_run(ids[0])
    assert studio.state == "viewing" and studio.error == ""
    assert studio.epoch == 2 and studio.n_points == 3 * 2
    studio.overlay_runs(ids[:1])
    assert "two or more" in studio.error
    studio.overlay_runs(ids)
    assert studio.error == ""
    (pane,) = studio._overlay_slot.objects
    curves = pane.object.values()
    assert len(curves) == 2 * 2  # two runs × two layers
    assert any("relu" in c.label for c in curves) and any("tanh" in c.label for c in curves)
    studio.load_run("no-such-run")
    assert "no run 'no-such-run'" in studio.error


def test_a_failure_on_the_training_thread_becomes_a_banner(make_studio):
    studio = make_studio()

    def broken(**kwargs):
        raise RuntimeError("boom")
    studio._session._target = broken
    studio.start()
    wait_for(studio, lambda: finished(studio), "the failure")
    assert studio.state == "failed"
    assert studio.error == "Unexpected error (RuntimeError): boom"
    assert studio._error_w.visible


def test_tables_are_wide_and_in_bits():
    frame = pd.DataFrame({
        "run": "r", "epoch": [0, 0, 0, 0, 1],
        "layer": ["layer1", "layer1", "layer1", "model", "layer1"],
        "layer_index": [1, 1, 1, 0, 1],
        "quantity": ["I(X;T)", "I(T;Y)", "H(T)", "loss", "I(X;T)"],
        "estimator": ["kde", "kde", "kde", "", "kde"],
        "value": [np.log(2), 0.5, 2.0, 0.7, np.log(4)],
        "units": ["nats", "nats", "nats", "nats", "nats"], "seconds": 0.0})
    info = info_table(frame, "kde")
    assert info["ixt"].tolist() == pytest.approx([1.0, 2.0])  # ln 2 nats = 1 bit
    assert np.isnan(info["ity"].iloc[1])
    metrics = metric_table(frame)
    assert metrics["loss"].tolist() == [0.7] and np.isnan(metrics["accuracy"].iloc[0])


def test_session_rejects_a_second_start_and_resets_cleanly():
    release = threading.Event()

    def slow(stop_event, pause_event, tracker_callbacks, callbacks, **kwargs):
        tracker_callbacks[0](pd.DataFrame({"epoch": [0]}))
        while not (stop_event.is_set() or release.is_set()):
            time.sleep(0.01)
        raise InputError("stopped by the test")

    session = TrainingSession(target=slow)
    session.start(run="x")
    with pytest.raises(Exception, match="still going"):
        session.start()
    assert session.run_id == "x" and session.state == "running"
    assert session.reset(timeout=TIMEOUT)
    assert session.state == "idle" and session.drain().empty and session.run_id is None
    session.start()
    release.set()
    assert session.join(TIMEOUT)
    assert session.state == "failed" and isinstance(session.error, InputError)


def test_a_run_beyond_the_gate_limit_waits_with_its_place_in_line(make_studio):
    gate = TrainingGate(limit=1)
    first, second = make_studio(gate=gate, epochs=100_000), make_studio(gate=gate)
    first.start()
    second.start()
    second.poll()
    assert second.state == "queued"
    assert second.status.startswith("Waiting: 1st in line (1 training runs at a time")
    assert not second._stop_b.disabled and second._pause_b.disabled
    first.stop()
    wait_for(first, lambda: finished(first), "the first run to stop")
    wait_for(second, lambda: finished(second), "the queued run to train and finish")
    assert second.state == "finished" and second.epoch == 4
    # Stop while in line: the run leaves the line without training
    first.start()
    second.start()
    second.stop()
    wait_for(second, lambda: finished(second), "the queued run to leave the line")
    assert second.state == "stopped" and second.epoch is None and gate.waiting == 0
    first.stop()


def test_page_saves_runs_in_the_configured_folder(tmp_path):
    from widgets.app import AppConfig

    template = page(AppConfig(runs_dir=str(tmp_path / "elsewhere")))
    assert isinstance(template, pn.template.BootstrapTemplate)
    (controls,) = template.sidebar.objects
    assert "wb-controls" in controls.css_classes
    notes = [p.object for p in template.main[0].select(pn.pane.HTML)
             if "saved run(s)" in str(p.object)]
    assert len(notes) == 1 and str(tmp_path / "elsewhere") in notes[0]


def test_kde_bound_and_log_spaced_epochs(make_studio):
    studio = make_studio(epochs=3, estimators=["kde"], every="log")
    studio.estimator("kde").max_samples = 64  # O(n²): a small subset keeps this quick
    studio.start()
    wait_for(studio, lambda: finished(studio), "the run to finish")
    assert studio.state == "finished", studio.error
    assert studio.shown_estimator == "kde(max_samples=64)"
    info = info_table(studio._frame, studio.shown_estimator)
    assert sorted(info["epoch"].unique()) == [0, 1, 2, 3]
    # the noisy-layer bound on 64 distinct rows: 0 <= I(X;T) <= log2 64 = 6 bits
    assert info["ixt"].between(0, 6 + 1e-9).all()
    assert studio.n_points == 4 * 2


def test_runs_go_to_the_default_folder_and_are_listed(monkeypatch, tmp_path):
    """No runs_dir: runs are saved in workbench.runs.default_root() (here $WORKBENCH_RUNS) and
    a new page lists them."""
    from widgets.app import AppConfig

    monkeypatch.setenv("WORKBENCH_RUNS", str(tmp_path / "default"))
    studio = PlaneStudio(arch=TINY, epochs=1)
    try:
        assert studio.runs_dir == str(tmp_path / "default")
        studio.start()
        wait_for(studio, lambda: finished(studio), "the run to finish")
        assert studio.state == "finished", studio.error
    finally:
        studio.close()
        assert studio.join(TIMEOUT)
    template = page(AppConfig())
    listed = [w for w in template.main[0].select(pn.widgets.MultiSelect)
              if "wb-run-list" in w.css_classes]
    assert len(listed) == 1 and list(listed[0].options.values()) == [studio.run_id]


def test_the_cnn_is_a_network_choice_for_mnist1d(make_studio, tmp_path):
    """The 1-D CNN of MNIST-1D: offered only for MNIST-1D (the choice is disabled otherwise,
    and 'cnn' typed for another dataset is refused in the banner); choosing it sets arch
    'cnn' and the compressed KSG, and a run tracks conv1-conv3 and out."""
    studio = make_studio(arch="12-10-7-5-4-3-2", epochs=1)
    assert studio._network_w.disabled and studio.network == "mlp"
    studio.arch = "cnn"  # typed for the 12-bit task: refused in the banner, and the arch box
    # stays editable (no dead end: the network choice is locked off MNIST-1D)
    assert studio.network == "mlp" and "needs MNIST-1D" in studio.error
    assert not studio._arch_w.disabled and studio._network_w.disabled
    studio.arch = "12-10-7-5-4-3-2"
    assert studio.error == ""
    studio.dataset = "mnist1d"
    assert studio.error == "" and not studio._network_w.disabled
    studio.arch = "cnn"  # typed on MNIST-1D: the same as choosing the CNN
    assert studio.network == "cnn"
    assert (studio.arch, studio.estimators) == ("cnn", ["compressed_ksg"])
    assert studio._arch_w.disabled  # the CNN has no widths to type
    studio.start()
    wait_for(studio, lambda: finished(studio), "the CNN run to end", timeout=300)
    assert (studio.state, studio.error) == ("finished", "")
    config, frame = RunStore(tmp_path / "runs").load(studio.run_id)
    assert (config["arch"], config["data"]) == ("cnn", "mnist1d")
    assert list(frame.query("layer != 'model'")["layer"].unique()) == list(
        ("conv1", "conv2", "conv3", "out"))
    assert studio.n_points == 4 * 2  # four layers at epochs 0 and 1
    # back to the MLP: widths and binning again; another dataset drops the CNN
    studio.network = "mlp"
    assert (studio.arch, studio.estimators) == ("40-10-7-5-4-3-10", ["binning"])
    studio.network = "cnn"
    studio.dataset = "digits"
    assert (studio.network, studio.arch, studio.error) == ("mlp", "64-10-7-5-4-3-10", "")
    # an IB objective needs the MLP's bottleneck
    studio.dataset = "mnist1d"
    studio.network = "cnn"
    studio.objective = "vib"
    studio.start()
    assert "choose the MLP network" in studio.error and studio.state != "running"
