"""Position names of the seats of a table (seat P-1 is the button, as in `gamelm.poker.rules`).

>>> position_names(6)
('SB', 'BB', 'UTG', 'HJ', 'CO', 'BTN')
>>> position_names(2)
('BB', 'SB/BTN')
"""

from __future__ import annotations

from functools import cache

from gamelm.poker.rules import check_seats


@cache
def position_names(seats: int) -> tuple[str, ...]:
    """SB, BB, UTG ... CO, BTN (heads-up: BB and SB/BTN)."""
    check_seats(seats)
    if seats == 2:
        return ("BB", "SB/BTN")
    k = seats - 3  # seats between the big blind and the button
    tail = ["LJ", "HJ", "CO"][3 - min(max(k - 1, 0), 3) :] if k > 1 else []
    head = ["UTG"] + [f"UTG+{i}" for i in range(1, 8)]
    return ("SB", "BB", *head[: k - len(tail)], *tail, "BTN")


@cache
def seats_to_act_after(seats: int) -> tuple[int, ...]:
    """Per seat, how many seats act after it postflop (0 for the button: best position)."""
    if seats == 2:
        return (1, 0)
    return tuple(seats - 1 - s for s in range(seats))
