"""Rollouts record the learner's decisions, results and probabilities faithfully."""

import numpy as np
import torch

from gamelm.agents.registry import make_agent
from gamelm.models.lm import PokerLM
from gamelm.rollouts.selfplay import SELF, collect
from gamelm.rollouts.trajectory import gae


def test_a_rollout_records_every_learner_decision():
    model = PokerLM.from_preset("tiny", seed=0).eval()
    roll = collect(model, [make_agent("random")], 300, np.random.default_rng(0), tables=64)
    assert roll.hands == 300 and roll.size > 300
    n = roll.size
    assert roll.legal[np.arange(n), roll.actions].all()  # only legal actions were played
    # episodes are contiguous, and the rewards add up to the learner's result except for the
    # hands it never acted in: heads-up only a walk in the big blind (+0.5 bb each)
    starts = np.flatnonzero(np.r_[True, roll.episodes[1:] != roll.episodes[:-1]])
    assert np.unique(roll.episodes).size == starts.size
    walks = (roll.learner_result - roll.rewards.sum()) / 0.5
    assert walks >= 0 and abs(walks - round(walks)) < 1e-9
    # log-probabilities and values are the model's for the recorded inputs
    with torch.no_grad():
        logp, value = model(
            torch.as_tensor(roll.tokens), torch.as_tensor(roll.mask),
            torch.as_tensor(roll.choices), torch.as_tensor(roll.legal),
        )  # fmt: skip
    taken = logp[torch.arange(n), torch.as_tensor(roll.actions)].double().numpy()
    assert np.allclose(taken, roll.logp, atol=1e-5)
    assert np.allclose(value.double().numpy(), roll.values, atol=1e-5)
    adv, ret = gae(roll.rewards, roll.values, roll.episodes, 1.0, 1.0)
    assert adv.shape == (n,) and np.isfinite(ret).all()


def test_six_seats_against_several_opponents():
    model = PokerLM.from_preset("tiny", seed=1).eval()
    opponents = [make_agent("tag"), make_agent("calling-station")]
    roll = collect(model, opponents, 120, np.random.default_rng(1), seats=6, tables=32)
    seats = roll.episodes % 6
    assert set(np.unique(seats).tolist()) == set(range(6))  # the learner sits everywhere


def test_self_play_records_every_seat_and_the_main_seat_result():
    model = PokerLM.from_preset("tiny", seed=2).eval()
    roll = collect(model, [SELF], 200, np.random.default_rng(2), seats=3, tables=50)
    hands = roll.episodes // 3
    # with the learner in every seat, nearly every hand has decisions from 2 or 3 seats
    per_hand = np.array([np.unique(roll.episodes[hands == h]).size for h in np.unique(hands)])
    assert per_hand.mean() > 2
    # the rewards of all seats of a hand sum to zero (chips only change hands), except when
    # everyone folds to the big blind, whose win (the small blind) is not a decision's reward
    totals = np.bincount(hands, weights=roll.rewards)[np.unique(hands)]
    assert np.isin(np.round(totals, 9), [0.0, -0.5]).all()
    assert (np.round(totals, 9) == 0).mean() > 0.5


def test_a_league_draws_opponents_per_hand():
    model = PokerLM.from_preset("tiny", seed=3).eval()

    class Counter:
        def __init__(self, name):
            self.name, self.rows = name, 0
            self.inner = make_agent("calling-station")

        def act(self, obs, rng):
            self.rows += obs.size
            return self.inner.act(obs, rng)

    a, b = Counter("a"), Counter("b")
    collect(model, [a, b], 400, np.random.default_rng(4), tables=100)
    assert a.rows > 100 and b.rows > 100  # both opponents got tables
