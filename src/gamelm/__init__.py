"""gamelm: language-model agents for games (No-Limit Texas Hold'em first).

`load_agent` turns a saved model, an exported file or an agent spec into a playing agent.
"""

from __future__ import annotations


def load_agent(source: str, temperature: float = 1.0, runs_dir: str | None = None):
    """A playing agent (`gamelm.agents.base.Agent`) from ``source``: a file written by
    ``gamelm export`` (``.safetensors``), a saved model directory, or any agent spec that
    ``gamelm eval`` takes (``tag``, ``ckpt:PATH``, ``run:NAME``, ``blueprint:PATH``, ...);
    ``run:NAME`` is looked up in ``runs_dir`` (default ``$GAMELM_RUNS`` or ``./runs``).

    The imports are inside the function so that ``import gamelm.poker`` stays light."""
    from pathlib import Path

    from gamelm.agents.registry import make_agent

    path = Path(source)
    if path.is_file():
        from gamelm.agents.lm import LMAgent
        from gamelm.models.export import is_exported, load_exported

        if not is_exported(path):
            raise ValueError(f"{path} is not a file written by gamelm export")
        return LMAgent(load_exported(path), name=path.stem, temperature=temperature)
    if path.is_dir():
        source = f"ckpt:{source}"
    agent = make_agent(source, runs_dir)
    if hasattr(agent, "temperature"):
        agent.temperature = temperature
    return agent
