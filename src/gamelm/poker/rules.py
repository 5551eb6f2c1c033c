"""Scalar reference rules of No-Limit Texas Hold'em for 2 to 10 seats.

This module is the specification: simple, pure and slow. The batched engine (`gamelm.poker.batch`)
must agree with it, and both agree with PokerKit (the differential tests play thousands of random
hands through all three).

Seats are numbered in the order of play, as in PokerKit: the last seat is the button, seat 0 posts
the small blind and seat 1 the big blind; heads-up, the button (seat 1) posts the small blind and
seat 0 the big blind. Preflop the seat after the big blind acts first; postflop the first active
seat after the button.

The rules, in the terms PokerKit uses:

* Antes (the same for every seat) are posted first, then blinds; a stack too short posts what it
  has. Antes are dead money in the first pot; every player still in the hand is eligible for it.
* A bet or raise *to* ``x`` must reach ``max(bet) + max(last full raise increment, big blind)``
  unless it puts the player all-in. A raise whose increment is at least the last full increment
  reopens the betting; a shorter all-in raise does not: players who already acted may then only
  call or fold (unless several short all-ins add up to a full raise). A player whose stack does not
  exceed the amount to call, or whose opponents are all all-in, cannot raise.
* Folding is only allowed when facing a bet.
* When a betting round ends, the part of the largest bet that nobody matched is returned. A hand
  ends when one player is left, or after the river betting (or when at most one player can still
  bet) at showdown. Pots are formed by contribution level; adjacent pots with the same eligible
  players are merged; each pot is split between its best hands with the odd chips going to the
  first winner in seat order.

Actions are frozen records. ``verify_action`` raises `IllegalActionError` naming the broken rule;
``can_act`` answers; ``apply_action`` returns a new `State` (the old one never changes).

>>> import numpy as np
>>> from gamelm.poker.cards import parse_cards
>>> config = HandConfig(small_blind=1, big_blind=2, starting_stacks=(200, 200))
>>> s = start_hand(config, parse_cards("AsAhKsKd"), parse_cards("2c7d9hJcQs"))
>>> s.actor, s.legal().call_amount, s.legal().min_raise_to
(1, 1, 4)
>>> s = apply_action(s, RaiseTo(6))
>>> s = apply_action(s, CheckCall())
>>> s.street, s.pot
(1, 12)
>>> apply_action(s, Fold())
Traceback (most recent call last):
...
gamelm.poker.rules.IllegalActionError: seat 0 cannot fold: there is no bet to call (check instead)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from gamelm.poker.evaluator import evaluate_batch

STREET_NAMES = ("preflop", "flop", "turn", "river")
BOARD_CARDS_VISIBLE = (0, 3, 4, 5)
MIN_SEATS, MAX_SEATS = 2, 10
SEATS = f"{MIN_SEATS}..{MAX_SEATS}"  # the range as help texts and messages write it


def check_seats(seats: int, name: str = "seats") -> None:
    """ValueError unless a table of ``seats`` players can be dealt (`MIN_SEATS`..`MAX_SEATS`)."""
    if not MIN_SEATS <= seats <= MAX_SEATS:
        raise ValueError(f"{name} must be {SEATS}, got {seats}")


class IllegalActionError(ValueError):
    """An action that the rules forbid; the message names the rule."""


@dataclass(frozen=True)
class Fold:
    """Give up the hand. Only legal when facing a bet."""

    seat: int | None = None


@dataclass(frozen=True)
class CheckCall:
    """Check, or call the largest bet (all-in if the stack is shorter)."""

    seat: int | None = None


@dataclass(frozen=True)
class RaiseTo:
    """Bet or raise so that this street's total bet of the player is ``amount`` chips."""

    amount: int
    seat: int | None = None


Action = Fold | CheckCall | RaiseTo


@dataclass(frozen=True)
class HandConfig:
    """Blinds, ante and starting stacks of one hand (one stack per seat, button last)."""

    small_blind: int
    big_blind: int
    starting_stacks: tuple[int, ...]
    ante: int = 0

    def __post_init__(self) -> None:
        stacks = tuple(int(s) for s in self.starting_stacks)
        object.__setattr__(self, "starting_stacks", stacks)
        check_seats(len(stacks), "the number of stacks")
        if any(s <= 0 for s in stacks):
            raise ValueError(f"every starting stack must be positive, got {stacks}")
        if not 0 < self.small_blind <= self.big_blind:
            raise ValueError(
                f"blinds must satisfy 0 < small blind <= big blind, got {self.small_blind}"
                f"/{self.big_blind}"
            )
        if self.ante < 0:
            raise ValueError(f"the ante cannot be negative, got {self.ante}")

    @property
    def num_players(self) -> int:
        return len(self.starting_stacks)

    def blind_of(self, seat: int) -> int:
        """Blind that ``seat`` posts (0 for seats without a blind)."""
        if self.num_players == 2:
            return (self.big_blind, self.small_blind)[seat]
        return (self.small_blind, self.big_blind)[seat] if seat < 2 else 0


@dataclass(frozen=True)
class Legal:
    """What the player to act may do."""

    seat: int
    can_fold: bool
    call_amount: int  # chips a check/call adds (0 is a check)
    can_raise: bool
    min_raise_to: int  # meaningful only when can_raise
    max_raise_to: int


@dataclass(frozen=True)
class Pot:
    amount: int
    eligible: tuple[int, ...]


@dataclass(frozen=True)
class State:
    """One hand of NLHE. Fields are tuples; every action returns a new State."""

    config: HandConfig
    hole: tuple[tuple[int, int], ...]
    board_deal: tuple[int, ...]  # all five board cards, revealed street by street
    stacks: tuple[int, ...]
    bets: tuple[int, ...]  # this street
    contributions: tuple[int, ...]  # chips put in over the hand, antes excluded
    antes: tuple[int, ...]
    folded: tuple[bool, ...]
    street: int = 0
    finished: bool = False
    actors: tuple[int, ...] = ()  # the queue of seats still to act this round, first is to act
    acted: frozenset[int] = frozenset()
    last_raise: int = 0  # the largest raise increment this round (PokerKit: completion amount)
    short_all_ins: tuple[int, ...] = ()  # increments of consecutive all-in raises
    winnings: tuple[int, ...] = ()  # chips each seat won at the end
    pots: tuple[Pot, ...] = ()  # final pots (after the hand)
    history: tuple[tuple[int, int, Action], ...] = field(default=(), repr=False)  # street, seat

    # -- views ---------------------------------------------------------------------------------
    @property
    def num_players(self) -> int:
        return self.config.num_players

    @property
    def board(self) -> tuple[int, ...]:
        """Board cards visible now."""
        street = 3 if self.finished and self.showdown else self.street
        return self.board_deal[: BOARD_CARDS_VISIBLE[min(street, 3)]]

    @property
    def showdown(self) -> bool:
        return self.finished and sum(not f for f in self.folded) > 1

    @property
    def actor(self) -> int | None:
        """Seat to act, or None when the hand is over."""
        return self.actors[0] if self.actors and not self.finished else None

    @property
    def pot(self) -> int:
        """All chips committed so far (antes and bets included)."""
        return sum(self.contributions) + sum(self.antes)

    @property
    def final_stacks(self) -> tuple[int, ...]:
        if not self.finished:
            raise ValueError("the hand is not finished")
        return self.stacks

    @property
    def payoffs(self) -> tuple[int, ...]:
        """Chips won (positive) or lost per seat; defined once the hand is finished."""
        return tuple(f - s for f, s in zip(self.final_stacks, self.config.starting_stacks))

    def legal(self) -> Legal:
        """Legal options of the player to act."""
        if self.finished or not self.actors:
            raise IllegalActionError("the hand is finished: no action is possible")
        p = self.actors[0]
        max_bet = max(self.bets)
        call = min(self.stacks[p], max_bet - self.bets[p])
        reason = self._raise_forbidden(p)
        min_to = min(
            self.stacks[p] + self.bets[p], max(self.last_raise, self.config.big_blind) + max_bet
        )
        return Legal(
            seat=p,
            can_fold=self.bets[p] < max_bet,
            call_amount=call,
            can_raise=reason is None,
            min_raise_to=min_to,
            max_raise_to=self.stacks[p] + self.bets[p],
        )

    def _raise_forbidden(self, p: int) -> str | None:
        max_bet = max(self.bets)
        call = min(self.stacks[p], max_bet - self.bets[p])
        if call < self.last_raise:
            return (
                "an all-in short of a full raise does not reopen the betting for a player "
                "who only has to call it"
            )
        if self.short_all_ins and sum(self.short_all_ins) < self.last_raise and p in self.acted:
            return "an all-in that is not a full raise does not reopen the betting"
        if self.stacks[p] <= max_bet - self.bets[p]:
            return "the stack does not exceed the amount to call"
        others_can_call = any(
            i != p and not self.folded[i] and self.stacks[i] + self.bets[i] > max_bet
            for i in range(self.num_players)
        )
        if not others_can_call:
            return "every opponent is all-in or folded"
        return None


# -- starting a hand ---------------------------------------------------------------------------


def start_hand(
    config: HandConfig,
    hole_cards: Sequence[int] | npt.NDArray[np.integer],
    board: Sequence[int] | npt.NDArray[np.integer],
) -> State:
    """Post antes and blinds, deal ``hole_cards`` (two per seat, seat order) and the board.

    The five board cards are fixed now and revealed street by street.
    """
    n = config.num_players
    hole = [int(c) for c in hole_cards]
    board_deal = tuple(int(c) for c in board)
    if len(hole) != 2 * n or len(board_deal) != 5:
        raise ValueError(f"expected {2 * n} hole cards and 5 board cards")
    if len(set(hole) | set(board_deal)) != 2 * n + 5 or not all(0 <= c < 52 for c in hole):
        raise ValueError("cards must be distinct ints 0..51")
    stacks = list(config.starting_stacks)
    antes = [min(config.ante, s) for s in stacks]
    stacks = [s - a for s, a in zip(stacks, antes)]
    bets = [min(config.blind_of(i), stacks[i]) for i in range(n)]
    stacks = [s - b for s, b in zip(stacks, bets)]
    state = State(
        config=config,
        hole=tuple((hole[2 * i], hole[2 * i + 1]) for i in range(n)),
        board_deal=board_deal,
        stacks=tuple(stacks),
        bets=tuple(bets),
        contributions=tuple(bets),
        antes=tuple(antes),
        folded=(False,) * n,
    )
    return _begin_round(state, street=0)


def deal_random(
    config: HandConfig, rng: np.random.Generator | int | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Random hole cards and board for ``config`` from a seeded generator."""
    gen = np.random.default_rng(rng)
    cards = gen.permutation(52)[: 2 * config.num_players + 5]
    return cards[: 2 * config.num_players], cards[2 * config.num_players :]


# -- betting ----------------------------------------------------------------------------------


def _begin_round(state: State, street: int) -> State:
    n = state.num_players
    if street == 0:
        # opener: the seat after the largest blind (ties: the later seat)
        keyed = [(state.bets[i] * (state.config.blind_of(i) > 0), i) for i in range(n)]
        opener = (max(keyed)[1] + 1) % n
    else:
        opener = 0
    live_totals = sorted(state.bets[i] + state.stacks[i] for i in range(n) if not state.folded[i])
    second = live_totals[-2]
    actors = []
    for k in range(n):
        i = (opener + k) % n
        effective = min(state.stacks[i], max(0, second - state.bets[i]))
        if not state.folded[i] and state.stacks[i] > 0 and effective > 0:
            actors.append(i)
    state = replace(
        state,
        street=street,
        actors=tuple(actors),
        acted=frozenset(),
        last_raise=0,
        short_all_ins=(),
    )
    if not actors or (len(actors) == 1 and state.bets[actors[0]] >= max(state.bets)):
        return _end_round(state)
    return state


def verify_action(state: State, action: Action) -> None:
    """Raise `IllegalActionError` naming the rule if ``action`` is not legal now."""
    if state.finished or not state.actors:
        raise IllegalActionError("the hand is finished: no action is possible")
    p = state.actors[0]
    if action.seat is not None and action.seat != p:
        raise IllegalActionError(f"seat {action.seat} acted out of turn: seat {p} is to act")
    max_bet = max(state.bets)
    if isinstance(action, Fold):
        if state.bets[p] >= max_bet:
            raise IllegalActionError(
                f"seat {p} cannot fold: there is no bet to call (check instead)"
            )
    elif isinstance(action, RaiseTo):
        reason = state._raise_forbidden(p)
        if reason is not None:
            raise IllegalActionError(f"seat {p} cannot raise: {reason}")
        legal = state.legal()
        amount = action.amount
        if not isinstance(amount, int | np.integer) or isinstance(amount, bool):
            raise IllegalActionError(
                f"a raise amount must be an integer number of chips: {amount!r}"
            )
        if amount > legal.max_raise_to:
            raise IllegalActionError(
                f"seat {p} cannot raise to {amount}: that is more than the stack allows "
                f"(at most {legal.max_raise_to})"
            )
        if amount < legal.min_raise_to:
            raise IllegalActionError(
                f"seat {p} cannot raise to {amount}: the minimum raise is to {legal.min_raise_to}"
            )
    elif not isinstance(action, CheckCall):
        raise IllegalActionError(f"unknown action {action!r}")


def can_act(state: State, action: Action) -> bool:
    """True if ``action`` is legal now."""
    try:
        verify_action(state, action)
    except IllegalActionError:
        return False
    return True


def apply_action(state: State, action: Action) -> State:
    """The state after the player to act takes ``action`` (verified first)."""
    verify_action(state, action)
    n = state.num_players
    p = state.actors[0]
    stacks, bets, contrib = list(state.stacks), list(state.bets), list(state.contributions)
    folded = list(state.folded)
    actors = list(state.actors[1:])
    acted = set(state.acted) | {p}
    last_raise, shorts = state.last_raise, list(state.short_all_ins)
    max_bet = max(bets)
    if isinstance(action, Fold):
        folded[p] = True
        record: Action = Fold(seat=p)
    elif isinstance(action, CheckCall):
        chips = min(stacks[p], max_bet - bets[p])
        stacks[p] -= chips
        bets[p] += chips
        contrib[p] += chips
        record = CheckCall(seat=p)
    else:
        amount = int(action.amount)
        increment = amount - max_bet
        chips = amount - bets[p]
        stacks[p] -= chips
        bets[p] = amount
        contrib[p] += chips
        actors = [
            (p + k) % n for k in range(1, n) if not folded[(p + k) % n] and stacks[(p + k) % n] > 0
        ]
        if increment >= last_raise:
            acted = {p}
        last_raise = max(last_raise, increment)
        if stacks[p] > 0:
            shorts = []
        else:
            shorts.append(increment)
        if sum(shorts) >= last_raise:
            shorts = []
        record = RaiseTo(amount, seat=p)
    state = replace(
        state,
        stacks=tuple(stacks),
        bets=tuple(bets),
        contributions=tuple(contrib),
        folded=tuple(folded),
        actors=tuple(actors),
        acted=frozenset(acted),
        last_raise=last_raise,
        short_all_ins=tuple(shorts),
        history=(*state.history, (state.street, p, record)),
    )
    if not actors or sum(not f for f in folded) <= 1:
        return _end_round(state)
    return state


def _end_round(state: State) -> State:
    """Return the uncalled part of the largest bet, then start the next street or finish."""
    bets, stacks, contrib = list(state.bets), list(state.stacks), list(state.contributions)
    live = [i for i in range(state.num_players) if not state.folded[i]]
    if len(live) > 1 and any(bets):
        cutoff = sorted(bets)[-2]
        for i in range(state.num_players):
            if bets[i] > cutoff:
                stacks[i] += bets[i] - cutoff
                contrib[i] -= bets[i] - cutoff
    state = replace(
        state,
        stacks=tuple(stacks),
        bets=(0,) * state.num_players,
        contributions=tuple(contrib),
        actors=(),
    )
    if len(live) == 1 or state.street == 3:
        return _finish(state)
    return _begin_round(state, state.street + 1)


def side_pots(
    contributions: Sequence[int], antes: Sequence[int], folded: Sequence[bool]
) -> list[Pot]:
    """Main and side pots from what each seat put in (PokerKit's construction).

    Levels are the distinct contributions; a level's pot holds what every seat put in between the
    previous level and this one, and is open to unfolded seats that reached the level. Antes are
    added to the first pot. Adjacent pots with the same eligible seats are merged.

    >>> side_pots([50, 100, 100], [0, 0, 0], [False, False, True])
    [Pot(amount=150, eligible=(0, 1)), Pot(amount=100, eligible=(1,))]
    """
    n = len(contributions)
    amount = sum(antes)
    previous = 0
    pots: list[Pot] = []
    for level in sorted(set(contributions)):
        for i in range(n):
            if contributions[i] >= level:
                amount += level - previous
        eligible = tuple(i for i in range(n) if contributions[i] >= level and not folded[i])
        while pots and pots[-1].eligible == eligible:
            amount += pots.pop().amount
        if amount:
            pots.append(Pot(amount, eligible))
        amount = 0
        previous = level
    return pots


def _finish(state: State) -> State:
    n = state.num_players
    live = [i for i in range(n) if not state.folded[i]]
    winnings = [0] * n
    if len(live) == 1:
        winnings[live[0]] = state.pot
        pots: tuple[Pot, ...] = (Pot(state.pot, (live[0],)),)
    else:
        pots = tuple(side_pots(state.contributions, state.antes, state.folded))
        hands = np.array([[*state.hole[i], *state.board_deal] for i in range(n)])
        strength = evaluate_batch(hands)
        # Hands that cannot win any pot are killed first; pots whose eligible players are then
        # the same are merged before splitting (this only moves odd chips; PokerKit does it).
        can_win = {
            i
            for pot in pots
            for i in pot.eligible
            if strength[i] == max(strength[j] for j in pot.eligible)
        }
        alive_folded = [state.folded[i] or i not in can_win for i in range(n)]
        for pot in side_pots(state.contributions, state.antes, alive_folded):
            best = max(strength[i] for i in pot.eligible)
            winners = [i for i in pot.eligible if strength[i] == best]
            share, odd = divmod(pot.amount, len(winners))
            for w in winners:
                winnings[w] += share
            winnings[winners[0]] += odd
    stacks = tuple(s + w for s, w in zip(state.stacks, winnings))
    return replace(
        state,
        stacks=stacks,
        finished=True,
        actors=(),
        street=3 if len(live) > 1 else state.street,
        winnings=tuple(winnings),
        pots=pots,
    )
