"""The shipped notebooks draw offline: every extension call loads BokehJS and Panel's JavaScript
inline (a classroom without internet gets plots, not blank cells), and they are stored without
outputs. nbval runs the notebooks themselves (``pytest notebooks --nbval-lax``); the JupyterLab
browser test runs one with every outside request blocked."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
EXTENSION = re.compile(r"\b(hv|pn)\.extension\(")
#: JavaScript fetched from a CDN (stylesheet URLs inside HoloViews' plot models are cosmetic)
CDN_SCRIPT = re.compile(r"https?://cdn\.(?:bokeh|holoviz)\.org/[^\"'\s]*?\.js|"
                        r"<script[^>]*src=[\\\"']*https?://")


def code(nb_path: Path) -> list[str]:
    return [c.source for c in nbformat.read(nb_path, as_version=4).cells
            if c.cell_type == "code"]


def extension_lines(nb_path: Path) -> list[str]:
    return [line for src in code(nb_path) for line in src.splitlines()
            if EXTENSION.search(line)]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    stored = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert stored == [], f"{nb_path.name}: cells {stored} keep outputs; strip them"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_extension_call_loads_javascript_inline(nb_path):
    """The first call decides where the JavaScript comes from (a later ``inline=True`` does not
    undo a CDN load), so every call must say ``inline=True``."""
    lines = extension_lines(nb_path)
    assert all("inline=True" in line for line in lines), (nb_path.name, lines)


@pytest.mark.slow
@pytest.mark.parametrize("setup", sorted({"\n".join(extension_lines(p)) for p in NOTEBOOKS
                                          if extension_lines(p)}))
def test_the_notebooks_setup_outputs_no_cdn_script(setup):
    """The notebooks' extension calls, run in a kernel, emit the JavaScript itself: no script
    from a CDN, before or after a plot is shown."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import holoviews as hv\nimport panel as pn\n" + setup),
                nbformat.v4.new_code_cell("hv.Curve([1, 3, 2])"),
                nbformat.v4.new_code_cell("pn.Column(pn.widgets.IntSlider(), hv.Curve([1, 2]))")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    texts = [str(value) for cell in nb.cells for out in cell.outputs
             for value in out.get("data", {}).values()]
    assert sum(len(t) for t in texts) > 1_000_000, "BokehJS was not inlined"
    found = sorted({m.group(0)[:100] for t in texts for m in CDN_SCRIPT.finditer(t)})
    assert found == []
