"""Read a gamelm prompt (`gamelm.agents.observation.prompt`) back into an observation.

The OpenAI-compatible endpoint gets decisions as text: the prompt every gamelm LLM path writes,
its legal actions listed as ``- A0: ...``. A text model reads that text itself; every other
agent (the small poker LM, a blueprint, a baseline) is shown the observation this module builds
from it. The legal actions become a `gamelm.poker.abstraction.ListedMenu` with the chips each
line names, as PokerBench decisions are.

The prompt does not say how much each player has already bet on the street. The hero's bet is
taken as its blind preflop until it has acted, 0 otherwise, and the largest bet as the hero's
plus the price to call; a listed raise is named by the nearest of the model's raise sizes from
those (on a log scale, so a small error rarely changes the token).

>>> from gamelm.agents.base import observe
>>> from gamelm.agents.observation import ActionHistory, prompt
>>> from gamelm.poker.abstraction import ActionAbstraction
>>> from gamelm.poker.batch import BatchEngine
>>> eng = BatchEngine(1, 2, 1, 2, starting_stacks=200)
>>> eng.reset(seed=3)
>>> hist = ActionHistory(1, 2)
>>> hist.reset(np.arange(1))
>>> obs = observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(1), history=hist)
>>> back = observation_from_prompt(prompt(obs, 0))
>>> back.hole.tolist() == obs.hole.tolist(), back.to_call.tolist(), int(back.legal.sum())
(True, [1], 5)
"""

from __future__ import annotations

import re

import numpy as np

from gamelm.agents.base import UNSEEN, Observation
from gamelm.models.vocab import STREETS, TOKEN, VOCAB
from gamelm.poker.abstraction import CALL_ID, FOLD_ID, ListedMenu
from gamelm.poker.batch import MAX_CHIPS
from gamelm.poker.cards import format_cards, parse_cards
from gamelm.poker.positions import position_names
from gamelm.poker.rules import MAX_SEATS, MIN_SEATS, SEATS


class PromptError(ValueError):
    """Text that is not a gamelm decision prompt; the message names the missing part."""


_LEGAL = re.compile(r"^- A(\d+): (.*)$", re.M)
_VERBS = {"folds": "fold", "checks": "check", "calls": "call", "goes all-in": "allin"}


def _field(text: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}:[ \t]*(.*)$", text, re.M)
    if m is None:
        raise PromptError(f"the prompt has no '{name}:' line, so it is not a gamelm prompt")
    return m.group(1).strip()


def _chips(digits: str, what: str) -> int:
    """A number of chips the prompt names (digits), at most `MAX_CHIPS` (the engine's limit)."""
    if not digits.isdigit() or len(digits) > len(str(MAX_CHIPS)) or int(digits) > MAX_CHIPS:
        shown = digits if len(digits) <= 20 else digits[:17] + "..."
        raise PromptError(f"{what} ({shown}) is not a number of chips from 0 to {MAX_CHIPS:,}")
    return int(digits)


def _int(text: str, name: str) -> int:
    value = _field(text, name)
    if not value.isdigit():
        shown = value if len(value) <= 20 else value[:17] + "..."
        raise PromptError(f"'{name}: {shown}' is not a whole number of chips")
    return _chips(value, f"'{name}'")


def _token(word: str, near: str) -> int:
    """The vocabulary id of ``word`` (a card, a street, ``position:action``)."""
    if word not in TOKEN:
        raise PromptError(f"cannot read {word[:20]!r} in the action history near {near[:40]!r}")
    return TOKEN[word]


def _history(line: str, names: tuple[str, ...], fractions: tuple[float, ...]) -> list[int]:
    """Tokens of an "Action so far" line (`gamelm.agents.observation.history_text`)."""
    out: list[int] = []
    for part in line.rstrip(".").split(". "):
        head, _, acts = part.partition(": ")
        m = re.match(r"(\w+)(?: \(([^)]*)\))?$", head.strip())
        if m is None or m.group(1).lower() not in STREETS:
            raise PromptError(f"cannot read the action history near {part[:40]!r}")
        out.append(TOKEN[m.group(1).lower()])
        if m.group(2):
            try:
                cards = parse_cards(m.group(2))
            except ValueError as exc:
                raise PromptError(f"bad cards in the action history: {exc}") from None
            out += [_token(format_cards([c]), part) for c in cards.tolist()]
        for act in acts.split(", "):
            if act == "no action yet":
                continue
            who, _, verb = act.partition(" ")
            if who not in names:
                raise PromptError(f"unknown position {who!r} in the action history")
            word = _VERBS.get(verb)
            if word is None:
                size = re.match(r"bets/raises(?: ([\d.]+) pot)?$", verb)
                if size is None:
                    raise PromptError(f"cannot read {act!r} in the action history")
                try:
                    f = float(size.group(1)) if size.group(1) else None
                except ValueError:
                    raise PromptError(f"cannot read {act!r} in the action history") from None
                k = 0 if f is None or f not in fractions else fractions.index(f)
                word = f"r{k + 1}"
            out.append(_token(f"{who}:{word}", part))
    return out


def observation_from_prompt(text: str, fractions: tuple[float, ...] = (0.5, 1.0)) -> Observation:
    """The one-row observation a gamelm prompt describes; ``fractions`` name the raise sizes
    of its action history (the model's own sizes)."""
    listed = _LEGAL.findall(text)
    if not listed:
        raise PromptError("the prompt lists no legal actions (lines like '- A0: Fold ...')")
    table = re.search(r"You are playing (heads-up|(\d{1,3})-handed) no-limit", text)
    if table is None:
        raise PromptError("the prompt does not say how many players sit at the table")
    n = 2 if table.group(1) == "heads-up" else int(table.group(2))
    if not MIN_SEATS <= n <= MAX_SEATS:
        raise PromptError(f"a table has {SEATS} players, not {n}")
    names = position_names(n)
    blinds = re.search(r"small blind (\d+), big blind (\d+)", _field(text, "Blinds"))
    if blinds is None:
        raise PromptError("cannot read the blinds line")
    sb, bb = _chips(blinds.group(1), "the small blind"), _chips(blinds.group(2), "the big blind")
    if not 0 < sb <= bb:
        raise PromptError(f"the blinds must satisfy 0 < small blind <= big blind, got {sb}/{bb}")
    street_name = _field(text, "Street").lower()
    if street_name not in STREETS:
        raise PromptError(f"unknown street {street_name!r}")
    street = STREETS.index(street_name)
    position = _field(text, "Your position")
    if position not in names:
        raise PromptError(f"{position!r} is not a position at a {n}-player table")
    seat = names.index(position)
    try:
        hole = parse_cards(_field(text, "Your hole cards"), 2)
        board_text = _field(text, "Board cards")
        board = [] if board_text.startswith("(") else parse_cards(board_text).tolist()
    except ValueError as exc:
        raise PromptError(f"bad cards in the prompt: {exc}") from None
    for c in board:
        if c in hole:
            raise PromptError(f"the card {format_cards([c])} appears twice")
    if len(board) != (0, 3, 4, 5)[street]:
        raise PromptError(f"the {street_name} needs {(0, 3, 4, 5)[street]} board cards")
    pot, stack, to_call = _int(text, "Pot size"), _int(text, "Your stack"), _int(text, "To call")
    stacks = np.zeros(n, np.int64)
    folded = np.ones(n, bool)
    stacks[seat], folded[seat] = stack, False
    for who, chips in re.findall(r"([\w/+]+) \((\d+) behind\)", _field(text, "Opponents still in")):
        if who not in names:
            raise PromptError(f"unknown position {who!r} among the opponents")
        stacks[names.index(who)] = _chips(chips, f"the stack of {who}")
        folded[names.index(who)] = False
    history = [TOKEN["preflop"]]
    acted = False
    if "Action so far:" in text:
        history = _history(_field(text, "Action so far"), names, fractions)
        acted = any(t == TOKEN[f"{position}:{a}"] for t in history for a in ("call", "check"))
        acted |= any(t == TOKEN[f"{position}:r{k}"] for t in history for k in range(1, 9))
    bets = np.zeros(n, np.int64)
    if street == 0 and not acted:
        bets[seat] = {"SB": sb, "SB/BTN": sb, "BB": bb}.get(position, 0)
    max_bet = bets[seat] + to_call
    others = [s for s in range(n) if s != seat and not folded[s]]
    if others:
        bets[others[0]] = max_bet
    raises = [(int(k), line) for k, line in listed if line.startswith(("Raise", "Bet"))]
    menu = ListedMenu(max(sum(1 for _, line in raises if "(all-in)" not in line), 0))
    legal = np.zeros(menu.num_actions, bool)
    raise_to = np.full(menu.num_actions, stack + bets[seat], np.int64)
    raise_to[FOLD_ID], raise_to[CALL_ID] = bets[seat], bets[seat] + to_call
    order = []
    next_raise = 2
    for _, line in listed:
        if line.startswith("Fold"):
            entry = FOLD_ID
        elif line.startswith(("Check", "Call")):
            entry = CALL_ID
        else:
            m = re.match(r"(Raise to|Bet) (\d+)", line)
            if m is None:
                raise PromptError(f"cannot read the legal action {line!r}")
            chips = _chips(m.group(2), "a listed raise") + (
                bets[seat] if m.group(1) == "Bet" else 0
            )
            if "(all-in)" in line:
                entry = menu.all_in_id
            else:
                entry, next_raise = next_raise, next_raise + 1
            raise_to[entry] = chips
        legal[entry] = True
        order.append(entry)
    if order != sorted(order):
        raise PromptError("the legal actions are not listed in menu order (fold, call, raises)")
    board_row = np.full(5, UNSEEN, np.uint8)
    board_row[: len(board)] = board
    return Observation(
        tables=np.zeros(1, np.int64),
        seat=np.array([seat]),
        num_players=n,
        big_blind=bb,
        menu=menu,
        hole=hole.astype(np.uint8)[None],
        board=board_row[None],
        board_count=np.array([len(board)]),
        street=np.array([street]),
        stacks=stacks[None],
        bets=bets[None],
        folded=folded[None],
        pot=np.array([pot]),
        to_call=np.array([to_call]),
        min_raise_to=np.array([raise_to[2] if menu.num_raises else raise_to[menu.all_in_id]]),
        max_raise_to=np.array([stack + bets[seat]]),
        legal=legal[None],
        raise_to=raise_to[None],
        raises=np.array([_raises(history)[-1]]),
        preflop_raises=np.array([_raises(history)[0]]),
        history=np.array([history], np.int32),
        history_len=np.array([len(history)]),
    )


def _raises(history: list[int]) -> list[int]:
    """Bets and raises per street reached (preflop first)."""
    counts: list[int] = []
    for t in history:
        word = VOCAB[t]
        if word in STREETS:
            counts.append(0)
        elif ":" in word and (word.endswith("allin") or word.split(":")[1].startswith("r")):
            counts[-1] += 1
    return counts
