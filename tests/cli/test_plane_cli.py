"""`workbench plane` and `workbench runs` end to end (tiny runs)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli import build_parser, main
from workbench.cli import plane as cli_plane
from workbench.cli.plane import parse_knob_options, parse_spec, split_specs
from workbench.errors import KnobError, UnknownMethodError
from workbench.runs import RunStore


def test_defaults_are_the_reproduction_settings():
    args = build_parser().parse_args(["plane"])
    assert (args.objective, args.beta) == ("cross_entropy", None)
    assert (args.data, args.activation, args.epochs, args.lr, args.optimizer,
            args.batch_size, args.estimator, args.n_bins, args.bin_rule) == (
        "tishby12", None, 300, 0.004, "adam", 256, None, 30, "auto")  # None: tanh
    # no --estimator: binning, but the compressed KSG for the 1-D CNN
    assert cli_plane._estimators(None, [None]) == "binning"
    assert cli_plane._estimators(None, ["cnn"]).startswith("compressed_ksg(dim=4")
    assert cli_plane._estimators("kde", ["cnn"]) == "kde"
    assert args.every == 1
    assert build_parser().parse_args(["plane", "--every", "log"]).every == "log"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["plane", "--every", "0"])


def test_cli_choices_match_the_library_and_need_no_torch():
    import subprocess
    import sys

    from workbench.cli import plane as cli_plane
    from workbench.training import loop as train
    from workbench.training import models

    assert cli_plane.ACTIVATIONS == tuple(models.ACTIVATIONS)
    assert cli_plane.OPTIMIZERS == train.OPTIMIZERS
    from workbench.ib.losses import OBJECTIVES

    assert set(cli_plane.OBJECTIVES) - {"cross_entropy"} <= set(OBJECTIVES)
    code = ("import argparse, sys\n"
            "from workbench.cli import plane, runs\n"
            "sub = argparse.ArgumentParser().add_subparsers()\n"
            "plane.register(sub); runs.register(sub)\n"
            "print('torch' in sys.modules, 'holoviews' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]  # `workbench --help` stays fast


def test_estimator_specs():
    assert split_specs("binning(n_bins=30, range_min=-1),adaptive_binning") == [
        "binning(n_bins=30, range_min=-1)", "adaptive_binning"]
    name, knobs = parse_spec("binning(n_bins=12, range_min=-1, range_max=1)")
    assert name == "binning" and knobs == {"n_bins": 12, "range_min": -1.0, "range_max": 1.0}
    assert isinstance(knobs["n_bins"], int)
    assert parse_spec("adaptive_binning") == ("adaptive_binning", {})
    with pytest.raises(UnknownMethodError):
        parse_spec("nope(k=1)")
    with pytest.raises(KnobError):
        parse_spec("binning(n_bins)")
    with pytest.raises(KnobError):
        split_specs("binning(n_bins=3")
    assert parse_knob_options(["binning.n_bins=8"], ["binning"]) == {"binning": {"n_bins": 8}}
    with pytest.raises(KnobError):
        parse_knob_options(["kde.noise_variance=0.1"], ["binning"])


def test_plane_then_runs_commands(tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["plane", "--epochs", "3", "--out", str(out), "--run-id", "first", "--no-html",
                 "--estimator", "binning,adaptive_binning", "--seed", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "first" in printed and "plane.png" in printed and "adaptive_binning" in printed
    run_dir = out / "first"
    assert (run_dir / "config.json").is_file() and (run_dir / "metrics.parquet").is_file()
    png = (run_dir / "plane.png").read_bytes()
    assert png[:4] == b"\x89PNG" and len(png) < 200_000
    config = json.loads((run_dir / "config.json").read_text())
    assert config["seed"] == 2 and config["status"] == "finished"
    assert config["estimator_knobs"]["binning"] == {"n_bins": 30, "range_min": -1.0,
                                                    "range_max": 1.0}

    code = main(["plane", "--epochs", "2", "--out", str(out), "--run-id", "second",
                 "--activation", "relu", "--estimator", "binning(bin_width=0.1)", "--quiet",
                 "--no-html", "--every", "2"])
    assert code == 0
    _, frame = RunStore(out).load("second")
    assert set(frame["estimator"]) - {""} == {"binning(bin_width=0.1)"}
    assert sorted(frame["epoch"].unique()) == [0, 2]
    capsys.readouterr()

    assert main(["runs", "list", "--root", str(out)]) == 0
    listing = capsys.readouterr().out
    assert "first" in listing and "second" in listing and "relu" in listing
    assert main(["runs", "show", "first", "--root", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "activation: tanh" in shown and "layer6" in shown
    assert main(["runs", "show", "first", "--root", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["run"] == "first"
    fig = tmp_path / "cmp.png"
    assert main(["runs", "compare", "first", "second", "--root", str(out), "--png",
                 str(fig)]) == 0
    assert "compression" in capsys.readouterr().out and fig.stat().st_size < 200_000
    assert main(["runs", "compare", "first", "--root", str(out)]) == 2  # needs two ids
    assert main(["runs", "delete", "second", "--root", str(out)]) == 0
    assert RunStore(out).ids() == ["first"]


def test_compare_runs_without_plane_rows(tmp_path, capsys):
    # runs that only hold model metrics (e.g. stopped before the first measurement)
    store = RunStore(tmp_path)
    for run_id in ("a", "b"):
        store.create({"data": "tishby12"}, run_id=run_id).append(
            [{"run": "", "epoch": 0, "layer": "model", "layer_index": 0,
              "quantity": "train_loss", "estimator": "", "value": 0.7, "units": "nats",
              "seconds": 0.0}])
    assert main(["runs", "compare", "a", "b", "--root", str(tmp_path)]) == 0
    assert "no information-plane rows" in capsys.readouterr().out
    assert main(["runs", "compare", "a", "b", "--root", str(tmp_path), "--png",
                 str(tmp_path / "x.png")]) == 2
    assert "has no information-plane rows" in capsys.readouterr().err


def test_bad_input_gives_a_clear_error(tmp_path, capsys):
    assert main(["plane", "--estimator", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err
    assert main(["plane", "--arch", "5-3-2", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert "needs 12 inputs" in capsys.readouterr().err
    assert main(["plane", "--activation", "relu", "--bin-rule", "fixed", "--epochs", "1",
                 "--out", str(tmp_path)]) == 2
    assert "unbounded" in capsys.readouterr().err
    assert main(["runs", "show", "missing", "--root", str(tmp_path)]) == 2
    # the 1-D CNN reads MNIST-1D signals only
    assert main(["plane", "--arch", "cnn", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert "'cnn' (the 1-D CNN) needs MNIST-1D" in capsys.readouterr().err


def test_plane_trains_the_cnn_on_mnist1d(tmp_path, capsys):
    """--arch cnn: the 1-D CNN of workbench.training.mnist1d_plane in the plane command, its
    conv feature maps measured by the compressed KSG against the input signals."""
    code = main(["plane", "--data", "mnist1d", "--arch", "cnn", "--activation", "relu",
                 "--epochs", "1", "--subsample", "200", "--out", str(tmp_path), "--run-id",
                 "cnn", "--no-html", "--quiet"])
    assert code == 0, capsys.readouterr().err
    config, frame = RunStore(tmp_path).load("cnn")
    assert (config["arch"], config["data"], config["subsample"]) == ("cnn", "mnist1d", 200)
    assert config["estimators"] == [["compressed_ksg", {"dim": 4, "noise_std": 0.1, "k": 3}]]
    layers = frame.query("layer != 'model'").drop_duplicates("layer")["layer"].tolist()
    assert layers == ["conv1", "conv2", "conv3", "out"]
    assert set(frame.query("layer != 'model'")["epoch"]) == {0, 1}
    # finite, and near the bound I(T;Y) <= H(Y) = log2(10): a kNN estimate on 200 rows may
    # overshoot by its bias (a few tenths of a bit; 0.5 bit allows for it)
    ity = frame.query("quantity == 'I(T;Y)'")["value"]
    assert ity.notna().all() and ity.max() <= np.log2(10) + 0.5
    assert (tmp_path / "cnn" / "plane.png").exists()


def test_plane_on_a_user_file_with_html(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    np.savez(tmp_path / "d.npz", x=x, y=(x[:, 0] > 0).astype(int))
    code = main(["plane", "--data", str(tmp_path / "d.npz"), "--epochs", "2", "--activation",
                 "relu", "--out", str(tmp_path / "runs"), "--run-id", "file"])
    assert code == 0
    html = tmp_path / "runs" / "file" / "plane.html"
    assert "I(X;T) [bits]" in html.read_text()
    config, _ = RunStore(tmp_path / "runs").load("file")
    assert config["arch"] == "3-10-7-5-4-3-2"
