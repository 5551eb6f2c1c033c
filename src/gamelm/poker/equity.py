"""Showdown equity of hands and ranges, pot odds.

`equity` gives each player's share of the pot if the board is dealt out and nobody folds (wins
plus split shares), for two to ten players, each holding a known hand or a `Range`:

* **exact** enumeration of every board completion and every combination of range holdings when
  that is at most ``max_exact`` outcomes (always on the turn and river, usually on the flop);
* **Monte Carlo** otherwise, vectorised: the deck is dealt for a whole chunk of trials at once
  (partial Fisher-Yates per trial), weighted ranges are sampled by their cumulative weights with
  trials whose cards collide rejected, and every player's hand is scored against the shared board
  sum (`gamelm.poker.evaluator.evaluate_on_boards`). The result carries the standard error of each
  player's equity.

A range that holds every combo still possible with one weight (``random``) is dealt straight from
the deck, which is the same distribution and faster.

>>> r = equity(["AhKh", "random"], trials=200_000, seed=0)
>>> round(r.equity[0], 2), r.exact
(0.67, False)
>>> equity(["AsAd", "KsKd"], board="2c7h9dTs").equity  # the turn: exact, kings need a king
(0.9545454545454546, 0.045454545454545456)
>>> pot_odds(call=50, pot=150)  # call 50 to win 150 + 50: 25% equity breaks even
0.25
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt

from gamelm.poker.cards import CardsLike, deal, deal_unseen, parse_cards
from gamelm.poker.evaluator import (
    KEY_SUM_START,
    card_bits,
    card_keys,
    evaluate_cards,
    evaluate_on_boards,
    strengths_from_key_sums_and_bits,
)
from gamelm.poker.ranges import COMBOS, NUM_COMBOS, Range
from gamelm.poker.rules import MAX_SEATS, MIN_SEATS, SEATS

PlayerSpec = str | Range | Sequence[int] | npt.NDArray[np.integer]
IndexArray = npt.NDArray[np.intp]
CardArray = npt.NDArray[np.uint8]
_CHUNK = 32768  # trials per vectorised chunk: keeps the temporaries in cache
_MAX_ATTEMPTS = 1 << 22  # Monte Carlo deals tried before ranges that never fit are an error
_IMPOSSIBLE = "no deal is possible: the hands, ranges and board leave no distinct cards"


@dataclass(frozen=True)
class EquityResult:
    """Each player's equity (share of the pot at showdown), its standard error, and how."""

    equity: tuple[float, ...]
    stderr: tuple[float, ...]  # 0 when exact
    trials: int  # Monte Carlo trials, or outcomes enumerated
    exact: bool


@dataclass(frozen=True)
class _Player:
    cards: npt.NDArray[np.int64] | None  # a known hand
    weights: npt.NDArray[np.float64] | None  # a range, blocked combos zeroed
    uniform: bool  # the range is every unblocked combo with one weight: deal from the deck


def pot_odds(call: float, pot: float) -> float:
    """Equity needed to call ``call`` into ``pot`` (the pot before the call).

    That is ``call / (pot + call)``: the share of the final pot the call pays for.
    """
    if call < 0 or pot < 0:
        raise ValueError("call and pot must not be negative")
    return 0.0 if call == 0 else call / (pot + call)


def implied_odds(call: float, pot: float, future: float) -> float:
    """Equity needed when ``future`` more chips are expected to be won when the hand hits."""
    if future < 0:
        raise ValueError("future winnings must not be negative")
    return 0.0 if call == 0 else call / (pot + call + future)


def _parse_player(spec: PlayerSpec, i: int) -> tuple[npt.NDArray[np.int64] | None, Range | None]:
    if isinstance(spec, Range):
        return None, spec
    if isinstance(spec, str):
        try:
            cards = parse_cards(spec)
        except ValueError:
            cards = None
        if cards is not None and cards.size == 2:
            return cards.astype(np.int64), None
        try:
            return None, Range.parse(spec)
        except ValueError as exc:
            raise ValueError(f"player {i}: {exc}") from None
    try:
        cards = parse_cards(spec)
    except ValueError as exc:
        raise ValueError(f"player {i}: {exc}") from None
    if cards.size != 2:
        raise ValueError(f"player {i}: a hand has two cards, got {cards.size}")
    return cards.astype(np.int64), None


def _players(specs: Sequence[PlayerSpec], board: npt.NDArray[np.int64]) -> list[_Player]:
    if isinstance(specs, str) or not MIN_SEATS <= len(specs) <= MAX_SEATS:
        raise ValueError(f"give {SEATS} players (hands like 'AhKh' or ranges like 'TT+, AKs')")
    parsed = [_parse_player(s, i) for i, s in enumerate(specs)]
    known = [c for c, _ in parsed if c is not None]
    dead = np.concatenate([board, *known]) if known else board
    if np.unique(dead).size != dead.size:
        raise ValueError("the same card is held twice (check the hands and the board)")
    out = []
    for i, (cards, rng_) in enumerate(parsed):
        if cards is not None:
            out.append(_Player(cards, None, False))
            continue
        assert rng_ is not None
        w = rng_.without(dead)
        if w.sum() <= 0:
            raise ValueError(f"player {i}: no combo of the range is possible with these cards")
        open_ = ~np.isin(COMBOS, dead).any(axis=1)
        uniform = bool(np.all(w[open_] == w[open_][0]))
        out.append(_Player(None, w, uniform))
    return out


def equity(
    players: Sequence[PlayerSpec],
    board: CardsLike = "",
    *,
    trials: int = 200_000,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    max_exact: int = 2_000_000,
) -> EquityResult:
    """Equity of each player (hands like ``"AhKh"``, ranges like ``"TT+, AKs"`` or `Range`).

    ``board`` has 0, 3, 4 or 5 cards. Exact when the outcomes to enumerate are at most
    ``max_exact`` (use ``max_exact=0`` to force Monte Carlo), otherwise ``trials`` Monte Carlo
    trials from ``rng`` (or ``seed``).
    """
    board_cards = parse_cards(board) if len(board) else np.zeros(0, np.int64)
    if board_cards.size not in (0, 3, 4, 5):
        raise ValueError(f"a board has 0, 3, 4 or 5 cards, got {board_cards.size}")
    board_cards = board_cards.astype(np.int64)
    ps = _players(players, board_cards)
    if trials < 1:
        raise ValueError(f"trials must be positive, got {trials}")
    if _some_deal(ps, board_cards) is False:
        raise ValueError(_IMPOSSIBLE)
    outcomes = _exact_size(ps, board_cards)
    if outcomes is not None and outcomes <= max_exact:
        return _exact(ps, board_cards)
    gen = rng if rng is not None else np.random.default_rng(seed)
    if all(p.cards is not None or p.uniform for p in ps):
        fast = _monte_carlo_dealt(ps, board_cards, trials, gen)
        if fast is not None:
            return fast
    return _monte_carlo(ps, board_cards, trials, gen)


def _some_deal(
    ps: list[_Player], board: npt.NDArray[np.int64], budget: int = 100_000
) -> bool | None:
    """Whether one deal gives every player distinct cards: a depth-first search over the
    ranges' combos, most constrained player first, then enough cards left for the players who
    hold any two and the rest of the board. None when the search runs out of ``budget`` nodes
    (Monte Carlo then finds out as it deals)."""
    used = set(board.tolist())
    for p in ps:
        if p.cards is not None:
            used.update(p.cards.tolist())
    ranged = sorted(
        (p.weights for p in ps if p.weights is not None and not p.uniform),
        key=lambda w: int(np.count_nonzero(w)),
    )
    free_draws = 5 - board.size + 2 * sum(1 for p in ps if p.uniform)
    options = [COMBOS[np.flatnonzero(w)].tolist() for w in ranged]
    nodes = 0

    def search(k: int, taken: set[int]) -> bool | None:
        nonlocal nodes
        if k == len(options):
            return 52 - len(taken) >= free_draws
        unsure = False
        for a, b in options[k]:
            nodes += 1
            if nodes > budget:
                return None
            if a in taken or b in taken:
                continue
            found = search(k + 1, taken | {a, b})
            if found:
                return True
            unsure |= found is None
        return None if unsure else False

    return search(0, used)


# -- exact --------------------------------------------------------------------------------------


def _exact_size(ps: list[_Player], board: npt.NDArray[np.int64]) -> int | None:
    """Outcomes to enumerate (range holdings x board completions), or None if too many."""
    known = sum(2 for p in ps if p.cards is not None)
    deck = 52 - board.size - known
    size = math.comb(deck, 5 - board.size)
    for p in ps:
        if p.weights is not None:
            size *= int(np.count_nonzero(p.weights))
            if size > 10**12:
                return None
    return size


def _scenarios(ps: list[_Player]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every compatible assignment of holdings: ``(S, P, 2)`` cards and ``(S,)`` weights."""
    cards = np.zeros((1, len(ps), 2), np.int64)
    weight = np.ones(1)
    for i, p in enumerate(ps):
        if p.cards is not None:
            cards[:, i] = p.cards
            continue
        assert p.weights is not None
        idx = np.flatnonzero(p.weights)
        s = cards.shape[0]
        cards = np.repeat(cards, idx.size, axis=0)
        weight = np.repeat(weight, idx.size) * np.tile(p.weights[idx], s)
        cards[:, i] = np.tile(COMBOS[idx], (s, 1))
        mine = cards[:, i]
        clash = np.zeros(cards.shape[0], bool)
        for j in range(i):
            if ps[j].weights is not None:
                clash |= (mine[:, :, None] == cards[:, j][:, None, :]).any(axis=(1, 2))
        cards, weight = cards[~clash], weight[~clash]
    return cards, weight


@cache
def _index_combinations(n: int, k: int) -> npt.NDArray[np.int64]:
    """All ``k``-subsets of ``range(n)`` in lexicographic order, ``(C(n, k), k)``."""
    if k == 0:
        return np.zeros((1, 0), np.int64)
    blocks = []
    for first in range(n - k + 1):
        rest = _index_combinations(n - first - 1, k - 1) + first + 1
        blocks.append(np.concatenate([np.full((rest.shape[0], 1), first), rest], axis=1))
    return np.concatenate(blocks)


def _exact(ps: list[_Player], board: npt.NDArray[np.int64]) -> EquityResult:
    holdings, weight = _scenarios(ps)
    known = np.concatenate([board] + [p.cards for p in ps if p.cards is not None])
    deck = np.setdiff1d(np.arange(52), known)
    k = 5 - board.size
    runs = deck[_index_combinations(deck.size, k)].astype(np.uint8)  # (B, k) board completions
    num_players = len(ps)
    total = np.zeros(num_players)
    mass = 0.0
    count = 0
    per_block = max(1, _CHUNK * 4 // runs.shape[0])
    ranged = [i for i, p in enumerate(ps) if p.weights is not None]
    for start in range(0, holdings.shape[0], per_block):
        h = holdings[start : start + per_block]  # (s, P, 2)
        w = weight[start : start + per_block]
        s, b = h.shape[0], runs.shape[0]
        # a board completion that holds a card of a range holding cannot happen
        ok = np.ones((s, b), bool)
        for i in ranged:
            for slot in range(k):
                card = runs[None, :, slot]
                ok &= (card != h[:, i, 0, None]) & (card != h[:, i, 1, None])
        si, bi = np.nonzero(ok)
        full = np.empty((5, si.size), np.uint8)
        full[: board.size] = board[:, None]
        full[board.size :] = runs[bi].T
        holes = h[si].transpose(1, 2, 0).astype(np.uint8)  # (P, 2, n)
        share = _shares(evaluate_on_boards(full, np.ascontiguousarray(holes)))
        wt = w[si]
        total += share @ wt
        mass += wt.sum()
        count += si.size
    if mass <= 0:
        raise ValueError(_IMPOSSIBLE)
    eq = tuple(float(x) for x in total / mass)
    return EquityResult(eq, tuple(0.0 for _ in eq), count, True)


def _shares(strength: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """``(P, T)`` strengths -> each player's share of the pot (1/k for a k-way tie)."""
    winners = strength == strength.max(axis=0)
    return winners / winners.sum(axis=0)


# -- Monte Carlo --------------------------------------------------------------------------------


# bit generators whose raw output is 64 random bits (MT19937's is 32)
_RAW64 = (np.random.PCG64, np.random.PCG64DXSM, np.random.SFC64, np.random.Philox)


def _raw64(gen: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.int64]:
    """Uniform 64-bit words: the bit generator's raw output when it is 64 bits wide (the
    fastest way numpy offers), otherwise through ``integers``."""
    if isinstance(gen.bit_generator, _RAW64):
        return gen.bit_generator.random_raw(shape).view(np.int64)
    top = np.iinfo(np.uint64).max
    return gen.integers(0, top, size=shape, dtype=np.uint64, endpoint=True).view(np.int64)


@lru_cache(maxsize=16)
def _unit_tables(deck_bytes: bytes) -> tuple[npt.NDArray[np.uint64], ...]:
    """`_monte_carlo_dealt`'s look-up tables for a deck (cached: a few milliseconds to build).

    For every 16-bit word: the summed keys and the `card_bits` set of the pair of deck cards it
    draws (word modulo the pair count; a word past the last whole multiple gets every bit set);
    the same for every byte and one card.
    """
    deck = np.frombuffer(deck_bytes, np.uint8).astype(np.int64)
    r = deck.size
    num_pairs = r * (r - 1) // 2
    keys = card_keys().astype(np.uint64)
    bits = card_bits()
    full = ~np.uint64(0)
    first, second = np.triu_indices(r, 1)
    word = np.arange(65536)
    pair = word % num_pairs
    a, b = deck[first[pair]], deck[second[pair]]
    word_bits = np.where(word < 65536 - 65536 % num_pairs, bits[a] | bits[b], full)
    byte = np.arange(256)
    c = deck[byte % r]
    byte_bits = np.where(byte < 256 - 256 % r, bits[c], full)
    tables = (keys[a] + keys[b], word_bits, keys[c], byte_bits)
    for t in tables:
        t.setflags(write=False)
    return tables


def _monte_carlo_dealt(
    ps: list[_Player], board: npt.NDArray[np.int64], trials: int, gen: np.random.Generator
) -> EquityResult | None:
    """Monte Carlo when every player is a known hand or ``random``: one fused pass per chunk.

    The cards to deal are drawn in *units*: the missing board cards two at a time and a random
    player's two cards are one draw among the ``C(r, 2)`` pairs of the ``r`` cards left, from a
    16-bit word of raw generator output; an odd board card is one byte. A unit's look-up tables
    hold, for every possible word, its summed card keys and its set of `card_bits` (a word past the
    last whole multiple of the pair count, which would bias the draw, gets every bit set). A trial
    is kept when its units' sets hold exactly the cards drawn, so no card is dealt twice and the
    kept deals are uniform; every player's strength comes from the shared board sum plus their
    own cards (`strengths_from_key_sums_and_bits`). Returns None when rejection would waste too
    much.
    """
    known = np.concatenate([board] + [p.cards for p in ps if p.cards is not None])
    deck = np.setdiff1d(np.arange(52), known)
    r = deck.size
    dealt = [i for i, p in enumerate(ps) if p.cards is None]
    k = 5 - board.size
    draw = k + 2 * len(dealt)
    pairs = k // 2 + len(dealt)  # units of two cards: the board's first, then each player's
    singles = k % 2
    num_pairs = r * (r - 1) // 2
    limit16 = 65536 - 65536 % num_pairs
    limit8 = 256 - 256 % r
    accept = (limit16 / 65536) ** pairs * (limit8 / 256) ** singles
    for i in range(pairs):
        accept *= math.comb(r - 2 * i, 2) / num_pairs
    for j in range(singles):
        accept *= (r - 2 * pairs - j) / r
    if accept < 0.3 or draw > r:
        return None
    keys = card_keys().astype(np.uint64)
    bits = card_bits()
    word_keys, word_bits, byte_keys, byte_bits = _unit_tables(deck.astype(np.uint8).tobytes())
    board_key = np.uint64(KEY_SUM_START + int(card_keys()[board].sum()))
    board_set = np.bitwise_or.reduce(bits[board]) if board.size else np.uint64(0)
    own = [
        (np.uint64(keys[p.cards].sum()), np.bitwise_or.reduce(bits[p.cards]))
        for p in ps
        if p.cards is not None
    ]
    words = -(-(16 * pairs + 8 * singles) // 64)  # raw 64-bit outputs per attempt
    num_players = len(ps)
    sums = np.zeros(num_players)
    squares = np.zeros(num_players)
    done = 0
    while done < trials:
        attempts = min(_CHUNK, int((trials - done) / accept) + 64)
        raw = _raw64(gen, (words, attempts))
        # intp indices: numpy's indexing is several times slower with small index types
        units = [(raw[j // 4] >> (16 * (j % 4))) & 0xFFFF for j in range(pairs)]
        board_bits = np.full(attempts, board_set)
        board_keys = np.full(attempts, board_key)
        for unit in units[: k // 2]:
            board_bits |= word_bits[unit]
            board_keys += word_keys[unit]
        if singles:
            at = 16 * pairs
            single = (raw[at // 64] >> (at % 64)) & 0xFF
            board_bits |= byte_bits[single]
            board_keys += byte_keys[single]
        hole_bits = [word_bits[unit] for unit in units[k // 2 :]]
        cards = board_bits
        for hole in hole_bits:
            cards = cards | hole
        pick = np.flatnonzero(np.bitwise_count(cards) == draw + board.size)[: trials - done]
        board_bits, board_keys = board_bits[pick], board_keys[pick]
        strength = np.empty((num_players, pick.size), np.int16)
        mine = iter(own)
        for i, p in enumerate(ps):
            if p.cards is not None:
                key, hole = next(mine)
                strength[i] = strengths_from_key_sums_and_bits(board_keys + key, board_bits | hole)
            else:
                n = dealt.index(i)
                unit = units[k // 2 + n][pick]
                strength[i] = strengths_from_key_sums_and_bits(
                    board_keys + word_keys[unit], board_bits | hole_bits[n][pick]
                )
        if num_players == 2:  # the common case without float temporaries
            win = int(np.count_nonzero(strength[0] > strength[1]))
            lose = int(np.count_nonzero(strength[0] < strength[1]))
            tie = pick.size - win - lose
            sums += (win + tie / 2, lose + tie / 2)
            squares += (win + tie / 4, lose + tie / 4)
        else:
            share = _shares(strength)
            sums += share.sum(axis=1)
            squares += (share * share).sum(axis=1)
        done += pick.size
    return _result(sums, squares, done)


def _monte_carlo(
    ps: list[_Player], board: npt.NDArray[np.int64], trials: int, gen: np.random.Generator
) -> EquityResult:
    """Deal the rest of the board and the range holdings for a chunk of trials at a time."""
    known = np.concatenate([board] + [p.cards for p in ps if p.cards is not None])
    deck = np.setdiff1d(np.arange(52), known).astype(np.uint8)
    dealt = [i for i, p in enumerate(ps) if p.uniform]
    weighted = [i for i, p in enumerate(ps) if p.weights is not None and not p.uniform]
    cdfs = [np.cumsum(ps[i].weights) for i in weighted]
    k = 5 - board.size
    draw = k + 2 * len(dealt)
    num_players = len(ps)
    sums = np.zeros(num_players)
    squares = np.zeros(num_players)
    done = 0
    attempted = 0
    while done < trials:
        if attempted >= _MAX_ATTEMPTS and done < attempted * 1e-4:
            raise ValueError(_IMPOSSIBLE + f" (no deal in {attempted:,} tries)")
        t = min(_CHUNK, trials - done)
        attempted += t
        if weighted:  # oversample a little: trials whose cards collide are dropped
            t = min(_CHUNK, int(t * 1.3) + 64)
        cards = _deal_from(gen, deck, draw, t)  # (draw, t)
        t = cards.shape[1]
        holes = np.empty((num_players, 2, t), np.uint8)
        for i, p in enumerate(ps):
            if p.cards is not None:
                holes[i] = p.cards[:, None]
        for n, i in enumerate(dealt):
            holes[i] = cards[k + 2 * n : k + 2 * n + 2]
        if weighted:
            used = np.zeros(t, np.uint64)
            for row in cards:
                used |= _bits(row)
            ok = np.ones(t, bool)
            for i, cdf in zip(weighted, cdfs):
                combo = np.searchsorted(cdf, gen.random(t) * cdf[-1], side="right")
                pair = COMBOS[np.minimum(combo, cdf.size - 1)].T.astype(np.uint8)  # (2, t)
                mine = _bits(pair[0]) | _bits(pair[1])
                ok &= (used & mine) == 0
                used |= mine
                holes[i] = pair
            keep = np.flatnonzero(ok)[: trials - done]
            cards, holes = cards[:, keep], holes[:, :, keep]
        full = np.empty((5, cards.shape[1]), np.uint8)
        full[: board.size] = board[:, None]
        full[board.size :] = cards[:k]
        share = _shares(evaluate_on_boards(full, holes))
        sums += share.sum(axis=1)
        squares += (share * share).sum(axis=1)
        done += share.shape[1]
    return _result(sums, squares, done)


def _result(
    sums: npt.NDArray[np.float64], squares: npt.NDArray[np.float64], n: int
) -> EquityResult:
    mean = sums / n
    var = np.maximum(squares / n - mean * mean, 0.0)
    stderr = np.sqrt(var / max(n - 1, 1))
    return EquityResult(tuple(float(x) for x in mean), tuple(float(x) for x in stderr), n, False)


def _bits(cards: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    return np.left_shift(np.uint64(1), cards.astype(np.uint64))


def _deal_from(
    gen: np.random.Generator, deck: npt.NDArray[np.uint8], k: int, t: int
) -> npt.NDArray[np.uint8]:
    """``(k, t')``: ``k`` distinct cards of ``deck`` for each of ``t' <= t`` trials.

    Few cards (the common case): ``k`` uniform random bytes per trial, kept when every byte is
    below the largest multiple of the deck size (so ``byte % size`` is uniform) and the cards are
    distinct (a 64-bit mask has ``k`` bits set); the trials kept are uniform deals. Many cards: a
    partial Fisher-Yates shuffle per trial.
    """
    r = deck.size
    accept = math.perm(r, k) / r**k * ((256 - 256 % r) / 256) ** k
    if accept < 0.3:
        return deal(gen, k, t, deck)
    limit = 256 - 256 % r
    raw = gen.integers(0, 256, size=(k, t), dtype=np.uint8)
    ok = np.ones(t, bool)
    for row in raw:
        ok &= row < limit
    idx = raw % np.uint8(r)
    mask = _bits(idx[0])
    for row in idx[1:]:
        mask |= _bits(row)
    ok &= np.bitwise_count(mask) == k
    return deck[idx[:, ok]]


# -- many tables at once (agents) ----------------------------------------------------------------


def hand_strength(
    hole: npt.ArrayLike,
    board: npt.ArrayLike,
    board_count: npt.ArrayLike,
    opponents: npt.ArrayLike,
    *,
    trials: int = 200,
    rng: np.random.Generator,
    ranges: npt.ArrayLike | None = None,
    ranged: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Equity of ``m`` hands, each against its own number of opponents.

    ``hole`` is ``(m, 2)``, ``board`` ``(m, 5)`` of which the first ``board_count[i]`` cards are
    dealt, ``opponents`` ``(m,)`` (at least 1). The opponents hold random hands, except that with
    ``ranges`` (combo weights, ``(1326,)`` for every hand or ``(m, 1326)``) the first
    ``ranged[i]`` opponents of hand ``i`` (all of them by default) hold hands drawn from that
    range, with the combos the known cards block removed. Monte Carlo with ``trials`` deals per
    hand, all hands at once: every (hand, trial) row shuffles its own remaining deck (dead cards
    moved to the back) for the board and the random hands; range hands are drawn by their
    cumulative weights, and a trial whose range hands share a card with each other or with the
    dealt cards is dropped (so the deals kept follow the range exactly). A hand whose range is
    empty once blocked, or whose every trial was dropped, is scored against random hands. Used by
    bots, so ``trials`` is small; the standard error is about ``0.5 / sqrt(trials)``.

    >>> from gamelm.poker.cards import parse_cards
    >>> hole = np.stack([parse_cards("AsAh"), parse_cards("7c2d")])
    >>> board = np.stack([parse_cards("AdKs2c7h9h")] * 2)
    >>> s = hand_strength(hole, board, [3, 0], [1, 1], trials=2000, rng=np.random.default_rng(0))
    >>> bool(s[0] > 0.9), bool(0.25 < s[1] < 0.4)
    (True, True)
    >>> top = Range.parse("QQ+, AKs").weights  # 7-2 preflop: 35% against any hand, 15% here
    >>> t = hand_strength(hole[1:], board[1:], [0], [1], trials=2000, rng=np.random.default_rng(0),
    ...                   ranges=top)
    >>> bool(0.12 < t[0] < 0.19)
    True
    """
    h = np.asarray(hole, np.int64)
    b = np.asarray(board, np.int64)
    bc = np.asarray(board_count, np.int64)
    opp = np.asarray(opponents, np.int64)
    m = h.shape[0]
    if m == 0:
        return np.zeros(0)
    if (opp < 1).any() or (opp > 9).any():
        raise ValueError("every hand needs 1 to 9 opponents")
    # dead[i, c]: card c is known at table i (hole cards and the dealt board)
    dead = np.zeros((m, 52), bool)
    dead[np.arange(m)[:, None], h] = True
    slots = np.arange(5)[None, :] < bc[:, None]
    ti, si = np.nonzero(slots)
    dead[ti, b[ti, si]] = True
    cdf = None
    count = np.zeros(m, np.int64)
    if ranges is not None:
        w = np.broadcast_to(np.asarray(ranges, np.float64), (m, NUM_COMBOS))
        if (w < 0).any():
            raise ValueError("range weights must not be negative")
        w = np.where(dead[:, COMBOS[:, 0]] | dead[:, COMBOS[:, 1]], 0.0, w)
        cdf = np.cumsum(w, axis=1)
        total = cdf[:, -1]
        # rows normalised to [0, 1] and shifted by their index: one searchsorted draws for all
        cdf = cdf / np.where(total > 0, total, 1.0)[:, None] + np.arange(m)[:, None]
        count = opp.copy() if ranged is None else np.clip(np.asarray(ranged, np.int64), 0, opp)
        count[total <= 0] = 0
    return _strength_trials(h, b, bc, opp, dead, trials, rng, cdf, count)


def _strength_trials(
    h: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    bc: npt.NDArray[np.int64],
    opp: npt.NDArray[np.int64],
    dead: npt.NDArray[np.bool_],
    trials: int,
    rng: np.random.Generator,
    cdf: npt.NDArray[np.float64] | None,
    count: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """`hand_strength`'s Monte Carlo: the first ``count[i]`` opponents of hand ``i`` draw from
    row ``i`` of ``cdf``, the others are dealt from the deck."""
    m = h.shape[0]
    max_opp = int(opp.max())
    need = 5 - bc  # board cards still to come
    draw = int((need + 2 * (opp - count)).max())
    rows = m * trials
    deck = deal_unseen(rng, dead, draw, trials)  # (rows, 52): the draw first
    table = np.repeat(np.arange(m), trials)
    at = np.arange(rows)
    full = np.empty((rows, 7), np.uint8)
    full[:, :2] = h[table]
    # board slot s: the dealt card if s < board_count, else drawn card s - board_count
    for s in range(5):
        dealt = s < bc[table]
        drawn = deck[at, np.clip(s - bc[table], 0, 4)]
        full[:, 2 + s] = np.where(dealt, b[table, s], drawn)
    mine = evaluate_cards(full)
    # opponent o: from the range when o < count, else the deck's next two cards
    ranged = count[table]
    holes = np.empty((max_opp, rows, 2), np.uint8)
    for o in range(max_opp):
        first = np.minimum(need[table] + 2 * np.maximum(o - ranged, 0), 50)
        holes[o, :, 0] = deck[at, first]
        holes[o, :, 1] = deck[at, first + 1]
    valid = np.ones(rows, bool)
    if cdf is not None and count.any():
        r = np.flatnonzero(ranged > 0)  # (hand, trial) rows with range opponents
        tr = table[r]
        used = np.bitwise_or.reduce(_bits(full[r, 2:]), axis=1)
        for o in range(max_opp):  # the dealt opponents' cards are taken too
            dealt_opp = (o >= ranged[r]) & (o < opp[tr])
            used |= np.where(dealt_opp, _bits(holes[o, r, 0]) | _bits(holes[o, r, 1]), 0)
        flat_cdf = cdf.ravel()
        for o in range(int(count.max())):
            drawn_here = o < ranged[r]
            pos = np.searchsorted(flat_cdf, rng.random(r.size) + tr, side="right") - tr * NUM_COMBOS
            pair = COMBOS[np.clip(pos, 0, NUM_COMBOS - 1)].astype(np.uint8)
            theirs = _bits(pair[:, 0]) | _bits(pair[:, 1])
            valid[r] &= ~drawn_here | ((used & theirs) == 0)
            used |= np.where(drawn_here, theirs, np.uint64(0))
            # a dropped trial keeps dealt cards: a card twice would break the evaluator
            holes[o, r] = np.where((valid[r] & drawn_here)[:, None], pair, holes[o, r])
    best_other = np.full(rows, -1, np.int64)
    ties = np.zeros(rows, np.int64)
    for o in range(max_opp):
        playing = o < opp[table]
        full[:, :2] = holes[o]
        theirs = np.where(playing, evaluate_cards(full), -1)
        ties = np.where(theirs > best_other, 0, ties) + (theirs == mine)
        best_other = np.maximum(best_other, theirs)
    share = np.where(mine > best_other, 1.0, np.where(mine == best_other, 1.0 / (1 + ties), 0.0))
    kept = valid.reshape(m, trials).sum(axis=1)
    out = (share * valid).reshape(m, trials).sum(axis=1) / np.maximum(kept, 1)
    lost = np.flatnonzero(kept == 0)
    if lost.size:  # every trial collided: score those hands against random hands
        out[lost] = _strength_trials(
            h[lost],
            b[lost],
            bc[lost],
            opp[lost],
            dead[lost],
            trials,
            rng,
            None,
            np.zeros(lost.size, np.int64),
        )
    return out
