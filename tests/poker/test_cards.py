import numpy as np
import pytest

from gamelm.poker.cards import (
    CARD_NAMES,
    card_mask,
    format_cards,
    parse_card,
    parse_cards,
    rank_of,
    suit_of,
)


def test_encoding_matches_phevaluator_order():
    assert parse_card("2c") == 0
    assert parse_card("2s") == 3
    assert parse_card("As") == 51
    assert CARD_NAMES[parse_card("Td")] == "Td"
    assert rank_of(parse_card("Td")) == 8 and suit_of(parse_card("Td")) == 1


def test_round_trip_all_cards():
    cards = parse_cards(list(CARD_NAMES))
    assert cards.tolist() == list(range(52))
    assert format_cards(cards) == "".join(CARD_NAMES)


@pytest.mark.parametrize("text", ["AsKd", "As Kd", "as,kd", ["As", "Kd"], [51, 45]])
def test_parse_forms(text):
    assert parse_cards(text).tolist() == [51, 45]


@pytest.mark.parametrize(
    ("bad", "needle"),
    [("1x", "'1x'"), ("AsA", "two characters"), ("AsAs", "duplicate card 'As'"), ([52], "52")],
)
def test_bad_input_names_it(bad, needle):
    with pytest.raises(ValueError, match=needle):
        parse_cards(bad)


def test_wrong_count():
    with pytest.raises(ValueError, match="expected 2 cards, got 3"):
        parse_cards("AsKdQh", count=2)


def test_mask():
    assert card_mask(np.array([0, 51])) == (1 | (1 << 51))
