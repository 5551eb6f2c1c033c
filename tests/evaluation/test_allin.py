"""All-in adjusted payoffs against the equity module, with side pots, and inside matches."""

from __future__ import annotations

import numpy as np
import pytest

from gamelm.agents.registry import make_agent
from gamelm.evaluation.allin import expected_payoffs
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import agent_win_rates
from gamelm.poker.cards import parse_cards
from gamelm.poker.equity import equity


def _cards(*parts: str) -> np.ndarray:
    return np.concatenate([parse_cards(p) for p in parts])[None]


@pytest.mark.parametrize(
    "board, visible", [("2c3d4h5s9c", 0), ("Ts7c2d5s9c", 3), ("Ts7c2dQh9c", 4)]
)
def test_heads_up_expectation_is_the_equity_times_the_pot(board: str, visible: int) -> None:
    cards = _cards("AsAh", "KsKh", board)
    ev = expected_payoffs(
        cards, [visible], [[300, 300]], np.ones((1, 2), bool), np.random.default_rng(1), 40_000
    )
    eq = equity(["AsAh", "KsKh"], board[: 2 * visible]).equity
    tol = 2.0 if visible == 0 else 1e-9  # Monte Carlo preflop, exact enumeration after
    assert ev[0] == pytest.approx(600 * np.asarray(eq) - 300, abs=tol)
    assert ev.sum() == pytest.approx(0)


def test_side_pots_and_folded_seats() -> None:
    # seat 0 all-in for 50, seats 1 and 2 for 100, seat 3 folded after putting in 20
    cards = _cards("AsAh", "KsKh", "QsQh", "2c7d", "3c4d8hTs9c")
    live = np.array([[True, True, True, False]])
    ev = expected_payoffs(cards, [3], [[50, 100, 100, 20]], live, np.random.default_rng(0))
    assert ev.sum() == pytest.approx(0) and ev[0, 3] == -20
    assert ev[0, 0] <= 150 + 20 - 50  # the short stack wins at most the main pot
    # aces win the main pot unless the board improves a pair: the kings mostly win the side
    assert ev[0, 0] > 0 and ev[0, 1] > ev[0, 2]


def test_match_adjustment_keeps_chips_and_cuts_the_spread() -> None:
    res = play_match(
        [make_agent("tag"), make_agent("maniac")], MatchConfig(seats=6, hands=1200, seed=5)
    )
    assert res.allin_payoffs is not None
    assert np.abs(res.allin_payoffs.sum(axis=1)).max() < 1e-6
    same = ~res.showdown
    assert (res.allin_payoffs[same] == res.payoffs[same]).all()
    plain = agent_win_rates(res)["tag"]
    adjusted = agent_win_rates(res, allin_adjusted=True)["tag"]
    assert adjusted.stderr < plain.stderr
