"""Front-door plumbing: units, Estimate, knobs, unknown methods, auto, methods()."""
import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.units import LN2, Estimate, convert


@pytest.fixture
def fair_die():
    # 6-sided fair die, 60 000 rolls: plug-in H within ~1e-3 bits of log2(6) (bias (m-1)/2n
    # = 4e-5 nats; sd of the plug-in ~ sqrt(Var(log p))/sqrt(n) = 0 for a uniform pmf, so only
    # the count fluctuation term of order m/n remains).
    return np.random.default_rng(1).integers(0, 6, size=60_000)


def test_units_and_estimate(fair_die):
    bits = wb.entropy(fair_die, method="plugin")
    nats = wb.entropy(fair_die, method="plugin", units="nats")
    assert isinstance(bits, float) and isinstance(bits, Estimate)
    assert bits.units == "bits" and nats.units == "nats"
    assert bits == pytest.approx(math.log2(6), abs=2e-3)
    assert nats == pytest.approx(float(bits) * LN2, rel=1e-12)
    assert bits.to("nats") == pytest.approx(float(nats), rel=1e-12)
    assert convert(1.0, "bits", "nats") == pytest.approx(LN2)
    assert "bits" in bits.describe() and "plugin" in bits.describe()
    clone = pickle.loads(pickle.dumps(bits))
    assert clone == bits and clone.units == "bits" and clone.method == "plugin"
    assert json.loads(json.dumps({"v": bits}))["v"] == pytest.approx(float(bits))
    with pytest.raises(wb.WorkbenchError, match="units"):
        wb.entropy(fair_die, method="plugin", units="bans")


def test_unknown_method_and_knob(fair_die):
    with pytest.raises(wb.UnknownMethodError, match="available"):
        wb.entropy(fair_die, method="no-such-method")
    with pytest.raises(wb.KnobError, match="unknown knob"):
        wb.entropy(fair_die, method="plugin", banana=3)


def test_mutual_info_and_cmi_plugin():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, 40_000)
    z = rng.integers(0, 2, 40_000)
    y = x ^ z
    # pairwise independent, jointly dependent: I(X;Y)=0, I(X;Y|Z)=1 bit exactly
    assert wb.mutual_info(x, y, method="plugin") == pytest.approx(0.0, abs=1e-3)
    assert wb.conditional_mutual_info(x, y, z, method="plugin") == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(wb.InputError, match="same number of samples"):
        wb.mutual_info(x, y[:-1], method="plugin")


def test_auto_is_visible():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 1000)
    mi = wb.mutual_info(x, x, method="auto")
    assert wb.choose_method(x, x).method == "miller_madow" == mi.method
    choice = wb.choose_method(rng.normal(size=(100, 2)), rng.normal(size=(100, 1)))
    assert choice.method == "ksg" and choice.knobs == {"copula": True}
    assert "continuous" in choice.reason
    choice = wb.choose_method(rng.normal(size=(100, 3)), rng.normal(size=(100, 3)))
    assert choice.method == "copula_max"
    choice = wb.choose_method(rng.normal(size=(100, 10)), rng.normal(size=(100, 10)))
    assert choice.method == "gaussian_copula" and choice.knobs == {"bias_correct": True}
    xc = rng.normal(size=(400, 2))
    mi = wb.mutual_info(xc, xc[:, :1] + rng.normal(size=(400, 1)))
    assert mi.method == "ksg(copula=True)" and mi.knobs["copula"] is True
    assert wb.entropy(rng.normal(size=(100, 6)), method="auto").method == "gaussian"
    assert wb.choose_method(rng.normal(size=100), rng.integers(0, 3, 100)).method == "mixed"


def test_methods_listing():
    listing = wb.methods()
    names = [m["name"] for m in listing]
    assert "plugin" in names and len(names) == len(set(names))
    for m in listing:
        assert m["computes"], m["name"]
        for k in m["knobs"]:
            assert {"name", "type", "default", "doc"} <= set(k)
            assert k["doc"], f"{m['name']}.{k['name']} has no doc"
    assert list(wb.methods_table().columns)[:2] == ["name", "family"]


def test_methods_list_execution_settings_apart_from_the_knobs():
    settings = {"device", "threads", "progress", "callback", "backend"}
    listing = {m["name"]: m for m in wb.methods()}
    for m in listing.values():
        assert not settings & {k["name"] for k in m["knobs"]}, m["name"]
    assert {s["name"] for s in listing["mine"]["settings"]} == settings - {"backend"}
    assert all(s["doc"].startswith("Execution setting") for s in listing["mine"]["settings"])
    assert "device" not in wb.methods_table().set_index("name").loc["mine", "knobs"]


def readme_methods_table() -> str:
    """The table of README's "## Methods" section, header to last row."""
    lines = (Path(__file__).resolve().parents[1] / "README.md").read_text().splitlines()
    start = lines.index("## Methods")
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("| method |"))
    last = next(i for i in range(first, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[first:last]) + "\n"


def test_readme_methods_table_is_generated_from_methods():
    assert readme_methods_table() == wb.api.methods_markdown(), (
        "README's methods table differs from methods(): paste the output of "
        "`python -c 'import workbench; print(workbench.api.methods_markdown())'` over it")
    assert "| `mine` | neural | MI | critic," in wb.api.methods_markdown()


def test_methods_are_listed_family_by_family_whatever_the_import_order():
    # compressed imports neural; a process that touches it first must still list the
    # families in FAMILY_MODULES order (the Lab's menu and `workbench methods` rely on it)
    import subprocess
    import sys

    code = ("import workbench.estimators.compressed, workbench as wb; "
            "print(','.join(m['name'] for m in wb.methods()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().split(",")
    assert out == [m["name"] for m in wb.methods()]
    assert out.index("ksg") < out.index("mine") < out.index("compressed_ksg")


def test_fast_budget_is_the_default_rule_unchanged():
    rng = np.random.default_rng(1)
    shapes = [(1, 1), (2, 2), (3, 3), (5, 5), (10, 10)]
    for dx, dy in shapes:
        x, y = rng.normal(size=(300, dx)), rng.normal(size=(300, dy))
        assert wb.choose_method(x, y, budget="fast") == wb.choose_method(x, y)
    x = rng.normal(size=(400, 3))
    y = x + rng.normal(size=(400, 3))
    a = wb.mutual_info(x, y)
    b = wb.mutual_info(x, y, budget="fast")
    assert float(a) == float(b) and a.method == b.method == "copula_max"


def test_thorough_budget_changes_only_five_to_ten_dimensions():
    rng = np.random.default_rng(2)
    for dx, dy, expected in [(1, 1, "ksg"), (2, 2, "ksg"), (3, 3, "score_max"),
                             (5, 5, "score_max"), (6, 6, "gaussian_copula")]:
        x, y = rng.normal(size=(200, dx)), rng.normal(size=(200, dy))
        assert wb.choose_method(x, y, budget="thorough").method == expected
    xd = rng.integers(0, 3, 200)
    assert wb.choose_method(xd, xd, budget="thorough").method == "miller_madow"
    with pytest.raises(wb.KnobError, match="budget"):
        wb.choose_method(xd, xd, budget="slow")
    with pytest.raises(wb.KnobError, match="auto"):
        wb.mutual_info(xd, xd, method="plugin", budget="thorough")


def test_thorough_auto_runs_score_max():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 3))
    y = 0.8 * x + 0.6 * rng.normal(size=(600, 3))
    est = wb.mutual_info(x, y, budget="thorough", units="nats", steps=30)
    # truth 3 · 0.511 = 1.533 nats. score_max cannot fall below copula_max (1.42 here) by
    # construction; the 30-step MINDE gives 1.66 on these rows (both measured), so the max
    # is MINDE's. 0.25 nat is about twice the larger of the two errors.
    assert est.method.startswith("score_max") and est == pytest.approx(1.533, abs=0.25)
    assert est >= float(wb.mutual_info(x, y, method="copula_max", units="nats")) - 1e-12
