"""Run-outs of hands whose hole cards are all known: every seat's hand strength on each way the
board can still come, for many hands at once. The all-in adjustment of results
(`gamelm.evaluation.allin`) and the showdown equity of a bet (`gamelm.evaluation.showdown`) are
both read off these strengths.

The run-outs are exact on the flop (at most 1,128 of them) and the turn (at most 48), and seeded
Monte Carlo preflop (``samples`` per hand: a partial Fisher-Yates shuffle of each hand's
remaining deck). Cards of players who folded are unknown to the table and stay in the deck.

>>> from gamelm.poker.cards import parse_cards
>>> cards = np.concatenate([parse_cards("AsAh"), parse_cards("7c2d"), parse_cards("Ad7h2c9h3s")])
>>> strength, valid = runout_strengths(cards[None], 4, np.ones((1, 2), bool), None)
>>> strength.shape, int(valid.sum())  # (hands, run-outs, seats): 44 rivers to come
((1, 44, 2), 44)
>>> bool((strength[0, valid[0], 0] > strength[0, valid[0], 1]).all())  # the set holds
True
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache

import numpy as np
import numpy.typing as npt

from gamelm.poker.cards import deal_unseen
from gamelm.poker.evaluator import evaluate_on_boards

EXACT_FROM = 3  # board cards seen from which every run-out is enumerated


@cache
def _tails(need: int, unseen: int) -> npt.NDArray[np.intp]:
    """``(R, need)``: every set of ``need`` positions among the first ``unseen`` deck cards."""
    return np.array(list(itertools.combinations(range(unseen), need)), np.intp).reshape(-1, need)


def runouts_per_hand(visible: int, samples: int) -> int:
    """How many run-outs `runout_strengths` gives each hand whose board shows ``visible``
    cards (for callers that bound their memory)."""
    if visible >= 5:
        return 1
    if visible < EXACT_FROM:
        return samples
    return len(_tails(5 - visible, 52 - 4 - visible))


MAX_ROWS = 1 << 19  # (hand, run-out) rows evaluated at once: bounds the memory


def batches(visible: npt.ArrayLike, samples: int) -> Iterator[tuple[int, npt.NDArray[np.intp]]]:
    """``(visible, rows)``: the hands grouped by the board cards they show, in chunks small
    enough that `runout_strengths` of a chunk keeps to `MAX_ROWS` rows."""
    vis = np.asarray(visible, np.int64)
    for v in np.unique(vis):
        rows = np.flatnonzero(vis == v)
        step = max(1, MAX_ROWS // runouts_per_hand(int(v), samples))
        for lo in range(0, rows.size, step):
            yield int(v), rows[lo : lo + step]


def runout_strengths(
    cards: npt.ArrayLike,
    visible: int,
    live: npt.ArrayLike,
    rng: np.random.Generator | None,
    samples: int = 256,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Strengths ``(K, R, P)`` of every seat on every run-out of ``K`` hands, and which
    run-outs are real ``(K, R)`` (hands with fewer unseen cards have fewer run-outs; the
    others are padding, to be ignored).

    Args:
        cards: ``(K, 2P + 5)`` hole cards by seat, then the board as dealt (its first
            ``visible`` cards are the ones seen).
        visible: board cards seen, the same for every hand: 0, 3, 4 or 5.
        live: ``(K, P)`` seats still in the hand (at least one per hand); a folded seat's
            strength is -1.
        rng: generator of the preflop Monte Carlo (unused from the flop on).
        samples: preflop run-outs per hand.
    """
    c = np.asarray(cards, np.uint8)
    alive = np.asarray(live, bool)
    k, p = alive.shape
    if visible not in (0, 3, 4, 5):
        raise ValueError(f"a board shows 0, 3, 4 or 5 cards, got {visible}")
    if not alive.any(axis=1).all():
        raise ValueError("every hand needs a seat still in it")
    holes = c[:, : 2 * p].reshape(k, p, 2)
    board = c[:, 2 * p :]
    if visible == 5:
        boards = board[:, None, :]  # (k, 1, 5)
        valid = np.ones((k, 1), bool)
    else:
        dead = np.zeros((k, 52), bool)
        kk, pp = np.nonzero(alive)
        dead[kk, holes[kk, pp, 0]] = True
        dead[kk, holes[kk, pp, 1]] = True
        for j in range(visible):
            dead[np.arange(k), board[:, j]] = True
        need = 5 - visible
        if visible < EXACT_FROM:
            if rng is None:
                raise ValueError("preflop run-outs are sampled: give an rng")
            deck = deal_unseen(rng, dead, need, samples)
            tail = deck[:, :need].reshape(k, samples, need)
            valid = np.ones((k, samples), bool)
        else:  # every run-out; positions past a hand's unseen cards are masked out
            order = np.argsort(dead, axis=1, kind="stable").astype(np.uint8)  # unseen first
            unseen = 52 - dead.sum(axis=1)
            pos = _tails(need, int(unseen.max()))  # (R, need)
            tail = order[np.arange(k)[:, None, None], pos[None]]  # (k, R, need)
            valid = pos.max(axis=1)[None] < unseen[:, None]
            # a masked run-out still needs real cards (a card twice breaks the evaluator)
            tail = np.where(valid[:, :, None], tail, order[:, None, :need])
        seen = np.repeat(board[:, None, :visible], tail.shape[1], axis=1)
        boards = np.concatenate([seen, tail], 2)
    # a folded seat's cards may be on a run-out: evaluate a live seat's in its place, then mask
    stand_in = holes[np.arange(k), alive.argmax(axis=1)][:, None, :]
    holes = np.where(alive[:, :, None], holes, stand_in)
    runs = boards.shape[1]
    flat_boards = boards.reshape(-1, 5).T  # (5, k * R)
    h = np.repeat(holes.transpose(1, 2, 0), runs, axis=2)  # (P, 2, k * R)
    strength = evaluate_on_boards(flat_boards, h).reshape(p, k, runs).transpose(1, 2, 0)
    return np.where(alive[:, None, :], strength, -1), valid
