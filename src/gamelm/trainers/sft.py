"""Supervised fine-tuning on expert decisions (`gamelm sft`), with TRL's `SFTTrainer`.

The model is any transformers causal LM (read through `gamelm.models.causal_lm.CausalLMPolicy`)
or the small poker LM (`gamelm.models.lm.PokerLM`). Every SFT record of `gamelm datagen` becomes
one example: the prompt exactly as the policy reads it when it plays (the chat-templated text for
an LLM, the token view for the poker LM), then the action token of the expert's move (for an LLM,
followed by the record's rationale and the end-of-sequence token when there is one). The loss is
on the completion only. The examples are tokenized here and handed to TRL pre-tokenized
(``input_ids`` and ``completion_mask``), so training and play read the same ids.

Full fine-tuning or LoRA (PEFT; ``lora_rank`` > 0, ``target_modules``), gradient checkpointing,
bf16, resume from the run's last checkpoint. The result is written to ``out`` as a plain
transformers directory (the LoRA weights merged), loadable by ``from_pretrained`` and as the agent
``ckpt:OUT``; with LoRA the adapter itself is kept in ``out/adapter`` (``gamelm merge-lora``
merges it into the base model again). Reported: agreement of the greedy policy with the expert
on the validation records, before and after training, next to a uniform choice's.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from gamelm.rollouts.datasets import DataError, agreement, check_records, read_jsonl
from gamelm.trainers.hf_common import (
    TrainerRunConfig,
    check_settings,
    decision_examples,
    distributed,
    gather_trained,
    lora_config,
    pick_device,
    probabilities_of,
    process_device,
    resume_point,
    run_trainer,
    save_adapter,
    save_final,
    trainer_arguments,
    with_lora,
)


@dataclass
class SFTConfig(TrainerRunConfig):
    """Settings of `train` (the CLI flags of ``gamelm sft`` map onto them): those of
    `gamelm.trainers.hf_common.TrainerRunConfig` and `gamelm.trainers.hf_common.HFRunConfig`
    (``data`` holds ``sft.jsonl`` and ``sft.val.jsonl``; ``max_steps`` 0 means ``num_epochs``
    passes), and:

    Args:
        warmup_ratio: share of the steps spent warming up (then a linear decay).
        max_length: longest example in tokens (longer ones are cut from the start).
        engine: ``trl`` (TRL's `SFTTrainer`: checkpoints, resume, several GPUs, rationales) or
            ``fast`` (`gamelm.trainers.sft_fast`: the action token's loss at the last position
            only, the frozen lower layers computed once; several times faster on a CPU).
        lora_layers: train only the top N decoder layers (0: all of them); the backward pass
            stops at the lowest trained layer, and the fast engine computes the layers below
            once.
        threads: CPU threads torch uses (0: its default, one per core; 1 when several runs
            share a machine).
        soft_targets: with the fast engine, learn the expert's frequencies of the legal moves
            (the records' ``probs``, which `gamelm datagen` writes for an expert with a policy,
            such as the blueprint) instead of the one move it sampled: far more signal per
            example from an expert that mixes.
    """

    what: ClassVar[str] = "SFT"

    warmup_ratio: float = 0.05
    max_length: int = 1024
    engine: str = "trl"
    lora_layers: int = 0
    threads: int = 0
    soft_targets: bool = False

    def __post_init__(self) -> None:
        check_settings(self, ("batch_size", "grad_accum", "save_steps", "max_length", "val_size"))
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be trl or fast, got {self.engine!r}")
        if self.lora_layers < 0:
            raise ValueError(f"lora_layers must be >= 0 (0: every layer), got {self.lora_layers}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0: one per core), got {self.threads}")
        if self.soft_targets and self.engine != "fast":
            raise ValueError("soft targets are trained by the fast engine; add --engine fast")
        if self.engine == "fast" and self.resume:
            raise ValueError("the fast engine does not resume; use engine trl for --resume")


ENGINES = ("trl", "fast")


SFTRunConfig = SFTConfig  # its name before 0.2


def load_split(data: str | Path, name: str, required: tuple[str, ...]) -> tuple[list, list]:
    """The training and validation records of ``name`` (``sft`` or ``pairs``) in ``data``."""
    root = Path(data)
    if not root.is_dir():
        raise DataError(f"{root} is not a data directory (make one with gamelm datagen)")
    moves = ("response",) if name == "sft" else ("chosen", "rejected")
    train = read_jsonl(root / f"{name}.jsonl", required)
    check_records(train, root / f"{name}.jsonl", moves)
    val_path = root / f"{name}.val.jsonl"
    val = read_jsonl(val_path, required) if val_path.is_file() else []
    check_records(val, val_path, moves)
    return train, val


def _dataset(policy: Any, records: list[dict], path: str, max_length: int):
    """Pre-tokenized examples: prompt ids, then the action token (and for an LLM the record's
    rationale and end-of-sequence), with the completion mask."""
    from datasets import Dataset

    prompts, targets = decision_examples(policy, records, "response", path)
    tok = getattr(policy, "tokenizer", None)
    llm = hasattr(policy, "render")
    input_ids, masks = [], []
    for rec, ids, target in zip(records, prompts, targets):
        tail = [target]
        if llm:
            rest = rec["response"].split(maxsplit=1)[1:] if rec["response"].strip() else []
            if rest:
                tail += tok("\n" + rest[0], add_special_tokens=False)["input_ids"]
            if tok.eos_token_id is not None:
                tail.append(tok.eos_token_id)
        full = (ids + tail)[-max_length:]
        input_ids.append(full)
        masks.append([0] * (len(full) - len(tail)) + [1] * len(tail))
    return Dataset.from_dict({"input_ids": input_ids, "completion_mask": masks})


def _reload(cfg: SFTConfig, directory: Path, adapter_to: Path):
    """The model `gather_trained` wrote: a full model, or a LoRA adapter merged into a fresh
    copy of the starting model (the adapter is kept beside ``adapter_to``)."""
    import shutil

    from transformers import AutoModelForCausalLM

    from gamelm.models.lm import load_policy

    if not cfg.lora_rank:
        return AutoModelForCausalLM.from_pretrained(directory)
    from peft import PeftModel

    base = load_policy(cfg.model, dtype=cfg.dtype, prompt_style=cfg.prompt_style)
    keep = adapter_to.parent / f".{adapter_to.name}.adapter"
    shutil.copytree(directory, keep, dirs_exist_ok=True)
    base.view.tokenizer.save_pretrained(keep)
    return PeftModel.from_pretrained(base.lm, directory).merge_and_unload()


def train(cfg: SFTConfig, progress: bool = True, logs: bool = True) -> dict[str, Any]:
    """Fine-tune ``cfg.model`` on ``cfg.data`` and write the model to ``cfg.out``."""
    import torch
    from transformers.utils import logging as hf_logging

    from gamelm.models.lm import load_policy

    hf_logging.set_verbosity_error()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = process_device(pick_device(cfg.device))
    world, rank, _ = distributed()  # under accelerate launch: score and save on rank 0 only
    if cfg.engine == "fast" and world > 1:
        raise ValueError("the fast engine runs in one process; use engine trl under accelerate")
    train_records, val_records = load_split(cfg.data, "sft", ("prompt", "response"))
    out = Path(cfg.out)
    checkpoints = out / "checkpoints"
    resume_from = resume_point(cfg.resume, checkpoints)
    policy = load_policy(cfg.model, dtype=cfg.dtype, prompt_style=cfg.prompt_style).to(device)
    layers = _trained_layers(policy, cfg.lora_layers)
    val = val_records[: cfg.val_size]
    val_scored = [r for r in val if "state" in r]
    score = probabilities_of(policy, device)
    nothing = (float("nan"), float("nan"))
    before = agreement(score, val_scored) if val_scored and rank == 0 else nothing
    root = Path(cfg.data)
    if cfg.engine == "fast":
        data = str(root / "sft.jsonl")
        lm, stats = _train_fast(cfg, policy, train_records, data, layers, progress)
        eval_loss = float("nan")
    else:
        lm, stats, eval_loss = _train_trl(
            cfg, policy, (train_records, val), layers, (device, resume_from, progress, logs)
        )
        if lm is None:  # not the main process
            return {}
    adapter = None
    if hasattr(lm, "merge_and_unload"):  # keep the adapter too (small): merge-lora rebuilds it
        adapter = out.parent / f".{out.name}.adapter"
        save_adapter(lm, policy.tokenizer, adapter, base=cfg.model)
        lm = lm.merge_and_unload()
    elif stats.get("adapter"):  # written by the processes of a multi-GPU run
        adapter = stats["adapter"]
    policy.lm = lm.to(device)
    policy.eval()
    after = agreement(score, val_scored) if val_scored else nothing
    torch.manual_seed(cfg.seed)
    save_final(policy, out)
    if adapter is not None:
        os.replace(adapter, out / "adapter")
    result = {
        "val_agreement_before": before[0],
        "val_agreement_after": after[0],
        "val_chance": before[1],
        "val_records": len(val_scored),
        "train_records": len(train_records),
        "steps": int(stats["steps"]),
        "train_loss": float(stats["train_loss"]),
        "eval_loss": float(eval_loss),
        "seconds": round(stats["seconds"], 1),
        "out": str(out),
    }
    if cfg.engine == "fast":
        result["examples_per_second"] = stats["examples_per_second"]
    (out / "sft_result.json").write_text(
        json.dumps({"config": asdict(cfg), "result": result}, indent=2, default=str)
    )
    return result


def _trained_layers(policy: Any, top: int) -> list[int] | None:
    """The indices of the decoder layers trained (None: all of them)."""
    if not top:
        return None
    if not hasattr(policy, "render"):
        raise ValueError("lora_layers applies to transformers LLMs, not to the small poker LM")
    count = policy.lm.config.get_text_config().num_hidden_layers
    if top > count:
        raise ValueError(f"lora_layers is {top}, but the model has {count} decoder layers")
    return list(range(count - top, count))


def _freeze_below(lm: Any, layers: list[int] | None) -> None:
    """Full fine-tuning of the top layers only: the embeddings (and a tied output layer) and
    every lower layer stop taking gradients."""
    if layers is None:
        return
    lm.get_input_embeddings().weight.requires_grad_(False)
    for index, layer in enumerate(lm.model.layers):
        if index < layers[0]:
            layer.requires_grad_(False)


def _train_fast(
    cfg: SFTConfig,
    policy: Any,
    records: list[dict],
    path: str,
    layers: list[int] | None,
    progress: bool,
) -> tuple[Any, dict[str, Any]]:
    """The fast engine (`gamelm.trainers.sft_fast`): the model trained and its statistics."""
    from gamelm.trainers.sft_fast import check_fast_model, menu_examples, train_fast

    if not hasattr(policy, "render"):
        raise ValueError("the fast engine trains transformers LLMs; the poker LM uses engine trl")
    check_fast_model(policy.lm)
    prompts, menus, targets = menu_examples(policy, records, path, cfg.soft_targets)
    prompts = [p[-cfg.max_length :] for p in prompts]
    # trainable action-token embeddings would change what the cached lower layers read
    owner = policy if layers is None else None
    lm = policy.lm
    if cfg.lora_rank:
        peft = lora_config(
            cfg.lora_rank, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules, "CAUSAL_LM",
            owner, layers,
        )  # fmt: skip
        lm = with_lora(lm, peft)
    else:
        _freeze_below(lm, layers)
    stats = train_fast(cfg, lm, (prompts, menus, targets), progress)
    stats["seconds"] = stats["cache_seconds"] + stats["train_seconds"]
    return lm, stats


def _train_trl(
    cfg: SFTConfig,
    policy: Any,
    records: tuple[list[dict], list[dict]],
    layers: list[int] | None,
    run: tuple[str, Path | None, bool, bool],
) -> tuple[Any, dict[str, Any], float]:
    """TRL's `SFTTrainer`: the model trained (None outside the main process of a multi-GPU
    run), its statistics and the validation loss."""
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    device, resume_from, progress, logs = run
    train_records, val = records
    world, _, _ = distributed()
    out, root = Path(cfg.out), Path(cfg.data)
    train_ds = _dataset(policy, train_records, str(root / "sft.jsonl"), cfg.max_length)
    val_ds = _dataset(policy, val, str(root / "sft.val.jsonl"), cfg.max_length) if val else None
    args = TRLSFTConfig(
        **trainer_arguments(cfg, out / "checkpoints", device, progress),
        per_device_eval_batch_size=cfg.batch_size,
        warmup_steps=cfg.warmup_ratio,
        max_length=cfg.max_length,
        completion_only_loss=True,
        eval_strategy="no",
    )
    peft = lora_config(
        cfg.lora_rank, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules, "CAUSAL_LM", policy,
        layers,
    )  # fmt: skip
    if not cfg.lora_rank:
        _freeze_below(policy.lm, layers)
    policy.train()
    trainer = SFTTrainer(
        model=policy.lm,
        args=args,
        train_dataset=train_ds,
        processing_class=policy.tokenizer,
        peft_config=peft if cfg.lora_rank else None,
    )
    result, seconds = run_trainer(trainer, resume_from, logs)
    eval_loss = trainer.evaluate(val_ds)["eval_loss"] if val_ds is not None else float("nan")
    stats: dict[str, Any] = {
        "steps": trainer.state.global_step,
        "train_loss": result.training_loss,
        "seconds": seconds,
    }
    if world == 1:
        return trainer.model, stats, eval_loss
    lm = gather_trained(
        trainer, out.parent / f".{out.name}.gathered", lambda d: _reload(cfg, d, adapter_to=out)
    )
    if cfg.lora_rank:
        stats["adapter"] = out.parent / f".{out.name}.adapter"
    return lm, stats, eval_loss
