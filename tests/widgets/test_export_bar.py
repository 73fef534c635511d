"""The export bar of the live pages and the ipywidget form of every app (one mixin)."""
from __future__ import annotations

import io
import re
import tempfile

import pandas as pd
import pytest

pn = pytest.importorskip("panel")

import widgets  # noqa: E402
from widgets.app import PAGES  # noqa: E402
from widgets.components import ExportBar, IpywidgetMixin  # noqa: E402
from widgets.estimator_lab import EstimatorLab  # noqa: E402
from widgets.plane_studio import PlaneStudio  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_every_app_has_an_ipywidget_form():
    pytest.importorskip("jupyter_bokeh")
    from jupyter_bokeh.widgets import BokehModel

    # one app class per served page, each with the one mixin's ipywidget()
    assert len(widgets._APPS) == len(PAGES)
    for name in widgets._APPS:
        assert issubclass(getattr(widgets, name), IpywidgetMixin), name
    widget = widgets.EstimatorLab(n=200, n_resamples=0, sweeps=False).ipywidget()
    assert isinstance(widget, BokehModel)


def test_lab_exports_its_plots_and_their_rows():
    lab = EstimatorLab(n=200, n_resamples=0, sweeps=True, n_seeds=1, debounce_ms=0)
    lab.refresh()
    rows = lab.curves()
    assert set(rows["plot"]) == {"n", "knob"} and (rows["units"] == "bits").all()
    assert lab._export.export("png").getvalue().startswith(PNG_MAGIC)
    back = pd.read_csv(io.BytesIO(lab._export.export("csv").getvalue()))
    assert len(back) == len(rows)


def test_plane_studio_exports_the_run():
    studio = PlaneStudio(arch="12-4-2", epochs=3, runs_dir=tempfile.mkdtemp())
    with pytest.raises(WorkbenchError, match="Nothing to export yet"):
        studio._export.export("png")
    studio.start()
    assert studio.join(120)
    studio.poll()
    studio.flush_plots()
    parquet = pd.read_parquet(studio._export.export("parquet"))
    assert len(parquet) == len(studio._frame) and set(parquet["epoch"]) == {0, 1, 2, 3}
    html = studio._export.export("html").getvalue().decode()
    assert "<script" in html and not re.search(r"<script[^>]+src=", html)


def test_a_failed_export_is_a_note_not_a_download():
    bar = ExportBar("empty", figure=lambda: None, data=lambda: pd.DataFrame())
    download = [w for w in bar._layout.objects if isinstance(w, pn.widgets.FileDownload)][0]
    download._clicks += 1  # what a click does
    assert "Nothing to export yet" in bar._note.object
    assert download.data is None


def test_entropy_monitor_exports_the_tab_that_ran():
    monitor = widgets.EntropyMonitor(epochs=2, measures=["vne"])
    monitor.start()
    assert monitor.join(180)
    monitor.poll()
    monitor.flush_plots()
    assert monitor._export.export("png").getvalue().startswith(PNG_MAGIC)
    rows = pd.read_csv(monitor._export.export("csv"))
    assert set(rows["epoch"]) == {0, 1, 2} and len(rows) == len(monitor.frame)
