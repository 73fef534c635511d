"""Notebooks inside a real JupyterLab, offline: a headless ``jupyter lab`` serves a notebook,
Chromium (every request to anything but this machine aborted, as in a classroom without
internet) runs all its cells, and what they show must draw.

* A shipped notebook (notebooks/04: HoloViews plots and the Plane Studio): its plots draw (Bokeh
  canvases of nonzero size) with BokehJS and Panel's JavaScript coming from the notebook
  itself, never from a CDN.
* A generated notebook holding the apps: the Estimator Lab (its widgets and a computed estimate)
  and the Plane Studio (its plots, and a run started from the page whose epoch counter moves:
  the studio's periodic callback runs in the kernel) work in the output area through Panel's
  JupyterLab extension (@pyviz/jupyterlab_pyviz)."""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

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
#: Lab start, kernel start and first render on a loaded 2-core machine.
LAB_START_TIMEOUT = 60.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def write_notebook(folder) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, folder / "apps.ipynb")
    return "apps.ipynb"


def copy_shipped(folder) -> str:
    """The shipped notebook as it is in the repository (copied, so its run writes nothing
    there)."""
    shutil.copy(NOTEBOOKS / SHIPPED, folder / SHIPPED)
    return SHIPPED


def isolated_jupyter_env(tmp_path) -> dict:
    """Config, settings and workspaces in ``tmp_path``: the user's own JupyterLab state does not
    leak in, the news pop-up (which would fetch from the network) is off, and the notebook's
    kernel starts without asking."""
    config = tmp_path / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    settings = tmp_path / "lab-settings"
    # start the notebook's kernel without the "Select Kernel" dialog; render every cell (no
    # windowing: cells out of view keep their prompts and outputs laid out)
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True, "windowingMode": "none"}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    return env


@pytest.fixture
def offline(page) -> list[tuple[str, str]]:
    """Abort every request of ``page`` that leaves this machine; the list records each aborted
    one as (resource type, URL)."""
    blocked: list[tuple[str, str]] = []

    def handle(route, request):
        host = urllib.parse.urlsplit(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append((request.resource_type, request.url))
            route.abort("internetdisconnected")

    page.context.route("**/*", handle)
    return blocked


@pytest.fixture
def jupyter_lab(tmp_path, artifacts_dir, chromium_path, launch, port):
    """``jupyter_lab(put)``: ``put(folder)`` places a notebook in a fresh folder and returns its
    name; a fresh headless JupyterLab serves that folder, the notebook's kernel is started, and
    the notebook's URL (with token) is returned."""

    def open_lab(put) -> str:
        root = tmp_path / "root"
        root.mkdir()
        name = put(root)
        token = secrets.token_hex(16)
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        base = f"http://127.0.0.1:{port}"
        launch(cmd, f"{base}/api/status?token={token}", artifacts_dir / "jupyter-lab.log",
               cwd=root, env=isolated_jupyter_env(tmp_path), timeout=LAB_START_TIMEOUT)
        start_kernel(base, token, name)
        return f"{base}/lab/tree/{name}?token={token}"

    return open_lab


def _api(base: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}{path}", method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def start_kernel(base: str, token: str, name: str) -> None:
    """Open the notebook's session (and start its kernel) through the REST API.

    The kernel then boots while the page loads. When the page starts it instead, a slow boot
    on a loaded machine can make JupyterLab give up on its first kernel websocket (the server
    logs a 500) and lose the cells queued meanwhile."""
    session = _api(base, token, "/api/sessions", {"path": name, "name": name,
                                                  "type": "notebook",
                                                  "kernel": {"name": "python3"}})
    assert session["kernel"]["name"] == "python3"


def open_and_run(page, url: str, timeout: float = 30.0) -> None:
    """Open the notebook, wait for its kernel, run every cell."""
    page.goto(url)
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=40_000)
    # the kernel must be up before "Run All" or the request can be lost on a slow start
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
        1, timeout=40_000)
    run_all_cells(page, timeout=timeout)


#: JupyterLab's own kernel-reconnect noise: when the first kernel websocket drops while the
#: kernel starts (see start_kernel), requests still pending on it are cancelled, e.g. the
#: subshell that the ipywidgets manager asks for, and JupyterLab leaves the rejection unhandled.
KERNEL_RECONNECT = re.compile(r"Canceled future for \w+ message before replies were done")


def our_console_errors(page) -> list[str]:
    """Console errors from Bokeh, Panel or HoloViews and uncaught exceptions (JupyterLab logs
    its own kernel-reconnect noise while the kernel starts)."""
    return [e for e in page.console_errors
            if (e.startswith("pageerror") and not KERNEL_RECONNECT.search(e))
            or re.search(r"bokeh|panel|pyviz|holoviews", e, re.IGNORECASE)]


def run_all_cells(page, attempts: int = 2, timeout: float = 30.0) -> None:
    """Run > Run All Cells until every cell has run. While the kernel is still starting,
    JupyterLab's first websocket can drop and take queued requests with it; cells left
    unrun then are run again (running them twice is harmless here)."""
    prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    for _ in range(attempts):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        clicked = time.monotonic()
        while time.monotonic() - clicked < timeout:
            texts = [t.strip() for t in prompts.all_inner_texts()]
            if texts and all(re.fullmatch(r"\[\d+\]:", t) for t in texts):
                return
            lost = "[*]:" not in texts and "[ ]:" in texts and idle.count() == 1
            if lost and time.monotonic() - clicked > 5:
                break
            page.wait_for_timeout(500)
    pytest.fail(f"JupyterLab did not run every cell: prompts {prompts.all_inner_texts()}")


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
