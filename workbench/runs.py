"""Runs on disk: one folder per run with ``config.json`` and ``metrics.parquet``.

``config.json`` holds everything needed to reproduce the run (dataset, architecture,
activation, optimizer, seed, estimators and their knobs, ...). ``metrics.parquet`` holds tidy
rows (run, epoch, layer, layer_index, quantity, estimator, value, units, seconds).

Appending is atomic: each :meth:`Run.append` writes the *whole* table to a temporary file in the
run folder, flushes and fsyncs it, renames it over ``metrics.parquet`` with :func:`os.replace`
and fsyncs the folder. A process killed at any moment leaves either the previous or the new
complete file, so every epoch that was appended survives. (The cost grows with the table; record
fewer epochs — ``every=`` or ``every="log"`` — for very long runs.)

Creating a run is atomic: the folder is made with one ``mkdir``, so of several processes that
create the same id exactly one succeeds and the others get a :class:`WorkbenchError`. While a
:class:`Run` object is alive its process holds an exclusive ``flock`` on the run folder, which the
operating system drops when the process ends, however it ends. A run read back with no final
``status`` therefore shows ``"running"`` while its writer lives and ``"incomplete"`` once it is
gone (killed, crashed, or never given a status); reading never writes to the folder.

Where runs go by default: :func:`default_root`, a folder in the user's data directory, so that
``workbench serve``, ``workbench plane`` and the notebooks leave a clone of the repository clean.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import sys
import time
import uuid
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError, WorkbenchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no writer locks, blank statuses stay blank
    fcntl = None

CONFIG = "config.json"
METRICS = "metrics.parquet"
SCHEMA = pa.schema([("run", pa.string()), ("epoch", pa.int64()), ("layer", pa.string()),
                    ("layer_index", pa.int64()), ("quantity", pa.string()),
                    ("estimator", pa.string()), ("value", pa.float64()), ("units", pa.string()),
                    ("seconds", pa.float64())])
COLUMNS = SCHEMA.names
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # used with fullmatch
#: Environment variable naming the default run folder (overrides the data directory).
RUNS_ENV = "WORKBENCH_RUNS"


def default_root() -> Path:
    """The run folder used when none is given: ``$WORKBENCH_RUNS`` if set, else ``workbench/runs``
    in the user's data directory: ``$XDG_DATA_HOME`` (default ``~/.local/share``) on Linux and
    other Unix systems, ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%`` on
    Windows. Never inside the working directory, so runs stay out of a repository clone."""
    override = os.environ.get(RUNS_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        # the XDG spec ignores relative paths
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / "workbench" / "runs"


def _jsonable(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, tuple, set)):
        return str(obj) if isinstance(obj, Path) else list(obj)
    raise TypeError(f"config value {obj!r} ({type(obj).__name__}) is not JSON-serialisable")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def _lock_folder(path: Path, *, shared: bool = False, wait: float = 0.0) -> int | None:
    """A descriptor of the folder ``path`` holding a ``flock`` on it (exclusive, or ``shared``),
    or None when another descriptor holds a conflicting lock for ``wait`` seconds (or locks are
    not supported). Closing the descriptor, or the process ending, releases the lock."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            return fd
        except OSError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.005)


def _read_status(path: Path, config: dict) -> str:
    """``config``'s status, or for a run without one: ``"running"`` while a live process holds
    its writer lock, ``"incomplete"`` once none does ("" where locks are not supported)."""
    if config.get("status") or fcntl is None:
        return config.get("status", "")
    fd = _lock_folder(path, shared=True)  # only fails while a writer holds its exclusive lock
    if fd is None:
        return "running"
    os.close(fd)
    return "incomplete"


def _to_table(frame: pd.DataFrame) -> pa.Table:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"metrics rows lack column(s) {missing}; expected {COLUMNS}")
    frame = frame[COLUMNS].copy()
    for col, typ in zip(COLUMNS, SCHEMA.types):
        if pa.types.is_string(typ):
            frame[col] = frame[col].astype(str)
    frame["seconds"] = frame["seconds"].fillna(0.0)
    return pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)


class Run:
    """One run folder. Use :meth:`RunStore.create` / :meth:`RunStore.open` to get one."""

    def __init__(self, path: Path, config: dict, *, _lock: int | None = None):
        self.path = Path(path)
        self.id = self.path.name
        self.config = config
        # the writer lock (see the module notes); readers only hold it for an instant
        lock = _lock if _lock is not None else _lock_folder(self.path, wait=0.5)
        self._release = weakref.finalize(self, os.close, lock) if lock is not None else None
        metrics = self.path / METRICS
        self._table = pq.read_table(metrics, schema=SCHEMA) if metrics.exists() \
            else SCHEMA.empty_table()

    def append(self, rows) -> None:
        """Add rows (DataFrame or list of dicts) and rewrite ``metrics.parquet`` atomically."""
        if isinstance(rows, pd.DataFrame):
            if rows.empty:
                return
            new = _to_table(rows.assign(run=self.id))
        else:
            rows = [{**r, "run": self.id} for r in rows]
            if not rows:
                return
            new = _to_table(pd.DataFrame(rows)) if any(set(r) != set(COLUMNS) for r in rows) \
                else pa.Table.from_pylist(rows, schema=SCHEMA)
        # one chunk keeps the file to one row group (many small chunks write slowly)
        self._table = pa.concat_tables([self._table, new]).combine_chunks()
        sink = pa.BufferOutputStream()
        pq.write_table(self._table, sink, compression="zstd")
        _atomic_write_bytes(self.path / METRICS, sink.getvalue().to_pybytes())

    def close(self) -> None:
        """Release the writer lock now (else when the object is collected or the process ends);
        a run left without a final ``status`` then reads back as ``"incomplete"``."""
        if self._release is not None:
            self._release()

    def frame(self) -> pd.DataFrame:
        return self._table.to_pandas()

    def update_config(self, **fields) -> None:
        """Merge ``fields`` into config.json (atomically), e.g. a final status."""
        self.config.update(fields)
        _write_config(self.path, self.config)

    def __repr__(self) -> str:
        return f"Run({self.id!r}, {self._table.num_rows} rows)"


def _config_bytes(config: dict) -> bytes:
    return json.dumps(config, indent=1, sort_keys=True, default=_jsonable).encode("utf-8")


def _write_config(path: Path, config: dict) -> None:
    _atomic_write_bytes(path / CONFIG, _config_bytes(config))


class RunStore:
    """A folder of runs (default :func:`default_root`)."""

    def __init__(self, root=None):
        self.root = default_root() if root is None else Path(root)

    def path(self, run_id: str) -> Path:
        if not isinstance(run_id, str) or not _ID.fullmatch(run_id):
            raise InputError(f"bad run id {run_id!r}: use letters, digits, '.', '_' and '-'")
        return self.root / run_id

    @staticmethod
    def new_id(tag: str = "run") -> str:
        """A fresh run id: time stamp, ``tag`` (made file-name safe) and a random suffix."""
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        tag = re.sub(r"[^A-Za-z0-9]+", "-", str(tag)).strip("-")[:40] or "run"
        return f"{stamp}-{tag}-{uuid.uuid4().hex[:6]}"

    def create(self, config: dict, run_id: str | None = None) -> Run:
        """A new run folder holding ``config.json``; fails if ``run_id`` already exists."""
        config = dict(config)
        run_id = run_id or self.new_id(config.get("name", config.get("data", "run")))
        path = self.path(run_id)
        config.setdefault("created", _dt.datetime.now().isoformat(timespec="seconds"))
        config["run"] = run_id
        text = _config_bytes(config)  # a config that cannot be saved fails before any folder
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()  # atomic: of several creators of one id exactly one gets here
        except FileExistsError:
            raise WorkbenchError(f"run {run_id!r} already exists in {str(self.root)!r}; choose "
                                 "another id or delete it first") from None
        # lock before config.json appears, so readers never see a live run as incomplete
        # (they hold the lock for an instant at most, hence the wait)
        lock = _lock_folder(path, wait=5.0)
        try:
            _atomic_write_bytes(path / CONFIG, text)
            _fsync_dir(self.root)
        except BaseException:
            if lock is not None:
                os.close(lock)
            shutil.rmtree(path, ignore_errors=True)  # free the id again
            raise
        return Run(path, config, _lock=lock)

    def open(self, run_id: str) -> Run:
        """An existing run, to append more rows to it."""
        path = self._existing(run_id)
        return Run(path, json.loads((path / CONFIG).read_text("utf-8")))

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and (p / CONFIG).is_file())

    def _existing(self, run_id: str) -> Path:
        path = self.path(run_id)
        if not (path / CONFIG).is_file():
            known = ", ".join(self.ids()[-10:]) or "none"
            raise WorkbenchError(f"no run {run_id!r} in {str(self.root)!r} (recent runs: {known})")
        return path

    def load(self, run_id: str) -> tuple[dict, pd.DataFrame]:
        """``(config, metrics DataFrame)`` of a run. A run without a final ``status`` gets
        ``"running"`` or ``"incomplete"`` (see the module notes); the file is not changed."""
        path = self._existing(run_id)
        config = json.loads((path / CONFIG).read_text("utf-8"))
        config["status"] = _read_status(path, config)
        metrics = path / METRICS
        frame = pq.read_table(metrics, schema=SCHEMA).to_pandas() if metrics.exists() \
            else SCHEMA.empty_table().to_pandas()
        return config, frame

    def list(self) -> pd.DataFrame:
        """One row per run: id, created, data, activation, epochs recorded, rows."""
        out = []
        for run_id in self.ids():
            try:
                config, frame = self.load(run_id)
            except (WorkbenchError, OSError, ValueError, pa.ArrowException):
                continue  # a half-deleted or foreign folder is not a run
            out.append({"run": run_id, "created": config.get("created", ""),
                        "data": config.get("data", ""), "arch": config.get("arch", ""),
                        "activation": config.get("activation", ""),
                        "status": config.get("status", ""),
                        "epochs": int(frame["epoch"].max()) if len(frame) else -1,
                        "rows": len(frame)})
        return pd.DataFrame(out, columns=["run", "created", "data", "arch", "activation",
                                          "status", "epochs", "rows"])

    def compare(self, ids) -> pd.DataFrame:
        """The metrics of several runs in one tidy DataFrame (column ``run`` tells them apart)."""
        frames = [self.load(i)[1].assign(run=i) for i in ids]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)

    def delete(self, run_id: str) -> None:
        shutil.rmtree(self._existing(run_id))
