"""The ``gamelm`` command line: one Typer app, one module per command group.

Every module holds plain functions (their parameters are the options) and calls the library;
this file only names the commands. What the commands share is in `gamelm.cli._common`.
"""

from __future__ import annotations

import typer

from gamelm.cli import bench, compile, evaluate, gameboy, llm, serve, simulate, solve, train

app = typer.Typer(
    help="gamelm: train and evaluate language-model agents for No-Limit Hold'em and Game Boy "
    "games.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Throughput next to the reference libraries.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

COMMANDS = {
    # poker and evaluation
    "simulate": simulate.simulate,
    "eval": evaluate.eval_cmd,
    "pokerbench": evaluate.pokerbench_cmd,
    "lbr": evaluate.lbr,
    "range": evaluate.range_command,
    # the poker LM and its runs
    "demo": train.demo,
    "train": train.train,
    "runs": train.runs,
    "history": train.history,
    # solvers
    "solve": solve.solve,
    # LLM fine-tuning
    "datagen": llm.datagen,
    "sft": llm.sft,
    "reward-model": llm.reward_model,
    "rl": llm.rl,
    "grpo": llm.grpo,
    "ask": llm.ask,
    "merge-lora": llm.merge_lora,
    # prompt programs and hyperparameters
    "compile": compile.compile_command,
    "tune": compile.tune,
    # serving and files
    "serve": serve.serve,
    "play": serve.play,
    "export": serve.export,
    # the Game Boy
    "gameboy": gameboy.gameboy,
}
BENCH_COMMANDS = {
    "evaluator": bench.bench_evaluator_cmd,
    "equity": bench.bench_equity_cmd,
    "engine": bench.bench_engine_cmd,
    "train": bench.bench_train,
    "cfr": bench.bench_cfr,
}
for _name, _command in COMMANDS.items():
    app.command(_name)(_command)
for _name, _command in BENCH_COMMANDS.items():
    bench_app.command(_name)(_command)


def main() -> None:
    app()
