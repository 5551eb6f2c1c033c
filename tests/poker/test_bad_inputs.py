"""Bad input to the poker core ends in one ValueError sentence, quickly."""

import numpy as np
import pytest

from gamelm.poker.cards import parse_cards
from gamelm.poker.equity import equity
from gamelm.poker.evaluator import evaluate_batch


@pytest.mark.parametrize(
    "cards,message",
    [
        (None, "a string like 'AsKd' or a list of cards, got None"),
        (7, "got 7"),
        (["As", 3], "mix strings and ints"),
        (np.zeros((2, 2), int), "one row"),
    ],
)
def test_parse_cards_refuses_what_is_not_cards(cards, message):
    with pytest.raises(ValueError, match=message):
        parse_cards(cards)


def test_evaluate_batch_refuses_a_repeated_card():
    hands = np.array([[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12, 12]])
    with pytest.raises(ValueError, match=r"row 1 repeats a card"):
        evaluate_batch(hands)
    assert evaluate_batch(hands[:1]).tolist()[0] in range(1, 7463)


def test_an_impossible_deal_is_refused_before_any_trial():
    # three players who all hold aces: only two can (there are four aces)
    with pytest.raises(ValueError, match="no deal is possible"):
        equity(["AA", "AA", "AA"], trials=10**9)
    with pytest.raises(ValueError, match="no deal is possible"):
        equity(["AhAs", "AA", "AA"], trials=10**9)
    assert sum(equity(["AA", "AA", "KK"], trials=2000, seed=0).equity) == pytest.approx(1)
