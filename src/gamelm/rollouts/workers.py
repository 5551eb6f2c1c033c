"""Rollout workers: the hands of one PPO update collected by several processes, on this machine
(`ProcessWorkers`) or on a Ray cluster (`RayWorkers`), then merged into one `Rollout`.

Each update the trainer sends every worker the same job (the learner's weights, the league's
specs and, when the league has ``snapshot``, the weights of the snapshot drawn for the update)
with its own share of the hands and its own seed, drawn from the trainer's generator, so a run
with the same number of workers is reproducible. Workers run one torch thread each. Opponents
named by ``ckpt:PATH`` must be readable at that path on every worker.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gamelm.agents.registry import make_agent
from gamelm.models.vocab import PAD
from gamelm.parallel import ProcessPool, RayPool
from gamelm.rollouts.selfplay import SELF, Rollout, collect, left_pad


@dataclass
class Job:
    """What a worker needs to collect its share of an update's hands."""

    model: dict[str, Any]  # preset, fractions, strength_trials, overrides
    weights: dict[str, np.ndarray]
    league: list[str]  # opponent specs; "self" and "snapshot" as in PPOConfig.opponents
    snapshot: dict[str, np.ndarray] | None
    hands: int
    seed: int
    seats: int = 2
    tables: int = 256
    stack_bb: int = 100
    temperature: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)
    runs_dir: str | None = None  # where run:NAME opponents are looked up


_CACHE: dict[str, Any] = {}


def _model(spec: dict[str, Any], weights: dict[str, np.ndarray], slot: str):
    import torch

    from gamelm.models.lm import PokerLM

    key = f"{slot}:{sorted(spec.items())}"
    model = _CACHE.get(key)
    if model is None:
        model = PokerLM.from_preset(
            spec["preset"],
            fractions=tuple(spec["fractions"]),
            strength_trials=spec["strength_trials"],
            **spec["overrides"],
        ).eval()
        _CACHE[key] = model
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    return model


def run_job(job: Job) -> Rollout:
    """Collect one share of an update (runs in a worker process)."""
    import torch

    from gamelm.agents.lm import LMAgent

    torch.set_num_threads(1)
    learner = _model(job.model, job.weights, "learner")
    league: list = []
    for spec in job.league:
        if spec == "self":
            league.append(SELF)
        elif spec == "snapshot":
            if job.snapshot is None:
                league.append(SELF)
            else:
                snap = _model(job.model, job.snapshot, "snapshot")
                league.append(LMAgent(snap, "snapshot", job.temperature))
        else:
            agent = _CACHE.get(f"agent:{spec}")
            if agent is None:
                agent = _CACHE[f"agent:{spec}"] = make_agent(spec, job.runs_dir)
            league.append(agent)
    return collect(
        learner, league, job.hands, np.random.default_rng(job.seed), seats=job.seats,
        tables=job.tables, stack_bb=job.stack_bb, temperature=job.temperature,
    )  # fmt: skip


def merge(parts: list[Rollout], seats: int) -> Rollout:
    """One rollout from the workers' rollouts (hands renumbered, tokens padded to one width)."""
    offsets = np.cumsum([0] + [p.hands for p in parts[:-1]])
    hands = sum(p.hands for p in parts)
    result = sum(p.learner_result for p in parts)
    kept = [(p, o) for p, o in zip(parts, offsets) if p.size]  # a share may hold no decision
    if not kept:
        empty = parts[0]
        return dataclasses.replace(empty, hands=hands, learner_result=result)
    parts, offsets = [p for p, _ in kept], [o for _, o in kept]
    width = max(p.tokens.shape[1] for p in parts)

    return Rollout(
        tokens=np.concatenate([left_pad(p.tokens, width, PAD) for p in parts]),
        mask=np.concatenate([left_pad(p.mask, width, False) for p in parts]),
        choices=np.concatenate([p.choices for p in parts]),
        legal=np.concatenate([p.legal for p in parts]),
        actions=np.concatenate([p.actions for p in parts]),
        logp=np.concatenate([p.logp for p in parts]),
        values=np.concatenate([p.values for p in parts]),
        rewards=np.concatenate([p.rewards for p in parts]),
        episodes=np.concatenate([p.episodes + o * seats for p, o in zip(parts, offsets)]),
        shared=np.concatenate([p.shared for p in parts]),
        hands=hands,
        learner_result=result,
    )


def split(hands: int, workers: int) -> list[int]:
    """``hands`` shared as evenly as possible by ``workers`` (none gets zero)."""
    base, extra = divmod(hands, workers)
    return [base + (i < extra) for i in range(workers) if base + (i < extra) > 0]


class ProcessWorkers(ProcessPool):
    """``n`` worker processes on this machine (spawned, one torch thread each)."""

    def __init__(self, n: int) -> None:
        super().__init__(n, run_job)


class RayWorkers(RayPool):
    """``n`` rollout tasks per update on a Ray cluster (``address`` as for ``ray.init``:
    ``auto``, ``ray://host:10001``, or ``local`` to start Ray on this machine)."""

    def __init__(self, n: int, address: str) -> None:
        super().__init__(n, address, run_job)
