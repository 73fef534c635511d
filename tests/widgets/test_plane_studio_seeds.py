"""The Plane Studio's seeds overlay driven in code: several seeds of the studio's network, the
mean trajectory with its band, the compression table over seeds, every run saved."""
from __future__ import annotations

import time

import holoviews as hv
import pandas as pd
import pytest

pn = pytest.importorskip("panel")

from widgets.plane_studio import PlaneStudio  # noqa: E402
from workbench.runs import RunStore  # noqa: E402
from workbench.tracking.seed_tables import seed_band  # noqa: E402
from workbench.training.seeds import run_seeds  # noqa: E402

TIMEOUT = 120.0  # seconds; bounds a hang on a loaded 2-core machine, not the speed


def finish(overlay) -> None:
    deadline = time.monotonic() + TIMEOUT
    while overlay.state == "running" and time.monotonic() < deadline:
        overlay.join(0.2)
        overlay.poll()
    assert overlay.state != "running", "the seeds grid did not end"


def test_seeds_overlay_shows_the_band_of_the_studio_settings(tmp_path):
    studio = PlaneStudio(epochs=3, arch="12-6-2", runs_dir=str(tmp_path))
    overlay = studio.seed_overlay
    overlay.seeds = "0-2"
    overlay.start()
    assert overlay.state == "running" and overlay.total == 3
    finish(overlay)
    assert (overlay.state, overlay.done, overlay.error) == ("finished", 3, "")
    # every seed a saved run, and the studio's run list knows them (on_done refreshed it)
    assert len(RunStore(tmp_path).ids()) == 3
    assert len(studio._run_list.options) == 3
    # the band is the core's band of the same grid: the overlay only wires it
    expected = run_seeds("0-2", "tanh", "12-6-2", data="tishby12", epochs=3,
                         lr=studio.lr, batch_size=studio.batch_size)
    pd.testing.assert_frame_equal(seed_band(overlay.frame), seed_band(expected))
    plot = overlay._slot.objects[0].object
    assert any(isinstance(e, hv.Polygons) for e in plot)  # the band
    assert "3 seeds" in plot.opts.get().kwargs["title"]
    table = overlay._table_w.object
    assert "/3" in table and "layer2" in table and "±" in table
    studio.close()


def test_bad_seeds_end_in_a_banner(tmp_path):
    studio = PlaneStudio(epochs=3, arch="12-6-2", runs_dir=str(tmp_path))
    overlay = studio.seed_overlay
    overlay.seeds = "5-1"
    overlay.start()
    assert overlay.state == "idle" and "backwards" in overlay.error
    assert not overlay.alive
    studio.arch = "12-x-2"
    overlay.seeds = "0"
    overlay.start()
    assert overlay.state == "idle" and "widths" in overlay.error
    studio.close()


def test_stop_keeps_the_finished_runs(tmp_path):
    studio = PlaneStudio(epochs=3, arch="12-6-2", runs_dir=str(tmp_path))
    overlay = studio.seed_overlay
    overlay.seeds = "0-19"
    overlay.start()
    overlay.stop()  # before or during the first run: the grid ends after it
    finish(overlay)
    assert overlay.state == "stopped" and overlay.done < 20
    assert len(RunStore(tmp_path).ids()) == overlay.done
    studio.close()


def test_seeds_overlay_trains_the_chosen_ib_objective(tmp_path):
    """An IB objective and β picked in the studio carry into every seed's run: the overlay's
    band is the bottleneck's, titled by the objective, and the saved runs say so."""
    studio = PlaneStudio(epochs=2, runs_dir=str(tmp_path))
    studio.param.update(objective="csib", beta=0.02)
    assert studio.arch == "12-64-8-2"  # the IB default: an 8-wide bottleneck
    overlay = studio.seed_overlay
    overlay.seeds = "0-1"
    overlay.start()
    finish(overlay)
    assert (overlay.state, overlay.done, overlay.error) == ("finished", 2, "")
    assert set(overlay.frame["group"]) == {"csib β=0.02"}
    plot = overlay._slot.objects[0].object
    assert plot.opts.get().kwargs["title"].startswith("csib β=0.02: mean of 2 seeds")
    assert "bottleneck" in overlay._table_w.object and "layer1" not in overlay._table_w.object
    store = RunStore(tmp_path)
    configs = [store.load(run)[0] for run in store.ids()]
    assert [(c["objective"], c["beta"]) for c in configs] == [("csib", 0.02)] * 2
    studio.close()
