"""The poker LM: presets, the policy over legal actions, save/load through transformers."""

import numpy as np
import pytest
import torch

from gamelm.agents.base import observe
from gamelm.agents.lm import LMAgent, model_inputs
from gamelm.agents.observation import ActionHistory, encode
from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.models.lm import PokerLM
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine


def _obs(n=64, seed=0):
    eng = BatchEngine(n, 2, 1, 2, starting_stacks=200)
    eng.reset(seed=seed)
    hist = ActionHistory(n, 2)
    hist.reset(np.arange(n))
    return observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(n), history=hist)


def test_presets_have_the_documented_sizes():
    assert PokerLM.from_preset("tiny").num_parameters() < 200_000
    assert 13e6 < PokerLM.from_preset("seed15m").num_parameters() < 17e6
    lm = PokerLM.from_preset("seed15m").lm.config
    assert (lm.num_hidden_layers, lm.num_attention_heads) == (6, 8)
    with pytest.raises(ValueError, match="unknown preset"):
        PokerLM.from_preset("huge")
    with pytest.raises(ValueError, match="multiple of n_heads"):
        PokerLM.from_preset("tiny", d_model=66, n_heads=4)
    with pytest.raises(ValueError, match="even quotient"):
        PokerLM.from_preset("tiny", d_model=66)


def test_the_policy_covers_only_legal_actions():
    model = PokerLM.from_preset("tiny", seed=1)
    # a random value head, so that values are not all zero
    torch.nn.init.normal_(model.value_head.weight)
    obs = _obs()
    obs.legal[::2, 2] = False  # some raise entries illegal
    logp, value = model(*model_inputs(model, obs))
    p = logp.exp()
    assert torch.allclose(p.sum(dim=1), torch.ones(obs.size))
    assert (p[torch.as_tensor(~obs.legal)] == 0).all()
    assert value.shape == (obs.size,) and value.std() > 0
    greedy = LMAgent(model, temperature=0).act(obs, np.random.default_rng(0))
    assert (greedy == logp.argmax(dim=1).numpy()).all()


def test_save_load_round_trip_through_transformers(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = PokerLM.from_preset("tiny", seed=2)
    torch.nn.init.normal_(model.value_head.weight)
    model.save(tmp_path / "m")
    back = PokerLM.load(tmp_path / "m")
    obs = _obs(8)
    with torch.no_grad():
        a, b = model.eval()(*model_inputs(model, obs)), back(*model_inputs(back, obs))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # a standard directory: transformers loads the LM and the tokenizer, which reads the text
    lm = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    tok = AutoTokenizer.from_pretrained(tmp_path / "m")
    tokens, mask = encode(obs)
    from gamelm.agents.observation import decode

    assert tok(decode(tokens[0]))["input_ids"] == tokens[0][mask[0]].tolist()
    with torch.no_grad():
        full = lm(input_ids=torch.as_tensor(tokens[:1])).logits[0, -1]
        ours = model.lm(input_ids=torch.as_tensor(tokens[:1])).logits[0, -1]
    assert torch.allclose(full, ours)
    assert not (tmp_path / "m" / "pytorch_model.bin").exists()  # safetensors only
    with pytest.raises(FileNotFoundError, match=r"gamelm\.json"):
        PokerLM.load(tmp_path)


def test_a_checkpoint_plays_a_match_as_an_agent_spec(tmp_path):
    PokerLM.from_preset("tiny", seed=3).save(tmp_path / "Model")
    agent = make_agent(f"ckpt:{tmp_path / 'Model'}")
    res = play_match([agent, make_agent("random")], MatchConfig(seats=2, hands=200, seed=0))
    assert res.payoffs.sum() == 0  # every choice was legal (play_match checks), chips conserved
    with pytest.raises(ValueError, match="cannot load"):
        make_agent(f"ckpt:{tmp_path / 'missing'}")


def test_the_plain_torch_forward_matches_transformers():
    from gamelm.models.llama_fast import causal_allowed, hidden_states

    model = PokerLM.from_preset("tiny", seed=3, n_heads=4).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(4, 100, (6, 12), generator=gen)
    mask = torch.ones(6, 12, dtype=torch.bool)
    for i in range(6):
        mask[i, : i * 2] = False  # left padding of several widths
    pos = (mask.long().cumsum(1) - 1).clamp(min=0)
    with torch.no_grad():
        ref = model.lm.model(input_ids=tokens, attention_mask=mask, position_ids=pos)
        ours = hidden_states(model.lm, tokens, pos, causal_allowed(mask))
    real = mask[:, :, None].expand_as(ours)
    assert torch.allclose(ours[real], ref.last_hidden_state[real], atol=1e-5)


def test_the_strength_token_is_part_of_the_saved_model(tmp_path):
    import json

    from gamelm.models.vocab import TOKEN

    obs = _obs(8)
    model = PokerLM.from_preset("tiny", seed=1, strength_trials=50)
    tokens = model_inputs(model, obs)[0]
    assert (tokens[:, -1] >= TOKEN["strength:0"]).all()  # the tail ends with the strength
    model.save(tmp_path / "m")
    assert PokerLM.load(tmp_path / "m").strength_trials == 50
    # a model saved before the token existed: ten fewer words, no strength_trials; it loads,
    # reads the cards only, and plays as it did
    from gamelm.models.vocab import VOCAB

    before = PokerLM.from_preset("tiny", seed=1, strength_trials=0)
    before.lm.resize_token_embeddings(len(VOCAB) - 10)
    before.save(tmp_path / "old")
    meta = json.loads((tmp_path / "old" / "gamelm.json").read_text())
    del meta["strength_trials"]
    (tmp_path / "old" / "gamelm.json").write_text(json.dumps(meta))
    old = PokerLM.load(tmp_path / "old")
    assert old.strength_trials == 0
    assert model_inputs(old, obs)[0].shape[1] == tokens.shape[1] - 1
    with torch.no_grad():
        assert torch.allclose(
            old(*model_inputs(old, obs))[0], before.eval()(*model_inputs(before, obs))[0]
        )
    res = play_match([make_agent(f"ckpt:{tmp_path / 'old'}"), make_agent("random")],
                     MatchConfig(seats=2, hands=100, seed=0))  # fmt: skip
    assert res.payoffs.sum() == 0
    (tmp_path / "old" / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="holds no model weights"):
        PokerLM.load(tmp_path / "old")
    with pytest.raises(ValueError, match="strength_trials"):
        PokerLM.from_preset("tiny", strength_trials=-1)
