"""``gamelm solve`` (CFR on Kuhn and Leduc, MCCFR blueprints for hold'em), ``gamelm lbr`` and
``gamelm bench cfr``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
errors = Console(stderr=True, soft_wrap=True)

SMALL_GAMES = ("kuhn", "leduc")


def _fail(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code=2)


def _budget(
    iterations: int | None, minutes: float | None, default: int
) -> tuple[int | None, float]:
    """(iterations or None, seconds or inf) from the mutually exclusive options."""
    if iterations is not None and minutes is not None:
        _fail("give --iterations or --minutes, not both")
    if iterations is not None and iterations < 1:
        _fail(f"--iterations must be at least 1, got {iterations}")
    if minutes is not None and not minutes > 0:
        _fail(f"--minutes must be positive, got {minutes}")
    if minutes is not None:
        return None, minutes * 60.0
    return (iterations if iterations is not None else default), float("inf")


def _solve_small(
    game_name: str,
    algorithm: str,
    iterations: int | None,
    seconds: float,
    out: Path | None,
    as_json: bool,
    progress: bool,
) -> None:
    from tqdm import tqdm

    from gamelm.files import atomic_file
    from gamelm.games import load_game
    from gamelm.solvers.cfr import CFRSolver

    solver = CFRSolver(load_game(game_name), algorithm)
    start = time.perf_counter()
    bar = tqdm(
        total=iterations,
        unit="it",
        desc=f"{algorithm} on {game_name}",
        disable=not progress,
        leave=False,
    )
    last_shown = 0.0
    with bar:
        while True:
            done = solver.iteration
            if iterations is not None and done >= iterations:
                break
            if iterations is None and time.perf_counter() - start >= seconds:
                break
            step = 10 if iterations is None else min(10, iterations - done)
            solver.run(step)
            bar.update(step)
            now = time.perf_counter()
            if progress and now - last_shown > 0.5:  # one exploitability costs about one iteration
                bar.set_postfix(exploitability=f"{solver.exploitability():.3g}")
                last_shown = now
    solve_seconds = time.perf_counter() - start
    value = solver.exploitability()
    if out is not None:
        strategy = solver.average_strategy()
        with atomic_file(out, ".json") as tmp:
            tmp.write_text(json.dumps(strategy, indent=1) + "\n")
    if as_json:
        print(
            json.dumps(
                {"iterations": solver.iteration, "exploitability": value, "seconds": solve_seconds}
            )
        )
        return
    table = Table(title=f"{algorithm} on {game_name}")
    for col in ("iterations", "seconds", "exploitability (chips/game)", "mbb/g", "game value"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{solver.iteration:,}",
        f"{solve_seconds:.2f}",
        f"{value:.3g}",
        f"{value * 1000:.3g}",
        f"{solver.game_value():+.5f}",
    )
    console.print(table)
    if out is not None:
        console.print(f"average strategy written to {out}", highlight=False)


def solve(
    game: Annotated[str, typer.Argument(help="kuhn, leduc or holdem.")],
    algorithm: Annotated[
        str, typer.Option(help="Kuhn and Leduc: cfr, cfr+ or dcfr (discounted CFR).")
    ] = "cfr+",
    iterations: Annotated[
        int | None, typer.Option(help="Iterations to run (default 1,000 on Kuhn and Leduc).")
    ] = None,
    minutes: Annotated[float | None, typer.Option(help="Run for this long instead.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Kuhn and Leduc: write the average strategy here as JSON, "
            "{OpenSpiel information-state string: [probability per OpenSpiel action id]}."
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object: iterations, exploitability, seconds."),
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Solve a game: CFR, CFR+ or DCFR on Kuhn and Leduc poker (exact exploitability in chips per
    game, OpenSpiel's convention)."""
    name = game.lower()
    if name not in SMALL_GAMES:
        _fail(f"unknown game {game!r}; choose one of {', '.join(SMALL_GAMES)}")
    from gamelm.solvers.cfr import ALGORITHMS

    if algorithm not in ALGORITHMS:
        _fail(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if out is not None and out.is_dir():
        _fail(f"--out {out} is a directory; give a file name")
    iters, seconds = _budget(iterations, minutes, 1000)
    _solve_small(name, algorithm, iters, seconds, out, as_json, progress and not as_json)


def bench_cfr(
    target: Annotated[float, typer.Option(help="Exploitability to reach, chips per game.")] = 1e-5,
    game: Annotated[str, typer.Option(help="leduc or kuhn.")] = "leduc",
    python_iterations: Annotated[
        int, typer.Option(help="Iterations over which OpenSpiel's Python CFR+ is timed.")
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seconds for CFR+ to reach an exploitability on Leduc: gamelm, OpenSpiel C++ and Python."""
    if game not in SMALL_GAMES:
        _fail(f"unknown game {game!r}; choose one of {', '.join(SMALL_GAMES)}")
    if not target > 0:
        _fail(f"--target must be positive, got {target}")
    if python_iterations < 1:
        _fail(f"--python-iterations must be at least 1, got {python_iterations}")
    from gamelm.benchmarking import bench_cfr as run_bench

    result = run_bench(target, python_iterations=python_iterations, game_name=game)
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
