"""``gamelm solve`` (CFR on Kuhn and Leduc, MCCFR blueprints for hold'em), ``gamelm lbr`` and
``gamelm bench cfr``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gamelm.agents.base import AgentUnavailable
from gamelm.cli_train import _fail

console = Console()
errors = Console(stderr=True, soft_wrap=True)

SMALL_GAMES = ("kuhn", "leduc")


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
        try:
            with atomic_file(out, ".json") as tmp:
                tmp.write_text(json.dumps(strategy, indent=1) + "\n")
        except OSError as exc:
            _fail(f"cannot write {out}: {exc.strerror or exc}")
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


def _parse_settings(settings: list[str]) -> dict[str, object]:
    """``--set key=value`` pairs for `BlueprintConfig` (lists as ``0.5,1``)."""
    import dataclasses

    from gamelm.solvers.blueprint import BlueprintConfig

    fields = {f.name: f for f in dataclasses.fields(BlueprintConfig)}
    out: dict[str, object] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            _fail(f"--set takes key=value, got {item!r}")
        if key not in fields:
            _fail(f"unknown blueprint setting {key!r}; known: {', '.join(sorted(fields))}")
        default = getattr(BlueprintConfig(), key)
        try:
            if isinstance(default, tuple):
                kind = type(default[0])
                out[key] = tuple(kind(x) for x in raw.split(",") if x.strip())
            elif isinstance(default, bool):
                if raw.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                out[key] = raw.lower() in ("true", "1")
            else:
                out[key] = type(default)(raw)
        except ValueError:
            what = (
                f"comma-separated {type(default[0]).__name__} values"
                if isinstance(default, tuple)
                else type(default).__name__
            )
            _fail(f"--set {key}={raw}: expected {what}")
    return out


def sampled_evaluation(
    blueprint: Any, opponent: str = "tag", hands: int = 1000, seed: int = 0
) -> dict[str, float | str | list[float]]:
    """Play the current average strategy against ``opponent`` for ``hands`` duplicate heads-up
    hands (the blueprint's stacks, the match menu of its raise sizes); bb/100 with its 95% CI."""
    from gamelm.agents.baselines import make_agent
    from gamelm.agents.tabular import BlueprintAgent
    from gamelm.evaluation.match import MatchConfig, play_match
    from gamelm.evaluation.metrics import agent_win_rates

    cfg = blueprint.config
    agent = BlueprintAgent(blueprint)
    match = MatchConfig(
        seats=2, hands=hands, seed=seed, stack_bb=cfg.stack_bb, fractions=cfg.fractions
    )
    result = play_match([agent, make_agent(opponent)], match)
    wr = agent_win_rates(result)[agent.name]
    return {
        "iterations": blueprint.iterations,
        "deals": blueprint.deals,
        "opponent": opponent,
        "hands": hands,
        "bb_per_100": wr.bb_per_100,
        "ci95": [float(x) for x in wr.ci95],
    }


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

    from gamelm.solvers.blueprint import Blueprint, BlueprintConfig, train

    overrides = _parse_settings(settings)
    if out.exists() and not resume:
        _fail(f"{out} exists; pass --resume to continue that blueprint or choose another --out")
    try:
        if resume and out.exists():
            blueprint = Blueprint.load(out)
            if overrides:
                _fail(
                    "--set cannot change a blueprint being resumed; its settings are saved with it"
                )
        else:
            blueprint = Blueprint.new(BlueprintConfig(**overrides))
    except ValueError as exc:
        _fail(str(exc))
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
            bp.history.append(sampled_evaluation(bp, eval_vs, eval_hands, seed=len(bp.history)))

    import signal

    def terminate(signum: int, frame: object) -> None:  # `kill`: end like Ctrl-C, tables saved
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        if eval_hands > 0:
            from gamelm.agents.baselines import make_agent

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
        _fail(
            f"{exc}"
            if isinstance(exc, ValueError)
            else f"cannot write {out}: {exc.strerror or exc}"
        )
    except KeyboardInterrupt:
        errors.print(
            f"interrupted after {blueprint.iterations:,} iterations; the blueprint at {out} keeps "
            f"them and `gamelm solve holdem --resume --out {out}` continues it"
        )
        raise typer.Exit(code=130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
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
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object: iterations, exploitability, seconds."),
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Solve a game: CFR, CFR+ or DCFR on Kuhn and Leduc poker (exact exploitability in chips per
    game, OpenSpiel's convention), or an MCCFR blueprint for heads-up No-Limit Hold'em."""
    name = game.lower()
    if name == "holdem" and algorithm != "cfr+":
        _fail("--algorithm applies to kuhn and leduc; the hold'em blueprint is solved with MCCFR")
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
            _fail(f"{', '.join(given)} apply to holdem only")
    if name == "holdem":
        import os

        n = workers if workers is not None else max(1, min(os.cpu_count() or 1, 16))
        if n < 1:
            _fail(f"--workers must be at least 1, got {n}")
        if eval_hands < 0:
            _fail(f"--eval-hands must be 0 or more, got {eval_hands}")
        if not checkpoint_minutes > 0:
            _fail(f"--checkpoint-minutes must be positive, got {checkpoint_minutes}")
        if out is not None and out.exists() and not out.is_dir():
            _fail(f"--out {out} is a file; a blueprint is a directory")
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
        _fail(f"unknown game {game!r}; choose one of {', '.join((*SMALL_GAMES, 'holdem'))}")
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


def lbr(
    agent: Annotated[
        str,
        typer.Argument(help="The heads-up agent to exploit (tag, blueprint:PATH, ckpt:PATH...)."),
    ],
    hands: Annotated[int, typer.Option(help="Games to play (every deal in both seats).")] = 1000,
    bets: Annotated[
        str, typer.Option(help="LBR's bet sizes as pot fractions (all-in is always one).")
    ] = "1",
    fractions: Annotated[
        str, typer.Option(help="Raise sizes of the menu the agent plays with.")
    ] = "0.5,1",
    stack: Annotated[int, typer.Option(help="Starting stacks in big blinds.")] = 100,
    wp_trials: Annotated[
        int, typer.Option(help="Monte Carlo deals per equity against the range.")
    ] = 400,
    seed: Annotated[int, typer.Option(help="Seed of the deals and of both players.")] = 0,
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print one JSON object: {"mbb_per_game", "ci95", "hands"}.'),
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Local best response: how much LBR wins from AGENT heads-up, mbb/game with a 95% CI (a lower
    bound on the agent's exploitability)."""
    from gamelm.agents.baselines import make_agent
    from gamelm.poker.abstraction import ActionAbstraction
    from gamelm.solvers.lbr import LBRConfig, local_best_response

    try:
        config = LBRConfig(
            hands=hands,
            bet_fractions=ActionAbstraction.parse(bets).fractions,
            fractions=ActionAbstraction.parse(fractions).fractions,
            stack_bb=stack,
            wp_trials=wp_trials,
            seed=seed,
        )
        player = make_agent(agent)
        result = local_best_response(player, config, progress=progress and not as_json)
    except (ValueError, AgentUnavailable) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    lo, hi = result.ci95
    console.print(
        f"LBR vs {player.name}: {result.mbb_per_game:+,.0f} mbb/game, "
        f"95% CI [{lo:+,.0f}, {hi:+,.0f}] over {result.hands:,} games",
        highlight=False,
    )
