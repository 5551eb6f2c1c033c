"""What every command shares: the consoles, the one-sentence failure, JSON output, settings
from ``--set`` and YAML files, the runs directory, stopping on SIGTERM, and the common options."""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from gamelm import load_agent
from gamelm.agents.base import Agent, AgentUnavailable
from gamelm.agents.observation import PROMPT_STYLES
from gamelm.errors import first_line
from gamelm.runs.registry import default_runs_dir

console = Console()
errors = Console(stderr=True, soft_wrap=True)

# -- options shared by many commands ---------------------------------------------------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]
GreedyOpt = Annotated[
    bool,
    typer.Option(
        "--greedy",
        help="A language-model AGENT plays its most likely move instead of sampling one.",
    ),
]
PromptStyleOpt = Annotated[
    str | None,
    typer.Option(
        help="The prompt an LLM reads: full; compact (about half the tokens, so faster); or "
        "equity (compact, plus the hand's equity and the pot odds); default: the model's own."
    ),
]
RunsDirOpt = Annotated[
    Path | None,
    typer.Option(help="The run registry's folder: where runs are registered and run:NAME is "
                 "found (default $GAMELM_RUNS or ./runs)."),
]  # fmt: skip


def fail(message: str) -> NoReturn:
    """Print ``error: MESSAGE`` (the message as plain text, brackets kept) and exit with 2."""
    from rich.markup import escape

    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code=2)


def nan_to_none(x: object) -> object:
    """``x`` with every NaN (a statistic without a single case) replaced by None."""
    if isinstance(x, dict):
        return {k: nan_to_none(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [nan_to_none(v) for v in x]
    if isinstance(x, float) and x != x:
        return None
    return x


def to_json(obj: object) -> str:
    """JSON with NaN written as null."""
    return json.dumps(nan_to_none(obj), allow_nan=False)


def load_agent_or_fail(spec: str, runs_dir: Path | None = None) -> Agent:
    """An agent from a spec, a model directory or an exported file (`gamelm.load_agent`), or
    one sentence saying why not."""

    try:
        return load_agent(spec, runs_dir=runs_dir)
    except (ValueError, FileNotFoundError, AgentUnavailable) as exc:
        fail(first_line(exc))


def llm_settings(agent: Agent, greedy: bool = False, prompt_style: str | None = None) -> None:
    """Set how a language-model agent (`gamelm.agents.lm.LMAgent`) plays: its most likely move
    (temperature 0) and, for a transformers LLM, the prompt it reads; an agent without the
    setting is refused in one sentence."""
    model = getattr(agent, "model", None)
    if greedy:
        if not hasattr(agent, "temperature"):
            fail(
                f"--greedy applies to language-model agents (ckpt:, hf:, run:), not {agent.name!r}"
            )
        agent.temperature = 0.0
    if prompt_style is not None:
        if prompt_style not in PROMPT_STYLES:
            fail(f"--prompt-style must be one of {', '.join(PROMPT_STYLES)}, got {prompt_style!r}")
        view = getattr(model, "view", None)
        if not hasattr(view, "style"):
            fail(
                "--prompt-style applies to transformers LLM agents (hf:, ckpt:), "
                f"not {agent.name!r}"
            )
        view.style = prompt_style


def check_out(
    path: Path | None, flag: str = "--out", file: bool = False, fresh: bool = False
) -> None:
    """Fail in one sentence, before any work, unless ``path`` can be written: a folder (or,
    with ``file``, a file) that is not under a file; with ``fresh``, a folder that holds nothing
    yet (a run's output is never written over another's)."""
    if path is None:
        return
    path = Path(path)
    if fresh and path.is_dir() and any(path.iterdir()):
        fail(
            f"{flag} {path} already holds files of another run; continue it with --resume (where "
            "the command has it) or choose another --out"
        )
    if path.exists() and (path.is_dir() if file else not path.is_dir()):
        what, want = ("folder", "file") if file else ("file", "folder")
        fail(f"{flag} {path} is a {what}; name a {want}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                fail(f"{flag} {path}: {parent} is a file, not a folder")
            return


def runs_dir_or_default(runs_dir: Path | None) -> Path:
    """``--runs-dir``, else ``$GAMELM_RUNS``, else ``./runs``."""
    return runs_dir if runs_dir is not None else default_runs_dir()


def split_list(text: str | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (None stays None)."""
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def parse_set(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are read as YAML (numbers, lists, true/false)."""
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set wants KEY=VALUE, got {item!r}")
        try:
            out[key.strip().replace("-", "_")] = yaml.safe_load(value)
        except yaml.YAMLError:
            fail(f"--set {item!r}: the value is not valid YAML (quote text with brackets)")
    return out


def read_yaml_mapping(path: Path, flag: str) -> dict[str, Any]:
    """The mapping a YAML file holds, or one sentence naming ``flag`` and what is wrong."""
    import yaml

    if not path.is_file():
        fail(f"{flag}: {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        fail(f"{flag}: {path} is not valid YAML ({str(exc).splitlines()[0]})")
    if not isinstance(data, dict):
        fail(f"{flag}: {path} must hold a mapping of settings")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def config_file_values(
    ctx: typer.Context, path: Path | None, aliases: dict[str, str] | None = None
) -> dict[str, Any]:
    """Settings from a YAML ``--config`` file for the parameters not given on the command
    line (flags win over the file, the file over the defaults). ``aliases`` maps a setting to
    the command's parameter when their names differ."""
    if path is None:
        return {}

    def given(name: str) -> bool:  # by name: typer may bring its own copy of click's enum
        source = ctx.get_parameter_source((aliases or {}).get(name, name))
        return getattr(source, "name", None) in ("COMMANDLINE", "ENVIRONMENT")

    return {k: v for k, v in read_yaml_mapping(path, "--config").items() if not given(k)}


@contextlib.contextmanager
def sigterm_as_interrupt(handler: Callable[[int, Any], None] | None = None) -> Iterator[None]:
    """Within the block, SIGTERM (`kill`) ends the work as Ctrl-C does (KeyboardInterrupt, so
    the caller saves what it has), or calls ``handler`` for SIGINT and SIGTERM when given; the
    previous handlers come back afterwards."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    sigs = (signal.SIGTERM,) if handler is None else (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, handler or interrupt) for sig in sigs}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
