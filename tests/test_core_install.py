"""The core-only install: ``pip install workbench`` without extras, in a fresh venv, estimates
KSG mutual information and entropy, and a neural method or the apps say which extra to install.

Offline and in about a minute: pip installs from a folder of wheels repacked from this
environment's installed packages (the files each package's RECORD lists, with its own wheel
tag), so it resolves the core requirements of pyproject.toml exactly as it would against PyPI,
but nothing outside their dependency closure is there to be found. ``--isolated`` keeps this
machine's pip configuration (extra indexes, wheel folders) out.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import tomllib
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import workbench as wb

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: Packages of the extras: none may be importable in the core venv.
OPTIONAL = ("torch", "panel", "holoviews", "bokeh", "matplotlib", "distributed", "mnist1d",
            "ipywidgets", "jupyterlab")
#: Written into the venv's metadata by pip, not part of a wheel.
INSTALL_ONLY = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need, transitively (markers
    evaluated for this interpreter, no extras)."""
    env = default_environment() | {"extra": ""}
    seen: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker and not req.marker.evaluate(env)):
            continue
        dist = metadata.distribution(req.name)
        seen[name] = dist
        todo += [Requirement(r) for r in dist.requires or []]
    return list(seen.values())


def repack(dist: metadata.Distribution, folder: Path) -> Path:
    """A wheel of the installed ``dist``: its files under site-packages (scripts outside it
    and compiled bytecode are left out; pip makes both), a fresh RECORD, the original tag."""
    tags = [line.split(":", 1)[1].strip().split("-")
            for line in dist.read_text("WHEEL").splitlines() if line.startswith("Tag:")]
    # py2-none-any and py3-none-any -> py2.py3-none-any, as the original file was named
    tag = "-".join(".".join(dict.fromkeys(t[i] for t in tags)) for i in range(3))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel = folder / f"{name}-{dist.version}-{tag}.whl"
    base = Path(dist.locate_file(""))
    rows, record = [], None
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for item in dist.files or []:
            path = item.as_posix()
            if path.startswith("..") or "__pycache__" in path or path.endswith(".pyc"):
                continue
            if ".dist-info/" in path and path.rsplit("/", 1)[1] in INSTALL_ONLY:
                record = record or f"{path.rsplit('/', 1)[0]}/RECORD"
                continue
            data = (base / path).read_bytes()
            zf.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            rows.append((path, f"sha256={digest.decode()}", str(len(data))))
        record = record or f"{name}-{dist.version}.dist-info/RECORD"
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([*rows, (record, "", "")])
        zf.writestr(record, out.getvalue())
    return wheel


#: Run inside the core venv; prints one JSON line.
CHECK = r"""
import importlib.util, json, subprocess, sys
import numpy as np
import workbench as wb
from workbench.errors import MissingDependencyError

out = {"importable": [m for m in sys.argv[2].split(",") if importlib.util.find_spec(m)]}
data = np.load(sys.argv[1])
out["ksg"] = float(wb.mutual_info(data["x"], data["y"], method="ksg", units="nats"))
out["kl"] = float(wb.entropy(data["x"], method="kl", units="nats"))
try:
    wb.mutual_info(data["x"], data["y"], method="infonce")
except MissingDependencyError as exc:
    out["infonce"] = str(exc)
try:
    import workbench.plots
except MissingDependencyError as exc:
    out["plots"] = str(exc)
serve = subprocess.run([sys.executable, "-m", "workbench", "serve", "--port", "0"],
                       capture_output=True, text=True, timeout=120)
out["serve"] = [serve.returncode, serve.stderr.strip()]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory) -> Path:
    """A fresh venv holding ``pip install workbench`` (no extras); its Python."""
    tmp = tmp_path_factory.mktemp("core-install")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wheels = tmp / "wheels"
    wheels.mkdir()
    # the build backend (setuptools) comes from the same folder: pip builds workbench in an
    # isolated environment of its own
    for dist in closure(project["project"]["dependencies"]
                        + project["build-system"]["requires"]):
        repack(dist, wheels)
    source = tmp / "source"  # a copy: building writes egg-info beside the sources
    for part in ("workbench", "widgets"):
        shutil.copytree(REPO / part, source / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / part, source / part)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")],
                   check=True, timeout=120)
    python = tmp / "venv" / "bin" / "python"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--python", str(python), "install",
         "--no-index", "--find-links", str(wheels), "--no-compile", "--no-cache-dir",
         "--disable-pip-version-check", str(source)],
        capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    shutil.rmtree(wheels)  # hundreds of MB; the venv is what the tests use
    return python


def test_core_install_estimates_ksg_and_names_the_extras(core_venv, tmp_path):
    # rho = 0.6 Gaussian pair: I(X;Y) = -1/2 ln(1 - rho^2) = 0.2231 nats, h(X) = 1/2 ln(2 pi e)
    rng = np.random.default_rng(7)
    n, rho = 2000, 0.6
    x = rng.standard_normal((n, 1))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, 1))
    np.savez(tmp_path / "data.npz", x=x, y=y)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run = subprocess.run([str(core_venv), "-c", CHECK, str(tmp_path / "data.npz"),
                          ",".join(OPTIONAL)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])

    assert out["importable"] == []  # nothing of the extras came with the core
    # the same estimator on the same data in the full install: KSG is deterministic here
    # (no jitter on continuous data), so the core install must give the same number
    assert out["ksg"] == pytest.approx(float(wb.mutual_info(x, y, method="ksg", units="nats")),
                                       abs=1e-12)
    assert out["kl"] == pytest.approx(float(wb.entropy(x, method="kl", units="nats")), abs=1e-12)
    # and near the truth: over 200 seeds at n = 2000 on this pair KSG's bias was 0.0005 nats
    # and its standard deviation 0.020, KL's -0.003 and 0.024, so these bounds are 4 sd
    assert out["ksg"] == pytest.approx(-0.5 * np.log(1 - rho**2), abs=0.08)
    assert out["kl"] == pytest.approx(0.5 * np.log(2 * np.pi * np.e), abs=0.10)

    assert "pip install 'workbench[torch]'" in out["infonce"]
    assert "pip install 'workbench[apps]'" in out["plots"]
    code, stderr = out["serve"]
    assert code == 2 and "pip install 'workbench[apps]'" in stderr, stderr
