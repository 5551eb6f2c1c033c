"""Evaluator tests: exhaustive over 5-card hands, and oracle tests against phevaluator, treys and
PokerKit on random 7-card hands."""

import itertools

import numpy as np
import pytest

from gamelm.poker import evaluator as ev
from gamelm.poker.cards import CARD_NAMES


@pytest.fixture(scope="module")
def all_five_card_hands() -> np.ndarray:
    return np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(52), 5)), dtype=np.uint8
    ).reshape(-1, 5)


def test_exhaustive_five_card(all_five_card_hands):
    hands = all_five_card_hands
    assert hands.shape == (2_598_960, 5)
    strength = ev.evaluate_batch(hands)
    values = np.unique(strength)
    assert values.size == 7462
    assert values.min() == 1 and values.max() == 7462
    per_category = np.bincount(ev.category_index(strength), minlength=9)
    assert tuple(per_category.tolist()) == ev.HANDS_PER_CATEGORY
    classes = np.bincount(ev.category_index(values), minlength=9)
    assert tuple(classes.tolist()) == ev.CLASSES_PER_CATEGORY


def _random_hands(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n, 52)), axis=1)[:, :k].astype(np.uint8)


def test_seven_cards_identical_to_phevaluator():
    phevaluator = pytest.importorskip("phevaluator")
    hands = _random_hands(200_000, 7, seed=1)
    ours = ev.evaluate_batch(hands)
    theirs = np.fromiter(
        (phevaluator.evaluate_cards(*map(int, h)) for h in hands), dtype=np.int64, count=len(hands)
    )
    # phevaluator ranks 1 (royal flush) .. 7462: the same classes in the opposite direction
    np.testing.assert_array_equal(ours, 7463 - theirs)


def test_seven_cards_identical_to_treys():
    treys = pytest.importorskip("treys")
    hands = _random_hands(200_000, 7, seed=2)
    ours = ev.evaluate_batch(hands)
    ints = [treys.Card.new(name) for name in CARD_NAMES]
    evaluator = treys.Evaluator()
    theirs = np.fromiter(
        (evaluator.evaluate([ints[c] for c in h[:2]], [ints[c] for c in h[2:]]) for h in hands),
        dtype=np.int64,
        count=len(hands),
    )
    np.testing.assert_array_equal(ours, 7463 - theirs)


@pytest.mark.parametrize("k", [5, 6])
def test_five_and_six_cards_identical_to_phevaluator(k):
    phevaluator = pytest.importorskip("phevaluator")
    hands = _random_hands(50_000, k, seed=3 + k)
    ours = ev.evaluate_batch(hands)
    theirs = np.array([phevaluator.evaluate_cards(*map(int, h)) for h in hands])
    np.testing.assert_array_equal(ours, 7463 - theirs)


def test_ordering_agrees_with_pokerkit():
    pokerkit = pytest.importorskip("pokerkit")
    hands = _random_hands(3000, 7, seed=4)
    ours = ev.evaluate_batch(hands)
    pk = [pokerkit.StandardHighHand.from_game("".join(CARD_NAMES[c] for c in h)) for h in hands]
    for i in range(len(hands) - 1):
        a, b = pk[i], pk[i + 1]
        expected = (a > b) - (a < b)
        got = int(np.sign(ours[i] - ours[i + 1]))
        assert got == expected, (CARD_NAMES[hands[i][0]], i)


def test_scalar_and_categories():
    assert ev.evaluate("AsKsQsJsTs9d2c") == 7462
    assert ev.category_name(ev.evaluate("AsKsQsJsTs9d2c")) == "straight flush"
    assert ev.category_name(ev.evaluate("5d4c3h2sAd")) == "straight"
    assert ev.evaluate("5d4c3h2sAd") < ev.evaluate("6d5d4c3h2s")
    assert ev.category_name(ev.evaluate("AhAdAcKsKd2c3c")) == "full house"
    assert ev.category_name(ev.evaluate("Ah2h3h4h5hKcQd")) == "straight flush"  # steel wheel
    assert ev.category_name(ev.evaluate("2c2d2h2s3c")) == "four of a kind"


def test_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        ev.evaluate_batch(np.zeros((3, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"0\.\.51"):
        ev.evaluate_batch(np.full((1, 5), 60))
    with pytest.raises(ValueError, match="5, 6 or 7 cards"):
        ev.evaluate("AsKs")
    with pytest.raises(ValueError, match="duplicate"):
        ev.evaluate("AsAsKdQd2c")


def test_rank_keys_give_distinct_sums_per_hand_size():
    keys = np.asarray(ev.RANK_KEYS)
    for size in (5, 6, 7):
        sums = [int(keys[list(m)].sum()) for m in ev._rank_multisets(size)]
        assert len(set(sums)) == len(sums)


def test_rank_key_search_reproduces_constants():
    # the last two keys take ~20 s to search; the first eleven exercise the same code
    assert ev.find_rank_keys(num_ranks=11) == ev.RANK_KEYS[:11]


def test_cache_rebuilds_in_a_fresh_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMELM_CACHE_DIR", str(tmp_path))
    built = ev._build_tables()
    ev._tables.cache_clear()
    try:
        first = ev._tables()  # builds and writes the cache file
        assert (tmp_path / f"evaluator-v{ev._TABLE_VERSION}.npz").exists()
        ev._tables.cache_clear()
        second = ev._tables()  # reads it back
        for name, table in built.items():
            np.testing.assert_array_equal(first[name], table)
            np.testing.assert_array_equal(second[name], table)
    finally:
        ev._tables.cache_clear()
