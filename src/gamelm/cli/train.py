"""``gamelm train``, ``demo``, ``runs`` and ``history``: PPO training of the poker LM and the run
registry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from gamelm.cli._common import (
    JsonOpt,
    QuietOpt,
    RunsDirOpt,
    check_out,
    console,
    errors,
    fail,
    parse_set,
    runs_dir_or_default,
    sigterm_as_interrupt,
    split_list,
    to_json,
)
from gamelm.evaluation.report import plot_history
from gamelm.runs.registry import Registry, default_runs_dir


def _eval_table(ev: dict, title: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("opponent", "bb/100", "95% CI"):
        table.add_column(col, justify="left" if col == "opponent" else "right", no_wrap=True)
    for spec, r in ev["opponents"].items():
        lo, hi = r["ci95"]
        table.add_row(spec, f"{r['bb_per_100']:+.1f}", f"[{lo:+.1f}, {hi:+.1f}]")
    half = ev["ci95_half_width"]
    table.add_row("mean", f"{ev['bb_per_100']:+.1f}", f"± {half:.1f}", style="bold")
    return table


def run_training(
    cfg,  # PPOConfig
    out: Path,
    *,
    name: str | None,
    runs_dir: Path | None,
    resume: bool | Path,
    quiet: bool = False,
):
    """Train with a progress bar; clear errors for bad paths and settings."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gamelm.trainers.ppo import PPOTrainer

    try:
        trainer = PPOTrainer(
            cfg, out, name=name, runs_dir=runs_dir, resume=resume,
            log=lambda m: errors.print(m, highlight=False),
        )  # fmt: skip
    except (ValueError, FileNotFoundError, KeyError) as exc:
        fail(str(exc).strip("'\""))
    columns = (
        TextColumn("[bold]training[/bold]"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} hands"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
    )
    with Progress(*columns, console=errors, disable=quiet, transient=False) as bar:
        task = bar.add_task("train", total=cfg.num_hands, completed=trainer.hands, rate="",
                            last="")  # fmt: skip

        def progress(d: dict) -> None:
            ev = d.get("eval")
            last = f"eval {ev['bb_per_100']:+.0f} bb/100" if ev else ""
            bar.update(task, completed=d["hands"], rate=f"{d['charts/hands_per_s']:,.0f}/s",
                       last=last)  # fmt: skip

        with sigterm_as_interrupt():  # `kill` ends the run as Ctrl-C does, its checkpoints kept
            try:
                result = trainer.train(progress)
            except ValueError as exc:  # a setting only a running match can check
                bar.stop()
                fail(str(exc))
            except KeyboardInterrupt:
                errors.print(
                    f"interrupted at {trainer.hands:,} hands; `gamelm train --resume --out {out}` "
                    "continues from the last checkpoint"
                )
                raise typer.Exit(code=130) from None
    return result


def train(
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/NAME).")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML file of settings (e.g. configs/ppo.yaml).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name in the registry.")] = None,
    runs_dir: RunsDirOpt = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its last checkpoint.")
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Continue from this checkpoint, or start from this model's weights."),
    ] = None,
    preset: Annotated[str | None, typer.Option(help="Model size: tiny, small, seed15m.")] = None,
    d_model: Annotated[int | None, typer.Option(help="Override the preset's width.")] = None,
    n_layers: Annotated[int | None, typer.Option(help="Override the preset's depth.")] = None,
    n_heads: Annotated[int | None, typer.Option(help="Override the preset's heads.")] = None,
    num_hands: Annotated[
        int | None, typer.Option("--num-hands", "--num-games", help="Hands to train for.")
    ] = None,
    parallel_games: Annotated[int | None, typer.Option(help="Tables in lockstep.")] = None,
    hands_per_update: Annotated[
        int | None,
        typer.Option("--hands-per-update", "--games-per-update", help="Hands per PPO update."),
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="Decisions per minibatch.")] = None,
    update_epochs: Annotated[int | None, typer.Option(help="Passes over each rollout.")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Adam step size.")] = None,
    gamma: Annotated[float | None, typer.Option(help="Discount.")] = None,
    clip_epsilon: Annotated[float | None, typer.Option(help="PPO ratio clip.")] = None,
    entropy_coef: Annotated[float | None, typer.Option(help="Entropy bonus weight.")] = None,
    seats: Annotated[int | None, typer.Option(help="Players per table, 2..6.")] = None,
    opponents: Annotated[
        str | None,
        typer.Option(help="League, comma-separated: baselines, self, snapshot, ckpt:PATH."),
    ] = None,
    eval_opponents: Annotated[
        str | None, typer.Option(help="Evaluation opponents, comma-separated.")
    ] = None,
    eval_interval: Annotated[int | None, typer.Option(help="Updates between evals.")] = None,
    eval_hands: Annotated[int | None, typer.Option(help="Hands per eval opponent.")] = None,
    patience: Annotated[int | None, typer.Option(help="Early stop after N evals.")] = None,
    checkpoint_frequency: Annotated[
        int | None, typer.Option(help="Updates between checkpoints.")
    ] = None,
    keep_checkpoints: Annotated[int | None, typer.Option(help="Checkpoints kept.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of everything.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu or cuda.")] = None,
    threads: Annotated[int | None, typer.Option(help="Torch threads (0: auto).")] = None,
    bf16: Annotated[bool | None, typer.Option("--bf16/--no-bf16", help="bf16 autocast.")] = None,
    workers: Annotated[int | None, typer.Option(help="Rollout worker processes (0: none).")] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Run the workers on this Ray cluster (or 'local').")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any other setting, KEY=VALUE (repeatable)."),
    ] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train the poker LM with PPO against a league of opponents (see docs/training.md).

    Settings come from the defaults, then --config, then --set, then the flags. The run is
    registered in the runs registry; `gamelm runs` lists runs and `gamelm history RUN` shows one.
    """
    from gamelm.trainers.ppo import PPOConfig

    flags = {
        "preset": preset, "d_model": d_model, "n_layers": n_layers, "n_heads": n_heads,
        "num_hands": num_hands, "parallel_games": parallel_games,
        "hands_per_update": hands_per_update, "batch_size": batch_size,
        "update_epochs": update_epochs, "learning_rate": learning_rate, "gamma": gamma,
        "clip_epsilon": clip_epsilon, "entropy_coef": entropy_coef, "seats": seats,
        "opponents": split_list(opponents), "eval_opponents": split_list(eval_opponents),
        "eval_interval": eval_interval, "eval_hands": eval_hands, "patience": patience,
        "checkpoint_frequency": checkpoint_frequency, "keep_checkpoints": keep_checkpoints,
        "seed": seed, "device": device, "threads": threads, "bf16": bf16, "workers": workers,
        "ray_address": ray_address,
    }  # fmt: skip
    values = {**parse_set(set_ or []), **{k: v for k, v in flags.items() if v is not None}}
    start: bool | Path = resume
    if checkpoint is not None:
        if (checkpoint / "trainer_state.json").is_file():
            start = checkpoint
        elif (checkpoint / "gamelm.json").is_file():
            values["init_from"] = str(checkpoint)
        else:
            fail(f"{checkpoint} is neither a training checkpoint nor a gamelm model directory")
    try:
        if config is not None:
            if not config.is_file():
                fail(f"no config file {config}")
            cfg = PPOConfig.from_yaml(config, **values)
        elif start is not False and start is not True:
            cfg = PPOConfig.from_saved({**PPOConfig.renamed(_saved_config(Path(start))), **values})
        elif resume and out is not None and _latest_config(out) is not None:
            cfg = PPOConfig.from_saved({**PPOConfig.renamed(_latest_config(out)), **values})
        else:
            cfg = PPOConfig.from_dict(values)
    except (ValueError, TypeError) as exc:
        fail(str(exc))
    check_out(out)
    if out is None:
        if resume:
            fail("--resume needs --out, the run directory to continue")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")

        out = runs_dir_or_default(runs_dir) / (name or f"ppo-{cfg.preset}-{stamp}")
    result = run_training(cfg, out, name=name, runs_dir=runs_dir, resume=start, quiet=quiet)
    last = result.evaluations[-1] if result.evaluations else None
    if as_json:
        print(to_json({
            "out": str(result.out), "final_model": str(result.final_model),
            "hands": result.hands, "updates": result.updates, "seconds": result.seconds,
            "hands_per_s": result.hands / max(result.seconds, 1e-9),
            "stopped_early": result.stopped_early, "last_eval": last,
        }))  # fmt: skip
        return
    if last is not None:
        console.print(_eval_table(last, f"after {last['hands']:,} hands ({cfg.seats}-seat)"))
    console.print(
        f"trained {result.hands:,} hands in {result.seconds:.0f}s of rollouts and updates "
        f"({result.hands / max(result.seconds, 1e-9):,.0f} hands/s; evaluations not counted); "
        f"model: {result.final_model}"
    )


def demo(
    hands: Annotated[int, typer.Option(help="Hands to train for.")] = 150_000,
    eval_hands: Annotated[int, typer.Option(help="Evaluation hands per opponent.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the run.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Run directory (default runs/demo-SEED, -2, -3... if taken)."),
    ] = (None),
    runs_dir: RunsDirOpt = None,
) -> None:
    """Train the default poker LM with PPO for a few minutes, then evaluate it heads-up against
    every baseline (duplicate deals, seats rotated, 95% CIs)."""
    from gamelm.trainers.ppo import PPOConfig, evaluate_model

    if hands < 1:
        fail(f"--hands must be at least 1, got {hands}")
    try:
        cfg = PPOConfig(num_hands=hands, seed=seed)
    except ValueError as exc:
        fail(str(exc))
    if eval_hands < 2:
        fail(f"--eval-hands must be at least 2, got {eval_hands}")
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
    result = run_training(cfg, out, name=None, runs_dir=runs_dir, resume=False)
    console.print(
        f"trained in {result.seconds:.0f}s of rollouts and updates "
        f"({result.hands / max(result.seconds, 1e-9):,.0f} hands/s; evaluations not counted). "
        f"Evaluating {result.final_model} ..."
    )
    from gamelm.models.lm import PokerLM

    model = PokerLM.load(result.final_model)
    specs = ("random", "calling-station", "maniac", "tag", "equity")
    with console.status(f"playing {eval_hands:,} hands against each of {', '.join(specs)}"):
        ev = evaluate_model(model, specs, eval_hands, seed=seed + 1, runs_dir=runs_dir)
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


def _latest_config(out: Path) -> dict | None:
    from gamelm.runs.checkpoints import WRITTEN, latest_intact

    path, _ = latest_intact(out, move_aside=False, required=WRITTEN)  # the trainer moves them
    if path is None:
        return None
    return _saved_config(path)


def _registry(runs_dir: Path | None) -> Registry | None:
    """The registry of ``runs_dir`` (None where there is none: reading makes no folder), or one
    clear error."""
    try:
        return Registry(runs_dir, create=False)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        fail(str(exc))


def _saved_config(checkpoint: Path) -> dict:
    """The settings a checkpoint's trainer_state.json holds, or one clear error."""
    try:
        return dict(json.loads((checkpoint / "trainer_state.json").read_text())["config"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{checkpoint / 'trainer_state.json'} is damaged (no settings)") from None


def runs(
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the registered training runs."""

    reg = _registry(runs_dir)
    infos = reg.runs() if reg is not None else []
    if as_json:
        print(to_json([info.__dict__ for info in infos]))
        return
    if not infos:
        console.print(f"no runs in {runs_dir_or_default(runs_dir)}")
        return
    table = Table(title=f"runs in {reg.path}", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("name", "status", "hands", "eval bb/100", "updated"):
        table.add_column(col, overflow="fold", justify="left" if col == "name" else "right")
    for info in infos:
        hands = info.summary.get("hands")
        ev = info.summary.get("last_eval")
        table.add_row(
            info.name,
            info.status,
            f"{hands:,}" if hands is not None else "-",
            f"{ev['bb_per_100']:+.0f} ± {ev['ci95_half_width']:.0f}" if ev else "-",
            dt.datetime.fromtimestamp(info.updated).strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


HISTORY_KEYS = ("charts/hands_per_s", "losses/policy", "losses/value", "losses/entropy",
                "eval/bb_per_100", "eval/bb_per_100_ci95")  # fmt: skip


def history(
    run: Annotated[str, typer.Argument(help="Run name (see `gamelm runs`).")],
    runs_dir: RunsDirOpt = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG of the curves (default RUN_DIR/history.png).")
    ] = None,
    rows: Annotated[int, typer.Option(help="Rows of the printed table.", min=1)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Print a run's training history and write a PNG of its curves."""

    reg = _registry(runs_dir)
    if reg is None:
        fail(f"no run named {run!r}: there is no run registry in {runs_dir_or_default(runs_dir)}")
    try:
        info = reg.get(run)
    except KeyError as exc:
        fail(str(exc).strip("'\""))
    metrics = reg.metrics(run)
    if as_json:
        print(to_json({"run": run, "status": info.status, "metrics": metrics}))
        return
    if not metrics:
        console.print(f"run {run} has no metrics yet")
        return
    steps = sorted({s for series in metrics.values() for s, _ in series})
    evals = sorted(s for s, _ in metrics.get("eval/bb_per_100", []))
    sampled = steps[:: max(1, len(steps) // rows)][: max(rows - 5, 1)]
    shown = sorted({*sampled, steps[-1], *evals[-5:]})
    table = Table(title=f"{run} ({info.status})", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("hands", justify="right")
    for key in HISTORY_KEYS:
        table.add_column(key.split("/", 1)[1].replace("bb_per_100", "bb/100"), justify="right")
    lookup = {k: dict(v) for k, v in metrics.items()}
    for s in shown:
        cells = []
        for key in HISTORY_KEYS:
            v = lookup.get(key, {}).get(s)
            cells.append("" if v is None else f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}")
        table.add_row(f"{s:,}", *cells)
    console.print(table)
    target = plot or Path(info.path) / "history.png"
    try:
        plot_history(metrics, target, title=run)
    except (OSError, ValueError) as exc:  # ValueError: a suffix matplotlib cannot write
        fail(f"cannot write the plot {target}: {getattr(exc, 'strerror', None) or exc}")
    console.print(f"curves: {target}")
