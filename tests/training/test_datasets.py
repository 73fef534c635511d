"""Datasets: the generated 12-bit task against the published file, splits, file loading."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import FileLoadError, InputError
from workbench.training import datasets as D


def test_tishby12_patterns_are_all_4096_distinct_bit_vectors():
    p = D.tishby12_patterns()
    assert p.shape == (4096, 12) and p.dtype == np.uint8
    assert set(np.unique(p)) == {0, 1}
    assert len(np.unique(p, axis=0)) == 4096


def test_tishby12_matches_the_published_file_exactly(shared_data):
    from scipy.io import loadmat

    var_u = shared_data / "var_u.mat"
    if not var_u.exists():
        pytest.skip("reference file ../shared/data/var_u.mat absent")
    ref = loadmat(var_u)
    f, y = ref["F"], ref["y"].ravel()
    ours = D.tishby12_patterns()
    # same 4096 patterns, same row order
    assert np.array_equal(ours, f)
    agreement = float(np.mean(D.tishby12_labels(ours) == y))
    assert agreement == 1.0, f"labels agree on {agreement:.4f} of the patterns"


def _icosahedral_permutation(rotation: np.ndarray) -> np.ndarray:
    moved = D.ICOSAHEDRON @ rotation.T
    dots = moved @ D.ICOSAHEDRON.T
    perm = dots.argmax(axis=1)
    assert np.allclose(dots.max(axis=1), 1.0)  # the rotation maps vertices onto vertices
    return perm


def test_tishby12_labels_are_invariant_under_icosahedral_rotations():
    axis = D.ICOSAHEDRON[0]
    angle = 2 * np.pi / 5  # a vertex axis is a 5-fold symmetry axis
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rot = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    perm = _icosahedral_permutation(rot)
    p = D.tishby12_patterns()
    moved = np.zeros_like(p)
    moved[:, perm] = p
    assert not np.array_equal(moved, p)
    assert np.array_equal(D.tishby12_labels(moved), D.tishby12_labels(p))
    # inversion through the centre is a symmetry too
    assert np.array_equal(D.tishby12_labels(p[:, _icosahedral_permutation(-np.eye(3))]),
                          D.tishby12_labels(p))


def test_tishby12_split_and_balance():
    ds = D.tishby12(seed=3)
    assert ds.n_classes == 2 and ds.n_features == 12
    assert len(ds.x_train) == round(0.85 * 4096) and len(ds.x) == 4096
    assert abs(ds.y.mean() - 0.517) < 0.001  # 2118 of 4096 patterns are labelled 1
    again = D.tishby12(seed=3)
    assert np.array_equal(ds.x_train, again.x_train)
    other = D.tishby12(seed=4)
    assert not np.array_equal(ds.x_train, other.x_train)
    # train and test together are still every pattern once
    assert len(np.unique(ds.x, axis=0)) == 4096


def test_digits_and_gaussian_mixture():
    dg = D.digits(seed=0)
    assert dg.n_classes == 10 and dg.n_features == 64
    assert 0.0 <= dg.x.min() and dg.x.max() <= 1.0
    gm = D.gaussian_mixture(n=300, classes=3, dim=4, seed=1)
    assert gm.x.shape == (300, 4) and gm.n_classes == 3
    assert np.bincount(gm.y).tolist() == [100, 100, 100]
    assert np.array_equal(gm.x, D.gaussian_mixture(n=300, classes=3, dim=4, seed=1).x)
    with pytest.raises(InputError):
        D.gaussian_mixture(n=10, classes=1)


def test_from_file_npz_npy_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = np.arange(40) % 2
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = D.from_file(tmp_path / "d.npz")
    assert ds.n_features == 3 and ds.n_classes == 2 and len(ds.x) == 40

    np.save(tmp_path / "d.npy", np.column_stack([x, y]))
    ds = D.from_file(tmp_path / "d.npy")
    assert ds.n_features == 3 and sorted(np.unique(ds.y)) == [0, 1]

    # a named label column anywhere in the header
    lines = ["a,label,b"] + [f"{r[0]},{lab + 5},{r[1]}" for r, lab in zip(x, y)]
    (tmp_path / "d.csv").write_text("\n".join(lines))
    ds = D.from_file(tmp_path / "d.csv", train_fraction=1.0)
    assert ds.n_features == 2 and ds.n_classes == 2
    assert np.allclose(np.sort(ds.x_train[:, 0]), np.sort(x[:, 0]))

    # no header: last column is the label
    (tmp_path / "n.csv").write_text("\n".join(f"{r[0]},{r[1]},{lab}" for r, lab in zip(x, y)))
    assert D.from_file(tmp_path / "n.csv").n_features == 2


def test_from_file_rejects_bad_files(tmp_path):
    np.savez(tmp_path / "nokeys.npz", a=np.zeros((3, 2)))
    with pytest.raises(FileLoadError, match="'x' and 'y'"):
        D.from_file(tmp_path / "nokeys.npz")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(FileLoadError):
        D.from_file(tmp_path / "obj.npz")  # pickled objects are never loaded
    np.save(tmp_path / "frac.npy", np.column_stack([np.zeros(5), np.linspace(0, 1, 5)]))
    with pytest.raises(FileLoadError, match="fractional"):
        D.from_file(tmp_path / "frac.npy")
    with pytest.raises(FileLoadError, match="no such file"):
        D.from_file(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown dataset"):
        D.load("mnist")


def test_mnist1d_is_generated_with_the_canonical_shape_and_leaves_global_rngs_alone():
    import random

    np.random.seed(123)
    random.seed(7)
    expect_np, expect_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(7)
    data = D.mnist1d()
    assert (np.random.random(), random.random()) == (expect_np, expect_py)
    assert data.x_train.shape == (4000, 40) and data.x_test.shape == (1000, 40)
    assert data.x_train.dtype == np.float32 and data.n_classes == 10
    assert set(np.unique(data.y)) == set(range(10))
    # balanced by construction: 500 per class over train + test
    assert np.all(np.bincount(data.y) == 500)
    again = D.mnist1d()
    assert np.array_equal(again.x_train, data.x_train)
    other = D.mnist1d(seed=1)
    assert not np.array_equal(other.x_train, data.x_train)
    assert D.load("mnist1d").name == "mnist1d"
    small = D.mnist1d(n_samples=200)
    assert len(small.x_train) == 160 and len(small.x_test) == 40


def test_mnist1d_rejects_bad_sizes():
    with pytest.raises(InputError):
        D.mnist1d(n_samples=5)
    with pytest.raises(InputError):
        D.mnist1d(train_fraction=1.5)
