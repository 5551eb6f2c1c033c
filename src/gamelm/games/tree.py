"""A two-player betting tree as arrays, plus a deal sampler: the representation that
`gamelm.solvers.mccfr` sweeps. The betting (the tree) is the same for every deal; the cards
enter only as each player's bucket on each street and the showdown result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# sample(batch, rng) -> (buckets (batch, 2 players, streets), showdown result (batch,): +1 when
# player 0 wins at showdown, -1 when player 1 does, 0 for a split)
Sampler = Callable[[int, np.random.Generator], tuple[IntArray, FloatArray]]


@dataclass
class Tree:
    """A two-player betting tree in breadth-first order (children after parents).

    ``player[n]`` acts at decision node ``n`` (-1 at a terminal); ``children[n, a]`` is the
    node after action ``a`` or -1 where ``a`` is not in the abstraction. A terminal is a fold
    (``fold_payoff[n]``: player 0's winnings) or a showdown (``stake[n]``: what the better hand
    wins from the other).
    """

    player: IntArray
    street: IntArray
    children: IntArray
    fold_payoff: FloatArray
    stake: FloatArray
    showdown: BoolArray
    num_buckets: tuple[int, ...]  # per street
    action_names: tuple[str, ...]
    levels: list[tuple[int, int]] = field(init=False)
    decision: IntArray = field(init=False)  # decision node ids
    row_offset: IntArray = field(init=False)  # (N,) first table row of each decision node
    num_rows: int = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.player)
        depth = np.zeros(n, np.int64)
        for node in range(n):
            kids = self.children[node][self.children[node] >= 0]
            if kids.size and kids.min() <= node:
                raise ValueError("tree nodes must be in breadth-first order")
            depth[kids] = depth[node] + 1
        if np.any(np.diff(depth) < 0):
            raise ValueError("tree nodes must be in breadth-first order")
        self.levels = [
            (int(np.searchsorted(depth, d)), int(np.searchsorted(depth, d, side="right")))
            for d in range(int(depth.max()) + 1)
        ]
        self.decision = np.flatnonzero(self.player >= 0)
        sizes = np.where(self.player >= 0, np.asarray(self.num_buckets)[self.street], 0)
        self.row_offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.num_rows = int(sizes.sum())

    @classmethod
    def from_lists(
        cls,
        player: list[int],
        street: list[int],
        children: list[list[int]],
        fold_payoff: list[float],
        stake: list[float],
        showdown: list[bool],
        num_buckets: tuple[int, ...],
        action_names: tuple[str, ...],
    ) -> Tree:
        """A tree from per-node lists, as the builders collect them breadth first."""
        return cls(
            player=np.asarray(player, np.int64),
            street=np.asarray(street, np.int64),
            children=np.asarray(children, np.int64),
            fold_payoff=np.asarray(fold_payoff, np.float64),
            stake=np.asarray(stake, np.float64),
            showdown=np.asarray(showdown, bool),
            num_buckets=num_buckets,
            action_names=action_names,
        )

    @property
    def num_nodes(self) -> int:
        return len(self.player)

    @property
    def num_actions(self) -> int:
        return self.children.shape[1]

    @property
    def legal(self) -> BoolArray:
        return self.children >= 0


@dataclass
class TreeGame:
    tree: Tree
    sample: Sampler
    name: str = "tree game"
