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
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY, path TEXT NOT NULL, algorithm TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, config TEXT NOT NULL, summary TEXT
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

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"the runs folder {self.root} is a file; name a directory")
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "registry.sqlite"
        try:
            with self._connect() as db:
                db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not a readable run registry ({exc})") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def start(self, name: str, path: str | Path, config: dict, algorithm: str = "ppo") -> None:
        """Record a new run, or mark an existing one running again (a resume)."""
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, 'running', ?, ?, ?, NULL) ON CONFLICT(name) "
                "DO UPDATE SET status='running', updated=excluded.updated, path=excluded.path, "
                "config=excluded.config",
                (name, str(Path(path).resolve()), algorithm, now, now, json.dumps(config)),
            )

    def claim(self, name: str, path: str | Path) -> None:
        """Refuse ``name`` if a run of that name is registered at another path."""
        with self._connect() as db:
            row = db.execute("SELECT path FROM runs WHERE name=?", (name,)).fetchone()
        if row is not None and Path(row[0]) != Path(path).resolve():
            raise ValueError(
                f"a run named {name!r} is already registered at {row[0]}; pass another --name"
            )

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
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY created").fetchall()
        return [_info(r) for r in rows]

    def get(self, name: str) -> RunInfo:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE name=?", (name,)).fetchone()
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
            out.setdefault(key, []).append((int(step), float(value)))
        return out

    def checkpoints(self, name: str) -> list[tuple[int, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT step, path FROM checkpoints WHERE run=? ORDER BY step", (name,)
            ).fetchall()
        return [(int(s), str(p)) for s, p in rows]


def _info(row: tuple) -> RunInfo:
    name, path, algorithm, status, created, updated, config, summary = row
    return RunInfo(
        name, path, algorithm, status, created, updated, json.loads(config),
        json.loads(summary) if summary else {},
    )  # fmt: skip


def resolve_run_model(spec_name: str, runs_dir: str | Path | None = None) -> Path:
    """The model a ``run:NAME`` spec means: the run's ``final_model``, else its newest
    checkpoint."""
    reg = Registry(runs_dir)
    info = reg.get(spec_name)
    final = Path(info.path) / "final_model"
    if (final / "gamelm.json").is_file():
        return final
    for _, path in reversed(reg.checkpoints(spec_name)):
        if (Path(path) / "gamelm.json").is_file():  # a checkpoint is a model directory too
            return Path(path)
    raise FileNotFoundError(f"run {spec_name!r} has no final model or checkpoint yet")
