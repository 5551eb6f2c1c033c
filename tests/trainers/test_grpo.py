"""GRPO on single decisions through TRL, with the expert's move as a verifiable reward."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gamelm.agents.lm import example_ids
from gamelm.cli import app
from gamelm.models.lm import load_policy
from gamelm.rollouts.datasets import observations, read_jsonl
from gamelm.trainers.grpo import GRPOConfig, expert_reward, train

runner = CliRunner()


def test_expert_reward_scores_moves_and_the_format():
    got = expert_reward(
        ["A1", "A0 fold", "call", "nonsense"],
        target=["A1", "A1", "call", "A0"],
        legal_words=[["A0", "A1"], ["A0", "A1"], ["fold", "call"], ["A0"]],
    )
    assert got == [1.0, 0.0, 1.0, -1.0]


def _legal_mass(path, records) -> float:
    """The model's mean next-token probability mass on the legal action tokens (over its whole
    vocabulary): what GRPO's format term rewards."""
    policy = load_policy(path)
    obs = observations([r["state"] for r in records])
    ids, choices = example_ids(policy.view, obs, np.array([r["equity"] for r in records]))
    tokens, mask = policy.view.pad(ids)
    with torch.no_grad():
        positions = (mask.long().cumsum(1) - 1).clamp(min=0)
        logits = policy.lm(input_ids=tokens, attention_mask=mask.long(), position_ids=positions)
    p = torch.softmax(logits.logits[:, -1].float(), dim=-1).numpy()
    rows = np.arange(obs.size)[:, None]
    return float(np.where(obs.legal, p[rows, choices], 0).sum(axis=1).mean())


def test_grpo_teaches_a_fresh_poker_lm_the_action_format(tiny_poker_lm, tag_data, tmp_path):
    """A fresh model's next token is rarely an action token (reward -1); GRPO must move its
    probability mass onto the legal actions."""
    cfg = GRPOConfig(
        model=str(tiny_poker_lm),
        data=str(tag_data),
        out=str(tmp_path / "grpo"),
        max_steps=20,
        batch_size=32,
        num_generations=8,
        max_completion_length=2,
        learning_rate=3e-3,
        beta=0.0,
        device="cpu",
    )
    result = train(cfg, progress=False, logs=False)
    assert len(result["steps"]) == 20 and np.isfinite(result["val_agreement_after"])
    val = read_jsonl(tag_data / "sft.val.jsonl")[:64]
    before, after = _legal_mass(tiny_poker_lm, val), _legal_mass(tmp_path / "grpo", val)
    assert after > 2 * before, (before, after)


def test_cli_needs_data_and_checks_the_group(tiny_poker_lm, tag_data, tmp_path):
    r = runner.invoke(app, ["rl", "--model", str(tiny_poker_lm), "--algorithm", "grpo"])
    assert r.exit_code == 2 and "gamelm grpo" in r.output
    r = runner.invoke(app, ["grpo", "--model", str(tiny_poker_lm)])
    assert r.exit_code == 2 and "--data" in r.output
    r = runner.invoke(
        app,
        [
            "grpo",
            "--model",
            str(tiny_poker_lm),
            "--data",
            str(tag_data),
            "--batch-size",
            "6",
            "--num-generations",
            "4",
            "--out",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 2 and "multiple of num_generations" in r.output
    with pytest.raises(ValueError, match="at least 2"):
        GRPOConfig(model="m", data="d", out="o", num_generations=1)
    r = runner.invoke(
        app,
        [
            "grpo",
            "--model",
            str(tiny_poker_lm),
            "--data",
            str(tag_data),
            "--out",
            str(tmp_path / "g"),
            "--max-steps",
            "2",
            "--batch-size",
            "8",
            "--num-generations",
            "4",
            "--device",
            "cpu",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    steps = json.loads(r.stdout.strip().splitlines()[-1])
    assert [s["step"] for s in steps] == [1, 2] and all("reward" in s for s in steps)


def test_grpo_on_an_llm_with_added_tokens_and_a_reference(tiny_hf_model, tag_data, tmp_path):
    """The action tokens are added to the tiny LLM's tokenizer; TRL's reference model (beta > 0)
    must be built with them."""
    cfg = GRPOConfig(
        model=str(tiny_hf_model),
        data=str(tag_data),
        out=str(tmp_path / "g"),
        max_steps=2,
        batch_size=8,
        num_generations=4,
        max_completion_length=2,
        beta=0.1,
        device="cpu",
    )
    result = train(cfg, progress=False, logs=False)
    assert len(result["steps"]) == 2 and not (tmp_path / "g" / "reference").exists()
