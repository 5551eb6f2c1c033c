"""The small game protocol the solvers work on (OpenSpiel-style, immutable states).

A `Game` makes an initial `GameState`; a state says whose turn it is (a player, `CHANCE` or
`TERMINAL`), its legal actions or chance outcomes, and makes a child state per action. Kuhn and
Leduc poker implement it exactly as OpenSpiel's ``kuhn_poker`` and ``leduc_poker`` do, down to
the information-state strings and action ids, so a gamelm strategy and an OpenSpiel policy are
keyed the same way. The solvers (`gamelm.solvers.cfr`, `gamelm.solvers.exploitability`) read a
game only through this protocol.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

CHANCE = -1
TERMINAL = -4


@runtime_checkable
class GameState(Protocol):
    """One history of a two-player zero-sum game with chance."""

    def current_player(self) -> int:
        """The player to act (0 or 1), `CHANCE` at a chance node, `TERMINAL` at the end."""
        ...

    def is_terminal(self) -> bool: ...

    def legal_actions(self) -> list[int]:
        """Action ids, ascending, of the player to act."""
        ...

    def chance_outcomes(self) -> list[tuple[int, float]]:
        """(action, probability) pairs at a chance node."""
        ...

    def child(self, action: int) -> GameState: ...

    def returns(self) -> tuple[float, float]:
        """Each player's winnings in chips at a terminal state."""
        ...

    def information_state_string(self, player: int) -> str:
        """What `player` knows here; equal strings are one information set."""
        ...


@runtime_checkable
class Game(Protocol):
    name: str
    num_players: int
    num_distinct_actions: int

    def initial_state(self) -> GameState: ...

    def action_name(self, action: int) -> str: ...
