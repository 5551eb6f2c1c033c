"""A two-player zero-sum game compiled into sequence form: flat arrays the solvers sweep.

Each player's information sets are numbered level by level (level = how many of their own
actions come before the set) so that every level is a contiguous slice. A *sequence* is an
(information set, action) pair, numbered ``1 + infoset * K + action`` (``K`` = the game's
number of distinct actions; sequence 0 is the empty sequence). The game's payoffs become one
sparse matrix ``A`` (Koller, Megiddo and von Stengel 1994): ``A[s0, s1]`` sums, over the terminal
histories that player 0 reaches by sequence ``s0`` and player 1 by ``s1``, the chance
probability times player 0's winnings. With realization plans ``x`` and ``y`` (the product of a
player's own action probabilities along each sequence), ``A @ y`` is player 0's counterfactual
value of every sequence and ``x @ A @ y`` the value of the game, so a CFR iteration or a best
response is a few vector operations per level instead of a walk over every history.

>>> from gamelm.games import load_game
>>> sf = SequenceForm.from_game(load_game("kuhn"))
>>> [t.num_infosets for t in sf.players], sf.payoff.shape
([6, 6], (13, 13))
>>> uniform = [t.uniform() for t in sf.players]
>>> round(sf.value(uniform), 6)  # player 0's expected winnings when both play uniformly
0.125
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from gamelm.games.base import CHANCE, Game, GameState

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Strategy = Mapping[str, Sequence[float]]


@dataclass
class PlayerTree:
    """One player's information sets in level order, their legal actions and parent sequences."""

    keys: list[str]
    legal: BoolArray  # (n, K)
    parent: IntArray  # (n,) the sequence that leads to each information set (0 = empty)
    levels: list[tuple[int, int]]  # [lo, hi) infoset slices, shallowest first
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {k: i for i, k in enumerate(self.keys)}
        self._uniform = self.legal / self.legal.sum(1, keepdims=True)
        # ancestors[s]: the sequences on the path to sequence s (itself included), as indices
        # into [1.0, sigma.ravel()...]; padded with 0, which reads 1.0
        k = self.num_actions
        chains: list[list[int]] = [[]]
        for i in range(self.num_infosets):
            up = chains[int(self.parent[i])]
            chains.extend([*up, 1 + i * k + a] for a in range(k))
        width = max(1, max(len(c) for c in chains))
        self._ancestors = np.zeros((width, len(chains)), dtype=np.int64)
        for s, chain in enumerate(chains):
            self._ancestors[: len(chain), s] = chain
        self._ext = np.ones(self.num_sequences)
        # per level: the infoset slice, its parents as offsets into the level above's flat
        # sequence block (starting at `base` in out.reshape(-1)) and that block's size
        self._sweep: list[tuple[int, int, IntArray, int, int]] = []
        for depth, (lo, hi) in enumerate(self.levels):
            if depth == 0:
                self._sweep.append((lo, hi, self.parent[lo:hi], 0, 0))
            else:
                plo, phi = self.levels[depth - 1]
                base = plo * k
                self._sweep.append((lo, hi, self.parent[lo:hi] - 1 - base, base, (phi - plo) * k))

    @property
    def num_infosets(self) -> int:
        return len(self.keys)

    @property
    def num_actions(self) -> int:
        return self.legal.shape[1]

    @property
    def num_sequences(self) -> int:
        return 1 + self.legal.size

    def uniform(self) -> FloatArray:
        """The uniform random behaviour strategy, (n, K), zero on illegal actions."""
        return self._uniform.copy()

    def realization(self, sigma: FloatArray) -> FloatArray:
        """Realization plan (num_sequences,) of behaviour strategy ``sigma`` (n, K)."""
        self._ext[1:] = sigma.ravel()
        x = self._ext[self._ancestors[0]]
        for row in self._ancestors[1:]:
            x *= self._ext[row]
        return x

    def values(
        self, cf: FloatArray, sigma: FloatArray | None, out: FloatArray
    ) -> tuple[FloatArray, float]:
        """Counterfactual values from the sequences' own payoffs ``cf`` (num_sequences,).

        Fills ``out`` (n, K) with each action's value (its payoff plus the values of the
        information sets it leads to) and returns the information sets' values (n,) under
        ``sigma``, or under a best response when ``sigma`` is None, and the root's value.
        """
        flat = out.reshape(-1)  # flat[s - 1] is sequence s
        flat[:] = cf[1:]
        set_values = np.empty(self.num_infosets)
        root = float(cf[0])
        for lo, hi, parents, base, size in reversed(self._sweep):
            v = out[lo:hi]
            if sigma is None:
                vs = np.where(self.legal[lo:hi], v, -np.inf).max(1)
            else:
                vs = (sigma[lo:hi] * v).sum(1)
            set_values[lo:hi] = vs
            if size == 0:
                root += float(vs.sum())
            else:
                flat[base : base + size] += np.bincount(parents, vs, minlength=size)
        return set_values, root

    def to_arrays(self, strategy: Strategy) -> FloatArray:
        """A behaviour-strategy array (n, K) from ``{information state: probabilities}``."""
        sigma = np.zeros(self.legal.shape)
        for i, key in enumerate(self.keys):
            try:
                probs = np.asarray(strategy[key], dtype=np.float64)
            except KeyError:
                raise ValueError(
                    f"the strategy has no entry for information state {key!r}"
                ) from None
            if probs.shape != (self.num_actions,):
                raise ValueError(
                    f"the strategy for {key!r} has {probs.size} probabilities; "
                    f"expected {self.num_actions}, one per action id"
                )
            sigma[i] = np.where(self.legal[i], probs, 0.0)
            total = sigma[i].sum()
            if not total > 0:
                raise ValueError(f"the strategy for {key!r} puts no weight on a legal action")
            sigma[i] /= total
        return sigma

    def to_dict(self, sigma: FloatArray) -> dict[str, list[float]]:
        return {key: sigma[i].tolist() for i, key in enumerate(self.keys)}


@dataclass
class SequenceForm:
    game_name: str
    players: tuple[PlayerTree, PlayerTree]
    payoff: sp.csr_matrix  # (S0, S1): chance probability x player 0's winnings
    payoff_1: sp.csr_matrix = field(init=False)  # (S1, S0): the same for player 1

    def __post_init__(self) -> None:
        self.payoff_1 = (-self.payoff.T).tocsr()

    @classmethod
    def from_game(cls, game: Game) -> SequenceForm:
        """Walk the whole tree of a two-player zero-sum game once and compile it."""
        if game.num_players != 2:
            raise ValueError("sequence form needs a two-player game")
        k = game.num_distinct_actions
        found: list[dict[str, tuple[int, int, list[int]]]] = [{}, {}]  # key -> (id, parent, legal)
        depth_of: list[list[int]] = [[], []]
        entries: dict[tuple[int, int], float] = {}

        def walk(state: GameState, prob: float, seqs: tuple[int, int], depth: tuple[int, int]):
            if state.is_terminal():
                key = seqs
                entries[key] = entries.get(key, 0.0) + prob * state.returns()[0]
                return
            p = state.current_player()
            if p == CHANCE:
                for a, pa in state.chance_outcomes():
                    walk(state.child(a), prob * pa, seqs, depth)
                return
            info = state.information_state_string(p)
            legal = state.legal_actions()
            if info not in found[p]:
                found[p][info] = (len(found[p]), seqs[p], legal)
                depth_of[p].append(depth[p])
            node, parent, _ = found[p][info]
            if parent != seqs[p]:
                raise ValueError(f"{game.name} does not have perfect recall at {info!r}")
            for a in legal:
                s = 1 + node * k + a
                nseqs = (s, seqs[1]) if p == 0 else (seqs[0], s)
                ndepth = (depth[0] + 1, depth[1]) if p == 0 else (depth[0], depth[1] + 1)
                walk(state.child(a), prob, nseqs, ndepth)

        walk(game.initial_state(), 1.0, (0, 0), (0, 0))

        trees = []
        remaps = []
        for p in (0, 1):
            items = sorted(found[p].items(), key=lambda kv: kv[1][0])
            order = np.argsort(np.asarray(depth_of[p]), kind="stable")  # new -> old
            new_of_old = np.empty(len(order), dtype=np.int64)
            new_of_old[order] = np.arange(len(order))
            seq_map = np.zeros(1 + len(order) * k, dtype=np.int64)
            for old in range(len(order)):
                seq_map[1 + old * k : 1 + (old + 1) * k] = 1 + new_of_old[old] * k + np.arange(k)
            keys = [items[o][0] for o in order]
            legal = np.zeros((len(order), k), dtype=bool)
            parent = np.empty(len(order), dtype=np.int64)
            for new, old in enumerate(order):
                _, par, acts = items[old][1]
                legal[new, acts] = True
                parent[new] = seq_map[par]
            depths = np.sort(np.asarray(depth_of[p]))
            levels = []
            for d in range(int(depths.max()) + 1 if len(depths) else 0):
                lo, hi = np.searchsorted(depths, d), np.searchsorted(depths, d, side="right")
                levels.append((int(lo), int(hi)))
            trees.append(PlayerTree(keys, legal, parent, levels))
            remaps.append(seq_map)

        rows = np.fromiter((remaps[0][s0] for s0, _ in entries), dtype=np.int64, count=len(entries))
        cols = np.fromiter((remaps[1][s1] for _, s1 in entries), dtype=np.int64, count=len(entries))
        vals = np.fromiter(entries.values(), dtype=np.float64, count=len(entries))
        shape = (trees[0].num_sequences, trees[1].num_sequences)
        payoff = sp.csr_matrix((vals, (rows, cols)), shape=shape)
        return cls(game.name, (trees[0], trees[1]), payoff)

    def counterfactual(self, player: int, opponent_plan: FloatArray) -> FloatArray:
        """Each of `player`'s sequences' own payoff against the opponent's realization plan."""
        m = self.payoff if player == 0 else self.payoff_1
        return m @ opponent_plan

    def value(self, sigmas: Sequence[FloatArray]) -> float:
        """Player 0's expected winnings when both play the given behaviour strategies."""
        x = self.players[0].realization(sigmas[0])
        y = self.players[1].realization(sigmas[1])
        return float(x @ (self.payoff @ y))

    def to_arrays(self, strategy: Strategy) -> tuple[FloatArray, FloatArray]:
        return self.players[0].to_arrays(strategy), self.players[1].to_arrays(strategy)

    def to_dict(self, sigmas: Sequence[FloatArray]) -> dict[str, list[float]]:
        return {**self.players[0].to_dict(sigmas[0]), **self.players[1].to_dict(sigmas[1])}
