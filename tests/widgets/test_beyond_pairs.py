"""The Beyond Pairs page without a browser: each analysis on a gate and on uploaded data gives
the closed-form answer in its summary, a plot and a table; bad settings show a banner."""
from __future__ import annotations

import io

import holoviews as hv
import numpy as np
import pytest

from widgets.app import PAGES
from widgets.beyond_pairs import BeyondPairs
from workbench.measures.timeseries import transfer_entropy_matrix
from workbench.plots import multivariate as mv_plots


def npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_registered_page():
    assert any(p.slug == "beyond_pairs" and p.target == "widgets.beyond_pairs:page"
               for p in PAGES)


def test_gate_analyses():
    app = BeyondPairs()
    app.compute()
    assert "synergy 1.000 bits" in app._result.object  # XOR, BROJA
    assert isinstance(app._plot.objects[0].object, hv.Bars)
    app.gate = "copy"  # recomputes by itself
    assert "unique1 1.000" in app._result.object and "synergy 0.000" in app._result.object
    app.param.update(gate="xor", analysis="O-information")
    assert "Ω = -1.000 bits" in app._result.object
    assert isinstance(app._plot.objects[0].object, hv.HeatMap)
    app.units = "nats"
    assert "Ω = -0.693 nats" in app._result.object
    app.columns = "0,0,1"
    app.analysis = "PID"
    assert "three distinct" in app._error.object and app._error.visible


def test_uploaded_data_and_transfer_entropy():
    app = BeyondPairs()
    app.source = "upload"
    assert app.method == "gaussian_copula" and app.measure == "mmi"
    assert "Upload" in app._result.object and not app._error.visible
    rng = np.random.default_rng(0)
    x = np.zeros((1500, 3))
    e = rng.normal(size=(1500, 3))
    for t in range(1, 1500):  # x0 drives x1 (a short loop to build the test series)
        x[t] = [0.5 * x[t - 1, 0], 0.4 * x[t - 1, 1] + 0.6 * x[t - 1, 0], 0.3 * x[t - 1, 2]]
        x[t] += e[t]
    app.upload.accept(npy_bytes(x), "series.npy")
    app.param.update(analysis="Transfer entropy", n_surrogates=19)
    assert "x0 → x1" in app._result.object and "p = 0.05" in app._result.object
    app.upload.accept(npy_bytes(x[:, :2]), "two.npy")
    assert "at least 3" in app._error.object


def test_te_matrix_and_plots():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(500, 3))
    table = transfer_entropy_matrix(data, method="gaussian")
    assert len(table) == 6 and set(table.columns) == {"source", "target", "te", "units",
                                                       "method"}
    assert (table["te"].abs() < 0.02).all()  # independent white noise
    assert isinstance(mv_plots.te_heatmap(table), hv.HeatMap)
    with pytest.raises(ValueError, match="at least 2"):
        transfer_entropy_matrix(data[:, :1])
