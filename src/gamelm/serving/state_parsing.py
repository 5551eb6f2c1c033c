"""Decisions asked about from outside a match: a game state as JSON, or a PHH hand prefix.

A client describes a table the way people do: seats numbered ``0..n-1`` around the table, the
button at seat ``button``, stacks in seat order and the actions so far. gamelm numbers seats in
the order of play (the button last, `gamelm.poker.rules`), so a request is mapped into gamelm
seats, replayed through the reference rules (every action checked, the reason named when one is
illegal) and mapped back in the answer. A PHH prefix already uses gamelm's order: player
``p1`` is the small blind and ``pN`` the button.

Action records are ``{"seat": 3, "action": "raise", "to": 600}``: ``action`` is one of
``fold``, ``check``, ``call``, ``bet``, ``raise``, ``all-in``; ``to`` is the player's total bet
on the street after a bet or raise (required for ``bet`` and ``raise``); ``seat`` may be left
out, and when given it must be the seat to act. The blinds are posted by the rules, not listed.

Opponents' hole cards and the undealt board are unknown to the player asking; they are filled
from a generator seeded by the request so the rules can be replayed. Agents only ever see the
hero's cards and the visible board (`gamelm.agents.base.Observation`).

>>> s = spot_from_json(seats=2, button=0, blinds=(1, 2), stacks=(200, 200), hero=1,
...                    hole_cards="AsKd", board="", actions=[{"action": "raise", "to": 6}])
>>> s.hero, s.user_seat(s.hero), s.state.legal().call_amount
(0, 1, 4)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, Observation, observe, policy
from gamelm.agents.observation import rules_history
from gamelm.poker import history, rules
from gamelm.poker.abstraction import CALL_ID, FOLD_ID, ActionAbstraction
from gamelm.poker.batch import CHECK_CALL, FOLD, RAISE, BatchEngine
from gamelm.poker.cards import format_cards, parse_cards

ACTION_WORDS = ("fold", "check", "call", "bet", "raise", "all-in")


MAX_TABLE_CHIPS = 2**31 - 1  # the engine keeps chips in 32-bit integers


def check_chips(stacks: Sequence[int], blinds: Sequence[int] = (), ante: int = 0) -> None:
    """Refuse chips the engine cannot hold: the stacks must add up to 32 bits, and so must
    each blind and the ante."""
    if sum(int(s) for s in stacks) > MAX_TABLE_CHIPS:
        raise SpotError(f"the chips at one table must add up to at most {MAX_TABLE_CHIPS:,}")
    if max([int(ante), *(int(b) for b in blinds)]) > MAX_TABLE_CHIPS:
        raise SpotError(f"blinds and antes must be at most {MAX_TABLE_CHIPS:,} chips")


class SpotError(ValueError):
    """A request that does not describe a decision the rules allow; the message is one sentence
    that says what is wrong."""


@dataclass(frozen=True)
class Spot:
    """A decision: the state replayed through the rules, the hero (gamelm seat) to act, and the
    client's button so seats can be named as the client numbers them."""

    state: rules.State
    hero: int  # gamelm seat
    button: int  # the client's seat of the button

    def user_seat(self, seat: int) -> int:
        """The client's number of gamelm seat ``seat``."""
        return (seat + self.button + 1) % self.state.num_players

    def gamelm_seat(self, user: int) -> int:
        return (user - self.button - 1) % self.state.num_players


def _cards(text: str, what: str, counts: Sequence[int]) -> list[int]:
    try:
        cards = parse_cards(text).tolist() if text.strip() else []
    except ValueError as exc:
        raise SpotError(f"bad {what} {text!r}: {exc}") from None
    if len(cards) not in counts:
        want = " or ".join(str(c) for c in counts)
        raise SpotError(f"the {what} must hold {want} cards, got {len(cards)} in {text!r}")
    return cards


def _fill(
    known_holes: Mapping[int, Sequence[int]], board: Sequence[int], seats: int, seed: int
) -> tuple[list[int], list[int]]:
    """Hole cards of every seat (the unknown ones drawn) and five board cards."""
    known = [c for h in known_holes.values() for c in h] + list(board)
    seen: set[int] = set()
    for c in known:
        if c in seen:
            raise SpotError(f"the card {format_cards([c])} appears twice")
        seen.add(c)
    rest = iter(
        np.random.default_rng(seed).permutation(np.setdiff1d(np.arange(52), known)).tolist()
    )
    holes: list[int] = []
    for s in range(seats):
        holes += list(known_holes[s]) if s in known_holes else [next(rest), next(rest)]
    return holes, [*board, *(next(rest) for _ in range(5 - len(board)))]


def _check_decision(spot: Spot, board_cards: int) -> Spot:
    state = spot.state
    if state.finished:
        raise SpotError("the hand is over after these actions: nobody is left to act")
    actor = state.actor
    assert actor is not None
    if actor != spot.hero:
        raise SpotError(
            f"seat {spot.user_seat(actor)} is to act after these actions, not the hero "
            f"(seat {spot.user_seat(spot.hero)})"
        )
    visible = rules.BOARD_CARDS_VISIBLE[state.street]
    if board_cards != visible:
        raise SpotError(
            f"the actions reach the {rules.STREET_NAMES[state.street]}, so the board must hold "
            f"{visible} cards, got {board_cards}"
        )
    return spot


def _action(state: rules.State, record: Mapping, k: int, spot: Spot) -> rules.Action:
    """One action record as a rules action (its seat and kind checked)."""
    actor = state.actor
    if actor is None:
        raise SpotError(f"action {k} comes after the hand is over")
    name = f"seat {spot.user_seat(actor)}"
    word = str(record.get("action", "")).strip().lower()
    if word not in ACTION_WORDS:
        raise SpotError(f"action {k}: {word!r} is not one of {', '.join(ACTION_WORDS)}")
    seat = record.get("seat")
    if seat is not None and spot.gamelm_seat(int(seat)) != actor:
        raise SpotError(f"action {k}: seat {seat} acted out of turn; {name} was to act")
    legal = state.legal()
    to = record.get("to")
    if word == "fold":
        action: rules.Action = rules.Fold()
    elif word == "check":
        if legal.call_amount > 0:
            raise SpotError(f"action {k}: {name} cannot check facing a bet (call or fold)")
        action = rules.CheckCall()
    elif word == "call":
        if legal.call_amount == 0:
            raise SpotError(f"action {k}: {name} has nothing to call (check instead)")
        action = rules.CheckCall()
    elif word == "all-in":
        action = rules.RaiseTo(legal.max_raise_to) if legal.can_raise else rules.CheckCall()
    else:
        if to is None:
            raise SpotError(f"action {k}: a {word} needs 'to', the street total in chips")
        action = rules.RaiseTo(int(to))
    try:
        rules.verify_action(state, action)
    except rules.IllegalActionError as exc:
        raise SpotError(f"action {k}: {str(exc).replace(f'seat {actor}', name)}") from None
    return action


def spot_from_json(
    seats: int,
    button: int,
    blinds: Sequence[int],
    stacks: Sequence[int],
    hero: int,
    hole_cards: str,
    board: str = "",
    actions: Sequence[Mapping] = (),
    ante: int = 0,
    seed: int = 0,
) -> Spot:
    """The decision a JSON request describes (see the module docstring for the records)."""
    if not rules.MIN_SEATS <= seats <= rules.MAX_SEATS:
        raise SpotError(f"a table has 2 to {rules.MAX_SEATS} seats, got {seats}")
    for what, seat in (("button", button), ("hero", hero)):
        if not 0 <= seat < seats:
            raise SpotError(f"the {what} must be a seat 0..{seats - 1}, got {seat}")
    if len(stacks) != seats:
        raise SpotError(f"give one stack per seat: {seats} seats, {len(stacks)} stacks")
    if len(blinds) != 2:
        raise SpotError(f"blinds are [small, big], got {list(blinds)}")
    check_chips(stacks, blinds, ante)
    order = [(button + 1 + g) % seats for g in range(seats)]  # client seat of each gamelm seat
    try:
        config = rules.HandConfig(
            int(blinds[0]), int(blinds[1]), tuple(int(stacks[u]) for u in order), int(ante)
        )
    except ValueError as exc:
        raise SpotError(str(exc)) from None
    hero_g = (hero - button - 1) % seats
    hole = _cards(hole_cards, "hole cards", (2,))
    shown = _cards(board, "board", rules.BOARD_CARDS_VISIBLE)
    holes, board5 = _fill({hero_g: hole}, shown, seats, seed)
    state = rules.start_hand(config, holes, board5)
    spot = Spot(state, hero_g, button)
    for k, record in enumerate(actions, 1):
        if not isinstance(record, Mapping):
            raise SpotError(f"action {k} must be an object like {{'action': 'call'}}")
        state = rules.apply_action(state, _action(state, record, k, spot))
        spot = Spot(state, hero_g, button)
    return _check_decision(spot, len(shown))


def spot_from_phh(text: str, seed: int = 0) -> Spot:
    """The decision at the end of a PHH hand prefix: the player to act is the hero and must
    have known hole cards (``????`` marks the unknown ones)."""
    try:
        record = history.loads(text)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        reason = str(exc)
        if not isinstance(exc, ValueError) or "literal" in reason or "convert" in reason:
            reason = (
                "its fields do not describe a hand (starting_stacks, blinds_or_straddles and "
                "antes are lists of whole numbers, one per player, and actions a list of strings)"
            )
        raise SpotError(f"bad PHH: {reason}") from None
    n = record.num_players
    check_chips(record.starting_stacks, (record.small_blind, record.big_blind), record.ante)
    if len(record.hole) != n or not rules.MIN_SEATS <= n <= rules.MAX_SEATS:
        raise SpotError(f"a table has 2 to {rules.MAX_SEATS} seats, got {n}")
    if len(record.board) not in rules.BOARD_CARDS_VISIBLE:
        raise SpotError(f"the board must hold 0, 3, 4 or 5 cards, got {len(record.board)}")
    known = {s: h for s, h in enumerate(record.hole) if len(h) == 2}
    holes, board5 = _fill(known, record.board, n, seed)
    try:
        state = rules.start_hand(record.config(), holes, board5)
    except ValueError as exc:
        raise SpotError(str(exc)) from None
    spot = Spot(state, 0, n - 1)
    for k, (_, seat, kind, amount) in enumerate(record.actions, 1):
        word = {"f": "fold", "cc": "call" if _to_call(state) else "check"}.get(kind, "raise")
        state = rules.apply_action(
            state, _action(state, {"seat": seat, "action": word, "to": amount}, k, spot)
        )
        spot = Spot(state, 0, n - 1)
    if state.actor is not None and state.actor not in known:
        raise SpotError(f"the player to act (p{state.actor + 1}) has no known hole cards")
    return _check_decision(
        Spot(state, state.actor if state.actor is not None else 0, n - 1), len(record.board)
    )


def _to_call(state: rules.State) -> int:
    return state.legal().call_amount if state.actor is not None else 0


# -- the agent's view and its answer ------------------------------------------------------------


def observation_of(state: rules.State, menu: ActionAbstraction) -> Observation:
    """The one-row observation of the player to act in ``state``, exactly as a match shows it:
    the hand is replayed in a one-table `BatchEngine` and observed with ``menu``, with the
    public history as tokens."""
    cfg = state.config
    n = state.num_players
    eng = BatchEngine(
        1, n, cfg.small_blind, cfg.big_blind, np.array([cfg.starting_stacks]), cfg.ante
    )
    eng.reset(hole=np.array([state.hole]), board=np.array([state.board_deal]))
    for _, _, action in state.history:
        if isinstance(action, rules.Fold):
            eng.step([FOLD])
        elif isinstance(action, rules.CheckCall):
            eng.step([CHECK_CALL])
        else:
            eng.step([RAISE], [action.amount])
    street = state.street
    raises = sum(1 for s, _, a in state.history if s == street and isinstance(a, rules.RaiseTo))
    pre = sum(1 for s, _, a in state.history if s == 0 and isinstance(a, rules.RaiseTo))
    obs = observe(eng, menu, np.array([0]), np.array([raises]), np.array([pre]))
    tokens = rules_history(state, menu.fractions or (0.5, 1.0))
    obs.history = np.array([tokens], np.int32)
    obs.history_len = np.array([len(tokens)], np.int64)
    return obs


@dataclass(frozen=True)
class Choice:
    """An agent's answer at one decision."""

    entry: int  # menu id played
    probabilities: npt.NDArray[np.float64]  # (A,) over menu entries (0 where illegal)
    exact: bool  # from the agent's policy (True) or estimated from `PROBABILITY_SAMPLES` draws


def choose(agent: Agent, obs: Observation, rng: np.random.Generator) -> Choice:
    """`policy` at the one decision of ``obs``: the agent's move and its probabilities."""
    moves, p, exact = policy(agent, obs, rng)
    assert moves is not None
    return Choice(int(moves[0]), p[0], exact)


def describe_entry(obs: Observation, entry: int, spot: Spot) -> dict:
    """A menu entry as the API writes it: its id and name, the word a player would say, the
    street total after it (``to``), the chips it adds, and the PHH action line."""
    seat = int(obs.seat[0])
    bet = int(obs.bets[0, seat])
    to = int(obs.raise_to[0, entry])
    facing = int(obs.to_call[0]) > 0
    if entry == FOLD_ID:
        word, phh = "fold", "f"
    elif entry == CALL_ID:
        word, phh = ("call" if facing else "check"), "cc"
        to = bet + int(obs.to_call[0])
    else:
        opened = int(obs.bets[0].max()) > 0  # preflop the blinds count as bets
        word = "all-in" if entry == obs.menu.all_in_id else ("raise" if opened else "bet")
        phh = f"cbr {to}"
    return {
        "id": entry,
        "name": obs.menu.names[entry],
        "action": word,
        "to": to,
        "chips": to - bet if entry != FOLD_ID else 0,
        "phh": f"p{seat + 1} {phh}",
        "seat": spot.user_seat(seat),
    }
