"""`workbench plane --seeds`: a grid of runs, the same table on every scheduler."""
from __future__ import annotations

import pandas as pd
import pytest

from workbench.cli import build_parser, main
from workbench.runs import RunStore


def _experiment(root):
    folders = [p for p in root.iterdir() if "experiment-seeds" in p.name]
    assert len(folders) == 1
    return folders[0]


def test_seeds_give_the_same_table_on_sync_and_a_local_cluster(tmp_path, capsys):
    tables = {}
    for scheduler in ("sync", "local"):
        out = tmp_path / scheduler
        code = main(["plane", "--seeds", "0-1", "--activation", "tanh,relu", "--epochs", "3",
                     "--every", "1", "--scheduler", scheduler, "--out", str(out)])
        assert code == 0
        printed = capsys.readouterr().out
        assert "over 2 seed(s)" in printed and "seeds compressing" in printed
        folder = _experiment(out)
        tables[scheduler] = (pd.read_csv(folder / "compression.csv"),
                             pd.read_csv(folder / "band.csv"))
        assert len(RunStore(out).ids()) == 4  # 2 seeds x 2 activations, each a run
        html = (folder / "seeds.html").read_text()
        assert "I(X;T) [bits]" in html
    for a, b in zip(tables["sync"], tables["local"]):
        pd.testing.assert_frame_equal(a, b)  # exactly: every run is deterministic per seed
    comp = tables["sync"][0]
    assert list(dict.fromkeys(comp["group"])) == ["tanh", "relu"]
    assert (comp["n_seeds"] == 2).all()


def test_seed_flags():
    args = build_parser().parse_args(["plane", "--seeds", "0-9", "--activation", "tanh,relu",
                                      "--arch", "12-8-2", "12-6-4-2", "--scheduler", "sync"])
    assert (args.seeds, args.activation, args.arch, args.scheduler) == (
        "0-9", ["tanh", "relu"], ["12-8-2", "12-6-4-2"], "sync")
    # spaces after the commas are dropped before the names reach training
    assert build_parser().parse_args(["plane", "--activation", "tanh, relu"]).activation == [
        "tanh", "relu"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["plane", "--activation", "tanh,nope"])


def test_bad_seeds_are_a_clear_error(tmp_path, capsys):
    assert main(["plane", "--seeds", "3-1", "--out", str(tmp_path)]) != 0
    assert "backwards" in capsys.readouterr().err


def test_an_ib_objective_runs_a_bottleneck_grid(tmp_path, capsys):
    """--objective/--beta: every seed trains the bottleneck network; the table is the
    bottleneck's and every saved run's config names the objective and β."""
    out = tmp_path / "runs"
    code = main(["plane", "--seeds", "0-1", "--objective", "csib", "--beta", "0.02",
                 "--arch", "12-16-4-2", "--epochs", "2", "--subsample", "300", "--out",
                 str(out), "--no-html", "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "csib β=0.02 bottleneck" in " ".join(printed.split())
    configs = [RunStore(out).load(run)[0] for run in RunStore(out).ids()]
    assert [(c["objective"], c["beta"], c["k"]) for c in configs] == [("csib", 0.02, 4)] * 2
    # what does not apply is refused before training
    assert main(["plane", "--objective", "vib", "--activation", "tanh", "--epochs", "1",
                 "--out", str(out)]) == 2
    assert "ReLU encoder" in capsys.readouterr().err
    assert main(["plane", "--beta", "0.1", "--epochs", "1", "--out", str(out)]) == 2
    assert "IB --objective" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--estimator", "kde"], "do not apply with an IB --objective"),
    (["--knob", "binning.n_bins=10"], "do not apply with an IB --objective"),
    (["--data", "mnist1d", "--arch", "cnn"], "MLP bottleneck"),
])
def test_options_an_ib_objective_ignores_are_refused(tmp_path, capsys, extra, message):
    """An IB grid measures T from its own noise and trains the MLP bottleneck: an estimator,
    a knob or the CNN given with it is refused, not silently dropped."""
    code = main(["plane", "--objective", "vib", "--epochs", "1", "--out",
                 str(tmp_path / "runs"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
