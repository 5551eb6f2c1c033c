"""Random hand set-ups and random legal actions shared by the differential tests."""

from __future__ import annotations

import numpy as np


def random_setup(rng: np.random.Generator, min_seats: int = 2, max_seats: int = 9):
    """Seats, blinds, ante, uneven stacks (often short, to force all-ins and side pots), cards."""
    n = int(rng.integers(min_seats, max_seats + 1))
    bb = int(rng.choice([2, 2, 2, 10, 100]))
    sb = max(1, bb // 2) if rng.random() < 0.8 else int(rng.integers(1, bb + 1))
    ante = 0 if rng.random() < 0.6 else int(rng.integers(1, bb + 1))
    kind = rng.random()
    if kind < 0.3:
        stacks = rng.integers(1, 6 * bb, size=n)  # very short: all-ins from blinds and antes
    elif kind < 0.7:
        stacks = rng.integers(bb, 60 * bb, size=n)
    else:
        stacks = rng.integers(20 * bb, 200 * bb, size=n)
    cards = rng.permutation(52)[: 2 * n + 5]
    return n, sb, bb, ante, [int(s) for s in stacks], cards[: 2 * n], cards[2 * n :]


def random_choice(rng: np.random.Generator, can_fold, can_raise, min_to, max_to):
    """('fold'|'call'|'raise', amount): a mix of min-raises, all-ins and sizes in between."""
    u = rng.random()
    if can_fold and u < 0.2:
        return "fold", 0
    if can_raise and u > 0.55:
        v = rng.random()
        if v < 0.3 or min_to == max_to:
            return "raise", int(min_to)
        if v < 0.6:
            return "raise", int(max_to)
        return "raise", int(rng.integers(min_to, max_to + 1))
    return "call", 0
