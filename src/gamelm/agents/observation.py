"""The only two views of a poker state an agent reads: tokens for the small poker LM, and a
natural-language prompt for general LLMs.

**Tokens** (`VOCAB`, `encode`). A decision is one sequence, oldest first, so that the decisions of
one seat in one hand share a growing prefix (a key/value cache can be reused across them)::

    <bos> players:2 @BB Ks Qd | preflop SB/BTN:r2 BB:call | flop 7h 2c Jd BB:check SB/BTN:r1
    | stack:9 pot:6 price:3 strength:7

(the bars are not tokens). The head is the player's seat and hole cards; the middle is the public
history kept by `ActionHistory` (street markers with the cards they deal, and every action as one
token naming the actor's position and the action); the tail buckets the player's stack, the pot
(both in big blinds, on a log scale) and the price (the share of the pot after calling that a call
costs), then, for models that read it, the hand's strength (its equity against the players
still in, in tenths: the card abstraction a solver would use, so a small model does not have to
learn hand ranking before it can learn betting), and optionally the opponent model's features
of the players still in. A typical heads-up
decision is 13 to 26 tokens. The policy's tokens are ``fold``, ``check``, ``call``, ``r1``...
(the menu's raise entries, smallest first) and ``allin``; the policy is the softmax over the
tokens of the legal menu entries at the last position (`action_tokens`).

**Prompt** (`prompt`, `legal_actions`): the text a general LLM reads, listing the legal actions as
``A0..Ak`` and asking for exactly one action token (the format every LLM path in gamelm uses).

>>> from gamelm.poker.batch import BatchEngine
>>> from gamelm.poker.abstraction import ActionAbstraction
>>> from gamelm.agents.base import observe
>>> eng = BatchEngine(1, 2, 1, 2, starting_stacks=200)
>>> eng.reset(seed=3)
>>> hist = ActionHistory(1, 2)
>>> hist.reset(np.arange(1))
>>> obs = observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(1), history=hist)
>>> decode(encode(obs)[0][0])
'<bos> players:2 @SB/BTN Ad 2s preflop stack:7 pot:1 price:2'
>>> hist.record(obs, [1])  # the small blind calls
>>> decode(hist.tokens[0, : hist.length[0]])
'preflop SB/BTN:call'
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from gamelm.agents.opponent_model import feature_index
from gamelm.files import atomic_file, cache_dir
from gamelm.models.vocab import (
    ACTIONS,
    BOS,
    FEATURE_BUCKETS,
    FEATURES,
    MAX_RAISES,
    PAD,
    POSITIONS,
    PRICE_BUCKETS,
    STACK_BUCKETS,
    STREETS,
    STRENGTH_BUCKETS,
    TOKEN,
    VOCAB,
)
from gamelm.poker import rules
from gamelm.poker.abstraction import CALL_ID, FOLD_ID
from gamelm.poker.cards import CARD_NAMES
from gamelm.poker.equity import hand_strength
from gamelm.poker.positions import position_names
from gamelm.poker.ranges import CLASS_COMBOS, COMBOS, HAND_CLASSES, class_of_combos, combo_index

if TYPE_CHECKING:
    from gamelm.agents.base import Observation

IntTokens = npt.NDArray[np.int64]
_CARD0 = TOKEN[CARD_NAMES[0]]
_ACTION = np.array([TOKEN[a] for a in ACTIONS])
_ACTED = np.array([[TOKEN[f"{n}:{a}"] for a in ACTIONS] for n in POSITIONS])  # (position, action)


def acted_tokens(num_players: int) -> npt.NDArray[np.int64]:
    """``(P, len(ACTIONS))``: the history token of each seat playing each action."""
    return _ACTED[[POSITIONS.index(n) for n in position_names(num_players)]]


def position_tokens(num_players: int) -> npt.NDArray[np.int64]:
    """Token of each seat's position at a table of ``num_players``."""
    return np.array([TOKEN[f"@{n}"] for n in position_names(num_players)])


def decode(tokens: npt.ArrayLike) -> str:
    """Token ids -> text (padding left out)."""
    return " ".join(VOCAB[t] for t in np.asarray(tokens).tolist() if t != PAD)


def action_tokens(obs: Observation, fractions: tuple[float, ...] | None = None) -> IntTokens:
    """``(m, A)``: the token of every menu entry at every decision (check or call by the price;
    raise entries are ``r1``... smallest first, then ``allin``).

    A menu of listed chip amounts (`gamelm.poker.abstraction.ListedMenu`, as in PokerBench) has
    no fractions of its own: each listed raise gets the token of the nearest of ``fractions``
    (the model's raise sizes, compared on a log scale), so a model reads such a menu in its own
    words."""
    menu = obs.menu
    k = menu.all_in_id - 2
    out = np.empty((obs.size, menu.num_actions), np.int64)
    out[:, FOLD_ID] = TOKEN["fold"]
    out[:, CALL_ID] = np.where(obs.to_call > 0, TOKEN["call"], TOKEN["check"])
    out[:, menu.all_in_id] = TOKEN["allin"]
    if hasattr(menu, "fractions") or fractions is None:
        if k > MAX_RAISES:
            raise ValueError(f"the token view supports {MAX_RAISES} raise sizes, the menu has {k}")
        out[:, 2 : 2 + k] = _ACTION[3 : 3 + k]
        return out
    if len(fractions) > MAX_RAISES:
        raise ValueError(f"the token view supports {MAX_RAISES} raise sizes, not {len(fractions)}")
    max_bet = obs.bets.max(axis=1)
    pot_after_call = np.maximum(obs.pot + obs.to_call, 1)
    for entry in range(2, 2 + k):
        f = (obs.raise_to[:, entry] - max_bet) / pot_after_call
        out[:, entry] = _ACTION[3 + nearest_fraction(f, fractions)]
    return out


def nearest_fraction(f: npt.ArrayLike, fractions: tuple[float, ...]) -> npt.NDArray[np.int64]:
    """Index of the nearest of ``fractions`` to each pot fraction ``f`` (on a log scale).

    >>> nearest_fraction([0.3, 0.75, 3.0], (0.5, 1.0)).tolist()
    [0, 1, 1]
    """
    x = np.log(np.maximum(np.asarray(f, np.float64), 1e-3))[..., None]
    return np.abs(x - np.log(np.asarray(fractions))).argmin(axis=-1)


def rules_history(state: rules.State, fractions: tuple[float, ...] = (0.5, 1.0)) -> list[int]:
    """The `ActionHistory` tokens of a hand played through the reference rules
    (`gamelm.poker.rules`), up to ``state``: each raise gets the token of the nearest of
    ``fractions`` (all-ins are ``allin``). Used where a state comes from outside a match, such
    as a PokerBench spot."""
    n = state.num_players
    acted = acted_tokens(n)
    holes = [c for h in state.hole for c in h]
    replay = rules.start_hand(state.config, holes, state.board_deal)
    out = [TOKEN["preflop"]]
    street = 0

    def deal_to(target: int) -> None:
        nonlocal street
        while street < target:
            street += 1
            out.append(TOKEN[STREETS[street]])
            first, count = (0, 0, 3, 4)[street], (0, 3, 1, 1)[street]
            out.extend(_CARD0 + c for c in state.board_deal[first : first + count])

    for st, seat, action in state.history:
        deal_to(st)
        to_call = max(replay.bets) - replay.bets[seat]
        if isinstance(action, rules.Fold):
            word = 0
        elif isinstance(action, rules.CheckCall):
            word = 2 if to_call > 0 else 1
        elif action.amount >= replay.bets[seat] + replay.stacks[seat]:
            word = len(ACTIONS) - 1  # allin
        else:
            f = (action.amount - max(replay.bets)) / max(replay.pot + to_call, 1)
            word = 3 + int(nearest_fraction(f, fractions))
        out.append(int(acted[seat, word]))
        replay = rules.apply_action(replay, action)
    deal_to(min(state.street, 3))
    return out


class ActionHistory:
    """The public history of the hands at ``N`` tables as token ids (one row per table).

    The match (or a rollout) calls `reset` when hands start, `record` before actions are played
    and `new_street` when cards are dealt. Rows hold at most ``max_len`` tokens; a longer history
    keeps its newest tokens (the oldest are dropped).
    """

    def __init__(self, num_tables: int, num_players: int, max_len: int = 160) -> None:
        if max_len < 16:
            raise ValueError(f"max_len must be at least 16, got {max_len}")
        self.num_players = num_players
        self.tokens = np.full((num_tables, max_len), PAD, np.int32)
        self.length = np.zeros(num_tables, np.int64)
        self._acted = acted_tokens(num_players)

    def _append(self, tables: npt.NDArray[np.int64], column: npt.NDArray[np.int64]) -> None:
        full = tables[self.length[tables] >= self.tokens.shape[1]]
        if full.size:  # drop the oldest quarter of those rows
            cut = self.tokens.shape[1] // 4
            self.tokens[full, :-cut] = self.tokens[full, cut:]
            self.length[full] -= cut
        self.tokens[tables, self.length[tables]] = column
        self.length[tables] += 1

    def reset(self, tables: npt.ArrayLike) -> None:
        """New hands at ``tables``: the history is the preflop marker."""
        t = np.asarray(tables, np.int64)
        self.length[t] = 0
        self._append(t, np.full(t.size, TOKEN["preflop"]))

    def record(self, obs: Observation, ids: npt.ArrayLike) -> None:
        """The players of ``obs`` play menu entries ``ids``."""
        tokens = action_tokens(obs)[np.arange(obs.size), np.asarray(ids, np.int64)]
        self._append(obs.tables, self._acted[obs.seat, tokens - _ACTION[0]])

    def new_street(
        self, tables: npt.ArrayLike, street: npt.ArrayLike, board: npt.ArrayLike
    ) -> None:
        """Streets ``street`` (1..3) start at ``tables`` with ``board`` ``(n, 5)`` dealt so far."""
        t = np.asarray(tables, np.int64)
        s = np.asarray(street, np.int64)
        b = np.asarray(board, np.int64)
        self._append(t, np.take(TOKEN_OF_STREET, s))
        first = np.take((0, 0, 3, 4), s)  # first new board card
        count = np.take((0, 3, 1, 1), s)
        for j in range(3):
            rows = np.flatnonzero(j < count)
            if rows.size:
                self._append(t[rows], _CARD0 + b[rows, first[rows] + j])


TOKEN_OF_STREET = np.array([TOKEN[s] for s in STREETS])


def _log_bucket(big_blinds: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """0 under 1 bb, then one bucket per doubling."""
    b = np.floor(np.log2(np.maximum(big_blinds, 0.5))) + 1
    return np.clip(b, 0, STACK_BUCKETS - 1).astype(np.int64)


PREFLOP_TRIALS = 10_000  # deals per hand class behind `preflop_equity` (standard error 0.005)


@functools.cache
def preflop_equity(opponents: int) -> npt.NDArray[np.float64]:
    """``(169,)`` equity of each preflop hand class (`gamelm.poker.ranges.HAND_CLASSES`) against
    ``opponents`` random hands, by Monte Carlo with `PREFLOP_TRIALS` deals per class from a fixed
    seed. Computed once (1-2 seconds, in chunks of little memory) and kept in the cache folder
    (``GAMELM_CACHE_DIR``, else ``~/.cache/gamelm``) so worker processes read it."""

    path = cache_dir() / f"preflop-equity-v1-{opponents}x{PREFLOP_TRIALS}.npy"
    try:
        table = np.load(path)
        if table.shape == (len(HAND_CLASSES),):
            return table
    except (OSError, ValueError):
        pass
    hole = COMBOS[[CLASS_COMBOS[name][0] for name in HAND_CLASSES]]
    n, chunks = hole.shape[0], 10
    rng = np.random.default_rng(opponents)
    table = np.mean(
        [
            hand_strength(
                hole,
                np.zeros((n, 5), np.int64),
                np.zeros(n, np.int64),
                np.full(n, opponents),
                trials=PREFLOP_TRIALS // chunks,
                rng=rng,
            )
            for _ in range(chunks)
        ],
        axis=0,
    )
    try:
        with atomic_file(path, ".npy") as tmp:
            np.save(tmp, table)
    except OSError:
        pass  # a read-only cache folder: computed again next time
    return table


def strength(obs: Observation, trials: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """``(m,)`` equity of each player's hand against the opponents still in holding random
    hands, the board dealt out (so draws count). Preflop it is read from `preflop_equity`;
    after the flop it is `Observation.strength`, Monte Carlo with ``trials`` deals (standard
    error about ``0.5 / sqrt(trials)``)."""

    opp = np.maximum(obs.live_opponents, 1)
    out = np.empty(obs.size)
    pre = obs.board_count == 0
    if pre.any():
        cls = class_of_combos(combo_index(obs.hole[pre, 0], obs.hole[pre, 1]))
        table = np.stack([preflop_equity(o) if (opp[pre] == o).any() else np.zeros(169)
                          for o in range(1, 10)])  # fmt: skip
        out[pre] = table[opp[pre] - 1, cls]
    post = np.flatnonzero(~pre)
    if post.size:
        out[post] = obs.subset(post).strength(trials, rng)
    return out


def encode(
    obs: Observation,
    features: bool = False,
    equity: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """``(m, T)`` token ids, left-padded so every sequence ends at the last column, and the mask
    of real tokens. With ``equity`` (``(m,)``, from `strength`), the tail also holds its tenth
    as ``strength:0``..``strength:9``, after the price. With ``features`` (and
    ``obs.opponent_stats`` present), the tail then holds the VPIP, PFR and aggression buckets of
    every opponent still in, in seat order after the player, each after the opponent's position
    token."""
    if obs.history is None:
        raise ValueError("the token view needs the action history: observe(..., history=...)")
    m = obs.size
    rows = np.arange(m)
    pos = position_tokens(obs.num_players)
    head = np.stack(
        [
            np.full(m, BOS),
            np.full(m, TOKEN[f"players:{obs.num_players}"]),
            pos[obs.seat],
            _CARD0 + obs.hole[:, 0].astype(np.int64),
            _CARD0 + obs.hole[:, 1].astype(np.int64),
        ],
        axis=1,
    )
    bb = obs.big_blind
    price = obs.to_call / np.maximum(obs.pot + obs.to_call, 1)
    tail = [
        TOKEN["stack:0"] + _log_bucket(obs.stacks[rows, obs.seat] / bb),
        TOKEN["pot:0"] + _log_bucket(obs.pot / bb),
        TOKEN["price:0"] + np.minimum((price * PRICE_BUCKETS).astype(np.int64), 9),
    ]
    if equity is not None:
        bucket = (np.asarray(equity, np.float64) * STRENGTH_BUCKETS).astype(np.int64)
        tail.append(TOKEN["strength:0"] + np.clip(bucket, 0, STRENGTH_BUCKETS - 1))
    tail_mask = [np.ones(m, bool)] * len(tail)
    if features and obs.opponent_stats is not None:
        cols = [feature_index(f) for f in ("vpip", "pfr", "aggression")]
        for step in range(1, obs.num_players):
            seat = (obs.seat + step) % obs.num_players
            live = ~obs.folded[rows, seat]
            tail.append(pos[seat])
            tail_mask.append(live)
            for name, col in zip(FEATURES, cols):
                x = obs.opponent_stats[rows, seat, col]
                scale = 1.0 if name != "af" else 1 / 4  # aggression factor: 0..4+ in fifths
                bucket = np.clip((x * scale * FEATURE_BUCKETS).astype(np.int64), 0, 4)
                tail.append(TOKEN[f"{name}:0"] + bucket)
                tail_mask.append(live)
    hist = obs.history.astype(np.int64)
    hist_mask = np.arange(hist.shape[1])[None, :] < obs.history_len[:, None]
    tokens = np.concatenate([head, hist, np.stack(tail, axis=1)], axis=1)
    mask = np.concatenate([np.ones_like(head, bool), hist_mask, np.stack(tail_mask, axis=1)], 1)
    # left-pad: move every row's real tokens to the right end, keeping their order
    order = np.argsort(mask, axis=1, kind="stable")
    tokens = np.take_along_axis(np.where(mask, tokens, PAD), order, axis=1)
    mask = np.take_along_axis(mask, order, axis=1)
    width = int(mask.sum(axis=1).max()) if m else 0
    return tokens[:, tokens.shape[1] - width :], mask[:, mask.shape[1] - width :]


# -- the prompt for general LLMs -------------------------------------------------------------------

_TABLE = {2: "heads-up"}


def legal_actions(obs: Observation) -> list[list[int]]:
    """Per decision, the menu ids behind ``A0, A1, ...`` of its prompt (the legal entries in
    menu order)."""
    return [np.flatnonzero(row).tolist() for row in obs.legal]


def _describe(obs: Observation, i: int, entry: int) -> str:
    seat = int(obs.seat[i])
    bet = int(obs.bets[i, seat])
    target = int(obs.raise_to[i, entry])
    if entry == FOLD_ID:
        return "Fold (give up the hand)."
    if entry == CALL_ID:
        call = int(obs.to_call[i])
        return "Check (no chips added)." if call == 0 else f"Call {call}."
    facing = int(obs.bets[i].max()) > 0 and (obs.street[i] > 0 or int(obs.bets[i].max()) > bet)
    all_in = entry == obs.menu.all_in_id
    if not facing and obs.street[i] > 0:
        text = f"Bet {target - bet} into the pot"
    else:
        text = f"Raise to {target}"
    return text + (" (all-in)." if all_in else ".")


def _raise_words(obs: Observation) -> list[str]:
    """How the history names raise entries r1, r2, ...: their pot fraction, when the menu has
    fractions."""
    fractions = getattr(obs.menu, "fractions", None)
    if fractions is None:  # a listed menu: the history's sizes are not the menu's
        return ["bets/raises"] * MAX_RAISES
    return [f"bets/raises {f:g} pot" for f in fractions] + ["bets/raises"] * MAX_RAISES


def history_text(obs: Observation, i: int) -> str:
    """The public action history of decision ``i`` in words, e.g. ``"Preflop: SB/BTN calls,
    BB checks. Flop (7h 2c Jd): BB bets/raises 1 pot"`` ("" without a history)."""
    if obs.history is None or obs.history_len is None:
        return ""
    raises = _raise_words(obs)
    verbs = {"fold": "folds", "check": "checks", "call": "calls", "allin": "goes all-in"}
    streets: list[tuple[str, list[str], list[str]]] = []  # (street, cards, actions)
    for t in obs.history[i, : int(obs.history_len[i])].tolist():
        word = VOCAB[t]
        if word in STREETS:
            streets.append((word.capitalize(), [], []))
        elif word in CARD_NAMES and streets:
            streets[-1][1].append(word)
        elif ":" in word and streets:
            who, what = word.split(":")
            verb = verbs.get(what) or raises[int(what[1:]) - 1]
            streets[-1][2].append(f"{who} {verb}")
    parts = []
    for name, cards, acts in streets:
        head = f"{name} ({' '.join(cards)})" if cards else name
        parts.append(f"{head}: {', '.join(acts) if acts else 'no action yet'}")
    return ". ".join(parts)


PROMPT_STYLES = ("full", "compact", "equity")
EQUITY_TRIALS = 1000  # deals behind the equity line of the ``equity`` prompt (about 1.6 points)


def prompt(
    obs: Observation,
    i: int,
    small_blind: int | None = None,
    style: str = "full",
    equity: float | None = None,
) -> str:
    """The prompt of decision ``i`` of ``obs``: the table, blinds, street, cards, pot, stacks,
    the price of a call, the action so far (when the observation carries its history), and the
    legal actions as ``A0..Ak`` (in `legal_actions` order). ``style`` ``"compact"`` says the
    same in about half the tokens (`compact_prompt`); ``"equity"`` is the compact prompt with
    one more line, the hand's equity against random hands of the opponents still in and the pot
    odds (`equity_line`): ``equity`` gives it, else `EQUITY_TRIALS` deals estimate it."""
    if style in ("compact", "equity"):
        if style == "equity" and equity is None:
            equity = float(prompt_equity(obs.subset(np.array([i])))[0])
        return compact_prompt(obs, i, small_blind, equity if style == "equity" else None)
    if style != "full":
        raise ValueError(f"prompt style must be one of {', '.join(PROMPT_STYLES)}, got {style!r}")
    p = obs.num_players
    table = _TABLE.get(p, f"{p}-handed")
    sb = small_blind if small_blind is not None else obs.big_blind // 2
    board = [CARD_NAMES[c] for c in obs.board[i, : int(obs.board_count[i])].tolist()]
    lines = [
        f"You are playing {table} no-limit Texas Hold'em.",
        f"Blinds: small blind {sb}, big blind {obs.big_blind}.",
        f"Street: {STREETS[int(obs.street[i])].capitalize()}",
    ]
    names = position_names(p)
    seat = int(obs.seat[i])
    lines.append(f"Your position: {names[seat]}")
    lines += [
        f"Board cards: {' '.join(board) if board else '(none yet)'}",
        f"Your hole cards: {CARD_NAMES[int(obs.hole[i, 0])]} {CARD_NAMES[int(obs.hole[i, 1])]}",
        f"Pot size: {int(obs.pot[i])}",
        f"Your stack: {int(obs.stacks[i, seat])}",
        f"To call: {int(obs.to_call[i])}",
    ]
    others = [(seat + k) % p for k in range(1, p)]
    live = [f"{names[s]} ({int(obs.stacks[i, s])} behind)" for s in others if not obs.folded[i, s]]
    lines.append(f"Opponents still in: {', '.join(live)}")
    history = history_text(obs, i)
    if history:
        lines.append(f"Action so far: {history}.")
    lines += ["Legal actions:"]
    for k, entry in enumerate(legal_actions(obs.subset(np.array([i])))[0]):
        lines.append(f"- A{k}: {_describe(obs, i, entry)}")
    lines.append("Respond with exactly ONE action token from the list above.")
    return "\n".join(lines)


COMPACT_HEADER = "No-limit Texas Hold'em. Reply with one action token."


def compact_prompt(
    obs: Observation, i: int, small_blind: int | None = None, equity: float | None = None
) -> str:
    """The prompt of `prompt` in about half the tokens, for models fine-tuned on it (a forward
    pass costs in proportion to the tokens read)::

        No-limit Texas Hold'em. Reply with one action token.
        6max 5/10 Turn. You BB Kc8c, stack 935.
        Board 6s8d7c9s. Pot 225, call 90.
        In: BTN 845.
        UTG f HJ f CO f BTN r SB f BB c / BB x BTN x / BB r BTN r
        A0 fold
        A1 call 90
        A2 raise 330

    The history has one part per street, oldest first: ``f`` fold, ``x`` check, ``c`` call,
    ``r<fraction>`` a bet or raise of that pot fraction (``r`` when the menu has no fractions),
    ``allin``. The menu names the chips a call adds and the total a bet or raise makes. The
    first line is the same in every decision, so a key/value cache of it is shared. With
    ``equity`` (from `strength`) the `equity_line` follows the pot."""
    p = obs.num_players
    sb = small_blind if small_blind is not None else obs.big_blind // 2
    names = position_names(p)
    seat = int(obs.seat[i])
    hole = f"{CARD_NAMES[int(obs.hole[i, 0])]}{CARD_NAMES[int(obs.hole[i, 1])]}"
    street = STREETS[int(obs.street[i])].capitalize()
    board = "".join(CARD_NAMES[c] for c in obs.board[i, : int(obs.board_count[i])].tolist())
    others = [(seat + k) % p for k in range(1, p)]
    live = [f"{names[s]} {int(obs.stacks[i, s])}" for s in others if not obs.folded[i, s]]
    lines = [
        COMPACT_HEADER,
        f"{p}max {sb}/{obs.big_blind} {street}. You {names[seat]} {hole}, "
        f"stack {int(obs.stacks[i, seat])}.",
        (f"Board {board}. " if board else "")
        + f"Pot {int(obs.pot[i])}, call {int(obs.to_call[i])}.",
    ]
    if equity is not None:
        lines.append(equity_line(equity, int(obs.to_call[i]), int(obs.pot[i])))
    lines.append(f"In: {', '.join(live)}.")
    history = _compact_history(obs, i)
    if history:
        lines.append(history)
    for k, entry in enumerate(np.flatnonzero(obs.legal[i]).tolist()):
        lines.append(f"A{k} {_compact_entry(obs, i, entry)}")
    return "\n".join(lines)


def prompt_equity(
    obs: Observation, rng: np.random.Generator | None = None
) -> npt.NDArray[np.float64]:
    """``(m,)`` the equity the ``equity`` prompt shows: `strength` from `EQUITY_TRIALS` deals of
    ``rng`` (a fixed seed when not given)."""
    return strength(obs, EQUITY_TRIALS, rng or np.random.default_rng(0))


def equity_line(equity: float, to_call: int, pot: int) -> str:
    """``Equity 41%, pot odds 25%.``: the hand's equity and the share of the pot after a call
    that the call costs (the equity a call needs); ``Equity 41%.`` when nothing is to call."""
    if to_call <= 0:
        return f"Equity {equity:.0%}."
    return f"Equity {equity:.0%}, pot odds {to_call / (pot + to_call):.0%}."


def _compact_history(obs: Observation, i: int) -> str:
    """The public action history of decision ``i`` in the short words of `compact_prompt`."""
    if obs.history is None or obs.history_len is None:
        return ""
    fractions = getattr(obs.menu, "fractions", None)
    raises = [f"r{f:g}" for f in fractions] if fractions is not None else []
    short = {"fold": "f", "check": "x", "call": "c", "allin": "allin"}
    streets: list[list[str]] = []
    for t in obs.history[i, : int(obs.history_len[i])].tolist():
        word = VOCAB[t]
        if word in STREETS:
            streets.append([])
        elif ":" in word and streets:
            who, what = word.split(":")
            k = int(what[1:]) - 1 if what not in short else -1
            verb = short.get(what) or (raises[k] if 0 <= k < len(raises) else "r")
            streets[-1].append(f"{who} {verb}")
    return " / ".join(" ".join(acts) for acts in streets).rstrip(" /")  # a street not yet acted on


def _compact_entry(obs: Observation, i: int, entry: int) -> str:
    """A menu entry of `compact_prompt`: ``fold``, ``check``, ``call 50``, ``bet 40``,
    ``raise 160`` (the total it makes), with `` allin`` when it is all-in."""
    if entry == FOLD_ID:
        return "fold"
    if entry == CALL_ID:
        call = int(obs.to_call[i])
        return "check" if call == 0 else f"call {call}"
    words = _describe(obs, i, entry).rstrip(".").split()
    text = f"{words[0].lower()} {next(w for w in words[1:] if w.isdigit())}"
    return text + (" allin" if entry == obs.menu.all_in_id else "")
