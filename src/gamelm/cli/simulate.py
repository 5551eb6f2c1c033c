"""``gamelm simulate``: random play through the batched engine."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gamelm.cli._common import (
    JsonOpt,
    console,
    fail,
)
from gamelm.poker.positions import position_names
from gamelm.poker.rules import SEATS, check_seats
from gamelm.poker.simulate import Simulation
from gamelm.poker.simulate import simulate as run_simulation

AGENTS = ("random",)


def _summary_table(title: str, out: Simulation) -> Table:
    results = out.results / out.big_blind  # in big blinds per hand
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
        f"{n:,} hands in {out.elapsed:.2f}s ({n / out.elapsed:,.0f} hands/s, "
        f"{out.decisions / out.elapsed:,.0f} decisions/s)"
    )
    return table


def simulate(
    seats: Annotated[int, typer.Option(help=f"Seats per table, {SEATS}.")] = 2,
    hands: Annotated[int, typer.Option(help="Number of hands to play.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the cards and the random players.")] = 0,
    phh_out: Annotated[
        Path | None, typer.Option(help="Write one PHH file per hand into this folder.")
    ] = None,
    agents: Annotated[
        str, typer.Option(help="Players: 'random' (matches between agents: gamelm eval).")
    ] = "random",
    stack: Annotated[int, typer.Option(help="Starting stack in big blinds.")] = 100,
    small_blind: Annotated[int, typer.Option(help="Small blind in chips.")] = 1,
    big_blind: Annotated[int, typer.Option(help="Big blind in chips.")] = 2,
    ante: Annotated[int, typer.Option(help="Ante in chips, posted by every seat.")] = 0,
    tables: Annotated[int, typer.Option(help="Tables played in lockstep.")] = 4096,
    fractions: Annotated[str, typer.Option(help="Raise sizes as pot fractions.")] = "0.5,1",
    as_json: JsonOpt = False,
) -> None:
    """Play HANDS hands through the batched engine and print each seat's results."""
    if hands < 1:
        fail(f"--hands must be at least 1, got {hands}")
    if stack < 1:
        fail(f"--stack must be at least 1 big blind, got {stack}")
    names = [a.strip() for a in agents.split(",") if a.strip()]
    unknown = [a for a in names if a not in AGENTS]
    if not names or unknown:
        fail(f"unknown agent {unknown[0] if unknown else agents!r}; available: {', '.join(AGENTS)}")
    if tables < 1:
        fail(f"--tables must be at least 1, got {tables}")
    try:
        check_seats(seats, "--seats")
    except ValueError as exc:
        fail(str(exc))
    if seed < 0:
        fail(f"--seed must not be negative, got {seed}")
    try:
        out = run_simulation(
            seats, hands, seed, stack, small_blind, big_blind, ante, tables, fractions, phh_out,
            progress=not as_json,
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write hand histories to {phh_out}: {exc.strerror or exc}")
    if as_json:
        res = out.results
        summary = {"hands": len(res), "hands_per_s": len(res) / out.elapsed,
                   "net_chips": res.sum(axis=0).tolist()}  # fmt: skip
        print(json.dumps(summary))
        return
    console.print(_summary_table(f"{seats}-seat random play, seed {seed}", out))
    if phh_out is not None:
        console.print(f"wrote {hands:,} hand histories to {phh_out}")
