"""Illegal input gives one clear error naming the rule, and changes nothing."""

import numpy as np
import pytest

from gamelm.poker import rules
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import CHECK_CALL, FOLD, RAISE, BatchEngine
from gamelm.poker.cards import parse_cards

HOLE = parse_cards("AsAhKsKdQcQd")
BOARD = parse_cards("2c7d9hJcTs")


def fresh():
    cfg = rules.HandConfig(small_blind=1, big_blind=2, starting_stacks=(100, 100, 100))
    return rules.start_hand(cfg, HOLE, BOARD)


@pytest.mark.parametrize(
    ("action", "needle"),
    [
        (rules.CheckCall(seat=0), "seat 0 acted out of turn: seat 2 is to act"),
        (rules.RaiseTo(3), "the minimum raise is to 4"),
        (rules.RaiseTo(101), "more than the stack allows"),
    ],
)
def test_rules_reject_and_keep_state(action, needle):
    s = fresh()
    with pytest.raises(rules.IllegalActionError, match=needle):
        rules.apply_action(s, action)
    assert not rules.can_act(s, action)
    assert s == fresh()


def test_rules_fold_without_bet_and_finished_hand():
    s = fresh()
    for a in (rules.CheckCall(), rules.CheckCall(), rules.CheckCall()):
        s = rules.apply_action(s, a)
    assert s.street == 1
    with pytest.raises(rules.IllegalActionError, match="no bet to call"):
        rules.apply_action(s, rules.Fold())
    s = rules.apply_action(s, rules.RaiseTo(10))
    s = rules.apply_action(s, rules.Fold())
    s = rules.apply_action(s, rules.Fold())
    assert s.finished and s.payoffs == (4, -2, -2)
    with pytest.raises(rules.IllegalActionError, match="finished"):
        rules.apply_action(s, rules.CheckCall())


def test_short_all_in_does_not_reopen():
    cfg = rules.HandConfig(small_blind=1, big_blind=2, starting_stacks=(13, 100, 100))
    s = rules.start_hand(cfg, HOLE, BOARD)
    s = rules.apply_action(s, rules.RaiseTo(10, seat=2))  # button opens, a full raise of 8
    s = rules.apply_action(s, rules.RaiseTo(13, seat=0))  # small blind all-in: +3 only
    assert s.legal().can_raise  # the big blind has not acted: it may re-raise
    s = rules.apply_action(s, rules.CheckCall(seat=1))
    legal = s.legal()
    assert legal.seat == 2 and legal.call_amount == 3 and not legal.can_raise
    with pytest.raises(rules.IllegalActionError, match="does not reopen the betting"):
        rules.apply_action(s, rules.RaiseTo(30))


def test_engine_rejects_and_keeps_state():
    eng = BatchEngine(3, 3, 1, 2, starting_stacks=100)
    eng.reset(seed=1)
    before = {k: getattr(eng, k).copy() for k in ("stacks", "bets", "folded", "actor", "street")}
    cases = [
        (np.array([CHECK_CALL, RAISE, CHECK_CALL]), np.array([0, 3, 0]), "minimum raise is to 4"),
        (np.array([RAISE, CHECK_CALL, CHECK_CALL]), np.array([500, 0, 0]), "more than the stack"),
        (np.array([CHECK_CALL, CHECK_CALL, 7]), None, "unknown action kind 7"),
    ]
    for kind, amount, needle in cases:
        with pytest.raises(rules.IllegalActionError, match=needle):
            eng.step(kind, amount)
        for k, v in before.items():
            np.testing.assert_array_equal(getattr(eng, k), v)
    # everyone limps, then the big blind checks: the flop has no bet to fold to
    eng.step(np.full(3, CHECK_CALL))
    eng.step(np.full(3, CHECK_CALL))
    eng.step(np.full(3, CHECK_CALL))
    assert (eng.street == 1).all()
    with pytest.raises(rules.IllegalActionError, match="table 0: seat 0 cannot fold"):
        eng.step(np.full(3, FOLD))


def test_engine_done_tables_do_not_move():
    eng = BatchEngine(2, 2, 1, 2, starting_stacks=50)
    eng.reset(seed=0)
    eng.step(np.array([FOLD, CHECK_CALL]))
    assert eng.done[0] and not eng.done[1]
    stacks = eng.stacks.copy()
    eng.step(np.array([RAISE, CHECK_CALL]), np.array([10**6, 0]))  # table 0 is ignored
    assert (eng.stacks[0] == stacks[0]).all()


def test_menu_rejects_bad_ids():
    eng = BatchEngine(2, 2, 1, 2, starting_stacks=50)
    eng.reset(seed=0)
    menu = ActionAbstraction()
    with pytest.raises(ValueError, match=r"action ids are 0\.\.4"):
        menu.decode(eng, np.array([0, 9]))
    with pytest.raises(ValueError, match="pot fractions"):
        ActionAbstraction((1.0, 1.0))


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda e: e.step(np.full(3, RAISE), np.full(3, 5.7)), "whole numbers"),
        (lambda e: e.step(np.full(3, 1.5)), "whole numbers"),
        (lambda e: e.step(np.full(3, RAISE), np.full(3, np.nan)), "whole numbers"),
        (lambda e: e.step(np.full(3, RAISE), np.full(3, 2.0**64)), "out of range"),
        (lambda e: e.step(np.full(4, CHECK_CALL)), "give one value or 3"),
        (lambda e: e.step(np.full(3, CHECK_CALL), mask=np.array([0, 2])), "3 booleans"),
        (lambda e: e.reset(np.array([0, 2]), seed=1), "3 booleans"),
        (lambda e: e.reset(starting_stacks=100.5), "starting stacks"),
        (lambda e: e.reset(hole=np.zeros((3, 2)), board=np.zeros((3, 5))), "hole cards must be"),
    ],
)
def test_malformed_input_is_rejected_and_changes_nothing(call, needle):
    eng = BatchEngine(3, 2, 1, 2, starting_stacks=200)
    eng.reset(seed=0)
    before = eng.stacks.copy(), eng.bets.copy(), eng.actor.copy()
    with pytest.raises(ValueError, match=needle):
        call(eng)
    after = eng.stacks, eng.bets, eng.actor
    assert all((a == b).all() for a, b in zip(before, after))
