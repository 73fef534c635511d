"""workbench.lab (the Estimator Lab's computations), workbench.plots.estimators, the
EstimatorLab class without a browser, the page registry of widgets.app and the serve CLI."""
from __future__ import annotations

import io
import math
import types

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import lab
from workbench.bench import tasks
from workbench.errors import FileLoadError, InputError, KnobError, WorkbenchError
from workbench.units import convert_columns

NORMAL = "1v1-normal-0.75"  # bivariate normal, rho = 0.75: I = -1/2 log(1 - rho^2) nats


@pytest.fixture(scope="module")
def normal_task():
    return tasks.get(NORMAL)


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(7)
    x = rng.normal(size=400)
    return x, x + 0.5 * rng.normal(size=400)


def npy_bytes(arr, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


# ----- workbench.lab -------------------------------------------------------------------------
def test_methods_for_lists_only_methods_that_compute_the_quantity():
    for quantity in lab.LAB_QUANTITIES:
        names = lab.methods_for(quantity)
        assert "plugin" in names
        assert all(wb.api.get_estimator_class(n).supports(quantity) for n in names)
    with pytest.raises(WorkbenchError, match="quantity"):
        lab.methods_for("conditional_mutual_info")


def test_sources_come_from_the_task_suite_and_the_datasets():
    names = lab.available_tasks()
    assert set(tasks.names()) <= set(names)
    assert {t.name for t in tasks.discrete_suite()} <= set(names)
    assert "tishby12" in lab.available_datasets()
    x, y = lab.dataset_xy("tishby12", n=100, seed=1)
    assert x.shape == (100, 12) and y.shape == (100,)
    x_all, _ = lab.dataset_xy("tishby12")
    assert len(x_all) == 4096  # every 12-bit pattern once
    with pytest.raises(InputError, match="unknown dataset"):
        lab.dataset_xy("nope")


def test_estimate_matches_the_front_door_and_carries_the_truth(normal_task):
    x, y = normal_task.sample(300, 0)
    res = lab.estimate(x, y, method="ksg", n_resamples=20, truth=normal_task.mutual_info, k=4)
    assert res.value == pytest.approx(float(wb.mutual_info(x, y, method="ksg", units="nats",
                                                           k=4)))
    assert res.units == "nats" and res.n == 300 and res.method == "ksg(k=4)"
    assert res.low <= res.high and res.n_resamples == 20 and res.scheme == "subsample"
    assert res.abs_error == pytest.approx(abs(res.value - normal_task.mutual_info))
    bits = res.to("bits")
    assert bits.value == pytest.approx(res.value / math.log(2))
    assert bits.truth == pytest.approx(normal_task.mutual_info / math.log(2))
    assert bits.to("nats").low == pytest.approx(res.low)
    skipped = lab.estimate(x, y, method="ksg", n_resamples=0)
    assert skipped.low is None and skipped.high is None


def test_estimate_skips_an_interval_over_the_time_budget(normal_task):
    x, y = normal_task.sample(200, 0)
    res = lab.estimate(x, y, method="ksg", n_resamples=50, interval_budget_s=1e-9)
    assert res.low is None and res.n_resamples == 0 and "budget" in res.note
    assert lab.estimate(x, y, method="ksg", n_resamples=10, interval_budget_s=1e6).low is not None


def test_estimate_of_entropy_needs_only_x():
    x = np.random.default_rng(0).integers(0, 4, size=2000)
    res = lab.estimate(x, method="plugin", quantity="entropy", n_resamples=0)
    assert res.value == pytest.approx(float(wb.entropy(x, method="plugin", units="nats")))
    assert res.symbol == "H(X)"
    with pytest.raises(InputError, match="needs y"):
        lab.estimate(x, method="plugin", quantity="mutual_info")


def test_error_vs_n_falls_for_a_consistent_estimator(normal_task):
    frame = lab.error_vs_n(normal_task, "ksg", [50, 2000], seeds=range(5))
    assert list(frame.columns[:4]) == ["n", "seed", "estimate", "seconds"]
    assert len(frame) == 10 and set(frame["units"]) == {"nats"}
    assert np.allclose(frame["truth"], normal_task.mutual_info)
    assert np.allclose(frame["error"], frame["estimate"] - frame["truth"])
    mean = frame.groupby("n")["abs_error"].mean()
    # KSG error shrinks ~ 1/sqrt(n): ratio ~ sqrt(40) = 6.3; over four disjoint groups of 5
    # seeds the measured ratio was 3.6 .. 6.0, so a factor 2 leaves a wide margin
    assert mean[2000] < mean[50] / 2


def test_estimate_vs_n_uses_all_rows_at_full_size(pairs):
    x, y = pairs
    frame = lab.estimate_vs_n(x, y, method="ksg", ns=[100, 400], seeds=[0, 1])
    full = frame[frame["n"] == 400]["estimate"]
    assert np.allclose(full, float(wb.mutual_info(x, y, method="ksg", units="nats")))
    assert frame["truth"].isna().all()
    with pytest.raises(InputError, match="outside"):
        lab.estimate_vs_n(x, y, method="ksg", ns=[401])


def test_default_ns_are_increasing_and_end_at_n():
    ns = lab.default_ns(1000, min_n=5)
    assert ns == sorted(ns) and ns[-1] == 1000 and ns[0] >= 5 and len(ns) == 5
    assert lab.default_ns(12, min_n=20) == [12]


def test_knob_sweep_values_follow_the_declarations():
    ks = lab.knob_sweep_values("ksg", "k")
    assert 3 in ks and all(isinstance(k, int) and k >= 1 for k in ks) and ks == sorted(ks)
    assert len(ks) == len(set(ks)) >= 4
    assert lab.knob_sweep_values("ksg", "normalize") == [False, True]
    norm = wb.api.get_estimator_class("kl").param["norm"]
    assert lab.knob_sweep_values("kl", "norm") == list(norm.objects)
    assert "seed" not in lab.sweepable_knobs("ksg") and "k" in lab.sweepable_knobs("ksg")
    with pytest.raises(KnobError, match="no knob"):
        lab.knob_sweep_values("ksg", "bandwidth")


def test_execution_settings_are_not_sweepable():
    settings = {"device", "threads", "progress", "callback", "backend"}
    for method in ("mine", "matrix_renyi", "compressed_ksg"):
        assert not settings & set(lab.sweepable_knobs(method)), method
    assert "steps" in lab.sweepable_knobs("mine")
    with pytest.raises(KnobError, match="execution setting"):
        lab.knob_sweep_values("mine", "threads")


def test_a_knob_without_a_scale_is_swept_across_its_soft_bounds():
    # noise_std defaults to 0 and has no upper bound that means anything (1e100)
    values = lab.knob_sweep_values("compressed_ksg", "noise_std")
    assert values[0] == 0 and values[-1] == 1 and len(values) >= 5


def test_every_sweep_value_is_a_valid_knob_value():
    # bounds, exclusive bounds and None defaults of every registered method's knobs
    for quantity in lab.LAB_QUANTITIES:
        for method in lab.methods_for(quantity):
            for knob in lab.sweepable_knobs(method):
                values = lab.knob_sweep_values(method, knob)
                assert len(values) >= 2, (method, knob)
                for value in values:
                    wb.make_estimator(method, **{knob: value})  # raises KnobError if invalid


def test_estimate_vs_knob_matches_direct_calls_and_skips_bad_values(pairs):
    x, y = pairs
    frame = lab.estimate_vs_knob(x, y, method="ksg", knob="k", values=[2, 5])
    direct = [float(wb.mutual_info(x, y, method="ksg", units="nats", k=k)) for k in (2, 5)]
    assert np.allclose(frame["estimate"], direct)
    assert list(frame["value"]) == [2, 5] and set(frame["knob"]) == {"k"}
    small = lab.estimate_vs_knob(x[:8], y[:8], method="ksg", knob="k", values=[2, 50])
    assert list(small["value"]) == [2] and 50 in small.attrs["skipped"]
    with pytest.raises(WorkbenchError):
        lab.estimate_vs_knob(x[:8], y[:8], method="ksg", knob="k", values=[50, 60])


def _in_units(frame, units):
    return convert_columns(frame, lab.VALUE_COLUMNS, units)


def test_lab_frames_convert_value_columns_only(normal_task):
    frame = lab.error_vs_n(normal_task, "ksg", [100], seeds=[0])
    bits = convert_columns(frame, lab.VALUE_COLUMNS, "bits")
    assert bits["estimate"].iloc[0] == pytest.approx(frame["estimate"].iloc[0] / math.log(2))
    assert bits["n"].iloc[0] == 100 and set(bits["units"]) == {"bits"}
    assert convert_columns(bits, lab.VALUE_COLUMNS, "nats")["truth"].iloc[0] == pytest.approx(
        normal_task.mutual_info)
    # rows carry their own units: a frame mixing nats and bits rows converts row by row
    mixed = convert_columns(pd.concat([frame, bits]), lab.VALUE_COLUMNS, "bits")
    assert mixed["estimate"].tolist() == pytest.approx([bits["estimate"].iloc[0]] * 2)


@pytest.mark.parametrize("spec, expected", [("-1", [3]), ("0,2", [0, 2]), ("1:3", [1, 2]),
                                            ("-2:", [2, 3]), (" 3 , 3", [3])])
def test_parse_columns(spec, expected):
    assert lab.parse_columns(spec, 4) == expected


@pytest.mark.parametrize("spec", ["4", "a", "", "1-2", "5:"])
def test_parse_columns_rejects_bad_specs(spec):
    with pytest.raises(InputError, match="y columns"):
        lab.parse_columns(spec, 4)


def test_split_columns():
    arr = np.arange(12.0).reshape(3, 4)
    x, y = lab.split_columns(arr, "1,3")
    assert np.array_equal(x, arr[:, [0, 2]]) and np.array_equal(y, arr[:, [1, 3]])
    with pytest.raises(InputError, match="every column"):
        lab.split_columns(arr, "0:4")
    with pytest.raises(InputError, match="two columns"):
        lab.split_columns(np.arange(5.0), "-1")


def test_load_xy_from_the_supported_layouts():
    table = np.column_stack([np.arange(6.0), np.arange(6.0) ** 2, np.arange(6.0) % 2])
    x, y = lab.load_xy(npy_bytes(table), "t.npy", y_columns="-1")
    assert x.shape == (6, 2) and np.array_equal(y[:, 0], table[:, 2])
    csv = b"a,b\n1,2\n3,4\n5,6\n"
    x, y = lab.load_xy(csv, "t.csv", y_columns="0")
    assert np.array_equal(x[:, 0], [2, 4, 6]) and np.array_equal(y[:, 0], [1, 3, 5])
    buf = io.BytesIO()
    np.savez(buf, x=table[:, :2], y=table[:, 2])
    x, y = lab.load_xy(buf.getvalue(), "xy.npz")
    assert x.shape == (6, 2) and y.shape == (6,)
    x, y = lab.load_xy(npy_bytes(table[:, :2]), "x.npy", npy_bytes(table[:, 2]), "y.npy")
    assert x.shape == (6, 2) and y.shape == (6,)
    x, y = lab.load_xy(npy_bytes(table), "t.npy", quantity="entropy")
    assert x.shape == (6, 3) and y is None


def test_load_xy_rejects_unsafe_and_bad_files():
    with pytest.raises(FileLoadError, match="objects.npy"):
        lab.load_xy(npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True),
                    "objects.npy")
    with pytest.raises(FileLoadError, match="not numeric"):
        lab.load_xy(b"a,b\n1,x\n", "words.csv")
    with pytest.raises(FileLoadError, match="no file"):
        lab.load_xy(b"", "empty.npy")
    with pytest.raises(FileLoadError, match="limit"):
        lab.load_xy(npy_bytes(np.zeros((100, 2))), "big.npy", max_bytes=100)


def test_estimate_with_auto_says_what_it_chose_and_why(normal_task):
    x, y = normal_task.sample(300, 0)
    choice = wb.api.choose_method(x, y)
    res = lab.estimate(x, y, method=lab.AUTO, n_resamples=10)
    assert (res.method_name, res.knobs, res.reason) == (choice.method, choice.knobs,
                                                        choice.reason)
    assert res.reason and res.low is not None
    assert res.value == pytest.approx(float(wb.mutual_info(x, y, method="auto", units="nats")))
    named = lab.estimate(x, y, method="ksg", n_resamples=0)
    assert named.reason == "" and named.method_name == "ksg"
    with pytest.raises(KnobError, match="auto"):
        lab.estimate(x, y, method=lab.AUTO, n_resamples=0, no_such_knob=1)


def test_check_sample_size_names_the_limit_it_crossed():
    assert lab.check_sample_size(lab.MAX_N) == lab.MAX_N
    with pytest.raises(InputError, match=r"above the limit of 200,000"):
        lab.check_sample_size(lab.MAX_N + 1)
    with pytest.raises(InputError, match="below the minimum"):
        lab.check_sample_size(lab.MIN_N - 1)
    with pytest.raises(InputError, match="whole number"):
        lab.check_sample_size(12.5)


def test_entropy_of_distinct_samples_is_saturated_at_log_n():
    n = 500
    distinct = np.random.default_rng(0).permutation(10**6)[:n]  # every sample its own symbol
    for method in ("plugin", "miller_madow"):
        res = lab.estimate(distinct, method=method, quantity="entropy", n_resamples=0)
        assert res.value >= math.log(n) - 1e-9 and res.saturated, method
        assert res.ceiling == pytest.approx(math.log(n))  # nats, what lab.estimate returns
        assert res.to("bits").ceiling == pytest.approx(math.log2(n))
    fine_bins = lab.estimate(np.random.default_rng(0).normal(size=n), method="binning",
                             quantity="entropy", n_resamples=0, n_bins=100_000)
    assert fine_bins.saturated
    # a well-sampled discrete variable, and a differential entropy, sit far from any ceiling
    four = np.random.default_rng(0).integers(0, 4, size=n)
    assert not lab.estimate(four, method="plugin", quantity="entropy", n_resamples=0).saturated
    wide = np.random.default_rng(0).uniform(0, 10**4, size=n)  # differential H ≈ 9.2 > log n
    kl = lab.estimate(wide, method="kl", quantity="entropy", n_resamples=0)
    assert kl.value > math.log(n) and not kl.saturated
    assert lab.is_saturated(math.log(n), n, "plugin")
    assert not lab.is_saturated(0.9 * math.log(n), n, "plugin")
    assert not lab.is_saturated(math.log(n), n, "kl")


def test_progress_clock_reports_steps_time_left_and_cancels():
    now = [0.0]
    clock = lab.ProgressClock(clock=lambda: now[0])
    assert clock.report() == lab.ProgressReport("estimate", 0.0)
    now[0] = 10.0
    clock(100, 1000, 0.5)  # 100 steps in 10 s: 900 more take about 90 s
    now[0] = 12.0
    report = clock.report()
    assert (report.step, report.total, report.estimate) == (100, 1000, 0.5)
    assert report.fraction == 0.1 and report.elapsed == 12.0
    assert report.seconds_left == pytest.approx(88.0)
    clock.start_stage("interval")
    assert clock.report() == lab.ProgressReport("interval", 0.0)
    clock.cancel()
    with pytest.raises(lab.EstimateCancelled):
        clock(200, 1000, 0.6)
    with pytest.raises(lab.EstimateCancelled):
        clock.start_stage("plots")


def test_estimate_reports_neural_training_steps_to_its_clock(normal_task):
    x, y = normal_task.sample(200, 0)
    reports = []

    class Recorder(lab.ProgressClock):
        def __call__(self, step, total, estimate=None):
            super().__call__(step, total, estimate)
            reports.append((step, total))

    res = lab.estimate(x, y, method="mine", n_resamples=0, clock=Recorder(), steps=40,
                       eval_every=10, batch_size=64)
    assert reports and reports[0] == (10, 40) and all(t == 40 for _, t in reports)
    assert res.method == "mine(batch_size=64, steps=40, eval_every=10)"  # no callback in it
    stopped = lab.ProgressClock()
    stopped.cancel()
    with pytest.raises(lab.EstimateCancelled):
        lab.estimate(x, y, method="mine", n_resamples=0, clock=stopped, steps=40,
                     eval_every=10, batch_size=64)


def test_upload_budget_holds_replaces_refuses_and_releases():
    budget = lab.UploadBudget(1000)
    budget.hold("a", 600)
    budget.hold("a", 700)  # a replaces what it held
    assert budget.used == 700 and budget.held("a") == 700
    with pytest.raises(FileLoadError, match="upload budget"):
        budget.hold("b", 400, "'b.npy'")
    assert budget.used == 700 and budget.held("b") == 0  # refused: b holds nothing
    budget.hold("b", 300)
    assert budget.used == 1000
    with pytest.raises(FileLoadError, match="'big.npy' needs"):
        budget.hold("a", 800, "'big.npy'")
    assert budget.held("a") == 0 and budget.used == 300  # a's old file went too
    budget.release("b")
    budget.release("nobody")
    assert budget.used == 0
    with pytest.raises(InputError):
        lab.UploadBudget(0)


def test_read_upload_parses_once_and_holds_the_larger_of_file_and_arrays():
    table = np.arange(60.0).reshape(20, 3)
    data = npy_bytes(table)
    budget = lab.UploadBudget(10 * len(data))
    upload = lab.read_upload(data, "t.npy", budget=budget, owner="x")
    assert isinstance(upload.content, np.ndarray) and np.array_equal(upload.content, table)
    assert upload.n_bytes == len(data) and budget.held("x") == len(data)
    # a compressed .npz holds far more in memory than it took to upload
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.zeros((2000, 2)), y=np.zeros(2000))
    packed = buf.getvalue()
    big_budget = lab.UploadBudget(10**6)
    upload = lab.read_upload(packed, "xy.npz", budget=big_budget, owner="x")
    assert upload.n_bytes == 3 * 2000 * 8 > len(packed) and big_budget.used == upload.n_bytes
    x, y = lab.xy_from_uploads(upload)
    assert x.shape == (2000, 2) and y.shape == (2000,)
    with pytest.raises(FileLoadError, match="upload budget"):
        lab.read_upload(packed, "xy.npz", budget=lab.UploadBudget(len(packed) + 1), owner="x")
    # refused before parsing when the file alone is over; failures leave nothing held
    with pytest.raises(FileLoadError, match="upload budget"):
        lab.read_upload(b"x" * (budget.limit + 1), "t.npy", budget=budget, owner="x")
    assert budget.held("x") == 0
    budget.hold("x", 5)
    with pytest.raises(FileLoadError, match="wrong header"):
        lab.read_upload(b"junk", "t.npy", budget=budget, owner="x")
    assert budget.used == 0


# ----- workbench.plots.estimators ------------------------------------------------------------
def test_plots_label_axes_with_units(normal_task):
    import holoviews as hv

    from workbench.plots import estimators as plots

    frame = _in_units(lab.error_vs_n(normal_task, "ksg", [50, 100], seeds=[0, 1]),
                               "bits")
    overlay = plots.error_vs_n(frame)
    assert isinstance(overlay, hv.Overlay)
    labels = {d.pprint_label for el in overlay for d in el.vdims}
    assert any("(bits)" in label and "true I(X;Y)" in label for label in labels)
    assert "(bits)" in overlay.opts.get().kwargs["title"]
    knob = _in_units(
        lab.estimate_vs_knob(*normal_task.sample(200, 0), method="ksg", knob="normalize",
                             truth=normal_task.mutual_info), "nats")
    knob_plot = plots.estimate_vs_knob(knob)
    assert len(knob_plot) == 3  # estimate line, points, truth line
    assert {str(v) for v in knob_plot.get(0).data["value"]} == {"False", "True"}
    assert "(nats)" in knob_plot.get(0).vdims[0].pprint_label
    with pytest.raises(WorkbenchError, match="mixes units"):
        plots.error_vs_n(pd.concat([frame, _in_units(frame, "nats")]))


# ----- widgets.estimator_lab.EstimatorLab without a browser ------------------------------------
@pytest.fixture
def quick_lab():
    from widgets.estimator_lab import EstimatorLab

    return EstimatorLab(n=200, n_resamples=0, sweeps=False, task=NORMAL)


def test_lab_computes_on_creation_and_when_knobs_move(quick_lab):
    assert quick_lab.error == "" and quick_lab.result is not None
    assert quick_lab.method == "ksg" and quick_lab.result.truth == pytest.approx(
        tasks.get(NORMAL).mutual_info)
    first = quick_lab.result.value
    quick_lab.estimator.k = 9
    assert quick_lab.result.method == "ksg(k=9)" and quick_lab.result.value != first
    quick_lab.method = "ksg2"
    assert type(quick_lab.estimator).method_name == "ksg2"
    assert quick_lab.result.method == "ksg2"
    quick_lab.method = "ksg"  # the knob values of each method are kept
    assert quick_lab.estimator.k == 9 and quick_lab.result.method == "ksg(k=9)"


def test_lab_units_switch_converts_without_recomputing(quick_lab):
    result = quick_lab.result
    quick_lab.units = "nats"
    nats = quick_lab.shown_value
    quick_lab.units = "bits"
    assert quick_lab.result is result
    assert quick_lab.shown_value == pytest.approx(nats / math.log(2))
    assert "bits" in quick_lab._result_html()


def test_lab_entropy_mode_switches_the_methods(quick_lab):
    quick_lab.quantity = "entropy"
    assert quick_lab.method in lab.methods_for("entropy")
    assert quick_lab.result.quantity == "entropy" and quick_lab.error == ""
    quick_lab.quantity = "mutual_info"
    assert quick_lab.result.quantity == "mutual_info"


def test_lab_sweeps_fill_both_plot_frames():
    from widgets.estimator_lab import EstimatorLab

    the_lab = EstimatorLab(n=120, n_resamples=0, n_seeds=2, task=NORMAL)
    assert the_lab.sweep_knob == "k"
    assert len(the_lab.n_curve) == 2 * len(lab.default_ns(120, 4))
    assert set(the_lab.knob_curve["knob"]) == {"k"}
    assert len(the_lab._n_plot) == 1 and len(the_lab._knob_plot) == 1
    the_lab.sweeps = False
    assert the_lab.n_curve is None and len(the_lab._n_plot) == 0


def test_lab_skips_work_over_its_time_budget(monkeypatch):
    import widgets.estimator_lab as estimator_lab
    from widgets.estimator_lab import EstimatorLab

    # A fake clock that moves 1 s per reading: every timed estimate "takes" exactly 1 s, so
    # what is skipped depends on the budget alone, not on the machine's speed. Both modules
    # read time.perf_counter (workbench.lab times the estimate, the widget re-times it).
    ticks = iter(range(10**9))
    clock = types.SimpleNamespace(perf_counter=lambda: float(next(ticks)))
    monkeypatch.setattr(lab, "time", clock)
    monkeypatch.setattr(estimator_lab, "time", clock)

    the_lab = EstimatorLab(n=200, n_resamples=20, time_budget_s=0.001, task=NORMAL)
    assert the_lab.result is not None and the_lab.result.low is None
    assert the_lab.n_curve is None and the_lab.knob_curve is None
    assert "interval skipped" in the_lab.warning and "plots skipped" in the_lab.warning
    # fake seconds: 20 resamples ≈ 20 s, the sweeps' ~20 estimates ≈ 20 s; both under 1000
    the_lab.time_budget_s = 1000
    assert the_lab.result.low is not None and the_lab.n_curve is not None
    assert the_lab.warning == ""


def test_lab_bad_upload_sets_an_error_and_a_good_one_clears_it(quick_lab):
    quick_lab.upload(npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True),
                     "objects.npy")
    assert quick_lab.source == "upload"
    assert "objects.npy" in quick_lab.error and quick_lab.result is None
    assert quick_lab._error_w.visible and "objects.npy" in quick_lab._error_w.object
    quick_lab.upload(b"a,b\n1,x\n", "words.csv")
    assert "not numeric" in quick_lab.error
    rng = np.random.default_rng(0)
    x = rng.normal(size=150)
    table = np.column_stack([x, x + rng.normal(size=150)])
    quick_lab.upload(npy_bytes(table), "pairs.npy")
    assert quick_lab.error == "" and quick_lab.result.n == 150
    assert not quick_lab._error_w.visible
    quick_lab.y_columns = "7"
    assert "y columns" in quick_lab.error


def test_lab_refuses_uploads_over_the_limit():
    from widgets.estimator_lab import EstimatorLab

    the_lab = EstimatorLab(max_upload_mb=0.001, n=100, n_resamples=0, sweeps=False)
    the_lab.upload(npy_bytes(np.zeros((500, 2))), "big.npy")
    assert "over the" in the_lab.error and "limit" in the_lab.error
    assert the_lab._uploads["x"].content is None


def test_lab_without_a_file_waits_instead_of_failing(quick_lab):
    quick_lab.source = "upload"
    assert quick_lab.error == "" and quick_lab.result is None and "Upload" in quick_lab.status
    quick_lab.source = "dataset"
    assert quick_lab.status == "" and quick_lab.result.n == 200


def test_lab_shows_core_errors_as_messages(quick_lab):
    quick_lab.n_resamples = 5  # bootstrap_ci needs at least 10
    assert "n_resamples" in quick_lab.error and quick_lab.result is None


def test_lab_auto_shows_the_method_it_chose_and_why(quick_lab):
    quick_lab.sweeps = True
    quick_lab.method = lab.AUTO
    assert quick_lab.estimator is None and quick_lab.sweep_knob == "(none)"
    r = quick_lab.result
    assert r.reason and r.method_name == "ksg" and r.method == "ksg(copula=True)"
    card = quick_lab._result_html()
    assert "wb-auto-reason" in card and "auto chose" in card
    assert set(quick_lab.n_curve["method"]) == {"ksg(copula=True)"}  # plots of the chosen one
    assert "choose_method" in quick_lab._summary.object and quick_lab.error == ""


def test_lab_drops_the_previous_methods_result_at_once(quick_lab):
    seen = []
    quick_lab.param.watch(lambda e: seen.append(e.new), "result")
    quick_lab.method = "ksg2"
    assert seen[0] is None and seen[-1].method == "ksg2"  # cleared before the new one came


def test_lab_marks_the_shown_result_stale_until_the_new_one_arrives(quick_lab):
    seen = []
    quick_lab.param.watch(lambda e: seen.append(e.new), "stale")
    quick_lab.seed = 3  # a change marks the shown result stale, the new estimate clears it
    assert seen == [True, False]
    assert not quick_lab.stale and "wb-stale" not in quick_lab._result_html()
    quick_lab.stale = True  # how the card shows a stale result
    assert "wb-stale" in quick_lab._result_html() and "out of date" in quick_lab._result_html()


def test_lab_says_when_the_sample_size_is_out_of_range(quick_lab):
    quick_lab.n = lab.MAX_N + 1
    assert "above the limit" in quick_lab.error and quick_lab.result is None
    assert quick_lab._error_w.visible
    quick_lab.n = 300
    assert quick_lab.error == "" and quick_lab.result.n == 300


def test_lab_flags_a_saturated_entropy():
    from widgets.estimator_lab import EstimatorLab

    the_lab = EstimatorLab(quantity="entropy", n_resamples=0, sweeps=False)
    distinct = np.random.default_rng(0).permutation(10**6)[:400].astype(np.int64)
    the_lab.upload(npy_bytes(distinct), "ids.npy")
    the_lab.method = "plugin"
    assert the_lab.result.saturated
    card = the_lab._result_html()
    assert "wb-saturated" in card and f"{math.log2(400):.4f} bits" in card
    the_lab.close()


def test_lab_uploads_share_a_budget_and_release_it():
    from widgets.estimator_lab import EstimatorLab

    table = np.random.default_rng(0).normal(size=(200, 2))
    data = npy_bytes(table)
    budget = lab.UploadBudget(int(1.5 * len(data)))
    first = EstimatorLab(n_resamples=0, sweeps=False, upload_budget=budget)
    second = EstimatorLab(n_resamples=0, sweeps=False, upload_budget=budget)
    first.upload(data, "a.npy")
    assert first.result.n == 200 and budget.used == len(data)
    assert isinstance(first._uploads["x"].content, lab.Upload)  # parsed once, kept parsed
    second.upload(data, "b.npy")
    assert "upload budget" in second.error and second.result is None
    assert second._error_w.visible and budget.used == len(data)
    first.clear_uploads()
    assert budget.used == 0
    second.upload(data, "b.npy")
    assert second.error == "" and budget.used == len(data)
    second.close()  # the session ends
    assert budget.used == 0


def test_banners_escape_user_strings():
    import panel as pn

    from widgets.components import alert, escape, set_alert

    payload = '<img src=x onerror="window.__x=1">.npy'
    banner = alert("danger", "wb-error")
    set_alert(banner, f"{payload!r} is not valid\n\nsecond *paragraph* [link](x)")
    html = banner._transform_object(banner.object)["object"]  # what the browser receives
    assert "<img" not in banner.object and "&lt;img src=x onerror=&quot;" in banner.object
    assert "&lt;em&gt;" not in html and "&lt;a " not in html  # no Markdown either
    assert escape("a<b>&\"") == "a&lt;b&gt;&amp;&quot;"
    set_alert(banner, "")
    assert not banner.visible
    assert isinstance(banner, pn.pane.Alert)


def test_lab_error_banner_shows_an_uploaded_file_name_literally(quick_lab):
    quick_lab.upload(b"junk", '<img src=x onerror="window.__x=1">.npy')
    assert "<img" in quick_lab.error  # the message itself is plain text
    assert "<img" not in quick_lab._error_w.object
    assert "&lt;img src=x onerror=&quot;window.__x=1&quot;&gt;.npy" in quick_lab._error_w.object


# ----- widgets.app and `workbench serve` -----------------------------------------------------
def test_page_registry_tolerates_pages_not_written_yet(monkeypatch):
    from widgets import app

    slugs = [p.slug for p, _ in app.available_pages()]
    assert "estimator_lab" in slugs
    ghost = app.Page("ghost", "Ghost", "widgets.no_such_page:page", "not written yet")
    monkeypatch.setattr(app, "PAGES", (*app.PAGES, ghost))
    assert app.load_factory(ghost) is None
    routes = app.routes(app.AppConfig(max_upload_mb=3))
    assert "/" in routes and "estimator_lab" in routes and "ghost" not in routes
    page = routes["estimator_lab"]()
    assert page.title == "Estimator Lab"


def test_sessions_get_their_own_pages_and_share_one_training_gate(monkeypatch):
    from widgets import app
    from widgets.training_session import LiveTraining

    made = []
    init = LiveTraining.__init__

    def record(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(LiveTraining, "__init__", record)
    routes = app.routes(app.AppConfig(max_trainings=3))
    for slug in ("plane_studio", "plane_studio", "entropy_monitor"):
        routes[slug]()
    assert len(made) == 3 and len({id(m._session) for m in made}) == 3
    gate = made[0]._session.gate
    assert gate is not None and gate.limit == 3
    assert all(m._session.gate is gate for m in made)


def test_default_origins_name_the_loopback_and_the_address():
    from widgets.app import default_origins

    assert default_origins("127.0.0.1", 5006) == ["127.0.0.1:5006", "localhost:5006"]
    assert "myhost:80" in default_origins("myhost", 80)
    assert default_origins("0.0.0.0", 1) == ["127.0.0.1:1", "localhost:1"]


def test_serve_cli_documents_origins_and_rejects_bad_ports(capsys):
    from workbench.cli import build_parser, main

    parser = build_parser()
    args = parser.parse_args(["serve"])
    assert (args.port, args.address, args.show, args.max_upload_mb) == (5006, "127.0.0.1",
                                                                        False, 50)
    assert args.max_trainings == 2
    assert parser.parse_args(["serve", "--max-trainings", "5"]).max_trainings == 5
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--allow-websocket-origin HOST:PORT" in out and "Refusing websocket" in out
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
