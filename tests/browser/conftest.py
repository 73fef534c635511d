"""Fixtures for the real-browser tests: one ``workbench serve`` subprocess per session, Debian's
headless Chromium driven by Playwright's sync API, and pages that record console errors.

Helpers that are plain functions (waiting, typing, JupyterLab's REST calls) are in
browser_helpers.py; the fixtures, including the Plane Studio's own server (``studio_url``) and
an offline JupyterLab (``jupyter_lab``, ``offline``), are here.

Chromium comes from the system (/usr/bin/chromium; ``make browser`` installs it), never from
``playwright install``. Without it the tests skip locally and fail in CI (env var CI set).
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browser_helpers import LOCAL_HOSTS, isolated_jupyter_env, start_kernel

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: Importing Panel, HoloViews and the estimators takes several seconds on a loaded 2-core box.
SERVER_START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail early (with the log) if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


class Processes:
    """Starts processes that log to a file, waits until each answers on a URL, and stops every
    one it started (and only those) in :meth:`stop_all`."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd, ready_url: str, log: Path, *, cwd=REPO, env=None,
              timeout: float = SERVER_START_TIMEOUT) -> subprocess.Popen:
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        wait_for_http(ready_url, proc, timeout, log)
        return proc

    def stop_all(self) -> None:
        while self.procs:
            stop_process(self.procs.pop())


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it lingers (only the process this fixture started)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; install Debian's chromium (make browser)"
        if os.environ.get("CI"):  # CI installs Chromium: missing there is a failure
            pytest.fail(message)
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def server_log(artifacts_dir) -> Path:
    """Where the session's ``workbench serve`` writes its output."""
    return artifacts_dir / "workbench-serve.log"


def our_tracebacks(log: Path, start: int = 0) -> list[str]:
    """Frames of workbench/widgets code in the tracebacks that the server log ``log`` holds
    from byte ``start`` on: an exception that went through our code and was not turned into a
    message for the user."""
    marks = [f'File "{REPO / pkg}' for pkg in ("widgets", "workbench")]
    with open(log) as out:
        out.seek(start)
        return [line.strip() for line in out if any(m in line for m in marks)]


@pytest.fixture
def server_tracebacks():
    """``server_tracebacks(log, start=0)``: :func:`our_tracebacks`, for tests that start their
    own server and log (a fixture: test modules do not import conftest)."""
    return our_tracebacks


@pytest.fixture(scope="session")
def server_url(server_log, chromium_path, tmp_path_factory):
    """Base URL (with trailing slash) of a ``workbench serve`` started for this session; its
    runs folder is a temporary one, so nothing is written into the repository."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    runs_dir = tmp_path_factory.mktemp("served-runs")
    processes = Processes()
    try:
        processes.start([sys.executable, "-m", "workbench", "serve", "--port", str(port),
                         "--runs-dir", str(runs_dir)], url, server_log)
        yield url
    finally:
        processes.stop_all()


@pytest.fixture
def no_server_tracebacks(server_url, server_log):
    """Fail the test if, while it ran, the server logged a traceback through our code (an
    error that escaped the banners)."""
    start = server_log.stat().st_size
    yield
    frames = our_tracebacks(server_log, start)
    assert frames == [], f"server tracebacks (see {server_log}): {frames[:6]}"


#: Longest number of points in any Bokeh data source whose columns include ``column``.
LONGEST_SOURCE = """
(column) => {
  let longest = 0;
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      const data = model.data;
      if (data === undefined || data === null) continue;
      const values = data instanceof Map ? data.get(column) : data[column];
      if (values !== undefined && values.length > longest) longest = values.length;
    }
  }
  return longest;
}
"""


@pytest.fixture
def plotted_rows():
    """``plotted_rows(page, column)``: the longest Bokeh data source on ``page`` with a
    ``column`` column (0 when none has it)."""
    return lambda page, column: page.evaluate(LONGEST_SOURCE, column)


@pytest.fixture
def launch():
    """``launch(cmd, ready_url, log, cwd=..., env=..., timeout=...)`` starts a process, waits
    until ``ready_url`` answers, and returns it; what it started is stopped after the test."""
    processes = Processes()
    try:
        yield processes.start
    finally:
        processes.stop_all()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def browser(chromium_path):
    # Module scope: Playwright's sync API keeps an asyncio loop marked as running in the main
    # thread while it is open, which would make later (non-browser) tests believe they run
    # inside an event loop.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page; ``page.console_errors`` lists console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
          if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    pg.console_errors = errors
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


# ----- the Plane Studio served alone --------------------------------------------------------
@pytest.fixture
def studio_url(request, launch, port, tmp_path, artifacts_dir):
    """URL of the Plane Studio of a ``workbench serve`` started for this test, saving its runs
    in ``tmp_path / "runs"``; the test fails if the server logged a traceback through our
    code (an error that escaped the banners)."""
    log = artifacts_dir / f"{request.module.__name__}-serve.log"
    url = f"http://127.0.0.1:{port}/"
    launch([sys.executable, "-m", "workbench", "serve", "--port", str(port), "--runs-dir",
            str(tmp_path / "runs")], url, log)
    yield url + "plane_studio"
    frames = our_tracebacks(log)
    assert frames == [], f"server tracebacks through our code (see {log}): {frames[:6]}"


# ----- JupyterLab, offline ------------------------------------------------------------------
#: Lab start, kernel start and first render on a loaded 2-core machine.
LAB_START_TIMEOUT = 60.0


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
