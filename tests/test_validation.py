"""as_samples is the single gate for input: every bad input gets a clear InputError."""
import numpy as np
import pandas as pd
import pytest
import torch

from workbench.errors import InputError, WorkbenchError
from workbench.validation import (
    as_samples,
    check_class_labels,
    check_same_length,
    constant_columns,
    drop_constant_columns,
    is_discrete,
)


def test_shapes_and_containers():
    assert as_samples([1.0, 2.0, 3.0]).shape == (3, 1)
    assert as_samples(np.zeros((5, 2)) + np.arange(2)).shape == (5, 2)
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    np.testing.assert_array_equal(as_samples(frame), [[1, 3], [2, 4]])
    np.testing.assert_array_equal(as_samples(pd.Series([1, 2, 3])).ravel(), [1, 2, 3])
    t = torch.arange(6, dtype=torch.float32).reshape(3, 2)
    out = as_samples(t)
    assert out.dtype == np.float64 and out.shape == (3, 2)
    assert as_samples(np.array([True, False, True]), dtype=None).dtype.kind == "i"


@pytest.mark.parametrize("bad, match", [
    (np.array([1.0, np.nan, 2.0]), "NaN"),
    (np.array([1.0, np.inf, 2.0]), "infinite"),
    (np.zeros((2, 2, 2)), "3 dimensions"),
    (np.array(["a", "b", "c"]), "non-numeric"),
    (np.array([], dtype=float), "empty"),
    (np.zeros((3, 0)), "empty"),
    (3.0, "scalar"),
    ("abc", "string"),
    (None, "None"),
    (np.array([1 + 1j, 2]), "complex"),
    ([[1, 2], [3]], "same number of features"),
])
def test_bad_inputs_raise_clear_errors(bad, match):
    with pytest.raises(InputError, match=match):
        as_samples(bad)


def test_errors_are_value_errors():
    assert issubclass(InputError, WorkbenchError) and issubclass(WorkbenchError, ValueError)


def test_min_samples_and_constant_columns():
    with pytest.raises(InputError, match="at least 4"):
        as_samples(np.arange(3.0), min_samples=4)
    a = np.column_stack([np.arange(5.0), np.ones(5)])
    assert constant_columns(a).tolist() == [1]
    assert drop_constant_columns(a).shape == (5, 1)
    with pytest.raises(InputError, match="constant"):
        as_samples(a, allow_constant=False)


def test_length_check():
    with pytest.raises(InputError, match="x has 3, y has 4"):
        check_same_length(x=np.zeros(3), y=np.zeros(4))
    assert check_same_length(x=np.zeros(3), y=np.zeros(3)) == 3


def test_discreteness_rule():
    assert is_discrete(np.array([0, 1, 2, 1]))
    assert is_discrete(np.array([0.0, 1.0, 1.0, 0.0] * 10))
    assert not is_discrete(np.random.default_rng(0).normal(size=100))
    # whole numbers with too many distinct levels for n count as continuous
    assert not is_discrete(np.arange(100.0))


def test_subsample_rows_is_seeded_sorted_and_optional():
    from workbench.validation import subsample_rows

    assert subsample_rows(10, None) is None and subsample_rows(10, 10) is None
    rows = subsample_rows(100, 7, seed=3)
    assert len(set(rows)) == 7 and (np.diff(rows) > 0).all() and rows.max() < 100
    np.testing.assert_array_equal(rows, subsample_rows(100, 7, seed=3))
    assert not np.array_equal(rows, subsample_rows(100, 7, seed=4))


def test_check_class_labels():
    out = check_class_labels(np.array([[0.0], [2.0], [1.0]]), 3)
    assert out.dtype == np.int64 and out.tolist() == [0, 2, 1]
    assert check_class_labels(torch.tensor([1, 0]), 2).tolist() == [1, 0]
    assert check_class_labels(pd.Series([True, False])).tolist() == [1, 0]
    assert check_class_labels([5, 7]).tolist() == [5, 7]  # symbols: need not be 0..C-1
    with pytest.raises(InputError, match="fractional values such as 0.5"):
        check_class_labels([0.0, 0.5])
    with pytest.raises(InputError, match="x has 3 rows but y has 2 labels"):
        check_class_labels([0, 1], 3)
    with pytest.raises(InputError, match="1-D"):
        check_class_labels(np.zeros((3, 2)), 3)
    with pytest.raises(InputError, match="non-numeric"):
        check_class_labels(["a", "b"])
    with pytest.raises(InputError, match="NaN"):
        check_class_labels([0.0, np.nan])
