"""Runs on disk: one folder per run with ``config.json`` and ``metrics.parquet``.

``config.json`` holds everything needed to reproduce the run (dataset, architecture,
activation, optimizer, seed, estimators and their knobs, ...). ``metrics.parquet`` holds tidy
rows (run, epoch, layer, layer_index, quantity, estimator, value, units, seconds).

Appending is atomic: each :meth:`Run.append` writes the *whole* table to a temporary file in the
run folder, flushes and fsyncs it, renames it over ``metrics.parquet`` with :func:`os.replace`
and fsyncs the folder. A process killed at any moment leaves either the previous or the new
complete file, so every epoch that was appended survives. (The cost grows with the table; record
fewer epochs — ``every=`` or ``every="log"`` — for very long runs.)

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
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError, WorkbenchError

CONFIG = "config.json"
METRICS = "metrics.parquet"
SCHEMA = pa.schema([("run", pa.string()), ("epoch", pa.int64()), ("layer", pa.string()),
                    ("layer_index", pa.int64()), ("quantity", pa.string()),
                    ("estimator", pa.string()), ("value", pa.float64()), ("units", pa.string()),
                    ("seconds", pa.float64())])
COLUMNS = SCHEMA.names
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
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

    def __init__(self, path: Path, config: dict):
        self.path = Path(path)
        self.id = self.path.name
        self.config = config
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

    def frame(self) -> pd.DataFrame:
        return self._table.to_pandas()

    def update_config(self, **fields) -> None:
        """Merge ``fields`` into config.json (atomically), e.g. a final status."""
        self.config.update(fields)
        _write_config(self.path, self.config)

    def __repr__(self) -> str:
        return f"Run({self.id!r}, {self._table.num_rows} rows)"


def _write_config(path: Path, config: dict) -> None:
    text = json.dumps(config, indent=1, sort_keys=True, default=_jsonable)
    _atomic_write_bytes(path / CONFIG, text.encode("utf-8"))


class RunStore:
    """A folder of runs (default :func:`default_root`)."""

    def __init__(self, root=None):
        self.root = default_root() if root is None else Path(root)

    def path(self, run_id: str) -> Path:
        if not isinstance(run_id, str) or not _ID.match(run_id):
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
        if path.exists():
            raise WorkbenchError(f"run {run_id!r} already exists in {self.root}; choose another "
                                 "id or delete it first")
        path.mkdir(parents=True)
        config.setdefault("created", _dt.datetime.now().isoformat(timespec="seconds"))
        config["run"] = run_id
        _write_config(path, config)
        _fsync_dir(self.root)
        return Run(path, config)

    def open(self, run_id: str) -> Run:
        """An existing run, to append more rows to it."""
        config, _ = self.load(run_id)
        return Run(self.path(run_id), config)

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and (p / CONFIG).is_file())

    def load(self, run_id: str) -> tuple[dict, pd.DataFrame]:
        """``(config, metrics DataFrame)`` of a run."""
        path = self.path(run_id)
        if not (path / CONFIG).is_file():
            known = ", ".join(self.ids()[-10:]) or "none"
            raise WorkbenchError(f"no run {run_id!r} in {str(self.root)!r} (recent runs: {known})")
        config = json.loads((path / CONFIG).read_text("utf-8"))
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
        path = self.path(run_id)
        if not (path / CONFIG).is_file():
            raise WorkbenchError(f"no run {run_id!r} in {str(self.root)!r}")
        shutil.rmtree(path)
