"""Rollouts record the learner's decisions, results and probabilities faithfully."""

import numpy as np
import torch

from gamelm.agents.baselines import make_agent
from gamelm.agents.lm import PokerLM
from gamelm.rollouts.selfplay import collect
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
