"""GRPO on single-decision prompts (`gamelm grpo`), with TRL's `GRPOTrainer`.

Group Relative Policy Optimization (Shao et al., 2024, DeepSeekMath) samples a group of
completions per prompt and uses each one's reward relative to the group's mean and spread as its
advantage, so no value model is needed. Here the prompts are the expert decisions of a
`gamelm datagen` directory, exactly as the policy reads them (the chat template for an LLM, the
token view for the small poker LM), and the reward of a completion is verifiable:

* ``1`` when its first token is the expert's move,
* ``0`` when it is another legal move,
* ``-1`` when it is not a legal action token at all (the format penalty).

With ``reward_model`` set, the reward model's score of the move is added (weighted), so the
policy can also learn from preferences beyond the expert's one move. Reported: the validation
agreement with the expert before and after, next to a uniform choice's, and TRL's per-step
reward, KL and loss.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gamelm.agents.lm import example_ids
from gamelm.agents.observation import prompt
from gamelm.rollouts.datasets import agreement, grouped, observations, record_action
from gamelm.trainers.hf_common import (
    HFRunConfig,
    check_settings,
    lora_config,
    pick_device,
    probabilities_of,
    save_final,
)
from gamelm.trainers.sft import load_split

_ACTION = re.compile(r"^\s*(A(?:1[0-5]|[0-9]))(?!\d)")


@dataclass
class GRPOConfig(HFRunConfig):
    """Settings of `train` (the CLI flags of ``gamelm grpo`` map onto them): those of
    `gamelm.trainers.hf_common.HFRunConfig` (``data`` holds ``sft.jsonl`` and
    ``sft.val.jsonl``, whose prompts are sampled; ``batch_size`` counts completions per device
    per step, a multiple of ``num_generations``), and:

    Args:
        num_generations: completions sampled per prompt (the group).
        max_completion_length: tokens generated per completion.
        beta: weight of the KL penalty to the reference model.
        temperature: sampling temperature of the completions.
        reward_model: a `gamelm reward-model` directory whose score is added (optional).
        reward_model_weight: weight of its score.
    """

    what: ClassVar[str] = "grpo"

    max_steps: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-5
    num_generations: int = 8
    max_completion_length: int = 4
    beta: float = 0.02
    temperature: float = 1.0
    reward_model: str | None = None
    reward_model_weight: float = 0.5

    def __post_init__(self) -> None:
        check_settings(self, ("max_steps", "batch_size", "max_completion_length", "val_size"))
        if self.num_generations < 2:
            raise ValueError("num_generations must be at least 2 (GRPO compares a group)")
        if self.batch_size % self.num_generations:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of num_generations "
                f"({self.num_generations})"
            )
        if self.temperature <= 0 or self.beta < 0:
            raise ValueError("temperature must be > 0 and beta >= 0")


GRPORunConfig = GRPOConfig  # its name before 0.2


def _prompts(policy: Any, records: list[dict]) -> dict[str, list]:
    """The dataset columns: the prompt as TRL reads it, the expert's move and the legal moves
    as the words a completion starts with, and the row of each record."""
    view = policy.view
    llm = hasattr(view, "render")
    tok = view.tokenizer
    out: dict[str, list] = {"prompt": [], "target": [], "legal_words": [], "row": []}
    states = [r["state"] for r in records]
    actions = np.array([record_action(r) for r in records])
    equity = np.array([r.get("equity", np.nan) for r in records])
    for rows, obs in grouped(states):
        ids, choices = example_ids(view, obs, equity[rows])
        for j, r in enumerate(rows):
            words = tok.convert_ids_to_tokens([int(c) for c in choices[j][obs.legal[j]]])
            target = tok.convert_ids_to_tokens(int(choices[j, actions[r]]))
            if llm:
                text = records[r]["prompt"]
                if view.style != "full":  # the records hold the full prompt
                    text = prompt(obs, j, style=view.style)
                if view.use_chat:
                    out["prompt"].append([{"role": "user", "content": text}])
                else:
                    out["prompt"].append(view.render(text))
            else:
                out["prompt"].append(tok.decode(ids[j]))
            out["target"].append(target)
            out["legal_words"].append(list(words))
            out["row"].append(int(r))
    return out


def first_move(completion: Any) -> str | None:
    """The action word a completion starts with (``A3`` or a poker-LM word like ``call``).

    >>> first_move("A3\\nEquity 60%"), first_move(" call <eos>"), first_move("")
    ('A3', 'call', None)
    """
    text = completion[0]["content"] if isinstance(completion, list) else str(completion)
    m = _ACTION.match(text)
    if m:
        return m.group(1)
    words = text.split()
    return words[0] if words else None


def expert_reward(completions: list, target: list, legal_words: list, **_: Any) -> list[float]:
    """1 for the expert's move, 0 for another legal move, -1 for anything else."""
    out = []
    for c, t, legal in zip(completions, target, legal_words):
        move = first_move(c)
        out.append(1.0 if move == t else 0.0 if move in legal else -1.0)
    return out


def train(cfg: GRPOConfig, progress: bool = True, logs: bool = True) -> dict[str, Any]:
    """Run GRPO on ``cfg.data``'s decisions; write the model to ``cfg.out``."""
    from datasets import Dataset
    from transformers.utils import logging as hf_logging
    from trl import GRPOConfig as TRLGRPOConfig
    from trl import GRPOTrainer

    from gamelm.models.lm import load_policy

    hf_logging.set_verbosity_error()
    device = pick_device(cfg.device)
    train_records, val_records = load_split(cfg.data, "sft", ("prompt", "response", "state"))
    out = Path(cfg.out)
    policy = load_policy(cfg.model, dtype=cfg.dtype, prompt_style=cfg.prompt_style).to(device)
    val = val_records[: cfg.val_size]
    score = probabilities_of(policy, device)
    before = agreement(score, val) if val else (float("nan"), float("nan"))
    columns = _prompts(policy, train_records)
    rewards: list[Any] = [expert_reward]
    weights = [1.0]
    if cfg.reward_model:
        from gamelm.trainers.reward_model import RewardModel

        rm = RewardModel.load(cfg.reward_model, device)
        vocab = rm.view.tokenizer.get_vocab()

        def reward_model_score(completions, row, legal_words, **_):
            states = [train_records[r]["state"] for r in row]
            obs = observations(states)
            moves = [first_move(c) for c in completions]
            scored = np.zeros(len(moves))
            ok = [i for i, m in enumerate(moves) if m in legal_words[i] and m in vocab]
            if ok:
                sub = obs.subset(np.array(ok))
                legal_ids = [np.flatnonzero(sub.legal[k]) for k in range(len(ok))]
                entries = np.array(
                    [legal_ids[k][legal_words[i].index(moves[i])] for k, i in enumerate(ok)]
                )
                scored[ok] = rm.score(sub, entries)
            return scored.tolist()

        rewards.append(reward_model_score)
        weights.append(cfg.reward_model_weight)
    if cfg.beta > 0 and not cfg.lora_rank and getattr(policy.view, "added", False):
        # TRL loads the reference model from the policy's path, whose vocabulary lacks the
        # added action tokens: give it the starting model as it is now (removed at the end)
        start = out / "reference"
        start.mkdir(parents=True, exist_ok=True)
        policy.lm.save_pretrained(start, safe_serialization=True)
        policy.view.tokenizer.save_pretrained(start)
        policy.lm.config._name_or_path = str(start)
    dataset = Dataset.from_dict(columns)
    warnings.filterwarnings("ignore", message=".*gradient_checkpointing", category=FutureWarning)
    args = TRLGRPOConfig(
        output_dir=str(out / "checkpoints"),
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        learning_rate=cfg.learning_rate,
        beta=cfg.beta,
        temperature=cfg.temperature,
        reward_weights=weights,
        gradient_checkpointing=False,
        bf16=cfg.bf16,
        logging_steps=max(1, cfg.max_steps // 20),
        save_strategy="no",
        report_to=["tensorboard"],
        seed=cfg.seed,
        use_cpu=device == "cpu",
        disable_tqdm=not progress,
    )
    peft = lora_config(
        cfg.lora_rank, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules, "CAUSAL_LM", policy
    )
    policy.lm.generation_config.pad_token_id = policy.view.tokenizer.pad_token_id
    trainer = GRPOTrainer(
        model=policy.lm,
        reward_funcs=rewards,
        args=args,
        train_dataset=dataset,
        processing_class=policy.view.tokenizer,
        peft_config=peft if cfg.lora_rank else None,
    )
    if not logs:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    lm = trainer.model
    if cfg.lora_rank:
        lm = lm.merge_and_unload()
    policy.lm = lm.to(device).eval()
    after = agreement(score, val) if val else (float("nan"), float("nan"))
    save_final(policy, out)
    steps = [
        {
            "step": int(h["step"]),
            "reward": float(h["reward"]),
            "loss": float(h.get("loss", float("nan"))),
            "kl": float(h.get("kl", float("nan"))),
        }
        for h in trainer.state.log_history
        if "reward" in h
    ]
    result = {
        "val_agreement_before": before[0],
        "val_agreement_after": after[0],
        "val_chance": before[1],
        "steps": steps,
        "seconds": round(seconds, 1),
        "out": str(out),
    }
    (out / "grpo_result.json").write_text(
        json.dumps({"config": asdict(cfg), "result": result}, indent=2, default=str)
    )
    return result
