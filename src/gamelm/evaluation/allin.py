"""All-in adjusted results: what a hand was worth when the chips went in, not how the board ran.

When players are all-in before the river and no more betting can happen, the rest of the board
only adds luck. All-in adjustment replaces each such hand's result by its expectation over every
run-out of the remaining cards (`gamelm.poker.runouts`: exact from the flop, seeded Monte Carlo
preflop): each pot level is split between the best eligible hands of every run-out, and the expected
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

import numpy as np
import numpy.typing as npt

from gamelm.poker.runouts import batches, runout_strengths


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
        samples: preflop run-outs per hand (from the flop on, every run-out).
    """
    c = np.asarray(cards, np.uint8)
    vis = np.minimum(np.asarray(visible, np.int64), 5)
    put = np.asarray(paid, np.float64)
    alive = np.asarray(live, bool)
    out = np.zeros(put.shape)
    for v, r in batches(vis, samples):
        strength, valid = runout_strengths(c[r], v, alive[r], rng, samples)
        for j, i in enumerate(r):
            out[i] = _pot_shares(strength[j][valid[j]], put[i], alive[i]) - put[i]
    return out


def _pot_shares(
    strength: npt.NDArray[np.int64], put: npt.NDArray[np.float64], alive: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Each seat's expected winnings over the run-outs ``(S, P)`` of one hand: every pot level
    (main pot, then each side pot) goes to the best eligible hands of each run-out."""
    won = np.zeros(put.size)
    prev = 0.0
    for level in np.unique(put):
        amount = (np.minimum(put, level) - np.minimum(put, prev)).sum()
        prev = level
        eligible = alive & (put >= level)
        if not eligible.any():  # chips only players who folded matched: the best hand
            eligible = alive
        st = np.where(eligible[None], strength, -1)
        best = st == st.max(axis=1, keepdims=True)
        won += amount * (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
    return won
