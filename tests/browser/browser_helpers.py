"""Plain helpers shared by the browser tests (fixtures live in conftest.py): waiting on a page,
typing into Panel widgets, and driving an isolated offline JupyterLab.

Test modules import it by name (``from browser_helpers import wait_until``): tests/ has no
``__init__.py``, so pytest puts this folder on ``sys.path`` for the modules in it."""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request

import pytest

#: Hosts a page may reach in the offline tests (everything else is aborted).
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def expect(*args, **kwargs):
    """Playwright's ``expect`` (imported when used: the module loads without Playwright)."""
    from playwright.sync_api import expect as _expect

    return _expect(*args, **kwargs)


# ----- pages served by `workbench serve` ----------------------------------------------------
def open_rendered(page, url: str, timeout_ms: int = 60_000) -> None:
    """Open ``url`` and wait until BokehJS reports its items rendered (a loaded machine can
    take long to build the first page)."""
    with page.expect_console_message(lambda m: "rendered successfully" in m.text,
                                     timeout=timeout_ms):
        page.goto(url, timeout=timeout_ms)


def wait_until(page, predicate, what: str, timeout: float = 60.0):
    """Poll ``predicate()`` (Python side: Panel's widgets live in shadow DOM that
    ``document.querySelector`` cannot reach) until it returns something true, and return that;
    fail naming ``what`` (and the page's status line, if it has one) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        page.wait_for_timeout(250)
    value = predicate()
    if value:
        return value
    status = page.locator(".wb-status-text")
    shown = status.first.inner_text() if status.count() else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last value {value!r}"
                + (f"; status: {shown!r}" if shown else ""))


def set_number(page, css: str, value) -> None:
    """Type ``value`` into the input of the widget with CSS class ``css`` and commit it."""
    box = page.locator(f"{css} input")
    box.fill(str(value))
    box.press("Enter")


def wait_for_source(page, plotted_rows, column: str, length: int,
                    timeout_s: float = 30.0) -> None:
    """Wait until a plotted data source has ``column`` with at least ``length`` rows
    (``plotted_rows``: the conftest fixture)."""
    wait_until(page, lambda: plotted_rows(page, column) >= length,
               f"plotted data with a {column!r} column of {length} rows", timeout_s)


# ----- JupyterLab ---------------------------------------------------------------------------
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


def notebook_writer(cells: list[str], name: str):
    """A ``jupyter_lab`` fixture's writer: ``writer(folder)`` saves a Python 3 notebook of
    ``cells`` as ``folder/name`` and returns the name."""
    import nbformat

    def write(folder) -> str:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                     "language": "python"}
        nbformat.write(nb, folder / name)
        return name

    return write
