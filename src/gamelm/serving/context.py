"""What the routers of the API share: the served agents, the open tables, the strategy grids
computed so far and the run registry's folder (`ServerState`, one per app), and the error every
route raises (`ApiError`). No FastAPI here: `gamelm.serving.app` wires it in."""

from __future__ import annotations

import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from gamelm.agents.base import Agent, AgentUnavailable
from gamelm.errors import first_line
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.runs.registry import Registry, default_runs_dir
from gamelm.serving.tables import Table

T = TypeVar("T")
MAX_GRIDS = 64  # strategy grids kept in memory (the oldest are dropped)


class ApiError(Exception):
    """An error answered as JSON with ``status`` and a one-sentence ``message``."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclass
class Served:
    """An agent behind the API, with the lock that keeps one request at a time in it."""

    name: str
    agent: Agent
    fractions: tuple[float, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def menu(self) -> ActionAbstraction:
        return ActionAbstraction(self.fractions)

    @property
    def text_model(self):
        """The causal LM that reads prompts as text itself, if the agent is one."""
        model = getattr(self.agent, "model", None)
        return model if hasattr(model, "prompt_probabilities") else None


def agent_fractions(agent: Agent, default: tuple[float, ...]) -> tuple[float, ...]:
    """The raise sizes an agent was trained with (a gamelm LM's), else ``default``."""
    own = getattr(getattr(agent, "model", None), "fractions", None)
    return tuple(own) if own else tuple(default)


def rng_for(seed: int | None) -> np.random.Generator:
    """The generator of one request: seeded when the client gave a seed, else fresh."""
    return np.random.default_rng(seed if seed is not None else secrets.randbits(63))


def finite(value):
    """``value`` (JSON-like) with every NaN and infinity replaced by None: JSON has no NaN, and
    one would make the whole answer fail."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


@dataclass
class ServerState:
    """Everything one app's routes share (each app has its own)."""

    served: dict[str, Served]
    runs_dir: Path | None = None
    max_tables: int = 256
    tables: OrderedDict[str, tuple[Table, Served]] = field(default_factory=OrderedDict)
    tables_lock: threading.Lock = field(default_factory=threading.Lock)
    grids: OrderedDict[tuple, dict] = field(default_factory=OrderedDict)

    @property
    def default(self) -> str:
        return next(iter(self.served))

    def agent_named(self, name: str | None) -> Served:
        s = self.served.get(name or self.default)
        if s is None:
            raise ApiError(404, f"no agent named {name!r}; served: {', '.join(self.served)}")
        return s

    @staticmethod
    def run_agent(s: Served, fn: Callable[[], T]) -> T:
        """``fn()`` with the agent's lock held; an agent that cannot answer now is a 503."""
        try:
            with s.lock:
                return fn()
        except AgentUnavailable as exc:
            raise ApiError(503, first_line(exc), "agent_unavailable") from None

    # -- tables ------------------------------------------------------------------------------
    def add_table(self, table: Table, s: Served) -> None:
        with self.tables_lock:
            self.tables[table.table_id] = (table, s)
            while len(self.tables) > self.max_tables:
                self.tables.popitem(last=False)

    def table(self, table_id: str) -> tuple[Table, Served]:
        with self.tables_lock:
            found = self.tables.get(table_id)
            if found is None:
                raise ApiError(404, f"no table {table_id!r} (it may have expired)")
            self.tables.move_to_end(table_id)
        return found

    # -- the run registry --------------------------------------------------------------------
    def registry(self) -> Registry | None:
        """The run registry, or None when the runs folder has none yet (nothing is created)."""
        root = self.runs_dir if self.runs_dir is not None else default_runs_dir()
        return Registry(root) if (root / "registry.sqlite").is_file() else None
