"""Batched 5-, 6- and 7-card hand evaluation with numpy lookup tables.

Every 5-card hand falls into one of 7,462 equivalence classes. ``evaluate_batch`` maps each row of
an ``(N, 5|6|7)`` card array to the class of its best five cards, numbered ``1..7462`` with
**higher stronger** (7462 is a royal flush, 1 is 7-5-4-3-2 offsuit). The numbering is the standard
one, so ``strength == 7463 - treys_rank == 7463 - phevaluator_rank``.

How it works (no Python loop per hand):

* Each card maps to a 64-bit key: a *rank key* in the low bits plus ``1 << (32 + 4 * suit)``.
  Summing the keys of a hand gives, in the low 23 bits, a number that is unique for every multiset
  of ranks of that hand size, and in bits 32..47 the count of each suit.
* Rank keys were found by a greedy search (`find_rank_keys`): each key is the smallest integer
  that keeps all sums of up to seven ranks (at most four of each) distinct; the search uses FFT
  cross-correlation to find the forbidden values in one pass per rank.
* A hand with five or more cards of one suit is a flush (with at most seven cards nothing beats a
  flush except a straight flush, which the flush table knows), looked up by the 13-bit rank mask of
  that suit. Every other hand is looked up by its rank sum in a table of 8.1 million ``int16``.

Tables are built once (a few seconds) and cached in ``$GAMELM_CACHE_DIR`` (default
``~/.cache/gamelm``), written atomically.

>>> evaluate("AsKsQsJsTs9d2c")
7462
>>> category_name(evaluate("7c5d4h3s2c"))
'high card'
>>> evaluate("AhAd") # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: a hand has 5, 6 or 7 cards, got 2 in 'AhAd'
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

from gamelm.files import atomic_file, cache_dir
from gamelm.poker.cards import CardsLike, parse_cards

NUM_CLASSES = 7462

# Category names from weakest to strongest, with the number of 5-card classes in each.
CATEGORIES: tuple[str, ...] = (
    "high card",
    "one pair",
    "two pair",
    "three of a kind",
    "straight",
    "flush",
    "full house",
    "four of a kind",
    "straight flush",
)
CLASSES_PER_CATEGORY = (1277, 2860, 858, 858, 10, 1277, 156, 156, 10)
# Number of the 2,598,960 five-card hands in each category (the textbook counts).
HANDS_PER_CATEGORY = (1302540, 1098240, 123552, 54912, 10200, 5108, 3744, 624, 40)
# CATEGORY_FLOOR[i] is the lowest strength in category i.
CATEGORY_FLOOR = np.concatenate([[1], 1 + np.cumsum(CLASSES_PER_CATEGORY)[:-1]]).astype(np.int64)

# Found by `find_rank_keys()` (a test checks that the search reproduces them).
RANK_KEYS = (0, 1, 5, 24, 112, 521, 2247, 9244, 30823, 103066, 250154, 667453, 1526359)
_SUIT_SHIFT = 32
_RANK_MASK = (1 << _SUIT_SHIFT) - 1
_FLUSH_PROBE = 0x3333  # adding 3 to a suit count sets bit 3 of its nibble iff the count is >= 5
_FLUSH_BITS = 0x8888
_TABLE_VERSION = 1
_CHUNK = 1 << 15  # rows per chunk: keeps the temporaries in cache


def find_rank_keys(
    max_cards: int = 7, max_per_rank: int = 4, num_ranks: int = 13
) -> tuple[int, ...]:
    """Greedy search for 13 rank keys with distinct sums over every multiset of one size.

    Key ``i`` is the smallest integer above key ``i-1`` such that no two rank multisets of at most
    ``max_cards`` cards (at most ``max_per_rank`` of a rank) that differ in the count of rank ``i``
    have the same sum. For a candidate ``k`` that means ``d*k`` must not be a difference between a
    sum of up to ``max_cards`` ranks and a sum of up to ``max_cards - d`` ranks (``d = 1..4``); all
    such differences come from one FFT cross-correlation per ``d``.
    """
    keys = [0]
    for _ in range(num_ranks - 1):
        # sums[j] = all sums of multisets of exactly j ranks over the ranks keyed so far
        sums: list[set[int]] = [set() for _ in range(max_cards + 1)]
        sums[0].add(0)
        for key in keys:
            nxt: list[set[int]] = [set() for _ in range(max_cards + 1)]
            for size, values in enumerate(sums):
                for s in values:
                    for c in range(max_per_rank + 1):
                        if size + c <= max_cards:
                            nxt[size + c].add(s + c * key)
            sums = nxt
        upto = [set().union(*sums[: j + 1]) for j in range(max_cards + 1)]
        top = max(upto[max_cards]) + 1
        length = 1 << int(np.ceil(np.log2(6 * top + 2)))
        full = np.zeros(length)
        full[list(upto[max_cards])] = 1.0
        f_full = np.fft.rfft(full)
        forbidden = []
        for d in range(1, max_per_rank + 1):
            part = np.zeros(length)
            part[list(upto[max_cards - d])] = 1.0
            corr = np.fft.irfft(f_full * np.conj(np.fft.rfft(part)), length)
            forbidden.append(corr > 0.5)
        k = keys[-1] + 1
        while any(d * k < length and forbidden[d - 1][d * k] for d in range(1, max_per_rank + 1)):
            k += 1
        keys.append(k)
    return tuple(keys)


# ---------------------------------------------------------------------------------------------
# Table construction
# ---------------------------------------------------------------------------------------------


def _five_card_key(ranks: tuple[int, ...], flush: bool) -> tuple[int, tuple[int, ...]]:
    """(category index, tie-break ranks) of a 5-card hand given its ranks (0..12)."""
    counts = {r: ranks.count(r) for r in set(ranks)}
    # order ranks by (count, rank), both descending: pairs before kickers
    ordered = tuple(sorted(counts, key=lambda r: (counts[r], r), reverse=True))
    pattern = tuple(sorted(counts.values(), reverse=True))
    straight_top = -1
    if len(counts) == 5:
        hi = max(ranks)
        if hi - min(ranks) == 4:
            straight_top = hi
        elif set(ranks) == {12, 0, 1, 2, 3}:  # the wheel A-2-3-4-5
            straight_top = 3
    if straight_top >= 0:
        return (8 if flush else 4), (straight_top,)
    if flush:
        return 5, ordered
    category = {
        (1, 1, 1, 1, 1): 0,
        (2, 1, 1, 1): 1,
        (2, 2, 1): 2,
        (3, 1, 1): 3,
        (3, 2): 6,
        (4, 1): 7,
    }[pattern]
    return category, ordered


def _rank_multisets(size: int) -> list[tuple[int, ...]]:
    return [
        combo
        for combo in itertools.combinations_with_replacement(range(13), size)
        if all(combo.count(r) <= 4 for r in set(combo))
    ]


def _build_tables() -> dict[str, npt.NDArray[np.int16]]:
    five = _rank_multisets(5)
    suited = list(itertools.combinations(range(13), 5))
    keys = {(m, False): _five_card_key(m, False) for m in five}
    keys.update({(m, True): _five_card_key(m, True) for m in suited})
    order = sorted(set(keys.values()))
    assert len(order) == NUM_CLASSES
    strength_of = {k: i + 1 for i, k in enumerate(order)}

    # Non-flush tables, one per hand size, indexed by the rank-key sum.
    best: dict[tuple[int, ...], int] = {m: strength_of[keys[(m, False)]] for m in five}
    tables: dict[str, npt.NDArray[np.int16]] = {}
    for size in (5, 6, 7):
        if size > 5:
            prev = best
            best = {}
            for m in _rank_multisets(size):
                best[m] = max(prev[m[:i] + m[i + 1 :]] for i in range(size))
        top = sum(RANK_KEYS[r] for r in (12,) * 4 + (11,) * (size - 4)) + 1
        table = np.zeros(top, dtype=np.int16)
        for m, value in best.items():
            table[sum(RANK_KEYS[r] for r in m)] = value
        tables[f"rank{size}"] = table

    # Flush table indexed by the 13-bit rank mask of the flush suit (5 to 7 cards of that suit).
    flush = np.zeros(1 << 13, dtype=np.int16)
    for m in suited:
        flush[sum(1 << r for r in m)] = strength_of[keys[(m, True)]]
    for bits in (6, 7):
        for combo in itertools.combinations(range(13), bits):
            mask = sum(1 << r for r in combo)
            flush[mask] = max(flush[mask & ~(1 << r)] for r in combo)
    tables["flush"] = flush
    return tables


@cache
def _tables() -> dict[str, npt.NDArray[np.int16]]:
    path = cache_dir() / f"evaluator-v{_TABLE_VERSION}.npz"
    try:
        with np.load(path) as data:
            loaded = {k: data[k] for k in data.files}
        if set(loaded) == {"rank5", "rank6", "rank7", "flush"}:
            return loaded
    except (OSError, ValueError, KeyError):
        pass
    tables = _build_tables()
    try:
        with atomic_file(path, ".npz") as tmp:
            np.savez(tmp, **tables)
    except OSError:
        pass  # a read-only home is fine: the tables are rebuilt next time
    return tables


@cache
def _card_keys() -> npt.NDArray[np.int64]:
    rank_keys = np.asarray(RANK_KEYS, dtype=np.int64)
    cards = np.arange(52)
    return rank_keys[cards // 4] + (np.int64(1) << (_SUIT_SHIFT + 4 * (cards % 4)))


# suit index from (flush bits >> 3): nibble 0 -> 1, 1 -> 16, 2 -> 256, 3 -> 4096
_SUIT_FROM_BIT = np.zeros(4097, dtype=np.int64)
_SUIT_FROM_BIT[[1, 16, 256, 4096]] = [0, 1, 2, 3]


def _evaluate_chunk(
    cards: npt.NDArray[np.integer],
    out: npt.NDArray[np.int64],
    keys: npt.NDArray[np.int64],
    rank_table: npt.NDArray[np.int16],
    flush_table: npt.NDArray[np.int16],
) -> None:
    if cards.dtype != np.uint8:
        cards = cards.astype(np.uint8)  # small indices make the gather below twice as fast
    # (c, n) layout: one contiguous row per card column makes the additions cheap.
    k = np.take(keys, cards.T)
    total = k[0] + (_FLUSH_PROBE << _SUIT_SHIFT)
    for j in range(1, k.shape[0]):
        total += k[j]
    out[:] = np.take(rank_table, total & _RANK_MASK)
    _fix_flushes(total, lambda rows: cards[rows], out, flush_table)


def _fix_flushes(
    total: npt.NDArray[np.int64],
    cards_of: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.integer]],
    out: npt.NDArray[np.int64],
    flush_table: npt.NDArray[np.int16],
) -> None:
    """Overwrite ``out`` where the key sums ``total`` show a flush (``cards_of(rows)`` gives
    those rows' cards, one row per hand)."""
    # a boolean array: flatnonzero is ten times slower on the int64 array itself
    rows = np.flatnonzero((total & (_FLUSH_BITS << _SUIT_SHIFT)) != 0)
    if rows.size:  # about 3% of random 7-card hands
        flush_bits = (total[rows] >> _SUIT_SHIFT) & _FLUSH_BITS
        suit = _SUIT_FROM_BIT[flush_bits >> 3]
        sub = cards_of(rows).astype(np.int64)
        in_suit = (sub & 3) == suit[:, None]
        mask = np.where(in_suit, np.left_shift(1, sub >> 2), 0).sum(axis=1)
        out[rows] = flush_table[mask]


KEY_SUM_START = _FLUSH_PROBE << _SUIT_SHIFT  # the value a key sum starts from


def card_keys() -> npt.NDArray[np.int64]:
    """The 64-bit key of each card 0..51 (see the module docstring)."""
    return _card_keys()


def strengths_from_key_sums(
    total: npt.NDArray[np.int64],
    cards_of: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.integer]],
) -> npt.NDArray[np.int64]:
    """Strengths of 7-card hands from ``KEY_SUM_START`` plus the sum of their `card_keys`.

    ``cards_of(rows)`` must return the ``(len(rows), 7)`` cards of the given hands; it is called
    only for the few hands that may be flushes. For callers that add keys incrementally (shared
    boards, equity sampling).
    """
    tables = _tables()
    out = np.take(tables["rank7"], total & _RANK_MASK)
    _fix_flushes(total, cards_of, out, tables["flush"])
    return out


def card_bits() -> npt.NDArray[np.uint64]:
    """Each card's bit in a *suit-major* 52-bit card set: ``1 << (13 * suit + rank)``.

    The cards of one suit are then the 13-bit rank mask ``(cards >> 13 * suit) & 0x1FFF``, which
    is what the flush table is indexed by; `strengths_from_key_sums_and_bits` relies on it.
    """
    cards = np.arange(52)
    return np.left_shift(np.uint64(1), (13 * (cards % 4) + cards // 4).astype(np.uint64))


# suit-major shift of the flushed suit, from its one-hot nibble (key-sum bits 35.. >> 3)
_SHIFT_FROM_BIT = np.zeros(4097, dtype=np.uint64)
_SHIFT_FROM_BIT[[1, 16, 256, 4096]] = [0, 13, 26, 39]


def strengths_from_key_sums_and_bits(
    total: npt.NDArray[np.uint64], bits: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int16]:
    """Strengths of 7-card hands from their key sums (as in `strengths_from_key_sums`, viewed
    as ``uint64``) and their `card_bits` sets; a flush reads its suit's ranks from the set.

    Rows that are not real hands (a card twice) give some value and never fail: samplers that
    reject such rows afterwards can evaluate them along with the rest.
    """
    tables = _tables()
    out = np.take(tables["rank7"], (total & np.uint64(_RANK_MASK)).view(np.int64), mode="clip")
    rows = np.flatnonzero((total & np.uint64(_FLUSH_BITS << _SUIT_SHIFT)) != 0)
    if rows.size:
        nibble = (total[rows] >> np.uint64(_SUIT_SHIFT + 3)) & np.uint64(0x1111)
        shift = _SHIFT_FROM_BIT[nibble.view(np.int64)]
        ranks = (bits[rows] >> shift) & np.uint64(0x1FFF)
        out[rows] = tables["flush"][ranks.view(np.int64)]
    return out


def evaluate_on_boards(
    board: npt.NDArray[np.integer], holes: npt.NDArray[np.integer]
) -> npt.NDArray[np.int64]:
    """Strengths of ``P`` two-card hands on ``T`` five-card boards, sharing the board's work.

    ``board`` is ``(5, T)`` and ``holes`` ``(P, 2, T)`` (column-major: one row per card slot);
    returns ``(P, T)``. Cards must be valid and distinct per column (not checked). Used by the
    equity calculator, where every player shares the board.

    >>> from gamelm.poker.cards import parse_cards
    >>> board = parse_cards("2c7d9hJcTs")[:, None]
    >>> holes = np.stack([parse_cards("AsKd"), parse_cards("8h8d")])[:, :, None]
    >>> [category_name(s) for s in evaluate_on_boards(board, holes)[:, 0]]
    ['high card', 'straight']
    """
    keys = _card_keys()
    base = np.take(keys, board[0]) + KEY_SUM_START
    for row in board[1:]:
        base += np.take(keys, row)
    out = np.empty((holes.shape[0], board.shape[1]), np.int64)
    for p in range(holes.shape[0]):
        total = base + np.take(keys, holes[p, 0]) + np.take(keys, holes[p, 1])
        out[p] = strengths_from_key_sums(
            total, lambda rows, p=p: np.concatenate([board[:, rows], holes[p][:, rows]]).T
        )
    return out


def evaluate_batch(cards: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Strengths (1..7462, higher is stronger) of each row of an ``(N, 5|6|7)`` card array.

    Cards are ints ``0..51`` (see `gamelm.poker.cards`); a row that repeats a card raises
    ValueError (`evaluate_cards` is the same without the checks, for cards known valid).

    >>> from gamelm.poker.cards import parse_cards
    >>> hands = np.stack([parse_cards("AsAhKsKh2c3d4d"), parse_cards("2c3c4c5c7d8h9s")])
    >>> evaluate_batch(hands).tolist()
    [4987, 49]
    """
    arr = np.asarray(cards)
    if arr.ndim != 2 or arr.shape[1] not in (5, 6, 7):
        raise ValueError(f"expected an array of shape (N, 5), (N, 6) or (N, 7), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"cards must be integers 0..51, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 51):
        raise ValueError("cards must be integers 0..51")
    row = _first_repeat(arr)
    if row >= 0:
        raise ValueError(f"row {row} repeats a card: {arr[row].tolist()}")
    return evaluate_cards(arr)


def _first_repeat(arr: npt.NDArray[np.integer]) -> int:
    """The first row that holds a card twice, or -1: a row's cards as bits, OR-ed and summed
    column by column in cache-sized chunks (the two differ exactly when a bit repeats)."""
    one = np.uint64(1)
    for start in range(0, arr.shape[0], _CHUNK):
        bits = np.left_shift(one, arr[start : start + _CHUNK].astype(np.uint64))
        union, total = bits[:, 0].copy(), bits[:, 0].copy()
        for j in range(1, bits.shape[1]):
            union |= bits[:, j]
            total += bits[:, j]
        bad = np.flatnonzero(union != total)
        if bad.size:
            return start + int(bad[0])
    return -1


def evaluate_cards(arr: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """`evaluate_batch` without the input checks, for callers whose cards are known valid."""
    tables = _tables()
    keys = _card_keys()
    rank_table = tables[f"rank{arr.shape[1]}"]
    flush_table = tables["flush"]
    out = np.empty(arr.shape[0], dtype=np.int64)
    for start in range(0, arr.shape[0], _CHUNK):
        stop = start + _CHUNK
        _evaluate_chunk(arr[start:stop], out[start:stop], keys, rank_table, flush_table)
    return out


def evaluate(cards: CardsLike) -> int:
    """Strength of one hand of 5, 6 or 7 cards given as ``"AsKsQsJsTs9d2c"``, a list or ints."""
    parsed = parse_cards(cards)
    if parsed.size not in (5, 6, 7):
        raise ValueError(f"a hand has 5, 6 or 7 cards, got {parsed.size} in {cards!r}")
    return int(evaluate_batch(parsed[None, :])[0])


def category_index(strength: int | npt.ArrayLike) -> int | npt.NDArray[np.int64]:
    """Category index 0 (high card) .. 8 (straight flush) of one strength or an array of them."""
    idx = np.searchsorted(CATEGORY_FLOOR, np.asarray(strength), side="right") - 1
    return int(idx) if idx.ndim == 0 else idx


def category_name(strength: int) -> str:
    """``"high card"`` ... ``"straight flush"`` for a strength from `evaluate`."""
    if not 1 <= int(strength) <= NUM_CLASSES:
        raise ValueError(f"strength must be in 1..{NUM_CLASSES}, got {strength}")
    return CATEGORIES[int(category_index(int(strength)))]
