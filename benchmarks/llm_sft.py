"""SFT examples per second of a real LLM (SmolLM2-135M-Instruct by default) on a CPU: plain TRL
LoRA next to each speed-up of `gamelm sft`, on the same expert records.

Every variant is `gamelm.trainers.sft.train` with LoRA rank 16 at the same learning rate and
batch size; the time counted is the training itself (with the fast engine, also computing the
frozen layers' output once), not loading or saving the model:

- TRL, full prompt, LoRA on every layer's attention: plain `SFTTrainer` (the baseline);
- TRL, compact prompt;
- TRL, compact prompt, LoRA on the top layers only (the backward pass stops there);
- fast engine (`gamelm.trainers.sft_fast`), compact prompt, every layer;
- fast engine, compact prompt, the top layers only, the frozen layers computed once.

With ``--agreement`` every variant trains ``--agreement-steps`` steps and the validation
agreement with the expert is printed too (slower: that is several minutes per variant).

Usage: python benchmarks/llm_sft.py [--model smollm2-135m-instruct] [--steps 6] [--batch 8]
       [--top 6] [--threads 0] [--agreement --agreement-steps 150]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import torch

from gamelm.rollouts.datasets import DatagenConfig, generate
from gamelm.trainers.sft import SFTConfig, train

VARIANTS = [
    ("TRL LoRA, full prompt (plain)", {"engine": "trl", "prompt_style": "full"}),
    ("TRL LoRA, compact prompt", {"engine": "trl", "prompt_style": "compact"}),
    ("TRL LoRA, compact, top layers", {"engine": "trl", "prompt_style": "compact", "top": True}),
    ("fast, compact, every layer", {"engine": "fast", "prompt_style": "compact"}),
    (
        "fast, compact, top layers cached",
        {"engine": "fast", "prompt_style": "compact", "top": True},
    ),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--steps", type=int, default=6, help="optimizer steps timed per variant")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--top", type=int, default=6, help="layers trained in the top-layer variants")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: one per core)")
    ap.add_argument("--agreement", action="store_true", help="also train and score agreement")
    ap.add_argument("--agreement-steps", type=int, default=150)
    ap.add_argument("--val", type=int, default=300, help="validation records scored")
    ap.add_argument("--data", help="a gamelm datagen directory (default: equity, 1,000 hands)")
    ap.add_argument("--only", help="variants to run, by number (1-5), comma-separated")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gamelm-bench-sft-"))
    data = Path(args.data) if args.data else work / "data"
    if not args.data:
        generate(DatagenConfig(expert="equity", hands=1000, seats=2, seed=1), data)
    rows = []
    chosen = [int(k) for k in args.only.split(",")] if args.only else range(1, len(VARIANTS) + 1)
    for name, variant in (VARIANTS[k - 1] for k in chosen):
        steps = args.agreement_steps if args.agreement else args.steps
        cfg = SFTConfig(
            model=args.model,
            data=str(data),
            out=str(work / name.replace(" ", "_").replace(",", "")),
            max_steps=steps,
            batch_size=args.batch,
            learning_rate=1e-3,
            lora_rank=16,
            target_modules=("all-linear",),
            engine=variant["engine"],
            prompt_style=variant["prompt_style"],
            lora_layers=args.top if variant.get("top") else 0,
            threads=args.threads,
            val_size=args.val if args.agreement else 1,
            save_steps=10**6,
            device="cpu",
        )
        result = train(cfg, progress=False, logs=False)
        rate = result["steps"] * args.batch / result["seconds"]
        agree = result["val_agreement_after"] if args.agreement else float("nan")
        rows.append((name, rate, agree, result["val_agreement_before"]))
        print(f"{name}: {rate:.2f} examples/s", flush=True)
    base = rows[0][1]  # the first variant run (plain TRL unless --only leaves it out)
    print(
        f"\n{args.model}, LoRA rank 16, batch {args.batch}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} cores; top layers: {args.top}"
    )
    head = "| variant | examples/s | speed-up |"
    if args.agreement:
        head += f" agreement after {args.agreement_steps} steps |"
    print(head)
    print("|---|---:|---:|" + ("---:|" if args.agreement else ""))
    for name, rate, agree, _ in rows:
        line = f"| {name} | {rate:.2f} | {rate / base:.1f}x |"
        print(line + (f" {agree:.1%} |" if args.agreement else ""))
    if args.agreement:
        print("(before training: " + ", ".join(f"{r[0]}: {r[3]:.1%}" for r in rows) + ")")


if __name__ == "__main__":
    main()
