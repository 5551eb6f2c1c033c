"""Decisions per second of a real LLM (SmolLM2-135M-Instruct by default) on PokerBench prompts.

Each row reads the same decisions (random spots of the PokerBench sample) and gives the policy
over their legal actions (one forward pass each, no generation):

- transformers: the plain float32 forward of the whole chat-templated prompt, one decision at a
  time, then 16 at a time (left-padded);
- gamelm: `CausalLMPolicy.decide` (the prefix every prompt shares read once and its key/value
  cache reused, rows batched by length), on the full prompt and on the compact one;
- llama.cpp: llama-cpp-python on the model's own GGUF file (when it is installed), evaluating
  each whole prompt, full and compact.

Usage: python benchmarks/llm_decisions.py [--model smollm2-135m-instruct] [--decisions 64]
       [--data ../shared/pokerbench_data] [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from gamelm.agents.lm import example_ids
from gamelm.agents.observation import prompt
from gamelm.evaluation import pokerbench
from gamelm.models.lm import load_policy
from gamelm.models.pretrained import SHIPPED, shipped_file


def decisions(data: str, count: int, seed: int):
    bench = pokerbench.load(data)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(bench.spots), count, replace=False)
    return pokerbench.observations([bench.spots[i] for i in pick], (0.5, 1.0))


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def plain(policy, ids, choices, legal, batch: int) -> None:
    with torch.inference_mode():
        for lo in range(0, len(ids), batch):
            tokens, mask = policy.pad(ids[lo : lo + batch])
            policy(tokens, mask, choices[lo : lo + batch], legal[lo : lo + batch])


def torch_rows(policy, obs, style: str, runs: int) -> list[tuple[str, float, float]]:
    """The transformers forward (full prompt only) and `CausalLMPolicy.decide` on ``style``."""
    policy.view.style = style
    ids, choices = example_ids(policy.view, obs)
    choices, legal = torch.as_tensor(choices), torch.as_tensor(obs.legal)
    mean = float(np.mean([len(r) for r in ids]))
    rows = []
    if style == "full":
        for batch in (1, 16):
            seconds = best_of(runs, lambda b=batch: plain(policy, ids, choices, legal, b))
            rows.append(
                (f"transformers forward, full prompt, batch {batch}", obs.size / seconds, mean)
            )
    seconds = best_of(runs, lambda: policy.decide(ids, choices, legal))
    shared = len(policy._shared_prefix(ids))
    name = f"gamelm decide, {style} prompt (prefix of {shared} tokens cached)"
    rows.append((name, obs.size / seconds, mean))
    return rows


def llama_cpp_rows(model: str, obs, threads: int, runs: int) -> list[tuple[str, float, float]]:
    try:
        from llama_cpp import Llama
    except ImportError:
        return [("llama.cpp (llama-cpp-python not installed)", float("nan"), float("nan"))]
    if model.lower() not in SHIPPED:
        return [("llama.cpp (needs the shipped model's GGUF file)", float("nan"), float("nan"))]
    llm = Llama(
        str(shipped_file(model.lower())),
        n_ctx=1024,
        n_threads=threads or os.cpu_count(),
        n_batch=512,
        verbose=False,
    )
    rows = []
    for style in ("full", "compact"):
        texts = []
        for i in range(obs.size):
            messages = [{"role": "user", "content": prompt(obs, i, style=style)}]
            texts.append(chat_text(llm, messages))
        tokens = [llm.tokenize(t.encode(), add_bos=False, special=True) for t in texts]

        def run(tokens=tokens):
            for row in tokens:
                llm.reset()
                llm.eval(row)

        seconds = best_of(runs, run)
        mean = float(np.mean([len(t) for t in tokens]))
        rows.append((f"llama.cpp, {style} prompt, one at a time", obs.size / seconds, mean))
    return rows


def chat_text(llm, messages) -> str:
    """The GGUF's own chat template applied (ChatML for SmolLM2)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    eos = llm.detokenize([llm.token_eos()]).decode()
    bos = llm.detokenize([llm.token_bos()]).decode()
    formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
    return formatter(messages=messages).prompt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument(
        "--data", default=os.environ.get("GAMELM_POKERBENCH", "../shared/pokerbench_data")
    )
    ap.add_argument("--decisions", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3, help="best of this many passes")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: one per core)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    obs = decisions(args.data, args.decisions, args.seed)
    policy = load_policy(args.model)
    rows = []
    for style in ("full", "compact"):
        rows += torch_rows(policy, obs, style, args.runs)
    rows += llama_cpp_rows(args.model, obs, args.threads, args.runs)
    print(
        f"{args.model}: {obs.size} PokerBench decisions, {torch.get_num_threads()} torch "
        f"threads, {os.cpu_count()} cores, best of {args.runs}"
    )
    print("| engine | decisions/s | prompt tokens (mean) |")
    print("|---|---:|---:|")
    for name, rate, tokens in rows:
        print(f"| {name} | {rate:.2f} | {tokens:.0f} |")


if __name__ == "__main__":
    main()
