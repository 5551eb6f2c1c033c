"""The poker LM's vocabulary: every token a decision can be written in (see
`gamelm.agents.observation` for how an observation becomes these tokens)."""

from __future__ import annotations

from gamelm.poker.cards import CARD_NAMES
from gamelm.poker.positions import position_names
from gamelm.poker.rules import MAX_SEATS, MIN_SEATS

MAX_RAISES = 8  # raise entries a menu may have besides all-in (tokens r1..r8)
STREETS = ("preflop", "flop", "turn", "river")
STACK_BUCKETS = 16  # log2 buckets of big blinds: 0 is under 1 bb, 15 is 8,192 bb or more
PRICE_BUCKETS = 10  # tenths of the price (to_call / (pot + to_call))
FEATURE_BUCKETS = 5  # opponent features (fractions) in fifths
FEATURES = ("vpip", "pfr", "af")  # opponent-model features put in the tokens, in this order
STRENGTH_BUCKETS = 10  # tenths of the hand's equity against the live opponents' random hands

HEAD_TOKENS = 5  # <bos>, players, position, two hole cards: the start of every sequence
TABLE_SIZES = range(MIN_SEATS, MAX_SEATS + 1)
POSITIONS = tuple(dict.fromkeys(name for p in TABLE_SIZES for name in position_names(p)))
ACTIONS = ("fold", "check", "call", *(f"r{i}" for i in range(1, MAX_RAISES + 1)), "allin")


def _vocabulary() -> tuple[str, ...]:
    words = ["<pad>", "<bos>", "<eos>", "<unk>"]
    words += [f"players:{p}" for p in TABLE_SIZES]
    words += [f"@{name}" for name in POSITIONS]
    words += list(CARD_NAMES)
    words += list(STREETS)
    words += list(ACTIONS)
    words += [f"{name}:{action}" for name in POSITIONS for action in ACTIONS]
    words += [f"stack:{i}" for i in range(STACK_BUCKETS)]
    words += [f"pot:{i}" for i in range(STACK_BUCKETS)]
    words += [f"price:{i}" for i in range(PRICE_BUCKETS)]
    words += [f"{f}:{i}" for f in FEATURES for i in range(FEATURE_BUCKETS)]
    words += [f"strength:{i}" for i in range(STRENGTH_BUCKETS)]  # last: older models lack them
    return tuple(words)


VOCAB: tuple[str, ...] = _vocabulary()
TOKEN: dict[str, int] = {w: i for i, w in enumerate(VOCAB)}
PAD, BOS = TOKEN["<pad>"], TOKEN["<bos>"]
