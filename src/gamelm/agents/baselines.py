"""Baseline players: random, calling station, maniac, tight-aggressive, equity / pot odds.

Each is batched (one call per step for all the tables where it acts) and registered by its
``opponent_level`` name, so the CLI can name it (`gamelm.agents.registry.make_agent`).

* ``random``: uniform over the legal menu entries.
* ``calling-station``: always checks or calls.
* ``maniac``: raises whenever it can (the largest pot-fraction raise, else all-in).
* ``tag`` (tight-aggressive): position-aware preflop ranges in range notation (open, 3-bet,
  continue against a raise, continue against a 3-bet), then postflop bets for value and calls by
  equity against the players still in.
* ``equity``: estimates its equity against the range the players still in are put on (any two
  cards, a raising range or a re-raising range, by the preflop action), and calls when it beats
  the pot odds, raises when it is well ahead.

>>> import numpy as np
>>> from gamelm.poker.abstraction import ActionAbstraction
>>> from gamelm.poker.batch import BatchEngine
>>> from gamelm.agents.base import observe
>>> eng = BatchEngine(3, 2, 1, 2, starting_stacks=200)
>>> eng.reset(seed=0)
>>> obs = observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(3))
>>> CallingStation().act(obs, np.random.default_rng(0)).tolist()
[1, 1, 1]
>>> Maniac().act(obs, np.random.default_rng(0)).tolist()  # raise 1 pot
[3, 3, 3]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, IntArray, Observation, pick_legal, raise_entry
from gamelm.poker.abstraction import CALL_ID, FOLD_ID, sample_uniform
from gamelm.poker.equity import hand_strength
from gamelm.poker.positions import position_names
from gamelm.poker.ranges import NUM_COMBOS, Range, combo_index


def _fold_or_check(obs: Observation) -> IntArray:
    """Fold when there is something to call, otherwise check."""
    return np.where(obs.to_call > 0, FOLD_ID, CALL_ID)


@dataclass
class RandomAgent:
    """Uniform over the legal menu entries."""

    opponent_level: ClassVar[str] = "random"  # its name in the CLI and `make_agent`
    name: str = "random"

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:

        return sample_uniform(obs.legal, rng)

    def action_probabilities(
        self, obs: Observation, rng: np.random.Generator
    ) -> npt.NDArray[np.float64]:
        """Uniform over the legal entries (used by `gamelm.evaluation.lbr`)."""
        legal = obs.legal.astype(np.float64)
        return legal / legal.sum(axis=1, keepdims=True)


@dataclass
class CallingStation:
    """Always checks or calls."""

    opponent_level: ClassVar[str] = "calling-station"  # its name in the CLI and `make_agent`
    name: str = "calling-station"

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        return pick_legal(obs, np.full(obs.size, CALL_ID, np.int64))


@dataclass
class Maniac:
    """Raises whenever it can: the largest raise short of all-in, else all-in."""

    opponent_level: ClassVar[str] = "maniac"  # its name in the CLI and `make_agent`
    name: str = "maniac"

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        want = raise_entry(obs, 1e9)  # the largest legal size
        return pick_legal(obs, np.where(want >= 0, want, CALL_ID))


# -- tight-aggressive -----------------------------------------------------------------------------

# Opening ranges by position for 6-max (tighter early, wider late), in range notation.
TAG_OPEN = {
    "UTG": "77+, ATs+, KTs+, QTs+, JTs, T9s, 98s, AJo+, KQo",
    "HJ": "66+, A9s+, A5s-A4s, KTs+, QTs+, JTs, T9s, 98s, 87s, ATo+, KJo+",
    "CO": "44+, A2s+, K9s+, Q9s+, J9s+, T8s+, 97s+, 87s, 76s, 65s, A9o+, KTo+, QTo+, JTo",
    "BTN": (
        "22+, A2s+, K5s+, Q7s+, J7s+, T7s+, 96s+, 85s+, 75s+, 64s+, 54s, A5o+, K9o+, Q9o+, "
        "J9o+, T9o"
    ),
    "SB": "44+, A2s+, K8s+, Q9s+, J9s+, T9s, 98s, 87s, A8o+, KTo+, QJo",
    "BB": "TT+, AJs+, KQs, AQo+",  # the big blind raises limpers with these, else checks
}
TAG_THREE_BET = "TT+, AQs+, AKo, A5s"
TAG_CALL_RAISE = "22+, ATs+, KTs+, QTs+, JTs, T9s, 98s, AJo+, KQo"
TAG_CALL_THREE_BET = "QQ+, AKs, AKo"


@cache
def _range_weights(spec: str) -> npt.NDArray[np.float64]:
    """A range's combo weights (cached per range text; empty text is the empty range)."""
    weights = Range.parse(spec).weights if spec else np.zeros(NUM_COMBOS)
    weights.setflags(write=False)
    return weights


def _range_table(spec: str) -> npt.NDArray[np.bool_]:
    """Which combos a range holds."""
    return _range_weights(spec) > 0


def _open_position(name: str) -> str:
    """Map a full-ring position name onto the 6-max opening table."""
    if name in TAG_OPEN:
        return name
    if name == "SB/BTN":
        return "BTN"
    if name.startswith("UTG"):
        return "UTG"
    if name == "LJ":
        return "HJ"
    return "CO"


@dataclass
class TightAggressive:
    """Position-aware preflop ranges; postflop value bets and equity-based calls.

    Preflop: with no raise yet it opens its position's range (``TAG_OPEN``) to about a pot,
    otherwise folds (or checks in the big blind); facing one raise it 3-bets ``three_bet`` and
    calls ``call_raise``; facing more it continues only with ``call_three_bet`` (raising QQ+ and
    AK). Postflop it estimates its equity against the players still in: bets or raises for value
    above ``value``, calls when the equity beats the pot odds by ``margin``, otherwise checks or
    folds; as the preflop raiser it continuation-bets a flop with equity above ``cbet``. Both
    thresholds are for heads-up; multiway they are the same multiple of a fair share
    (``value * 2 / players``).
    """

    opponent_level: ClassVar[str] = "tag"  # its name in the CLI and `make_agent`
    name: str = "tag"
    three_bet: str = TAG_THREE_BET
    call_raise: str = TAG_CALL_RAISE
    call_three_bet: str = TAG_CALL_THREE_BET
    value: float = 0.70
    cbet: float = 0.50
    margin: float = 0.05
    trials: int = 200

    def _in(self, spec: str, combos: IntArray) -> npt.NDArray[np.bool_]:
        return _range_table(spec)[combos]

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        out = np.full(obs.size, CALL_ID, np.int64)
        pre = obs.street == 0
        if pre.any():
            out[pre] = self._preflop(obs, np.flatnonzero(pre))
        post = ~pre
        if post.any():
            out[post] = self._postflop(obs, np.flatnonzero(post), rng)
        return out

    def _preflop(self, obs: Observation, rows: IntArray) -> IntArray:
        o = obs.subset(rows)
        combos = combo_index(o.hole[:, 0].astype(np.int64), o.hole[:, 1].astype(np.int64))
        # one opening table per seat of this table size
        names = position_names(o.num_players)
        opening = np.stack([_range_table(TAG_OPEN[_open_position(n)]) for n in names])
        opened = opening[o.seat, combos]
        raises = o.preflop_raises
        raise_pot = raise_entry(o, 1.0)
        fold = _fold_or_check(o)
        call = np.full(rows.size, CALL_ID)
        out = np.where(opened & (raise_pot >= 0), raise_pot, fold)
        # facing one raise: 3-bet or call
        facing = raises == 1
        three = self._in(self.three_bet, combos)
        flat = self._in(self.call_raise, combos)
        out = np.where(facing, np.where(three & (raise_pot >= 0), raise_pot, fold), out)
        out = np.where(facing & ~three & flat, call, out)
        # facing a 3-bet or more: premium hands only
        deep = raises >= 2
        premium = self._in(self.call_three_bet, combos)
        top = self._in("QQ+, AK", combos)
        jam = np.where(o.legal[:, o.menu.all_in_id], o.menu.all_in_id, raise_entry(o, 1e9))
        jam = np.where(jam >= 0, jam, CALL_ID)
        out = np.where(deep, np.where(premium, np.where(top, jam, call), fold), out)
        return pick_legal(o, out)

    def _postflop(self, obs: Observation, rows: IntArray, rng: np.random.Generator) -> IntArray:
        o = obs.subset(rows)
        eq = o.strength(self.trials, rng)
        share = 2.0 / (np.maximum(o.live_opponents, 1) + 1)  # thresholds scale with a fair share
        bet = raise_entry(o, 0.66)
        fold = _fold_or_check(o)
        unopened = o.to_call == 0
        aggressor_cbet = (
            (o.street == 1) & (o.preflop_raises > 0) & unopened & (eq > self.cbet * share)
        )
        value = (eq > self.value * share) & (bet >= 0)
        out = np.where(value | (aggressor_cbet & (bet >= 0)), bet, fold)
        calls = ~value & (o.to_call > 0) & (eq > o.pot_odds + self.margin)
        out = np.where(calls, CALL_ID, out)
        return pick_legal(o, out)


# Ranges the equity bot puts its opponents on, by the preflop action (range notation).
EQUITY_VS_RAISE = (
    "22+, A2s+, K8s+, Q9s+, J9s+, T8s+, 98s, 87s, 76s, 65s, A8o+, KTo+, QTo+, JTo"  # about 30%
)
EQUITY_VS_RERAISE = "99+, AJs+, KQs, A5s, AQo+"  # about 6%


@dataclass
class EquityBot:
    """Equity against the range the opponents still in are likely to hold, compared with the
    price.

    The opponents' range follows the preflop action: in a raised pot one opponent (the raiser,
    or the caller of the bot's own raise) is put on ``vs_raise``, or on ``vs_reraise`` after a
    re-raise (both in range notation; combos the bot's cards and the board block are removed);
    every other opponent holds any two cards. Calls when equity > pot odds + ``margin``, raises
    about ``raise_size`` pots when equity is above ``raise_above`` heads-up, or the same multiple
    of a fair share multiway (``raise_above * 2 / players``: 0.41 three-way, 0.21 six-way),
    otherwise checks or folds.
    """

    opponent_level: ClassVar[str] = "equity"
    name: str = "equity"
    vs_raise: str = EQUITY_VS_RAISE
    vs_reraise: str = EQUITY_VS_RERAISE
    raise_above: float = 0.62
    margin: float = 0.0
    raise_size: float = 0.75
    trials: int = 200

    def opponent_ranges(self, obs: Observation) -> npt.NDArray[np.float64]:
        """``(m, 1326)`` combo weights of the range the raiser at each table is put on."""
        table = np.stack(
            [np.ones(NUM_COMBOS), _range_weights(self.vs_raise), _range_weights(self.vs_reraise)]
        )
        return table[np.minimum(obs.preflop_raises, 2)]

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        opp = np.maximum(obs.live_opponents, 1)
        eq = hand_strength(
            obs.hole,
            obs.board,
            obs.board_count,
            opp,
            trials=self.trials,
            rng=rng,
            ranges=self.opponent_ranges(obs),
            ranged=np.minimum(obs.preflop_raises, 1),  # one raiser; the others hold any two
        )
        need = self.raise_above * 2 / (opp + 1)
        bet = raise_entry(obs, self.raise_size)
        out = np.where((eq > need) & (bet >= 0), bet, _fold_or_check(obs))
        out = np.where((out != bet) & (eq > obs.pot_odds + self.margin), CALL_ID, out)
        return pick_legal(obs, out)


BASELINES: dict[str, Callable[[], Agent]] = {
    cls.opponent_level: cls
    for cls in (RandomAgent, CallingStation, Maniac, TightAggressive, EquityBot)
}
