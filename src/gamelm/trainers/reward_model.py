"""A reward model of the expert's preferences (`gamelm reward-model`), with TRL's `RewardTrainer`.

The model scores a decision and a move: the prompt as a policy reads it (the chat-templated text
for an LLM, the token view for the small poker LM) followed by the move's action token, read by a
transformers sequence-classification model with one output. It starts from the weights of a
policy (the body of the causal LM; a new scoring head), and is trained on the preference pairs of
`gamelm datagen` with the Bradley-Terry loss ``-log sigmoid(r(chosen) - r(rejected))``. Full or
LoRA. Reported: pairwise accuracy on the held-out pairs, before and after training.

`RewardModel` loads a saved reward model and scores observations and moves; `gamelm rl` adds
its score to the reward of each decision (``reward_model_weight``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from gamelm.agents.base import IntArray, Observation
from gamelm.agents.lm import example_ids
from gamelm.models.lm import positions_of
from gamelm.trainers.hf_common import (
    TrainerRunConfig,
    check_settings,
    decision_examples,
    distributed,
    gather_trained,
    lora_config,
    pick_device,
    process_device,
    resume_point,
    run_trainer,
    save_final,
    trainer_arguments,
)
from gamelm.trainers.sft import load_split

KIND = "reward-model"


@dataclass
class RewardModelConfig(TrainerRunConfig):
    """Settings of `train` (the CLI flags of ``gamelm reward-model`` map onto them): those of
    `gamelm.trainers.hf_common.TrainerRunConfig` and `gamelm.trainers.hf_common.HFRunConfig`
    (``model`` is the policy the reward model starts from, ``data`` holds ``pairs.jsonl`` and
    ``pairs.val.jsonl``, ``batch_size`` counts pairs, ``val_size`` held-out pairs; ``max_steps``
    0 means ``num_epochs`` passes), and:

    Args:
        center_rewards: weight of the penalty that keeps rewards centred on zero.
    """

    what: ClassVar[str] = "reward-model"

    center_rewards: float = 0.01

    def __post_init__(self) -> None:
        check_settings(self, ("batch_size", "grad_accum", "save_steps", "val_size"))
        if self.center_rewards < 0:
            raise ValueError(f"center_rewards must be >= 0, got {self.center_rewards}")


def classifier_from(lm: torch.nn.Module, pad_token_id: int) -> torch.nn.Module:
    """A one-output sequence classifier with the body of causal LM ``lm`` (new scoring head)."""
    from transformers import AutoModelForSequenceClassification

    config = lm.config.__class__.from_dict(lm.config.to_dict())
    config.num_labels = 1
    config.pad_token_id = pad_token_id
    model = AutoModelForSequenceClassification.from_config(config)
    state = {k: v for k, v in lm.state_dict().items() if not k.startswith("lm_head.")}
    missing, _ = model.load_state_dict(state, strict=False)
    body = [k for k in missing if not k.startswith("score.")]
    if body:
        raise ValueError(f"the classifier does not take the model's weights: {body[:3]}")
    return model.to(dtype=next(lm.parameters()).dtype)


class RewardModel:
    """A trained reward model: scores (decision, move) pairs."""

    def __init__(self, model: torch.nn.Module, view: Any, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.view = view
        self.device = device

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> RewardModel:
        """A reward model written by `train`."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from gamelm.models.causal_lm import PromptView
        from gamelm.models.lm import TokenView

        hf_logging.disable_progress_bar()
        root = Path(path).expanduser()
        meta_path = root / "gamelm.json"
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("kind") != KIND:
                raise ValueError
        except (OSError, ValueError, AttributeError):
            raise ValueError(f"{root} is not a gamelm reward model (gamelm reward-model)") from None
        try:
            model = AutoModelForSequenceClassification.from_pretrained(root)
            if meta["view"] == "tokens":
                view = TokenView(tuple(meta["fractions"]), int(meta["strength_trials"]))
            else:
                tokenizer = AutoTokenizer.from_pretrained(root)
                view = PromptView(tokenizer, meta.get("use_chat"), style=meta.get("prompt", "full"))
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"cannot load the reward model {root}: {exc}") from None
        return cls(model, view, device)

    def write(self, directory: Path) -> None:
        self.model.save_pretrained(directory, safe_serialization=True)
        self.view.tokenizer.save_pretrained(directory)
        meta = {"kind": KIND, **self.view.meta(), "format": 1}
        (directory / "gamelm.json").write_text(json.dumps(meta, indent=2))

    def scores_of_ids(self, ids: list[list[int]], batch: int = 64) -> np.ndarray:
        """Rewards of complete token sequences (the prompt and the move's token)."""
        out = []
        for s in range(0, len(ids), batch):
            tokens, mask = self.view.pad(ids[s : s + batch], self.device)
            with torch.inference_mode():
                logits = self.model(
                    input_ids=tokens,
                    attention_mask=mask.long(),
                    position_ids=positions_of(mask),
                ).logits
            out.append(logits[:, 0].float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def score(self, obs: Observation, actions: IntArray, equity=None) -> np.ndarray:
        """``(m,)`` rewards of playing menu entries ``actions`` at the decisions of ``obs``."""
        ids, choices = example_ids(self.view, obs, equity)
        rows = np.arange(obs.size)
        return self.scores_of_ids([[*x, int(c)] for x, c in zip(ids, choices[rows, actions])])


def _pairs(view: Any, records: list[dict], path: str) -> tuple[list, list]:
    prompts, chosen = decision_examples(view, records, "chosen", path)
    _, rejected = decision_examples(view, records, "rejected", path)
    return [[*p, c] for p, c in zip(prompts, chosen)], [[*p, r] for p, r in zip(prompts, rejected)]


def pair_accuracy(rm: RewardModel, records: list[dict], path: str = "pairs") -> float:
    """Share of pairs whose chosen move gets the higher reward (ties count half)."""
    chosen, rejected = _pairs(rm.view, records, path)
    rc, rr = rm.scores_of_ids(chosen), rm.scores_of_ids(rejected)
    return float(((rc > rr) + 0.5 * (rc == rr)).mean())


def train(cfg: RewardModelConfig, progress: bool = True, logs: bool = True) -> dict[str, Any]:
    """Train a reward model on ``cfg.data``'s pairs and write it to ``cfg.out``."""
    from datasets import Dataset
    from transformers.utils import logging as hf_logging
    from trl import RewardConfig, RewardTrainer

    from gamelm.models.lm import load_policy

    hf_logging.set_verbosity_error()
    device = process_device(pick_device(cfg.device))
    world, rank, _ = distributed()  # under accelerate launch: score and save on rank 0 only
    train_records, val_records = load_split(cfg.data, "pairs", ("prompt", "chosen", "rejected"))
    out = Path(cfg.out)
    checkpoints = out / "checkpoints"
    resume_from = resume_point(cfg.resume, checkpoints)
    policy = load_policy(cfg.model, dtype=cfg.dtype, prompt_style=cfg.prompt_style)
    view = policy.view
    tokenizer = view.tokenizer
    torch.manual_seed(cfg.seed)
    classifier = classifier_from(policy.lm, tokenizer.pad_token_id)
    del policy
    rm = RewardModel(classifier, view, device)
    root = Path(cfg.data)
    val = val_records[: cfg.val_size]
    val_path = str(root / "pairs.val.jsonl")
    before = pair_accuracy(rm, val, val_path) if val and rank == 0 else float("nan")
    chosen, rejected = _pairs(view, train_records, str(root / "pairs.jsonl"))
    dataset = Dataset.from_dict({"chosen_ids": chosen, "rejected_ids": rejected})
    args = RewardConfig(
        **trainer_arguments(cfg, checkpoints, device, progress),
        warmup_steps=0.05,
        center_rewards_coefficient=cfg.center_rewards or None,
        max_length=None,
    )
    peft = lora_config(
        cfg.lora_rank, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules, "SEQ_CLS"
    )
    classifier.train()
    trainer = RewardTrainer(
        model=classifier,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft if cfg.lora_rank else None,
    )
    stats, seconds = run_trainer(trainer, resume_from, logs)
    if world > 1:

        def reload(directory: Path):
            from transformers import AutoModelForSequenceClassification

            if not cfg.lora_rank:
                return AutoModelForSequenceClassification.from_pretrained(directory)
            from peft import PeftModel

            start = load_policy(cfg.model, dtype=cfg.dtype, prompt_style=cfg.prompt_style)
            base = classifier_from(start.lm, tokenizer.pad_token_id)
            return PeftModel.from_pretrained(base, directory).merge_and_unload()

        model = gather_trained(trainer, out.parent / f".{out.name}.gathered", reload)
        if model is None:  # not the main process
            return {}
    else:
        model = trainer.model
        if cfg.lora_rank:
            model = model.merge_and_unload()
    rm = RewardModel(model, view, device)
    after = pair_accuracy(rm, val, val_path) if val else float("nan")
    save_final(rm, out)
    result = {
        "val_pair_accuracy": after,
        "val_pair_accuracy_before": before,
        "val_pairs": len(val),
        "train_pairs": len(train_records),
        "steps": int(trainer.state.global_step),
        "train_loss": float(stats.training_loss),
        "seconds": round(seconds, 1),
        "out": str(out),
    }
    (out / "reward_model_result.json").write_text(
        json.dumps({"config": asdict(cfg), "result": result}, indent=2, default=str)
    )
    return result
