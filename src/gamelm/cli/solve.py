"""``gamelm solve``: CFR on Kuhn and Leduc, MCCFR blueprints of heads-up hold'em."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gamelm.agents.registry import make_agent
from gamelm.cli._common import (
    JsonOpt,
    check_out,
    console,
    errors,
    fail,
    parse_set,
    sigterm_as_interrupt,
)
from gamelm.evaluation.metrics import blueprint_win_rate
from gamelm.files import atomic_file
from gamelm.solvers.blueprint import Blueprint, BlueprintConfig, train

SMALL_GAMES = ("kuhn", "leduc")


def _budget(
    iterations: int | None, minutes: float | None, default: int
) -> tuple[int | None, float]:
    """(iterations or None, seconds or inf) from the mutually exclusive options."""
    if iterations is not None and minutes is not None:
        fail("give --iterations or --minutes, not both")
    if iterations is not None and iterations < 1:
        fail(f"--iterations must be at least 1, got {iterations}")
    if minutes is not None and not minutes > 0:
        fail(f"--minutes must be positive, got {minutes}")
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
    check_out(out, file=True)  # before the solve, not after it

    start = time.perf_counter()
    from gamelm.solvers.cfr import solve as run_cfr  # SciPy

    solver = run_cfr(game_name, algorithm, iterations, seconds, progress)
    solve_seconds = time.perf_counter() - start
    value = solver.exploitability()
    if out is not None:
        strategy = solver.average_strategy()
        try:
            with atomic_file(out, ".json") as tmp:
                tmp.write_text(json.dumps(strategy, indent=1) + "\n")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
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


def _solve_holdem(
    iterations: int | None,
    seconds: float,
    out: Path,
    resume: bool,
    settings: list[str],
    workers: int,
    ray_address: str | None,
    checkpoint_minutes: float,
    eval_vs: str,
    eval_hands: int,
    as_json: bool,
    progress: bool,
) -> None:
    from tqdm import tqdm

    if out.exists() and not resume:
        fail(f"{out} exists; pass --resume to continue that blueprint or choose another --out")
    if resume and not out.exists():
        fail(
            f"--resume: there is no blueprint at {out} to continue "
            "(leave out --resume to start one)"
        )
    if resume and settings:
        fail("--set cannot change a blueprint being resumed; its settings are saved with it")
    try:
        if resume:
            blueprint = Blueprint.load(out)
        else:
            blueprint = Blueprint.new(BlueprintConfig.from_dict(parse_set(settings)))
    except ValueError as exc:
        fail(str(exc))
    tree = blueprint.tree_game.tree
    if not as_json:
        cfg = blueprint.config
        sizes = ", ".join(f"{f:g}" for f in cfg.fractions)
        raises = f"raises {sizes} pot and all-in" if sizes else "no sized raises, all-in"
        console.print(
            f"hold'em blueprint: {raises}, "
            f"at most {'/'.join(map(str, cfg.raise_caps))} per street; {tree.num_nodes:,} betting "
            f"nodes, {tree.num_rows:,} information sets; {workers} worker(s)",
            highlight=False,
        )
    start_iter = blueprint.iterations
    bar = tqdm(
        total=None if iterations is None else iterations - start_iter,
        unit="it",
        desc="MCCFR",
        disable=not progress,
        leave=False,
    )
    started = time.perf_counter()

    def on_round(bp: Blueprint, rate: float) -> None:
        bar.update(bp.iterations - start_iter - bar.n)
        post = {"deals/s": f"{rate:,.0f}", "deals": f"{bp.deals:,}"}
        if bp.history:
            last = bp.history[-1]
            post["vs " + str(last["opponent"])] = f"{last['bb_per_100']:+.0f} bb/100"
        bar.set_postfix(post)

    def on_checkpoint(bp: Blueprint) -> None:
        if eval_hands > 0:
            bp.history.append(blueprint_win_rate(bp, eval_vs, eval_hands, seed=len(bp.history)))

    with sigterm_as_interrupt():  # `kill` ends like Ctrl-C: the finished rounds are saved
        try:
            if eval_hands > 0:
                make_agent(eval_vs)  # a bad name fails now, not after the first checkpoint
            with bar:
                train(
                    blueprint,
                    iterations=iterations,
                    seconds=seconds,
                    workers=workers,
                    ray_address=ray_address,
                    out=out,
                    checkpoint_seconds=checkpoint_minutes * 60,
                    on_round=on_round,
                    on_checkpoint=on_checkpoint,
                )
        except (ValueError, OSError) as exc:
            fail(
                f"{exc}"
                if isinstance(exc, ValueError)
                else f"cannot write {out}: {exc.strerror or exc}"
            )
        except KeyboardInterrupt:
            errors.print(
                f"interrupted after {blueprint.iterations:,} iterations; the blueprint at {out} "
                f"keeps them and `gamelm solve holdem --resume --out {out}` continues it"
            )
            raise typer.Exit(code=130) from None
    wall = time.perf_counter() - started
    summary = {
        "iterations": blueprint.iterations,
        "deals": blueprint.deals,
        "seconds": wall,
        "deals_per_s": (blueprint.deals) / max(blueprint.seconds, 1e-9),
        "out": str(out),
        "evaluation": blueprint.history[-1] if blueprint.history else None,
    }
    if as_json:
        print(json.dumps(summary))
        return
    console.print(
        f"{blueprint.iterations:,} iterations, {blueprint.deals:,} deals in {wall / 60:.1f} min "
        f"({summary['deals_per_s']:,.0f} deals/s); blueprint saved to {out}",
        highlight=False,
    )
    for row in blueprint.history[-5:]:
        lo, hi = row["ci95"]
        console.print(
            f"  after {row['deals']:,} deals: {row['bb_per_100']:+.1f} bb/100 "
            f"[{lo:+.1f}, {hi:+.1f}] vs {row['opponent']} ({row['hands']:,} hands)",
            highlight=False,
        )


def solve(
    game: Annotated[str, typer.Argument(help="kuhn, leduc or holdem.")],
    algorithm: Annotated[
        str, typer.Option(help="Kuhn and Leduc: cfr, cfr+ or dcfr (discounted CFR).")
    ] = "cfr+",
    iterations: Annotated[
        int | None,
        typer.Option(
            help="Iterations to run (Kuhn and Leduc: default 1,000). Hold'em: the total number of "
            "batches of deals to reach, counting those of a resumed blueprint."
        ),
    ] = None,
    minutes: Annotated[
        float | None, typer.Option(help="Run for this long instead (hold'em default: 60).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Kuhn and Leduc: write the average strategy here as JSON, "
            "{OpenSpiel information-state string: [probability per OpenSpiel action id]}. "
            "Hold'em: the blueprint directory (default blueprints/holdem)."
        ),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Hold'em: continue the blueprint at --out.")] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Hold'em abstraction and solver settings, key=value: fractions=0.5,1 "
            "raise_caps=2,1,1,1 stack_bb equity_bins spread_bins river_bins runouts opponents "
            "batch_size batches_per_round linear seed.",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Hold'em: worker processes (default: one per CPU core).")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Hold'em: run the workers as Ray tasks (auto, ray://host:port, local)."),
    ] = None,
    checkpoint_minutes: Annotated[
        float, typer.Option(help="Hold'em: save the blueprint this often.")
    ] = 10.0,
    eval_vs: Annotated[
        str, typer.Option(help="Hold'em: the opponent of the sampled evaluation at checkpoints.")
    ] = "tag",
    eval_hands: Annotated[
        int, typer.Option(help="Hold'em: hands of that evaluation (0: none).")
    ] = 1000,
    as_json: JsonOpt = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Solve a game: CFR, CFR+ or DCFR on Kuhn and Leduc poker (exact exploitability in chips per
    game, OpenSpiel's convention), or an MCCFR blueprint for heads-up No-Limit Hold'em."""
    name = game.lower()
    if name == "holdem" and algorithm != "cfr+":
        fail("--algorithm applies to kuhn and leduc; the hold'em blueprint is solved with MCCFR")
    if name != "holdem":
        given = [
            flag
            for flag, on in (
                ("--resume", resume),
                ("--set", bool(settings)),
                ("--workers", workers is not None),
                ("--ray-address", ray_address is not None),
            )
            if on
        ]
        if given:
            fail(f"{', '.join(given)} apply to holdem only")
    if name == "holdem":
        import os

        n = workers if workers is not None else max(1, min(os.cpu_count() or 1, 16))
        if n < 1:
            fail(f"--workers must be at least 1, got {n}")
        if eval_hands < 0:
            fail(f"--eval-hands must be 0 or more, got {eval_hands}")
        if not checkpoint_minutes > 0:
            fail(f"--checkpoint-minutes must be positive, got {checkpoint_minutes}")
        if out is not None and out.exists() and not out.is_dir():
            fail(f"--out {out} is a file; a blueprint is a directory")
        iters, seconds = (
            _budget(iterations, minutes, 0)
            if (iterations is not None or minutes is not None)
            else (None, 3600.0)
        )
        _solve_holdem(
            iters,
            seconds,
            out or Path("blueprints/holdem"),
            resume,
            settings or [],
            n,
            ray_address,
            checkpoint_minutes,
            eval_vs,
            eval_hands,
            as_json,
            progress and not as_json,
        )
        return
    if name not in SMALL_GAMES:
        fail(f"unknown game {game!r}; choose one of {', '.join((*SMALL_GAMES, 'holdem'))}")

    from gamelm.solvers.cfr import ALGORITHMS  # SciPy

    if algorithm not in ALGORITHMS:
        fail(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if out is not None and out.is_dir():
        fail(f"--out {out} is a directory; give a file name")
    iters, seconds = _budget(iterations, minutes, 1000)
    _solve_small(name, algorithm, iters, seconds, out, as_json, progress and not as_json)
