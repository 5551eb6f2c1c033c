"""Small games behind one protocol, the test beds of the solvers (`gamelm.games.base`)."""

from __future__ import annotations

from gamelm.games.base import CHANCE, TERMINAL, Game, GameState
from gamelm.games.kuhn import KuhnPoker
from gamelm.games.leduc import LeducPoker

GAMES: dict[str, type] = {"kuhn": KuhnPoker, "leduc": LeducPoker}


def load_game(name: str) -> Game:
    """The game called `name` (``kuhn`` or ``leduc``)."""
    try:
        return GAMES[name.lower()]()
    except KeyError:
        raise ValueError(
            f"unknown game {name!r}; choose one of {', '.join(sorted(GAMES))}"
        ) from None


__all__ = ["CHANCE", "GAMES", "TERMINAL", "Game", "GameState", "load_game"]
