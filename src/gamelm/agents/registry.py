"""Every agent from one text spec (what ``--vs``, ``--opponents`` and the API take): the
baselines by name, ``exploit:NAME``, ``ckpt:PATH``, ``hf:NAME``, ``run:NAME``,
``blueprint:PATH`` and ``dspy:PATH`` (see `make_agent`).

>>> make_agent("tag").name
'tag'
"""

from __future__ import annotations

from pathlib import Path

from gamelm.agents.base import Agent
from gamelm.agents.baselines import BASELINES
from gamelm.agents.opponent_model import Exploit
from gamelm.agents.tabular import BlueprintAgent
from gamelm.runs.registry import resolve_run_model


def make_agent(spec: str, runs_dir: str | Path | None = None) -> Agent:
    """An agent from its name (``random``, ``calling-station``, ``maniac``, ``tag``, ``equity``),
    ``exploit:NAME`` for that agent adjusted to the opponents' tendencies
    (`gamelm.agents.opponent_model.Exploit`), ``ckpt:PATH`` for a saved poker LM
    (`gamelm.models.lm.PokerLM`) or fine-tuned LLM, ``hf:NAME`` for any transformers causal
    LM by directory or hub name (`gamelm.models.causal_lm.CausalLMPolicy`), ``run:NAME`` for
    the model of a registered training run (its final model, else its newest checkpoint;
    `gamelm.runs.registry`; looked up in ``runs_dir``, by default ``$GAMELM_RUNS`` or
    ``./runs``), ``blueprint:PATH`` for a hold'em blueprint
    (`gamelm.agents.tabular.BlueprintAgent`), or ``dspy:PATH`` for a compiled prompt program
    (`gamelm.agents.dspy_agent.DSPyAgent`)."""
    if spec.strip().lower().startswith("run:"):
        from gamelm.agents.lm import LMAgent
        from gamelm.models.lm import PokerLM

        try:
            model = PokerLM.load(resolve_run_model(spec.strip()[4:], runs_dir))
            return LMAgent(model, name=spec.strip())
        except (KeyError, FileNotFoundError, ValueError) as exc:
            raise ValueError(f"cannot load {spec!r}: {str(exc).strip(chr(34) + chr(39))}") from None
    if spec.strip().lower().startswith("blueprint:"):
        path = spec.strip()[10:]
        try:
            return BlueprintAgent.load(path, name=spec.strip())
        except (FileNotFoundError, ValueError) as exc:
            raise ValueError(f"cannot load {spec!r}: {exc}") from None
    if spec.strip().lower().startswith("dspy:"):
        try:
            from gamelm.agents.dspy_agent import DSPyAgent
        except ImportError:
            raise ValueError(
                f"cannot load {spec!r}: DSPy is not installed; pip install 'gamelm[compile]'"
            ) from None
        try:
            return DSPyAgent.load(spec.strip()[5:], name=spec.strip())
        except (FileNotFoundError, ValueError) as exc:
            raise ValueError(f"cannot load {spec!r}: {exc}") from None
    if spec.strip().lower().startswith(("ckpt:", "hf:")):  # the path keeps its case
        from gamelm.agents.lm import LMAgent
        from gamelm.models.lm import load_policy

        path = spec.strip().split(":", 1)[1]
        try:
            return LMAgent(load_policy(path), name=spec.strip())
        except (FileNotFoundError, ValueError) as exc:
            raise ValueError(f"cannot load {spec!r}: {exc}") from None
    name = spec.strip().lower()
    if name.startswith("exploit:"):
        return Exploit(make_agent(name.removeprefix("exploit:"), runs_dir))
    factory = BASELINES.get(name)
    if factory is None:
        raise ValueError(
            f"unknown agent {spec!r}; available: {', '.join(BASELINES)}, exploit:NAME, "
            "ckpt:PATH, hf:NAME, run:NAME, blueprint:PATH or dspy:PATH"
        )
    return factory()
