"""``workbench.explore``: ipywidgets built from the knob declarations (the apps' rule), an
estimate with units that follows the widgets, errors shown in place, and a clear message when
ipywidgets is missing. ``import workbench`` loads neither ipywidgets nor Bokeh."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import workbench as wb
from workbench.api import make_estimator
from workbench.errors import WorkbenchError
from workbench.estimators import registry

ipywidgets = pytest.importorskip("ipywidgets")

RHO = 0.8
#: I(X;Y) of a bivariate normal with correlation RHO, in nats (closed form).
TRUE_MI = -0.5 * math.log(1 - RHO**2)


@pytest.fixture(scope="module")
def gaussian_pair():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 1))
    y = RHO * x + math.sqrt(1 - RHO**2) * rng.normal(size=(2000, 1))
    return x, y


def test_estimate_matches_the_front_door_and_the_closed_form(gaussian_pair):
    x, y = gaussian_pair
    ex = wb.explore(x, y, method="ksg", k=5)
    assert ex.estimate == wb.mutual_info(x, y, method="ksg", k=5)
    assert ex.estimate.units == "bits" and ex.quantity == "mutual_info"
    # KSG at n = 2000, k = 5 on a 1+1-dimensional Gaussian: its standard deviation over
    # samples is about 0.02 nats (Kraskov et al. 2004, Fig. 4), so 0.1 nats is > 4 sigma
    assert abs(ex.estimate * math.log(2) - TRUE_MI) < 0.1
    assert "bits" in ex.widget.children[1].value


def test_widgets_follow_the_declarations_and_moving_one_re_estimates(gaussian_pair):
    x, y = gaussian_pair
    ex = wb.explore(x, y, method="ksg")
    est = make_estimator("ksg")
    assert list(ex._knob_widgets) == est.knob_names()  # knobs only, declared order
    k = ex._knob_widgets["k"]
    low, high = est.param["k"].get_soft_bounds()
    assert isinstance(k, ipywidgets.IntSlider) and (k.min, k.max) == (low, high)
    assert k.description == est.param["k"].label
    assert k.tooltip == est.param["k"].doc.strip()
    assert "wb-explore-knob-k" in k._dom_classes
    before = ex.estimate
    k.value = 12  # what dragging the slider does
    assert ex.knobs["k"] == 12
    assert ex.estimate == wb.mutual_info(x, y, method="ksg", k=12) != before


def test_units_toggle_and_method_dropdown(gaussian_pair):
    x, y = gaussian_pair
    ex = wb.explore(x, y, method="ksg")
    bits = float(ex.estimate)
    ex.set(units="nats")
    assert ex.estimate.units == "nats"
    assert ex.estimate == pytest.approx(bits * math.log(2), rel=1e-12)
    ex.set(method="gaussian")
    assert list(ex._knob_widgets) == make_estimator("gaussian").knob_names()
    # the Gaussian estimator is exact in form here: -½ log(1-ρ̂²) with ρ̂ from 2000 samples
    # (standard error of ρ̂ about (1-ρ²)/√n = 0.008), so within 0.05 nats of the truth
    assert abs(ex.estimate - TRUE_MI) < 0.05


def test_entropy_with_one_argument_and_auto_says_what_it_chose(gaussian_pair):
    x, _ = gaussian_pair
    ex = wb.explore(x)
    assert ex.quantity == "entropy" and ex.method == wb.choose_method(x, quantity="entropy").method
    assert ex.reason and "auto chose" in ex.widget.children[1].value


def test_bad_values_in_widgets_are_shown_not_raised(gaussian_pair):
    x, y = gaussian_pair
    ex = wb.explore(x, y, method="binning")
    ex.set(range_min="abc")
    assert ex.estimate is None and "range_min must be a number" in ex.error
    assert "wb-explore-error" in ex.widget.children[1].value
    ex.set(range_min="")  # allow_None: empty means automatic again
    assert ex.error == "" and ex.estimate is not None


def test_bad_input_in_code_raises(gaussian_pair):
    x, y = gaussian_pair
    with pytest.raises(WorkbenchError):
        wb.explore(x, y[:10], method="ksg")
    with pytest.raises(WorkbenchError, match="unknown knob"):
        wb.explore(x, y, method="ksg", nope=1)
    mi_only = next(n for n, cls in registry().items() if not cls.supports("entropy"))
    with pytest.raises(WorkbenchError, match="cannot estimate"):
        wb.explore(x, method=mi_only)


def test_workbench_imports_without_ipywidgets_and_explore_names_the_extra():
    code = ("import sys; sys.modules['ipywidgets'] = None\n"
            "import workbench as wb\n"
            "assert 'bokeh' not in sys.modules and 'panel' not in sys.modules\n"
            "try:\n    wb.explore([1.0, 2.0, 3.0, 4.0])\n"
            "except ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert "pip install 'workbench[notebooks]'" in out
