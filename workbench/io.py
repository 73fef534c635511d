"""Safe loading of user files: ``.npy``, ``.npz`` (first array, or named ones) and ``.csv``.

Never unpickles, and refuses oversized content before reading it: the file's size, and for
``.npy`` / ``.npz`` the size every array *declares* in its header (shape × item size) and, for
``.npz``, each member's declared uncompressed size, are checked against the limit before a byte
of array data is decompressed or copied; only the members that are asked for are read. CSV files
are capped in columns and cells (:data:`MAX_CSV_COLUMNS`, :data:`MAX_CSV_CELLS`), counted from the
first row and the line count before parsing. Every refusal is a one-line
:class:`~workbench.errors.FileLoadError` that says what was wrong.
"""
from __future__ import annotations

import io
import math
import os
import zipfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .errors import FileLoadError

#: Default upload / file size limit in bytes (50 MB, counted as MiB); apps and the CLI can change
# it. It bounds the file and also the arrays read from it once decompressed.
MB = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * MB
#: Most columns a CSV file may have (a wider table is refused before it is parsed; save it as
#: .npy instead). 3 rows x 500,000 columns took 18 s and 1 GB to parse.
MAX_CSV_COLUMNS = 10_000
#: Most cells (rows x columns) a CSV file may have, counted before parsing (80 MB as float64).
MAX_CSV_CELLS = 10_000_000
#: Most members an .npz file may have: its whole zip directory is parsed on opening (200,000
#: empty members took 6 s), so more are refused from a count of directory records first.
MAX_NPZ_MEMBERS = 10_000
SUPPORTED_SUFFIXES = (".npy", ".npz", ".csv")
_NPY_MAGIC, _ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"
_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0,
                   (2, 0): npy_format.read_array_header_2_0}


def check_size(size: int, max_bytes: int, what: str) -> None:
    if size > max_bytes:
        raise FileLoadError(f"{what} is {size / MB:.1f} MB, over the {max_bytes / MB:.1f} MB "
                            "limit; subsample it or raise the limit (max_bytes)")


def load_bytes(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
               key: str | tuple[str, ...] | None = None) -> np.ndarray | dict[str, np.ndarray]:
    """Parse an uploaded file's bytes by its suffix; returns a numeric array.

    For ``.npz``: ``key=None`` returns the first array, a name that array, a tuple of names a
    dict of those arrays, ``key="*"`` a dict of all of them. ``max_bytes`` bounds the file and the
    total size of the arrays read from it.
    """
    return _load_bytes(data, filename, max_bytes=max_bytes, key=key)[0]


def _load_bytes(data: bytes, filename: str, *, max_bytes: int, key
                ) -> tuple[np.ndarray | dict[str, np.ndarray], list[str] | None]:
    """:func:`load_bytes` plus the column names of a ``.csv`` file's header row:
    ``(array, names)``; ``names`` is None for a headerless CSV and for ``.npy`` / ``.npz``."""
    check_size(len(data), max_bytes, repr(filename))
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileLoadError(f"{filename!r}: unsupported file type {suffix or '(none)'}; use "
                            f"{', '.join(SUPPORTED_SUFFIXES)}")
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileLoadError(f"{filename!r} is not a UTF-8 text CSV file") from exc
        return _parse_csv(text, filename)
    if suffix == ".npz":
        return _load_npz(data, filename, max_bytes, key), None
    if not data.startswith(_NPY_MAGIC):
        raise FileLoadError(f"{filename!r} is not a valid .npy file (wrong header)")
    stream = io.BytesIO(data)
    header = _npy_header(stream, len(data), repr(filename), max_bytes)
    return _npy_data(stream, header, repr(filename)), None


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's message on one line, shortened to ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _pickled(what: str) -> FileLoadError:
    return FileLoadError(f"{what} could not be read safely: it holds pickled Python objects, "
                         "which are never loaded; save plain numeric arrays")


def _npy_header(stream, size: int, what: str, budget: int):
    """``(shape, fortran_order, dtype, nbytes)`` of the ``.npy`` array at the start of ``stream``
    (``size`` bytes in all), read from its header alone and checked before any data is read:
    format version, dtype (numeric, not pickled, not structured), shape, the declared size
    against ``budget`` and against the bytes that follow the header."""
    truncated = FileLoadError(f"{what} is truncated: it ends inside its .npy header")
    magic = stream.read(npy_format.MAGIC_LEN)  # b"\x93NUMPY" and the format version
    if magic[:len(_NPY_MAGIC)] != _NPY_MAGIC[:len(magic)]:
        raise FileLoadError(f"{what} is not a .npy array (wrong header)")
    if len(magic) < npy_format.MAGIC_LEN:
        raise truncated
    version = (magic[-2], magic[-1])
    if version not in _HEADER_READERS:
        raise FileLoadError(f"{what} uses .npy format version {version[0]}.{version[1]}, "
                            "which only structured arrays need; save a plain numeric array")
    try:
        shape, fortran, dtype = _HEADER_READERS[version](stream)
    except ValueError as exc:  # numpy's header checks
        if str(exc).startswith("EOF"):
            raise truncated from exc
        raise FileLoadError(f"{what} has a malformed .npy header: {_one_line(exc)}") from exc
    if dtype.hasobject:
        raise _pickled(what)
    if dtype.fields is not None or dtype.subdtype is not None:
        raise FileLoadError(f"{what} has a structured dtype {dtype}; only plain numeric arrays "
                            "(one number per cell) are accepted")
    if dtype.kind not in "biuf":
        raise FileLoadError(f"{what} has non-numeric dtype {dtype}; only numbers are accepted")
    if any(d < 0 for d in shape):
        raise FileLoadError(f"{what} has a malformed .npy header: negative dimension in shape "
                            f"{shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    check_size(nbytes, budget, f"{what} (declared shape {shape}, {dtype})")
    available = size - stream.tell()
    if available < nbytes:
        raise FileLoadError(f"{what} is truncated: its header declares shape {shape} {dtype} "
                            f"({nbytes:,} bytes) but only {max(available, 0):,} bytes of data "
                            "follow")
    return shape, fortran, dtype, nbytes


def _npy_data(stream, header, what: str) -> np.ndarray:
    """The array whose checked ``header`` (from :func:`_npy_header`) was just read from
    ``stream``: reads exactly its declared bytes."""
    shape, fortran, dtype, nbytes = header
    buf = bytearray(nbytes)
    view, got = memoryview(buf), 0
    while got < nbytes:
        n = stream.readinto(view[got:])
        if not n:
            raise FileLoadError(f"{what} is truncated: its header declares {nbytes:,} bytes of "
                                f"data but only {got:,} follow")
        got += n
    arr = np.frombuffer(buf, dtype=dtype) if nbytes else np.zeros(0, dtype=dtype)
    if fortran:
        return arr.reshape(shape[::-1]).transpose()
    return arr.reshape(shape)


def npz_names(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """The names of the arrays in an ``.npz`` file's bytes, read from its zip directory alone
    (nothing is decompressed), in file order."""
    check_size(len(data), max_bytes, repr(filename))
    archive, infos = _open_npz(data, filename)
    archive.close()
    return list(infos)


def _open_npz(data: bytes, filename: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """The open zip archive of an ``.npz`` file's bytes and its members by array name."""
    if not data.startswith(_ZIP_MAGIC):
        raise FileLoadError(f"{filename!r} is not a valid .npz file (wrong header)")
    records = data.count(b"PK\x01\x02")  # central directory entries (an upper bound)
    if records > MAX_NPZ_MEMBERS:
        raise FileLoadError(f"{filename!r} has up to {records:,} members, over the cap of "
                            f"{MAX_NPZ_MEMBERS:,} (workbench.io.MAX_NPZ_MEMBERS); save fewer "
                            "arrays")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i
                 for i in archive.infolist() if not i.is_dir()}
    except Exception as exc:  # BadZipFile, truncated directories, unsupported features
        raise FileLoadError(f"{filename!r} is not a valid .npz file: {_one_line(exc)}") from exc
    return archive, infos


def _load_npz(data: bytes, filename: str, max_bytes: int, key):
    """The array(s) of an ``.npz`` file asked for by ``key`` (see :func:`load_bytes`). Every
    wanted member's declared sizes are checked against ``max_bytes`` (in total) before any of
    them is decompressed; the other members are never read."""
    archive, infos = _open_npz(data, filename)
    with archive, ExitStack() as stack:
        names = list(infos)
        if not names:
            raise FileLoadError(f"{filename!r} holds no arrays")
        single = key is None or (isinstance(key, str) and key != "*")
        wanted = [key or names[0]] if single else names if key == "*" else list(key)
        missing = [n for n in wanted if n not in infos]
        if missing:
            shown = names if len(names) <= 20 else names[:20] + ["..."]
            raise FileLoadError(f"{filename!r} has no array {missing[0]!r}; it has {shown}")
        headers, total = {}, 0
        for name in wanted:  # headers only: nothing is decompressed beyond them
            what, info = f"{filename!r}[{name}]", infos[name]
            check_size(info.file_size, max_bytes, f"{what} (declared uncompressed size)")
            with _member_errors(what):
                stream = stack.enter_context(archive.open(info))
                headers[name] = stream, _npy_header(stream, info.file_size, what,
                                                    max_bytes - total)
            total += headers[name][1][3]
        out = {}
        for name, (stream, header) in headers.items():
            with _member_errors(what := f"{filename!r}[{name}]"):
                out[name] = _npy_data(stream, header, what)
    return out[wanted[0]] if single else out


@contextmanager
def _member_errors(what: str):
    """Turn the errors of reading a zip member (bad compressed data, encryption, CRC) into a
    one-line :class:`FileLoadError`."""
    try:
        yield
    except FileLoadError:
        raise
    except Exception as exc:
        raise FileLoadError(f"{what} could not be read: {_one_line(exc)}") from exc


def load_array(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
               key: str | tuple[str, ...] | None = None) -> np.ndarray | dict[str, np.ndarray]:
    """Read ``path`` (.npy, .npz or .csv) safely; see :func:`load_bytes`."""
    return load_array_with_columns(path, max_bytes=max_bytes, key=key)[0]


def load_array_with_columns(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES,
                            key: str | tuple[str, ...] | None = None
                            ) -> tuple[np.ndarray | dict[str, np.ndarray], list[str] | None]:
    """:func:`load_array` plus the column names of a ``.csv`` file's header row:
    ``(array, names)``; ``names`` is None for a headerless CSV and for ``.npy`` / ``.npz``."""
    p = Path(path)
    if not p.is_file():
        raise FileLoadError(f"no such file: {str(p)!r}")
    check_size(p.stat().st_size, max_bytes, repr(str(p)))  # before reading it into memory
    return _load_bytes(p.read_bytes(), p.name, max_bytes=max_bytes, key=key)


def _parse_csv(text: str, filename: str) -> tuple[np.ndarray, list[str] | None]:
    """Numeric CSV and its column names: a first row with any non-numeric cell is a header
    of names (None when there is no header). Too many columns or cells are refused from the
    first row and the line count, before anything is parsed."""
    import pandas as pd

    first = next((ln for ln in io.StringIO(text) if ln.strip()), None)
    if first is None:
        raise FileLoadError(f"{filename!r} is empty")
    cells = first.rstrip("\r\n").split(",")
    n_cols = len(cells)
    if n_cols > MAX_CSV_COLUMNS:
        raise FileLoadError(f"{filename!r} has {n_cols:,} columns, over the cap of "
                            f"{MAX_CSV_COLUMNS:,} (workbench.io.MAX_CSV_COLUMNS); keep fewer "
                            "columns or save the array as .npy")
    n_rows = max(text.count("\n"), text.count("\r")) + 1  # an upper bound: blank lines count
    if n_rows * n_cols > MAX_CSV_CELLS:
        raise FileLoadError(f"{filename!r} has up to {n_rows:,} rows x {n_cols:,} columns, over "
                            f"the cap of {MAX_CSV_CELLS:,} cells (workbench.io.MAX_CSV_CELLS); "
                            "subsample it or save the array as .npy")
    has_header = any(not _is_number(c) for c in cells)
    try:
        frame = pd.read_csv(io.StringIO(text), header=0 if has_header else None)
    except Exception as exc:
        raise FileLoadError(f"{filename!r} is not a valid CSV file: {_one_line(exc)}") from exc
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
