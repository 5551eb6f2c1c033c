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
    started = tables
    mask = np.ones(tables, bool)
    eng.reset(mask, rng=rng)
    hand_id = np.arange(tables)
    if recorder is not None:
        recorder.start(eng, np.flatnonzero(mask))
    finished = decisions = 0
    bar = tqdm(total=hands, unit="hand", disable=not progress, leave=False)
    t0 = time.perf_counter()
    in_play = mask.copy()  # the table holds a hand not yet recorded
    while finished < hands:
        # hands can end at the deal (everyone all-in for the blinds or antes): record them first
        just = np.flatnonzero(in_play & eng.done)
        if just.size == 0:
            decisions += int((~eng.done).sum())
            kind, amount = menu.decode(eng, sample_uniform(menu.legal_mask(eng), rng))
            if recorder is not None:
                recorder.record(eng, kind, amount)
            eng.step(kind, amount)
            continue
        results[hand_id[just]] = eng.payoffs()[just]
        if recorder is not None:
            assert phh_out is not None
            for t, rec in zip(just, recorder.finish(eng, just)):
                rec.extra["hand"] = int(hand_id[t])
                rec.extra["seed"] = seed
                write_atomic(phh_out / f"hand_{hand_id[t]:07d}.phh", dumps(rec))
        finished += just.size
        bar.update(just.size)
        # deal new hands at the tables that finished, while hands remain to be started
        restart = just[: hands - started]
        in_play[just[restart.size :]] = False
        if restart.size:
            m = np.zeros(tables, bool)
            m[restart] = True
            eng.reset(m, rng=rng)
            hand_id[restart] = np.arange(started, started + restart.size)
            started += restart.size
            if recorder is not None:
                recorder.start(eng, restart)
    bar.close()
    return Simulation(results, time.perf_counter() - t0, decisions, big_blind)
