"""Showdown equity of a bet when it was made: the bettor's share of the pot if every player
still in checked the hand down from there.

The evaluator knows every hole card, so this is the bettor's equity against the hands actually
held, over the board cards not yet seen: exact on the turn (about 40 run-outs) and the flop (about
1,000), seeded Monte Carlo preflop. Cards of players who folded are unknown to the table and stay
in the deck (as in `gamelm.evaluation.allin`). Bluff statistics use it: a bluff is a postflop bet
or raise made with a low showdown equity, judged at the moment of the bet, not on the final board
(`gamelm.evaluation.match.BLUFF_SHARE`).

>>> from gamelm.poker.cards import parse_cards
>>> cards = np.concatenate([parse_cards("AsAh"), parse_cards("7c2d"), parse_cards("Ad7h2c9h3s")])
>>> live = np.ones((2, 2), bool)
>>> eq = showdown_equity(np.stack([cards, cards]), np.array([3, 5]), np.array([1, 1]), live,
...                      np.random.default_rng(0))
>>> [round(float(x), 4) for x in eq]  # two pair against a set: 7-7 or 2-2 to come, then dead
[0.002, 0.0]
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from gamelm.poker.cards import deal_unseen
from gamelm.poker.evaluator import evaluate_on_boards

_MAX_ROWS = 1 << 19  # (bet, run-out) rows evaluated at once: bounds the memory


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
    for v in np.unique(vis):
        rows = np.flatnonzero(vis == v)
        per = 1 if v == 5 else (samples if v == 0 else len(_tails(5 - int(v), 52)))
        step = max(1, _MAX_ROWS // per)
        for lo in range(0, rows.size, step):
            r = rows[lo : lo + step]
            out[r] = _equity(c[r], int(v), who[r], alive[r], rng, samples)
    return out


def _tails(need: int, alive: int) -> npt.NDArray[np.intp]:
    """``(R, need)``: every set of ``need`` positions among the first ``alive`` deck positions."""
    return np.array(list(itertools.combinations(range(alive), need)), np.intp).reshape(-1, need)


def _equity(
    cards: npt.NDArray[np.uint8],
    v: int,
    seat: npt.NDArray[np.int64],
    live: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    samples: int,
) -> npt.NDArray[np.float64]:
    k, p = live.shape
    holes = cards[:, : 2 * p].reshape(k, p, 2)
    board = cards[:, 2 * p :]
    if v == 5:
        boards = board[:, None, :]  # (k, 1, 5)
        valid = np.ones((k, 1), bool)
    else:
        dead = np.zeros((k, 52), bool)
        kk, pp = np.nonzero(live)
        dead[kk, holes[kk, pp, 0]] = True
        dead[kk, holes[kk, pp, 1]] = True
        for j in range(v):
            dead[np.arange(k), board[:, j]] = True
        order = np.argsort(dead, axis=1, kind="stable").astype(np.uint8)  # unseen cards first
        unseen = 52 - dead.sum(axis=1)
        need = 5 - v
        if v == 0:  # Monte Carlo: a partial Fisher-Yates shuffle of each bet's deck per sample
            deck = deal_unseen(rng, dead, need, samples)
            tail = deck[:, :need].reshape(k, samples, need)
            valid = np.ones((k, samples), bool)
        else:  # every run-out; positions past a bet's unseen cards are masked out
            pos = _tails(need, int(unseen.max()))  # (R, need)
            tail = order[np.arange(k)[:, None, None], pos[None]]  # (k, R, need)
            valid = pos.max(axis=1)[None] < unseen[:, None]
            # a masked run-out still needs real cards (a card twice breaks the evaluator)
            tail = np.where(valid[:, :, None], tail, order[:, None, :need])
        boards = np.concatenate([np.repeat(board[:, None, :v], tail.shape[1], axis=1), tail], 2)
    # a folded seat's cards may be on the run-out: evaluate the bettor's in its place, then mask
    holes = np.where(live[:, :, None], holes, holes[np.arange(k), seat][:, None, :])
    runs = boards.shape[1]
    flat_boards = boards.reshape(-1, 5).T  # (5, k * R)
    h = np.repeat(holes.transpose(1, 2, 0), runs, axis=2)  # (P, 2, k * R)
    strength = evaluate_on_boards(flat_boards, h).reshape(p, k, runs)
    strength = np.where(live.T[:, :, None], strength, -1)
    best = strength.max(axis=0)
    winners = strength == best
    mine = winners[seat, np.arange(k)]  # (k, R)
    share = np.where(mine, 1.0 / winners.sum(axis=0), 0.0)
    return (share * valid).sum(axis=1) / valid.sum(axis=1)
