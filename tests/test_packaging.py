"""Packaging consistency: the extras layout, Binder's requirements and proxy, the core running
without any optional package, and the core never importing a UI library."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def _names(specs):
    return {re.split(r"[<>=!~\[ ;]", s.strip(), maxsplit=1)[0].lower() for s in specs
            if s.strip() and not s.strip().startswith("#")}


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _extra(name: str) -> set[str]:
    """Package names of extra ``name``, its references to other extras (workbench[a,b])
    followed."""
    out = set()
    for spec in _project()["optional-dependencies"][name]:
        match = re.fullmatch(r"workbench\[([\w,]+)\]", spec.strip())
        if match:
            for other in match.group(1).split(","):
                out |= _extra(other)
        else:
            out |= _names([spec])
    return out


def test_binder_installs_the_core_and_every_extra_of_all():
    lines = (REPO / "binder" / "requirements.txt").read_text().splitlines()
    binder = _names(ln for ln in lines if not ln.strip().startswith("-"))
    assert binder == _names(_project()["dependencies"]) | _extra("all")
    # CPU-only torch from PyTorch's CPU index: the default Linux wheel brings GBs of CUDA
    # libraries; "+cpu" fails loudly if that index is unreachable instead of falling back
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "torch==2.13.0+cpu" in lines


def test_core_holds_no_optional_package_and_all_holds_every_extra():
    from workbench.extras import EXTRA_OF

    core = _names(_project()["dependencies"])
    assert core == {"numpy", "scipy", "numba", "pandas", "pyarrow", "param", "scikit-learn",
                    "tqdm"}
    # the distribution that provides each optional module (the others are named alike)
    dist_of = {"dask": "distributed", "jupyter_bokeh": "jupyter_bokeh"}
    for module, extra in EXTRA_OF.items():
        dist = dist_of.get(module, module)
        assert dist not in core, module
        # the error message's `pip install 'workbench[extra]'` really installs the module
        assert dist in _extra(extra), (module, extra)
    assert _extra("notebooks") >= _extra("apps") | {"jupyterlab", "ipywidgets",
                                                    "jupyter_bokeh", "jupyter-server-proxy"}
    assert _extra("all") == _extra("torch") | _extra("apps") | _extra("notebooks") | _extra(
        "dask")


def test_makefile_installs_everything_with_the_cached_torch_first():
    makefile = (REPO / "Makefile").read_text()
    assert makefile.index("pip install torch==2.13.0") < makefile.index('install -e ".[all,test]"')


def test_binder_proxy_serves_the_apps_under_the_jupyter_prefix():
    from traitlets.config import Config

    config = Config()
    code = (REPO / "binder" / "jupyter_server_config.py").read_text()
    exec(compile(code, "jupyter_server_config.py", "exec"), {"get_config": lambda: config})
    server = config.ServerProxy.servers["panel"]
    command = server["command"]
    assert command[1:4] == ["-m", "workbench", "serve"]
    assert command[command.index("--prefix") + 1] == "{base_url}panel"
    assert command[command.index("--port") + 1] == "{port}"
    assert server["absolute_url"] is True  # the Panel server sees the prefixed path
    postbuild = REPO / "binder" / "postBuild"
    assert postbuild.stat().st_mode & 0o111  # Binder runs it only when executable
    assert "binder/jupyter_server_config.py" in postbuild.read_text()


def test_readme_has_binder_badges_for_the_notebooks_and_every_app():
    from widgets.app import PAGES

    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\(https://mybinder\.org/v2/gh/[^)\s]+\)", readme)
    assert any("urlpath=lab" in link for link in links), links
    for page in PAGES:
        assert any(f"urlpath=panel/{page.slug})" in link for link in links), page.slug


#: Run with every optional package made unimportable; prints one line per check.
BLOCKED_RUN = r"""
import importlib.abc, sys
from workbench.extras import EXTRA_OF

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in EXTRA_OF:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
import numpy as np
import workbench as wb
from workbench import cluster
from workbench.cli import main
from workbench.errors import MissingDependencyError
from workbench.training import datasets

rng = np.random.default_rng(0)
x = rng.standard_normal((300, 1))
y = x + rng.standard_normal((300, 1))
print("ksg", float(wb.mutual_info(x, y, method="ksg")))
print("entropy", float(wb.entropy(x)))
print("methods", len(wb.methods()))
def error(fn):
    try:
        fn()
    except MissingDependencyError as exc:
        return str(exc)
print("infonce", error(lambda: wb.mutual_info(x, y, method="infonce", steps=5)))
print("mnist1d", error(datasets.mnist1d))
print("dask", error(lambda: cluster.map_jobs(abs, [(1,)])))
print("sync", cluster.map_jobs(abs, [(-1,)], scheduler="sync"))
print("plots", error(lambda: __import__("workbench.plots.plane")))
print("recorder", error(lambda: wb.AttentionRecorder))
np.save("x.npy", x)
np.save("y.npy", y)
print("mi_cli", main(["mi", "x.npy", "y.npy", "--method", "ksg"]))
print("serve", main(["serve", "--port", "0"]))
print("loaded", sorted({m.split(".")[0] for m in sys.modules} & set(EXTRA_OF)))
"""


def test_core_runs_with_every_optional_package_blocked(tmp_path):
    # the fast twin of tests/test_core_install.py (a real core-only venv): same interpreter,
    # the extras' packages made unimportable
    run = subprocess.run([sys.executable, "-c", BLOCKED_RUN], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert run.returncode == 0, run.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in run.stdout.strip().splitlines())
    assert float(out["ksg"]) > 0.2  # I = 1/2 log2(2) = 0.5 bit; 300 samples
    assert int(out["methods"]) >= 20  # the neural methods are listed even without torch
    assert "pip install 'workbench[torch]'" in out["infonce"]
    assert "pip install 'workbench[torch]'" in out["mnist1d"]
    assert "pip install 'workbench[dask]'" in out["dask"] and "sync" in out["dask"]
    assert out["sync"] == "[1]"
    assert "pip install 'workbench[apps]'" in out["plots"]
    assert "pip install 'workbench[torch]'" in out["recorder"]
    assert out["mi_cli"] == "0"
    assert out["serve"] == "2" and "pip install 'workbench[apps]'" in run.stderr
    assert out["loaded"] == "[]"


def test_core_never_imports_ui_libraries():
    banned = {"panel", "ipywidgets", "bokeh"}
    offenders = []
    for path in (REPO / "workbench").rglob("*.py"):
        if path.relative_to(REPO / "workbench").parts[0] == "cli" and path.name == "serve.py":
            continue  # the `serve` subcommand starts the Panel server from widgets/
        tree = ast.parse(path.read_text())
        # workbench.explore is a notebook helper made of ipywidgets: it may import them, inside
        # a function (called on use), never at module level
        lazy_ok = {"ipywidgets"} if path.name == "explorer.py" else set()
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods = [node.module]
            allowed = set() if id(node) in top_level else lazy_ok
            offenders += [f"{path.name}: {m}" for m in mods
                          if m.split(".")[0] in banned - allowed]
    assert not offenders, offenders


def test_test_modules_have_unique_names():
    # tests/ has no __init__.py files: pytest imports each module by its basename, so two files
    # of one name in different folders break collection of the whole run
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
