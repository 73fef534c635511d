"""The apps on Binder: a Jupyter server set up the way Binder sets it up (binder/requirements.txt
installed, binder/postBuild run) serves the Estimator Lab through its proxy at
``/panel/estimator_lab``, and the page works there: it renders, its websocket reaches the Panel
server behind the proxy, and an estimate appears.

For speed the test uses this environment rather than building a fresh image: it checks that
the environment satisfies binder/requirements.txt, then runs postBuild against it (postBuild
changes nothing in an environment that already imports this checkout) with the Jupyter
configuration going to a temporary folder.
"""
from __future__ import annotations

import math
import os
import secrets
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from browser_helpers import open_rendered
from packaging.requirements import Requirement
from packaging.version import Version

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"
#: Jupyter start on a loaded 2-core machine (the JupyterLab test allows 60 s too).
LAB_START_TIMEOUT = 60.0
#: postBuild compiles the kNN kernels on a fresh clone (about 10 s of CPU, more on busy cores).
POSTBUILD_TIMEOUT = 300
#: The first visit starts `workbench serve` behind the proxy (Panel and the pages import, on
#: busy cores about 45 s here), then the first estimate and its error-vs-n sweep run.
FIRST_PAGE_TIMEOUT_MS = 240_000
#: What JupyterHub (Binder) serves a user's Jupyter server under.
BASE_URL = "/user/binder-test/"


def binder_requirements() -> list[Requirement]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in (ln.strip() for ln in lines)
            if line and not line.startswith(("#", "-"))]


def unmet(requirements: list[Requirement]) -> list[str]:
    """Requirements this environment does not satisfy. A local version label (torch's
    ``+cpu``) is compared by its public version: which wheel index a build came from does not
    change what the apps run."""
    out = []
    for req in requirements:
        try:
            installed = Version(metadata.version(req.name))
        except metadata.PackageNotFoundError:
            out.append(f"{req} (not installed)")
            continue
        spec = req.specifier
        if not (spec.contains(installed, prereleases=True)
                or spec.contains(Version(installed.public), prereleases=True)
                or any(s.operator == "==" and Version(s.version).public == installed.public
                       for s in spec)):
            out.append(f"{req} (installed {installed})")
    return out


def binder_env(tmp_path) -> dict:
    """This environment's Python first on PATH (postBuild calls `python` and `pip`), and the
    Jupyter configuration, runtime and Lab state in ``tmp_path``."""
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
                JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
                JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
                JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
                JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                WORKBENCH_RUNS=str(tmp_path / "runs"))


def test_binder_server_serves_the_estimator_lab_through_its_proxy(
        tmp_path, page, launch, port, artifacts_dir, server_tracebacks):
    missing = unmet(binder_requirements())
    assert missing == [], f"this environment lacks Binder's requirements: {missing}"

    env = binder_env(tmp_path)
    build = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=POSTBUILD_TIMEOUT)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    installed_config = tmp_path / "jupyter-config" / "jupyter_server_config.py"
    assert installed_config.read_text() == (BINDER / "jupyter_server_config.py").read_text()

    token = secrets.token_hex(16)
    # repo2docker starts JupyterLab in the repository, and JupyterHub gives it a base URL of
    # /user/<name>/; --allow-root only for root CI containers
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.base_url={BASE_URL}",
           f"--ServerApp.root_dir={REPO}", "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    base = f"http://127.0.0.1:{port}{BASE_URL.rstrip('/')}"
    log = artifacts_dir / "binder-jupyter.log"
    server = launch(cmd, f"{base}/api/status?token={token}", log, cwd=REPO, env=env,
                    timeout=LAB_START_TIMEOUT)
    psutil = pytest.importorskip("psutil")
    failed: list[str] = []  # responses >= 400: a resource URL the prefix got wrong
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    try:
        url = f"{base}/panel/estimator_lab?token={token}"
        open_rendered(page, url, FIRST_PAGE_TIMEOUT_MS)
        # still the proxy's path: no redirect to another port or to the root
        assert page.url.startswith(f"{base}/panel/estimator_lab")
        assert "Estimator Lab" in page.title()
        # the estimate travels over the websocket, so it appearing proves the proxied socket
        value = page.locator(".wb-estimate-value")
        expect(value).to_be_visible(timeout=FIRST_PAGE_TIMEOUT_MS)
        assert math.isfinite(float(value.inner_text()))
        card = page.locator(".wb-symbol").locator("xpath=..").inner_text()
        assert "bits" in card or "nats" in card, card
        assert failed == [], failed
        assert page.console_errors == [], page.console_errors
        assert server_tracebacks(log) == []
    finally:
        children = psutil.Process(server.pid).children(recursive=True)
        server.terminate()
        server.wait(timeout=30)
        # jupyter-server-proxy stops `workbench serve` when Jupyter stops; make sure of it
        _, alive = psutil.wait_procs(children, timeout=30)
        for child in alive:
            child.kill()
