"""Tables where a person plays against bots, one hand at a time, through the reference rules.

A `Table` seats the human at seat ``human`` and a bot everywhere else; the button moves one seat
each hand and every hand starts from the same stacks (a cash game with a fixed buy-in, so the
session's result is the sum of the hands'). Bots act as soon as it is their turn; the human acts
with the records of `gamelm.serving.state_parsing` (``{"action": "raise", "to": 600}``).
Finished hands are kept as PHH text.

>>> from gamelm.agents.registry import make_agent
>>> t = Table("t1", make_agent("calling-station"), seats=2, human=0, seed=1)
>>> v = t.view()
>>> v["to_act"] == 0 or v["hand_over"], len(v["hero"]["cards"])
(True, 2)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from gamelm.agents.base import Agent
from gamelm.poker import history, rules
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.cards import CARD_NAMES
from gamelm.poker.positions import position_names
from gamelm.serving.state_parsing import (
    Spot,
    SpotError,
    _action,
    check_chips,
    describe_entry,
    observation_of,
)

MAX_KEPT_HANDS = 1000  # finished hands a table keeps (the oldest are dropped)


@dataclass
class Table:
    """One table: a human against ``agent`` in every other seat."""

    table_id: str
    agent: Agent
    seats: int = 2
    human: int = 0
    small_blind: int = 1
    big_blind: int = 2
    stack: int = 200
    seed: int = 0
    menu: ActionAbstraction = field(default_factory=lambda: ActionAbstraction((0.5, 1.0)))
    hand_number: int = 0
    total: int = 0  # the human's chips won over the session
    hands: list[str] = field(default_factory=list)  # PHH text of finished hands
    log: list[str] = field(default_factory=list)  # this hand's actions in words
    touched: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not rules.MIN_SEATS <= self.seats <= rules.MAX_SEATS:
            raise SpotError(f"a table has 2 to {rules.MAX_SEATS} seats, got {self.seats}")
        if not 0 <= self.human < self.seats:
            raise SpotError(f"the human's seat must be 0..{self.seats - 1}, got {self.human}")
        if not 0 < self.small_blind <= self.big_blind:
            raise SpotError("blinds must satisfy 0 < small blind <= big blind")
        if self.stack < self.big_blind:
            raise SpotError(f"the stack ({self.stack}) must cover the big blind")
        check_chips([self.stack] * self.seats)
        self.rng = np.random.default_rng(self.seed)
        self.deal()

    # -- seats -----------------------------------------------------------------------------
    @property
    def button(self) -> int:
        return self.hand_number % self.seats

    def spot(self) -> Spot:
        return Spot(self.state, (self.human - self.button - 1) % self.seats, self.button)

    def _name(self, g: int) -> str:
        spot = self.spot()
        u = spot.user_seat(g)
        who = "You" if u == self.human else f"Bot (seat {u})"
        return f"{who} [{position_names(self.seats)[g]}]"

    # -- playing ---------------------------------------------------------------------------
    def deal(self) -> None:
        """Start the next hand (the button moves on) and let the bots act."""
        self.hand_number += 1
        config = rules.HandConfig(self.small_blind, self.big_blind, (self.stack,) * self.seats)
        cards = self.rng.permutation(52)[: 2 * self.seats + 5]
        self.state = rules.start_hand(config, cards[: 2 * self.seats], cards[2 * self.seats :])
        self.log = []
        self._bots()

    def act(self, record: dict) -> None:
        """The human's action; raises `SpotError` (one sentence) when it is not allowed."""
        spot = self.spot()
        if self.state.finished:
            raise SpotError("the hand is over: deal the next one")
        if self.state.actor != spot.hero:
            raise SpotError("it is not your turn")
        self._apply(_action(self.state, {**record, "seat": None}, 1, spot))
        self._bots()

    def _apply(self, action: rules.Action) -> None:
        g = self.state.actor
        assert g is not None
        legal = self.state.legal()
        if isinstance(action, rules.Fold):
            words = "folds"
        elif isinstance(action, rules.CheckCall):
            words = f"calls {legal.call_amount}" if legal.call_amount else "checks"
        else:
            opened = max(self.state.bets) > 0
            words = f"{'raises' if opened else 'bets'} to {action.amount}"
            if action.amount == legal.max_raise_to:
                words += " (all-in)"
        street = self.state.street
        self.state = rules.apply_action(self.state, action)
        self.log.append(f"{rules.STREET_NAMES[street].capitalize()}: {self._name(g)} {words}")
        if self.state.finished:
            self._finish()

    def _bots(self) -> None:
        hero = self.spot().hero
        while not self.state.finished and self.state.actor != hero:
            obs = observation_of(self.state, self.menu)
            entry = int(self.agent.act(obs, self.rng)[0])
            to = int(obs.raise_to[0, entry])
            if entry == 0:
                action: rules.Action = rules.Fold()
            elif entry == 1:
                action = rules.CheckCall()
            else:
                action = rules.RaiseTo(to)
            self._apply(action)

    def _finish(self) -> None:
        won = self.state.payoffs[self.spot().hero]
        self.total += won
        record = history.record_from_state(self.state)
        record.extra = {"table": self.table_id, "hand": self.hand_number}
        self.hands.append(history.dumps(record))
        del self.hands[:-MAX_KEPT_HANDS]

    # -- the human's view --------------------------------------------------------------------
    def view(self) -> dict:
        """The table as the human sees it: own cards, the board, every seat's chips, whose turn
        it is, the human's legal actions, this hand's log, and the result once it is over."""
        s, spot = self.state, self.spot()
        names = position_names(self.seats)
        shown = s.finished and s.showdown
        seats = []
        for u in range(self.seats):
            g = spot.gamelm_seat(u)
            cards = (
                [CARD_NAMES[c] for c in s.hole[g]]
                if (u == self.human or (shown and not s.folded[g]))
                else []
            )
            seats.append(
                {
                    "seat": u,
                    "name": "You" if u == self.human else f"Bot {u}",
                    "position": names[g],
                    "button": u == self.button,
                    "stack": s.stacks[g],
                    "bet": s.bets[g] if not s.finished else 0,
                    "folded": s.folded[g],
                    "cards": cards,
                    "won": s.payoffs[g] if s.finished else None,
                }
            )
        legal = []
        if not s.finished and s.actor == spot.hero:
            obs = observation_of(s, self.menu)
            legal = [describe_entry(obs, int(e), spot) for e in np.flatnonzero(obs.legal[0])]
            lg = s.legal()
            limits = {"min_raise_to": lg.min_raise_to, "max_raise_to": lg.max_raise_to}
        else:
            limits = {}
        return {
            "table_id": self.table_id,
            "agent": getattr(self.agent, "name", "bot"),
            "hand": self.hand_number,
            "blinds": [self.small_blind, self.big_blind],
            "street": rules.STREET_NAMES[min(s.street, 3)],
            "board": [CARD_NAMES[c] for c in s.board],
            "pot": s.pot,
            "seats": seats,
            "hero": seats[self.human],
            "to_act": None if s.finished else spot.user_seat(s.actor),  # type: ignore[arg-type]
            "legal_actions": legal,
            **limits,
            "hand_over": s.finished,
            "result": s.payoffs[spot.hero] if s.finished else None,
            "session_total": self.total,
            "hands_finished": len(self.hands),
            "log": list(self.log),
        }
