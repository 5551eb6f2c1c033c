"""``gamelm gameboy``: play and learn a Game Boy game (Pokemon Crystal first) with the hybrid
LLM + DQN agent, with a live dashboard."""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from gamelm.chat_client import OLLAMA_URL
from gamelm.cli._common import (
    JsonOpt,
    RunsDirOpt,
    fail,
    runs_dir_or_default,
    sigterm_as_interrupt,
)
from gamelm.gameboy.env import EnvConfig, RomError
from gamelm.gameboy.monitor import Monitor, create_monitor_app


def gameboy(
    rom: Annotated[Path, typer.Option(help="Your Pokemon Crystal ROM (.gbc); never copied.")],
    actions: Annotated[int, typer.Option(help="Actions (button presses) to play.")] = 10_000,
    llm_model: Annotated[str, typer.Option(help="Model name at the LLM endpoint.")] = (
        "qwen2.5:1.5b"
    ),
    llm_url: Annotated[
        str, typer.Option(help="OpenAI-compatible base URL (default: Ollama on this machine).")
    ] = OLLAMA_URL,
    llm_interval: Annotated[int, typer.Option(help="Actions between LLM plans.")] = 20,
    llm_timeout: Annotated[float, typer.Option(help="Seconds before an LLM call falls back.")] = (
        20.0
    ),
    web_port: Annotated[int, typer.Option(help="Port of the live dashboard.")] = 8765,
    no_web: Annotated[bool, typer.Option("--no-web", help="No dashboard.")] = False,
    no_dqn: Annotated[bool, typer.Option("--no-dqn", help="LLM and rules only.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No status lines.")] = False,
    load_state: Annotated[
        Path | None, typer.Option(help="Start from this save state (a PyBoy .state file).")
    ] = None,
    allow_any_rom: Annotated[
        bool,
        typer.Option(
            "--allow-any-rom",
            help="Also run ROMs that are not a known Crystal release (hacks; other games by "
            "screen).",
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME).")] = None,
    name: Annotated[str | None, typer.Option(help="Run name in the registry.")] = None,
    runs_dir: RunsDirOpt = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its last checkpoint.")
    ] = False,
    checkpoint_every: Annotated[int, typer.Option(help="Actions between checkpoints.")] = 5_000,
    status_every: Annotated[float, typer.Option(help="Seconds between status lines.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the agent's randomness.")] = 0,
    threads: Annotated[int, typer.Option(help="Torch threads for the DQN.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Play a Game Boy game with the hybrid agent: an LLM plans every --llm-interval actions, a
    DQN learns to play in between, rules take over when either is missing. Statistics, DQN
    checkpoints and the game's own battery save go to --out; the run is in the registry
    (`gamelm runs`). The dashboard (screen, reward curves, the LLM's last decision) is at
    http://127.0.0.1:WEB_PORT unless --no-web."""
    from gamelm.gameboy.hybrid import HybridConfig, HybridRunner

    if not 0 < web_port < 65536:
        fail(f"--web-port must be 1..65535, got {web_port}")
    if checkpoint_every < 0:
        fail("--checkpoint-every must be 0 or more")
    chosen = name  # a name the user gave is refused if taken; a derived one gets a suffix
    name = name or (out.name if out is not None else time.strftime("gameboy-%Y%m%d-%H%M%S"))
    out = out or runs_dir_or_default(runs_dir) / name
    try:
        cfg = HybridConfig(
            rom=str(rom), actions=actions, allow_any_rom=allow_any_rom,
            load_state=str(load_state) if load_state else None, llm_url=llm_url,
            llm_model=llm_model, llm_interval=llm_interval, llm_timeout=llm_timeout,
            use_dqn=not no_dqn, seed=seed, status_every=status_every,
            checkpoint_every=checkpoint_every, threads=threads, env=EnvConfig(),
        )  # fmt: skip
    except ValueError as exc:
        fail(str(exc))
    monitor = server = None
    if not no_web:
        from gamelm.web.server import BackgroundServer

        try:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", web_port))
        except OSError as exc:
            fail(
                f"cannot serve the dashboard on port {web_port} ({exc.strerror or exc}); "
                "pass another --web-port, or --no-web"
            )
        monitor = Monitor()
        try:
            server = BackgroundServer(create_monitor_app(monitor), port=web_port).start()
        except OSError as exc:
            fail(f"cannot serve the dashboard on port {web_port} ({exc}); pass --no-web")
    log = None if quiet else (lambda line: typer.echo(line, err=True))
    try:
        runner = HybridRunner(cfg, out, chosen, runs_dir, resume, log, monitor)
    except (RomError, ValueError, RuntimeError, OSError) as exc:
        if server is not None:
            server.stop()
        fail(str(exc))
    if log is not None:
        info = runner.env.info
        if info.release:
            game = info.release
        elif info.crystal:
            game = f"{info.title!r} (not a known Crystal release)"
        else:
            game = f"{info.title!r} (read from the screen only)"
        start = f" from action {runner.actions:,}" if runner.actions else ""
        log(f"Playing {game} for {actions:,} actions{start}; run {runner.name} in {out}")
        if server is not None:
            log(f"Dashboard: {server.url}")

    def stop(signum, frame):  # the first Ctrl-C stops cleanly, a second one at once
        signal.signal(signal.SIGINT, signal.default_int_handler)
        runner.request_stop()

    try:
        with sigterm_as_interrupt(stop):  # the first Ctrl-C or `kill` stops cleanly
            try:
                summary = runner.run()
            except KeyboardInterrupt:
                if log is not None:
                    log(f"Interrupted at {runner.actions:,} actions; --resume goes on from there.")
                raise typer.Exit(code=130) from None
            except Exception as exc:
                from gamelm.runs.checkpoints import latest

                saved = latest(out)
                where = (
                    f"its last checkpoint is {saved.name}, and --resume goes on from there"
                    if saved is not None
                    else f"no checkpoint could be saved; delete {out} to start again"
                )
                what = f"{type(exc).__name__}: {exc}"
                fail(f"the run stopped at action {runner.actions:,} ({what}); {where}")
    finally:
        if server is not None:
            server.stop()
    stopped = runner.stop_requested and runner.actions < actions
    if stopped and log is not None:
        log(f"Stopped at {runner.actions:,} actions; checkpoint saved, --resume goes on.")
    if as_json:
        typer.echo(json.dumps(summary))
        sys.stdout.flush()
    elif not quiet:
        log(runner.status_line())
        log(f"Statistics: {out / 'stats.json'}")
    if stopped:
        raise typer.Exit(code=130)
