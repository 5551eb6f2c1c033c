"""The training compiler and the tuner: ``gamelm compile`` (DSPy prompt programs) and
``gamelm tune`` (Optuna studies over any trainer's settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from gamelm.cli._common import (
    JsonOpt,
    QuietOpt,
    check_out,
    config_file_values,
    console,
    fail,
    parse_set,
    read_yaml_mapping,
    to_json,
)
from gamelm.errors import first_line
from gamelm.rollouts.datasets import DataError
from gamelm.trainers.compile import CompileConfig, compile_program
from gamelm.trainers.tune import TuneConfig, run

NEEDS = "install the compile extra: pip install 'gamelm[compile]'"


def _need(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        fail(f"{module} is not installed; {NEEDS}")


def compile_command(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option(help="The compiled program (JSON); OUT.run/ holds its data.")
    ] = Path("programs/poker.json"),
    lm_url: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible base URL (Ollama: http://localhost:11434/v1)."),
    ] = None,
    lm_model: Annotated[str | None, typer.Option(help="Model name at --lm-url.")] = None,
    lm_path: Annotated[
        str | None, typer.Option(help="Local transformers model (directory or hub name) instead.")
    ] = None,
    lm_dtype: Annotated[str | None, typer.Option(help="dtype of the local model.")] = None,
    reference: Annotated[
        str,
        typer.Option(
            help="Agent whose moves are the target (blueprint:PATH, tag...) or a datagen dir."
        ),
    ] = "tag",
    optimizer: Annotated[
        str, typer.Option(help="labeled, bootstrap, mipro or gepa.")
    ] = "bootstrap",
    train_size: Annotated[int, typer.Option(help="Training decisions.")] = 32,
    val_size: Annotated[
        int, typer.Option(help="Validation decisions scored before and after.")
    ] = 64,
    max_demos: Annotated[int, typer.Option(help="Worked examples in the prompt.")] = 4,
    max_labeled: Annotated[int, typer.Option(help="Labeled examples bootstrap/mipro may add.")] = 4,
    candidates: Annotated[
        int, typer.Option(help="mipro: instruction and demo-set candidates.")
    ] = 4,
    trials: Annotated[int, typer.Option(help="mipro: trials; gepa: full evaluations.")] = 8,
    reasoning: Annotated[
        bool, typer.Option("--reasoning", help="A chain of thought before the action.")
    ] = False,
    tools: Annotated[
        bool,
        typer.Option("--tools/--no-tools", help="Give the LM hand strength, equity, pot odds."),
    ] = True,
    temperature: Annotated[float, typer.Option(help="LM sampling temperature.")] = 0.0,
    max_tokens: Annotated[int, typer.Option(help="Longest LM answer.")] = 256,
    seats: Annotated[int, typer.Option(help="Players per table.")] = 2,
    hands: Annotated[int | None, typer.Option(help="Hands the reference plays for data.")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    threads: Annotated[int, typer.Option(help="LM requests in flight.")] = 4,
    metric: Annotated[
        str,
        typer.Option(
            help="agreement, or chips: keep the compilation that wins most vs --opponent."
        ),
    ] = "agreement",
    selections: Annotated[int, typer.Option(help="chips: compilations compared.")] = 3,
    match_hands: Annotated[
        int,
        typer.Option(help="Also play this many duplicate hands vs --opponent, before and after."),
    ] = 0,
    opponent: Annotated[str, typer.Option(help="Opponent of --match-hands.")] = "tag",
    timeout: Annotated[float, typer.Option(help="Seconds per LM request.")] = 60.0,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of these settings (flags win).")
    ] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Compile a DSPy prompt program for a frozen LLM: optimise its instructions and worked
    examples against a reference agent's moves.

    Prints the validation agreement with the reference before and after; the program is saved
    as JSON to OUT and plays as the agent dspy:OUT (gamelm eval, gamelm pokerbench).
    """
    _need("dspy")
    check_out(out, file=True)
    settings = {
        k: v for k, v in locals().items() if k not in ("ctx", "out", "config", "quiet", "as_json")
    }
    settings.update(config_file_values(ctx, config))
    from gamelm.agents.dspy_agent import LMUnavailable

    try:
        cfg = CompileConfig.from_dict(settings)
        result = compile_program(cfg, out, progress=not quiet and not as_json)
    except (ValueError, FileNotFoundError, DataError, LMUnavailable) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted; nothing was saved to {out}")
    summary = result.summary()
    if as_json:
        print(to_json(summary))
        return
    table = Table(
        title=f"compiled program ({cfg.optimizer}, {cfg.lm_spec().label})", box=box.SIMPLE
    )
    table.add_column("validation")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_row(
        "agreement with the reference",
        f"{result.before.agreement:.3f}",
        f"{result.after.agreement:.3f}",
    )
    table.add_row(
        "answers naming no legal action", str(result.before.fallbacks), str(result.after.fallbacks)
    )
    if result.match_before is not None:
        cells = [
            f"{m['bb_per_100']:+.1f} [{m['ci95'][0]:+.1f}, {m['ci95'][1]:+.1f}]"
            for m in (result.match_before, result.match_after)
        ]
        table.add_row(f"bb/100 vs {cfg.opponent}", *cells)
    console.print(table)
    console.print(
        f"{result.after.decisions} decisions (a uniform pick agrees {result.after.chance:.3f}); "
        f"{result.demos} worked examples; {result.seconds:.0f} s"
    )
    console.print(f"saved to {out}; play it as dspy:{out}")


def tune(
    ctx: typer.Context,
    trainer: Annotated[str, typer.Argument(help="ppo, rl, sft or compile.")],
    trials: Annotated[int, typer.Option(help="Finished trials the study should hold.")] = 10,
    timeout: Annotated[
        float | None, typer.Option(help="Stop starting trials after this many seconds.")
    ] = None,
    storage: Annotated[
        str | None, typer.Option(help="Optuna storage URL (default sqlite:///OUT/study.db).")
    ] = None,
    study: Annotated[str | None, typer.Option(help="Study name (default gamelm-TRAINER).")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder of the studies' trials and best.yaml (default tune/TRAINER)."),
    ] = None,
    space: Annotated[
        Path | None,
        typer.Option(help="YAML search space: setting -> {low, high, log} or [choices]."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML of the trainer's base settings for every trial.")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Base setting KEY=VALUE (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sampler.")] = 0,
    workers: Annotated[int, typer.Option(help="Processes running trials at once.")] = 1,
    ray_address: Annotated[
        str | None, typer.Option(help="Run the workers on this Ray cluster (or 'local').")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune/--no-prune", help="Stop trailing trials early (ppo, rl).")
    ] = True,
    eval_hands: Annotated[
        int, typer.Option(help="rl: hands of each trial's final evaluation.")
    ] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Tune a trainer's settings with Optuna: TPE sampling, median pruning, a resumable study.

    Every trial runs the trainer on the base settings (--config, --set) plus the sampled ones
    and scores it: ppo by its final evaluation's bb/100, rl by bb/100 on fresh deals, sft and
    compile by validation agreement with the expert. The base settings are the first trial.
    Prints the best trials and writes OUT/STUDY/best.yaml, which the trainer's --config reads.
    """
    _need("optuna")

    name = trainer.strip().lower()
    base = read_yaml_mapping(config, "--config") if config is not None else {}
    base.update(parse_set(set_ or []))
    search = read_yaml_mapping(space, "--space") if space is not None else {}
    try:
        cfg = TuneConfig(
            trainer=name,
            base=base,
            space=search,
            trials=trials,
            timeout=timeout,
            storage=storage,
            study=study,
            out=str(out or Path("tune") / name),
            seed=seed,
            workers=workers,
            ray_address=ray_address,
            prune=prune,
            eval_hands=eval_hands,
        )
        result = run(cfg)
    except ValueError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; run the same command again to finish the study")
    except Exception as exc:  # a trial's own error: the trainer's message, not a traceback
        fail(f"a trial failed: {first_line(exc)}")
    if as_json:
        print(to_json(result.summary()))
        return
    done = [r for r in result.rows if r["value"] is not None and r["state"] == "complete"]
    done.sort(key=lambda r: r["value"], reverse=True)
    table = Table(title=f"study {cfg.study}: best trials of {len(result.rows)}", box=box.SIMPLE)
    table.add_column("trial", justify="right")
    table.add_column("value", justify="right")
    table.add_column("settings")
    table.add_column("seconds", justify="right")
    for r in done[:10]:
        settings = "  ".join(f"{k}={_cell(r['params'].get(k))}" for k in cfg.space)
        table.add_row(str(r["number"]), f"{r['value']:.4g}", settings, _cell(r["seconds"]))
    console.print(table)
    pruned = sum(r["state"] == "pruned" for r in result.rows)
    default = (
        ""
        if result.default_value is None
        else f"; the base settings scored {result.default_value:.4g}"
    )
    console.print(f"best {result.best_value:.4g}{default}; {pruned} trial(s) pruned")
    console.print(f"best settings written to {result.best_config}")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)
