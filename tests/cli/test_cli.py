"""The `workbench` command: methods, entropy, mi, cmi; knob flags from param declarations."""
import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.cli import main


def test_methods_json(capsys):
    assert main(["methods", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert all("name" in m for m in listing)
    assert "plugin" in {m["name"] for m in listing}


def test_mi_json_and_units(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, 20_000)
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "y.csv", x % 2, delimiter=",", fmt="%d")
    assert main(["mi", str(tmp_path / "x.npy"), str(tmp_path / "y.csv"), "--method", "plugin",
                 "--json", "--units", "nats"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"value", "units", "method", "seconds"} <= set(out)
    assert out["units"] == "nats" and out["method"] == "plugin"
    assert out["value"] == pytest.approx(np.log(2), abs=1e-3)  # y = x mod 2 carries 1 bit
    assert main(["entropy", str(tmp_path / "x.npy"), "--method", "plugin"]) == 0
    assert "2 bits" in capsys.readouterr().out


def test_errors_are_reported_not_raised(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.arange(5))
    assert main(["entropy", str(tmp_path / "x.npy"), "--method", "plugin", "--k", "3"]) == 2
    assert "unknown option" in capsys.readouterr().err
    assert main(["entropy", str(tmp_path / "missing.npy"), "--method", "plugin"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["entropy", str(tmp_path / "x.npy"), "--method", "nope"]) == 2


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "workbench", "methods"], capture_output=True,
                         text=True, check=True)
    assert "plugin" in out.stdout


def test_methods_json_lists_no_execution_setting_as_a_knob(capsys):
    assert main(["methods", "--json"]) == 0
    listing = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    settings = {"device", "threads", "progress", "callback", "backend"}
    for m in listing.values():
        assert not settings & {k["name"] for k in m["knobs"]}, m["name"]
    assert "steps" in {k["name"] for k in listing["mine"]["knobs"]}
    assert "device" in {s["name"] for s in listing["mine"]["settings"]}


def test_knob_flags_carry_typed_settings_but_no_callback():
    from workbench.cli.knobs import parse_knobs
    from workbench.errors import KnobError
    from workbench.estimators import get_estimator_class

    mine = get_estimator_class("mine")
    assert parse_knobs(mine, ["--steps", "20", "--threads", "2", "--device", "cpu"]) == {
        "steps": 20, "threads": 2, "device": "cpu"}
    with pytest.raises(KnobError, match="unknown option.*execution settings: --device"):
        parse_knobs(mine, ["--callback", "print"])


def test_mi_budget_flag(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", x + rng.normal(size=(300, 3)))
    files = [str(tmp_path / "x.npy"), str(tmp_path / "y.npy")]
    assert main(["mi", *files, "--budget", "thorough", "--steps", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"].startswith("score_max")
    assert main(["mi", *files, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "copula_max"
    assert main(["mi", *files, "--method", "ksg", "--budget", "thorough"]) == 2  # auto only
