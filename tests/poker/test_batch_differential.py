"""Differential test: the batched engine, the scalar rules and PokerKit play the same 10,000 random
hands (2-9 seats, uneven and often short stacks, antes) in lockstep and must agree on the player
to act, the legal actions, the pot at every decision and the final stacks."""

import numpy as np
import pytest

from gamelm.poker import rules
from gamelm.poker.batch import CHECK_CALL, FOLD, RAISE, BatchEngine

from .pokerkit_oracle import PokerKitHand, pk
from .random_hands import random_choice

pytestmark = pytest.mark.skipif(pk is None, reason="pokerkit is a test-only dependency")

# (seats, small blind, big blind, ante, tables); 10,000 hands in all
CONFIGS = [
    (2, 1, 2, 0, 1500),
    (2, 5, 10, 3, 700),
    (3, 1, 2, 0, 800),
    (3, 2, 2, 1, 500),
    (4, 1, 2, 0, 800),
    (4, 50, 100, 25, 500),
    (5, 1, 2, 1, 700),
    (6, 1, 2, 0, 1000),
    (6, 5, 10, 2, 600),
    (7, 1, 2, 0, 600),
    (8, 1, 2, 2, 600),
    (9, 1, 2, 0, 700),
    (9, 25, 50, 10, 1000),
]


def _stacks(rng, n, p, bb):
    kind = rng.random(n)[:, None]
    short = rng.integers(1, 6 * bb, size=(n, p))
    mid = rng.integers(bb, 60 * bb, size=(n, p))
    deep = rng.integers(20 * bb, 200 * bb, size=(n, p))
    return np.where(kind < 0.3, short, np.where(kind < 0.7, mid, deep))


@pytest.mark.parametrize(("p", "sb", "bb", "ante", "n"), CONFIGS)
def test_batch_rules_pokerkit_agree(p, sb, bb, ante, n):
    rng = np.random.default_rng(1000 * p + bb + ante)
    stacks = _stacks(rng, n, p, bb)
    eng = BatchEngine(n, p, sb, bb, starting_stacks=stacks, ante=ante)
    eng.reset(rng=rng)
    scalar, oracle = [], []
    for t in range(n):
        hole = eng.hole[t].reshape(-1)
        board = eng.board[t]
        cfg = rules.HandConfig(sb, bb, tuple(int(s) for s in stacks[t]), ante)
        scalar.append(rules.start_hand(cfg, hole, board))
        oracle.append(PokerKitHand([int(s) for s in stacks[t]], sb, bb, ante, hole, board))
    steps = 0
    while not eng.done.all():
        legal = eng.legal()
        pot = eng.pot()
        kind = np.full(n, CHECK_CALL)
        amount = np.zeros(n, np.int64)
        for t in np.flatnonzero(~eng.done):
            s, o = scalar[t], oracle[t]
            assert not s.finished and not o.finished, t
            ls, lo = s.legal(), o.legal()
            got = (
                int(legal.actor[t]),
                bool(legal.can_fold[t]),
                int(legal.call_amount[t]),
                bool(legal.can_raise[t]),
            )
            assert got == (ls.seat, ls.can_fold, ls.call_amount, ls.can_raise), (t, steps)
            assert got == (lo.seat, lo.can_fold, lo.call_amount, lo.can_raise), (t, steps)
            if ls.can_raise:
                bounds = (int(legal.min_raise_to[t]), int(legal.max_raise_to[t]))
                assert (
                    bounds
                    == (ls.min_raise_to, ls.max_raise_to)
                    == (
                        lo.min_raise_to,
                        lo.max_raise_to,
                    )
                ), (t, steps)
            assert int(pot[t]) == s.pot == lo.pot, (t, steps)
            what, chips = random_choice(
                rng, ls.can_fold, ls.can_raise, ls.min_raise_to, ls.max_raise_to
            )
            if what == "fold":
                kind[t] = FOLD
                scalar[t] = rules.apply_action(s, rules.Fold())
                o.fold()
            elif what == "call":
                scalar[t] = rules.apply_action(s, rules.CheckCall())
                o.check_call()
            else:
                kind[t], amount[t] = RAISE, chips
                scalar[t] = rules.apply_action(s, rules.RaiseTo(chips))
                o.raise_to(chips)
        eng.step(kind, amount)
        steps += 1
    showdowns = 0
    for t in range(n):
        s, o = scalar[t], oracle[t]
        assert s.finished and o.finished, t
        assert tuple(eng.stacks[t].tolist()) == s.final_stacks == o.stacks, t
        assert bool(eng.showdown[t]) == s.showdown, t
        showdowns += s.showdown
    assert eng.stacks.sum() == stacks.sum()
    assert showdowns > n // 10
