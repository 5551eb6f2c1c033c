"""``gamelm serve``, ``play`` and ``export``: the HTTP API, a table in the terminal, and model
files."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from gamelm.agents.base import AgentUnavailable
from gamelm.agents.registry import make_agent
from gamelm.cli._common import (
    console,
    fail,
    load_agent_or_fail,
)
from gamelm.cli.evaluate import print_match_summary
from gamelm.errors import first_line
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import summary
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.rules import SEATS, check_seats
from gamelm.serving.state_parsing import SpotError
from gamelm.serving.tables import Table as PokerTable
from gamelm.web.guard import ALLOWED_HOSTS_ENV, TOKEN_ENV, check_exposure

LEVELS = {  # --opponent-level of the demo mode: the baseline each level plays
    "beginner": "random",
    "passive": "calling-station",
    "aggressive": "maniac",
    "solid": "tag",
    "strong": "equity",
}


def _fractions(text: str) -> tuple[float, ...]:

    try:
        return ActionAbstraction.parse(text).fractions
    except ValueError as exc:
        fail(str(exc))


def serve(
    agents: Annotated[
        list[str],
        typer.Argument(
            help="Agents to serve: specs (tag, ckpt:PATH, run:NAME, blueprint:PATH, dspy:PATH), "
            "exported .safetensors files, or NAME=SPEC to choose the name clients use."
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to bind (0.0.0.0 for every interface).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(help=f"Bearer token required on every route but /health (or ${TOKEN_ENV})."),
    ] = None,
    fractions: Annotated[
        str, typer.Option(help="Raise sizes as pot fractions (a gamelm LM keeps its own).")
    ] = "0.5,1",
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes.")] = 262_144,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Run registry the dashboard shows (default $GAMELM_RUNS).")
    ] = None,
    insecure_no_token: Annotated[
        bool,
        typer.Option(
            "--insecure-no-token",
            help="Serve a non-loopback --host without a token (anyone who can reach it may use "
            "it).",
        ),
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help=f"Another Host name clients reach the server by (repeatable; also "
            f"${ALLOWED_HOSTS_ENV}).",
        ),
    ] = None,
) -> None:
    """Serve agents over HTTP: the JSON API (/v1/act), an OpenAI-compatible endpoint
    (/v1/chat/completions), tables to play in a browser (/play), the training dashboard
    (/dashboard) and the preflop strategy grid (/strategy). API reference at /docs."""
    try:
        import uvicorn

        from gamelm.serving.app import create_app
    except ImportError:
        fail("serving needs FastAPI and uvicorn: pip install 'gamelm[serve]'")
    if not 0 < port < 65536:
        fail(f"--port must be 1..65535, got {port}")
    if max_body < 1024:
        fail(f"--max-body must be at least 1024 bytes, got {max_body}")
    token = token or os.environ.get(TOKEN_ENV) or None
    try:
        check_exposure(host, token, insecure_no_token)
    except ValueError as exc:
        fail(str(exc))
    served = {}
    for item in agents:
        name, _, spec = item.partition("=") if "=" in item.split(":")[0] else ("", "", item)
        agent = load_agent_or_fail(spec, runs_dir)
        name = name or spec
        if name in served:
            fail(f"two agents are named {name!r}: give one NAME=SPEC")
        served[name] = agent
    try:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    app = create_app(
        served, token=token, fractions=_fractions(fractions), max_body=max_body,
        runs_dir=runs_dir, host=host, allowed_hosts=allowed_host or (),
        allow_no_token=insecure_no_token,
    )  # fmt: skip
    where = f"http://{host}:{port}"
    console.print(
        f"Serving {', '.join(served)} on {where}  (pages: {where}/play, "
        f"{where}/dashboard, {where}/strategy; API: {where}/docs)"
        + ("; bearer token required" if token else "")
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _show(view: dict) -> None:
    suits = {"s": "♠", "h": "[red]♥[/red]", "d": "[red]♦[/red]", "c": "♣"}

    def cards(names: list[str]) -> str:
        return " ".join(f"[bold]{c[0]}[/bold]{suits[c[1]]}" for c in names) if names else "-"

    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"Hand #{view['hand']}, {view['street']}, pot {view['pot']}",
        pad_edge=False,
    )
    for col in ("seat", "position", "stack", "bet", "cards", ""):
        table.add_column(col)
    for s in view["seats"]:
        mark = "folded" if s["folded"] else ("to act" if view["to_act"] == s["seat"] else "")
        if s["won"] is not None:
            mark = f"{'won' if s['won'] >= 0 else 'lost'} {abs(s['won'])}"
        name = s["name"] + (" (D)" if s["button"] else "")
        table.add_row(
            name, s["position"], str(s["stack"]), str(s["bet"] or ""), cards(s["cards"]), mark
        )
    console.print(table)
    console.print(f"Board: {cards(view['board'])}")
    for line in view["log"][-6:]:
        console.print(f"  {line}")


def _ask(view: dict) -> dict | None:
    """The human's action from the keyboard (None: quit)."""
    legal = {a["action"]: a for a in view["legal_actions"]}
    hints = []
    for word, a in legal.items():
        if word in ("bet", "raise"):
            hints.append(f"{word[0]} AMOUNT ({view['min_raise_to']}..{view['max_raise_to']})")
        elif word == "all-in":
            hints.append(f"a (all-in {a['to']})")
        elif word == "call":
            hints.append(f"c (call {a['chips']})")
        else:
            hints.append(f"{word[0]} ({word})")
    hints = [*dict.fromkeys(hints), "q (quit)"]
    while True:
        text = typer.prompt("Your action: " + ", ".join(hints)).strip().lower().split()
        if not text:
            continue
        key, amount = text[0], (text[1] if len(text) > 1 else None)
        if key == "q":
            return None
        word = {
            "f": "fold",
            "k": "check",
            "c": "call" if "call" in legal else "check",
            "a": "all-in",
            "b": "bet",
            "r": "raise",
        }.get(key, key)
        if word in ("bet", "raise") and word not in legal:
            word = "raise" if word == "bet" else "bet"
        if word in ("bet", "raise"):
            if amount is None or not amount.isdigit():
                console.print(
                    f"[red]Give the amount to {word} to, e.g. '{key} {view['min_raise_to']}'."
                )
                continue
            return {"action": word, "to": int(amount)}
        return {"action": word}


def play(
    agent: Annotated[str, typer.Argument(help="The bot: an agent spec or an exported model.")],
    seats: Annotated[int, typer.Option(help=f"Seats at the table, {SEATS}.")] = 2,
    stack: Annotated[int, typer.Option(help="Starting stack of each hand, in big blinds.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the deals and the bots.")] = 0,
    demo: Annotated[
        bool, typer.Option("--demo", help="Watch AGENT play --hands against --opponent-level.")
    ] = False,
    hands: Annotated[int, typer.Option(help="Hands of the demo (duplicate deals).")] = 2_000,
    opponent_level: Annotated[
        str,
        typer.Option(help=f"Demo opponent: {', '.join(f'{k} ({v})' for k, v in LEVELS.items())}."),
    ] = "solid",
) -> None:
    """Play against a bot in the terminal, or (--demo) watch it play a duplicate match against
    an opponent of a chosen level and print the analysis."""
    try:
        check_seats(seats, "--seats")
    except ValueError as exc:
        fail(str(exc))
    if stack < 1:
        fail(f"--stack must be at least 1 big blind, got {stack}")
    if demo:
        _demo(agent, seats, stack, seed, hands, opponent_level)
        return

    bot = load_agent_or_fail(agent)
    from gamelm.serving.app import agent_fractions

    table = PokerTable(
        "terminal",
        bot,
        seats=seats,
        human=0,
        stack=stack * 2,
        seed=seed,
        menu=ActionAbstraction(agent_fractions(bot, (0.5, 1.0))),
    )
    console.print(
        f"You sit at seat 0 against {getattr(bot, 'name', agent)}; blinds 1/2, "
        f"{stack * 2} chips each hand."
    )
    while True:
        view = table.view()
        _show(view)
        if view["hand_over"]:
            console.print(
                f"[bold]{'You won' if view['result'] >= 0 else 'You lost'} "
                f"{abs(view['result'])}[/bold]; session {view['session_total']:+d} "
                f"over {view['hands_finished']} hands."
            )
            if not typer.confirm("Next hand?", default=True):
                break
            table.deal()
            continue
        record = _ask(view)
        if record is None:
            break
        try:
            table.act(record)
        except SpotError as exc:
            console.print(f"[red]{exc}")
    finished = len(table.hands)
    if finished:
        console.print(
            f"Session: {table.total:+d} chips over {finished} hands "
            f"({table.total / 2 / finished * 100:+.1f} bb/100)."
        )


def _demo(agent: str, seats: int, stack: int, seed: int, hands: int, level: str) -> None:
    from gamelm.serving.app import agent_fractions

    if level not in LEVELS:
        fail(f"unknown --opponent-level {level!r}; choose from {', '.join(LEVELS)}")
    if hands < 10:
        fail(f"--hands must be at least 10, got {hands}")
    hero = load_agent_or_fail(agent)
    opponents = [make_agent(LEVELS[level]) for _ in range(seats - 1)]
    try:
        cfg = MatchConfig(
            seats=seats,
            hands=hands,
            duplicate=True,
            seed=seed,
            stack_bb=stack,
            fractions=agent_fractions(hero, (0.5, 1.0)),
        )
        out = summary(play_match([hero, *opponents], cfg, progress=True))
    except (ValueError, AgentUnavailable) as exc:
        fail(first_line(exc))
    print_match_summary(out, f"{agent} vs {level} ({LEVELS[level]}), {out['hands']:,} hands")
    name = next(iter(out["agents"]))
    a = out["agents"][name]
    lo, hi = a["ci95"]
    verdict = (
        "wins" if lo > 0 else "loses" if hi < 0 else "is not measurably different from break-even"
    )
    console.print(
        f"Analysis: {name} {verdict} against the {level} opponent: {a['bb_per_100']:+.1f} bb/100, "
        f"95% CI [{lo:+.1f}, {hi:+.1f}] over {a['hands']:,} duplicate hands. It played "
        f"{a['vpip']:.0%} of hands (VPIP), raised {a['pfr']:.0%} preflop, and went to showdown "
        f"in {a['wtsd']:.0%} of the hands it saw a flop."
    )


def export(
    model: Annotated[
        str, typer.Argument(help="A saved poker LM: its directory, ckpt:PATH or run:NAME.")
    ],
    out: Annotated[Path, typer.Option(help="The .safetensors file to write.")],
    onnx: Annotated[
        Path | None, typer.Option(help="Also write an ONNX file of the policy.")
    ] = None,
) -> None:
    """Write a poker LM as one self-contained safetensors file (weights, config and gamelm
    settings; `gamelm.load_agent(FILE)` plays it), and optionally as ONNX, checked against
    PyTorch on a batch of real decisions."""
    from gamelm.models.export import export_model
    from gamelm.models.lm import PokerLM

    for path, suffix in ((out, ".safetensors"), (onnx, ".onnx")):
        if path is not None and path.suffix != suffix:
            fail(f"{path}: the file name must end in {suffix}")
    for path in (out, onnx):
        if path is not None and (path.is_dir() or not path.parent.is_dir()):
            fail(f"cannot write {path}: give a file name in an existing folder")
    agent = load_agent_or_fail(model)  # a directory loads as ckpt:DIR
    lm = getattr(agent, "model", None)
    if not isinstance(lm, PokerLM):
        fail(
            f"{model} is not a poker LM: only the small poker LM exports to one file (a "
            "fine-tuned LLM is already a transformers folder; baselines have no weights)"
        )
    try:
        export_model(lm, out)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    console.print(
        f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {lm.num_parameters():,} "
        "parameters); load it with gamelm.load_agent or serve it with gamelm serve"
    )
    if onnx is not None:
        from gamelm.agents.lm import sample_inputs
        from gamelm.models.export import export_onnx_checked

        try:
            gap = export_onnx_checked(lm, onnx, sample_inputs(lm, 64, seed=0))
        except (ImportError, ValueError) as exc:
            fail(str(exc))
        console.print(
            f"Wrote {onnx}; ONNX Runtime matches PyTorch on 64 decisions "
            f"(largest probability difference {gap:.1e})"
        )
