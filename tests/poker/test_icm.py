"""Malmuth-Harville ICM against values worked out by hand."""

import numpy as np
import pytest

from gamelm.poker.icm import finish_probabilities, icm_equity


def test_three_players_by_hand():
    # P(A first) = 50/100; P(A second) = P(B first) 50/70 + P(C first) 50/80
    a_second = 0.3 * 50 / 70 + 0.2 * 50 / 80
    b_second = 0.5 * 30 / 50 + 0.2 * 30 / 80
    probs = finish_probabilities([50, 30, 20])
    assert probs[0, 0] == pytest.approx(0.5)
    assert probs[0, 1] == pytest.approx(a_second)
    assert probs[1, 1] == pytest.approx(b_second)
    assert np.allclose(probs.sum(axis=0), 1) and np.allclose(probs.sum(axis=1), 1)
    ev = icm_equity([50, 30, 20], [0.5, 0.3, 0.2])
    assert ev[0] == pytest.approx(0.5 * 0.5 + 0.3 * a_second + 0.2 * (1 - 0.5 - a_second))
    assert ev.sum() == pytest.approx(1.0)


def test_icm_properties():
    assert icm_equity([100, 100, 100], [50, 30, 20]) == pytest.approx([100 / 3] * 3)
    assert icm_equity([1000, 0], [70, 30]).tolist() == [70.0, 30.0]
    # winner-take-all is chip EV
    assert icm_equity([10, 30, 60], [1.0]) == pytest.approx([0.1, 0.3, 0.6])
    # the chip leader's prize share is below its chip share when places 2+ pay
    assert icm_equity([80, 10, 10], [0.5, 0.3, 0.2])[0] < 0.8


@pytest.mark.parametrize(
    ("stacks", "payouts", "needle"),
    [
        ([10, -1], [1], "negative"),
        ([0, 0], [1], "positive"),
        ([10, 20], [0.5, 0.3, 0.2], "3 payouts for 2 players"),
        ([1] * 17, [1], "at most 16"),
    ],
)
def test_bad_input(stacks, payouts, needle):
    with pytest.raises(ValueError, match=needle):
        icm_equity(stacks, payouts)
