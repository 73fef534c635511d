"""The Entropy Monitor driven from Python (no browser): a tiny run starts, the counter advances,
Pause holds it, Stop ends the thread, Reset clears; the Attention tab fills its heatmap; bad
settings end in the error banner."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("panel")

from widgets.entropy_monitor import EntropyMonitor  # noqa: E402
from workbench.attention.entropy import flag  # noqa: E402
from workbench.plots.live import panels_for  # noqa: E402
from workbench.plots.plane import layer_curves  # noqa: E402
from workbench.tracking.representation import measure_labels  # noqa: E402
from workbench.tracking.tables import layer_series  # noqa: E402

#: Upper bound on waits: generous for a loaded 2-core CI machine, never reached when it works.
PATIENCE = 60.0


def poll_until(monitor: EntropyMonitor, condition, patience: float = PATIENCE) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        monitor.poll()
        if condition():
            return True
        time.sleep(0.05)
    monitor.poll()
    return condition()


@pytest.fixture
def monitor():
    m = EntropyMonitor(epochs=400, arch="64-16-10", measures=["vne", "effective_rank", "dse"],
                       poll_ms=100)
    # a small kernel subsample keeps each epoch's measurement short
    m.estimator("dse").max_samples = 60
    yield m
    m.close()


def test_counter_advances_pause_holds_stop_ends_reset_clears(monitor):
    monitor.start()
    assert monitor.state == "running"
    assert poll_until(monitor, lambda: (monitor.counter or 0) >= 2)
    frame = monitor.frame
    assert {"H(T)", "I(T;Y)", "effective_rank", "accuracy"} <= set(frame["quantity"])
    assert set(frame["estimator"]) >= {"vne", "dse(max_samples=60)"}
    assert np.isfinite(frame["value"]).all()
    # the plots receive the same rows through their Buffers, all plots at once
    monitor.flush_plots()
    frame = monitor.frame
    plots = monitor._layer_plots
    epochs = sorted(frame["epoch"].unique())
    streams = [f"panel{i}" for i in range(len(plots.panels))] + ["metrics"]
    for name in streams:
        assert sorted(plots.data(name)["epoch"].unique()) == epochs
    vne = frame[(frame["estimator"] == "vne") & (frame["quantity"] == "H(T)")]
    shown = plots.data(f"panel{[p['estimator'] for p in plots.panels].index('vne')}")
    np.testing.assert_allclose(shown.sort_values(["layer", "epoch"])["value"].to_numpy(),
                               vne.sort_values(["layer", "epoch"])["value"].to_numpy())
    # the counter shows the last epoch every plot shows
    assert plots.last == epochs[-1] == monitor.counter
    assert f'<span class="wb-counter-value">{monitor.counter}</span>' in monitor._counter_w.object

    monitor.pause()
    assert poll_until(monitor, lambda: monitor.state == "paused")
    monitor.poll()
    monitor.flush_plots()  # the counter follows the plots: draw what is waiting
    held = monitor.counter
    time.sleep(0.5)
    monitor.poll()
    # an epoch whose last mini-batch was already running when Pause came may still finish
    assert monitor.counter <= held + 1
    monitor.resume()
    assert poll_until(monitor, lambda: monitor.counter > held + 1)

    monitor.stop()
    # the thread ends after a mini-batch plus one measurement; PATIENCE only guards a hang
    assert monitor.join(PATIENCE)
    assert poll_until(monitor, lambda: monitor.state == "stopped")
    assert monitor.counter < 400 and "Stopped at epoch" in monitor.status

    monitor.reset()
    assert monitor.state == "idle" and monitor.counter is None
    assert monitor.frame.empty and monitor._layer_plots is None
    assert "not started" in monitor._counter_w.object and "–" not in monitor._counter_w.object


def test_attention_run_fills_the_heatmap_and_flags(monitor):
    cfg = monitor.transformer
    cfg.param.update(n_layers=2, n_heads=2, d_model=16, context=16, steps=12, eval_every=4)
    monitor.mode = "attention"
    monitor.start()
    assert poll_until(monitor, lambda: monitor.state == "finished")
    assert monitor.counter == 12 and monitor.error == ""
    frame = monitor.frame
    assert sorted(frame["step"].unique()) == [0, 4, 8, 12]
    heat = monitor._attention_plots.heatmap[()]
    values = heat.dimension_values("entropy")
    assert len(values) == 4 and np.isfinite(values).all()
    # colour bar names the unit; the title names the step shown, the counter's step
    assert heat.vdims[0].label == "attention entropy (bits)"
    assert heat.opts.get().kwargs["title"] == "Attention entropy per head at step 12"
    assert monitor._attention_plots.last == 12
    assert monitor._attention_plots.data("steps")["step"].max() == 12
    assert "Flagged heads at step 12: " in monitor._flags_w.object
    # the list names exactly the heads workbench.attention.entropy.flag flags
    last = frame[frame["step"] == 12]
    flags = flag(last, max_entropy=monitor._attention_plots.max_bits, value="entropy")
    flagged = flags["collapse"] | flags["overload"].fillna(False)
    assert monitor._flags_w.object.count("<li>") == int(flagged.sum())
    # after 12 steps attention is still nearly uniform: overloaded heads get listed
    assert flagged.any() and "overload (" in monitor._flags_w.object


def test_bad_settings_show_the_error_banner(monitor):
    monitor.arch = "64-10"
    monitor.start()
    assert monitor.state == "idle" and "hidden layer" in monitor.error
    assert monitor._error_w.visible
    monitor.arch = "64-16-3"  # digits have 10 classes: fails on the thread
    monitor.start()
    assert poll_until(monitor, lambda: monitor.state == "failed")
    assert "10 outputs" in monitor.error
    monitor.transformer.param.update(d_model=18, n_heads=4)
    monitor.start("attention")
    assert "divisible" in monitor.error


def test_plot_helpers_label_units():
    labels = measure_labels(["binned", "effective_rank", "dse"], activation="tanh")
    panels = panels_for(["binned", "effective_rank", "dse"], labels, "nats")
    assert [p["ylabel"] for p in panels] == ["binned H(T) [nats]", "effective rank (unitless)",
                                             "DSE(T) [nats]", "DSMI I(T;Y) [nats]"]
    import pandas as pd

    rows = pd.DataFrame({"epoch": [0, 1], "layer": "layer1", "estimator": labels["dse"],
                         "quantity": "H(T)", "value": [1.0, 2.0]})
    table = layer_series(rows.assign(layer_index=1), labels["dse"], "H(T)")
    assert table.columns.tolist() == ["layer", "layer_index", "epoch", "value"]
    overlay = layer_curves(table, ["layer1", "layer2"], "value", "DSE [bits]", 5, title="DSE")
    first, second = overlay.values()
    assert first.dimension_values("value").tolist() == [1.0, 2.0] and len(second) == 0
    assert first.vdims[0].label == second.vdims[0].label == "DSE [bits]"
    assert [c.label for c in overlay.values()] == ["layer1", "layer2"]


def test_an_idle_tab_says_not_started(monitor):
    for mode in ("layers", "attention"):
        monitor.mode = mode
        monitor._sync()
        shown = monitor._counter_w.object
        assert "not started" in shown and "–" not in shown and " / " not in shown
