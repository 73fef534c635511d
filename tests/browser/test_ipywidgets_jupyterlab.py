"""The ipywidget forms in a real JupyterLab, offline: every app as ``app.ipywidget()`` (Panel's
bridge, a jupyter_bokeh widget: what VS Code, Colab and the classic notebook can show) and the
ipywidgets-only ``workbench.explore`` helper render through the Jupyter widget manager and
answer a slider: the value shown changes.

The JupyterLab fixtures (conftest.py) and helpers (browser_helpers.py) are those of
``test_jupyterlab`` (offline Chromium, an isolated Lab on a free port with a token, kernel
started through the REST API)."""
from __future__ import annotations

import re

import pytest
from browser_helpers import notebook_writer, open_and_run, our_console_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect
pytest.importorskip("ipywidgets")
pytest.importorskip("jupyter_bokeh")

CELLS = [
    # inline: Panel's JavaScript comes with the output (no network)
    # Beyond Pairs shows a Tabulator table: its JavaScript too must come inline
    "import panel as pn\npn.extension('tabulator', inline=True)",
    "from widgets.estimator_lab import EstimatorLab\n"
    "lab = EstimatorLab(n=300, n_resamples=0, sweeps=False)\nlab.ipywidget()",
    "from widgets.beyond_pairs import BeyondPairs\nBeyondPairs(n=400).ipywidget()",
    "from widgets.plane_studio import PlaneStudio\n"
    "PlaneStudio(arch='12-6-2', epochs=50, runs_dir='runs').ipywidget()",
    "from widgets.entropy_monitor import EntropyMonitor\nEntropyMonitor(epochs=5).ipywidget()",
    "import numpy as np\nimport workbench as wb\nrng = np.random.default_rng(0)\n"
    "x = rng.normal(size=(400, 1))\n"
    "ex = wb.explore(x, x + rng.normal(size=(400, 1)), method='ksg', k=3)\nex",
]


write_notebook = notebook_writer(CELLS, "ipywidgets.ipynb")


def number(text: str) -> float:
    return float(re.search(r"-?\d+(\.\d+)?", text).group())


def test_ipywidget_forms_render_and_react_in_jupyterlab(jupyter_lab, page, offline,
                                                         artifacts_dir):
    open_and_run(page, jupyter_lab(write_notebook), timeout=180)  # torch imports on a busy box
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    try:
        errors = page.locator(".jp-OutputArea-output"
                              "[data-mime-type='application/vnd.jupyter.error']")
        assert errors.count() == 0, errors.all_inner_texts()
        # every app draws its controls
        # a widget view, not the text fallback that a missing widget manager leaves
        plain = page.locator(".jp-OutputArea-output[data-mime-type='text/plain']")
        expect(plain).to_have_count(0)
        lab = cells.nth(1)
        expect(lab.locator(".wb-method select")).to_be_visible(timeout=60_000)
        for i, marker in ((2, ".wb-bp-compute button"), (3, ".wb-start button"),
                          (4, ".wb-start button")):
            button = cells.nth(i).locator(marker)
            expect(button).to_be_attached(timeout=30_000)
            button.scroll_into_view_if_needed()
            expect(button).to_be_visible()

        # the Lab computes through the widget comm, and a knob change recomputes
        value = lab.locator(".wb-estimate-value")
        expect(value).to_be_visible(timeout=60_000)
        first = value.inner_text()
        knob = lab.locator(".wb-knob-k input").first
        knob.scroll_into_view_if_needed()
        knob.fill("12")
        # blur commits the box (a change event): JupyterLab's notebook shortcuts take Enter
        # pressed inside Bokeh's shadow DOM for their own
        knob.evaluate("el => el.blur()")
        expect(value).not_to_have_text(first, timeout=60_000)
        assert number(value.inner_text()) > 0

        # the Plane Studio trains in the kernel and its counter moves (its periodic callback
        # polls the training thread and streams through the widget comm)
        studio = cells.nth(3)
        studio.locator(".wb-start button").click()
        counter = studio.locator(".wb-counter-value")
        expect(counter).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=60_000)
        # 50 epochs of a 12-6-2 network: the run ends by itself
        expect(studio.locator(".wb-status-text")).to_contain_text("Finished 50 epochs",
                                                                  timeout=120_000)
        expect(counter).to_have_text("50")

        # explore: an ipywidgets slider moved by the keyboard re-estimates in the kernel
        explore = cells.nth(5)
        explore.scroll_into_view_if_needed()
        shown = explore.locator(".wb-explore-value")
        expect(shown).to_be_visible(timeout=30_000)
        expect(explore.locator("span.wb-explore-units")).to_have_text("bits")
        before = shown.inner_text()
        handle = explore.locator(".wb-explore-knob-k .noUi-handle")
        handle.focus()
        for _ in range(5):
            handle.press("ArrowRight")
        expect(explore.locator(".wb-explore-knob-k .widget-readout")).to_have_text("8")
        expect(shown).not_to_have_text(before, timeout=30_000)
        assert number(shown.inner_text()) > 0
    finally:
        page.screenshot(path=artifacts_dir / "jupyterlab_ipywidgets.png", full_page=True)
    assert [url for kind, url in offline if kind == "script"] == []
    # jupyter_bokeh applies a document's changes one event at a time: the plane's glyphs must
    # never change their options while rows stream (once, 1 run in 4: "invalid color array";
    # tests/plots/test_live.py checks the cause without a browser)
    assert our_console_errors(page) == []
