"""Range notation and the 169 hand classes."""

import numpy as np
import pytest

from gamelm.poker.cards import parse_cards
from gamelm.poker.ranges import CLASS_COMBOS, COMBOS, HAND_CLASSES, NUM_COMBOS, Range, combo_index


def test_combos_and_classes_partition_every_holding():
    assert COMBOS.shape == (NUM_COMBOS, 2) and (COMBOS[:, 0] > COMBOS[:, 1]).all()
    assert len(HAND_CLASSES) == len(set(HAND_CLASSES)) == 169
    sizes = {name: idx.size for name, idx in CLASS_COMBOS.items()}
    assert sum(sizes.values()) == NUM_COMBOS
    assert sorted(set(sizes.values())) == [4, 6, 12]
    assert sum(1 for v in sizes.values() if v == 6) == 13  # pairs
    assert sum(1 for v in sizes.values() if v == 4) == 78  # suited
    everything = np.concatenate(list(CLASS_COMBOS.values()))
    assert np.array_equal(np.sort(everything), np.arange(NUM_COMBOS))
    a, b = parse_cards("KdAs")
    assert combo_index(a, b) == combo_index(b, a)


@pytest.mark.parametrize(
    ("text", "combos"),
    [
        ("AA", 6),
        ("AKs", 4),
        ("AKo", 12),
        ("AK", 16),
        ("TT+", 30),
        ("22+", 78),
        ("ATs+", 16),
        ("KTo+", 36),
        ("A5s-A2s", 16),
        ("99-66", 24),
        ("KQo-KTo", 36),
        ("AsKs", 1),
        ("random", 1326),
        ("AA, KK, AKs:0.5", 14),
        ("AK, AKo:0.5", 10),  # a later token overrides an earlier one
        ("qq+ ak", 34),  # lower case and spaces
    ],
)
def test_range_sizes(text, combos):
    assert Range.parse(text).num_combos == combos


def test_range_round_trips_through_text():
    r = Range.parse("TT+, AKs, A5s-A2s, KQo:0.5, 7h6h")
    again = Range.parse(str(r))
    assert np.array_equal(r.weights, again.weights)


def test_dead_cards_remove_combos():
    r = Range.parse("AA")
    assert r.without(parse_cards("As")).sum() == 3
    assert r.without(parse_cards("AsAh")).sum() == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("AAs", "pair cannot be suited"),
        ("AKx", "'AKx'"),
        ("A5s-K2s", "span keeps its first card"),
        ("AsAs", "duplicate card"),
        ("AK:2", "weight must be in"),
        ("AK:x", "bad weight"),
        ("", "empty range"),
    ],
)
def test_bad_ranges_name_the_token(text, needle):
    with pytest.raises(ValueError, match=needle):
        Range.parse(text)
