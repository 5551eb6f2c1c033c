"""The run registry: one SQLite file that lists every training run, its configuration, its
metrics over time and its checkpoints.

The registry lives in the runs directory (``./runs`` unless ``GAMELM_RUNS`` or ``--runs-dir``
says otherwise) as ``registry.sqlite``; a run's files live wherever ``--out`` put them, and the
registry records that path. Writes are short transactions, so a run killed at any moment leaves
the registry readable.

>>> import tempfile
>>> reg = Registry(tempfile.mkdtemp())
>>> reg.start("demo", "/tmp/demo", {"lr": 0.001})
>>> reg.log("demo", 1, {"losses/policy": 0.5})
>>> reg.metrics("demo")["losses/policy"]
[(1, 0.5)]
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY, path TEXT NOT NULL, algorithm TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, config TEXT NOT NULL, summary TEXT,
    pid INTEGER, host TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    run TEXT NOT NULL, step INTEGER NOT NULL, key TEXT NOT NULL, value REAL, time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics (run, key, step);
CREATE TABLE IF NOT EXISTS checkpoints (
    run TEXT NOT NULL, step INTEGER NOT NULL, path TEXT NOT NULL, time REAL NOT NULL
);
"""


def default_runs_dir() -> Path:
    return Path(os.environ.get("GAMELM_RUNS", "runs"))


@dataclass(frozen=True)
class RunInfo:
    name: str
    path: str
    algorithm: str
    status: str
    created: float
    updated: float
    config: dict
    summary: dict


class Registry:
    """The registry of the runs directory ``root`` (created if missing)."""

    def __init__(self, root: str | Path | None = None, create: bool = True) -> None:
        """``create`` False (for commands that only read): FileNotFoundError instead of making
        the folder and an empty registry where there is none."""
        self.root = Path(root) if root is not None else default_runs_dir()
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"the runs folder {self.root} is a file; name a directory")
        self.path = self.root / "registry.sqlite"
        if not create and not self.path.is_file():
            raise FileNotFoundError(f"no run registry in {self.root} (no run was trained there)")
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as db:
                db.executescript(SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
                for column, kind in (("pid", "INTEGER"), ("host", "TEXT")):  # older registries
                    if column not in columns:
                        db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a readable run registry ({exc})") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def start(self, name: str, path: str | Path, config: dict, algorithm: str = "ppo") -> None:
        """Record a new run, or mark an existing one running again (a resume)."""
        now = time.time()
        with self._connect() as db:
            db.execute(
                f"INSERT INTO runs ({COLUMNS}) VALUES (?, ?, ?, 'running', ?, ?, ?, NULL, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET status='running', updated=excluded.updated, "
                "path=excluded.path, config=excluded.config, pid=excluded.pid, host=excluded.host",
                (name, str(Path(path).resolve()), algorithm, now, now, json.dumps(config),
                 os.getpid(), socket.gethostname()),
            )  # fmt: skip

    def claim(self, name: str, path: str | Path, explicit: bool = True) -> tuple[str, str | None]:
        """The name a run at ``path`` is registered under, and a sentence when it is not simply
        ``name``. A name registered at the same path is the same run (a resume). A name whose
        registered folder no longer exists is given to the new run (the old entry is dropped).
        Otherwise a name the user chose (``explicit``) is refused with ValueError, and a name
        derived from the folder gets the first free suffix (``run-2``, ``run-3``...)."""
        where = Path(path).resolve()
        with self._connect() as db:
            row = db.execute("SELECT path FROM runs WHERE name=?", (name,)).fetchone()
        if row is None or Path(row[0]) == where:
            return name, None
        if not Path(row[0]).exists():
            self.drop(name)
            return name, f"the registry entry {name!r} pointed at {row[0]}, which is gone; replaced"
        if explicit:
            raise ValueError(
                f"a run named {name!r} is already registered at {row[0]}; pass another --name"
            )
        taken = {r.name for r in self.runs()}
        k = 2
        while f"{name}-{k}" in taken:
            k += 1
        return f"{name}-{k}", (
            f"a run named {name!r} is already registered at {row[0]}; this one is "
            f"registered as {name}-{k}"
        )

    def drop(self, name: str) -> None:
        """Forget a run: its entry, metrics and checkpoints (its files are left alone)."""
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE name=?", (name,))
            db.execute("DELETE FROM metrics WHERE run=?", (name,))
            db.execute("DELETE FROM checkpoints WHERE run=?", (name,))

    def forget_after(self, name: str, step: int) -> None:
        """Drop metrics and checkpoints recorded after ``step`` (a resume from that step)."""
        with self._connect() as db:
            db.execute("DELETE FROM metrics WHERE run=? AND step>?", (name, step))
            db.execute("DELETE FROM checkpoints WHERE run=? AND step>?", (name, step))

    def log(self, name: str, step: int, values: dict[str, float]) -> None:
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "INSERT INTO metrics VALUES (?, ?, ?, ?, ?)",
                [(name, step, k, float(v), now) for k, v in values.items()],
            )
            db.execute("UPDATE runs SET updated=? WHERE name=?", (now, name))

    def checkpoint(self, name: str, step: int, path: str | Path) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO checkpoints VALUES (?, ?, ?, ?)",
                (name, step, str(Path(path).resolve()), time.time()),
            )

    def finish(self, name: str, status: str, summary: dict | None = None) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status=?, updated=?, summary=? WHERE name=?",
                (status, time.time(), json.dumps(summary or {}), name),
            )

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first. A run still marked running whose process on this machine
        has ended without saying so (killed) is marked ``stale`` first."""
        self._mark_stale()
        with self._connect() as db:
            rows = db.execute(f"SELECT {COLUMNS} FROM runs ORDER BY created").fetchall()
        return [_info(r) for r in rows]

    def _mark_stale(self) -> None:
        with self._connect() as db:
            rows = db.execute(
                "SELECT name, pid FROM runs WHERE status='running' AND host=? AND pid IS NOT NULL",
                (socket.gethostname(),),
            ).fetchall()
            gone = [name for name, pid in rows if not _alive(int(pid))]
            db.executemany("UPDATE runs SET status='stale' WHERE name=?", [(n,) for n in gone])

    def get(self, name: str) -> RunInfo:
        self._mark_stale()
        with self._connect() as db:
            row = db.execute(f"SELECT {COLUMNS} FROM runs WHERE name=?", (name,)).fetchone()
        if row is None:
            known = ", ".join(r.name for r in self.runs()) or "none yet"
            raise KeyError(f"no run named {name!r} in {self.path} (runs: {known})")
        return _info(row)

    def metrics(self, name: str) -> dict[str, list[tuple[int, float]]]:
        """Every metric of a run as ``key -> [(step, value), ...]`` in step order."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT key, step, value FROM metrics WHERE run=? ORDER BY key, step, rowid",
                (name,),
            ).fetchall()
        out: dict[str, list[tuple[int, float]]] = {}
        for key, step, value in rows:
            out.setdefault(key, []).append((int(step), math.nan if value is None else float(value)))
        return out

    def checkpoints(self, name: str) -> list[tuple[int, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT step, path FROM checkpoints WHERE run=? ORDER BY step", (name,)
            ).fetchall()
        return [(int(s), str(p)) for s, p in rows]


COLUMNS = "name, path, algorithm, status, created, updated, config, summary, pid, host"


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process; not a pid
        return True
    return True


def _info(row: tuple) -> RunInfo:
    name, path, algorithm, status, created, updated, config, summary, *_ = row
    return RunInfo(
        name, path, algorithm, status, created, updated, json.loads(config),
        json.loads(summary) if summary else {},
    )  # fmt: skip


def resolve_run_model(spec_name: str, runs_dir: str | Path | None = None) -> Path:
    """The model a ``run:NAME`` spec means: the run's ``final_model``, else its newest
    checkpoint."""
    try:
        reg = Registry(runs_dir, create=False)
    except FileNotFoundError as exc:
        raise KeyError(f"no run named {spec_name!r}: {exc}") from None
    info = reg.get(spec_name)
    final = Path(info.path) / "final_model"
    if (final / "gamelm.json").is_file():
        return final
    for _, path in reversed(reg.checkpoints(spec_name)):
        if (Path(path) / "gamelm.json").is_file():  # a checkpoint is a model directory too
            return Path(path)
    raise FileNotFoundError(f"run {spec_name!r} has no final model or checkpoint yet")
