"""An agent's preflop strategy as the 13x13 grid of hand classes.

For a position, every one of the 169 hand classes is dealt to that seat (one combo per class)
at the first decision when everyone before it has folded; the big blind's decision is after
the small blind completes. The grid holds the agent's probability of folding, calling (or
checking) and raising there: its policy's when it has one, otherwise the frequencies of
repeated draws of its `act`.

>>> from gamelm.agents.registry import make_agent
>>> grid = preflop_grid(make_agent("calling-station"), "BTN", seats=6)
>>> grid.classes[0], float(grid.call[0]), float(grid.fold.sum())
('AA', 1.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, observe, policy
from gamelm.agents.observation import ActionHistory
from gamelm.evaluation.report import save_figure
from gamelm.poker.abstraction import CALL_ID, FOLD_ID, ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.poker.positions import position_names
from gamelm.poker.ranges import CLASS_COMBOS, COMBOS, HAND_CLASSES

BIG_BLIND = 2


@dataclass(frozen=True)
class PreflopGrid:
    """Fold, call and raise probabilities of each hand class (`HAND_CLASSES` order)."""

    agent: str
    position: str
    seats: int
    stack_bb: int
    classes: tuple[str, ...]
    fold: npt.NDArray[np.float64]
    call: npt.NDArray[np.float64]
    raise_: npt.NDArray[np.float64]

    def to_json(self) -> dict:
        return {
            "agent": self.agent,
            "position": self.position,
            "seats": self.seats,
            "stack_bb": self.stack_bb,
            "classes": list(self.classes),
            "fold": self.fold.round(4).tolist(),
            "call": self.call.round(4).tolist(),
            "raise": self.raise_.round(4).tolist(),
            "play_share": self.combo_share(self.call + self.raise_),
            "raise_share": self.combo_share(self.raise_),
        }

    def combo_share(self, p: npt.NDArray[np.float64]) -> float:
        """The share of all 1,326 combos played with probability ``p`` (a range's width)."""
        weights = np.array([CLASS_COMBOS[c].size for c in self.classes], np.float64)
        return round(float((p * weights).sum() / weights.sum()), 4)


def preflop_grid(
    agent: Agent,
    position: str,
    seats: int = 2,
    stack_bb: int = 100,
    fractions: tuple[float, ...] = (0.5, 1.0),
    seed: int = 0,
) -> PreflopGrid:
    """The 13x13 preflop grid of ``agent`` at ``position`` (a name of `position_names`)."""
    names = position_names(seats)
    aliases = {"BTN": "SB/BTN", "SB": "SB/BTN"} if seats == 2 else {}
    position = aliases.get(position.upper(), position.upper())
    if position not in names:
        raise ValueError(
            f"{position!r} is not a position at a {seats}-seat table: {', '.join(names)}"
        )
    hero = names.index(position)
    m = len(HAND_CLASSES)
    rng = np.random.default_rng(seed)
    hole = np.zeros((m, seats, 2), np.int64)
    board = np.zeros((m, 5), np.int64)
    for t, name in enumerate(HAND_CLASSES):
        pick = COMBOS[CLASS_COMBOS[name][-1]]
        rest = rng.permutation(np.setdiff1d(np.arange(52), pick))
        others = iter(rest.tolist())
        for s in range(seats):
            hole[t, s] = pick if s == hero else (next(others), next(others))
        board[t] = [next(others) for _ in range(5)]
    eng = BatchEngine(m, seats, BIG_BLIND // 2, BIG_BLIND, starting_stacks=stack_bb * BIG_BLIND)
    eng.reset(hole=hole, board=board)
    menu = ActionAbstraction(fractions)
    hist = ActionHistory(m, seats)
    hist.reset(np.arange(m))
    tables = np.arange(m)
    small_blind = 1 if seats == 2 else 0
    while int(eng.actor[0]) != hero:
        obs = observe(eng, menu, tables, history=hist)
        completes = position == "BB" and int(eng.actor[0]) == small_blind
        ids = np.full(m, CALL_ID if completes else FOLD_ID)
        hist.record(obs, ids)
        menu.step(eng, ids)
    obs = observe(eng, menu, tables, history=hist)
    _, p, _ = policy(agent, obs, rng, play=False)
    return PreflopGrid(
        agent=getattr(agent, "name", "agent"),
        position=position,
        seats=seats,
        stack_bb=stack_bb,
        classes=HAND_CLASSES,
        fold=p[:, FOLD_ID],
        call=p[:, CALL_ID],
        raise_=p[:, 2:].sum(axis=1),
    )


def plot_grid(grid: PreflopGrid, path: str | Path) -> None:
    """A PNG of the grid: each cell split into raise (red), call (green) and fold (blue) bars
    by probability, with the class name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 9.6))
    colours = (("raise", "#d9534f"), ("call", "#5cb85c"), ("fold", "#6f8fbf"))
    for k, name in enumerate(grid.classes):
        row, col = divmod(k, 13)
        x, y = col, 12 - row
        left = 0.0
        for part, colour in colours:
            share = float({"raise": grid.raise_, "call": grid.call, "fold": grid.fold}[part][k])
            ax.add_patch(plt.Rectangle((x + left, y), share, 1, color=colour, lw=0))
            left += share
        ax.add_patch(plt.Rectangle((x, y), 1, 1, fill=False, edgecolor="white", lw=1.2))
        ax.text(x + 0.5, y + 0.5, name, ha="center", va="center", fontsize=8, color="black")
    ax.set_xlim(0, 13)
    ax.set_ylim(0, 13)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"{grid.agent} at {grid.position} ({grid.seats} seats, {grid.stack_bb} bb): "
        f"plays {grid.combo_share(grid.call + grid.raise_):.0%} of hands, "
        f"raises {grid.combo_share(grid.raise_):.0%}\nred raise, green call/check, blue fold"
    )
    save_figure(fig, Path(path))
