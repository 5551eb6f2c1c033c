"""Matches between agents on the batched engine, with duplicate dealing and per-hand records.

A match seats a *lineup*: the hero (agent 0) and the opponents cycling through the other seats.
With **duplicate dealing** every deal (hole cards of every seat and the board, drawn from the
recorded seed) is played once per rotation of the lineup, so every agent holds every seat's
cards once; the luck of the cards largely cancels when the rotations are summed. Without it, each
hand has fresh cards and the lineup still rotates by one seat per hand.

Everything is recorded per hand (who sat where, the cards, the payoffs, per-seat action counts),
so every metric in `gamelm.evaluation.metrics` can be recomputed from a `MatchResult`.

>>> from gamelm.agents.registry import make_agent
>>> res = play_match([make_agent("tag"), make_agent("calling-station")],
...                  MatchConfig(seats=2, hands=200, seed=0))
>>> res.payoffs.shape, int(res.payoffs.sum())  # chips are conserved
((200, 2), 0)
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, IntArray, observe
from gamelm.agents.observation import ActionHistory
from gamelm.agents.opponent_model import EVENTS, CounterStrategy, OpponentModel
from gamelm.evaluation.allin import expected_payoffs
from gamelm.evaluation.showdown import showdown_equity
from gamelm.files import atomic_file
from gamelm.poker.abstraction import CALL_ID, FOLD_ID, ActionAbstraction
from gamelm.poker.batch import RAISE, BatchEngine
from gamelm.poker.cards import deal
from gamelm.poker.lockstep import Lockstep
from gamelm.poker.rules import BOARD_CARDS_VISIBLE, check_seats

VISIBLE_BOARD = np.array(BOARD_CARDS_VISIBLE)  # board cards seen on each street
# A postflop bet or raise is a bluff when its showdown equity against the hands still in is below
# this share of a fair split of the pot: under 30% heads-up, 20% three-way.
BLUFF_SHARE = 0.6

# per (hand, seat) counters recorded during play
COUNTERS = (
    "vpip",  # put chips in voluntarily preflop
    "pfr",  # raised preflop
    "three_bet_chance",  # faced exactly one preflop raise
    "three_bet",  # ... and re-raised
    "post_aggr",  # bets and raises after the flop
    "post_calls",  # calls after the flop
    "saw_flop",
    "showdown",  # went to showdown
    "cbet_chance",  # preflop raiser, first to bet on the flop
    "cbet",
    "face_cbet",  # faced a continuation bet
    "fold_cbet",
    "bluffs",  # postflop bets and raises with little showdown equity when made (BLUFF_SHARE)
    "folds",
    "checks",
    "calls",
    "raises",
    "all_ins",
)


MAX_HANDS = 10**9  # a match records every hand: more would not fit in memory


@dataclass(frozen=True)
class MatchConfig:
    """How a match is played.

    Args:
        seats: players per table, 2..10 (`gamelm.poker.rules.SEATS`).
        hands: hands to play. With duplicate dealing every deal is played in all ``seats``
            rotations, except the last when ``hands`` is not a multiple of ``seats``.
        duplicate: replay every deal once per rotation of the lineup.
        seed: seed of the deals and of the agents' randomness (recorded in the result).
        stack_bb: starting stack in big blinds (reset every hand).
        small_blind, big_blind: blinds in chips.
        fractions: the raise sizes of the action menu, as pot fractions.
        tables: tables played in lockstep.
    """

    seats: int = 2
    hands: int = 10_000
    duplicate: bool = True
    seed: int = 0
    stack_bb: int = 100
    small_blind: int = 1
    big_blind: int = 2
    fractions: tuple[float, ...] = (0.5, 1.0)
    tables: int = 2048

    def __post_init__(self) -> None:
        check_seats(self.seats)
        if self.hands < 1:
            raise ValueError(f"hands must be at least 1, got {self.hands}")
        if self.hands > MAX_HANDS:
            raise ValueError(
                f"hands must be at most {MAX_HANDS:,} (a match records every hand), got "
                f"{self.hands:,}"
            )
        if self.stack_bb < 1:
            raise ValueError(f"the stack must be at least 1 big blind, got {self.stack_bb}")
        if self.tables < 1:
            raise ValueError(f"tables must be at least 1, got {self.tables}")


@dataclass
class MatchResult:
    """Per-hand records of a match (``H`` hands, ``P`` seats)."""

    agents: list[str]  # agent names; index 0 is the hero
    config: MatchConfig
    lineup: IntArray  # (H, P) agent index at each seat
    deal: IntArray  # (H,) deal number (duplicate: shared by the rotations of one deal)
    cards: npt.NDArray[np.uint8]  # (H, 2P + 5) hole cards by seat, then the board
    payoffs: IntArray  # (H, P) chips won or lost by each seat
    showdown: npt.NDArray[np.bool_]  # (H,)
    counters: dict[str, IntArray] = field(default_factory=dict)  # name -> (H, P)
    # agent index -> (decisions where the reference chose the same, decisions asked)
    agreement: dict[int, tuple[int, int]] = field(default_factory=dict)
    allin_payoffs: npt.NDArray[np.float64] | None = None  # (H, P) all-in adjusted payoffs
    model: OpponentModel | None = None  # the opponent model the match kept, if any
    # every postflop bet and raise: its "hand", "seat", "street" (1..3), how many players were
    # "live" and which ("live_seats", bit s for seat s), and its showdown "equity" (so bluffs can
    # be recounted at any threshold, and the equity recomputed with `showdown_equity`)
    bets: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        """Write the records to ``path`` (``.npz``, atomically), so that any metric can be
        recomputed later from `MatchResult.load`; the opponent model is not saved."""
        meta = {
            "agents": self.agents,
            "config": dataclasses.asdict(self.config),
            "agreement": {str(k): list(v) for k, v in self.agreement.items()},
        }
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "lineup": self.lineup,
            "deal": self.deal,
            "cards": self.cards,
            "payoffs": self.payoffs,
            "showdown": self.showdown,
            "meta": np.array(json.dumps(meta)),
        }
        arrays |= {f"counter_{k}": v for k, v in self.counters.items()}
        arrays |= {f"bet_{k}": v for k, v in self.bets.items()}
        if self.allin_payoffs is not None:
            arrays["allin_payoffs"] = self.allin_payoffs
        with atomic_file(path, ".npz") as tmp:
            np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path) -> MatchResult:
        """Records written by `save` (nothing is unpickled)."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            config = meta["config"]
            config["fractions"] = tuple(config["fractions"])
            files = data.files
            return cls(
                agents=list(meta["agents"]),
                config=MatchConfig(**config),
                lineup=data["lineup"],
                deal=data["deal"],
                cards=data["cards"],
                payoffs=data["payoffs"],
                showdown=data["showdown"],
                counters={k[8:]: data[k] for k in files if k.startswith("counter_")},
                agreement={int(k): (v[0], v[1]) for k, v in meta["agreement"].items()},
                allin_payoffs=data["allin_payoffs"] if "allin_payoffs" in files else None,
                bets={k[4:]: data[k] for k in files if k.startswith("bet_")},
            )


def _lineups(num_agents: int, seats: int) -> IntArray:
    """``(P, P)``: rotation r seats agent ``base[(s - r) % P]`` at seat s."""
    base = np.array([0] + [1 + (i % (num_agents - 1)) for i in range(seats - 1)])
    return np.stack([np.roll(base, r) for r in range(seats)])


def _deal_cards(seed: int, deals: int, seats: int) -> npt.NDArray[np.uint8]:
    """``(deals, 2P + 5)`` cards: the first cards of a shuffled deck per deal, from ``seed``."""
    gen = np.random.default_rng([seed, 7])
    return deal(gen, 2 * seats + 5, deals).T.copy()


def play_match(
    agents: list[Agent],
    config: MatchConfig,
    reference: Agent | None = None,
    progress: bool = False,
    model: OpponentModel | bool | None = None,
) -> MatchResult:
    """Play ``config.hands`` hands between ``agents`` (agent 0 is the hero).

    With ``reference``, every decision of every agent is also put to the reference agent, and
    the agreement rate is recorded (the reference's choice is not played).

    With ``model`` (an `OpponentModel` over the agents' names, or True for a new one; by default
    one is kept when an agent or the reference is a `CounterStrategy`), every finished hand
    updates the model and every observation carries the features of the players at its table
    (``opponent_stats``).
    Hands decided by a run-out are also scored all-in adjusted (``allin_payoffs``).
    """
    match = _Match(agents, config, reference, model)
    bar = _progress(config.hands, progress)
    match.loop.run(match.deal, match.finish, match.act, bar.update)
    bar.close()
    return match.result()


class _Match:
    """The state of a match being played and its steps: `deal` a hand at some tables, `act`
    (every table in play moves by one decision), `finish` the hands that ended, and the
    `result` once every hand is played (bluffs judged, run-outs scored all-in adjusted)."""

    def __init__(
        self,
        agents: list[Agent],
        config: MatchConfig,
        reference: Agent | None,
        model: OpponentModel | bool | None,
    ) -> None:
        if len(agents) < 2:
            raise ValueError("a match needs at least two agents")
        if len(agents) > config.seats:
            raise ValueError(f"{len(agents)} agents do not fit at {config.seats} seats")
        self.agents, self.cfg, self.reference = agents, config, reference
        p, hands = config.seats, config.hands
        # who sits where and which cards each hand gets (duplicate: each deal once per rotation)
        lineups = _lineups(len(agents), p)
        deals = math.ceil(hands / p) if config.duplicate else hands
        self.deal_of = np.arange(hands) // p if config.duplicate else np.arange(hands)
        self.cards = _deal_cards(config.seed, deals, p)[self.deal_of]  # (H, 2P + 5)
        self.lineup = lineups[np.arange(hands) % p]
        self.menu = ActionAbstraction(config.fractions)
        if model is None:
            model = any(isinstance(a, CounterStrategy) for a in [*agents, reference])
        if model is True:
            model = OpponentModel([a.name for a in agents])
        self.opp = model if isinstance(model, OpponentModel) else None
        if self.opp is not None and len(self.opp.players) != len(agents):
            raise ValueError(
                f"the opponent model knows {len(self.opp.players)} players, not {len(agents)}"
            )
        # per hand: what the result needs
        self.runout_seen = np.full(hands, 5)  # board cards seen when a run-out decided the hand
        self.paid = np.zeros((hands, p), np.int64)
        self.payoffs = np.zeros((hands, p), np.int64)
        self.showdown = np.zeros(hands, bool)
        self.counters = {name: np.zeros((hands, p), np.int64) for name in COUNTERS}
        self.agreement = [[0, 0] for _ in agents]
        self.bets: list[tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]] = []
        # per table: the engine and the state of the hand in play
        n = min(config.tables, hands)
        self.eng = BatchEngine(
            n, p, config.small_blind, config.big_blind, config.stack_bb * config.big_blind
        )
        self.loop = Lockstep(self.eng, hands)
        self.rng = np.random.default_rng([config.seed, 11])
        self.ref_rng = np.random.default_rng([config.seed, 19])  # never moves the match's draws
        self.raises = np.zeros(n, np.int64)  # bets and raises on the current street
        self.preflop_raises = np.zeros(n, np.int64)
        self.aggressor = np.full(n, -1)  # last preflop raiser
        self.cbet_live = np.zeros(n, bool)  # the flop's only bet so far is a continuation bet
        self.history = ActionHistory(n, p)  # the public action history the token view reads

    def deal(self, tables: IntArray, ids: IntArray) -> None:
        """Start hands ``ids`` at ``tables`` with their recorded cards."""
        n, p = self.eng.num_tables, self.cfg.seats
        c = self.cards[ids]
        hole = np.zeros((n, p, 2), np.int64)
        board = np.zeros((n, 5), np.int64)
        hole[tables] = c[:, : 2 * p].reshape(-1, p, 2)
        board[tables] = c[:, 2 * p :]
        mask = np.zeros(n, bool)
        mask[tables] = True
        self.eng.reset(mask, hole=hole, board=board)
        self.history.reset(tables)
        at_deal = tables[self.eng.showdown[tables]]  # all-in for the blinds: the run-out decides
        self.runout_seen[self.loop.hand_of[at_deal]] = 0
        self.raises[tables] = 0
        self.preflop_raises[tables] = 0
        self.aggressor[tables] = -1
        self.cbet_live[tables] = False

    def finish(self, ended: IntArray, h: IntArray) -> None:
        """Record the hands ``h`` that ended at tables ``ended``."""
        eng, counters = self.eng, self.counters
        folded = eng.folded[ended]
        self.payoffs[h] = eng.payoffs()[ended]
        self.showdown[h] = eng.showdown[ended]
        self.paid[h] = eng.paid_in[ended]
        counters["showdown"][h] = eng.showdown[ended][:, None] & ~folded
        counters["saw_flop"][h] |= counters["showdown"][h]  # run-outs skip the flop step
        if self.opp is not None:
            self.opp.update(
                self.lineup[h].ravel(),
                {k: counters[k][h].ravel() for k in EVENTS if k in counters},
            )

    def act(self, tables: IntArray) -> None:
        """Every table in play moves by one decision of the agent to act there."""
        eng, menu, hand_of = self.eng, self.menu, self.loop.hand_of
        actor = eng.actor[tables].astype(np.int64)
        ids = self._decide(tables, actor)
        _count(eng, menu, ids, tables, actor, hand_of, self.counters, self.raises,
               self.preflop_raises, self.aggressor, self.cbet_live, self.bets)  # fmt: skip
        street_before = eng.street.copy()
        menu.step(eng, ids)
        new_street = eng.street != street_before
        dealt = np.flatnonzero(new_street & ~eng.done)  # betting goes on: the history shows it
        if dealt.size:
            self.history.new_street(dealt, eng.street[dealt], eng.board[dealt])
        over = tables[eng.showdown[tables]]  # the hands that reached a showdown just now
        self.runout_seen[hand_of[over]] = VISIBLE_BOARD[street_before[over]]
        self.raises[new_street] = 0
        self.cbet_live[new_street] = False
        flop = np.flatnonzero(new_street & (street_before == 0))  # the flop was just dealt
        if flop.size:
            self.counters["saw_flop"][hand_of[flop]] = ~eng.folded[flop]

    def _decide(self, tables: IntArray, actor: IntArray) -> IntArray:
        """Each agent's choices at the tables where it is to act (``(n,)`` menu ids), checked
        legal, recorded in the history, and put to the reference when there is one."""
        hand_of, menu = self.loop.hand_of, self.menu
        who = self.lineup[hand_of[tables], actor]
        ids = np.full(self.eng.num_tables, CALL_ID, np.int64)
        for k, agent in enumerate(self.agents):
            mine = tables[who == k]
            if mine.size == 0:
                continue
            obs = observe(self.eng, menu, mine, self.raises, self.preflop_raises, self.history)
            obs.hand = hand_of[mine]
            if self.opp is not None:
                obs.opponent_stats = self.opp.features(self.lineup[hand_of[mine]])
            choice = np.asarray(agent.act(obs, self.rng), np.int64)
            if choice.shape != (mine.size,):
                raise ValueError(
                    f"agent {agent.name!r} returned {choice.shape} ids for {mine.size}"
                )
            ok = (choice >= 0) & (choice < menu.num_actions)
            ok[ok] = obs.legal[np.flatnonzero(ok), choice[ok]]
            if not ok.all():
                bad = int(np.flatnonzero(~ok)[0])
                raise ValueError(
                    f"agent {agent.name!r} chose an illegal action id {int(choice[bad])} "
                    f"(legal: {np.flatnonzero(obs.legal[bad]).tolist()})"
                )
            ids[mine] = choice
            self.history.record(obs, choice)
            if self.reference is not None:
                ref = np.asarray(self.reference.act(obs, self.ref_rng), np.int64)
                self.agreement[k][0] += int((ref == choice).sum())
                self.agreement[k][1] += mine.size
        return ids

    def _bet_records(self) -> dict[str, npt.NDArray[np.generic]]:
        """The postflop bets and raises with the bettor's showdown equity at the moment of the
        bet; those below `BLUFF_SHARE` of a fair share are counted as bluffs."""
        if not self.bets:
            return {"hand": np.zeros(0, np.int64), "seat": np.zeros(0, np.int64),
                    "street": np.zeros(0, np.int64), "live": np.zeros(0, np.int64),
                    "live_seats": np.zeros(0, np.int64), "equity": np.zeros(0)}  # fmt: skip
        h, seat, visible, live = (np.concatenate(x) for x in zip(*self.bets))
        rng = np.random.default_rng([self.cfg.seed, 17])
        eq = showdown_equity(self.cards[h], visible, seat, live, rng)
        bluff = eq < BLUFF_SHARE / live.sum(axis=1)
        np.add.at(self.counters["bluffs"], (h, seat), bluff.astype(np.int64))
        return {
            "hand": h,
            "seat": seat,
            "street": np.searchsorted(VISIBLE_BOARD, visible),
            "live": live.sum(axis=1),
            "live_seats": (live * (1 << np.arange(live.shape[1]))).sum(axis=1),  # bit s: seat s
            "equity": eq,
        }

    def _allin_payoffs(self) -> npt.NDArray[np.float64]:
        """Payoffs with every hand a run-out decided replaced by its expectation."""
        runout = np.flatnonzero(self.showdown & (self.runout_seen < 5))
        allin = self.payoffs.astype(np.float64)
        if runout.size:
            allin[runout] = expected_payoffs(
                self.cards[runout],
                self.runout_seen[runout],
                self.paid[runout],
                self.counters["showdown"][runout] > 0,
                np.random.default_rng([self.cfg.seed, 13]),
            )
        return allin

    def result(self) -> MatchResult:
        bets = self._bet_records()
        return MatchResult(
            agents=[a.name for a in self.agents],
            config=self.cfg,
            lineup=self.lineup,
            deal=self.deal_of,
            cards=self.cards,
            payoffs=self.payoffs,
            showdown=self.showdown,
            counters=self.counters,
            agreement=(
                {k: (v[0], v[1]) for k, v in enumerate(self.agreement)}
                if self.reference is not None
                else {}
            ),
            allin_payoffs=self._allin_payoffs(),
            model=self.opp,
            bets=bets,
        )


def _count(
    eng: BatchEngine,
    menu: ActionAbstraction,
    ids: IntArray,
    tables: IntArray,
    actor: IntArray,
    hand_of: IntArray,
    counters: dict[str, IntArray],
    raises: IntArray,
    preflop_raises: IntArray,
    aggressor: IntArray,
    cbet_live: npt.NDArray[np.bool_],
    bets: list[tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]],
) -> None:
    """Update the per-seat counters with the actions ``ids`` about to be played at ``tables``."""
    legal = eng.legal()
    choice = ids[tables]
    h = hand_of[tables]
    street = eng.street[tables]
    to_call = legal.call_amount[tables]
    kind = np.minimum(choice, RAISE)
    is_raise = kind == RAISE
    is_call = (choice == CALL_ID) & (to_call > 0)
    is_check = (choice == CALL_ID) & (to_call == 0)
    is_fold = choice == FOLD_ID
    pre = street == 0
    c = counters

    def add(name: str, value: npt.NDArray[np.bool_]) -> None:
        np.add.at(c[name], (h, actor), value.astype(np.int64))

    add("folds", is_fold)
    add("checks", is_check)
    add("calls", is_call)
    add("raises", is_raise)
    add("all_ins", is_raise & (choice == menu.all_in_id))
    vp = pre & (is_call | is_raise)
    c["vpip"][h, actor] |= vp
    c["pfr"][h, actor] |= pre & is_raise
    facing_one = pre & (preflop_raises[tables] == 1)
    c["three_bet_chance"][h, actor] |= facing_one
    c["three_bet"][h, actor] |= facing_one & is_raise
    add("post_aggr", ~pre & is_raise)
    add("post_calls", ~pre & is_call)
    # continuation bets: the preflop raiser opens the betting on the flop
    flop = street == 1
    chance = flop & (aggressor[tables] == actor) & (raises[tables] == 0)
    c["cbet_chance"][h, actor] |= chance
    c["cbet"][h, actor] |= chance & is_raise
    facing = flop & cbet_live[tables] & (raises[tables] == 1)
    c["face_cbet"][h, actor] |= facing
    c["fold_cbet"][h, actor] |= facing & is_fold
    # postflop bets and raises, for the bluff count once the match is over (preflop, most of the
    # players still in have not acted yet, so the equity against their hands says little)
    r = np.flatnonzero(is_raise & ~pre)
    if r.size:
        bets.append((h[r], actor[r], VISIBLE_BOARD[street[r]], ~eng.folded[tables[r]]))
    # book-keeping for the next decisions
    cbet_live[tables] = np.where(chance & is_raise, True, cbet_live[tables] & ~is_raise)
    raises[tables] += is_raise
    preflop_raises[tables] += pre & is_raise
    aggressor[tables] = np.where(pre & is_raise, actor, aggressor[tables])


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, show: bool) -> _NoBar:  # a tqdm bar has the same two methods
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="hand", leave=False)  # type: ignore[return-value]
