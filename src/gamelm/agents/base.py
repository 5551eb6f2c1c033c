"""The agent protocol: a batch of observations in, one menu action id per observation out.

Agents are batched: a match asks an agent once per step for every table where one of its seats
is to act, so a match of thousands of tables costs one call per agent per step. Actions are ids
into the match's `gamelm.poker.abstraction.ActionAbstraction` menu (fold, check/call, pot-fraction
raises, all-in); ``obs.legal`` says which are legal, and an agent must pick a legal one.

>>> import numpy as np
>>> from gamelm.poker.abstraction import ActionAbstraction
>>> from gamelm.poker.batch import BatchEngine
>>> eng = BatchEngine(2, 2, 1, 2, starting_stacks=200)
>>> eng.reset(seed=0)
>>> obs = observe(eng, ActionAbstraction((1.0,)), np.arange(2))
>>> obs.legal.astype(int).tolist(), obs.to_call.tolist(), obs.pot.tolist()
([[1, 1, 1, 1], [1, 1, 1, 1]], [1, 1], [3, 3])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from gamelm.poker.abstraction import CALL_ID, FOLD_ID, ActionAbstraction, Menu
from gamelm.poker.batch import BatchEngine
from gamelm.poker.equity import hand_strength

if TYPE_CHECKING:
    from gamelm.agents.observation import ActionHistory

IntArray = npt.NDArray[np.int64]
UNSEEN = 255  # a board slot not dealt yet
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Observation:
    """What the player to act sees at each of ``m`` tables (one row per table).

    Chip amounts are in chips; divide by ``big_blind`` for big blinds. Seats are numbered as in
    the engine (seat P-1 is the button). ``raises`` counts the bets and raises of the current
    street, ``preflop_raises`` those of the preflop round (filled in by the match).
    ``opponent_stats`` holds the `gamelm.agents.opponent_model.OpponentModel` features of every
    seat when the match keeps a model (``(m, P, F)``), otherwise it is None.
    """

    tables: IntArray  # (m,) engine table index
    seat: IntArray  # (m,) seat to act
    num_players: int
    big_blind: int
    menu: Menu  # entries; their chips per table are in raise_to
    hole: npt.NDArray[np.uint8]  # (m, 2)
    board: npt.NDArray[np.uint8]  # (m, 5): the first ``board_count`` cards, then UNSEEN
    board_count: IntArray  # (m,) 0, 3, 4 or 5
    street: IntArray  # (m,) 0 preflop .. 3 river
    stacks: IntArray  # (m, P) chips behind
    bets: IntArray  # (m, P) chips bet on this street
    folded: BoolArray  # (m, P)
    pot: IntArray  # (m,) every chip committed, current bets included
    to_call: IntArray  # (m,) chips the actor needs to call (capped by its stack)
    min_raise_to: IntArray  # (m,)
    max_raise_to: IntArray  # (m,) all-in
    legal: BoolArray  # (m, A) legal menu entries
    raise_to: IntArray  # (m, A) chips the actor's bet would total for each menu entry
    raises: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    preflop_raises: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    opponent_stats: npt.NDArray[np.float64] | None = None
    history: npt.NDArray[np.int32] | None = None  # (m, L) public history tokens, if kept
    history_len: IntArray | None = None  # (m,) tokens used in each row of ``history``
    hand: IntArray | None = None  # (m,) the hand's index in the match, when a match plays it

    @property
    def size(self) -> int:
        return int(self.seat.size)

    @property
    def live_opponents(self) -> IntArray:
        """Opponents who have not folded."""
        live = (~self.folded).sum(axis=1)
        return live - 1

    def subset(self, rows: IntArray) -> Observation:
        """The observation of the tables in ``rows`` only."""
        o = self
        return Observation(
            tables=o.tables[rows],
            seat=o.seat[rows],
            num_players=o.num_players,
            big_blind=o.big_blind,
            menu=o.menu,
            hole=o.hole[rows],
            board=o.board[rows],
            board_count=o.board_count[rows],
            street=o.street[rows],
            stacks=o.stacks[rows],
            bets=o.bets[rows],
            folded=o.folded[rows],
            pot=o.pot[rows],
            to_call=o.to_call[rows],
            min_raise_to=o.min_raise_to[rows],
            max_raise_to=o.max_raise_to[rows],
            legal=o.legal[rows],
            raise_to=o.raise_to[rows],
            raises=o.raises[rows],
            preflop_raises=o.preflop_raises[rows],
            opponent_stats=None if o.opponent_stats is None else o.opponent_stats[rows],
            history=None if o.history is None else o.history[rows],
            history_len=None if o.history_len is None else o.history_len[rows],
            hand=None if o.hand is None else o.hand[rows],
        )

    def strength(self, trials: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        """Each actor's Monte Carlo equity against random hands of the opponents still in."""

        opponents = np.maximum(self.live_opponents, 1)
        return hand_strength(
            self.hole, self.board, self.board_count, opponents, trials=trials, rng=rng
        )

    @property
    def pot_odds(self) -> npt.NDArray[np.float64]:
        """Equity needed to call: to_call / (pot + to_call) (0 when there is nothing to call)."""
        return self.to_call / np.maximum(self.pot + self.to_call, 1)


def pick_legal(obs: Observation, want: IntArray) -> IntArray:
    """``want`` where legal; otherwise check/call, else fold, else the first legal entry.

    (Check/call is always legal in a real hand; a listed menu, as in PokerBench, may omit it.)
    """
    rows = np.arange(obs.size)
    fallback = np.where(obs.legal[:, CALL_ID], CALL_ID, FOLD_ID)
    fallback = np.where(obs.legal[rows, fallback], fallback, obs.legal.argmax(axis=1))
    return np.where(obs.legal[rows, want], want, fallback)


def raise_entry(obs: Observation, pot_fraction: float) -> IntArray:
    """The legal raise entry whose size is closest to ``pot_fraction`` pots (all-in if no other
    raise is legal), or -1 where raising is not legal.

    Sizes are read from ``obs.raise_to`` (a raise of ``f`` pots adds ``f * (pot + to_call)`` to
    the largest bet), so pot-fraction menus and menus of listed chip amounts work alike.
    """
    menu = obs.menu
    k = menu.all_in_id - 2  # raise entries other than all-in
    out = np.full(obs.size, -1)
    if k:
        max_bet = obs.bets.max(axis=1, keepdims=True)
        size = (obs.raise_to[:, 2 : 2 + k] - max_bet) / np.maximum(obs.pot + obs.to_call, 1)[
            :, None
        ]
        dist = np.where(obs.legal[:, 2 : 2 + k], np.abs(size - pot_fraction), np.inf)
        best = dist.argmin(axis=1)
        out = np.where(np.isfinite(dist[np.arange(obs.size), best]), 2 + best, -1)
    return np.where((out < 0) & obs.legal[:, menu.all_in_id], menu.all_in_id, out)


class AgentUnavailable(RuntimeError):
    """An agent that needs a service (a language model behind an HTTP endpoint) cannot reach
    it; the message says which and why, in one sentence."""


@runtime_checkable
class Agent(Protocol):
    """Anything that picks menu actions for a batch of observations."""

    name: str

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        """One legal menu id per observation row."""
        ...


def observe(
    eng: BatchEngine,
    menu: ActionAbstraction,
    tables: IntArray,
    raises: IntArray | None = None,
    preflop_raises: IntArray | None = None,
    history: ActionHistory | None = None,
) -> Observation:
    """The observations of the players to act at ``tables`` of ``eng`` (with the public action
    history when an `gamelm.agents.observation.ActionHistory` is kept)."""
    legal = eng.legal()
    mask = menu.legal_mask(eng)[tables]
    targets = np.zeros((tables.size, menu.num_actions), np.int64)
    targets[:, CALL_ID] = (legal.bet + legal.call_amount)[tables]
    targets[:, 2 : 2 + len(menu.fractions)] = menu.raise_targets(eng)[tables]
    targets[:, menu.all_in_id] = legal.max_raise_to[tables]
    targets[:, FOLD_ID] = legal.bet[tables]
    count = eng.visible_board_count()[tables]
    board = eng.board[tables].copy()
    board[np.arange(5)[None, :] >= count[:, None]] = UNSEEN  # never show cards to come
    return Observation(
        tables=tables,
        seat=eng.actor[tables].astype(np.int64),
        num_players=eng.num_players,
        big_blind=eng.big_blind,
        menu=menu,
        hole=eng.hole[tables, eng.actor[tables]],
        board=board,
        board_count=count,
        street=eng.street[tables].astype(np.int64),
        stacks=eng.stacks[tables].astype(np.int64),
        bets=eng.bets[tables].astype(np.int64),
        folded=eng.folded[tables],
        pot=eng.pot()[tables].astype(np.int64),
        to_call=legal.call_amount[tables].astype(np.int64),
        min_raise_to=legal.min_raise_to[tables].astype(np.int64),
        max_raise_to=legal.max_raise_to[tables].astype(np.int64),
        legal=mask,
        raise_to=targets,
        raises=np.zeros(tables.size, np.int64) if raises is None else raises[tables],
        preflop_raises=(
            np.zeros(tables.size, np.int64) if preflop_raises is None else preflop_raises[tables]
        ),
        history=None if history is None else history.tokens[tables],
        history_len=None if history is None else history.length[tables],
    )


PROBABILITY_SAMPLES = 32  # draws of `act` that estimate the frequencies of an agent with no policy


def policy(
    agent: Agent, obs: Observation, rng: np.random.Generator, play: bool = True
) -> tuple[IntArray | None, npt.NDArray[np.float64], bool]:
    """For every decision of ``obs``: the move ``agent`` plays (None unless ``play``), the
    probability of each menu entry ``(m, A)``, and whether those are its policy's (its
    ``action_probabilities``) or the frequencies of `PROBABILITY_SAMPLES` draws of its `act`
    (one draw for agents marked ``deterministic``); the move is then the first draw."""
    legal = obs.legal
    if hasattr(agent, "action_probabilities"):
        moves = agent.act(obs, rng) if play else None
        p = np.asarray(agent.action_probabilities(obs, rng), np.float64) * legal
        exact = True
    else:
        k = 1 if getattr(agent, "deterministic", False) else PROBABILITY_SAMPLES
        rows = np.repeat(np.arange(obs.size), k)
        picks = np.asarray(agent.act(obs.subset(rows), rng)).reshape(obs.size, k)
        moves = picks[:, 0]
        p = (picks[:, :, None] == np.arange(legal.shape[1])).mean(axis=1) * legal
        exact = False
    total = p.sum(axis=1, keepdims=True)
    uniform = legal / np.maximum(legal.sum(axis=1, keepdims=True), 1)
    return moves, np.where(total > 0, p / np.maximum(total, 1e-300), uniform), exact
