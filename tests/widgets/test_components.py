"""The knob panel shared by the apps, built from the estimators' declarations: knobs only (no
execution settings), in declared order, labelled, with tooltips and slider ranges from the
declarations, and bound both ways to the estimator instance."""
from __future__ import annotations

import pytest

pn = pytest.importorskip("panel")

from widgets.components import knob_panel  # noqa: E402
from workbench.api import make_estimator  # noqa: E402

EXECUTION_SETTINGS = {"device", "threads", "progress", "callback", "backend"}


def knob_rows(panel) -> dict:
    """{knob name: (widget, tooltip text)} from a knob panel, in display order."""
    out = {}
    for row in panel.objects:
        widget, icon = (row[0], row[1]) if isinstance(row, pn.Row) else (row, None)
        (css,) = [c for c in widget.css_classes if c.startswith("wb-knob-")]
        tooltip = icon.value if icon is not None else widget.description
        out[css.removeprefix("wb-knob-")] = (widget, tooltip)
    return out


@pytest.mark.parametrize("method", ["mine", "matrix_renyi", "compressed_ksg"])
def test_panel_shows_the_knobs_and_no_execution_setting(method):
    est = make_estimator(method)
    rows = knob_rows(knob_panel(est))
    assert list(rows) == est.knob_names()
    assert not EXECUTION_SETTINGS & set(rows)
    assert list(rows)[-1] in ("seed", "max_samples")


def test_labels_tooltips_and_ranges_come_from_the_declarations():
    est = make_estimator("mine")
    rows = knob_rows(knob_panel(est))
    for name, (widget, tooltip) in rows.items():
        p = est.param[name]
        assert widget.name == p.label != name, name
        assert tooltip == p.doc.strip(), name
    steps = rows["steps"][0]
    assert isinstance(steps, pn.widgets.EditableIntSlider)
    assert (steps.start, steps.end) == est.param["steps"].softbounds
    assert steps.fixed_end is None  # typing beyond the soft range is allowed
    lr = rows["lr"][0]  # spans decades: a number box up to the hard bound, not the soft one
    assert isinstance(lr, pn.widgets.FloatInput) and lr.end == 1
    assert rows["embed_dim"][0].name == "Embedding dimension"


def test_widgets_and_estimator_stay_in_step():
    est = make_estimator("ksg")
    k = knob_rows(knob_panel(est))["k"][0]
    k.value = 7
    assert est.k == 7
    est.k = 9
    assert k.value == 9


def test_excluded_knobs_and_methods_without_knobs():
    est = make_estimator("binning")
    rows = knob_rows(knob_panel(est, "wb-knob", exclude=("range_min", "range_max")))
    assert "range_min" not in rows and "n_bins" in rows
    empty = knob_panel(make_estimator("plugin"))
    assert "no knobs" in empty.object
