"""Any transformers causal LM as a poker policy (tiny local models, no download)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gamelm.agents.base import observe
from gamelm.agents.lm import LMAgent, example_ids, model_inputs
from gamelm.agents.observation import ActionHistory, legal_actions
from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.models.causal_lm import ACTION_WORDS, CausalLMPolicy
from gamelm.models.lm import load_policy
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine


def _obs(n=4, seats=2):
    eng = BatchEngine(n, seats, 1, 2, starting_stacks=200)
    eng.reset(seed=1)
    hist = ActionHistory(n, seats)
    hist.reset(np.arange(n))
    return observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(n), history=hist)


def test_action_tokens_are_added_once_and_scored_on_legal_entries(tiny_hf_model):
    policy = CausalLMPolicy.from_pretrained(tiny_hf_model)
    tok = policy.tokenizer
    assert [tok.convert_ids_to_tokens(i) for i in policy.action_ids] == list(ACTION_WORDS)
    assert all(len(tok.encode(w, add_special_tokens=False)) == 1 for w in ACTION_WORDS)
    assert policy.lm.get_input_embeddings().num_embeddings >= len(tok)
    obs = _obs()
    obs.legal[0, 0] = False  # fold not offered at the first table
    logp, value = policy(*model_inputs(policy, obs))
    assert logp.shape == (4, 5) and value.shape == (4,)
    assert torch.isinf(logp[0, 0]) and torch.allclose(logp.exp().sum(1), torch.ones(4))
    # the chat template wraps the prompt; the last token is the generation cue
    text = policy.render("hello")
    assert text.startswith("<|user|>\nhello") and text.endswith("<|assistant|>\n")


def test_batched_scores_equal_one_at_a_time(tiny_hf_model):
    policy = CausalLMPolicy.from_pretrained(tiny_hf_model).eval()
    obs = _obs(6, seats=6)
    with torch.no_grad():
        batch, _ = policy(*model_inputs(policy, obs))
        for i in range(obs.size):
            one, _ = policy(*model_inputs(policy, obs.subset(np.array([i]))))
            assert torch.allclose(batch[i], one[0], atol=1e-5)


@pytest.mark.parametrize("style", ["full", "compact", "equity"])
def test_decide_reads_the_shared_prefix_once_and_changes_nothing(tiny_hf_model, style):
    policy = CausalLMPolicy.from_pretrained(tiny_hf_model, style=style)
    obs = _obs(12, seats=6)
    ids, choices = example_ids(policy.view, obs)
    choices, legal = torch.as_tensor(choices), torch.as_tensor(obs.legal)
    with torch.inference_mode():
        plain = policy(*policy.pad(ids), choices, legal)[0]
    policy.max_batch = 5  # several batches of similar length
    fast = policy.decide(ids, choices, legal)
    assert torch.allclose(fast.exp(), plain.exp(), atol=1e-5)
    prefix = policy._shared_prefix(ids)
    assert len(prefix) > 5 and all(row[: len(prefix)] == prefix for row in ids)
    # one decision alone reuses the cached prefix, and gets the same answer
    assert policy._shared_prefix(ids[3:4]) == prefix
    one = policy.decide(ids[3:4], choices[3:4], legal[3:4])
    assert torch.allclose(one.exp(), plain[3:4].exp(), atol=1e-5)
    # new weights make every cached prefix stale
    with torch.no_grad():
        for p in policy.lm.parameters():
            p.mul_(1.5)
    with torch.inference_mode():
        changed = policy(*policy.pad(ids[3:4]), choices[3:4], legal[3:4])[0]
    again = policy.decide(ids[3:4], choices[3:4], legal[3:4])
    assert torch.allclose(again.exp(), changed.exp(), atol=1e-5)
    assert not torch.allclose(again.exp(), one.exp(), atol=1e-3)


def test_the_menu_maps_action_tokens_in_legal_order(tiny_hf_base_model):
    policy = CausalLMPolicy.from_pretrained(tiny_hf_base_model)
    assert not policy.use_chat and policy.render("x").endswith("\nAnswer:")
    obs = _obs()
    ids, choices = example_ids(policy.view, obs)
    for i, entries in enumerate(legal_actions(obs)):
        assert choices[i, entries].tolist() == policy.action_ids[: len(entries)]
        assert ids[i][-1] == policy.tokenizer.encode(":", add_special_tokens=False)[-1]


def test_save_load_round_trip_and_agent_specs(tiny_hf_model, tmp_path):
    policy = CausalLMPolicy.from_pretrained(tiny_hf_model)
    with torch.no_grad():
        policy.value_head.bias.fill_(0.25)
    policy.save(tmp_path / "p")
    again = load_policy(tmp_path / "p")
    assert isinstance(again, CausalLMPolicy) and again.use_chat
    obs = _obs()
    with torch.no_grad():
        a, _ = policy.eval()(*model_inputs(policy, obs))
        b, vb = again(*model_inputs(again, obs))
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(vb, torch.full((4,), 0.25))
    # ``hf:`` plays a match like any agent, on any seat count
    agent = make_agent(f"hf:{tiny_hf_model}")
    assert isinstance(agent, LMAgent)
    res = play_match([agent, make_agent("random")], MatchConfig(hands=12, seats=2, seed=0))
    assert res.payoffs.shape == (12, 2)


def test_bad_model_paths_give_one_sentence(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CausalLMPolicy.from_pretrained(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no config\.json"):
        CausalLMPolicy.from_pretrained(tmp_path / "empty")
    with pytest.raises(ValueError, match="cannot load"):
        make_agent(f"ckpt:{tmp_path / 'empty'}")
