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
    if len(agents) < 2:
        raise ValueError("a match needs at least two agents")
    if len(agents) > config.seats:
        raise ValueError(f"{len(agents)} agents do not fit at {config.seats} seats")
    cfg = config
    p = cfg.seats
    hands = cfg.hands
    lineups = _lineups(len(agents), p)
    if cfg.duplicate:
        deals = math.ceil(hands / p)
        deal = np.arange(hands) // p
        rotation = np.arange(hands) % p
    else:
        deals = hands
        deal = np.arange(hands)
        rotation = np.arange(hands) % p
    cards = _deal_cards(cfg.seed, deals, p)[deal]  # (H, 2P + 5)
    lineup = lineups[rotation]
    menu = ActionAbstraction(cfg.fractions)
    if model is None:
        model = any(isinstance(a, CounterStrategy) for a in [*agents, reference])
    if model is True:
        model = OpponentModel([a.name for a in agents])
    opp = model if isinstance(model, OpponentModel) else None
    if opp is not None and len(opp.players) != len(agents):
        raise ValueError(f"the opponent model knows {len(opp.players)} players, not {len(agents)}")
    runout_seen = np.full(hands, 5)  # board cards seen when a run-out decided the hand
    paid = np.zeros((hands, p), np.int64)
    n = min(cfg.tables, hands)
    eng = BatchEngine(n, p, cfg.small_blind, cfg.big_blind, cfg.stack_bb * cfg.big_blind)
    rng = np.random.default_rng([cfg.seed, 11])
    payoffs = np.zeros((hands, p), np.int64)
    showdown = np.zeros(hands, bool)
    counters = {name: np.zeros((hands, p), np.int64) for name in COUNTERS}
    agreement = [[0, 0] for _ in agents]
    ref_rng = np.random.default_rng([cfg.seed, 19])  # the reference never moves the match's draws
    hand_of = np.full(n, -1)
    raises = np.zeros(n, np.int64)  # bets and raises on the current street
    preflop_raises = np.zeros(n, np.int64)
    aggressor = np.full(n, -1)  # last preflop raiser
    cbet_live = np.zeros(n, bool)  # the flop's only bet so far is a continuation bet
    bets: list[tuple[IntArray, IntArray, IntArray, npt.NDArray[np.bool_]]] = []

    history = ActionHistory(n, p)  # the public action history the token view reads

    def start(tables: IntArray, first: int) -> None:
        ids = np.arange(first, first + tables.size)
        hand_of[tables] = ids
        c = cards[ids]
        hole = np.zeros((n, p, 2), np.int64)
        board = np.zeros((n, 5), np.int64)
        hole[tables] = c[:, : 2 * p].reshape(-1, p, 2)
        board[tables] = c[:, 2 * p :]
        mask = np.zeros(n, bool)
        mask[tables] = True
        eng.reset(mask, hole=hole, board=board)
        history.reset(tables)
        at_deal = tables[eng.showdown[tables]]  # all-in for the blinds: the run-out decides
        runout_seen[hand_of[at_deal]] = 0
        raises[tables] = 0
        preflop_raises[tables] = 0
        aggressor[tables] = -1
        cbet_live[tables] = False

    started = n
    start(np.arange(n), 0)
    in_play = np.ones(n, bool)  # the table holds a hand not yet recorded
    finished = 0
    bar = _progress(hands, progress)
    rows_all = np.arange(n)
    while finished < hands:
        ended = rows_all[in_play & eng.done]  # also hands over at the deal (all-in blinds)
        if ended.size:
            h = hand_of[ended]
            folded = eng.folded[ended]
            payoffs[h] = eng.payoffs()[ended]
            showdown[h] = eng.showdown[ended]
            paid[h] = eng.paid_in[ended]
            counters["showdown"][h] = eng.showdown[ended][:, None] & ~folded
            counters["saw_flop"][h] |= counters["showdown"][h]  # run-outs skip the flop step
            if opp is not None:
                opp.update(
                    lineup[h].ravel(),
                    {k: counters[k][h].ravel() for k in EVENTS if k in counters},
                )
            finished += ended.size
            bar.update(ended.size)
            again = ended[: hands - started]
            in_play[ended[again.size :]] = False
            if again.size:
                start(again, started)
                started += again.size
            continue
        tables = rows_all[~eng.done]
        actor = eng.actor[tables].astype(np.int64)
        who = lineup[hand_of[tables], actor]
        ids = np.full(n, CALL_ID, np.int64)
        for k, agent in enumerate(agents):
            mine = tables[who == k]
            if mine.size == 0:
                continue
            obs = observe(eng, menu, mine, raises, preflop_raises, history)
            obs.hand = hand_of[mine]
            if opp is not None:
                obs.opponent_stats = opp.features(lineup[hand_of[mine]])
            choice = np.asarray(agent.act(obs, rng), np.int64)
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
            history.record(obs, choice)
            if reference is not None:
                ref = np.asarray(reference.act(obs, ref_rng), np.int64)
                agreement[k][0] += int((ref == choice).sum())
                agreement[k][1] += mine.size
        _count(
            eng,
            menu,
            ids,
            tables,
            actor,
            hand_of,
            counters,
            raises,
            preflop_raises,
            aggressor,
            cbet_live,
            bets,
        )
        street_before = eng.street.copy()
        menu.step(eng, ids)
        new_street = eng.street != street_before
        dealt = np.flatnonzero(new_street & ~eng.done)  # betting goes on: the history shows it
        if dealt.size:
            history.new_street(dealt, eng.street[dealt], eng.board[dealt])
        over = np.flatnonzero(eng.showdown & in_play)  # hands that just reached a showdown
        runout_seen[hand_of[over]] = VISIBLE_BOARD[street_before[over]]
        raises[new_street] = 0
        cbet_live[new_street] = False
        flop = np.flatnonzero(new_street & (street_before == 0))  # the flop was just dealt
        if flop.size:
            counters["saw_flop"][hand_of[flop]] = ~eng.folded[flop]
    bar.close()
    bet_records: dict[str, npt.NDArray[np.generic]] = {
        "hand": np.zeros(0, np.int64),
        "seat": np.zeros(0, np.int64),
        "street": np.zeros(0, np.int64),
        "live": np.zeros(0, np.int64),
        "live_seats": np.zeros(0, np.int64),
        "equity": np.zeros(0),
    }
    if bets:
        h, seat, visible, live = (np.concatenate(x) for x in zip(*bets))
        eq = showdown_equity(cards[h], visible, seat, live, np.random.default_rng([cfg.seed, 17]))
        bluff = eq < BLUFF_SHARE / live.sum(axis=1)
        np.add.at(counters["bluffs"], (h, seat), bluff.astype(np.int64))
        bet_records = {
            "hand": h,
            "seat": seat,
            "street": np.searchsorted(VISIBLE_BOARD, visible),
            "live": live.sum(axis=1),
            "live_seats": (live * (1 << np.arange(live.shape[1]))).sum(axis=1),  # bit s: seat s
            "equity": eq,
        }
    runout = np.flatnonzero(showdown & (runout_seen < 5))
    allin = payoffs.astype(np.float64)
    if runout.size:
        allin[runout] = expected_payoffs(
            cards[runout],
            runout_seen[runout],
            paid[runout],
            counters["showdown"][runout] > 0,
            np.random.default_rng([cfg.seed, 13]),
        )
    return MatchResult(
        agents=[a.name for a in agents],
        config=cfg,
        lineup=lineup,
        deal=deal,
        cards=cards,
        payoffs=payoffs,
        showdown=showdown,
        counters=counters,
        agreement={k: (v[0], v[1]) for k, v in enumerate(agreement) if reference is not None},
        allin_payoffs=allin,
        model=opp,
        bets=bet_records,
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
