"""``gamelm bench ...``: throughput next to the reference libraries, in the same run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gamelm.cli._common import (
    JsonOpt,
    console,
    fail,
    to_json,
)
from gamelm.games import GAMES
from gamelm.poker.cards import format_cards, parse_cards


def speed():  # -> the module gamelm.bench.speed
    """The benchmark functions, imported when a benchmark runs (with SciPy, OpenSpiel...)."""
    from gamelm.bench import speed

    return speed


def _print_bench(title: str, result: dict, key: str) -> None:
    table = Table(title=title)
    table.add_column("implementation")
    table.add_column("hands/s", justify="right")
    if any("decisions_per_s" in v for v in result.values()):
        table.add_column("decisions/s", justify="right")
    table.add_column("gamelm is", justify="right")
    ours = result["gamelm"][key]
    for name, v in result.items():
        row = [name, f"{v['hands_per_s']:,.0f}"]
        if "decisions_per_s" in v:
            row.append(f"{v['decisions_per_s']:,.0f}")
        row.append("-" if name == "gamelm" else f"{ours / v[key]:.1f}x")
        table.add_row(*row)
    console.print(table)


def bench_evaluator_cmd(
    seconds: Annotated[float, typer.Option(help="Time budget per implementation.")] = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """7-card evaluations per second: gamelm, phevaluator, eval7, treys, PokerKit."""
    if not 0 < seconds < float("inf"):
        fail(f"--seconds must be a positive number, got {seconds}")

    result = speed().bench_evaluator(seconds)
    if as_json:
        print(json.dumps(result))
    else:
        _print_bench("7-card hand evaluation (one thread)", result, "hands_per_s")


def bench_equity_cmd(
    seconds: Annotated[float, typer.Option(help="Time budget per implementation.")] = 3.0,
    hand: Annotated[str, typer.Option(help="The hand against a random hand, preflop.")] = "AhKh",
    as_json: JsonOpt = False,
) -> None:
    """Monte Carlo equity trials per second: gamelm next to eval7 (AhKh vs a random hand)."""
    if not 0 < seconds < float("inf"):
        fail(f"--seconds must be a positive number, got {seconds}")

    try:
        hand = format_cards(parse_cards(hand, 2))
    except ValueError as exc:
        fail(str(exc))
    result = speed().bench_equity(seconds, hand)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"{hand} vs a random hand, preflop Monte Carlo (one thread)")
    for col in ("implementation", "trials/s", "equity", "gamelm is"):
        table.add_column(col, justify="left" if col == "implementation" else "right")
    ours = result["gamelm"]["trials_per_s"]
    for name, v in result.items():
        ratio = "-" if name == "gamelm" else f"{ours / v['trials_per_s']:.2f}x"
        table.add_row(name, f"{v['trials_per_s']:,.0f}", f"{v['equity']:.4f}", ratio)
    console.print(table)


def bench_engine_cmd(
    seats: Annotated[int, typer.Option(help="Seats per table (2 = heads-up, 6 = 6-max).")] = 2,
    seconds: Annotated[float, typer.Option(help="Time budget per implementation.")] = 3.0,
    tables: Annotated[int, typer.Option(help="gamelm tables in lockstep.")] = 65536,
    as_json: JsonOpt = False,
) -> None:
    """Random-play hands/s at 100bb: gamelm, OpenSpiel, RLCard, PokerKit."""
    if not 0 < seconds < float("inf"):
        fail(f"--seconds must be a positive number, got {seconds}")

    try:
        result = speed().bench_engine(seats, seconds, tables=tables)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result))
    else:
        _print_bench(f"{seats}-seat random play, 100bb (one thread)", result, "hands_per_s")


def bench_train(
    preset: Annotated[str, typer.Option(help="Model size: tiny, small, seed15m.")] = "tiny",
    hands: Annotated[
        int, typer.Option(help="Hands to time (after one warm-up update).", min=1)
    ] = 16384,
    seats: Annotated[int, typer.Option(help="Players per table.")] = 2,
    threads: Annotated[int, typer.Option(help="Torch threads (0: auto).")] = 0,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    as_json: JsonOpt = False,
) -> None:
    """End-to-end PPO training throughput (rollouts and updates with the default settings and
    league, whose snapshot slot is the learner itself as in a run's first updates; evaluations
    and checkpoints, which a run does every few updates, are left out), and
    the poker LM's forward pass through transformers next to gamelm's plain torch forward."""
    import tempfile

    from gamelm.trainers.ppo import PPOConfig, PPOTrainer

    try:
        cfg = PPOConfig(
            preset=preset, seats=seats, threads=threads, device=device,
            num_hands=2 * hands, hands_per_update=min(hands, PPOConfig.hands_per_update),
            eval_interval=0, checkpoint_frequency=0,
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            trainer = PPOTrainer(cfg, Path(tmp) / "run", runs_dir=tmp, tensorboard=False)
        except ValueError as exc:
            fail(str(exc))
        trainer.update(trainer.rollout())  # warm-up
        done = decisions = 0
        start = time.perf_counter()
        while done < hands:
            ro = trainer.rollout()
            trainer.update(ro)
            done += ro.hands
            decisions += ro.size
        seconds = time.perf_counter() - start
        forward = speed().forward_speeds(trainer.model, ro)
    out = {
        "preset": preset,
        "hands_per_s": done / seconds,
        "decisions_per_s": decisions / seconds,
        "threads": trainer.threads,
        "seats": seats,
        "hands": done,
        "parameters": trainer.model.num_parameters(),
        "forward_decisions_per_s": forward,
        "cpus": os.cpu_count(),
    }
    if as_json:
        print(to_json(out))
        return
    console.print(
        f"{preset} ({out['parameters']:,} parameters), {seats}-seat, {trainer.threads} "
        f"thread(s): {out['hands_per_s']:,.0f} hands/s, {out['decisions_per_s']:,.0f} "
        "learner decisions/s end to end (rollouts and PPO updates)"
    )
    console.print(
        f"forward pass, learner decisions/s: transformers {forward['transformers']:,.0f}, "
        f"plain torch {forward['plain_torch']:,.0f} "
        f"({forward['plain_torch'] / forward['transformers']:.2f}x)"
    )


def bench_cfr(
    target: Annotated[float, typer.Option(help="Exploitability to reach, chips per game.")] = 1e-5,
    game: Annotated[str, typer.Option(help="leduc or kuhn.")] = "leduc",
    python_iterations: Annotated[
        int, typer.Option(help="Iterations over which OpenSpiel's Python CFR+ is timed.")
    ] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Seconds for CFR+ to reach an exploitability on Leduc: gamelm, OpenSpiel C++ and Python."""
    if game not in tuple(GAMES):
        fail(f"unknown game {game!r}; choose one of {', '.join(tuple(GAMES))}")
    if not target > 0:
        fail(f"--target must be positive, got {target}")
    if python_iterations < 1:
        fail(f"--python-iterations must be at least 1, got {python_iterations}")

    result = speed().bench_cfr(target, python_iterations=python_iterations, game_name=game)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"Time to {target:g} chips of exploitability on {game} (one thread)")
    for col in ("implementation", "iterations", "seconds", "exploitability", "gamelm cfr+ is"):
        table.add_column(col, justify="left" if col == "implementation" else "right")
    ours = result["gamelm cfr+"]["seconds"]
    for name, row in result.items():
        note = " (est.)" if row.get("estimated") else ""
        reached = "" if row["reached"] else " (not reached)"
        table.add_row(
            name,
            f"{row['iterations']:,.0f}",
            f"{row['seconds']:.2f}{note}",
            f"{row['exploitability']:.3g}{reached}",
            "-" if name == "gamelm cfr+" else f"{row['seconds'] / ours:.1f}x",
        )
    console.print(table)
    if "openspiel Python cfr+" in result:
        console.print(
            f"OpenSpiel's Python CFR+ was timed over {python_iterations} iterations; it computes "
            "gamelm's iterates, so it needs the same number of them.",
            highlight=False,
        )
