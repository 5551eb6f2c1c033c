"""Showdown equity of a bet when it was made: the bettor's share of the pot if every player
still in checked the hand down from there.

The evaluator knows every hole card, so this is the bettor's equity against the hands actually
held, over the board cards not yet seen: exact on the turn (about 40 run-outs) and the flop
(about 1,000), seeded Monte Carlo preflop (`gamelm.poker.runouts`). Cards of players who folded
are unknown to the table and stay in the deck (as in `gamelm.evaluation.allin`). Bluff statistics
use it: a bluff is a postflop bet or raise made with a low showdown equity, judged at the moment
of the bet, not on the final board (`gamelm.evaluation.match.BLUFF_SHARE`).

>>> from gamelm.poker.cards import parse_cards
>>> cards = np.concatenate([parse_cards("AsAh"), parse_cards("7c2d"), parse_cards("Ad7h2c9h3s")])
>>> live = np.ones((2, 2), bool)
>>> eq = showdown_equity(np.stack([cards, cards]), np.array([3, 5]), np.array([1, 1]), live,
...                      np.random.default_rng(0))
>>> [round(float(x), 4) for x in eq]  # two pair against a set: 7-7 or 2-2 to come, then dead
[0.002, 0.0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gamelm.poker.runouts import batches, runout_strengths


def showdown_equity(
    cards: npt.ArrayLike,
    visible: npt.ArrayLike,
    seat: npt.ArrayLike,
    live: npt.ArrayLike,
    rng: np.random.Generator,
    samples: int = 256,
) -> npt.NDArray[np.float64]:
    """Equity of ``seat`` in ``K`` hands against the other ``live`` seats' cards.

    Args:
        cards: ``(K, 2P + 5)`` hole cards by seat, then the whole board as dealt.
        visible: ``(K,)`` board cards seen at the bet (0, 3, 4 or 5).
        seat: ``(K,)`` the bettor's seat (must be live).
        live: ``(K, P)`` seats still in the hand.
        rng: generator for the preflop Monte Carlo.
        samples: preflop run-outs per bet (the standard error is at most ``0.5 / sqrt(samples)``).
    """
    c = np.asarray(cards, np.uint8)
    vis = np.asarray(visible, np.int64)
    who = np.asarray(seat, np.int64)
    alive = np.asarray(live, bool)
    k = alive.shape[0]
    if not alive[np.arange(k), who].all():
        raise ValueError("the bettor must be one of the live seats")
    out = np.empty(k)
    for v, r in batches(vis, samples):
        strength, valid = runout_strengths(c[r], v, alive[r], rng, samples)
        best = strength.max(axis=2)  # (k, R)
        winners = strength == best[:, :, None]
        mine = winners[np.arange(r.size), :, who[r]]  # (k, R)
        share = np.where(mine, 1.0 / winners.sum(axis=2), 0.0)
        out[r] = (share * valid).sum(axis=1) / valid.sum(axis=1)
    return out
