"""Pieces the transformers-based trainers share (SFT, reward model, RL): LoRA settings, the
examples of expert records for either policy, agreement with the expert, and saving a final
model next to the run's checkpoints."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch

from gamelm.agents.lm import LMAgent, example_ids, model_inputs
from gamelm.agents.observation import legal_actions, prompt
from gamelm.files import atomic_directory
from gamelm.models.causal_lm import PROMPT_STYLES, listed_actions
from gamelm.models.pretrained import resolve_model
from gamelm.rollouts.datasets import (
    DataError,
    action_index,
    grouped,
    observations,
    record_action,
)
from gamelm.settings import check_finite, config_from_dict

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")  # attention projections
# every linear layer of a Llama-style decoder layer (all-linear, when only some layers are trained)
LAYER_LINEARS = (*DEFAULT_TARGETS, "gate_proj", "up_proj", "down_proj")


@dataclass
class HFRunConfig:
    """The settings every trainer of a transformers model on a `gamelm datagen` directory
    shares (SFT, reward model, GRPO); each trainer's config adds its own.

    Args:
        model: the starting model: a directory (a gamelm poker LM, a fine-tuned LLM, any
            transformers causal LM) or a hub name.
        data: a `gamelm datagen` directory.
        out: where the trained model is written (checkpoints in ``out/checkpoints``).
        max_steps: optimizer steps.
        batch_size: examples per device per step.
        learning_rate: peak AdamW step size.
        lora_rank: LoRA rank (0: full fine-tuning).
        lora_alpha: LoRA scale (None: twice the rank).
        lora_dropout: dropout on the LoRA inputs.
        target_modules: modules LoRA adapts (``("all-linear",)``: every linear layer).
        bf16: bfloat16 mixed precision (GPUs that support it).
        val_size: validation records scored (the first ones).
        seed: seed of the shuffling and initialisation.
        device: ``auto``, ``cpu`` or ``cuda``.
        dtype: weights' dtype when loading a transformers LLM (``float32`` keeps full-precision
            master weights; ``bf16`` then trains in mixed precision).
        prompt_style: the prompt a transformers LLM reads, ``full``, ``compact`` (about half
            the tokens, so about twice as fast; `gamelm.agents.observation.compact_prompt`) or
            ``equity`` (the compact prompt and a line with the hand's equity and the pot odds,
            `gamelm.agents.observation.equity_line`); None: the starting model's own (``full``
            for a model gamelm has not trained). The trained model keeps it.
    """

    what: ClassVar[str] = "trainer"  # how errors name these settings

    model: str
    data: str
    out: str
    max_steps: int = 200
    batch_size: int = 16
    learning_rate: float = 1e-4
    lora_rank: int = 0
    lora_alpha: int | None = None
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    bf16: bool = False
    val_size: int = 2000
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    prompt_style: str | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """Settings by name, each checked against its field's type (one sentence if not)."""
        return config_from_dict(cls, values, cls.what)


@dataclass
class TrainerRunConfig(HFRunConfig):
    """The settings of the trainers that run transformers' `Trainer` over the data (SFT and
    the reward model; GRPO samples instead), besides those of `HFRunConfig`.

    Args:
        num_epochs: passes over the data when ``max_steps`` is 0.
        grad_accum: steps of gradients summed per optimizer step.
        gradient_checkpointing: recompute activations in the backward pass (less memory).
        save_steps: steps between checkpoints (the last two are kept).
        resume: continue from the newest checkpoint in ``out/checkpoints``.
    """

    num_epochs: float = 1.0
    grad_accum: int = 1
    gradient_checkpointing: bool = False
    save_steps: int = 100
    resume: bool = False


def check_lora(rank: int, targets: tuple[str, ...]) -> None:
    if rank < 0:
        raise ValueError(f"lora_rank must be >= 0 (0: full fine-tuning), got {rank}")
    if rank and not targets:
        raise ValueError("LoRA needs target modules, e.g. q_proj,v_proj or all-linear")


def lora_config(
    rank: int,
    alpha: int | None,
    dropout: float,
    targets: tuple[str, ...],
    task: str,
    policy: Any = None,
    layers: list[int] | None = None,
):
    """A PEFT `LoraConfig` (``targets`` ``("all-linear",)`` adapts every linear layer; ``layers``:
    only the decoder layers of these indices, None: all); the action tokens of a ``policy``
    that has them are trained too (`gamelm.models.causal_lm.CausalLMPolicy.trainable_tokens`)."""
    from peft import LoraConfig

    modules: Any = "all-linear" if tuple(targets) == ("all-linear",) else list(targets)
    if modules == "all-linear" and layers is not None:  # PEFT wants the names listed then
        modules = list(LAYER_LINEARS)
    tokens = policy.trainable_tokens() if hasattr(policy, "trainable_tokens") else None
    return LoraConfig(
        r=rank,
        lora_alpha=alpha if alpha is not None else 2 * rank,
        lora_dropout=dropout,
        target_modules=modules,
        task_type=task,
        trainable_token_indices=tokens,
        layers_to_transform=layers,
    )


def pick_device(device: str) -> str:
    """``auto``: CUDA when there is a GPU, else the CPU; ``cpu``, ``cuda``, ``cuda:N`` or ``mps``
    otherwise (one sentence for anything else)."""
    check_device(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: no CUDA device is available")
    return device


def check_device(device: str) -> None:
    """ValueError unless ``device`` names a device gamelm trains on."""
    base, _, index = str(device).partition(":")
    if base not in ("auto", "cpu", "cuda", "mps") or (
        index and not (base == "cuda" and index.isdigit())
    ):
        raise ValueError(f"device must be auto, cpu, cuda, cuda:N or mps, got {device!r}")


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest ``checkpoint-N`` folder of a transformers `Trainer` run, if any."""
    found = [p for p in directory.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def decision_examples(
    policy: Any, records: list[dict[str, Any]], key: str = "response", path: str = "data"
) -> tuple[list[list[int]], list[int]]:
    """Per record, the prompt's token ids as ``policy`` reads them and the token id of the move
    ``record[key]`` names. Records with a ``state`` are rebuilt into observations (so the small
    poker LM reads its own token view); records without one are plain prompts, read by a
    transformers LLM through its chat template."""
    prompts: list[list[int] | None] = [None] * len(records)
    targets = [0] * len(records)
    with_state = [i for i, r in enumerate(records) if "state" in r]
    without = [i for i, r in enumerate(records) if "state" not in r]
    if without and not hasattr(policy, "render"):
        line = records[without[0]].get("_line", without[0] + 1)
        raise DataError(
            f"{path}:{line}: the record has no 'state'; the poker LM reads the game state, "
            "not the prompt text (make the data with gamelm datagen)"
        )
    for i in without:
        try:
            k = action_index(records[i][key])
        except (ValueError, AttributeError):
            line = records[i].get("_line", i + 1)
            raise DataError(f"{path}:{line}: {key!r} must start with an action token") from None
        prompts[i] = policy.text_ids(policy.render(records[i]["prompt"]))
        targets[i] = policy.action_ids[k]
    states = [records[i]["state"] for i in with_state]
    actions = np.zeros(len(with_state), np.int64)
    for j, i in enumerate(with_state):
        try:
            actions[j] = record_action(records[i], key)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            line = records[i].get("_line", i + 1)
            raise DataError(f"{path}:{line}: the record does not match its state: {exc}") from None
    equity = np.array([records[i].get("equity", np.nan) for i in with_state])
    for rows, obs in grouped(states):
        ids, choices = example_ids(getattr(policy, "view", policy), obs, equity[rows])
        for j, r in enumerate(rows):
            prompts[with_state[r]] = ids[j]
            targets[with_state[r]] = int(choices[j, actions[r]])
    return [p for p in prompts if p is not None], targets


def probabilities_of(policy: Any, device: str) -> Callable[..., np.ndarray]:
    """``(obs, equity) -> (m, A)`` greedy-ready probabilities of ``policy``, for
    `gamelm.rollouts.datasets.agreement`."""

    def probs(obs, equity):
        if hasattr(policy, "decide"):  # an LLM: shared prefixes read once, rows by length
            ids, choices = example_ids(policy.view, obs)
            logp = policy.decide(ids, torch.as_tensor(choices), torch.as_tensor(obs.legal))
            return logp.float().exp().cpu().numpy()
        with torch.inference_mode():
            logp, _ = policy(*model_inputs(policy, obs, device, equity=equity))
        return logp.float().exp().cpu().numpy()

    return probs


def save_final(policy: Any, out: Path, keep: tuple[str, ...] = ("checkpoints", "logs")) -> None:
    """Write ``policy`` to ``out`` atomically, keeping the run's ``keep`` folders inside it."""

    with atomic_directory(out) as tmp:
        policy.write(tmp)
        for name in keep:
            if (out / name).exists():
                os.replace(out / name, tmp / name)


def save_adapter(peft_model: Any, tokenizer: Any, directory: Path, base: str | None = None) -> None:
    """A LoRA adapter with the tokenizer it was trained with (the base's vocabulary may have
    grown by the action tokens), mergeable later by `merge_adapter`. ``base``: the name the
    base model was given by (``smollm2-135m-instruct``, ``gguf:PATH``), recorded instead of the
    cache folder it was loaded from, so the adapter still merges once the cache is cleared."""
    import json

    peft_model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    config = Path(directory) / "adapter_config.json"
    if base is not None and resolve_model(base) != base and config.is_file():
        values = json.loads(config.read_text())
        values["base_model_name_or_path"] = base
        config.write_text(json.dumps(values, indent=2))


def merge_adapter(adapter: str | Path, out: str | Path, base: str | None = None) -> Path:
    """Merge a PEFT LoRA adapter into its base model (``base`` or the one the adapter names)
    and write a plain transformers directory, with the gamelm files (value head, kind) of the
    run the adapter sits in (``OUT/adapter`` of `gamelm sft`), else of the base."""
    import json
    import shutil

    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    root = Path(adapter)
    config_path = root / "adapter_config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{root} is not a LoRA adapter (no adapter_config.json)")
    base_name = base or json.loads(config_path.read_text()).get("base_model_name_or_path")
    if not base_name:
        raise ValueError(f"{config_path} names no base model; pass --base")
    base_name = resolve_model(base_name)  # gguf:PATH, smollm2-135m-instruct
    try:
        model = AutoModelForCausalLM.from_pretrained(base_name)
        tokenizer = AutoTokenizer.from_pretrained(root)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load the base model {base_name!r}: {exc}") from None
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    merged = PeftModel.from_pretrained(model, root).merge_and_unload()
    with atomic_directory(out) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        for name in ("gamelm.json", "value_head.safetensors"):  # the trained run's, else the base's
            for source in (root.parent, Path(base_name)):
                if (source / name).is_file():
                    shutil.copy(source / name, tmp / name)
                    break
    return Path(out)


def distributed() -> tuple[int, int, int]:
    """``(world size, rank, local rank)`` of this process under ``accelerate launch``
    (``(1, 0, 0)`` otherwise)."""
    env = os.environ
    return (
        int(env.get("WORLD_SIZE", "1")),
        int(env.get("RANK", "0")),
        int(env.get("LOCAL_RANK", "0")),
    )


def process_device(device: str) -> str:
    """The device of this process: its own GPU when several processes share the machine."""
    world, _, local = distributed()
    return f"cuda:{local}" if device == "cuda" and world > 1 else device


def gather_trained(trainer: Any, directory: Path, load: Callable[[Path], Any]) -> Any:
    """The trained model of a multi-process run: every process takes part in
    ``trainer.save_model`` (which gathers ZeRO-3 shards and writes from the main process only),
    then the main process loads it back with ``load(directory)``; the others get None."""
    import shutil

    trainer.save_model(str(directory))
    trainer.accelerator.wait_for_everyone()
    if not trainer.accelerator.is_main_process:
        return None
    try:
        return load(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def check_settings(cfg: Any, at_least_one: tuple[str, ...]) -> None:
    """The checks the trainer configs share: ``at_least_one`` fields >= 1, a positive
    learning rate, steps or epochs (SFT and reward model: ``max_steps`` 0 means ``num_epochs``
    passes), LoRA, the dtype; ``target_modules`` made a tuple. Each failure is one sentence
    naming the setting."""
    cfg.target_modules = tuple(cfg.target_modules)
    check_finite(cfg)
    for name in at_least_one:
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(cfg, name)}")
    if not cfg.learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {cfg.learning_rate}")
    if (
        hasattr(cfg, "num_epochs")
        and hasattr(cfg, "max_steps")
        and isinstance(cfg.num_epochs, float)
    ):
        if cfg.max_steps < 0:
            raise ValueError(f"max_steps must be >= 0, got {cfg.max_steps}")
        if cfg.max_steps == 0 and cfg.num_epochs <= 0:
            raise ValueError("give max_steps > 0 or num_epochs > 0")
    check_device(cfg.device)
    if cfg.dtype not in ("float32", "bfloat16", "float16"):
        raise ValueError(f"dtype must be float32, bfloat16 or float16, got {cfg.dtype!r}")
    check_lora(cfg.lora_rank, cfg.target_modules)
    check_prompt_style(cfg.prompt_style)


def check_prompt_style(style: str | None) -> None:
    if style not in (None, *PROMPT_STYLES):
        raise ValueError(f"prompt_style must be {', '.join(PROMPT_STYLES)}, got {style!r}")


def resume_point(resume: bool, checkpoints: Path) -> Path | None:
    """The checkpoint ``--resume`` continues from (None without ``--resume``)."""
    if not resume:
        return None
    found = latest_checkpoint(checkpoints)
    if found is None:
        raise ValueError(f"--resume: no checkpoint in {checkpoints}")
    return found


def with_lora(lm: Any, peft_config: Any) -> Any:
    """``lm`` wrapped by PEFT with ``peft_config``, without the deprecation notice PEFT triggers
    in transformers (``is_gradient_checkpointing``), which tells a user nothing."""
    import warnings

    from peft import get_peft_model

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*gradient_checkpointing", FutureWarning)
        return get_peft_model(lm, peft_config)


def trainer_arguments(cfg: Any, checkpoints: Path, device: str, progress: bool) -> dict[str, Any]:
    """The transformers `TrainingArguments` the SFT and reward-model runs share (linear decay
    after a warm-up, the last two checkpoints kept, TensorBoard logs)."""
    import warnings

    warnings.filterwarnings("ignore", message=".*gradient_checkpointing", category=FutureWarning)
    return {
        "output_dir": str(checkpoints),
        "max_steps": cfg.max_steps if cfg.max_steps else -1,
        "num_train_epochs": cfg.num_epochs,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "learning_rate": cfg.learning_rate,
        "lr_scheduler_type": "linear",
        "gradient_checkpointing": cfg.gradient_checkpointing,
        "bf16": cfg.bf16,
        "save_steps": cfg.save_steps,
        "save_total_limit": 2,
        "logging_steps": max(1, min(50, (cfg.max_steps or 500) // 20)),
        "report_to": ["tensorboard"],
        "seed": cfg.seed,
        "use_cpu": device == "cpu",
        "disable_tqdm": not progress,
    }


def run_trainer(trainer: Any, resume_from: Path | None, logs: bool) -> tuple[Any, float]:
    """``trainer.train()`` (from ``resume_from`` when given, without the printed log dicts
    unless ``logs``): its output and the seconds it took."""
    import time

    if not logs:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    stats = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    return stats, time.perf_counter() - start


def answer_question(policy: Any, item: Any, max_length: int, temperature: float) -> dict[str, Any]:
    """One question or decision put to a model (``gamelm ask``): a record with a ``state`` gets
    the model's action and the probability of every legal action; a prompt that lists the
    actions (``- A0: ...``, or ``A0 ...`` in the compact prompt) too (a transformers LLM); any
    other text, the LLM's free answer.
    With the record's expert ``response``, whether the model agrees (``correct``)."""
    record = item if isinstance(item, dict) else {"prompt": str(item)}
    text = record.get("prompt", "")
    out: dict[str, Any] = {"input": text, "answer": None, "action": None, "probabilities": None}
    expected = record.get("response")
    if "state" in record:
        obs = observations([record["state"]])
        p = LMAgent(policy).probabilities(obs, np.random.default_rng(0))[0]
        entries = legal_actions(obs)[0]
        probs = {f"A{k}": round(float(p[e]), 4) for k, e in enumerate(entries)}
        out["input"] = text or prompt(obs, 0)
    elif hasattr(policy, "prompt_probabilities") and listed_actions(text):
        probs = {k: round(v, 4) for k, v in policy.prompt_probabilities(text).items()}
    elif hasattr(policy, "generate_text"):
        out["answer"] = policy.generate_text(text, max_length, temperature)
        return out
    else:
        raise ValueError("the poker LM answers game states only (records with a 'state')")
    best = max(probs, key=probs.get)
    lines = out["input"].splitlines()
    described = next((x[len(f"- {best}: ") :] for x in lines if x.startswith(f"- {best}:")), "")
    out.update(action=best, probabilities=probs, answer=f"{best} {described}".strip())
    if expected:
        out["expected"] = f"A{action_index(expected)}"
        out["correct"] = out["expected"] == best
    return out


def record_problem(exc: BaseException) -> str:
    """What is wrong with a record, in words (a missing key is named, not shown as a repr)."""
    if isinstance(exc, KeyError):
        return f"the record or its state has no {exc.args[0]!r}"
    return str(exc)


def relaunch_under_accelerate(config: Path, argv: list[str]) -> int | None:
    """Run ``gamelm ARGV`` under ``accelerate launch --config_file CONFIG`` (without its
    ``--accelerate-config``) and return its exit status; None inside the launched processes,
    which see ``GAMELM_ACCELERATE`` and train. FileNotFoundError when ``config`` is missing."""
    import shutil
    import subprocess
    import sys

    if os.environ.get("GAMELM_ACCELERATE"):
        return None
    if not Path(config).is_file():
        raise FileNotFoundError(config)
    launcher = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    rest, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--accelerate-config":
            skip = True
            continue
        if arg.startswith("--accelerate-config="):
            continue
        rest.append(arg)
    env = {**os.environ, "GAMELM_ACCELERATE": "1"}
    cmd = [launcher, "launch", "--config_file", str(config), "-m", "gamelm.cli", *rest]
    return subprocess.call(cmd, env=env)
