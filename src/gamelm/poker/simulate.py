"""Random play through the batched engine: many tables in lockstep, new hands dealt as old ones
finish, every seat's result per hand, and optionally one PHH file per hand.

>>> out = simulate(seats=2, hands=100, seed=0, tables=16, progress=False)
>>> out.results.shape, int(out.results.sum())  # chips are conserved
((100, 2), 0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from gamelm.poker.abstraction import ActionAbstraction, sample_uniform
from gamelm.poker.batch import BatchEngine
from gamelm.poker.history import BatchRecorder, dumps, write_atomic
from gamelm.poker.lockstep import Lockstep


@dataclass
class Simulation:
    """What `simulate` played."""

    results: npt.NDArray[np.int64]  # (hands, seats): every seat's result per hand, in chips
    elapsed: float  # seconds
    decisions: int
    big_blind: int


def simulate(
    seats: int = 2,
    hands: int = 10_000,
    seed: int = 0,
    stack_bb: int = 100,
    small_blind: int = 1,
    big_blind: int = 2,
    ante: int = 0,
    tables: int = 4096,
    fractions: str | tuple[float, ...] = (0.5, 1.0),
    phh_out: Path | None = None,
    progress: bool = True,
) -> Simulation:
    """Play ``hands`` hands of uniformly random menu actions (``fractions``: the raise sizes as
    pot fractions, text like ``"0.5,1"`` or a tuple) on up to ``tables`` tables in lockstep.
    Bad settings raise ValueError with one sentence; an unwritable ``phh_out`` raises OSError."""
    if hands < 1:
        raise ValueError(f"hands must be at least 1, got {hands}")
    if tables < 1:
        raise ValueError(f"tables must be at least 1, got {tables}")
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    if stack_bb < 1:
        raise ValueError(f"the stack must be at least 1 big blind, got {stack_bb}")
    menu = (
        ActionAbstraction.parse(fractions)
        if isinstance(fractions, str)
        else ActionAbstraction(tuple(fractions))
    )
    tables = min(tables, hands)
    eng = BatchEngine(
        tables, seats, small_blind, big_blind, starting_stacks=stack_bb * big_blind, ante=ante
    )
    rng = np.random.default_rng(seed)
    recorder = BatchRecorder(tables) if phh_out is not None else None
    if phh_out is not None:
        phh_out.mkdir(parents=True, exist_ok=True)
    results = np.zeros((hands, seats), np.int64)
    decisions = 0

    def deal(rows: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]) -> None:
        eng.reset(np.isin(np.arange(tables), rows), rng=rng)
        if recorder is not None:
            recorder.start(eng, rows)

    def finish(rows: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]) -> None:
        results[ids] = eng.payoffs()[rows]
        if recorder is not None:
            assert phh_out is not None
            for hand, rec in zip(ids, recorder.finish(eng, rows)):
                rec.extra["hand"] = int(hand)
                rec.extra["seed"] = seed
                write_atomic(phh_out / f"hand_{hand:07d}.phh", dumps(rec))

    def act(rows: npt.NDArray[np.int64]) -> None:
        nonlocal decisions
        decisions += rows.size
        kind, amount = menu.decode(eng, sample_uniform(menu.legal_mask(eng), rng))
        if recorder is not None:
            recorder.record(eng, kind, amount)
        eng.step(kind, amount)

    t0 = time.perf_counter()
    with tqdm(total=hands, unit="hand", disable=not progress, leave=False) as bar:
        Lockstep(eng, hands).run(deal, finish, act, bar.update)
    return Simulation(results, time.perf_counter() - t0, decisions, big_blind)
