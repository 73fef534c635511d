"""`workbench ib` end to end (tiny runs) and the IB-curve plot."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")

from workbench.cli import main  # noqa: E402

TINY = ["--data", "gaussian_mixture", "--betas", "1e-3,1e-1", "--seeds", "0,1", "--epochs", "2",
        "--hidden", "16", "--k", "2", "--rows", "200", "--ty-estimator", "channel"]


def test_parser_needs_no_torch_and_offers_the_library_objectives():
    from workbench.cli import ib as cli_ib
    from workbench.ib.losses import OBJECTIVES

    assert set(cli_ib.OBJECTIVES) == set(OBJECTIVES)
    code = ("import argparse, sys\nfrom workbench.cli import ib\n"
            "ib.register(argparse.ArgumentParser().add_subparsers())\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_ib_json_is_the_same_under_sync_and_a_local_cluster(tmp_path, capsys):
    tables = {}
    for scheduler in ("sync", "local"):
        assert main(["ib", *TINY, "--scheduler", scheduler, "--out",
                     str(tmp_path / scheduler), "--json"]) == 0
        records = json.loads(capsys.readouterr().out)
        assert [(r["beta"], r["seed"]) for r in records] == [(1e-3, 0), (1e-3, 1), (0.1, 0),
                                                              (0.1, 1)]
        for r in records:
            assert {"beta", "seed", "I_XT", "I_TY", "bound_XT", "test_accuracy",
                    "units"} <= set(r)
            assert r["units"] == "bits"
        tables[scheduler] = [{k: v for k, v in r.items() if k != "run"} for r in records]
        assert len(list((tmp_path / scheduler).iterdir())) == 4  # one run per (β, seed)
    assert tables["sync"] == tables["local"]


def test_ib_prints_the_table_naming_estimators_and_units(tmp_path, capsys):
    assert main(["ib", *TINY, "--seeds", "0", "--scheduler", "sync", "--out",
                 str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "I(X;T): channel" in text and "[bits]" in text
    assert text.count("vib") == 2  # one line per β
    assert main(["ib", "--betas", "-1", "--out", str(tmp_path)]) == 2  # InputError, clean


def test_ib_curve_labels_units_and_points_per_beta():
    import holoviews as hv

    from workbench.plots.ib import ib_curve

    records = [{"objective": "vib", "beta": b, "seed": s, "I_XT": 5.0 / (1 + i) + s * 0.1,
                "I_TY": 2.0 - 0.3 * i, "bound_XT": 9.0, "train_accuracy": 0.9,
                "test_accuracy": 0.8, "units": "bits"}
               for i, b in enumerate([1e-3, 1e-2, 1e-1]) for s in (0, 1)]
    plot = ib_curve(records)
    scatter = [e for e in plot if isinstance(e, hv.Scatter)][0]
    assert len(scatter.data) == 3  # one point per β, the seed mean
    assert scatter.kdims[0].label == "I(X;T) [bits]"
    assert scatter.vdims[0].label == "I(T;Y) [bits]"
    bars = [e for e in plot if isinstance(e, hv.ErrorBars)]
    assert max(bars[0].data["I_TY_std"]) == 0.0 and max(bars[1].data["I_XT_std"]) > 0
