"""The LLM commands: ``gamelm datagen``, ``sft``, ``reward-model``, ``rl``, ``ask`` and
``merge-lora``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from gamelm.agents.base import AgentUnavailable
from gamelm.cli._common import (
    JsonOpt,
    PromptStyleOpt,
    QuietOpt,
    check_out,
    config_file_values,
    console,
    errors,
    fail,
    to_json,
)
from gamelm.evaluation.report import plot_rl
from gamelm.files import atomic_file
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.rollouts.datasets import DataError, DatagenConfig, generate

ACCELERATE_DOC = "docs/multi_gpu.md"


def _targets(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _relaunch(config: Path) -> None:
    """Run this same command under ``accelerate launch`` with ``config`` (the training
    processes it starts train; this one waits and exits with their status)."""
    from gamelm.trainers.hf_common import relaunch_under_accelerate  # torch

    try:
        code = relaunch_under_accelerate(config, sys.argv[1:])
    except FileNotFoundError:
        fail(f"--accelerate-config: {config} does not exist (see {ACCELERATE_DOC})")
    if code is not None:
        raise typer.Exit(code=code)


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _quiet_libraries(quiet: bool) -> None:
    if quiet:
        import datasets

        datasets.disable_progress_bars()


def _result_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        table.add_row(key, text)
    return table


def datagen(
    expert: Annotated[
        str, typer.Option(help="Expert agent: blueprint:PATH (heads-up), tag, equity, ckpt:PATH.")
    ] = "tag",
    hands: Annotated[int, typer.Option(help="Hands to play.")] = 10_000,
    seats: Annotated[int, typer.Option(help="Players per table.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the deals and the agents.")] = 0,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("data/expert"),
    opponents: Annotated[
        str | None,
        typer.Option(help="Other seats' agents, comma-separated (default: the expert itself)."),
    ] = None,
    val_fraction: Annotated[float, typer.Option(help="Share of prompts for validation.")] = 0.1,
    rationale: Annotated[
        bool, typer.Option("--rationale", help="Follow each action with an equity/pot-odds line.")
    ] = False,
    stack_bb: Annotated[int, typer.Option(help="Starting stacks in big blinds.")] = 100,
    fractions: Annotated[str, typer.Option(help="Raise sizes as pot fractions.")] = "0.5,1",
    append: Annotated[
        bool,
        typer.Option("--append", help="Add to the dataset in OUT (made with the same settings)."),
    ] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Play hands with an expert and write SFT records and preference pairs (JSONL).

    Writes OUT/sft.jsonl, OUT/sft.val.jsonl, OUT/pairs.jsonl, OUT/pairs.val.jsonl and
    OUT/meta.json. Prompts are deduplicated; the validation split is by prompt, so no
    validation prompt is trained on. An OUT that holds a dataset is refused unless --append
    (use another --seed, or the same hands are played again and dropped as duplicates).
    """

    check_out(out)
    try:
        menu = ActionAbstraction.parse(fractions)
        cfg = DatagenConfig(
            expert=expert,
            hands=hands,
            seats=seats,
            seed=seed,
            opponents=tuple(s.strip() for s in (opponents or "").split(",") if s.strip()),
            val_fraction=val_fraction,
            rationale=rationale,
            fractions=menu.fractions,
            stack_bb=stack_bb,
        )
        result = generate(cfg, out, progress=not quiet and not as_json, append=append)
    except (ValueError, FileNotFoundError, AgentUnavailable) as exc:
        fail(str(exc))
    counts = {"decisions": result.decisions, "duplicates": result.duplicates, **result.written}
    if as_json:
        print(to_json({**counts, "out": str(out), "interrupted": result.interrupted}))
        return
    console.print(_result_table(f"expert data ({expert})", counts))
    console.print(f"written to {out}")
    if result.interrupted:
        console.print("[yellow]interrupted: the hands played so far were written[/yellow]")


ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "--model-name",
        help="Model directory (gamelm poker LM, fine-tuned LLM, any HF causal LM) or hub name.",
    ),
]


DataOpt = Annotated[Path, typer.Option(help="gamelm datagen output directory.")]


MaybeModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "--model-name",
        help="Model directory (gamelm poker LM, fine-tuned LLM, any HF causal LM) or hub name "
        "(or model: in --config).",
    ),
]


MaybeDataOpt = Annotated[
    Path | None, typer.Option(help="gamelm datagen output directory (or data: in --config).")
]


OutOpt = Annotated[Path, typer.Option(help="Where the trained model is written.")]


StepsOpt = Annotated[int, typer.Option(help="Optimizer steps (0: --num-epochs passes).")]


EpochsOpt = Annotated[float, typer.Option(help="Passes over the data when --max-steps is 0.")]


BatchOpt = Annotated[int, typer.Option(help="Examples per device per step.")]


ValSizeOpt = Annotated[
    int,
    typer.Option(help="Held-out records (pairs, for a reward model) scored before and after."),
]
AccumOpt = Annotated[int, typer.Option(help="Gradient accumulation steps.")]


LrOpt = Annotated[float, typer.Option(help="Peak AdamW learning rate.")]


RankOpt = Annotated[int, typer.Option(help="LoRA rank (0: full fine-tuning).")]


AlphaOpt = Annotated[int | None, typer.Option(help="LoRA alpha (default: twice the rank).")]


TargetsOpt = Annotated[
    str, typer.Option(help="Modules LoRA adapts, comma-separated, or all-linear.")
]


CkptOpt = Annotated[
    bool, typer.Option("--gradient-checkpointing", help="Recompute activations (less memory).")
]


Bf16Opt = Annotated[bool, typer.Option("--bf16", help="bfloat16 mixed precision (GPU).")]


DeviceOpt = Annotated[str, typer.Option(help="auto, cpu or cuda.")]


DtypeOpt = Annotated[
    str,
    typer.Option(
        help="Weights' dtype for an LLM: float32 (with --bf16: mixed precision), bfloat16."
    ),
]


ConfigOpt = Annotated[
    Path | None, typer.Option(help="YAML file of settings, e.g. a tuned best.yaml (flags win).")
]


ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUT/checkpoints.")
]


AccelOpt = Annotated[
    Path | None,
    typer.Option(help=f"Run under accelerate with this config (DDP, DeepSpeed; {ACCELERATE_DOC})."),
]


def sft(
    ctx: typer.Context,
    model: MaybeModelOpt = None,
    data: MaybeDataOpt = None,
    out: OutOpt = Path("runs/sft"),
    max_steps: StepsOpt = 200,
    num_epochs: EpochsOpt = 1.0,
    batch_size: BatchOpt = 16,
    grad_accum: AccumOpt = 1,
    learning_rate: LrOpt = 1e-4,
    lora_rank: RankOpt = 0,
    lora_alpha: AlphaOpt = None,
    target_modules: TargetsOpt = "q_proj,k_proj,v_proj,o_proj",
    gradient_checkpointing: CkptOpt = False,
    bf16: Bf16Opt = False,
    max_length: Annotated[int, typer.Option(help="Longest example in tokens.")] = 1024,
    save_steps: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "float32",
    prompt_style: PromptStyleOpt = None,
    engine: Annotated[
        str,
        typer.Option(
            help="trl (TRL SFTTrainer) or fast (the action token's loss only, frozen lower "
            "layers computed once: several times faster on a CPU; no checkpoints)."
        ),
    ] = "trl",
    lora_layers: Annotated[
        int, typer.Option(help="Train only the top N decoder layers (0: all).")
    ] = 0,
    threads: Annotated[
        int, typer.Option(help="CPU threads (0: one per core; 1 when runs share a machine).")
    ] = 0,
    val_size: ValSizeOpt = 2000,
    soft_targets: Annotated[
        bool,
        typer.Option(
            "--soft-targets",
            help="Fast engine: learn the expert's move frequencies (the records' probs) instead "
            "of the one move it sampled.",
        ),
    ] = False,
    resume: ResumeOpt = False,
    config: ConfigOpt = None,
    accelerate_config: AccelOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Supervised fine-tuning on expert decisions (TRL SFTTrainer; full or LoRA).

    Prints the validation agreement with the expert before and after, and writes a
    transformers model directory to OUT (LoRA weights merged), playable as ckpt:OUT.
    """
    settings = dict(locals())  # the flags, which map one to one onto SFTConfig
    from gamelm.trainers.sft import SFTConfig, train

    file_values = config_file_values(settings.pop("ctx"), settings.pop("config"))
    settings.update({k: file_values.pop(k) for k in ("model", "data") if k in file_values})
    for key in ("model", "data"):
        if settings[key] is None:
            fail(f"give --{key} (or {key}: in --config)")
    _fine_tune(SFTConfig, train, f"SFT {settings['model']} -> {out}", settings, file_values)


def reward_model(
    model: ModelOpt,
    data: DataOpt,
    out: OutOpt,
    max_steps: StepsOpt = 200,
    num_epochs: EpochsOpt = 1.0,
    batch_size: BatchOpt = 16,
    grad_accum: AccumOpt = 1,
    learning_rate: LrOpt = 1e-4,
    lora_rank: RankOpt = 0,
    lora_alpha: AlphaOpt = None,
    target_modules: TargetsOpt = "q_proj,k_proj,v_proj,o_proj",
    gradient_checkpointing: CkptOpt = False,
    bf16: Bf16Opt = False,
    save_steps: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "float32",
    prompt_style: PromptStyleOpt = None,
    val_size: ValSizeOpt = 2000,
    resume: ResumeOpt = False,
    accelerate_config: AccelOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a reward model on the expert's preference pairs (TRL RewardTrainer).

    Prints the pairwise accuracy on the held-out pairs (the chosen move scored above the
    rejected one) and writes the model to OUT, usable by gamelm rl --reward-model OUT.
    """
    settings = dict(locals())  # the flags, which map one to one onto RewardModelConfig
    from gamelm.trainers.reward_model import RewardModelConfig, train

    _fine_tune(RewardModelConfig, train, f"reward model {model} -> {out}", settings)


def _fine_tune(
    config_cls: Any,
    train: Any,
    title: str,
    flags: dict[str, Any],
    file_values: dict[str, Any] | None = None,
) -> None:
    """The body of ``gamelm sft`` and ``gamelm reward-model``: relaunch under accelerate when
    asked, build the config from the flags, train, print the result (main process only)."""

    flags = dict(flags)
    check_out(flags["out"], fresh=not flags["resume"])
    accelerate_config = flags.pop("accelerate_config")
    quiet, as_json = flags.pop("quiet"), flags.pop("as_json")
    if accelerate_config is not None:
        _relaunch(accelerate_config)
    _quiet_libraries(quiet or as_json)
    flags.update(
        data=str(flags["data"]),
        out=str(flags["out"]),
        target_modules=_targets(flags["target_modules"]),
    )
    flags.update(file_values or {})
    try:
        cfg = config_cls.from_dict(flags)
        result = train(cfg, progress=not (quiet or as_json), logs=not (quiet or as_json))
    except (DataError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    if not _is_main_process():
        return
    if as_json:
        print(to_json(result))
    else:
        console.print(_result_table(title, result))


def _epoch_table(records: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("epoch", "avg return", "win rate", "bb/100", "95% CI", "loss", "KL"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in records:
        lo, hi = r["ci95"]
        table.add_row(
            str(r["epoch"]),
            f"{r['avg_return']:+.3f}",
            f"{r['win_rate']:.1%}",
            f"{r['bb_per_100']:+.1f}",
            f"[{lo:+.1f}, {hi:+.1f}]",
            f"{r['loss']:.4f}",
            f"{r['kl']:.4f}",
        )
    return table


def rl(
    ctx: typer.Context,
    model: MaybeModelOpt = None,
    opponent: Annotated[
        str,
        typer.Option(help="Opponents, comma-separated: baselines, blueprint:PATH, ckpt:PATH."),
    ] = "calling-station",
    out: OutOpt = Path("runs/rl"),
    algorithm: Annotated[str, typer.Option(help="ppo or reinforce (GRPO: `gamelm grpo`).")] = (
        "ppo"
    ),
    num_epochs: Annotated[int, typer.Option(help="Epochs of rollout + update.")] = 10,
    episodes_per_epoch: Annotated[int, typer.Option(help="Hands played per epoch.")] = 512,
    seats: Annotated[int, typer.Option(help="Players per table.")] = 2,
    learning_rate: LrOpt = 1e-4,
    ppo_epochs: Annotated[int, typer.Option(help="PPO passes over each epoch.")] = 2,
    minibatch_size: Annotated[int, typer.Option(help="Decisions per gradient step.")] = 128,
    micro_batch_size: Annotated[
        int,
        typer.Option(
            help="Decisions per forward pass (0: the whole minibatch); small for a real LLM "
            "on a small machine."
        ),
    ] = 0,
    kl_coef: Annotated[float, typer.Option(help="Weight of KL to the starting model.")] = 0.02,
    entropy_coef: Annotated[float, typer.Option(help="Weight of the entropy bonus.")] = 0.0,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 1.0,
    bluff_bonus: Annotated[float, typer.Option(help="Weight of the bluff bonus (bb).")] = 0.0,
    aggression_bonus: Annotated[float, typer.Option(help="Weight per bet or raise (bb).")] = 0.0,
    fold_equity_bonus: Annotated[
        float, typer.Option(help="Weight of pots won by a bet everyone folded to.")
    ] = 0.0,
    sizing_bonus: Annotated[
        float, typer.Option(help="Weight of the exploitative-sizing bonus (bb).")
    ] = 0.0,
    reward_model_path: Annotated[
        Path | None, typer.Option("--reward-model", help="A gamelm reward-model directory.")
    ] = None,
    reward_model_weight: Annotated[float, typer.Option(help="Weight of its score.")] = 1.0,
    checkpoint_every: Annotated[int, typer.Option(help="Epochs between checkpoints.")] = 5,
    lora_rank: RankOpt = 0,
    lora_alpha: AlphaOpt = None,
    target_modules: TargetsOpt = "q_proj,k_proj,v_proj,o_proj",
    bf16: Bf16Opt = False,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "float32",
    prompt_style: PromptStyleOpt = None,
    tables: Annotated[int, typer.Option(help="Tables played in lockstep.")] = 256,
    resume: ResumeOpt = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also write the curves here (default OUT/curves.png).")
    ] = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Reinforcement learning against opponents on real hands (PPO or REINFORCE).

    Per epoch: average return, win rate, bb/100 with its 95% CI, the losses and every reward
    term. The final model is written to OUT, the best epoch's to OUT/best, checkpoints to
    OUT/checkpoints; OUT/metrics.jsonl holds the records and OUT/curves.png their curves.
    """
    from gamelm.trainers.rl import RLConfig, RLTrainer

    check_out(out, fresh=not resume)
    file_values = config_file_values(ctx, config, {"reward_model": "reward_model_path"})
    model = file_values.pop("model", model)
    if model is None:
        fail("give --model (or model: in --config)")
    if algorithm.lower() == "grpo":
        fail("GRPO has its own command: gamelm grpo --model M --data DIR (see gamelm grpo --help)")
    try:
        cfg = RLConfig.from_dict(
            dict(
                model=model,
                opponent=opponent,
                out=str(out),
                algorithm=algorithm.lower(),
                num_epochs=num_epochs,
                episodes_per_epoch=episodes_per_epoch,
                seats=seats,
                learning_rate=learning_rate,
                ppo_epochs=ppo_epochs,
                minibatch_size=minibatch_size,
                micro_batch_size=micro_batch_size,
                kl_coef=kl_coef,
                entropy_coef=entropy_coef,
                temperature=temperature,
                bluff_bonus=bluff_bonus,
                aggression_bonus=aggression_bonus,
                fold_equity_bonus=fold_equity_bonus,
                sizing_bonus=sizing_bonus,
                reward_model=str(reward_model_path) if reward_model_path else None,
                reward_model_weight=reward_model_weight,
                checkpoint_every=checkpoint_every,
                lora_rank=lora_rank,
                lora_alpha=lora_alpha,
                target_modules=_targets(target_modules),
                bf16=bf16,
                tables=tables,
                seed=seed,
                device=device,
                dtype=dtype,
                prompt_style=prompt_style,
                resume=resume,
            )
            | file_values
        )
        trainer = RLTrainer(cfg)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    show = not (quiet or as_json)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=cfg.num_epochs, initial=trainer.epoch_done, desc="rl", unit="epoch")

    def progress(record: dict[str, Any]) -> None:
        if bar is not None:
            bar.update(1)
            lo, hi = record["ci95"]
            bar.set_postfix_str(
                f"bb/100 {record['bb_per_100']:+.1f} [{lo:+.0f}, {hi:+.0f}] "
                f"loss {record['loss']:.3f} kl {record['kl']:.4f}"
            )

    try:
        records = trainer.train(progress)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        fail(f"interrupted; the last checkpoint in {out / 'checkpoints'} continues with --resume")
    if bar is not None:
        bar.close()

    for target in {out / "curves.png", *([plot] if plot else [])}:
        try:
            plot_rl(records, target, f"{model} vs {opponent} ({cfg.algorithm})")
        except (FileNotFoundError, ValueError) as exc:
            errors.print(f"[yellow]no plot at {target}:[/yellow] {exc}", highlight=False)
    if as_json:
        print(to_json(records))
    else:
        console.print(_epoch_table(records, f"rl {model} vs {opponent} ({cfg.algorithm})"))
        console.print(f"model written to {out} (best epoch in {out / 'best'})")


def ask(
    model: Annotated[str, typer.Argument(help="Model directory or hub name.")],
    mode: Annotated[str, typer.Option(help="interactive or batch.")] = "interactive",
    test_file: Annotated[
        Path | None,
        typer.Option(help="Batch input: JSONL records (prompt, state, response) or text lines."),
    ] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0: greedy).")] = 0.7,
    max_length: Annotated[int, typer.Option(help="Longest free-text answer, in tokens.")] = 128,
    device: DeviceOpt = "auto",
) -> None:
    """Ask a (fine-tuned) model poker questions, or its action in a given state.

    A question in free text gets a generated answer. A prompt in the gamelm format (legal
    actions listed as '- A0: ...'), or a JSONL record of gamelm datagen (with its 'state'), gets
    the model's action and the probability of each legal action. Interactive mode reads one
    question per line (a line starting with '{' is a JSON record) until 'quit' or end of input;
    batch mode answers every line of --test-file F and writes F.answers.jsonl next to it, with
    the agreement with the records' responses when they have them.
    """
    from gamelm.models.lm import load_policy
    from gamelm.trainers.hf_common import answer_question, pick_device, record_problem

    if mode not in ("interactive", "batch"):
        fail(f"--mode must be interactive or batch, got {mode!r}")
    if mode == "batch" and test_file is None:
        fail("--mode batch needs --test-file")
    if temperature < 0 or max_length < 1:
        fail("--temperature must be >= 0 and --max-length >= 1")
    try:
        policy = load_policy(model, pick_device(device))
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    if mode == "batch":
        assert test_file is not None
        if not test_file.is_file():
            fail(f"{test_file} does not exist")
        items: list[Any] = []
        for n, line in enumerate(test_file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            if test_file.suffix == ".jsonl" or line.lstrip().startswith("{"):
                try:
                    items.append(json.loads(line))
                except ValueError as exc:
                    fail(f"{test_file}:{n}: not valid JSON ({exc})")
            else:
                items.append(line)
        results = []
        from tqdm import tqdm

        for n, item in enumerate(tqdm(items, desc="ask", unit="question"), 1):
            try:
                results.append(answer_question(policy, item, max_length, temperature))
            except (ValueError, KeyError, TypeError) as exc:
                fail(f"{test_file}:{n}: {record_problem(exc)}")
        target = test_file.with_name(test_file.name + ".answers.jsonl")
        with atomic_file(target) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
        scored = [r for r in results if "correct" in r]
        summary = {"answers": len(results), "written": str(target)}
        if scored:
            summary["agreement"] = sum(r["correct"] for r in scored) / len(scored)
            summary["scored"] = len(scored)
        console.print(_result_table(f"ask {model}", summary))
        return
    console.print("Ask a poker question, paste a JSON record, or type quit.")
    while True:
        try:
            line = input("> ")
        except EOFError:
            break
        if line.strip().lower() in ("quit", "exit"):
            break
        if not line.strip():
            continue
        try:
            item = json.loads(line) if line.lstrip().startswith("{") else line
            result = answer_question(policy, item, max_length, temperature)
        except (ValueError, KeyError, TypeError) as exc:
            errors.print(f"[red]error:[/red] {record_problem(exc)}", highlight=False)
            continue
        console.print(result["answer"], highlight=False)
        if result["probabilities"]:
            console.print(json.dumps(result["probabilities"]), highlight=False)


def merge_lora(
    adapter: Annotated[Path, typer.Argument(help="A PEFT LoRA adapter directory.")],
    out: Annotated[Path, typer.Option(help="Where the merged model is written.")],
    base: Annotated[
        str | None, typer.Option(help="Base model (default: the one the adapter names).")
    ] = None,
) -> None:
    """Merge a LoRA adapter into its base model and write a plain transformers directory."""
    from gamelm.trainers.hf_common import merge_adapter

    try:
        merge_adapter(adapter, out, base)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    console.print(f"merged model written to {out}")


def grpo(
    ctx: typer.Context,
    model: MaybeModelOpt = None,
    data: MaybeDataOpt = None,
    out: OutOpt = Path("runs/grpo"),
    max_steps: StepsOpt = 100,
    batch_size: Annotated[
        int, typer.Option(help="Completions per step (a multiple of --num-generations).")
    ] = 32,
    num_generations: Annotated[int, typer.Option(help="Completions sampled per prompt.")] = 8,
    learning_rate: LrOpt = 1e-5,
    beta: Annotated[float, typer.Option(help="Weight of the KL to the reference model.")] = 0.02,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 1.0,
    reward_model_path: Annotated[
        Path | None, typer.Option("--reward-model", help="A gamelm reward-model directory.")
    ] = None,
    reward_model_weight: Annotated[float, typer.Option(help="Weight of its score.")] = 0.5,
    lora_rank: RankOpt = 0,
    lora_alpha: AlphaOpt = None,
    target_modules: TargetsOpt = "q_proj,k_proj,v_proj,o_proj",
    bf16: Bf16Opt = False,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "float32",
    prompt_style: PromptStyleOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """GRPO (TRL) on the single decisions of a `gamelm datagen` directory, rewarded for the
    expert's move (plus a reward model's score when given).

    Prints the per-step reward, loss and KL and the validation agreement with the expert, and
    writes the model to OUT, playable as ckpt:OUT.
    """
    settings = dict(locals())  # the flags, which map one to one onto GRPOConfig
    check_out(out, fresh=True)
    file_values = config_file_values(
        settings.pop("ctx"), settings.pop("config"), {"reward_model": "reward_model_path"}
    )
    settings.update({k: file_values.pop(k) for k in ("model", "data") if k in file_values})
    for key in ("model", "data"):
        if settings[key] is None:
            fail(f"give --{key} (or {key}: in --config)")
    rm = settings.pop("reward_model_path")
    settings.update(
        data=str(settings["data"]), out=str(settings["out"]), reward_model=str(rm) if rm else None,
        target_modules=_targets(target_modules),
    )  # fmt: skip
    quiet, as_json = settings.pop("quiet"), settings.pop("as_json")
    from gamelm.trainers.grpo import GRPOConfig, train

    _quiet_libraries(quiet or as_json)
    try:
        cfg = GRPOConfig.from_dict({**settings, **file_values})
        result = train(cfg, progress=not (quiet or as_json), logs=not (quiet or as_json))
    except (DataError, ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    if as_json:
        print(to_json(result["steps"]))
        return
    table = Table(title=f"GRPO {cfg.model}", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("step", "reward", "loss", "KL"):
        table.add_column(col, justify="right")
    for r in result["steps"]:
        table.add_row(str(r["step"]), f"{r['reward']:+.3f}", f"{r['loss']:.4f}", f"{r['kl']:.4f}")
    console.print(table)
    summary = {k: v for k, v in result.items() if k != "steps"}
    console.print(_result_table("validation agreement with the expert", summary))
