"""``gamelm eval``, ``pokerbench``, ``lbr`` and ``range``: how strong an agent is and how it
plays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from gamelm import load_agent
from gamelm.agents.base import AgentUnavailable
from gamelm.agents.registry import make_agent
from gamelm.cli._common import (
    GreedyOpt,
    JsonOpt,
    PromptStyleOpt,
    RunsDirOpt,
    console,
    fail,
    llm_settings,
    load_agent_or_fail,
    nan_to_none,
    split_list,
)
from gamelm.errors import first_line
from gamelm.evaluation import pokerbench
from gamelm.evaluation.lbr import LBRConfig, local_best_response
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import summary
from gamelm.evaluation.report import plot_win_rates
from gamelm.evaluation.strategy import plot_grid, preflop_grid
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.rules import SEATS, check_seats


def eval_cmd(
    agent: Annotated[str, typer.Argument(help="The agent to evaluate (random, tag, equity...).")],
    vs: Annotated[str, typer.Option(help="Opponents, comma-separated; they fill the seats.")] = (
        "random"
    ),
    hands: Annotated[int, typer.Option(help="Hands to play.")] = 10_000,
    seats: Annotated[int, typer.Option(help=f"Seats per table, {SEATS}.")] = 2,
    duplicate: Annotated[
        bool, typer.Option("--duplicate/--no-duplicate", help="Replay each deal in every seat.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the deals and the agents.")] = 0,
    stack: Annotated[int, typer.Option(help="Starting stack in big blinds.")] = 100,
    fractions: Annotated[str, typer.Option(help="Raise sizes as pot fractions.")] = "0.5,1",
    reference: Annotated[
        str | None, typer.Option(help="Also report agreement with this agent's choices.")
    ] = None,
    as_json: JsonOpt = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also write a bar chart of bb/100 with 95% CIs (PNG).")
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(help="Also write every hand's records (.npz; MatchResult.load reads it)."),
    ] = None,
    greedy: GreedyOpt = False,
    prompt_style: PromptStyleOpt = None,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Play AGENT against the --vs agents and report bb/100 with 95% CIs and playing stats.

    Agents: random, calling-station, maniac, tag, equity, exploit:NAME (NAME adjusted to the
    opponents' tendencies, counted by an opponent model during the match), ckpt:PATH (a saved
    poker LM or fine-tuned LLM; a model directory or a file of `gamelm export` may be named
    directly), hf:NAME (any transformers causal LM), run:NAME (the model of a registered
    training run), blueprint:PATH (a hold'em blueprint from `gamelm solve holdem`, heads-up) or
    dspy:PATH (a compiled prompt program). An agent named more than once is reported as NAME#k,
    k its place in the lineup (0 is AGENT)."""

    if seed < 0:
        fail(f"--seed must not be negative, got {seed}")
    for what, path in (("the plot", plot), ("the records", save)):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            fail(f"cannot write {what} {path}: give a file name in an existing folder")
    try:
        menu = ActionAbstraction.parse(fractions)
        players = [load_agent(a, runs_dir=runs_dir) for a in [agent, *split_list(vs)]]
        llm_settings(players[0], greedy, prompt_style)
        ref = make_agent(reference, runs_dir) if reference else None
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
    except (ValueError, FileNotFoundError, AgentUnavailable) as exc:
        fail(str(exc))
    except MemoryError:
        fail(f"not enough memory to record {hands:,} hands; play fewer (--hands)")
    out = summary(res)
    if save is not None:
        try:
            res.save(save)
        except OSError as exc:
            fail(f"cannot write the records {save}: {exc.strerror or exc}")
    if plot is not None:
        try:
            plot_win_rates(out, plot, title=f"{seats}-seat, {out['hands']:,} hands")
        except (OSError, ValueError) as exc:
            fail(f"cannot write the plot {plot}: {exc}")
    if as_json:  # statistics without a single case (nan) are written as null
        print(json.dumps(nan_to_none(out)))
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


def pokerbench_cmd(
    agent: Annotated[str, typer.Argument(help="The agent to score (random, tag, equity...).")],
    data: Annotated[
        Path | None,
        typer.Option(
            help="Folder with the two PokerBench test CSV files (default $GAMELM_POKERBENCH).",
            envvar="GAMELM_POKERBENCH",
            show_envvar=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the agent's randomness.")] = 0,
    greedy: GreedyOpt = False,
    prompt_style: PromptStyleOpt = None,
    as_json: JsonOpt = False,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Score AGENT on the PokerBench test set: exact and action match against the solver.

    AGENT is any agent of `gamelm eval`, ckpt:PATH and run:NAME included."""

    if seed < 0:
        fail(f"--seed must not be negative, got {seed}")
    if data is None:
        fail(
            "give --data FOLDER, the folder of PokerBench's two test CSV files "
            "(or set $GAMELM_POKERBENCH to it)"
        )
    try:
        player = load_agent(agent, runs_dir=runs_dir)
        llm_settings(player, greedy, prompt_style)
        bench = pokerbench.load(data, progress=not as_json)
        out = pokerbench.evaluate(player, bench, seed=seed, progress=not as_json)
    except (ValueError, OSError, AgentUnavailable) as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(nan_to_none(out)))
        return
    mode = " (greedy)" if greedy else ""
    table = Table(
        title=f"PokerBench: {agent}{mode} ({out['converted']:,} of {out['total']:,} rows)"
    )
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
    as_json: JsonOpt = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Local best response: how much LBR wins from AGENT heads-up, mbb/game with a 95% CI (a lower
    bound on the agent's exploitability)."""

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
        fail(str(exc))
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    lo, hi = result.ci95
    console.print(
        f"LBR vs {player.name}: {result.mbb_per_game:+,.0f} mbb/game, "
        f"95% CI [{lo:+,.0f}, {hi:+,.0f}] over {result.hands:,} games",
        highlight=False,
    )


def range_command(
    agent: Annotated[str, typer.Argument(help="The agent: a spec or an exported model.")],
    position: Annotated[str, typer.Option(help="Position: UTG, HJ, CO, BTN, SB, BB ...")] = "BTN",
    seats: Annotated[int, typer.Option(help=f"Seats at the table, {SEATS}.")] = 6,
    stack: Annotated[int, typer.Option(help="Stacks in big blinds.")] = 100,
    out: Annotated[Path | None, typer.Option(help="Write the grid as a PNG.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The agent's preflop strategy at a position as the 13x13 grid of hand classes: the
    probability of raising, calling (checking) and folding when everyone before it folded."""
    import json

    from gamelm.serving.app import agent_fractions

    try:
        check_seats(seats, "--seats")
    except ValueError as exc:
        fail(str(exc))
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        fail(f"cannot write {out}: give a file name in an existing folder")
    bot = load_agent_or_fail(agent)
    try:
        grid = preflop_grid(bot, position, seats, stack, agent_fractions(bot, (0.5, 1.0)))
    except (ValueError, AgentUnavailable) as exc:
        fail(first_line(exc))
    if as_json:
        print(json.dumps(grid.to_json()))
    else:
        table = Table(
            box=None,
            show_header=False,
            padding=(0, 1, 0, 0),
            title=f"{agent} at {grid.position}: R raise, C call/check, . fold (most likely move)",
        )
        for _ in range(13):
            table.add_column(justify="center")
        for row in range(13):
            cells = []
            for k in range(row * 13, row * 13 + 13):
                move = max(
                    ("R", grid.raise_[k]),
                    ("C", grid.call[k]),
                    (".", grid.fold[k]),
                    key=lambda x: x[1],
                )[0]
                colour = {"R": "red", "C": "green", ".": "blue"}[move]
                cells.append(f"[{colour}]{grid.classes[k]:<3} {move}[/{colour}]")
            table.add_row(*cells)
        console.print(table)
        j = grid.to_json()
        console.print(f"Plays {j['play_share']:.1%} of hands, raises {j['raise_share']:.1%}.")
    if out is not None:
        try:
            plot_grid(grid, out)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
        if not as_json:
            console.print(f"Wrote {out}")
