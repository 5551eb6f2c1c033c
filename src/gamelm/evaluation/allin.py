"""All-in adjusted results: what a hand was worth when the chips went in, not how the board ran.

When players are all-in before the river and no more betting can happen, the rest of the board
only adds luck. All-in adjustment replaces each such hand's result by its expectation over every
run-out of the remaining cards (exact enumeration when the run-outs are few, otherwise seeded Monte
Carlo): each pot level is split between the best eligible hands of every run-out, and the expected
winnings minus the chips put in are the adjusted payoff. Cards of players who folded are unknown
to the table and stay in the deck, as on the public sites' "all-in EV" graphs.

>>> from gamelm.poker.cards import parse_cards
>>> cards = np.concatenate([parse_cards("AsAh"), parse_cards("KsKh"), parse_cards("2c3d4h5s9c")])
>>> ev = expected_payoffs(cards[None], np.array([0]), np.array([[100, 100]]),
...                       np.ones((1, 2), bool), np.random.default_rng(0), samples=20000)
>>> round(float(ev[0, 0]))  # AA vs KK all-in preflop: about 83% of 200 chips, less 100
66
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from gamelm.poker.cards import deal
from gamelm.poker.evaluator import evaluate_cards


def _run_outs(
    deck: npt.NDArray[np.uint8], need: int, samples: int, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """``(S, need)`` run-outs: all of them when there are at most ``samples``, else a sample."""
    if math.comb(deck.size, need) <= samples:
        return np.array(list(itertools.combinations(deck.tolist(), need)), np.uint8).reshape(
            -1, need
        )
    return deal(rng, need, samples, deck).T


def expected_payoffs(
    cards: npt.ArrayLike,
    visible: npt.ArrayLike,
    paid: npt.ArrayLike,
    live: npt.ArrayLike,
    rng: np.random.Generator,
    samples: int = 2000,
) -> npt.NDArray[np.float64]:
    """Expected payoff per seat of ``K`` hands decided by a run-out.

    Args:
        cards: ``(K, 2P + 5)`` hole cards by seat, then the board.
        visible: ``(K,)`` board cards seen when the betting ended (0, 3 or 4; 5 keeps the hand).
        paid: ``(K, P)`` chips each seat put in the pots.
        live: ``(K, P)`` seats still in the hand.
        rng: generator for the Monte Carlo run-outs.
        samples: run-outs per hand (all of them when there are no more than this).
    """
    c = np.asarray(cards, np.uint8)
    vis = np.asarray(visible, np.int64)
    put = np.asarray(paid, np.float64)
    alive = np.asarray(live, bool)
    k, p = put.shape
    out = np.zeros((k, p))
    for i in range(k):
        holes = c[i, : 2 * p].reshape(p, 2)
        board = c[i, 2 * p :]
        seats = np.flatnonzero(alive[i])
        v = int(vis[i])
        if v >= 5:
            boards = board[None, :]
        else:
            known = np.concatenate([holes[seats].ravel(), board[:v]])
            deck = np.setdiff1d(np.arange(52, dtype=np.uint8), known).astype(np.uint8)
            tail = _run_outs(deck, 5 - v, samples, rng)
            boards = np.concatenate([np.repeat(board[None, :v], tail.shape[0], axis=0), tail], 1)
        s = boards.shape[0]
        seven = np.concatenate(
            [np.repeat(holes[seats][None], s, axis=0), np.repeat(boards[:, None], seats.size, 1)],
            axis=2,
        )
        strength = np.full((s, p), -1, np.int64)
        strength[:, seats] = evaluate_cards(seven.reshape(-1, 7)).reshape(s, seats.size)
        won = np.zeros(p)
        prev = 0.0
        for level in np.unique(put[i]):
            amount = (np.minimum(put[i], level) - np.minimum(put[i], prev)).sum()
            prev = level
            eligible = alive[i] & (put[i] >= level)
            if not eligible.any():  # chips only players who folded matched: the best hand
                eligible = alive[i]
            st = np.where(eligible[None], strength, -1)
            best = st == st.max(axis=1, keepdims=True)
            won += amount * (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
        out[i] = won - put[i]
    return out
