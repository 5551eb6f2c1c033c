"""Packing a hand's decisions into one sequence gives each decision exactly its own forward."""

import numpy as np
import pytest
import torch

from gamelm.agents.registry import make_agent
from gamelm.models.lm import PokerLM
from gamelm.rollouts.packing import pack
from gamelm.rollouts.selfplay import SELF, collect


@pytest.mark.parametrize("seats,opponent", [(2, "calling-station"), (3, "self")])
def test_packed_forward_equals_one_forward_per_decision(seats, opponent):
    model = PokerLM.from_preset("tiny", seed=5).eval()
    for p in model.parameters():  # a non-trivial model: random weights everywhere
        torch.nn.init.normal_(p, std=0.2)
    opp = SELF if opponent == "self" else make_agent(opponent)
    roll = collect(model, [opp], 150, np.random.default_rng(6), seats=seats, tables=50)
    packed = pack(roll.tokens, roll.mask, roll.shared, roll.episodes)
    assert packed.tokens.size < roll.mask.sum()  # prefixes are read once
    seqs = np.arange(packed.num_sequences)
    dec = packed.decisions_of(seqs)
    assert (dec == np.arange(roll.size)).all()
    with torch.no_grad():
        logp, value = model.packed(
            *packed.batch(seqs), torch.as_tensor(roll.choices), torch.as_tensor(roll.legal)
        )
    assert np.allclose(logp.exp().numpy(), np.exp(_full(roll, model)), atol=1e-5)
    assert np.allclose(value.numpy(), roll.values, atol=1e-5)
    taken = logp[torch.arange(roll.size), torch.as_tensor(roll.actions)].numpy()
    assert np.allclose(taken, roll.logp, atol=1e-5)


def _full(roll, model):
    with torch.no_grad():
        logp, _ = model(
            torch.as_tensor(roll.tokens), torch.as_tensor(roll.mask),
            torch.as_tensor(roll.choices), torch.as_tensor(roll.legal),
        )  # fmt: skip
    return logp.numpy()


def test_a_broken_prefix_starts_a_new_sequence():
    tokens = np.array([[0, 1, 5, 6, 9], [1, 5, 8, 7, 9]])  # the second does not extend the first
    p = pack(tokens, tokens > 0, shared=np.array([3, 4]), episodes=np.array([0, 0]))
    assert p.num_sequences == 2
    assert p.lengths().tolist() == [4, 5]
    with pytest.raises(ValueError, match="tail token"):
        pack(tokens, tokens > 0, shared=np.array([4, 4]), episodes=np.array([0, 0]))
