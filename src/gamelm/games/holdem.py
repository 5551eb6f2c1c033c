"""Heads-up No-Limit Hold'em abstracted for the blueprint solver: a bet abstraction (the betting
tree) and a card abstraction (buckets).

**Bet abstraction** (`build_tree`): the menu of `gamelm.poker.abstraction.ActionAbstraction`
(fold, check/call, raises by pot fractions, all-in), with at most ``raise_caps[street]``
fraction raises per street (all-in stays available). The tree is built by playing every
sequence through `gamelm.poker.batch.BatchEngine`, so its chip amounts, legal actions, street
changes and all-ins are exactly those of the engine that gamelm's matches use. Players are the
engine's seats: seat 1 is the button (small blind, first to act preflop), seat 0 the big blind.

**Card abstraction** (`CardAbstraction`): preflop, the 169 hand classes; on the flop and turn,
buckets of the distribution of the hand's river equity against a random hand (its mean,
E[HS], in ``equity_bins`` quantile bins, and within each, its spread, E[HS^2] - E[HS]^2, in
``spread_bins`` quantile bins: draws and made hands of the same mean part); on the river, quantile
bins of the equity. The equities are Monte Carlo estimates with the gamelm evaluator
(`equity_moments`); the quantile edges are fitted once on sampled deals and saved with the
blueprint.

`HoldemGame` puts the abstracted betting behind the `gamelm.games.base.Game` protocol with the
real cards: nine chance nodes deal the cards (two per seat, then the board, hidden until its
street), and a player's information state is their cards, the visible board and the betting. It is
the game the blueprint approximates; the solver samples it through `CardAbstraction.deal_buckets`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gamelm.games.base import CHANCE, TERMINAL
from gamelm.games.tree import Tree
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.poker.cards import deal, deal_unseen
from gamelm.poker.evaluator import evaluate_cards
from gamelm.poker.ranges import class_of_combos, combo_index

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
SMALL_BLIND, BIG_BLIND = 1, 2


@dataclass(frozen=True)
class BetAbstraction:
    fractions: tuple[float, ...] = (0.5, 1.0)
    raise_caps: tuple[int, int, int, int] = (2, 1, 1, 1)
    stack_bb: int = 100

    def __post_init__(self) -> None:
        ActionAbstraction(self.fractions)  # checks the fractions
        if len(self.raise_caps) != 4 or any(c < 0 for c in self.raise_caps):
            raise ValueError(f"raise_caps needs four counts >= 0, got {self.raise_caps}")
        if self.stack_bb < 1:
            raise ValueError(f"stack_bb must be at least 1, got {self.stack_bb}")

    @property
    def menu(self) -> ActionAbstraction:
        return ActionAbstraction(self.fractions)


@dataclass
class HoldemTree:
    """The betting tree with what the blueprint agent needs to follow a real hand through it."""

    tree: Tree
    abstraction: BetAbstraction
    history: list[tuple[int, ...]]  # menu ids from the root to each node
    pot_after_call: IntArray  # (N,) chips in the pot once the player to act has called
    max_bet: IntArray  # (N,) the highest bet of the street
    all_in_to: IntArray  # (N,) the all-in raise-to amount of the player to act


def build_tree(abstraction: BetAbstraction | None = None) -> HoldemTree:
    """The heads-up betting tree of ``abstraction``, breadth first."""
    ab = abstraction or BetAbstraction()
    menu = ab.menu
    a_n = menu.num_actions
    stack = ab.stack_bb * BIG_BLIND
    frontier: list[tuple[int, ...]] = [()]
    raises_of: list[int] = [0]
    street_of: list[int] = [0]
    history: list[tuple[int, ...]] = []
    player, street, children, fold, stake, showdown = [], [], [], [], [], []
    pac, mbet, allin = [], [], []
    while frontier:
        n = len(frontier)
        eng = BatchEngine(n, 2, SMALL_BLIND, BIG_BLIND, starting_stacks=stack)
        eng.reset(seed=0)
        depth = len(frontier[0])
        for k in range(depth):
            menu.step(eng, np.array([seq[k] for seq in frontier], np.int64))
        legal = menu.legal_mask(eng)
        payoffs = eng.payoffs()
        nxt: list[tuple[int, ...]] = []
        nxt_raises: list[int] = []
        nxt_street: list[int] = []
        first_id = len(history) + n
        for t, seq in enumerate(frontier):
            history.append(seq)
            kids = [-1] * a_n
            if eng.done[t]:
                player.append(-1)
                street.append(street_of[t])
                is_sd = bool(eng.showdown[t])
                showdown.append(is_sd)
                fold.append(0.0 if is_sd else float(payoffs[t, 0]))
                stake.append(float(eng.paid_in[t].min()) if is_sd else 0.0)
                pac.append(0)
                mbet.append(0)
                allin.append(0)
            else:
                s = int(eng.street[t])
                raises = raises_of[t] if s == street_of[t] else 0
                player.append(int(eng.actor[t]))
                street.append(s)
                showdown.append(False)
                fold.append(0.0)
                stake.append(0.0)
                to_call = int(eng.legal().call_amount[t])
                pac.append(int(eng.pot()[t]) + to_call)
                mbet.append(int(eng.max_bet[t]))
                allin.append(int(eng.legal().max_raise_to[t]))
                for a in np.flatnonzero(legal[t]):
                    is_fraction = 2 <= a < menu.all_in_id
                    if is_fraction and raises >= ab.raise_caps[s]:
                        continue
                    kids[a] = first_id + len(nxt)
                    nxt.append((*seq, int(a)))
                    nxt_raises.append(raises + (a >= 2))
                    nxt_street.append(s)
            children.append(kids)
        frontier, raises_of, street_of = nxt, nxt_raises, nxt_street
    tree = Tree.from_lists(
        player,
        street,
        children,
        fold,
        stake,
        showdown,
        num_buckets=(169, 1, 1, 1),  # replaced by the card abstraction's
        action_names=menu.names,
    )
    return HoldemTree(
        tree,
        ab,
        history,
        np.asarray(pac, np.int64),
        np.asarray(mbet, np.int64),
        np.asarray(allin, np.int64),
    )


# -- card abstraction ------------------------------------------------------------------------------


def equity_moments(
    hole: npt.ArrayLike,
    board: npt.ArrayLike,
    board_count: int,
    rng: np.random.Generator,
    runouts: int = 16,
    opponents: int = 8,
) -> tuple[FloatArray, FloatArray]:
    """Mean and second moment of each hand's river equity against a random hand.

    ``hole`` ``(m, 2)``, ``board`` ``(m, 5)`` of which ``board_count`` cards are dealt. For each
    of ``runouts`` random completions of the board the equity is estimated against
    ``opponents`` random hands; the mean of those equities estimates E[HS] and the mean of their
    squares E[HS^2] (on the river, where nothing is dealt, the runouts only add opponents).

    >>> from gamelm.poker.cards import parse_cards
    >>> hole = np.stack([parse_cards("AsAh"), parse_cards("7c2d")])
    >>> board = np.stack([parse_cards("AdKs2c7h9h")] * 2)
    >>> mean, _ = equity_moments(hole, board, 5, np.random.default_rng(0))
    >>> bool(mean[0] > 0.95), bool(0.8 < mean[1] < 0.95)  # a set of aces; two pair
    (True, True)
    """
    h = np.asarray(hole, np.int64)
    b = np.asarray(board, np.int64)
    m = h.shape[0]
    if not 1 <= opponents <= 20:
        raise ValueError(f"opponents must be 1..20, got {opponents}")
    dead = np.zeros((m, 52), bool)
    dead[np.arange(m)[:, None], h] = True
    if board_count:
        dead[np.arange(m)[:, None], b[:, :board_count]] = True
    need = 5 - board_count
    deck = deal_unseen(rng, dead, need + 2 * opponents, runouts)  # (m * runouts, 52)
    rows = m * runouts
    table = np.repeat(np.arange(m), runouts)
    full_board = np.empty((rows, 5), np.uint8)
    full_board[:, :board_count] = b[table, :board_count]
    full_board[:, board_count:] = deck[:, :need]
    hero = np.concatenate([h[table].astype(np.uint8), full_board], axis=1)
    mine = evaluate_cards(hero)
    score = np.zeros(rows)
    for o in range(opponents):
        opp = deck[:, need + 2 * o : need + 2 * o + 2]
        theirs = evaluate_cards(np.concatenate([opp, full_board], axis=1))
        score += (mine > theirs) + 0.5 * (mine == theirs)
    hs = (score / opponents).reshape(m, runouts)
    return hs.mean(1), (hs**2).mean(1)


@dataclass
class CardAbstraction:
    """169 preflop classes; flop and turn ``equity_bins x spread_bins``; river ``river_bins``."""

    equity_bins: int = 8
    spread_bins: int = 3
    river_bins: int = 10
    runouts: int = 16
    opponents: int = 8
    # fitted quantile edges: per street 1..3, the equity edges, and for the flop and turn the
    # spread edges within each equity bin
    equity_edges: dict[int, list[float]] = field(default_factory=dict)
    spread_edges: dict[int, list[list[float]]] = field(default_factory=dict)

    @property
    def num_buckets(self) -> tuple[int, int, int, int]:
        flop = self.equity_bins * self.spread_bins
        return (169, flop, flop, self.river_bins)

    def to_dict(self) -> dict[str, Any]:
        return {
            "equity_bins": self.equity_bins,
            "spread_bins": self.spread_bins,
            "river_bins": self.river_bins,
            "runouts": self.runouts,
            "opponents": self.opponents,
            "equity_edges": {str(k): v for k, v in self.equity_edges.items()},
            "spread_edges": {str(k): v for k, v in self.spread_edges.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CardAbstraction:
        out = cls(
            int(d["equity_bins"]),
            int(d["spread_bins"]),
            int(d["river_bins"]),
            int(d["runouts"]),
            int(d["opponents"]),
        )
        out.equity_edges = {int(k): list(v) for k, v in d["equity_edges"].items()}
        out.spread_edges = {int(k): [list(r) for r in v] for k, v in d["spread_edges"].items()}
        return out

    def fit(self, rng: np.random.Generator, deals: int = 20_000) -> CardAbstraction:
        """Fit the quantile edges on ``deals`` random hands and boards."""
        cards = deal(rng, 7, deals).T.astype(np.int64)
        hole, board = cards[:, :2], cards[:, 2:]
        for s, count in ((1, 3), (2, 4), (3, 5)):
            mean, second = equity_moments(hole, board, count, rng, self.runouts, self.opponents)
            bins = self.river_bins if s == 3 else self.equity_bins
            q = np.linspace(0, 1, bins + 1)[1:-1]
            self.equity_edges[s] = np.quantile(mean, q).tolist()
            if s < 3:
                eb = np.searchsorted(self.equity_edges[s], mean, side="right")
                spread = second - mean**2
                qs = np.linspace(0, 1, self.spread_bins + 1)[1:-1]
                self.spread_edges[s] = [
                    np.quantile(spread[eb == k], qs).tolist()
                    if (eb == k).sum()
                    else [0.0] * len(qs)
                    for k in range(self.equity_bins)
                ]
        return self

    def bucket(
        self, hole: npt.ArrayLike, board: npt.ArrayLike, street: int, rng: np.random.Generator
    ) -> IntArray:
        """Bucket of each hand ``(m, 2)`` on ``street`` (0..3) with the board ``(m, 5)``."""
        h = np.asarray(hole, np.int64)
        if street == 0:
            return class_of_combos(combo_index(h[:, 0], h[:, 1]))
        if street not in self.equity_edges:
            raise ValueError("the card abstraction is not fitted; call fit() first")
        count = (0, 3, 4, 5)[street]
        mean, second = equity_moments(h, board, count, rng, self.runouts, self.opponents)
        eb = np.searchsorted(self.equity_edges[street], mean, side="right")
        if street == 3:
            return eb.astype(np.int64)
        edges = np.asarray(self.spread_edges[street])  # (equity_bins, spread_bins - 1)
        spread = second - mean**2
        sb = (spread[:, None] > edges[eb]).sum(1)
        return (eb * self.spread_bins + sb).astype(np.int64)

    def deal_buckets(self, batch: int, rng: np.random.Generator) -> tuple[IntArray, FloatArray]:
        """Random heads-up deals: buckets ``(batch, 2 seats, 4 streets)`` and the showdown
        result (+1 when seat 0 wins, -1 when seat 1 does, 0 for a split)."""
        cards = deal(rng, 9, batch).T.astype(np.int64)
        board = cards[:, 4:]
        out = np.empty((batch, 2, 4), np.int64)
        strength = []
        for seat in (0, 1):
            hole = cards[:, 2 * seat : 2 * seat + 2]
            for s in range(4):
                out[:, seat, s] = self.bucket(hole, board, s, rng)
            strength.append(evaluate_cards(np.concatenate([hole, board], 1).astype(np.uint8)))
        return out, np.sign(strength[0] - strength[1]).astype(np.float64)


# -- the protocol view ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldemState:
    game: HoldemGame
    cards: tuple[int, ...] = ()  # seat 0's two, seat 1's two, then the five board cards
    node: int = 0

    def current_player(self) -> int:
        if len(self.cards) < 9:
            return CHANCE
        p = int(self.game.tree.tree.player[self.node])
        return TERMINAL if p < 0 else p

    def is_terminal(self) -> bool:
        return self.current_player() == TERMINAL

    def legal_actions(self) -> list[int]:
        if self.current_player() < 0:
            return []
        return np.flatnonzero(self.game.tree.tree.children[self.node] >= 0).tolist()

    def chance_outcomes(self) -> list[tuple[int, float]]:
        rest = [c for c in range(52) if c not in self.cards]
        return [(c, 1.0 / len(rest)) for c in rest]

    def child(self, action: int) -> HoldemState:
        if len(self.cards) < 9:
            return HoldemState(self.game, (*self.cards, action), self.node)
        nxt = int(self.game.tree.tree.children[self.node, action])
        if nxt < 0:
            raise ValueError(f"action {action} is not in the abstraction here")
        return HoldemState(self.game, self.cards, nxt)

    def returns(self) -> tuple[float, float]:
        t = self.game.tree.tree
        if not t.showdown[self.node]:
            win = float(t.fold_payoff[self.node])
        else:
            board = list(self.cards[4:])
            s0, s1 = (
                int(
                    evaluate_cards(np.array([[*self.cards[2 * p : 2 * p + 2], *board]], np.uint8))[
                        0
                    ]
                )
                for p in (0, 1)
            )
            win = float(t.stake[self.node]) * float(np.sign(s0 - s1))
        return (win, -win)

    def information_state_string(self, player: int) -> str:
        t = self.game.tree.tree
        seen = (0, 3, 4, 5)[int(t.street[self.node])]
        hole = self.cards[2 * player : 2 * player + 2]
        board = self.cards[4 : 4 + seen]
        history = " ".join(map(str, self.game.tree.history[self.node]))
        return f"[Seat: {player}][Hole: {hole}][Board: {board}][Betting: {history}]"


class HoldemGame:
    """Heads-up NLHE with `BetAbstraction`'s betting behind the `gamelm.games.base.Game`
    protocol (actions are the menu ids of ``abstraction.menu``)."""

    name = "holdem"
    num_players = 2

    def __init__(self, abstraction: BetAbstraction | None = None) -> None:
        self.abstraction = abstraction or BetAbstraction()
        self.tree = build_tree(self.abstraction)
        self.num_distinct_actions = self.tree.tree.num_actions

    def initial_state(self) -> HoldemState:
        return HoldemState(self)

    def action_name(self, action: int) -> str:
        return self.tree.tree.action_names[action]
