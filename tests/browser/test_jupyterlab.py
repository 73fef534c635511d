"""Notebooks inside a real JupyterLab, offline: a headless ``jupyter lab`` serves a notebook,
Chromium (every request to anything but this machine aborted, as in a classroom without
internet) runs all its cells, and what they show must draw.

The JupyterLab fixtures (``jupyter_lab``, ``offline``) are in conftest.py, the helpers in
browser_helpers.py.

* A shipped notebook (notebooks/04: HoloViews plots and the Plane Studio): its plots draw (Bokeh
  canvases of nonzero size) with BokehJS and Panel's JavaScript coming from the notebook
  itself, never from a CDN.
* A generated notebook holding the apps: the Estimator Lab (its widgets and a computed estimate)
  and the Plane Studio (its plots, and a run started from the page whose epoch counter moves:
  the studio's periodic callback runs in the kernel) work in the output area through Panel's
  JupyterLab extension (@pyviz/jupyterlab_pyviz)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import notebook_writer, open_and_run, our_console_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

#: Cells of the generated notebook: what a user types to get the Lab in a cell.
CELLS = [
    # inline: the Bokeh and Panel JavaScript come with the output, not from a CDN (no network)
    "import panel as pn\npn.extension(inline=True)",
    "from widgets.estimator_lab import EstimatorLab\n"
    "lab = EstimatorLab(n=300, n_resamples=0, sweeps=False)\nlab",
    # a small network so that a run moves quickly; runs are saved in the notebook's folder
    "from widgets.plane_studio import PlaneStudio\n"
    "studio = PlaneStudio(arch='12-6-2', epochs=500, runs_dir='runs')\nstudio",
]
#: The shipped notebook run offline: HoloViews plots and the Plane Studio, about a minute.
SHIPPED = "04_live_information_plane.ipynb"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


write_notebook = notebook_writer(CELLS, "apps.ipynb")


def copy_shipped(folder) -> str:
    """The shipped notebook as it is in the repository (copied, so its run writes nothing
    there)."""
    shutil.copy(NOTEBOOKS / SHIPPED, folder / SHIPPED)
    return SHIPPED


def plot_sizes(cell) -> list[tuple[float, float]]:
    """Width and height of every canvas in ``cell``'s output (Bokeh draws into canvases inside
    its shadow roots, which Playwright's locators pierce)."""
    cell.scroll_into_view_if_needed()
    canvases = cell.locator(".jp-OutputArea-output canvas")
    expect(canvases.first).to_be_visible(timeout=60_000)  # visible: a nonzero box
    return [(box["width"], box["height"]) for box in
            (c.bounding_box() for c in canvases.all()) if box is not None]


def test_a_shipped_notebook_draws_its_plots_offline(jupyter_lab, page, offline, artifacts_dir):
    # training two networks in the kernel takes about a minute on a loaded machine
    open_and_run(page, jupyter_lab(copy_shipped), timeout=300)
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    try:
        errors = page.locator(".jp-OutputArea-output"
                              "[data-mime-type='application/vnd.jupyter.error']")
        assert errors.count() == 0, errors.all_inner_texts()
        # the studio (its live plots) and the two runs' planes in one HoloViews plot
        for marker in ("studio = PlaneStudio(", "plots.overlay_planes(frame)"):
            sizes = plot_sizes(cells.filter(has_text=marker))
            assert any(w > 100 and h > 100 for w, h in sizes), (marker, sizes)
    finally:
        page.screenshot(path=artifacts_dir / "jupyterlab_shipped_offline.png", full_page=True)
    # BokehJS and Panel's JavaScript came with the notebook: no script was asked for elsewhere
    assert [url for kind, url in offline if kind == "script"] == []
    assert our_console_errors(page) == []


def test_apps_render_and_run_in_jupyterlab(jupyter_lab, page, offline, artifacts_dir):
    open_and_run(page, jupyter_lab(write_notebook), timeout=120)  # imports torch on a busy box
    output = page.locator(".jp-OutputArea-output")
    try:
        # the widgets render, then the first estimate arrives over the comm
        expect(output.locator(".wb-method select")).to_be_visible(timeout=40_000)
        expect(output.locator(".wb-estimate-value")).to_be_visible(timeout=30_000)
        # the studio renders its plots; Start trains and the counter moves
        studio = output.locator(".wb-output").filter(has=page.locator(".wb-start"))
        studio.locator(".wb-start").scroll_into_view_if_needed()
        expect(studio.locator(".wb-plot-plane canvas").first).to_be_visible(timeout=30_000)
        studio.locator(".wb-start button").click()
        counter = studio.locator(".wb-counter-value")
        expect(counter).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=40_000)
        first = int(counter.inner_text())
        expect(counter).not_to_have_text(str(first), timeout=20_000)
        studio.locator(".wb-stop button").click()
        expect(studio.locator(".wb-status-text")).to_contain_text("Stopped", timeout=20_000)
    finally:
        page.screenshot(path=artifacts_dir / "jupyterlab_apps.png", full_page=True)
    assert float(output.locator(".wb-estimate-value").inner_text()) > 0
    assert [url for kind, url in offline if kind == "script"] == []
    # what matters here is that neither Bokeh nor Panel reported a problem and no script
    # crashed
    assert our_console_errors(page) == []
