"""The ``gamelm`` command line."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from gamelm.agents.base import AgentUnavailable
from gamelm.cli_train import _fail
from gamelm.cli_train import nan_to_none as _nan_to_none
from gamelm.poker.positions import position_names

app = typer.Typer(
    help="gamelm: train and evaluate language-model agents for No-Limit Hold'em.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Throughput next to the reference libraries.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
console = Console()

AGENTS = ("random",)


def _use_runs_dir(runs_dir: Path | None) -> None:
    """run:NAME specs read the registry of $GAMELM_RUNS; --runs-dir sets it."""
    import os

    if runs_dir is not None:
        os.environ["GAMELM_RUNS"] = str(runs_dir)


def _simulate(
    seats: int,
    hands: int,
    seed: int,
    stack_bb: int,
    small_blind: int,
    big_blind: int,
    ante: int,
    tables: int,
    fractions: str,
    phh_out: Path | None,
    progress: bool = True,
) -> dict:
    from tqdm import tqdm

    from gamelm.poker.abstraction import ActionAbstraction, sample_uniform
    from gamelm.poker.batch import BatchEngine
    from gamelm.poker.history import BatchRecorder, dumps, write_atomic

    if tables < 1:
        _fail(f"--tables must be at least 1, got {tables}")
    if seed < 0:
        _fail(f"--seed must not be negative, got {seed}")
    try:
        menu = ActionAbstraction.parse(fractions)
        tables = min(tables, hands)
        eng = BatchEngine(
            tables, seats, small_blind, big_blind, starting_stacks=stack_bb * big_blind, ante=ante
        )
    except ValueError as exc:
        _fail(str(exc))
    rng = np.random.default_rng(seed)
    recorder = BatchRecorder(tables) if phh_out is not None else None
    if phh_out is not None:
        try:
            phh_out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _fail(f"cannot write hand histories to {phh_out}: {exc.strerror or exc}")
    # every seat's result per finished hand, in chips
    results = np.zeros((hands, seats), np.int64)
    started = min(tables, hands)
    mask = np.arange(tables) < started
    eng.reset(mask, rng=rng)
    hand_id = np.full(tables, -1)
    hand_id[:started] = np.arange(started)
    if recorder is not None:
        recorder.start(eng, np.flatnonzero(mask))
    finished = 0
    bar = tqdm(total=hands, unit="hand", disable=not progress, leave=False)
    t0 = time.perf_counter()
    decisions = 0
    in_play = mask.copy()  # the table holds a hand not yet recorded
    while finished < hands:
        # hands can end at the deal (everyone all-in for the blinds or antes): record them first
        just = np.flatnonzero(in_play & eng.done)
        if just.size == 0:
            active = ~eng.done
            decisions += int(active.sum())
            kind, amount = menu.decode(eng, sample_uniform(menu.legal_mask(eng), rng))
            if recorder is not None:
                recorder.record(eng, kind, amount)
            eng.step(kind, amount)
            continue
        results[hand_id[just]] = eng.payoffs()[just]
        if recorder is not None:
            for t, rec in zip(just, recorder.finish(eng, just)):
                rec.extra["hand"] = int(hand_id[t])
                rec.extra["seed"] = seed
                write_atomic(phh_out / f"hand_{hand_id[t]:07d}.phh", dumps(rec))
        finished += just.size
        bar.update(just.size)
        # deal new hands at the tables that finished, while hands remain to be started
        restart = just[: hands - started]
        in_play[just[restart.size :]] = False
        if restart.size:
            m = np.zeros(tables, bool)
            m[restart] = True
            eng.reset(m, rng=rng)
            hand_id[restart] = np.arange(started, started + restart.size)
            started += restart.size
            if recorder is not None:
                recorder.start(eng, restart)
    bar.close()
    elapsed = time.perf_counter() - t0
    return {
        "results": results,
        "elapsed": elapsed,
        "decisions": decisions,
        "big_blind": big_blind,
    }


def _summary_table(title: str, out: dict) -> Table:
    results = out["results"] / out["big_blind"]  # in big blinds per hand
    n = len(results)
    table = Table(title=title)
    table.add_column("seat")
    table.add_column("position")
    table.add_column("net (bb)", justify="right")
    table.add_column("bb/100", justify="right")
    table.add_column("95% CI", justify="right")
    seats = results.shape[1]
    names = position_names(seats)
    for s in range(seats):
        mean = results[:, s].mean() * 100
        se = results[:, s].std(ddof=1) / math.sqrt(n) * 100 if n > 1 else float("nan")
        table.add_row(
            str(s),
            names[s],
            f"{results[:, s].sum():,.0f}",
            f"{mean:+.1f}",
            f"[{mean - 1.96 * se:+.1f}, {mean + 1.96 * se:+.1f}]",
        )
    table.caption = (
        f"{n:,} hands in {out['elapsed']:.2f}s ({n / out['elapsed']:,.0f} hands/s, "
        f"{out['decisions'] / out['elapsed']:,.0f} decisions/s)"
    )
    return table


@app.command()
def simulate(
    seats: Annotated[int, typer.Option(help="Seats per table, 2..10.")] = 2,
    hands: Annotated[int, typer.Option(help="Number of hands to play.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the cards and the random players.")] = 0,
    phh_out: Annotated[
        Path | None, typer.Option(help="Write one PHH file per hand into this folder.")
    ] = None,
    agents: Annotated[str, typer.Option(help="Players: 'random' (more come with agents).")] = (
        "random"
    ),
    stack: Annotated[int, typer.Option(help="Starting stack in big blinds.")] = 100,
    small_blind: Annotated[int, typer.Option(help="Small blind in chips.")] = 1,
    big_blind: Annotated[int, typer.Option(help="Big blind in chips.")] = 2,
    ante: Annotated[int, typer.Option(help="Ante in chips, posted by every seat.")] = 0,
    tables: Annotated[int, typer.Option(help="Tables played in lockstep.")] = 4096,
    fractions: Annotated[str, typer.Option(help="Raise sizes as pot fractions.")] = "0.5,1",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Play HANDS hands through the batched engine and print each seat's results."""
    if hands < 1:
        _fail(f"--hands must be at least 1, got {hands}")
    if stack < 1:
        _fail(f"--stack must be at least 1 big blind, got {stack}")
    names = [a.strip() for a in agents.split(",") if a.strip()]
    unknown = [a for a in names if a not in AGENTS]
    if not names or unknown:
        _fail(
            f"unknown agent {unknown[0] if unknown else agents!r}; available: {', '.join(AGENTS)}"
        )
    out = _simulate(
        seats,
        hands,
        seed,
        stack,
        small_blind,
        big_blind,
        ante,
        tables,
        fractions,
        phh_out,
        progress=not as_json,
    )
    if as_json:
        res = out["results"]
        print(
            json.dumps(
                {
                    "hands": len(res),
                    "hands_per_s": len(res) / out["elapsed"],
                    "net_chips": res.sum(axis=0).tolist(),
                }
            )
        )
        return
    console.print(_summary_table(f"{seats}-seat random play, seed {seed}", out))
    if phh_out is not None:
        console.print(f"wrote {hands:,} hand histories to {phh_out}")


@app.command()
def demo(
    hands: Annotated[int, typer.Option(help="Hands to train for.")] = 150_000,
    eval_hands: Annotated[int, typer.Option(help="Evaluation hands per opponent.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the run.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Run directory (default runs/demo-SEED, -2, -3... if taken)."),
    ] = (None),
    runs_dir: Annotated[
        Path | None, typer.Option(help="Registry folder (default $GAMELM_RUNS or ./runs).")
    ] = None,
) -> None:
    """Train the default poker LM with PPO for a few minutes, then evaluate it heads-up against
    every baseline (duplicate deals, seats rotated, 95% CIs)."""
    from gamelm.cli_train import run_training
    from gamelm.runs.registry import default_runs_dir
    from gamelm.trainers.ppo import PPOConfig, evaluate_model

    if hands < 1:
        _fail(f"--hands must be at least 1, got {hands}")
    try:
        cfg = PPOConfig(num_games=hands, seed=seed)
    except ValueError as exc:
        _fail(str(exc))
    if eval_hands < 2:
        _fail(f"--eval-hands must be at least 2, got {eval_hands}")
    if out is None:  # a new folder per demo run
        base = (runs_dir or default_runs_dir()) / f"demo-{seed}"
        out, k = base, 1
        while out.exists():
            k += 1
            out = base.with_name(f"{base.name}-{k}")
    console.print(
        f"Training the '{cfg.preset}' poker LM for {hands:,} hands against "
        f"{', '.join(cfg.opponents)} (PPO, {cfg.seats} seats); the run goes to {out}."
    )
    result = run_training(cfg, out, name=out.name, runs_dir=runs_dir, resume=False)
    console.print(
        f"trained in {result.seconds:.0f}s of rollouts and updates "
        f"({result.hands / max(result.seconds, 1e-9):,.0f} hands/s; evaluations not counted). "
        f"Evaluating {result.final_model} ..."
    )
    from gamelm.agents.lm import PokerLM

    model = PokerLM.load(result.final_model)
    specs = ("random", "calling-station", "maniac", "tag", "equity")
    with console.status(f"playing {eval_hands:,} hands against each of {', '.join(specs)}"):
        ev = evaluate_model(model, specs, eval_hands, seed=seed + 1)
    table = Table(
        title=f"ckpt:{result.final_model} heads-up, {eval_hands:,} duplicate hands each",
        box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    for col in ("opponent", "bb/100", "95% CI", "VPIP", "PFR", "AF"):
        table.add_column(col, justify="left" if col == "opponent" else "right", no_wrap=True)
    for spec, r in ev["opponents"].items():
        lo, hi = r["ci95"]
        table.add_row(
            spec, f"{r['bb_per_100']:+.1f}", f"[{lo:+.1f}, {hi:+.1f}]",
            *("-" if r[k] != r[k] else f"{r[k]:.2f}" for k in ("vpip", "pfr", "af")),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"Again with more hands: `gamelm eval ckpt:{result.final_model} --vs tag`; "
        f"the training curves: `gamelm history {out.name}`."
    )


@app.command("eval")
def eval_cmd(
    agent: Annotated[str, typer.Argument(help="The agent to evaluate (random, tag, equity...).")],
    vs: Annotated[str, typer.Option(help="Opponents, comma-separated; they fill the seats.")] = (
        "random"
    ),
    hands: Annotated[int, typer.Option(help="Hands to play.")] = 10_000,
    seats: Annotated[int, typer.Option(help="Seats per table, 2..10.")] = 2,
    duplicate: Annotated[
        bool, typer.Option("--duplicate/--no-duplicate", help="Replay each deal in every seat.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the deals and the agents.")] = 0,
    stack: Annotated[int, typer.Option(help="Starting stack in big blinds.")] = 100,
    fractions: Annotated[str, typer.Option(help="Raise sizes as pot fractions.")] = "0.5,1",
    reference: Annotated[
        str | None, typer.Option(help="Also report agreement with this agent's choices.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also write a bar chart of bb/100 with 95% CIs (PNG).")
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(help="Also write every hand's records (.npz; MatchResult.load reads it)."),
    ] = None,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Registry that run:NAME agents are looked up in.")
    ] = None,
) -> None:
    """Play AGENT against the --vs agents and report bb/100 with 95% CIs and playing stats.

    Agents: random, calling-station, maniac, tag, equity, exploit:NAME (NAME adjusted to the
    opponents' tendencies, counted by an opponent model during the match), ckpt:PATH (a saved
    poker LM), run:NAME (the model of a registered training run) or blueprint:PATH (a hold'em
    blueprint from `gamelm solve holdem`, heads-up). An agent named more than
    once is reported as NAME#k, k its place in the lineup
    (0 is AGENT)."""
    from gamelm.agents.baselines import make_agent
    from gamelm.evaluation.match import MatchConfig, play_match
    from gamelm.evaluation.metrics import summary
    from gamelm.poker.abstraction import ActionAbstraction

    if seed < 0:
        _fail(f"--seed must not be negative, got {seed}")
    _use_runs_dir(runs_dir)
    for what, path in (("the plot", plot), ("the records", save)):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            _fail(f"cannot write {what} {path}: give a file name in an existing folder")
    try:
        menu = ActionAbstraction.parse(fractions)
        players = [make_agent(agent)] + [make_agent(a) for a in vs.split(",") if a.strip()]
        ref = make_agent(reference) if reference else None
        for p in (*players, ref):
            bp = getattr(p, "blueprint", None)
            if bp is not None and bp.config.stack_bb != stack:
                raise ValueError(
                    f"{p.name} was solved for {bp.config.stack_bb} bb stacks; "
                    f"play it at --stack {bp.config.stack_bb}"
                )
        cfg = MatchConfig(
            seats=seats,
            hands=hands,
            duplicate=duplicate,
            seed=seed,
            stack_bb=stack,
            fractions=menu.fractions,
        )
        res = play_match(players, cfg, reference=ref, progress=not as_json)
    except (ValueError, AgentUnavailable) as exc:
        _fail(str(exc))
    except MemoryError:
        _fail(f"not enough memory to record {hands:,} hands; play fewer (--hands)")
    out = summary(res)
    if save is not None:
        try:
            res.save(save)
        except OSError as exc:
            _fail(f"cannot write the records {save}: {exc.strerror or exc}")
    if plot is not None:
        from gamelm.evaluation.report import plot_win_rates

        try:
            plot_win_rates(out, plot, title=f"{seats}-seat, {out['hands']:,} hands")
        except (OSError, ValueError) as exc:
            _fail(f"cannot write the plot {plot}: {exc}")
    if as_json:  # statistics without a single case (nan) are written as null
        print(json.dumps(_nan_to_none(out)))
        return
    print_match_summary(
        out, f"{seats}-seat, {out['hands']:,} hands" + (", duplicate" if duplicate else "")
    )
    if reference:
        for name, a in out["agents"].items():
            if "agreement" in a:
                console.print(
                    f"{name} agrees with {reference} on {a['agreement']:.1%} of decisions"
                )


def print_match_summary(out: dict, title: str) -> None:
    """The tables of `gamelm eval`: bb/100 with 95% CIs, playing statistics, and the first
    agent's results by position (``out`` is `gamelm.evaluation.metrics.summary`)."""
    # all-in: all-in adjusted bb/100; bluffs: per 100 hands, won: the share of them won
    table = Table(title=f"{title}: bb/100", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("agent", "hands", "bb/100", "95% CI", "all-in", "95% CI "):
        wide = 12 if "CI" in col else None  # keeps an interval whole in 80 columns
        if col == "agent":  # a long name folds onto more lines; numbers are never cut
            table.add_column(col, overflow="fold", max_width=18)
        else:
            table.add_column(col, justify="right", no_wrap=True, min_width=wide)
    for name, a in out["agents"].items():
        adj = a["allin_adjusted"]
        table.add_row(
            name,
            f"{a['hands']:,}",
            f"{a['bb_per_100']:+.1f}",
            f"[{a['ci95'][0]:+.0f}, {a['ci95'][1]:+.0f}]",
            f"{adj['bb_per_100']:+.1f}",
            f"[{adj['ci95'][0]:+.0f}, {adj['ci95'][1]:+.0f}]",
        )
    console.print(table)
    style = Table(title=f"{title}: playing statistics", box=box.SIMPLE_HEAD, pad_edge=False)
    cols = {
        "VPIP": "vpip",
        "PFR": "pfr",
        "3-bet": "three_bet",
        "AF": "af",
        "WTSD": "wtsd",
        "W$SD": "wsd",
        "bluffs": "bluffs_per_100",
        "won": "bluff_success",
    }
    style.add_column("agent", overflow="fold", max_width=18)
    for col in cols:
        style.add_column(col, justify="right", no_wrap=True)
    for name, a in out["agents"].items():
        cells = [a[key] for key in cols.values()]
        style.add_row(name, *("-" if v is None or v != v else f"{v:.2f}" for v in cells))
    console.print(style)
    hero = next(iter(out["agents"]))
    pos = Table(title=f"{hero} by position", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("position", "hands", "bb/100", "95% CI"):
        pos.add_column(col, justify="left" if col == "position" else "right", no_wrap=True)
    for name, w in out["agents"][hero]["positions"].items():
        pos.add_row(
            name,
            f"{w['hands']:,}",
            f"{w['bb_per_100']:+.1f}",
            f"[{w['ci95'][0]:+.0f}, {w['ci95'][1]:+.0f}]",
        )
    console.print(pos)


@app.command("pokerbench")
def pokerbench_cmd(
    agent: Annotated[str, typer.Argument(help="The agent to score (random, tag, equity...).")],
    data: Annotated[
        Path, typer.Option(help="Folder with the two PokerBench test CSV files.")
    ] = Path("../shared/pokerbench_data"),
    seed: Annotated[int, typer.Option(help="Seed of the agent's randomness.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Registry that run:NAME agents are looked up in.")
    ] = None,
) -> None:
    """Score AGENT on the PokerBench test set: exact and action match against the solver.

    AGENT is any agent of `gamelm eval`, ckpt:PATH and run:NAME included."""
    _use_runs_dir(runs_dir)
    from gamelm.agents.baselines import make_agent
    from gamelm.evaluation import pokerbench

    if seed < 0:
        _fail(f"--seed must not be negative, got {seed}")
    try:
        player = make_agent(agent)
        bench = pokerbench.load(data, progress=not as_json)
        out = pokerbench.evaluate(player, bench, seed=seed, progress=not as_json)
    except (ValueError, OSError, AgentUnavailable) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(_nan_to_none(out)))
        return
    table = Table(title=f"PokerBench: {agent} ({out['converted']:,} of {out['total']:,} rows)")
    for col in ("part", "spots", "exact", "action", "random exact", "random action"):
        table.add_column(col, justify="left" if col == "part" else "right")
    for part in ("preflop", "postflop", "overall"):
        r = out[part]
        table.add_row(
            part,
            f"{r['n']:,}",
            f"{r['exact']:.1%}",
            f"{r['action']:.1%}",
            f"{out['random_floor'][part]:.1%}",
            f"{out['random_floor_action'][part]:.1%}",
        )
    console.print(table)
    pots = out["pot_vs_data"]
    console.print(
        f"labels legal: {out['labels_legal']:,}; sizes snapped to the min-raise or all-in: "
        f"{out['snapped_sizes']:,}; replayed pots more than 1 bb off the rows' pot_size: "
        f"{pots['over_1bb']:,} of {pots['rows']:,} (errors in the data's pot_size)",
        highlight=False,
    )
    for part, row, why in bench.failures[:5]:
        console.print(f"[yellow]{part} row {row} not converted: {why}[/yellow]")


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


@bench_app.command("evaluator")
def bench_evaluator_cmd(
    seconds: Annotated[float, typer.Option(help="Time budget per implementation.")] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """7-card evaluations per second: gamelm, phevaluator, eval7, treys, PokerKit."""
    if seconds <= 0:
        _fail(f"--seconds must be positive, got {seconds}")
    from gamelm.benchmarking import bench_evaluator

    result = bench_evaluator(seconds)
    if as_json:
        print(json.dumps(result))
    else:
        _print_bench("7-card hand evaluation (one thread)", result, "hands_per_s")


@bench_app.command("equity")
def bench_equity_cmd(
    seconds: Annotated[float, typer.Option(help="Time budget per implementation.")] = 3.0,
    hand: Annotated[str, typer.Option(help="The hand against a random hand, preflop.")] = "AhKh",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Monte Carlo equity trials per second: gamelm next to eval7 (AhKh vs a random hand)."""
    if seconds <= 0:
        _fail(f"--seconds must be positive, got {seconds}")
    from gamelm.benchmarking import bench_equity
    from gamelm.poker.cards import format_cards, parse_cards

    try:
        hand = format_cards(parse_cards(hand, 2))
    except ValueError as exc:
        _fail(str(exc))
    result = bench_equity(seconds, hand)
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


@bench_app.command("engine")
def bench_engine_cmd(
    seats: Annotated[int, typer.Option(help="Seats per table (2 = heads-up, 6 = 6-max).")] = 2,
    seconds: Annotated[float, typer.Option(help="Time budget per implementation.")] = 3.0,
    tables: Annotated[int, typer.Option(help="gamelm tables in lockstep.")] = 65536,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Random-play hands/s at 100bb: gamelm, OpenSpiel, RLCard, PokerKit."""
    if seconds <= 0:
        _fail(f"--seconds must be positive, got {seconds}")
    from gamelm.benchmarking import bench_engine

    try:
        result = bench_engine(seats, seconds, tables=tables)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(result))
    else:
        _print_bench(f"{seats}-seat random play, 100bb (one thread)", result, "hands_per_s")


from gamelm import cli_train  # noqa: E402  (the training commands live in their own module)

app.command("train")(cli_train.train)
app.command("runs")(cli_train.runs)
app.command("history")(cli_train.history)
bench_app.command("train")(cli_train.bench_train)

from gamelm import cli_solve  # noqa: E402  (solvers: solve, lbr, bench cfr)

app.command("solve")(cli_solve.solve)
app.command("lbr")(cli_solve.lbr)
bench_app.command("cfr")(cli_solve.bench_cfr)

from gamelm import cli_llm  # noqa: E402  (LLM fine-tuning: datagen, sft, reward-model, rl, ask)

app.command("datagen")(cli_llm.datagen)
app.command("sft")(cli_llm.sft)
app.command("reward-model")(cli_llm.reward_model)
app.command("rl")(cli_llm.rl)
app.command("ask")(cli_llm.ask)
app.command("merge-lora")(cli_llm.merge_lora)

from gamelm import cli_compile  # noqa: E402  (DSPy compile, Optuna tune)

app.command("compile")(cli_compile.compile_command)
app.command("tune")(cli_compile.tune)


from gamelm import cli_serve  # noqa: E402  (serve, play, range, export)

app.command("serve")(cli_serve.serve)
app.command("play")(cli_serve.play)
app.command("range")(cli_serve.range_command)
app.command("export")(cli_serve.export)

from gamelm import cli_gameboy  # noqa: E402  (the Game Boy)

app.command("gameboy")(cli_gameboy.gameboy)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
