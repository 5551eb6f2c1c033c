"""Oracle test: the scalar rules agree with PokerKit on random hands (legal actions at every
decision, the pot, the final side pots and the final stacks)."""

import numpy as np
import pytest

from gamelm.poker import rules

from .pokerkit_oracle import PokerKitHand, pk
from .random_hands import random_choice, random_setup

pytestmark = pytest.mark.skipif(pk is None, reason="pokerkit is a test-only dependency")


def play_both(seed: int):
    rng = np.random.default_rng(seed)
    _, sb, bb, ante, stacks, hole, board = random_setup(rng)
    config = rules.HandConfig(small_blind=sb, big_blind=bb, ante=ante, starting_stacks=stacks)
    ours = rules.start_hand(config, hole, board)
    theirs = PokerKitHand(stacks, sb, bb, ante, hole, board)
    while not ours.finished:
        assert not theirs.finished, seed
        lo, lt = ours.legal(), theirs.legal()
        assert lo.seat == lt.seat, seed
        assert lo.can_fold == lt.can_fold, seed
        assert lo.call_amount == lt.call_amount, seed
        assert lo.can_raise == lt.can_raise, seed
        if lo.can_raise:
            assert (lo.min_raise_to, lo.max_raise_to) == (lt.min_raise_to, lt.max_raise_to), seed
        assert ours.pot == lt.pot, seed
        kind, amount = random_choice(
            rng, lo.can_fold, lo.can_raise, lo.min_raise_to, lo.max_raise_to
        )
        if kind == "fold":
            ours = rules.apply_action(ours, rules.Fold())
            theirs.fold()
        elif kind == "call":
            ours = rules.apply_action(ours, rules.CheckCall())
            theirs.check_call()
        else:
            ours = rules.apply_action(ours, rules.RaiseTo(amount))
            theirs.raise_to(amount)
    assert theirs.finished, seed
    assert ours.final_stacks == theirs.stacks, seed
    assert sum(ours.final_stacks) == sum(stacks)
    if ours.showdown:
        assert [(p.amount, p.eligible) for p in ours.pots] == theirs.final_pots, seed
    return ours


def test_rules_agree_with_pokerkit_on_random_hands():
    showdowns = multiway_side_pots = 0
    for seed in range(1000):
        final = play_both(seed)
        showdowns += final.showdown
        multiway_side_pots += final.showdown and len(final.pots) > 1
    # the generator must actually reach the hard cases
    assert showdowns > 200 and multiway_side_pots > 50
