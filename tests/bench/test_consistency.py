"""Song & Ermon self-consistency table (workbench.bench.consistency) at CI scale."""
import pytest

from workbench.bench.consistency import TESTS, consistency_table, self_consistency
from workbench.errors import InputError


def test_gaussian_passes_and_binning_fails_the_self_consistency_tests():
    frame = self_consistency(("gaussian", "binning"), n=1000, seed=0)
    assert set(frame["test"]) == set(TESTS) and (frame["units"] == "nats").all()
    table = consistency_table(frame)
    # gaussian is exact for this model: independence ~ d²/(2n) = 0.0005 nat, ratios within
    # ~3 % of 1 and 2 at n = 1000 (sd of each Gaussian MI ≈ 0.02 nat on ~0.5)
    assert table.loc["gaussian", "passed"] == 3
    assert abs(table.loc["gaussian", "additivity"] - 2) < 0.1
    # 10 fixed-width bins per column: the joint histogram of 2+2 columns has 10⁴ cells for
    # 1000 rows, so additivity blows up (measured ≈ 6) and independence is biased far above 0
    assert table.loc["binning", "additivity"] > 3
    assert table.loc["binning", "independence"] > 0.1
    assert table.loc["binning", "passed"] < 3


def test_bad_arguments():
    with pytest.raises(InputError):
        self_consistency(("gaussian",), n=5)
