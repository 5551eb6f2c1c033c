"""Kuhn poker (Kuhn 1950), with OpenSpiel's ``kuhn_poker`` conventions.

Three cards J, Q, K (0, 1, 2); each player antes 1 and gets one card; player 0 acts first.
Actions: 0 = pass (check or fold), 1 = bet (bet or call) of 1 chip. The information-state
string is the player's card followed by the actions so far as ``p``/``b``. The game value for
player 0 is -1/18.

>>> g = KuhnPoker()
>>> s = g.initial_state().child(2).child(0).child(1).child(1)
>>> s.is_terminal(), s.returns()
(True, (2.0, -2.0))
>>> g.initial_state().child(1).child(0).child(0).child(1).information_state_string(0)
'1pb'
"""

from __future__ import annotations

from dataclasses import dataclass

from gamelm.games.base import CHANCE, TERMINAL

PASS, BET = 0, 1


@dataclass(frozen=True)
class KuhnState:
    cards: tuple[int, ...] = ()
    history: str = ""

    def current_player(self) -> int:
        if len(self.cards) < 2:
            return CHANCE
        if self.is_terminal():
            return TERMINAL
        return len(self.history) % 2

    def is_terminal(self) -> bool:
        return self.history in ("pp", "bp", "bb", "pbp", "pbb")

    def legal_actions(self) -> list[int]:
        return [] if self.current_player() < 0 else [PASS, BET]

    def chance_outcomes(self) -> list[tuple[int, float]]:
        rest = [c for c in range(3) if c not in self.cards]
        return [(c, 1.0 / len(rest)) for c in rest]

    def child(self, action: int) -> KuhnState:
        if len(self.cards) < 2:
            return KuhnState((*self.cards, action), "")
        return KuhnState(self.cards, self.history + "pb"[action])

    def returns(self) -> tuple[float, float]:
        h = self.history
        if h == "bp":
            return (1.0, -1.0)
        if h == "pbp":
            return (-1.0, 1.0)
        stake = 2.0 if "b" in h else 1.0
        win = stake if self.cards[0] > self.cards[1] else -stake
        return (win, -win)

    def information_state_string(self, player: int) -> str:
        return f"{self.cards[player]}{self.history}"


class KuhnPoker:
    name = "kuhn"
    num_players = 2
    num_distinct_actions = 2

    def initial_state(self) -> KuhnState:
        return KuhnState()

    def action_name(self, action: int) -> str:
        return ("pass", "bet")[action]
