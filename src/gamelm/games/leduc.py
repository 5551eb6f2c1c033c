"""Leduc hold'em (Southey et al. 2005), with OpenSpiel's ``leduc_poker`` conventions.

Six cards, two suits of J, Q, K (card ``c`` has rank ``c // 2``). Each player antes 1 chip and
gets one private card; a betting round; one public card; a second betting round. Bets and raises
are 2 chips in the first round and 4 in the second, at most two per round; player 0 acts first in
both rounds. Actions: 0 = fold, 1 = call (check when nothing is owed), 2 = raise; folding is legal
only when facing a bet. At showdown a private card that pairs the public card wins, else the
higher rank; equal ranks split the pot. The information-state strings are OpenSpiel's, e.g.
``[Observer: 0][Private: 0][Round 1][Player: 0][Pot: 2][Money: 99 99][Round1: ][Round2: ]``.

>>> g = LeducPoker()
>>> s = g.initial_state().child(0).child(3).child(2).child(2).child(1).child(4)
>>> s.information_state_string(0)[54:]
'[Money: 95 95][Public: 4][Round1: 2 2 1][Round2: ]'
>>> s.child(1).child(2).child(0).returns()
(-5.0, 5.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from gamelm.games.base import CHANCE, TERMINAL

FOLD, CALL, RAISE = 0, 1, 2
STARTING_MONEY = 100
RAISE_AMOUNTS = (2, 4)
MAX_RAISES = 2
NUM_CARDS = 6


@dataclass(frozen=True)
class LeducState:
    private: tuple[int, ...] = ()
    public: int = -1
    rounds: tuple[tuple[int, ...], ...] = ((),)
    contrib: tuple[int, int] = (1, 1)
    folded: int = -1  # the player who folded, or -1

    @property
    def _round(self) -> int:
        return len(self.rounds) - 1

    def _round_over(self) -> bool:
        acts = self.rounds[-1]
        return len(acts) >= 2 and acts[-1] == CALL

    def current_player(self) -> int:
        if self.is_terminal():
            return TERMINAL
        if len(self.private) < 2 or (self._round_over() and self.public < 0):
            return CHANCE
        return len(self.rounds[-1]) % 2

    def is_terminal(self) -> bool:
        return self.folded >= 0 or (self.public >= 0 and self._round_over())

    def legal_actions(self) -> list[int]:
        if self.current_player() < 0:
            return []
        acts = [FOLD] if self.contrib[0] != self.contrib[1] else []
        acts.append(CALL)
        if sum(a == RAISE for a in self.rounds[-1]) < MAX_RAISES:
            acts.append(RAISE)
        return acts

    def chance_outcomes(self) -> list[tuple[int, float]]:
        dealt = (*self.private, self.public)
        rest = [c for c in range(NUM_CARDS) if c not in dealt]
        return [(c, 1.0 / len(rest)) for c in rest]

    def child(self, action: int) -> LeducState:
        if len(self.private) < 2:
            return LeducState((*self.private, action))
        if self.current_player() == CHANCE:
            return LeducState(self.private, action, (*self.rounds, ()), self.contrib)
        p = len(self.rounds[-1]) % 2
        contrib = list(self.contrib)
        if action == FOLD:
            return LeducState(self.private, self.public, self.rounds, self.contrib, p)
        contrib[p] = max(contrib)
        if action == RAISE:
            contrib[p] += RAISE_AMOUNTS[self._round]
        rounds = (*self.rounds[:-1], (*self.rounds[-1], action))
        return LeducState(self.private, self.public, rounds, (contrib[0], contrib[1]))

    def _strength(self, player: int) -> int:
        rank = self.private[player] // 2
        return 10 + rank if rank == self.public // 2 else rank

    def returns(self) -> tuple[float, float]:
        if self.folded >= 0:
            lost = float(self.contrib[self.folded])
            return (-lost, lost) if self.folded == 0 else (lost, -lost)
        s0, s1 = self._strength(0), self._strength(1)
        win = 0.0 if s0 == s1 else float(self.contrib[1] if s0 > s1 else -self.contrib[0])
        return (win, -win)

    def information_state_string(self, player: int) -> str:
        c0, c1 = self.contrib
        public = f"[Public: {self.public}]" if self.public >= 0 else ""
        r1 = " ".join(map(str, self.rounds[0]))
        r2 = " ".join(map(str, self.rounds[1])) if len(self.rounds) > 1 else ""
        return (
            f"[Observer: {player}][Private: {self.private[player]}][Round {self._round + 1}]"
            f"[Player: {self.current_player()}][Pot: {c0 + c1}]"
            f"[Money: {STARTING_MONEY - c0} {STARTING_MONEY - c1}]{public}"
            f"[Round1: {r1}][Round2: {r2}]"
        )


class LeducPoker:
    name = "leduc"
    num_players = 2
    num_distinct_actions = 3

    def initial_state(self) -> LeducState:
        return LeducState()

    def action_name(self, action: int) -> str:
        return ("fold", "call", "raise")[action]
