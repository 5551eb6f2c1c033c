"""RL against opponents on real hands: PPO and REINFORCE, shaping, checkpoints and resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gamelm.agents.lm import LMAgent
from gamelm.cli import app
from gamelm.models.causal_lm import CausalLMPolicy
from gamelm.models.lm import load_policy
from gamelm.rollouts.datasets import DatagenConfig, generate, observations, read_jsonl
from gamelm.trainers.rl import RLConfig, RLTrainer

runner = CliRunner()


def _raise_share(path, obs) -> float:
    """The policy's mean probability of betting or raising at the decisions of ``obs``."""
    p = LMAgent(load_policy(path)).probabilities(obs, np.random.default_rng(0))
    return float(p[:, 2:].sum(axis=1).mean())


def test_a_shaping_bonus_is_learned(tiny_poker_lm, tmp_path):
    """A toy task with a known answer: a large aggression bonus makes betting pay, so the
    policy's probability of betting or raising must grow (REINFORCE and PPO)."""
    generate(DatagenConfig(expert="random", hands=60, seed=2), tmp_path / "d")
    obs = observations([r["state"] for r in read_jsonl(tmp_path / "d" / "sft.jsonl")])
    start = _raise_share(tiny_poker_lm, obs)
    for algorithm in ("reinforce", "ppo"):
        cfg = RLConfig(
            model=str(tiny_poker_lm),
            opponent="calling-station",
            out=str(tmp_path / algorithm),
            algorithm=algorithm,
            num_epochs=4,
            episodes_per_epoch=128,
            learning_rate=3e-3,
            aggression_bonus=20.0,
            kl_coef=0.0,
            device="cpu",
        )
        records = RLTrainer(cfg).train()
        assert all(np.isfinite(r["loss"]) for r in records)
        end = _raise_share(tmp_path / algorithm, obs)
        assert end > start + 0.15, (algorithm, start, end)


def test_every_term_is_logged_and_resume_continues(tiny_poker_lm, tmp_path):
    out = tmp_path / "run"
    base = [
        "rl",
        "--model",
        str(tiny_poker_lm),
        "--opponent",
        "calling-station",
        "--out",
        str(out),
        "--episodes-per-epoch",
        "64",
        "--checkpoint-every",
        "2",
        "--device",
        "cpu",
        "--bluff-bonus",
        "0.5",
        "--aggression-bonus",
        "0.1",
        "--fold-equity-bonus",
        "0.1",
        "--sizing-bonus",
        "0.1",
        "--json",
    ]
    r = runner.invoke(app, [*base, "--num-epochs", "2"])
    assert r.exit_code == 0, r.output
    records = json.loads(r.stdout.strip().splitlines()[-1])
    assert [x["epoch"] for x in records] == [1, 2]
    for key in (
        "avg_return",
        "win_rate",
        "bb_per_100",
        "ci95",
        "loss",
        "kl",
        "chips",
        "shaping_bluff",
        "shaping_aggression",
        "shaping_fold_equity",
        "shaping_sizing",
    ):
        assert key in records[0], key
    # against a player who never folds the learner acts in every hand, so every hand's result
    # reaches a decision: the chips term equals the average return
    assert records[0]["avg_return"] == pytest.approx(records[0]["chips"])
    assert records[0]["shaping_aggression"] > 0 and records[0]["shaping_bluff"] >= 0
    assert (out / "best" / "epoch.json").is_file() and (out / "config.json").is_file()
    r = runner.invoke(app, [*base, "--num-epochs", "3", "--resume"])
    assert r.exit_code == 0, r.output
    again = json.loads(r.stdout.strip().splitlines()[-1])
    assert [x["epoch"] for x in again] == [1, 2, 3] and again[:2] == records
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3]


def test_lora_on_the_poker_lm(tiny_poker_lm, tmp_path):
    # the poker LM's fast forward reads through the PEFT wrapper to the LoRA-adapted layers
    cfg = RLConfig(
        model=str(tiny_poker_lm), opponent="random", out=str(tmp_path / "lora"), num_epochs=1,
        episodes_per_epoch=16, tables=16, lora_rank=2, target_modules=("q_proj", "v_proj"),
        learning_rate=1e-2, device="cpu",
    )  # fmt: skip
    trainer = RLTrainer(cfg)
    names = [n for n, p in trainer.policy.named_parameters() if p.requires_grad]
    assert names and all("lora" in n or "value" in n for n in names)
    history = trainer.train()
    assert len(history) == 1 and math.isfinite(history[0]["loss"])


def test_micro_batches_add_up_to_the_same_step(tiny_hf_model, tmp_path):
    """Gradients accumulated over forward passes of 5 decisions give the step of one pass."""
    weights = []
    for micro in (0, 5):
        cfg = RLConfig(
            model=str(tiny_hf_model), opponent="calling-station", out=str(tmp_path / f"m{micro}"),
            num_epochs=1, episodes_per_epoch=8, tables=8, minibatch_size=16,
            micro_batch_size=micro, learning_rate=1e-2, device="cpu",
        )  # fmt: skip
        trainer = RLTrainer(cfg)
        start = {n: p.detach().clone() for n, p in trainer.policy.named_parameters()}
        trainer.train()
        weights.append({n: p.detach().clone() for n, p in trainer.policy.named_parameters()})
    moved = [n for n, p in start.items() if not torch.allclose(p, weights[0][n], atol=1e-4)]
    assert moved  # the step changed the weights, identically both ways
    for name, whole in weights[0].items():
        assert torch.allclose(whole, weights[1][name], atol=1e-4), name
    r = runner.invoke(app, ["rl", "--model", str(tiny_hf_model), "--micro-batch-size", "-1"])
    assert r.exit_code == 2 and "micro_batch_size must be >= 0" in r.output


def test_bad_settings_are_one_sentence(tiny_poker_lm, tmp_path):
    r = runner.invoke(app, ["rl", "--model", str(tiny_poker_lm), "--algorithm", "dqn"])
    assert r.exit_code == 2 and "algorithm must be one of" in r.output
    r = runner.invoke(app, ["rl", "--model", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "does not exist" in r.output
    r = runner.invoke(app, ["rl", "--model", str(tiny_poker_lm), "--opponent", "nobody"])
    assert r.exit_code == 2 and "unknown agent" in r.output


def test_lora_on_a_transformers_llm_resumes_its_adapters(tiny_hf_model, tmp_path):
    from peft import get_peft_model_state_dict

    cfg = RLConfig(
        model=str(tiny_hf_model),
        opponent="random",
        out=str(tmp_path / "lora"),
        num_epochs=2,
        episodes_per_epoch=16,
        checkpoint_every=1,
        learning_rate=1e-2,
        lora_rank=4,
        target_modules=("q_proj", "v_proj"),
        device="cpu",
    )
    first = RLTrainer(cfg)
    first.train()
    trained = {k: v.clone() for k, v in get_peft_model_state_dict(first.policy.lm).items()}
    assert any(float(v.abs().max()) > 0 for k, v in trained.items() if "lora_B" in k)
    again = RLTrainer(RLConfig(**{**cfg.__dict__, "num_epochs": 3, "resume": True}))
    assert again.epoch_done == 2
    restored = get_peft_model_state_dict(again.policy.lm)
    assert all(torch.equal(restored[k], trained[k]) for k in trained)
    records = again.train()
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert isinstance(load_policy(tmp_path / "lora"), CausalLMPolicy)  # merged, plain model
