"""Rollouts: the learner (a `gamelm.models.lm.PokerLM`) plays hands on the batched engine against
opponents, every table in lockstep, and its decisions are kept for training.

One step asks the learner once for all the tables where one of its seats is to act (one forward
pass), and each opponent once for its tables. Seats rotate hand by hand as in
`gamelm.evaluation.match`, so the learner plays every position. A decision records its tokens, the
menu's action tokens and legal mask, the action taken, its log-probability and the value estimate;
when the hand ends, the seat's result in big blinds is the reward of its last decision. Decisions
come back grouped by *episode* (one seat in one hand), in time order, as `gamelm.rollouts.trajectory
.gae` wants them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from gamelm.agents.base import Agent, IntArray, observe
from gamelm.agents.lm import _sample, model_inputs
from gamelm.agents.observation import ActionHistory
from gamelm.models.lm import PokerLM
from gamelm.models.vocab import HEAD_TOKENS, PAD
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.poker.lockstep import Lockstep
from gamelm.poker.rules import check_seats

SELF = None  # an opponent slot played by the learner itself (its decisions are kept)


@dataclass
class Rollout:
    """``n`` learner decisions, grouped by episode and in time order within each."""

    tokens: npt.NDArray[np.int64]  # (n, T) left-padded
    mask: npt.NDArray[np.bool_]  # (n, T) real tokens
    choices: npt.NDArray[np.int64]  # (n, A) token of each menu entry
    legal: npt.NDArray[np.bool_]  # (n, A)
    actions: npt.NDArray[np.int64]  # (n,) menu id played
    logp: npt.NDArray[np.float64]  # (n,) log-probability of the action when played
    values: npt.NDArray[np.float64]  # (n,) value estimate (in the trainer's reward units)
    rewards: npt.NDArray[np.float64]  # (n,) the hand's result on an episode's last decision
    episodes: npt.NDArray[np.int64]  # (n,) hand * seats + seat
    shared: npt.NDArray[np.int64]  # (n,) leading tokens shared with the seat's next decision
    hands: int  # hands played
    learner_result: float  # the learner's total result over those hands, in big blinds

    @property
    def size(self) -> int:
        return int(self.actions.size)


def collect(
    model: PokerLM,
    opponents: list[Agent | None],
    hands: int,
    rng: np.random.Generator,
    *,
    seats: int = 2,
    tables: int = 256,
    stack_bb: int = 100,
    temperature: float = 1.0,
    device: str = "cpu",
) -> Rollout:
    """Play ``hands`` hands of the learner against ``opponents`` and return its decisions.

    The learner's main seat rotates hand by hand; every other seat of a hand is given an
    opponent drawn uniformly from ``opponents``, where ``SELF`` (None) is the learner itself,
    whose decisions are kept too. ``learner_result`` counts the main seat only.
    """
    if not opponents:
        raise ValueError("a rollout needs at least one opponent")
    if hands < 1 or tables < 1:
        raise ValueError(f"hands and tables must be positive, got {hands} and {tables}")
    check_seats(seats)
    menu = ActionAbstraction(model.fractions)
    n = min(tables, hands)
    eng = BatchEngine(n, seats, 1, 2, stack_bb * 2)
    bb = eng.big_blind
    history = ActionHistory(n, seats)
    pool = np.array([0 if o is SELF else k + 1 for k, o in enumerate(opponents)])
    agent_at = np.zeros((n, seats), np.int64)  # 0: the learner, k: opponents[k - 1]
    main_seat = np.zeros(n, np.int64)
    last = np.full((n, seats), -1)  # the learner's latest decision of the hand, per seat
    records: list[dict[str, np.ndarray]] = []
    rewards: list[float] = []
    result = 0.0
    loop = Lockstep(eng, hands)
    hand_of = loop.hand_of

    def deal(rows: IntArray, ids: IntArray) -> None:
        eng.reset(np.isin(np.arange(n), rows), rng=rng)
        history.reset(rows)
        main_seat[rows] = ids % seats
        agent_at[rows] = pool[rng.integers(pool.size, size=(rows.size, seats))]
        agent_at[rows, main_seat[rows]] = 0
        last[rows] = -1

    def finish(ended: IntArray, ids: IntArray) -> None:
        nonlocal result
        pay = eng.payoffs()[ended] / bb
        mine = agent_at[ended] == 0
        result += float(pay[np.arange(ended.size), main_seat[ended]].sum())
        for i, s in zip(*np.nonzero(mine & (last[ended] >= 0))):
            rewards[last[ended[i], s]] += float(pay[i, s])

    def act(rows: IntArray) -> None:
        who = agent_at[rows, eng.actor[rows]]
        ids = np.full(n, 1, np.int64)
        for k in range(1 + len(opponents)):
            at = rows[who == k]
            if at.size == 0:
                continue
            obs = observe(eng, menu, at, history=history)
            if k == 0:
                choice = learner_step(obs, at)
            else:
                choice = np.asarray(opponents[k - 1].act(obs, rng), np.int64)
            ids[at] = choice
            history.record(obs, choice)
        before = eng.street.copy()
        menu.step(eng, ids)
        dealt = np.flatnonzero((eng.street != before) & ~eng.done)
        if dealt.size:
            history.new_street(dealt, eng.street[dealt], eng.board[dealt])

    def learner_step(obs, at: IntArray) -> IntArray:
        """The learner samples its move; the decision is recorded for the update."""
        inputs = model_inputs(model, obs, device, rng)
        with torch.inference_mode():
            logp, value = model(*inputs, temperature)
        p = logp.exp().double().cpu().numpy()
        choice = _sample(p, rng)
        taken = logp.double().cpu().numpy()[np.arange(at.size), choice]
        seat = obs.seat
        first = len(rewards)
        records.append(
            {
                "tokens": inputs[0].cpu().numpy(),
                "mask": inputs[1].cpu().numpy(),
                "choices": inputs[2].cpu().numpy(),
                "legal": obs.legal.copy(),
                "actions": choice,
                "logp": taken,
                "values": value.double().cpu().numpy(),
                "episodes": hand_of[at] * seats + seat,
                "shared": HEAD_TOKENS + obs.history_len,
            }
        )
        rewards.extend([0.0] * at.size)
        last[at, seat] = first + np.arange(at.size)
        return choice

    loop.run(deal, finish, act)
    return _assemble(records, np.array(rewards), hands, result)


def left_pad(a: np.ndarray, width: int, value: object) -> np.ndarray:
    """Rows of ``a`` moved to the right end of ``width`` columns, ``value`` before them."""
    out = np.full((a.shape[0], width), value, a.dtype)
    out[:, width - a.shape[1] :] = a
    return out


def _assemble(
    records: list[dict[str, np.ndarray]],
    rewards: npt.NDArray[np.float64],
    hands: int,
    result: float,
) -> Rollout:
    """Concatenate the step records (left-padding tokens to one width) and group by episode."""
    if not records:
        empty = np.zeros(0)
        return Rollout(
            np.zeros((0, 1), np.int64), np.zeros((0, 1), bool), np.zeros((0, 0), np.int64),
            np.zeros((0, 0), bool), empty.astype(np.int64), empty, empty, empty,
            empty.astype(np.int64), empty.astype(np.int64), hands, result,
        )  # fmt: skip
    width = max(r["tokens"].shape[1] for r in records)

    tokens = np.concatenate([left_pad(r["tokens"], width, PAD) for r in records])
    mask = np.concatenate([left_pad(r["mask"], width, False) for r in records])
    cat = {
        k: np.concatenate([r[k] for r in records])
        for k in records[0]
        if k not in ("tokens", "mask")
    }
    order = np.argsort(cat["episodes"], kind="stable")  # episodes together, time order kept
    return Rollout(
        tokens=tokens[order],
        mask=mask[order],
        choices=cat["choices"][order],
        legal=cat["legal"][order],
        actions=cat["actions"][order],
        logp=cat["logp"][order],
        values=cat["values"][order],
        rewards=rewards[order],
        episodes=cat["episodes"][order],
        shared=cat["shared"][order],
        hands=hands,
        learner_result=result,
    )
