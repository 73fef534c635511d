"""Partial information decomposition against exact atoms.

References: the canonical gates' atoms are closed forms (workbench.bench.tasks.gates); the 40
random pmfs are checked against dit 2.3's PID_WB and PID_BROJA (its exponential-cone solver,
method="cone" via ECOS), whose values are stored in data/pid_dit_reference.json (made by
data/make_pid_reference.py) so the test runs without dit; with dit and ecos installed a live
comparison runs too. Tolerance 1e-4 bits, the issue's bar: imin is a closed form (agreement to
1e-12) and BROJA a convex optimisation that both sides solve to ~1e-8. (dit's default SLSQP
and its "admui" solver miss the BROJA optimum on several of these pmfs by up to 0.13 bit, so
they are not the reference.)
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.bench.tasks import get_gate, pid_gates
from workbench.measures.pid import ATOMS, gaussian_mmi_pid, pid_from_pmf

REFERENCE = json.loads((Path(__file__).parent / "data" / "pid_dit_reference.json").read_text())
TOL = 1e-4  # bits


def check_consistency(result, tol=1e-9):
    """Atoms sum to I(X1,X2;Y) and Red + Unq_i = I(Xi;Y)."""
    assert sum(result.values()) == pytest.approx(result.mutual_info, abs=tol)
    assert result["redundancy"] + result["unique1"] == pytest.approx(result.mi1, abs=tol)
    assert result["redundancy"] + result["unique2"] == pytest.approx(result.mi2, abs=tol)


@pytest.mark.parametrize("gate", pid_gates(), ids=lambda g: g.name)
@pytest.mark.parametrize("measure", ["imin", "broja"])
def test_gates_have_their_closed_form_atoms(gate, measure):
    result = pid_from_pmf(gate.pmf3, measure)
    for atom in ATOMS:
        assert result[atom] == pytest.approx(gate.atoms[measure][atom], abs=TOL), atom
    check_consistency(result)
    assert result.mutual_info == pytest.approx(gate.mi("bits"), abs=1e-12)


@pytest.mark.parametrize("case", range(len(REFERENCE["cases"])))
def test_random_pmfs_match_dit(case):
    ref = REFERENCE["cases"][case]
    p = np.array(ref["pmf"])
    assert "cone" in REFERENCE["broja"]
    for measure in ("imin", "broja"):
        result = pid_from_pmf(p, measure)
        for atom in ATOMS:
            assert result[atom] == pytest.approx(ref[measure][atom], abs=TOL), (measure, atom)
        check_consistency(result)
        assert min(result.values()) >= -1e-9  # both measures give non-negative atoms


def test_live_dit_comparison_on_a_few_pmfs():
    dit = pytest.importorskip("dit")
    pytest.importorskip("ecos")  # dit's exact BROJA solver
    from dit.pid import PID_BROJA, PID_WB

    keys = {"redundancy": ((0,), (1,)), "unique1": ((0,),), "unique2": ((1,),),
            "synergy": ((0, 1),)}
    rng = np.random.default_rng(7)
    for shape in [(2, 2, 2), (2, 3, 2)]:
        p = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        outcomes = list(np.ndindex(*shape))
        dist = dit.Distribution(outcomes, [p[o] for o in outcomes])
        for measure, cls in (("imin", PID_WB), ("broja", PID_BROJA)):
            ref = cls(dist, [[0], [1]], [2], **({"method": "cone"} if measure == "broja"
                                                 else {}))
            ours = pid_from_pmf(p, measure)
            for atom, key in keys.items():
                assert ours[atom] == pytest.approx(ref.get_pi(key), abs=TOL)


def test_samples_of_a_gate_and_the_result_object():
    gate = get_gate("and")
    x1, x2, y = gate.sources(40_000, seed=1)
    result = wb.pid(x1, x2, y, measure="broja")
    # plug-in atoms from n = 4e4 samples of an 8-cell pmf: sd of each ~ 3e-3 bits; 0.02 is
    # > 5 sd and still far from the 0.31 / 0.5 bit atoms
    for atom in ATOMS:
        assert result[atom] == pytest.approx(gate.atoms["broja"][atom], abs=0.02)
    check_consistency(result)
    assert set(result) == set(ATOMS) and len(result) == 4
    assert result.measure == "broja" and result.units == "bits"
    assert result["synergy"].units == "bits"
    frame = result.frame()
    assert list(frame["atom"]) == list(ATOMS) and (frame["units"] == "bits").all()
    nats = result.to("nats")
    assert nats["synergy"] == pytest.approx(result["synergy"] * math.log(2))
    nats2 = wb.pid(x1, x2, y, measure="broja", units="nats")
    assert nats2.mutual_info == pytest.approx(nats.mutual_info)


def test_bootstrap_interval_covers_the_truth():
    gate = get_gate("xor")
    x1, x2, y = gate.sources(5000, seed=3)
    result = wb.pid(x1, x2, y, measure="imin", n_resamples=50)
    low, high = result.intervals["synergy"]
    assert low <= 1.0 + 1e-9 and low < result["synergy"] <= high + 1e-12
    assert "low" in result.frame().columns


def test_gaussian_mmi_matches_the_closed_form():
    # Gaussian MI from n = 1e5 samples: sd of each MI ~ sqrt(var)/sqrt(n) < 4e-3 bits here
    # (measured over seeds: <= 3.4e-3); 0.012 bits is 3.5 sd of the largest one
    cov = np.array([[1.0, 0.3, 0.6], [0.3, 1.0, 0.4], [0.6, 0.4, 1.0]])
    exact = gaussian_mmi_pid(cov)
    assert exact["redundancy"] == pytest.approx(
        -0.5 * math.log2(1 - 0.4 ** 2), abs=1e-12)  # min of the two pairwise MIs
    z = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, 100_000)
    result = wb.pid(z[:, 0], z[:, 1], z[:, 2], measure="mmi", method="gaussian")
    for atom in ATOMS:
        assert result[atom] == pytest.approx(exact[atom], abs=0.012), atom
    check_consistency(result)
    assert result.method == "gaussian"


def test_mmi_takes_any_mi_method():
    z = np.random.default_rng(1).multivariate_normal(
        np.zeros(3), [[1, 0, 0.5], [0, 1, 0.5], [0.5, 0.5, 1]], 2000)
    result = wb.pid(z[:, 0], z[:, 1], z[:, 2], measure="mmi", method="ksg", k=5)
    check_consistency(result)
    assert result.method.startswith("ksg")


def test_bad_input_errors():
    x = np.array([0, 1, 0, 1])
    with pytest.raises(wb.UnknownMethodError, match="imin"):
        wb.pid(x, x, x, measure="ccs")
    with pytest.raises(wb.InputError, match="same"):
        wb.pid(x, x[:3], x, measure="imin")
    with pytest.raises(wb.InputError, match="non-integer"):
        wb.pid(x + 0.5, x, x, measure="broja")
    with pytest.raises(wb.InputError, match="3-D"):
        pid_from_pmf(np.ones((2, 2)) / 4)
    with pytest.raises(wb.InputError, match="sum to 1"):
        pid_from_pmf(np.ones((2, 2, 2)))
    with pytest.raises(wb.UnknownMethodError):
        pid_from_pmf(np.ones((2, 2, 2)) / 8, measure="mmi")
    with pytest.raises(wb.WorkbenchError, match="units"):
        wb.pid(x, x, x, units="bans")
    with pytest.raises(wb.InputError, match="gate"):
        get_gate("nand")


def test_joint_pmf_is_the_one_pass_joint_count():
    # the compiled joint count (y first, the last key slowest) gives p[x1, x2, y] exactly as
    # a direct ravel/bincount would, for unequal alphabet sizes
    from workbench.measures.pid import _joint_pmf

    rng = np.random.default_rng(0)
    c1, c2, cy = rng.integers(0, 3, 500), rng.integers(0, 5, 500), rng.integers(0, 2, 500)
    shape = (3, 5, 2)
    want = np.bincount(np.ravel_multi_index((c1, c2, cy), shape),
                       minlength=30).reshape(shape) / 500
    assert np.array_equal(_joint_pmf(c1, c2, cy), want)
