"""The ``fast`` engine of `gamelm sft`: supervised fine-tuning of a Llama-architecture LLM that
is practical on a CPU.

TRL's `SFTTrainer` computes the logits of every position over the whole vocabulary and runs the
backward pass through every layer, so on a laptop CPU a 135 M model learns a few examples a
second at best. The answer an SFT example teaches here is one action token, so this loop does
less work:

- the loss is the policy's own: the cross-entropy of the expert's move among the legal moves
  (the softmax over the legal action tokens' logits at the last position, which is how the
  model plays and what agreement measures), where TRL's completion loss spreads over the whole
  vocabulary; only those few logits are computed; with ``soft_targets`` the target is the
  expert's frequency of every legal move instead of the one move it sampled;
- ``lora_layers`` N > 0 trains only the top N decoder layers (LoRA, or all their weights with
  ``lora_rank`` 0); the lower layers are frozen, so their output for an example never changes:
  it is computed once, before the first step, and kept in memory (float16), and every step runs
  the top N layers only, forward and backward;
- the examples are read in batches of similar length, so little padding is read;
- with ``prompt_style`` ``compact`` (or ``equity``) each example is about half as many tokens.

``gamelm bench sft`` measures each of these against plain TRL. The loop applies the same
warm-up and linear decay as the TRL engine. It does not write checkpoints or resume, and a
record's rationale (``datagen --rationale``) is not trained: use the ``trl`` engine for those.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gamelm.agents.lm import example_ids
from gamelm.models.heads import positions_of
from gamelm.models.llama_fast import causal_allowed, final_norm, run_layers
from gamelm.rollouts.datasets import DataError, grouped, record_action

FAST_MODELS = ("llama", "qwen2")  # the decoder layers `run_layers` computes
CACHE_BATCH = 32  # examples per forward pass when caching the frozen layers' output


def check_fast_model(lm: nn.Module) -> None:
    base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
    kind = getattr(base.config, "model_type", None)
    if kind not in FAST_MODELS:
        raise ValueError(
            f"the fast SFT engine runs Llama-architecture models ({', '.join(FAST_MODELS)}); "
            f"this one is {kind!r}: use engine trl"
        )


def batches_by_length(lengths: list[int], size: int, rng: np.random.Generator) -> list[list[int]]:
    """Batches of ``size`` examples of similar length (sorted, then cut), in a random order;
    examples of equal length are shuffled among themselves first."""
    jitter = rng.random(len(lengths))
    order = np.lexsort((jitter, np.asarray(lengths)))
    cuts = [order[i : i + size].tolist() for i in range(0, len(order), size)]
    rng.shuffle(cuts)
    return cuts


def _padded(rows: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded ``(m, T, d)`` float32 stream and the ``(m, T)`` mask of real tokens."""
    width = max(r.shape[0] for r in rows)
    x = torch.zeros(len(rows), width, rows[0].shape[1])
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        x[i, width - r.shape[0] :] = r.float()
        mask[i, width - r.shape[0] :] = True
    return x, mask


def _pad_ids(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    tokens = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        tokens[i, width - len(r) :] = torch.tensor(r)
        mask[i, width - len(r) :] = True
    return tokens, mask


def frozen_stream(
    lm: nn.Module, prompts: list[list[int]], frozen: int, progress: bool
) -> list[torch.Tensor]:
    """Per example, the residual stream ``(T, d)`` after the lower ``frozen`` layers (float16),
    computed once in batches of similar length."""
    from tqdm.auto import tqdm

    base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
    out: list[torch.Tensor] = [torch.empty(0)] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    with (
        torch.inference_mode(),
        tqdm(total=len(prompts), desc="frozen layers", unit="ex", disable=not progress) as bar,
    ):
        for lo in range(0, len(order), CACHE_BATCH):
            rows = order[lo : lo + CACHE_BATCH]
            tokens, mask = _pad_ids([prompts[i] for i in rows])
            x = base.model.embed_tokens(tokens)
            x = run_layers(lm, x, positions_of(mask), causal_allowed(mask), slice(0, frozen))
            for j, i in enumerate(rows):
                out[i] = x[j, mask[j]].to(torch.float16).clone()
            bar.update(len(rows))
    return out


def menu_examples(
    policy: Any, records: list[dict[str, Any]], path: str = "data", soft: bool = False
) -> tuple[list[list[int]], list[list[int]], list[list[float]]]:
    """Per record (each with its ``state``): the prompt ids the policy reads, the token ids of
    the legal moves (in menu order) and the target over them: one-hot on the expert's move, or
    with ``soft`` the expert's frequencies (the record's ``probs``; a record without them keeps
    its one-hot move)."""
    missing = next((r for r in records if "state" not in r), None)
    if missing is not None:
        raise DataError(
            f"{path}:{missing.get('_line', '?')}: the fast engine needs each record's 'state' "
            "(gamelm datagen writes it); use engine trl for plain prompts"
        )
    prompts: list[list[int]] = [[] for _ in records]
    menus: list[list[int]] = [[] for _ in records]
    targets: list[list[float]] = [[] for _ in records]
    if soft and not any("probs" in r for r in records):
        raise DataError(
            f"{path}: no record holds the expert's move frequencies ('probs'); gamelm datagen "
            "writes them for an expert with a policy (blueprint:PATH, ckpt:PATH)"
        )
    for rows, obs in grouped([r["state"] for r in records]):
        ids, choices = example_ids(policy.view, obs)
        for j, r in enumerate(rows):
            try:
                move = record_action(records[r])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                line = records[r].get("_line", r + 1)
                what = f"{path}:{line}: the record does not fit its state"
                raise DataError(f"{what} ({exc})") from None
            legal = np.flatnonzero(obs.legal[j])
            prompts[r] = ids[j]
            menus[r] = choices[j, legal].tolist()
            one_hot = [0.0] * legal.size
            one_hot[int(np.searchsorted(legal, move))] = 1.0
            targets[r] = one_hot
            probs = records[r].get("probs") if soft else None
            if probs is not None:
                q = np.asarray(probs, np.float64)
                if q.shape != (legal.size,) or not np.isfinite(q).all() or (q < 0).any():
                    line = records[r].get("_line", r + 1)
                    raise DataError(
                        f"{path}:{line}: 'probs' must hold one frequency per legal move "
                        f"({legal.size}), got {probs!r}"
                    )
                if q.sum() > 0:
                    targets[r] = (q / q.sum()).tolist()
    return prompts, menus, targets


def train_fast(
    cfg: Any,
    lm: nn.Module,
    examples: tuple[list[list[int]], list[list[int]], list[list[float]]],
    progress: bool,
    log: Callable[[dict[str, float]], None] | None = None,
) -> dict[str, float]:
    """Train ``lm`` (a transformers causal LM, PEFT-wrapped for LoRA) in place on `menu_examples`;
    ``cfg`` is the `gamelm.trainers.sft.SFTConfig`. Returns the mean training loss, the steps,
    the seconds (caching and training) and the examples per second."""
    from tqdm.auto import tqdm

    check_fast_model(lm)
    base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
    layers = len(base.model.layers)
    top = cfg.lora_layers or layers
    frozen = layers - top
    prompts, menus, targets = examples
    rng = np.random.default_rng(cfg.seed)
    steps_per_epoch = math.ceil(len(prompts) / cfg.batch_size)
    total = cfg.max_steps or max(1, math.ceil(cfg.num_epochs * steps_per_epoch))
    if total * cfg.batch_size < len(prompts):  # less than one pass: only these are read
        keep = np.sort(rng.permutation(len(prompts))[: total * cfg.batch_size])
        prompts, menus, targets = ([seq[i] for i in keep] for seq in (prompts, menus, targets))
    start = time.perf_counter()
    stream = frozen_stream(lm, prompts, frozen, progress) if frozen else None
    cached = time.perf_counter() - start
    params = [p for p in lm.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    warmup = int(cfg.warmup_ratio * total) if cfg.warmup_ratio < 1 else int(cfg.warmup_ratio)

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    lengths = [len(p) for p in prompts]
    width = max(len(m) for m in menus)
    menu = torch.tensor([m + [m[0]] * (width - len(m)) for m in menus])  # (n, A) token ids
    listed = torch.tensor([[k < len(m) for k in range(width)] for m in menus])
    target = torch.tensor([t + [0.0] * (width - len(t)) for t in targets])  # (n, A)
    head = base.get_output_embeddings().weight  # (V, d): logits of the menu's rows only
    lm.train()
    losses: list[float] = []
    step = seen = 0
    began = time.perf_counter()
    with tqdm(total=total, desc="fast SFT", unit="step", disable=not progress) as bar:
        while step < total:
            for rows in batches_by_length(lengths, cfg.batch_size, rng):
                if step >= total:
                    break
                if stream is not None:
                    x, mask = _padded([stream[i] for i in rows])
                else:
                    tokens, mask = _pad_ids([prompts[i] for i in rows])
                    x = base.model.embed_tokens(tokens)
                x = run_layers(
                    lm, x, positions_of(mask), causal_allowed(mask), slice(frozen, layers)
                )
                last = final_norm(lm, x[:, -1])  # (m, d)
                logits = torch.einsum("md,mad->ma", last, head[menu[rows]])
                logits = logits.float().masked_fill(~listed[rows], float("-inf"))
                logp = F.log_softmax(logits, dim=-1).masked_fill(~listed[rows], 0.0)
                loss = -(target[rows] * logp).sum(dim=1).mean()  # cross-entropy to the target
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                schedule.step()
                losses.append(loss.item())
                step += 1
                seen += len(rows)
                bar.update()
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
                if log is not None and step % 10 == 0:
                    log({"step": step, "loss": float(np.mean(losses[-10:]))})
    lm.eval()
    trained = time.perf_counter() - began
    return {
        "train_loss": float(np.mean(losses)) if losses else float("nan"),
        "steps": step,
        "cache_seconds": round(cached, 1),
        "train_seconds": round(trained, 1),
        "examples_per_second": round(seen / max(cached + trained, 1e-9), 2),
    }
