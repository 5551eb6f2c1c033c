"""Independent Chip Model (Malmuth-Harville): tournament chips -> expected prize money.

Under Malmuth-Harville a player finishes first with probability proportional to their stack; given
who finished above, the next place is again proportional among the remaining stacks. The expected
prize of a player is the sum over places of P(place) x payout. Exact, by dynamic programming over
the subsets of players still in (``2**n`` states, fine up to about 16 players).

>>> icm_equity([50, 30, 20], [0.5, 0.3, 0.2]).round(4).tolist()
[0.3839, 0.3275, 0.2886]
>>> icm_equity([100, 100], [70, 30]).tolist()  # equal stacks split the prizes evenly
[50.0, 50.0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_PLAYERS = 16


def finish_probabilities(stacks: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``P[i, k]``: probability that player ``i`` finishes in place ``k`` (0 = first).

    Players with an empty stack take the last places, each of them with equal probability.
    """
    s = np.asarray(stacks, np.float64)
    if s.ndim != 1 or s.size < 1:
        raise ValueError("give one stack per player")
    if (s < 0).any() or not np.isfinite(s).all():
        raise ValueError("stacks must be finite and not negative")
    n = s.size
    if n > MAX_PLAYERS:
        raise ValueError(f"ICM is computed exactly for at most {MAX_PLAYERS} players, got {n}")
    alive = np.flatnonzero(s > 0)
    if alive.size == 0:
        raise ValueError("at least one stack must be positive")
    out = np.zeros((n, n))
    m = alive.size
    sub = s[alive]
    # prob[mask]: probability that the players in ``mask`` are exactly the ones not yet placed
    full = (1 << m) - 1
    prob = np.zeros(1 << m)
    prob[full] = 1.0
    members = [np.flatnonzero((mask >> np.arange(m)) & 1) for mask in range(1 << m)]
    for mask in range(full, 0, -1):  # supersets come before their subsets
        p = prob[mask]
        if p == 0.0:
            continue
        idx = members[mask]
        place = m - idx.size  # the place being decided now
        share = sub[idx] / sub[idx].sum()
        for j, q in zip(idx, share):
            out[alive[j], place] += p * q
            prob[mask & ~(1 << j)] += p * q
    busted = np.flatnonzero(s <= 0)
    if busted.size:  # the empty stacks share the last places evenly
        out[np.ix_(busted, np.arange(m, n))] = 1.0 / busted.size
    return out


def icm_equity(stacks: npt.ArrayLike, payouts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Expected prize of each player for ``stacks`` and ``payouts`` (first place first).

    Places beyond the payouts pay nothing; more payouts than players is an error.
    """
    s = np.asarray(stacks, np.float64)
    pay = np.asarray(payouts, np.float64)
    if pay.ndim != 1 or pay.size == 0:
        raise ValueError("give the payouts as a list, first place first")
    if (pay < 0).any():
        raise ValueError("payouts must not be negative")
    if pay.size > s.size:
        raise ValueError(f"{pay.size} payouts for {s.size} players")
    probs = finish_probabilities(s)
    return probs[:, : pay.size] @ pay
