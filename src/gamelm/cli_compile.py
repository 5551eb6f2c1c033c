"""The training compiler and the tuner: ``gamelm compile`` (DSPy prompt programs) and
``gamelm tune`` (Optuna studies over any trainer's settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gamelm.cli_llm import _fail
from gamelm.cli_train import _json

console = Console()

NEEDS = "install the compile extra: pip install 'gamelm[compile]'"


def _need(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        _fail(f"{module} is not installed; {NEEDS}")


def config_file_values(ctx: typer.Context, path: Path | None) -> dict[str, Any]:
    """Settings from a YAML ``--config`` file for the parameters not given on the command
    line (flags win over the file, the file over the defaults)."""
    import yaml
    from click.core import ParameterSource

    if path is None:
        return {}
    if not path.is_file():
        _fail(f"--config: {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        _fail(f"--config: {path} is not valid YAML ({str(exc).splitlines()[0]})")
    if not isinstance(data, dict):
        _fail(f"--config: {path} must hold a mapping of settings")
    out = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if ctx.get_parameter_source(name) in (
            ParameterSource.COMMANDLINE,
            ParameterSource.ENVIRONMENT,
        ):
            continue
        out[name] = value
    return out


# -- compile ---------------------------------------------------------------------------------------


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
    match_hands: Annotated[
        int,
        typer.Option(help="Also play this many duplicate hands vs --opponent, before and after."),
    ] = 0,
    opponent: Annotated[str, typer.Option(help="Opponent of --match-hands.")] = "tag",
    timeout: Annotated[float, typer.Option(help="Seconds per LM request.")] = 60.0,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of these settings (flags win).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compile a DSPy prompt program for a frozen LLM: optimise its instructions and worked
    examples against a reference agent's moves.

    Prints the validation agreement with the reference before and after; the program is saved
    as JSON to OUT and plays as the agent dspy:OUT (gamelm eval, gamelm pokerbench).
    """
    _need("dspy")
    settings = {
        k: v for k, v in locals().items() if k not in ("ctx", "out", "config", "quiet", "as_json")
    }
    settings.update(config_file_values(ctx, config))
    from gamelm.agents.dspy_agent import LMUnavailable
    from gamelm.rollouts.datasets import DataError
    from gamelm.trainers.compile import CompileConfig, compile_program

    try:
        cfg = CompileConfig.from_dict(settings)
        result = compile_program(cfg, out, progress=not quiet and not as_json)
    except (ValueError, FileNotFoundError, DataError, LMUnavailable) as exc:
        _fail(str(exc))
    summary = result.summary()
    if as_json:
        print(_json(summary))
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
