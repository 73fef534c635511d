"""Safe loading of user files: ``.npy``, ``.npz`` (first array, or a named one) and ``.csv``.

Never unpickles (``allow_pickle=False``), refuses files over a size limit before reading them,
and rejects non-numeric content with a clear :class:`~workbench.errors.FileLoadError`.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .errors import FileLoadError

#: Default upload / file size limit in bytes (50 MB, counted as MiB); apps and the CLI can change
# it.
MB = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * MB
SUPPORTED_SUFFIXES = (".npy", ".npz", ".csv")


def check_size(size: int, max_bytes: int, what: str) -> None:
    if size > max_bytes:
        raise FileLoadError(f"{what} is {size / MB:.1f} MB, over the {max_bytes / MB:.1f} MB "
                            "limit; subsample it or raise the limit (max_bytes)")


def load_bytes(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
               key: str | None = None) -> np.ndarray | dict[str, np.ndarray]:
    """Parse an uploaded file's bytes by its suffix; returns a numeric array.

    For ``.npz`` with ``key=None`` the first array is returned; ``key="*"`` returns all arrays
    as a dict.
    """
    return _load_bytes(data, filename, max_bytes=max_bytes, key=key)[0]


def _load_bytes(data: bytes, filename: str, *, max_bytes: int,
                key: str | None) -> tuple[np.ndarray | dict[str, np.ndarray], list[str] | None]:
    """:func:`load_bytes` plus the column names of a ``.csv`` file's header row:
    ``(array, names)``; ``names`` is None for a headerless CSV and for ``.npy`` / ``.npz``."""
    check_size(len(data), max_bytes, repr(filename))
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileLoadError(f"{filename!r}: unsupported file type {suffix or '(none)'}; use "
                            f"{', '.join(SUPPORTED_SUFFIXES)}")
    magic = {".npy": b"\x93NUMPY", ".npz": b"PK\x03\x04"}.get(suffix)
    if magic and not data.startswith(magic):
        raise FileLoadError(f"{filename!r} is not a valid {suffix} file (wrong header)")
    try:
        if suffix == ".csv":
            return _parse_csv(data.decode("utf-8-sig"), filename)
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
    except FileLoadError:
        raise
    except UnicodeDecodeError as exc:
        raise FileLoadError(f"{filename!r} is not a UTF-8 text CSV file") from exc
    except ValueError as exc:  # pickled object arrays land here with allow_pickle=False
        raise FileLoadError(f"{filename!r} could not be read safely: it holds pickled Python "
                            "objects, which are never loaded; save plain numeric arrays") from exc
    except Exception as exc:  # corrupt archives and headers raise various errors
        raise FileLoadError(f"{filename!r} is not a valid {suffix} file: {exc}") from exc
    if suffix == ".npz":
        with loaded:
            names = list(loaded.files)
            if not names:
                raise FileLoadError(f"{filename!r} holds no arrays")
            if key == "*":
                return {n: _npz_member(loaded, n, filename) for n in names}, None
            name = key or names[0]
            if name not in names:
                raise FileLoadError(f"{filename!r} has no array {name!r}; it has {names}")
            return _npz_member(loaded, name, filename), None
    return _numeric(loaded, filename), None


def _npz_member(archive, name: str, filename: str) -> np.ndarray:
    """One array of an open .npz archive; members are only decoded here, so pickled object
    members are refused here too."""
    try:
        arr = archive[name]
    except ValueError as exc:
        raise FileLoadError(f"{filename!r}[{name}] holds pickled Python objects, which are never "
                            "loaded; save plain numeric arrays") from exc
    except Exception as exc:
        raise FileLoadError(f"{filename!r}[{name}] could not be read: {exc}") from exc
    return _numeric(arr, f"{filename}[{name}]")


def load_array(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
               key: str | None = None) -> np.ndarray | dict[str, np.ndarray]:
    """Read ``path`` (.npy, .npz or .csv) safely; see :func:`load_bytes`."""
    return load_array_with_columns(path, max_bytes=max_bytes, key=key)[0]


def load_array_with_columns(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
                            key: str | None = None
                            ) -> tuple[np.ndarray | dict[str, np.ndarray], list[str] | None]:
    """:func:`load_array` plus the column names of a ``.csv`` file's header row:
    ``(array, names)``; ``names`` is None for a headerless CSV and for ``.npy`` / ``.npz``."""
    p = Path(path)
    if not p.is_file():
        raise FileLoadError(f"no such file: {str(p)!r}")
    check_size(p.stat().st_size, max_bytes, repr(str(p)))  # before reading it into memory
    return _load_bytes(p.read_bytes(), p.name, max_bytes=max_bytes, key=key)


def _numeric(arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise FileLoadError(f"{what} has non-numeric dtype {arr.dtype}; only numbers are accepted")
    return arr


def _parse_csv(text: str, filename: str) -> tuple[np.ndarray, list[str] | None]:
    """Numeric CSV and its column names: a first row with any non-numeric cell is a header
    of names (None when there is no header)."""
    import pandas as pd

    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise FileLoadError(f"{filename!r} is empty")
    first = lines[0].split(",")
    has_header = any(not _is_number(c) for c in first)
    try:
        frame = pd.read_csv(io.StringIO(text), header=0 if has_header else None)
    except Exception as exc:
        raise FileLoadError(f"{filename!r} is not a valid CSV file: {exc}") from exc
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise FileLoadError(f"{filename!r}: column(s) {[str(b) for b in bad][:5]} are not numeric; "
                            "only numeric CSV files are accepted")
    if frame.empty:
        raise FileLoadError(f"{filename!r} has a header but no rows")
    return frame.to_numpy(), ([str(c) for c in frame.columns] if has_header else None)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False

