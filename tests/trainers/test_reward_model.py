"""The reward model through TRL's RewardTrainer on the expert's preference pairs."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from gamelm.cli import app
from gamelm.rollouts.datasets import observations, read_jsonl, record_action
from gamelm.trainers.reward_model import RewardModel, RewardModelConfig, train

runner = CliRunner()


def test_poker_lm_reward_model_ranks_held_out_pairs(tiny_poker_lm, tag_data, tmp_path):
    cfg = RewardModelConfig(
        model=str(tiny_poker_lm),
        data=str(tag_data),
        out=str(tmp_path / "rm"),
        max_steps=60,
        learning_rate=3e-3,
        device="cpu",
    )
    result = train(cfg, progress=False, logs=False)
    assert result["val_pair_accuracy"] > 0.7 > result["val_pair_accuracy_before"] - 0.1
    rm = RewardModel.load(tmp_path / "rm")
    pairs = read_jsonl(tag_data / "pairs.val.jsonl")[:20]
    obs = observations([p["state"] for p in pairs])
    chosen = np.array([record_action(p, "chosen") for p in pairs])
    rejected = np.array([record_action(p, "rejected") for p in pairs])
    assert (rm.score(obs, chosen) > rm.score(obs, rejected)).mean() > 0.6


def test_lora_reward_model_on_a_transformers_llm(tiny_hf_model, tag_data, tmp_path):
    r = runner.invoke(
        app,
        [
            "reward-model",
            "--model",
            str(tiny_hf_model),
            "--data",
            str(tag_data),
            "--out",
            str(tmp_path / "rm"),
            "--max-steps",
            "30",
            "--learning-rate",
            "3e-3",
            "--lora-rank",
            "4",
            "--target-modules",
            "all-linear",
            "--device",
            "cpu",
            "--val-size",
            "60",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["val_pair_accuracy"] > 0.6 and got["val_pairs"] == 60
    assert RewardModel.load(tmp_path / "rm").view.use_chat
    r = runner.invoke(app, ["rl", "--model", str(tiny_hf_model), "--reward-model", str(tmp_path)])
    assert r.exit_code == 2 and "not a gamelm reward model" in r.output
