"""Reward shaping terms for RL against opponents: pure functions of per-decision features,
one registry by name, each weighted and logged separately by `gamelm.trainers.rl`.

Every term takes a `Decisions` (one row per decision of the learner, with the outcome of its
hand) and returns one bonus per decision, in big blinds before its weight:

* ``aggression``: 1 for every bet or raise (all-in included);
* ``bluff``: 1 for a postflop bet or raise made with less than ``BLUFF_EQUITY`` equity in a hand
  the learner then won without a showdown;
* ``fold_equity``: the pot (in big blinds, before the bet) won by a bet or raise that ended the
  hand at once: every opponent folded to it;
* ``sizing``: exploitative sizing against the opponents' tendencies: with a strong hand (equity
  at least ``VALUE_EQUITY``) a larger bet the less the opponents fold (``size * (1 - fold)``); with
  a weak one (under ``BLUFF_EQUITY``) a smaller bet the more they fold (``(1 - size) * fold``).
  ``size`` is the bet as a share of the pot, capped at 2 and halved into [0, 1]; ``fold`` is the
  live opponents' mean fold-to-continuation-bet rate from the opponent model.

>>> d = Decisions(kind=np.array([2, 2, 1]), street=np.array([1, 2, 1]),
...               equity=np.array([0.2, 0.8, 0.5]), size=np.array([0.5, 2.0, 0.0]),
...               pot_bb=np.array([4.0, 10.0, 6.0]), opponent_fold=np.array([0.6, 0.2, 0.5]),
...               won_no_showdown=np.array([True, False, False]),
...               ended_hand=np.array([True, False, False]))
>>> aggression(d).tolist(), bluff(d).tolist(), fold_equity(d).tolist()
([1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [4.0, 0.0, 0.0])
>>> [round(x, 2) for x in sizing(d).tolist()]
[0.45, 0.8, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
FOLD, CALL, RAISE = 0, 1, 2  # decision kinds: fold, check/call, bet/raise (all-in included)
BLUFF_EQUITY = 0.35
VALUE_EQUITY = 0.6


@dataclass
class Decisions:
    """Per-decision features the shaping terms read (``n`` rows)."""

    kind: npt.NDArray[np.int64]  # FOLD, CALL or RAISE
    street: npt.NDArray[np.int64]  # 0 preflop .. 3 river
    equity: FloatArray  # the hand's equity against the live opponents' random hands
    size: FloatArray  # chips added beyond a call, as a share of the pot after calling
    pot_bb: FloatArray  # the pot before the decision, in big blinds
    opponent_fold: FloatArray  # live opponents' mean fold-to-continuation-bet rate
    won_no_showdown: npt.NDArray[np.bool_]  # the learner won the hand without a showdown
    ended_hand: npt.NDArray[np.bool_]  # the hand ended right after this decision


def aggression(d: Decisions) -> FloatArray:
    return (d.kind == RAISE).astype(np.float64)


def bluff(d: Decisions) -> FloatArray:
    weak = (d.kind == RAISE) & (d.street > 0) & (d.equity < BLUFF_EQUITY)
    return (weak & d.won_no_showdown).astype(np.float64)


def fold_equity(d: Decisions) -> FloatArray:
    took_it = (d.kind == RAISE) & d.ended_hand & d.won_no_showdown
    return np.where(took_it, d.pot_bb, 0.0)


def sizing(d: Decisions) -> FloatArray:
    size = np.clip(d.size, 0.0, 2.0) / 2.0
    fold = np.clip(d.opponent_fold, 0.0, 1.0)
    value = (d.kind == RAISE) & (d.equity >= VALUE_EQUITY)
    weak = (d.kind == RAISE) & (d.equity < BLUFF_EQUITY)
    return np.where(value, size * (1 - fold), np.where(weak, (1 - size) * fold, 0.0))


SHAPING: dict[str, Callable[[Decisions], FloatArray]] = {
    "bluff": bluff,
    "aggression": aggression,
    "fold_equity": fold_equity,
    "sizing": sizing,
}
