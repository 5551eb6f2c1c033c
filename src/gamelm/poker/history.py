"""Hand histories in the PHH format (the Poker Hand History standard that PokerKit reads).

A `HandRecord` is what happened in one hand: the table, the cards and the actions. It is written
as PHH text (TOML) with ``finishing_stacks``, read back, and replayed through `gamelm.poker.rules`.
Seats are PHH players ``p1..pN`` in gamelm's seat order (``pN`` is the button).

>>> from gamelm.poker import rules
>>> from gamelm.poker.cards import parse_cards
>>> cfg = rules.HandConfig(small_blind=1, big_blind=2, starting_stacks=(100, 100))
>>> s = rules.start_hand(cfg, parse_cards("AsAhKsKd"), parse_cards("2c7d9hJcQs"))
>>> s = rules.apply_action(s, rules.Fold())
>>> print(dumps(record_from_state(s)))  # doctest: +NORMALIZE_WHITESPACE
variant = "NT"
ante_trimming_status = false
antes = [0, 0]
blinds_or_straddles = [1, 2]
min_bet = 2
starting_stacks = [100, 100]
actions = ["d dh p1 AsAh", "d dh p2 KsKd", "p2 f"]
finishing_stacks = [101, 99]
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gamelm.files import atomic_file
from gamelm.poker import rules
from gamelm.poker.batch import CHECK_CALL, FOLD, BatchEngine
from gamelm.poker.cards import format_cards, parse_cards

BOARD_SIZES = (0, 3, 4, 5)
MAX_DIGITS = 30  # longest number of chips written as text


@dataclass
class HandRecord:
    """One hand: forced bets, stacks, cards and actions ``(seat, kind, raise_to)``.

    ``kind`` is ``"f"`` (fold), ``"cc"`` (check/call) or ``"cbr"`` (bet/raise to ``raise_to``);
    ``street`` of each action is 0..3. ``board`` holds the five cards of the deal; only those
    of streets that were reached are written.
    """

    small_blind: int
    big_blind: int
    ante: int
    starting_stacks: list[int]
    hole: list[list[int]]
    board: list[int]
    actions: list[tuple[int, int, str, int]] = field(default_factory=list)  # street, seat, ...
    finishing_stacks: list[int] | None = None
    final_street: int = 0
    showdown: bool = False
    extra: dict[str, object] = field(default_factory=dict)  # written as user fields (_name)

    @property
    def num_players(self) -> int:
        return len(self.starting_stacks)

    def config(self) -> rules.HandConfig:
        return rules.HandConfig(
            small_blind=self.small_blind,
            big_blind=self.big_blind,
            starting_stacks=tuple(self.starting_stacks),
            ante=self.ante,
        )


def record_from_state(state: rules.State) -> HandRecord:
    """The record of a hand played with `gamelm.poker.rules` (finished or not)."""
    cfg = state.config
    actions = []
    for street, seat, action in state.history:
        if isinstance(action, rules.Fold):
            actions.append((street, seat, "f", 0))
        elif isinstance(action, rules.CheckCall):
            actions.append((street, seat, "cc", 0))
        else:
            actions.append((street, seat, "cbr", int(action.amount)))
    return HandRecord(
        small_blind=cfg.small_blind,
        big_blind=cfg.big_blind,
        ante=cfg.ante,
        starting_stacks=list(cfg.starting_stacks),
        hole=[list(h) for h in state.hole],
        board=list(state.board_deal),
        actions=actions,
        finishing_stacks=list(state.final_stacks) if state.finished else None,
        final_street=state.street,
        showdown=state.showdown,
    )


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to PHH")


def _showdown_order(record: HandRecord) -> list[int]:
    """Seats in the order PokerKit shows hands: from the last raiser of the street where the
    showdown began (or that street's first seat), over the players still in."""
    n = record.num_players
    folded = {seat for _, seat, kind, _ in record.actions if kind == "f"}
    street = record.actions[-1][0] if record.actions else 0
    raisers = [seat for st, seat, kind, _ in record.actions if st == street and kind == "cbr"]
    if raisers:
        opener = raisers[-1]
    elif street == 0:
        cfg = record.config()
        posted = [
            min(
                cfg.blind_of(i),
                record.starting_stacks[i] - min(record.ante, record.starting_stacks[i]),
            )
            for i in range(n)
        ]
        opener = (max((posted[i] * (cfg.blind_of(i) > 0), i) for i in range(n))[1] + 1) % n
    else:
        opener = 0
    return [(opener + k) % n for k in range(n) if (opener + k) % n not in folded]


def phh_actions(record: HandRecord) -> list[str]:
    """The PHH action strings: hole deals, player actions, board deals, showdown."""

    def deal_board(street: int) -> str:
        return f"d db {format_cards(record.board[BOARD_SIZES[street - 1] : BOARD_SIZES[street]])}"

    out = [f"d dh p{i + 1} {format_cards(h)}" for i, h in enumerate(record.hole)]
    street = 0
    for act_street, seat, kind, amount in record.actions:
        while street < act_street:
            street += 1
            out.append(deal_board(street))
        out.append(f"p{seat + 1} {kind}" + (f" {amount}" if kind == "cbr" else ""))
    if record.showdown:  # hands are shown as soon as no more betting is possible
        out += [f"p{i + 1} sm {format_cards(record.hole[i])}" for i in _showdown_order(record)]
    last = 3 if record.showdown else record.final_street
    while street < last:
        street += 1
        out.append(deal_board(street))
    return out


def dumps(record: HandRecord) -> str:
    """PHH text of one hand."""
    n = record.num_players
    blinds = [record.small_blind, record.big_blind] + [0] * (n - 2)
    fields: list[tuple[str, object]] = [
        ("variant", "NT"),
        ("ante_trimming_status", False),
        ("antes", [record.ante] * n),
        ("blinds_or_straddles", blinds),
        ("min_bet", record.big_blind),
        ("starting_stacks", list(record.starting_stacks)),
        ("actions", phh_actions(record)),
    ]
    if record.finishing_stacks is not None:
        fields.append(("finishing_stacks", list(record.finishing_stacks)))
    fields += [(f"_{k}", v) for k, v in record.extra.items()]
    return "".join(f"{k} = {_toml_value(v)}\n" for k, v in fields)


def _chips(values: object, name: str) -> list[int]:
    """The whole numbers of chips of a PHH field: integers, or floats that are whole
    (``100.0``); a fraction, an infinity or a NaN is refused (never truncated)."""
    if not isinstance(values, list):
        raise ValueError(f"{name} must be a list of whole numbers of chips, got {_short(values)}")
    return [_whole(v, f"{name} must be whole numbers of chips") for v in values]


def _whole(value: object, what: str) -> int:
    """``value`` as a whole number of chips, else ValueError ``"{what}, got {value}"``."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= MAX_DIGITS:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}, got {_short(value)}")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _seat(word: str, n: int, line: object) -> int:
    """The seat of a PHH player name ``p1..pN``."""
    digits = word[1:]
    if not (digits.isdigit() and len(digits) <= 2 and 1 <= int(digits) <= n):
        raise ValueError(f"the action {line!r} names no player p1..p{n}")
    return int(digits) - 1


def loads(text: str) -> HandRecord:
    """Parse PHH text of a No-Limit Hold'em hand (variant ``NT``) into a `HandRecord`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not a PHH file: {exc}") from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise ValueError("not a PHH file: its arrays or tables nest too deeply") from None
    except ValueError:  # a number tomllib cannot convert (thousands of digits)
        raise ValueError("not a PHH file: a number in it has too many digits") from None
    if data.get("variant") != "NT":
        raise ValueError(
            f"only No-Limit Texas Hold'em (variant 'NT') is supported, got {data.get('variant')!r}"
        )
    try:
        stacks = _chips(data["starting_stacks"], "starting_stacks")
        blinds = _chips(data["blinds_or_straddles"], "blinds_or_straddles")
        antes = _chips(data.get("antes", [0] * len(stacks)), "antes")
        actions = list(data["actions"])
    except KeyError as exc:
        raise ValueError(f"PHH file lacks the field {exc.args[0]!r}") from None
    n = len(stacks)
    if len(set(antes)) > 1:
        raise ValueError("only equal antes for every seat are supported")
    sb, bb = sorted(blinds[:2]) if n == 2 else (blinds[0], blinds[1])
    if any(blinds[2:]):
        raise ValueError("straddles are not supported")
    hole: list[list[int]] = [[] for _ in range(n)]
    board: list[int] = []
    acts: list[tuple[int, int, str, int]] = []
    street = 0
    for line in actions:
        parts = str(line).split()
        if len(parts) >= 4 and parts[0] == "d" and parts[1] == "dh":
            seat = _seat(parts[2], n, line)
            hole[seat] = parse_cards(parts[3]).tolist() if parts[3] != "????" else []
        elif len(parts) >= 3 and parts[0] == "d" and parts[1] == "db":
            board += parse_cards(parts[2]).tolist()
            if len(board) not in BOARD_SIZES:
                raise ValueError(f"the board cannot hold {len(board)} cards (at {line!r})")
            street = BOARD_SIZES.index(len(board))
        elif parts and parts[0].startswith("p") and len(parts) >= 2:
            seat = _seat(parts[0], n, line)
            if parts[1] in ("f", "cc"):
                acts.append((street, seat, parts[1], 0))
            elif parts[1] == "cbr" and len(parts) >= 3:
                amount = _whole(parts[2], f"the action {line!r} needs a whole number of chips")
                acts.append((street, seat, "cbr", amount))
            elif parts[1] == "sm":
                continue
            else:
                raise ValueError(f"unsupported PHH action {line!r}")
        else:
            raise ValueError(f"unsupported PHH action {line!r}")
    finishing = data.get("finishing_stacks")
    extra = {k[1:]: v for k, v in data.items() if k.startswith("_")}
    return HandRecord(
        small_blind=sb,
        big_blind=bb,
        ante=antes[0] if antes else 0,
        starting_stacks=stacks,
        hole=hole,
        board=board,
        actions=acts,
        finishing_stacks=_chips(finishing, "finishing_stacks") if finishing is not None else None,
        final_street=street,
        extra=extra,
    )


def replay(record: HandRecord) -> rules.State:
    """Play a record through the reference rules (raises `rules.IllegalActionError`)."""
    if any(len(h) != 2 for h in record.hole):
        raise ValueError("replaying needs every player's hole cards")
    known = set(c for h in record.hole for c in h) | set(record.board)
    filler = [c for c in range(52) if c not in known][: 5 - len(record.board)]
    state = rules.start_hand(
        record.config(), [c for h in record.hole for c in h], [*record.board, *filler]
    )
    for _, seat, kind, amount in record.actions:
        action: rules.Action
        if kind == "f":
            action = rules.Fold(seat=seat)
        elif kind == "cc":
            action = rules.CheckCall(seat=seat)
        else:
            action = rules.RaiseTo(amount, seat=seat)
        state = rules.apply_action(state, action)
    return state


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half-written)."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class BatchRecorder:
    """Records the hands of a `gamelm.poker.batch.BatchEngine` as `HandRecord`s.

    Call `start` after ``reset``, `record` before every ``step`` (with the same arguments), and
    `finish` for tables that are done.
    """

    def __init__(self, num_tables: int) -> None:
        self.open: list[HandRecord | None] = [None] * num_tables

    def start(self, eng: BatchEngine, tables: Sequence[int]) -> None:
        for t in tables:
            self.open[t] = HandRecord(
                small_blind=eng.small_blind,
                big_blind=eng.big_blind,
                ante=eng.ante,
                starting_stacks=eng.start_stacks[t].tolist(),
                hole=eng.hole[t].tolist(),
                board=eng.board[t].tolist(),
            )

    def record(self, eng: BatchEngine, kind: Sequence[int], amount: Sequence[int]) -> None:
        for t in (~eng.done).nonzero()[0]:
            rec = self.open[t]
            k = int(kind[t])
            code = "f" if k == FOLD else "cc" if k == CHECK_CALL else "cbr"
            rec.actions.append((int(eng.street[t]), int(eng.actor[t]), code, int(amount[t])))

    def finish(self, eng: BatchEngine, tables: Sequence[int]) -> list[HandRecord]:
        out = []
        for t in tables:
            rec = self.open[t]
            rec.finishing_stacks = eng.stacks[t].tolist()
            rec.final_street = int(eng.street[t])
            rec.showdown = bool(eng.showdown[t])
            self.open[t] = None
            out.append(rec)
        return out
