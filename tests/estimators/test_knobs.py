"""Knob declarations and value rules shared by every estimator (workbench.estimators.base):
execution settings are accepted but are not knobs; numpy scalars are accepted; bools, non-finite
numbers, meaningless magnitudes and unusable devices are KnobErrors, never foreign tracebacks."""
import math

import numpy as np
import param
import pytest

import workbench as wb
from workbench.errors import KnobError
from workbench.estimators import registry
from workbench.estimators.base import Estimator
from workbench.torch_utils import check_device_name, torch_device

EXECUTION_SETTINGS = {"device", "threads", "progress", "callback", "backend"}


@pytest.fixture
def pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    return x, x + rng.normal(size=(300, 2))


def test_no_execution_setting_is_a_knob_and_every_one_is_declared_as_a_setting():
    for name, cls in registry().items():
        params = set(cls.param) - {"name"}
        assert not EXECUTION_SETTINGS & set(cls.knob_names()), name
        assert set(cls.setting_names()) == params & EXECUTION_SETTINGS, name
        assert set(cls.knob_names()) | set(cls.setting_names()) == params, name
    assert set(wb.api.get_estimator_class("mine").setting_names()) == {
        "device", "threads", "progress", "callback"}
    assert set(wb.api.get_estimator_class("matrix_renyi").setting_names()) == {
        "backend", "device", "threads"}


def test_execution_settings_are_still_keywords_but_stay_out_of_label_and_knobs(pairs):
    x, y = pairs
    calls = []
    mi = wb.mutual_info(x, y, method="mine", device="cpu", threads=1, progress=False,
                        callback=lambda *a: calls.append(a), steps=20, eval_every=10,
                        batch_size=32)
    assert calls and mi.method == "mine(batch_size=32, steps=20, eval_every=10)"
    assert not EXECUTION_SETTINGS & set(mi.knobs)
    h = wb.entropy(x, method="matrix_renyi", backend="torch", threads=1)
    assert h.method == "matrix_renyi" and not EXECUTION_SETTINGS & set(h.knobs)
    with pytest.raises(KnobError, match="execution settings"):
        wb.make_estimator("mine", bogus=1)


def test_knobs_are_ordered_by_precedence_with_the_seed_last():
    assert wb.api.get_estimator_class("ksg").knob_names() == [
        "k", "jitter", "normalize", "copula", "seed"]
    for name, cls in registry().items():
        names = cls.knob_names()
        if "seed" in names:  # only the other sampling knob may follow it
            assert set(names[names.index("seed"):]) <= {"seed", "max_samples"}, name


def test_numeric_knobs_declare_a_slider_range_and_a_readable_label():
    for name, cls in registry().items():
        for entry in cls.describe_knobs():
            p = cls.param[entry["name"]]
            assert entry["label"] and entry["label"] != entry["name"], (name, entry["name"])
            if not isinstance(p, param.Integer) or p.allow_None or entry["name"] == "seed":
                continue
            low, high = p.get_soft_bounds()
            assert low is not None and high is not None, (name, entry["name"])
            assert low <= p.default <= high, (name, entry["name"])


def test_numpy_integers_are_accepted_as_the_ints_they_hold(pairs):
    x, y = pairs
    small = {"steps": 20, "eval_every": 10, "batch_size": 32}
    for method, extra in (("ksg", {}), ("mine", small)):
        a = wb.mutual_info(x, y, method=method, seed=np.int64(3), **extra)
        b = wb.mutual_info(x, y, method=method, seed=3, **extra)
        assert float(a) == float(b) and a.method == b.method and "int64" not in a.method
    assert wb.make_estimator("ksg", seed=np.int64(3)).seed.__class__ is int
    for method, extra in (("matrix_renyi", {}), ("mine", small)):
        a = wb.mutual_info(x, y, method=method, threads=np.int64(3), **extra)
        assert float(a) == float(wb.mutual_info(x, y, method=method, threads=3, **extra))


@pytest.mark.parametrize("method, knobs, match", [
    ("ksg", {"k": True}, "is a number"),
    ("ksg", {"seed": np.bool_(True)}, "is a number"),
    ("ksg", {"jitter": math.inf}, "finite"),
    ("ksg", {"jitter": 5.0}, "at most 1"),
    ("compressed_ksg", {"noise_std": math.inf}, "finite"),
    ("smile", {"tau": 1e300}, "at most 80"),
    ("matrix_renyi", {"sigma": 1e-300}, "at least 1e-100"),
    ("matrix_renyi", {"alpha": math.inf}, "finite"),
    ("kde", {"noise_variance": math.nan}, "finite"),
    ("mine", {"device": "meta"}, "not a torch device"),
    ("matrix_renyi", {"device": "meta"}, "not a torch device"),
    ("compressed_ksg", {"device": "bogus"}, "not a torch device"),  # PCA never uses it
])
def test_bad_knob_values_are_knob_errors_when_the_estimator_is_made(method, knobs, match):
    with pytest.raises(KnobError, match=match):
        wb.make_estimator(method, **knobs)


def test_bad_values_set_after_construction_fail_before_estimating(pairs):
    x, y = pairs
    est = wb.make_estimator("ksg")
    est.k = True  # param's own check lets a bool through
    with pytest.raises(KnobError, match="is a number"):
        est.mutual_info(x, y)
    est = wb.make_estimator("binning")
    est.range_min = -math.inf
    with pytest.raises(KnobError, match="finite"):
        est.entropy(x)


def test_every_number_knob_refuses_nan_and_infinity():
    for cls in registry().values():
        for knob in cls.knob_names():
            if isinstance(cls.param[knob], param.Number):
                for bad in (math.nan, math.inf, -math.inf):
                    with pytest.raises(KnobError):
                        cls(**{knob: bad})


def test_bounds_that_name_infinity_allow_it():
    class Open(Estimator):
        method_name = "open"
        limit = param.Number(default=1.0, bounds=(0, math.inf), doc="May be infinite.")

    assert Open(limit=math.inf).limit == math.inf
    with pytest.raises(KnobError, match="finite"):
        Open(limit=math.nan)


def test_device_names_are_checked_once_with_a_clear_error():
    for good in ("cpu", "cuda", "cuda:1", "mps"):
        assert check_device_name(good) == good
    for bad in ("meta", "CPU", "cuda:", "cuda:x", "", None, 0):
        with pytest.raises(KnobError, match="not a torch device"):
            check_device_name(bad)
    assert str(torch_device("cpu")) == "cpu"
    with pytest.raises(KnobError, match="not a torch device"):
        torch_device("meta")
    import torch

    if torch.cuda.device_count() < 8:
        with pytest.raises(KnobError, match="CUDA GPU"):
            torch_device("cuda:7")
