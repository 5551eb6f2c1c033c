"""Cards as small integers.

A card is an int in ``0..51``: ``rank * 4 + suit`` with ranks ``23456789TJQKA`` (0..12) and suits
``cdhs`` (0..3). This is the encoding phevaluator uses, so ``2c`` is 0 and ``As`` is 51.

>>> parse_card("As")
51
>>> parse_cards("AsKd").tolist()
[51, 45]
>>> format_cards(parse_cards(["Td", "2c"]))
'Td2c'
>>> parse_cards("AsAs")
Traceback (most recent call last):
...
ValueError: duplicate card 'As' in 'AsAs'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

RANKS = "23456789TJQKA"
SUITS = "cdhs"
NUM_CARDS = 52

CARD_NAMES: tuple[str, ...] = tuple(r + s for r in RANKS for s in SUITS)
_NAME_TO_CARD = {name: i for i, name in enumerate(CARD_NAMES)}
# Accept lower-case ranks ("ts", "ah") as well: the canonical form is printed back.
_NAME_TO_CARD.update({name[0].lower() + name[1]: i for i, name in enumerate(CARD_NAMES)})

CardsLike = str | Sequence[str] | Sequence[int] | npt.NDArray[np.integer]


def rank_of(card: int | npt.NDArray[np.integer]) -> int | npt.NDArray[np.integer]:
    """Rank index 0..12 (2..A) of a card or an array of cards."""
    return card // 4


def suit_of(card: int | npt.NDArray[np.integer]) -> int | npt.NDArray[np.integer]:
    """Suit index 0..3 (c, d, h, s) of a card or an array of cards."""
    return card % 4


def parse_card(text: str) -> int:
    """Parse one card such as ``"As"``, ``"Td"`` or ``"2c"``.

    Raises ``ValueError`` naming the bad input.
    """
    if not isinstance(text, str):
        raise ValueError(f"a card must be a string like 'As', got {text!r}")
    card = _NAME_TO_CARD.get(text.strip())
    if card is None:
        raise ValueError(
            f"bad card {text!r}: expected a rank from {RANKS} followed by a suit from {SUITS}"
        )
    return card


def _split(text: str) -> list[str]:
    compact = "".join(text.replace(",", " ").split())
    if len(compact) % 2:
        raise ValueError(f"bad card string {text!r}: cards are two characters each, like 'AsKd'")
    return [compact[i : i + 2] for i in range(0, len(compact), 2)]


def parse_cards(cards: CardsLike, count: int | None = None) -> npt.NDArray[np.int64]:
    """Parse ``"AsKd"``, ``"As Kd"``, ``["As", "Kd"]`` or ints into an int array of cards.

    Duplicates raise ``ValueError``; so do a wrong number of cards when ``count`` is given,
    anything that is not a string or a sequence of cards (None, a number), and a sequence that
    mixes strings and ints.

    >>> parse_cards("As Kd 2c", count=3).tolist()
    [51, 45, 0]
    >>> parse_cards("1x")
    Traceback (most recent call last):
    ...
    ValueError: bad card '1x': expected a rank from 23456789TJQKA followed by a suit from cdhs
    """
    if isinstance(cards, str):
        out = [parse_card(c) for c in _split(cards)]
        shown = cards
    else:
        if isinstance(cards, np.ndarray) and cards.ndim != 1:
            raise ValueError(f"cards must be one row, got an array of shape {cards.shape}")
        if not isinstance(cards, Sequence | np.ndarray) or isinstance(cards, bytes):
            raise ValueError(
                f"cards must be a string like 'AsKd' or a list of cards, got {cards!r}"
            )
        kinds = {isinstance(c, str) for c in cards}
        if len(kinds) > 1:
            raise ValueError(f"cards mix strings and ints in {list(cards)!r}; use one kind")
        out = []
        for c in cards:
            if isinstance(c, str):
                out.append(parse_card(c))
            elif isinstance(c, int | np.integer) and not isinstance(c, bool):
                if not 0 <= int(c) < NUM_CARDS:
                    raise ValueError(f"bad card {int(c)}: card ints are 0..51")
                out.append(int(c))
            else:
                raise ValueError(f"bad card {c!r}: expected a string like 'As' or an int 0..51")
        shown = " ".join(CARD_NAMES[c] for c in out) if len(out) == len(cards) else repr(cards)
    seen: set[int] = set()
    for c in out:
        if c in seen:
            raise ValueError(f"duplicate card {CARD_NAMES[c]!r} in {shown!r}")
        seen.add(c)
    if count is not None and len(out) != count:
        raise ValueError(f"expected {count} cards, got {len(out)} in {shown!r}")
    return np.asarray(out, dtype=np.int64)


def format_card(card: int) -> str:
    """``51 -> "As"``."""
    if not 0 <= int(card) < NUM_CARDS:
        raise ValueError(f"bad card {card}: card ints are 0..51")
    return CARD_NAMES[int(card)]


def format_cards(cards: Iterable[int], sep: str = "") -> str:
    """``[51, 45] -> "AsKd"`` (or ``"As Kd"`` with ``sep=" "``)."""
    return sep.join(format_card(int(c)) for c in cards)


def card_mask(cards: Iterable[int]) -> int:
    """52-bit integer with bit ``c`` set for every card ``c``.

    >>> card_mask(parse_cards("2c3c"))
    17
    """
    mask = 0
    for c in cards:
        mask |= 1 << int(c)
    return mask


def deal(
    gen: np.random.Generator, k: int, m: int, deck: npt.NDArray[np.uint8] | None = None
) -> npt.NDArray[np.uint8]:
    """``(k, m)``: the first ``k`` cards of ``m`` independent shuffles of ``deck`` (all 52 cards
    by default), by a partial Fisher-Yates shuffle vectorised over the ``m`` decks.

    >>> hands = deal(np.random.default_rng(0), 7, 1000)
    >>> hands.shape, bool((np.sort(hands, axis=0)[1:] != np.sort(hands, axis=0)[:-1]).all())
    ((7, 1000), True)
    """
    cards = np.arange(NUM_CARDS, dtype=np.uint8) if deck is None else deck.astype(np.uint8)
    r = cards.size
    shuffled = np.empty((r, m), np.uint8)
    shuffled[:] = cards[:, None]
    flat = shuffled.ravel()
    cols = np.arange(m)
    for i in range(k):  # swap position i with a uniform position in i..r-1
        j = gen.integers(i, r, size=m, dtype=np.uint8).astype(np.intp) * m + cols
        picked = flat[j]
        flat[j] = shuffled[i]
        shuffled[i] = picked
    return shuffled[:k]


def deal_unseen(
    gen: np.random.Generator, dead: npt.NDArray[np.bool_], k: int, repeats: int
) -> npt.NDArray[np.uint8]:
    """``(rows * repeats, 52)`` decks, ``repeats`` per row of ``dead`` ``(rows, 52)`` (the cards
    known there), whose first ``k`` cards are a uniform draw of that row's unseen cards (a partial
    Fisher-Yates shuffle per deck); the dead cards sit at the back.

    >>> dead = np.zeros((1, 52), bool); dead[0, :50] = True  # only cards 50 and 51 unseen
    >>> sorted(deal_unseen(np.random.default_rng(0), dead, 2, 3)[:, :2].tolist())[0]
    [50, 51]
    """
    order = np.argsort(dead, axis=1, kind="stable").astype(np.uint8)  # unseen cards first
    deck = np.repeat(order, repeats, axis=0)
    left = np.repeat(NUM_CARDS - dead.sum(axis=1), repeats)
    rows = deck.shape[0]
    flat = deck.ravel()
    base = np.arange(rows) * NUM_CARDS
    for i in range(k):
        j = base + i + (gen.random(rows) * (left - i)).astype(np.int64)
        picked = flat[j]
        flat[j] = deck[:, i]
        deck[:, i] = picked
    return deck
