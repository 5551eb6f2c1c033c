"""Starting hands, the 169 hand classes and range notation.

A two-card holding (a *combo*) is one of the 1,326 unordered pairs of cards; ``COMBOS[i]`` is its
two cards (higher card first). A *range* is a weight in ``[0, 1]`` for every combo. Range text is
the notation poker tools share:

* ``AA``, ``AKs`` (suited, 4 combos), ``AKo`` (offsuit, 12), ``AK`` (both, 16);
* ``TT+`` (tens or better), ``ATs+`` (ATs, AJs, AQs, AKs), ``KTo+``;
* spans ``A5s-A2s``, ``99-66``, ``KQo-KTo``;
* single combos ``AsKs``; ``random`` (or ``any``) for every combo;
* a weight after a colon, ``AKo:0.5``; tokens are separated by commas or spaces, and a later token
  overrides an earlier one for the combos they share.

>>> r = Range.parse("TT+, AKs, A5s-A2s, KQo:0.5")
>>> r.num_combos  # 5 pairs x 6 + 4 + 4 x 4 + 12 x 0.5
56.0
>>> len(HAND_CLASSES), HAND_CLASSES[:4]
(169, ('AA', 'AKs', 'AQs', 'AJs'))
>>> hand_class(*parse_cards("7h8h")), hand_class(*parse_cards("Kd9c"))
('87s', 'K9o')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gamelm.poker.cards import CARD_NAMES, RANKS, parse_cards

NUM_COMBOS = 1326

_low, _high = np.triu_indices(52, k=1)  # every pair of cards, _low < _high
COMBOS: npt.NDArray[np.int64] = np.stack([_high, _low], axis=1).astype(np.int64)  # (1326, 2)
_INDEX = np.full((52, 52), -1, np.int64)
_INDEX[COMBOS[:, 0], COMBOS[:, 1]] = np.arange(NUM_COMBOS)
_INDEX[COMBOS[:, 1], COMBOS[:, 0]] = np.arange(NUM_COMBOS)


def combo_index(c1: int | npt.ArrayLike, c2: int | npt.ArrayLike) -> int | npt.NDArray[np.int64]:
    """Index 0..1325 of the combo of two distinct cards (in either order)."""
    idx = _INDEX[c1, c2]
    if np.any(idx < 0):
        raise ValueError("a combo needs two different cards")
    return int(idx) if np.ndim(idx) == 0 else idx


def _class_name(hi_rank: int, lo_rank: int, suited: bool) -> str:
    if hi_rank == lo_rank:
        return RANKS[hi_rank] * 2
    return RANKS[hi_rank] + RANKS[lo_rank] + ("s" if suited else "o")


# The 13 x 13 grid read row by row from AA: pairs on the diagonal, suited above, offsuit below.
HAND_CLASSES: tuple[str, ...] = tuple(
    _class_name(max(i, j), min(i, j), j < i) for i in range(12, -1, -1) for j in range(12, -1, -1)
)
_CLASS_OF_COMBO = np.array(
    [HAND_CLASSES.index(_class_name(a // 4, b // 4, a % 4 == b % 4)) for a, b in COMBOS.tolist()],
    np.int64,
)
CLASS_COMBOS: dict[str, npt.NDArray[np.int64]] = {
    name: np.flatnonzero(_CLASS_OF_COMBO == k) for k, name in enumerate(HAND_CLASSES)
}


def hand_class(c1: int, c2: int) -> str:
    """The class (``"AKs"``, ``"T9o"``, ``"77"``) of two cards."""
    return HAND_CLASSES[int(_CLASS_OF_COMBO[combo_index(c1, c2)])]


def class_of_combos(combos: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Class index 0..168 (into `HAND_CLASSES`) of each combo index."""
    return _CLASS_OF_COMBO[np.asarray(combos)]


_TOKEN = re.compile(
    r"^(?P<a>[2-9TJQKA])(?P<b>[2-9TJQKA])(?P<s>[so]?)(?P<plus>\+?)"
    r"(?:-(?P<c>[2-9TJQKA])(?P<d>[2-9TJQKA])(?P<s2>[so]?))?$"
)


def _classes_of_token(tok: str) -> list[str]:
    """Hand-class names meant by one range token (without weight)."""
    m = _TOKEN.match(tok.upper().replace("S", "s").replace("O", "o"))
    if not m:
        raise ValueError("expected a class like 'AKs', 'TT+', 'A5s-A2s' or a combo like 'AsKs'")
    a, b = RANKS.index(m["a"]), RANKS.index(m["b"])
    suit = m["s"]
    if m["c"]:
        if m["plus"]:
            raise ValueError("a span cannot also have '+'")
        c, d = RANKS.index(m["c"]), RANKS.index(m["d"])
        if (m["s2"] or "") != suit:
            raise ValueError("both ends of a span must be suited, offsuit or pairs alike")
        if a == b:  # pair span: 99-66
            if c != d:
                raise ValueError("a span of pairs joins two pairs, like '99-66'")
            return [RANKS[r] * 2 for r in range(min(a, c), max(a, c) + 1)]
        if a != c:
            raise ValueError("a span keeps its first card, like 'A5s-A2s' or 'KQo-KTo'")
        lo, hi = sorted((b, d))
        if hi >= a:
            raise ValueError("the second card must be lower than the first")
        ranks = range(lo, hi + 1)
        return [x for r in ranks for x in _suit_variants(a, r, suit)]
    if a == b:
        if suit:
            raise ValueError("a pair cannot be suited or offsuit")
        top = 12 if m["plus"] else a
        return [RANKS[r] * 2 for r in range(a, top + 1)]
    if b > a:
        a, b = b, a
    top = a - 1 if m["plus"] else b  # ATs+ raises the kicker up to AKs
    return [x for r in range(b, top + 1) for x in _suit_variants(a, r, suit)]


def _suit_variants(hi: int, lo: int, suit: str) -> list[str]:
    if suit:
        return [_class_name(hi, lo, suit == "s")]
    return [_class_name(hi, lo, True), _class_name(hi, lo, False)]


@dataclass(frozen=True)
class Range:
    """A weight in ``[0, 1]`` for each of the 1,326 combos."""

    weights: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, np.float64)
        if w.shape != (NUM_COMBOS,):
            raise ValueError(f"a range has {NUM_COMBOS} weights, got shape {w.shape}")
        if (w < 0).any() or (w > 1).any() or not np.isfinite(w).all():
            raise ValueError("range weights must be in [0, 1]")
        object.__setattr__(self, "weights", w)

    @classmethod
    def parse(cls, text: str) -> Range:
        """Parse range notation (see the module docstring); ``ValueError`` names a bad token."""
        if not isinstance(text, str):
            raise ValueError(f"a range is text like 'AA, AKs', got {text!r}")
        w = np.zeros(NUM_COMBOS)
        tokens = [t for t in re.split(r"[,\s]+", text.strip()) if t]
        if not tokens:
            raise ValueError("empty range")
        for tok in tokens:
            body, _, weight_text = tok.partition(":")
            try:
                weight = float(weight_text) if weight_text else 1.0
            except ValueError:
                raise ValueError(f"bad weight in range token {tok!r} of {text!r}") from None
            if not 0 <= weight <= 1:
                raise ValueError(f"range weight must be in [0, 1], got {tok!r} in {text!r}")
            w[cls._combos_of(body, tok, text)] = weight
        return cls(w)

    @staticmethod
    def _combos_of(body: str, tok: str, text: str) -> npt.NDArray[np.int64]:
        if body.lower() in ("random", "any", "100%"):
            return np.arange(NUM_COMBOS)
        if len(body) == 4 and body[1] in "cdhs" and body[3] in "cdhs":
            try:
                c1, c2 = parse_cards(body)
            except ValueError as exc:
                raise ValueError(f"bad combo {tok!r} in range {text!r}: {exc}") from None
            return np.array([combo_index(int(c1), int(c2))])
        try:
            names = _classes_of_token(body)
        except ValueError as exc:
            raise ValueError(f"bad range token {tok!r} in {text!r}: {exc}") from None
        return np.concatenate([CLASS_COMBOS[n] for n in names])

    @classmethod
    def of_hand(cls, cards: str | npt.ArrayLike) -> Range:
        """The range holding exactly one two-card hand."""
        c = parse_cards(cards)
        if c.size != 2:
            raise ValueError(f"a hand has two cards, got {c.size}")
        w = np.zeros(NUM_COMBOS)
        w[combo_index(int(c[0]), int(c[1]))] = 1.0
        return cls(w)

    @classmethod
    def everything(cls) -> Range:
        return cls(np.ones(NUM_COMBOS))

    @property
    def num_combos(self) -> float:
        """Sum of weights (``AKs`` is 4.0, ``AK`` 16.0)."""
        return float(self.weights.sum())

    def without(self, dead: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The weights with every combo that holds a card of ``dead`` set to zero."""
        dead_cards = np.asarray(dead, np.int64).ravel()
        w = self.weights.copy()
        if dead_cards.size:
            blocked = np.isin(COMBOS, dead_cards).any(axis=1)
            w[blocked] = 0.0
        return w

    def class_weights(self) -> dict[str, float]:
        """Mean weight of each hand class that appears in the range."""
        out = {}
        for name, idx in CLASS_COMBOS.items():
            mean = float(self.weights[idx].mean())
            if mean > 0:
                out[name] = mean
        return out

    def __str__(self) -> str:
        parts = []
        for name, mean in self.class_weights().items():
            idx = CLASS_COMBOS[name]
            if np.all(self.weights[idx] == mean):
                parts.append(name if mean == 1 else f"{name}:{mean:g}")
            else:
                parts += [
                    f"{CARD_NAMES[COMBOS[i, 0]]}{CARD_NAMES[COMBOS[i, 1]]}:{self.weights[i]:g}"
                    for i in idx
                    if self.weights[i] > 0
                ]
        return ", ".join(parts)
