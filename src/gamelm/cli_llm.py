"""The LLM commands: ``gamelm datagen``, ``sft``, ``reward-model``, ``rl``, ``ask`` and
``merge-lora``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gamelm.cli_train import _json

console = Console()
errors = Console(stderr=True, soft_wrap=True)

ACCELERATE_DOC = "docs/multi_gpu.md"


def _fail(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code=2)


def _targets(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _relaunch(config: Path) -> None:
    """Run this same command under ``accelerate launch --config_file CONFIG`` (once: the
    launched processes see ``GAMELM_ACCELERATE`` and train)."""
    if os.environ.get("GAMELM_ACCELERATE"):
        return
    if not config.is_file():
        _fail(f"--accelerate-config: {config} does not exist (see {ACCELERATE_DOC})")
    launcher = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if arg == "--accelerate-config":
            skip = True
            continue
        if arg.startswith("--accelerate-config="):
            continue
        argv.append(arg)
    env = {**os.environ, "GAMELM_ACCELERATE": "1"}
    cmd = [launcher, "launch", "--config_file", str(config), "-m", "gamelm.cli", *argv]
    raise typer.Exit(code=subprocess.call(cmd, env=env))


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


# -- datagen ---------------------------------------------------------------------------------------


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
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Play hands with an expert and write SFT records and preference pairs (JSONL).

    Writes OUT/sft.jsonl, OUT/sft.val.jsonl, OUT/pairs.jsonl, OUT/pairs.val.jsonl and
    OUT/meta.json. Prompts are deduplicated; the validation split is by prompt, so no
    validation prompt is trained on.
    """
    from gamelm.poker.abstraction import ActionAbstraction
    from gamelm.rollouts.datasets import DatagenConfig, generate

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
        result = generate(cfg, out, progress=not quiet and not as_json)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    counts = {"decisions": result.decisions, "duplicates": result.duplicates, **result.written}
    if as_json:
        print(_json({**counts, "out": str(out), "interrupted": result.interrupted}))
        return
    console.print(_result_table(f"expert data ({expert})", counts))
    console.print(f"written to {out}")
    if result.interrupted:
        console.print("[yellow]interrupted: the hands played so far were written[/yellow]")


# -- sft and reward-model --------------------------------------------------------------------------

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "--model-name",
        help="Model directory (gamelm poker LM, fine-tuned LLM, any HF causal LM) or hub name.",
    ),
]
DataOpt = Annotated[Path, typer.Option(help="gamelm datagen output directory.")]
OutOpt = Annotated[Path, typer.Option(help="Where the trained model is written.")]
StepsOpt = Annotated[int, typer.Option(help="Optimizer steps (0: --num-epochs passes).")]
EpochsOpt = Annotated[float, typer.Option(help="Passes over the data when --max-steps is 0.")]
BatchOpt = Annotated[int, typer.Option(help="Examples per device per step.")]
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
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUT/checkpoints.")
]
AccelOpt = Annotated[
    Path | None,
    typer.Option(help=f"Run under accelerate with this config (DDP, DeepSpeed; {ACCELERATE_DOC})."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bar or training logs.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def sft(
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
    max_length: Annotated[int, typer.Option(help="Longest example in tokens.")] = 1024,
    save_steps: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    device: DeviceOpt = "auto",
    resume: ResumeOpt = False,
    accelerate_config: AccelOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Supervised fine-tuning on expert decisions (TRL SFTTrainer; full or LoRA).

    Prints the validation agreement with the expert before and after, and writes a
    transformers model directory to OUT (LoRA weights merged), playable as ckpt:OUT.
    """
    from gamelm.rollouts.datasets import DataError
    from gamelm.trainers.sft import SFTRunConfig, train

    if accelerate_config is not None:
        _relaunch(accelerate_config)
    _quiet_libraries(quiet or as_json)
    try:
        cfg = SFTRunConfig(
            model=model,
            data=str(data),
            out=str(out),
            max_steps=max_steps,
            num_epochs=num_epochs,
            batch_size=batch_size,
            grad_accum=grad_accum,
            learning_rate=learning_rate,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            target_modules=_targets(target_modules),
            gradient_checkpointing=gradient_checkpointing,
            bf16=bf16,
            max_length=max_length,
            save_steps=save_steps,
            seed=seed,
            device=device,
            resume=resume,
        )
        result = train(cfg, progress=not (quiet or as_json), logs=not (quiet or as_json))
    except (DataError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    if not _is_main_process():
        return
    if as_json:
        print(_json(result))
    else:
        console.print(_result_table(f"SFT {model} -> {out}", result))


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
    resume: ResumeOpt = False,
    accelerate_config: AccelOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a reward model on the expert's preference pairs (TRL RewardTrainer).

    Prints the pairwise accuracy on the held-out pairs (the chosen move scored above the
    rejected one) and writes the model to OUT, usable by gamelm rl --reward-model OUT.
    """
    from gamelm.rollouts.datasets import DataError
    from gamelm.trainers.reward_model import RewardModelConfig, train

    if accelerate_config is not None:
        _relaunch(accelerate_config)
    _quiet_libraries(quiet or as_json)
    try:
        cfg = RewardModelConfig(
            model=model,
            data=str(data),
            out=str(out),
            max_steps=max_steps,
            num_epochs=num_epochs,
            batch_size=batch_size,
            grad_accum=grad_accum,
            learning_rate=learning_rate,
            lora_rank=lora_rank,
            lora_alpha=lora_alpha,
            target_modules=_targets(target_modules),
            gradient_checkpointing=gradient_checkpointing,
            bf16=bf16,
            save_steps=save_steps,
            seed=seed,
            device=device,
            resume=resume,
        )
        result = train(cfg, progress=not (quiet or as_json), logs=not (quiet or as_json))
    except (DataError, ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    if not _is_main_process():
        return
    if as_json:
        print(_json(result))
    else:
        console.print(_result_table(f"reward model {model} -> {out}", result))


# -- rl --------------------------------------------------------------------------------------------


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
    model: ModelOpt,
    opponent: Annotated[
        str,
        typer.Option(help="Opponents, comma-separated: baselines, blueprint:PATH, ckpt:PATH."),
    ] = "calling-station",
    out: OutOpt = Path("runs/rl"),
    algorithm: Annotated[str, typer.Option(help="ppo or reinforce.")] = "ppo",
    num_epochs: Annotated[int, typer.Option(help="Epochs of rollout + update.")] = 10,
    episodes_per_epoch: Annotated[int, typer.Option(help="Hands played per epoch.")] = 512,
    seats: Annotated[int, typer.Option(help="Players per table.")] = 2,
    learning_rate: LrOpt = 1e-4,
    ppo_epochs: Annotated[int, typer.Option(help="PPO passes over each epoch.")] = 2,
    minibatch_size: Annotated[int, typer.Option(help="Decisions per gradient step.")] = 128,
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
    resume: ResumeOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Reinforcement learning against opponents on real hands (PPO or REINFORCE).

    Per epoch: average return, win rate, bb/100 with its 95% CI, the losses and every reward
    term. The final model is written to OUT, the best epoch's to OUT/best, checkpoints to
    OUT/checkpoints; OUT/metrics.jsonl holds the records.
    """
    from gamelm.trainers.rl import RLConfig, RLTrainer

    try:
        cfg = RLConfig(
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
            seed=seed,
            device=device,
            resume=resume,
        )
        trainer = RLTrainer(cfg)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
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
        _fail(f"interrupted; the last checkpoint in {out / 'checkpoints'} continues with --resume")
    if bar is not None:
        bar.close()
    if as_json:
        print(_json(records))
    else:
        console.print(_epoch_table(records, f"rl {model} vs {opponent} ({cfg.algorithm})"))
        console.print(f"model written to {out} (best epoch in {out / 'best'})")
