"""Small classification datasets for the information plane.

Every loader returns a :class:`Dataset` with a seeded train/test split. No network access:
``tishby12`` is generated, ``digits`` ships with scikit-learn, ``from_file`` reads a local file
through :mod:`workbench.io` (never unpickling).

The 12-bit task (Shwartz-Ziv & Tishby 2017)
-------------------------------------------
The 12 inputs are the 12 vertices v_1..v_12 of a regular icosahedron (12 uniformly spread points
on the 2-sphere). A pattern x ∈ {0,1}^12 switches points on; the label is a threshold on a
spherically symmetric function of the switched-on points::

    f(x) = Σ_i x_i + ‖Σ_i x_i v_i‖,        y = 1  iff  f(x) > θ = 7.63

(the number of points on, plus the length of their vector sum). f is invariant under every
rotation or reflection of the sphere that maps the icosahedron onto itself, so it is
"spherically symmetric" in the paper's sense. The paper does not publish its f; this rule was
found by fitting the published file (``var_u.mat``, redistributed with Saxe et al. 2018): with
the vertex order of :data:`ICOSAHEDRON` below it reproduces **all 4096 labels of that file
exactly** (52% ones; any θ in (7.563, 7.701) gives the same labels). Rows are all 4096 patterns
in binary counting order with bit 0 the most significant, as in the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FileLoadError, InputError
from ..io import DEFAULT_MAX_BYTES, load_array_with_columns
from ..validation import check_class_labels, check_seed

_PHI = (1.0 + 5.0 ** 0.5) / 2.0
#: Icosahedron vertices (unnormalised) in the bit order of the published 12-bit file.
ICOSAHEDRON = np.array([
    [0, 1, _PHI], [1, _PHI, 0], [0, 1, -_PHI], [-1, _PHI, 0], [_PHI, 0, -1], [0, -1, _PHI],
    [1, -_PHI, 0], [-1, -_PHI, 0], [-_PHI, 0, -1], [0, -1, -_PHI], [-_PHI, 0, 1], [_PHI, 0, 1],
], dtype=np.float64)
ICOSAHEDRON /= np.linalg.norm(ICOSAHEDRON, axis=1, keepdims=True)
#: Threshold of the 12-bit rule (midpoint of the interval that reproduces the published labels).
TISHBY12_THRESHOLD = 7.63


@dataclass
class Dataset:
    """A classification dataset split into train and test parts. Labels are int64 ``0..k-1``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    n_classes: int
    info: dict = field(default_factory=dict)

    @property
    def x(self) -> np.ndarray:
        """All inputs (train then test)."""
        return np.concatenate([self.x_train, self.x_test])

    @property
    def y(self) -> np.ndarray:
        """All labels (train then test)."""
        return np.concatenate([self.y_train, self.y_test])

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.x_train)} train + {len(self.x_test)} test, "
                f"{self.n_features} features, {self.n_classes} classes)")


def split(x, y, *, train_fraction: float = 0.8, seed: int | None = 0, name: str = "data",
          info: dict | None = None) -> Dataset:
    """Seeded random train/test split of ``x`` (rows) and integer labels ``y``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    y = check_class_labels(y, len(x))
    if not 0.0 < train_fraction <= 1.0:
        raise InputError(f"train_fraction must be in (0, 1], got {train_fraction!r}")
    if len(y) < 2:
        raise InputError("a dataset needs at least 2 samples")
    classes, labels = np.unique(y, return_inverse=True)
    perm = check_seed(seed).permutation(len(y))
    n_train = min(len(y), max(1, int(round(train_fraction * len(y)))))
    tr, te = np.sort(perm[:n_train]), np.sort(perm[n_train:])
    labels = labels.astype(np.int64)
    meta = {"train_fraction": train_fraction, "seed": seed, "classes": classes.tolist()}
    meta.update(info or {})
    return Dataset(x[tr], labels[tr], x[te], labels[te], name, int(len(classes)), meta)


def tishby12_patterns() -> np.ndarray:
    """All 4096 12-bit patterns (uint8, 4096 × 12), bit 0 most significant."""
    codes = np.arange(4096)[:, None]
    return ((codes >> np.arange(11, -1, -1)) & 1).astype(np.uint8)


def tishby12_labels(patterns: np.ndarray) -> np.ndarray:
    """Labels of 12-bit patterns: 1 iff Σx_i + ‖Σ x_i v_i‖ > 7.63 (see the module docstring).
    """
    p = np.asarray(patterns, dtype=np.float64)
    f = p.sum(axis=1) + np.linalg.norm(p @ ICOSAHEDRON, axis=1)
    return (f > TISHBY12_THRESHOLD).astype(np.int64)


def tishby12(seed: int | None = 0, train_fraction: float = 0.85) -> Dataset:
    """The 12-bit task of Shwartz-Ziv & Tishby (2017): 4096 patterns, binary label.

    ``train_fraction`` defaults to 85%, the largest training share of the paper. Inputs are
    0/1 floats. The information plane is usually measured on *all* 4096 inputs
    (``dataset.x``, ``dataset.y``), each a distinct, equally likely symbol.
    """
    x = tishby12_patterns()
    return split(x, tishby12_labels(x), train_fraction=train_fraction, seed=seed,
                 name="tishby12", info={"rule": "sum(x) + |sum x_i v_i| > 7.63 (icosahedron)"})


def digits(seed: int | None = 0, train_fraction: float = 0.8) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return split(bunch.data / 16.0, bunch.target, train_fraction=train_fraction, seed=seed,
                 name="digits")


def gaussian_mixture(n: int = 2000, classes: int = 3, dim: int = 2, seed: int | None = 0,
                     separation: float = 3.0, train_fraction: float = 0.8) -> Dataset:
    """``classes`` isotropic unit Gaussians in ``dim`` dimensions, means drawn at distance
    ``separation`` from the origin in random directions; equal class sizes (±1)."""
    if classes < 2 or dim < 1 or n < classes:
        raise InputError(f"need classes >= 2, dim >= 1 and n >= classes; got n={n}, "
                         f"classes={classes}, dim={dim}")
    rng = check_seed(seed)
    means = rng.normal(size=(classes, dim))
    means *= separation / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    y = np.arange(n) % classes
    x = means[y] + rng.normal(size=(n, dim))
    return split(x, y, train_fraction=train_fraction, seed=seed,
                 name=f"gaussian_mixture({classes}x{dim}d)")


def _label_from_table(table: np.ndarray, columns: list[str] | None, filename: str):
    if table.ndim != 2 or table.shape[1] < 2:
        raise FileLoadError(f"{filename!r}: need a 2-D table with feature columns and a label "
                            f"column; got shape {table.shape}")
    j = table.shape[1] - 1
    if columns:
        names = [c.strip().strip('"').lower() for c in columns]
        for wanted in ("label", "y"):
            if wanted in names:
                j = names.index(wanted)
                break
    return np.delete(table, j, axis=1), table[:, j]


def from_file(path, *, seed: int | None = 0, train_fraction: float = 0.8,
              max_bytes: int = DEFAULT_MAX_BYTES) -> Dataset:
    """A dataset from a local file, read safely with :func:`workbench.io.load_array_with_columns`.

    * ``.npz``: arrays ``x`` (samples × features) and ``y`` (labels);
    * ``.npy``: one 2-D array whose **last column** is the label;
    * ``.csv``: the column named ``label`` or ``y`` (case-insensitive) if the header has one,
      else the last column, is the label.

    Labels must be whole numbers; they are renumbered ``0..k-1``.
    """
    p = Path(path)
    loaded, columns = load_array_with_columns(p, max_bytes=max_bytes, key="*")
    if isinstance(loaded, dict):  # .npz: all its arrays
        missing = [k for k in ("x", "y") if k not in loaded]
        if missing:
            raise FileLoadError(f"{p.name!r} must hold arrays 'x' and 'y'; missing {missing}, "
                                f"found {sorted(loaded)}")
        x, y = loaded["x"], loaded["y"]
    else:
        x, y = _label_from_table(np.asarray(loaded), columns, p.name)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise FileLoadError(f"{p.name!r}: x must be 2-D (samples x features); got shape "
                            f"{x.shape}")
    try:
        y = check_class_labels(y, len(x))
    except InputError as exc:
        raise FileLoadError(f"{p.name!r}: {exc}") from exc
    if not np.isfinite(x).all():
        raise FileLoadError(f"{p.name!r}: features contain NaN or infinity")
    return split(x, y, train_fraction=train_fraction, seed=seed, name=p.stem,
                 info={"path": str(p)})


#: Built-in datasets by name (the CLI and apps use these).
BUILTIN = {"tishby12": tishby12, "digits": digits, "gaussian_mixture": gaussian_mixture}


def load(name_or_path: str, seed: int | None = 0, **kwargs) -> Dataset:
    """A built-in dataset by name, or :func:`from_file` for a path."""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path](seed=seed, **kwargs)
    if Path(name_or_path).suffix.lower() in (".npz", ".npy", ".csv"):
        return from_file(name_or_path, seed=seed, **kwargs)
    raise InputError(f"unknown dataset {name_or_path!r}; use one of {sorted(BUILTIN)} or a path "
                     "to a .npz (x, y), .npy (last column = label) or .csv file")
