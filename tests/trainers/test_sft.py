"""SFT through TRL on expert records: the poker LM and a transformers LLM, full and LoRA."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gamelm.agents.lm import model_inputs
from gamelm.cli import app
from gamelm.models.causal_lm import CausalLMPolicy
from gamelm.models.lm import PokerLM, load_policy
from gamelm.rollouts.datasets import DataError
from gamelm.trainers.sft import SFTConfig, train

runner = CliRunner()


def _max_change(a, b) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    return max(float((sa[k].float() - sb[k].float()).abs().max()) for k in sa)


def test_poker_lm_learns_the_expert_and_resumes(tiny_poker_lm, tag_data, tmp_path):
    cfg = SFTConfig(
        model=str(tiny_poker_lm),
        data=str(tag_data),
        out=str(tmp_path / "sft"),
        max_steps=60,
        learning_rate=3e-3,
        save_steps=30,
        device="cpu",
    )
    result = train(cfg, progress=False, logs=False)
    assert result["steps"] == 60
    assert result["val_agreement_after"] > max(result["val_agreement_before"], 0.5)
    assert result["val_agreement_after"] > result["val_chance"] + 0.25
    assert result["eval_loss"] < 1.5  # from about log(5) for a fresh model
    model = PokerLM.load(tmp_path / "sft")  # a gamelm poker LM again, value head kept
    assert _max_change(model.lm, PokerLM.load(tiny_poker_lm).lm) > 1e-3
    # resume: the newest checkpoint (step 60) continues to 80, with the first run's log
    more = SFTConfig(**{**cfg.__dict__, "max_steps": 80, "resume": True})
    assert train(more, progress=False, logs=False)["steps"] == 80
    saved = tmp_path / "sft" / "checkpoints" / "checkpoint-80" / "trainer_state.json"
    logged = [h["step"] for h in json.loads(saved.read_text())["log_history"] if "loss" in h]
    assert min(logged) <= 30 and max(logged) > 60  # steps before the resume are in its log


def test_lora_on_a_transformers_llm_merges_into_a_plain_model(tiny_hf_model, tag_data, tmp_path):
    cfg = SFTConfig(
        model=str(tiny_hf_model),
        data=str(tag_data),
        out=str(tmp_path / "lora"),
        max_steps=40,
        learning_rate=1e-2,
        lora_rank=8,
        target_modules=("all-linear",),
        device="cpu",
    )
    result = train(cfg, progress=False, logs=False)
    assert result["val_agreement_after"] > result["val_agreement_before"] + 0.15
    saved = tmp_path / "lora"
    assert (saved / "model.safetensors").is_file() and not (saved / "adapter_config.json").exists()
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(saved)  # a plain transformers model
    assert isinstance(load_policy(saved), CausalLMPolicy)


def test_merged_lora_gives_the_same_outputs(tiny_hf_model, tmp_path):
    from peft import get_peft_model

    from gamelm.rollouts.datasets import DatagenConfig, generate, observations, read_jsonl
    from gamelm.trainers.hf_common import lora_config

    generate(DatagenConfig(expert="random", hands=20, seed=1), tmp_path / "d")
    obs = observations([r["state"] for r in read_jsonl(tmp_path / "d" / "sft.jsonl")[:8]])
    policy = CausalLMPolicy.from_pretrained(tiny_hf_model)
    cfg = lora_config(4, 8, 0.0, ("q_proj", "v_proj"), "CAUSAL_LM", policy)
    policy.lm = get_peft_model(policy.lm, cfg)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in policy.lm.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # adapters that change the outputs
        policy.eval()
        adapted, _ = policy(*model_inputs(policy, obs))
        with policy.lm.disable_adapter():
            base, _ = policy(*model_inputs(policy, obs))
    assert (adapted - base).abs().max() > 1e-3
    policy.save(tmp_path / "merged")
    merged = load_policy(tmp_path / "merged")
    with torch.no_grad():
        again, _ = merged(*model_inputs(merged, obs))
    assert torch.allclose(
        torch.nan_to_num(adapted, neginf=0), torch.nan_to_num(again, neginf=0), atol=1e-5
    )


def test_cli_contract_and_bad_inputs(tiny_poker_lm, tag_data, tmp_path):
    out = tmp_path / "cli"
    r = runner.invoke(
        app,
        [
            "sft",
            "--model",
            str(tiny_poker_lm),
            "--data",
            str(tag_data),
            "--out",
            str(out),
            "--max-steps",
            "5",
            "--device",
            "cpu",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"val_agreement_before", "val_agreement_after"} <= set(got)
    assert (out / "config.json").is_file()
    r = runner.invoke(
        app,
        [
            "sft",
            "--model",
            str(tmp_path / "none"),
            "--data",
            str(tag_data),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output
    broken = tmp_path / "broken"
    broken.mkdir()
    lines = (tag_data / "sft.jsonl").read_text().splitlines()[:3]
    (broken / "sft.jsonl").write_text("\n".join([*lines, '{"prompt": "x", ']) + "\n")
    r = runner.invoke(
        app,
        ["sft", "--model", str(tiny_poker_lm), "--data", str(broken), "--out", str(tmp_path / "y")],
    )
    assert r.exit_code == 2 and "sft.jsonl:4: not valid JSON" in r.output
    with pytest.raises(DataError, match="no 'state'"):
        (broken / "sft.jsonl").write_text('{"prompt": "x", "response": "A0"}\n')
        train(SFTConfig(model=str(tiny_poker_lm), data=str(broken), out=str(out), device="cpu"))
    assert np.isfinite(got["val_agreement_after"])


def test_soft_targets_learn_the_experts_frequencies(tiny_hf_model, tiny_blueprint, tmp_path):
    """The fast engine with soft targets moves the policy towards the blueprint's frequencies
    (its KL divergence from them falls, and further than training on the sampled moves); the
    setting is refused without the fast engine or without frequencies in the records."""
    from gamelm.agents.lm import LMAgent
    from gamelm.rollouts.datasets import DatagenConfig, generate, observations, read_jsonl

    data = tmp_path / "bp"
    generate(DatagenConfig(expert=f"blueprint:{tiny_blueprint}", hands=150, seed=0), data)
    records = read_jsonl(data / "sft.jsonl")[:64]
    obs = observations([r["state"] for r in records])

    def kl(path) -> float:
        p = LMAgent(load_policy(path)).probabilities(obs, np.random.default_rng(0))
        out = []
        for i, r in enumerate(records):
            q = np.asarray(r["probs"]) / np.sum(r["probs"])
            ratio = np.log(np.clip(q, 1e-9, 1)) - np.log(np.clip(p[i, obs.legal[i]], 1e-9, 1))
            out.append(float(np.dot(q, ratio)))
        return float(np.mean(out))

    cfg = SFTConfig(
        model=str(tiny_hf_model),
        data=str(data),
        out=str(tmp_path / "soft"),
        engine="fast",
        soft_targets=True,
        max_steps=60,
        batch_size=16,
        learning_rate=3e-2,
        lora_rank=8,
        target_modules=("all-linear",),
        val_size=32,
        device="cpu",
    )
    train(cfg, progress=False, logs=False)
    hard = SFTConfig(**{**cfg.__dict__, "soft_targets": False, "out": str(tmp_path / "hard")})
    train(hard, progress=False, logs=False)  # the same steps on the one move it sampled
    soft = kl(tmp_path / "soft")
    assert soft < 0.85 * kl(tiny_hf_model) and soft < kl(tmp_path / "hard")
    with pytest.raises(ValueError, match="fast engine"):
        SFTConfig(model="m", data="d", out="o", soft_targets=True)
    tag = tmp_path / "tag"
    generate(DatagenConfig(expert="tag", hands=60, seed=0), tag)
    with pytest.raises(DataError, match="move frequencies"):
        train(SFTConfig(**{**cfg.__dict__, "data": str(tag), "out": str(tmp_path / "t")}))
