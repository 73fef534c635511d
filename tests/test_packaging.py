"""Packaging consistency: Binder and pyproject name the same runtime packages; the core never
imports a UI library."""
import ast
import re
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def _names(specs):
    return {re.split(r"[<>=!~\[ ;]", s.strip(), maxsplit=1)[0].lower() for s in specs
            if s.strip() and not s.strip().startswith("#")}


def test_binder_matches_pyproject_runtime_packages():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = _names(project["dependencies"])
    binder = _names((REPO / "binder" / "requirements.txt").read_text().splitlines())
    notebook_hosts = {"jupyterlab", "ipykernel"}
    assert runtime == binder - notebook_hosts
    assert "torch==2.13.0" in (REPO / "binder" / "requirements.txt").read_text()


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
