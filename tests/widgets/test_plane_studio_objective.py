"""The Plane Studio's objective choice (in code, no browser): an IB objective trains the
Gaussian-bottleneck network and the plane shows the bottleneck, measured from its noise."""
from __future__ import annotations

import time

import pytest

pn = pytest.importorskip("panel")

from widgets.plane_studio import OBJECTIVE_CHOICES, PlaneStudio  # noqa: E402
from workbench.runs import RunStore  # noqa: E402

TIMEOUT = 120.0  # seconds; generous for a loaded CI machine, a hung thread is slower


def test_vib_objective_trains_the_bottleneck_and_the_plane_shows_it(tmp_path):
    studio = PlaneStudio(dataset="gaussian_mixture", epochs=3, runs_dir=str(tmp_path))
    assert set(OBJECTIVE_CHOICES.values()) >= {"cross_entropy", "vib", "nonlinear_ib", "csib"}
    assert studio._beta_w.disabled  # β means nothing to cross-entropy
    studio.objective = "vib"
    assert studio.arch == "2-64-8-3"  # the IB default: a 64-wide encoder, an 8-wide T
    studio.param.update(beta=0.01, arch="2-16-3-3")
    assert not studio._beta_w.disabled
    assert studio.ib_kwargs()["hidden"] == "16" and studio.ib_kwargs()["k"] == 3
    studio.start()
    deadline = time.monotonic() + TIMEOUT
    while studio.state not in ("finished", "failed") and time.monotonic() < deadline:
        studio.poll()
        time.sleep(0.05)
    studio.poll()
    assert studio.state == "finished", studio.error
    assert studio.shown_estimator == "channel"
    assert studio._plots.layers == ["bottleneck"]
    assert studio.n_points == 4  # epochs 0..3 of the one bottleneck layer
    config, frame = RunStore(str(tmp_path)).load(studio.run_id)
    assert (config["objective"], config["beta"], config["k"]) == ("vib", 0.01, 3)
    assert set(frame.query("layer == 'bottleneck'")["quantity"]) == {"I(X;T)", "I(T;Y)", "H(T)"}


def test_mnist1d_is_offered_and_an_ib_objective_needs_a_hidden_width(tmp_path):
    studio = PlaneStudio(runs_dir=str(tmp_path))
    assert "mnist1d" in studio.param.dataset.objects.values()
    studio.param.update(dataset="gaussian_mixture")
    studio.param.update(objective="csib", arch="2-3")
    studio.start()
    assert "hidden width" in studio.error and studio.state == "idle"
