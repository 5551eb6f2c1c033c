import numpy as np
import pytest

from gamelm.evaluation.showdown import showdown_equity
from gamelm.poker.cards import CARD_NAMES
from gamelm.poker.equity import equity


def _name(cards) -> str:
    return "".join(CARD_NAMES[c] for c in cards)


@pytest.mark.parametrize("visible", [3, 4, 5])
def test_matches_exact_equity_against_the_live_hands(visible):
    """Flop, turn and river are exact: the same numbers as `equity` on the live seats' hands,
    with folded seats' cards left in the deck."""
    rng = np.random.default_rng(visible)
    p = 4
    k = 12
    cards = np.stack([rng.permutation(52)[: 2 * p + 5] for _ in range(k)]).astype(np.uint8)
    live = rng.random((k, p)) < 0.7
    live[:, 0] = True
    live[np.arange(k), 1 + np.arange(k) % 3] = True  # at least two players
    seat = np.array([rng.choice(np.flatnonzero(row)) for row in live])
    got = showdown_equity(cards, np.full(k, visible), seat, live, rng)
    for i in range(k):
        seats = np.flatnonzero(live[i])
        hands = [_name(cards[i, 2 * s : 2 * s + 2]) for s in seats]
        board = _name(cards[i, 2 * p : 2 * p + visible])
        want = equity(hands, board).equity[list(seats).index(seat[i])]
        assert got[i] == pytest.approx(want, abs=1e-12)


def test_preflop_is_monte_carlo_within_its_error():
    cards = np.array([[48, 49, 20, 24, 0, 1, 2, 3, 4]], np.uint8)  # AcAd vs 7c8c
    want = equity([_name(cards[0, :2]), _name(cards[0, 2:4])]).equity[0]
    got = showdown_equity(cards, [0], [0], np.ones((1, 2), bool), np.random.default_rng(0), 20000)
    assert abs(got[0] - want) < 4 * 0.5 / np.sqrt(20000)


def test_the_bettor_must_be_live():
    cards = np.arange(9, dtype=np.uint8)[None]
    with pytest.raises(ValueError, match="live"):
        showdown_equity(cards, [5], [1], np.array([[True, False]]), np.random.default_rng(0))
