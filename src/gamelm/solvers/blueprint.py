"""The heads-up No-Limit Hold'em blueprint: MCCFR (`gamelm.solvers.mccfr`) on the abstracted game
of `gamelm.games.holdem`, run by several worker processes (or Ray tasks), saved and resumed.

Parallel scheme: each round, every worker starts from the current regrets, runs
``batches_per_round`` batches of external-sampling MCCFR on its own deals (updating its local copy
as it goes) and sends back its regret and average-strategy increments; the increments of all
workers are added to the tables. With ``linear`` weighting, batch ``t`` (numbered over all workers)
counts ``t`` times.

A blueprint is a directory: ``blueprint.json`` (the configuration, the fitted card abstraction and
the progress counters) and ``tables.npz`` (regrets and strategy sums), written atomically.
"""

from __future__ import annotations

import dataclasses
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gamelm.files import atomic_directory
from gamelm.games.holdem import BetAbstraction, CardAbstraction, HoldemTree, build_tree
from gamelm.games.tree import FloatArray, TreeGame
from gamelm.parallel import ProcessPool, RayPool
from gamelm.settings import config_from_dict
from gamelm.solvers.mccfr import MCCFR

FORMAT = "gamelm-blueprint"
VERSION = 1


@dataclass
class BlueprintConfig:
    """How the hold'em blueprint is abstracted and solved."""

    fractions: tuple[float, ...] = (0.5, 1.0)  # raise sizes as pot fractions (plus all-in)
    raise_caps: tuple[int, int, int, int] = (2, 1, 1, 1)  # fraction raises per street
    stack_bb: int = 100  # starting stacks in big blinds
    equity_bins: int = 8  # flop/turn buckets: equity quantiles ...
    spread_bins: int = 3  # ... times equity-spread quantiles within each
    river_bins: int = 10  # river buckets: equity quantiles
    runouts: int = 16  # Monte Carlo runouts per bucket estimate
    opponents: int = 8  # random opponent hands per runout
    batch_size: int = 1024  # deals per MCCFR iteration
    batches_per_round: int = 4  # iterations each worker runs between merges
    linear: bool = True  # Linear CFR weighting
    seed: int = 0

    def __post_init__(self) -> None:
        self.fractions = tuple(float(f) for f in self.fractions)
        self.raise_caps = tuple(int(c) for c in self.raise_caps)  # type: ignore[assignment]
        BetAbstraction(self.fractions, self.raise_caps, self.stack_bb)  # checks them
        for name in ("equity_bins", "spread_bins", "river_bins", "runouts", "batches_per_round"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 1 <= self.opponents <= 20:
            raise ValueError(f"opponents must be 1..20, got {self.opponents}")
        if self.batch_size < 2 or self.batch_size % 2:
            raise ValueError(f"batch_size must be an even number >= 2, got {self.batch_size}")

    @property
    def bet_abstraction(self) -> BetAbstraction:
        return BetAbstraction(self.fractions, self.raise_caps, self.stack_bb)

    def card_abstraction(self) -> CardAbstraction:
        return CardAbstraction(
            self.equity_bins, self.spread_bins, self.river_bins, self.runouts, self.opponents
        )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["fractions"], d["raise_caps"] = list(self.fractions), list(self.raise_caps)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlueprintConfig:
        """The settings of ``d``, each checked against its field's type (one sentence for an
        unknown name or a value of the wrong kind)."""
        return config_from_dict(cls, d, "blueprint")


@lru_cache(maxsize=4)
def _tree(fractions: tuple[float, ...], caps: tuple[int, ...], stack_bb: int) -> HoldemTree:
    return build_tree(BetAbstraction(fractions, caps, stack_bb))  # type: ignore[arg-type]


def tree_game(config: BlueprintConfig, cards: CardAbstraction) -> tuple[HoldemTree, TreeGame]:
    ht = _tree(config.fractions, config.raise_caps, config.stack_bb)
    tree = dataclasses.replace(ht.tree, num_buckets=cards.num_buckets)
    return ht, TreeGame(tree, cards.deal_buckets, "holdem")


@dataclass
class Blueprint:
    """A solved (or partly solved) abstraction: configuration, card abstraction and tables."""

    config: BlueprintConfig
    cards: CardAbstraction
    regrets_t: FloatArray  # (actions, rows)
    strategy_sum_t: FloatArray
    iterations: int = 0
    deals: int = 0
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)  # sampled evaluations

    @classmethod
    def new(cls, config: BlueprintConfig) -> Blueprint:
        rng = np.random.default_rng([config.seed, 1])
        cards = config.card_abstraction().fit(rng)
        _, game = tree_game(config, cards)
        shape = (game.tree.num_actions, game.tree.num_rows)
        return cls(config, cards, np.zeros(shape), np.zeros(shape))

    @property
    def holdem_tree(self) -> HoldemTree:
        return tree_game(self.config, self.cards)[0]

    @property
    def tree_game(self) -> TreeGame:
        return tree_game(self.config, self.cards)[1]

    def average_strategy_t(self) -> FloatArray:
        """``(actions, rows)`` average strategy; uniform over legal actions where never visited."""
        solver = MCCFR(self.tree_game)
        solver.strategy_sum_t = self.strategy_sum_t
        return solver.average_strategy().T

    def save(self, path: str | Path) -> None:

        meta = {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "cards": self.cards.to_dict(),
            "iterations": self.iterations,
            "deals": self.deals,
            "seconds": self.seconds,
            "history": self.history,
        }
        with atomic_directory(path) as tmp:
            (tmp / "blueprint.json").write_text(json.dumps(meta, indent=1) + "\n")
            np.savez(
                tmp / "tables.npz", regrets_t=self.regrets_t, strategy_sum_t=self.strategy_sum_t
            )

    @classmethod
    def load(cls, path: str | Path) -> Blueprint:
        p = Path(path)
        meta_file, tables_file = p / "blueprint.json", p / "tables.npz"
        if not meta_file.is_file() or not tables_file.is_file():
            raise ValueError(f"{p} is not a blueprint (no blueprint.json and tables.npz)")
        try:
            meta = json.loads(meta_file.read_text())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("blueprint.json was not written by gamelm solve holdem")
            config = BlueprintConfig.from_dict(meta["config"])
            cards = CardAbstraction.from_dict(meta["cards"])
            with np.load(tables_file, allow_pickle=False) as z:
                regrets, strategy = z["regrets_t"], z["strategy_sum_t"]
            counters = (int(meta["iterations"]), int(meta["deals"]), float(meta["seconds"]))
            history = list(meta.get("history", []))
        except (OSError, KeyError, TypeError, AttributeError, ValueError, EOFError,
                zipfile.BadZipFile) as exc:  # fmt: skip
            what = str(exc).strip() or type(exc).__name__
            raise ValueError(f"cannot read the blueprint at {p} (damaged file?): {what}") from None
        bp = cls(config, cards, regrets, strategy, *counters, history)
        expected = (bp.tree_game.tree.num_actions, bp.tree_game.tree.num_rows)
        if regrets.shape != expected or strategy.shape != expected:
            raise ValueError(f"the tables at {p} do not fit its configuration (damaged file?)")
        return bp


# -- workers ---------------------------------------------------------------------------------------


@dataclass
class Job:
    config: dict[str, Any]
    cards: dict[str, Any]
    regrets_t: FloatArray
    first_iteration: int  # global number of this worker's first batch
    stride: int  # workers: the global numbers of its batches go up by this
    batches: int
    seed: list[int]


def run_job(job: Job) -> tuple[FloatArray, FloatArray]:
    """Run a worker's batches from the given regrets; return its (regret, strategy) increments."""
    config = BlueprintConfig.from_dict(job.config)
    cards = CardAbstraction.from_dict(job.cards)
    _, game = tree_game(config, cards)
    solver = MCCFR(game, linear=config.linear)
    solver.regrets_t = job.regrets_t.copy()
    rng = np.random.default_rng(job.seed)
    for k in range(job.batches):
        solver.iteration = job.first_iteration + k * job.stride - 1  # step() adds one
        solver.step(config.batch_size, rng)
    return solver.regrets_t - job.regrets_t, solver.strategy_sum_t


class _Inline:
    def run(self, jobs: list[Job]) -> list[tuple[FloatArray, FloatArray]]:
        return [run_job(j) for j in jobs]

    def close(self) -> None:
        pass


def _pool(workers: int, ray_address: str | None) -> Any:

    if ray_address:
        return RayPool(workers, ray_address, run_job)
    if workers == 1:
        return _Inline()
    return ProcessPool(workers, run_job)


def train(
    blueprint: Blueprint,
    *,
    iterations: int | None = None,
    seconds: float = float("inf"),
    workers: int = 1,
    ray_address: str | None = None,
    out: Path | None = None,
    checkpoint_seconds: float = 600.0,
    on_round: Callable[[Blueprint, float], None] | None = None,
    on_checkpoint: Callable[[Blueprint], None] | None = None,
) -> Blueprint:
    """Run MCCFR rounds until ``iterations`` batches in all or ``seconds`` of wall time, saving to
    ``out`` every ``checkpoint_seconds``, at the end and when interrupted (KeyboardInterrupt)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    cfg = blueprint.config
    if out is not None:
        blueprint.save(out)  # a bad path fails now, not at the first checkpoint
    pool = _pool(workers, ray_address)
    start = time.perf_counter()
    last_save = start
    try:
        while True:
            elapsed = time.perf_counter() - start
            if iterations is not None and blueprint.iterations >= iterations:
                break
            if elapsed >= seconds:
                break
            total = cfg.batches_per_round * workers
            if iterations is not None:
                total = min(total, iterations - blueprint.iterations)
            counts = [
                c for c in (total // workers + (w < total % workers) for w in range(workers)) if c
            ]
            t0 = blueprint.iterations
            jobs = [
                Job(
                    cfg.to_dict(),
                    blueprint.cards.to_dict(),
                    blueprint.regrets_t,
                    t0 + w + 1,
                    len(counts),
                    c,
                    [cfg.seed, 2, t0, w],
                )
                for w, c in enumerate(counts)
            ]
            round_start = time.perf_counter()
            parts = pool.run(jobs)
            d_regret = np.sum([r for r, _ in parts], axis=0)  # the whole round, or nothing
            d_strategy = np.sum([st for _, st in parts], axis=0)
            blueprint.regrets_t += d_regret
            blueprint.strategy_sum_t += d_strategy
            done = total
            blueprint.iterations += done
            blueprint.deals += done * cfg.batch_size
            blueprint.seconds += time.perf_counter() - round_start
            if on_round is not None:
                on_round(
                    blueprint, done * cfg.batch_size / max(time.perf_counter() - round_start, 1e-9)
                )
            if out is not None and time.perf_counter() - last_save >= checkpoint_seconds:
                if on_checkpoint is not None:
                    on_checkpoint(blueprint)
                blueprint.save(out)
                last_save = time.perf_counter()
    except BaseException:  # Ctrl-C, SIGTERM, a crashed worker: keep every finished round
        if out is not None:
            blueprint.save(out)
        raise
    finally:
        pool.close()
    if on_checkpoint is not None:
        on_checkpoint(blueprint)
    if out is not None:
        blueprint.save(out)
    return blueprint
