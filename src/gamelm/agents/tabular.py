"""``blueprint:PATH``: an agent that plays the average strategy of a hold'em blueprint
(`gamelm.solvers.blueprint`).

At each decision the agent follows the hand through the blueprint's betting tree from the public
history the match keeps (`gamelm.agents.observation.ActionHistory`): folds and calls map to
themselves; a raise of pot fraction ``x`` that the tree does not have at that node is *translated*
to one of its two neighbours ``A < x < B`` among the tree's raise sizes there (all-in counted as its
pot fraction) by the pseudo-harmonic mapping of Ganzfried and Sandholm (2013, "Action Translation
in Extensive-Form Games with Large Action Spaces"): ``A`` with probability
``(B - x)(1 + A) / ((B - A)(1 + x))``, else ``B`` (below the smallest size: the smallest; above the
largest: the largest). The draw is a hash of the table, the position in the hand and the cards, so
one hand is translated the same way at every later decision. The agent's own raises map to the
nearest size of the match's menu. The card bucket of the decision is computed as in training
(`gamelm.games.holdem.CardAbstraction`), and the action is drawn from the average strategy of that
(node, bucket) information set.

When the hand has left the tree (the translated line ended in the tree but goes on at the table,
for example a raise mapped to an all-in that was then called for less), the agent falls back to
pot odds: it calls when its Monte Carlo equity beats the price, raises a pot with 80% or more, and
otherwise checks or folds. `BlueprintAgent.off_tree` counts those decisions.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Observation, pick_legal, raise_entry
from gamelm.agents.observation import acted_tokens, nearest_fraction
from gamelm.models.vocab import ACTIONS, TOKEN
from gamelm.poker.abstraction import CALL_ID, FOLD_ID
from gamelm.solvers.blueprint import Blueprint

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_STREET_TOKENS = {TOKEN[s] for s in ("preflop", "flop", "turn", "river")}
_RAISE = {f"r{i}": i - 1 for i in range(1, 9)}


def pseudo_harmonic(x: float, a: float, b: float) -> float:
    """Probability of mapping a bet of ``x`` pots to the smaller size ``a`` (``a <= x <= b``).

    >>> round(pseudo_harmonic(0.75, 0.5, 1.0), 4)
    0.4286
    >>> pseudo_harmonic(0.5, 0.5, 1.0), pseudo_harmonic(1.0, 0.5, 1.0)
    (1.0, 0.0)
    """
    return (b - x) * (1 + a) / ((b - a) * (1 + x))


class BlueprintAgent:
    """Plays a blueprint's average strategy heads-up, translating off-tree bets."""

    def __init__(self, blueprint: Blueprint, name: str = "blueprint") -> None:
        self.name = name
        self.blueprint = blueprint
        self.ht = blueprint.holdem_tree
        self.tree = blueprint.tree_game.tree
        self.cards = blueprint.cards
        self.fractions = blueprint.config.fractions
        self.strategy = blueprint.average_strategy_t().T.copy()  # (rows, actions)
        self.all_in_id = self.ht.abstraction.menu.all_in_id
        self.off_tree = 0
        self.decisions = 0
        # the tree action behind each of our raises, by table and public history, so that a
        # later decision reads our own raise back exactly even when two tree sizes map to one
        # menu entry of the match
        self._played: dict[tuple[int, int, int], int] = {}
        acted = acted_tokens(2)
        self._acted = {
            int(acted[s, k]): (s, ACTIONS[k]) for s in range(2) for k in range(len(ACTIONS))
        }

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> BlueprintAgent:
        return cls(Blueprint.load(path), name or f"blueprint:{path}")

    # -- following the hand through the tree ----------------------------------------------------

    def _raise_options(self, node: int) -> list[tuple[float, int]]:
        """(pot fraction, menu id) of the raises the tree has at ``node``, smallest first."""
        kids = self.tree.children[node]
        opts = [(f, 2 + j) for j, f in enumerate(self.fractions) if kids[2 + j] >= 0]
        if kids[self.all_in_id] >= 0:
            pac = max(int(self.ht.pot_after_call[node]), 1)
            f_all = (int(self.ht.all_in_to[node]) - int(self.ht.max_bet[node])) / pac
            opts.append((max(f_all, opts[-1][0] + 1e-6 if opts else f_all), self.all_in_id))
        return opts

    def _translate(self, node: int, x: float, own: bool, u: float) -> int:
        opts = self._raise_options(node)
        if not opts:
            return CALL_ID
        sizes = [f for f, _ in opts]
        if own:
            return opts[int(nearest_fraction([x], tuple(sizes))[0])][1]
        if x <= sizes[0]:
            return opts[0][1]
        if x >= sizes[-1]:
            return opts[-1][1]
        k = int(np.searchsorted(sizes, x))
        a, b = sizes[k - 1], sizes[k]
        return opts[k - 1][1] if u < pseudo_harmonic(x, a, b) else opts[k][1]

    @staticmethod
    def _public_key(table: int, prefix: list[int]) -> tuple[int, int, int]:
        """Where our raise sits: the table, the history position and a hash of the history
        before it (public, so a hypothetical hand on the same history, as LBR asks about,
        finds the raise the real hand made)."""
        return table, len(prefix), zlib.crc32(np.asarray(prefix, np.int64).tobytes())

    @staticmethod
    def _seed(obs: Observation, row: int) -> int:
        return zlib.crc32(np.asarray([obs.tables[row], *obs.hole[row]], np.int64).tobytes())

    def _node(self, obs: Observation, row: int) -> int:
        """The tree node of this decision, or -1 when the hand has left the tree."""
        if obs.history is None or obs.history_len is None:
            raise ValueError("the blueprint agent needs the public history the match keeps")
        menu_fracs = getattr(obs.menu, "fractions", self.fractions)
        tokens = obs.history[row, : int(obs.history_len[row])].tolist()
        seed = self._seed(obs, row)
        table = int(obs.tables[row])
        node = 0
        for pos, tok in enumerate(tokens):
            acted = self._acted.get(tok)
            if acted is None:
                continue  # street markers and cards
            seat, action = acted
            if self.tree.player[node] != seat:
                return -1
            if action == "fold":
                a = FOLD_ID
            elif action in ("check", "call"):
                a = CALL_ID
            else:
                if action == "allin":
                    x = float("inf")
                else:
                    i = _RAISE[action]
                    x = menu_fracs[i] if i < len(menu_fracs) else menu_fracs[-1]
                own = seat == int(obs.seat[row])
                a = self._played.get(self._public_key(table, tokens[:pos]), -1) if own else -1
                if a < 0:  # an opponent's raise, or one of ours this agent did not record
                    u = (zlib.crc32(pos.to_bytes(2, "little"), seed) & 0xFFFFFFFF) / 2**32
                    a = self._translate(node, x, own, u)
            child = int(self.tree.children[node, a])
            if child < 0 or self.tree.player[child] < 0:
                return -1  # not in the tree, or the tree's line is over and the hand is not
            node = child
        if self.tree.player[node] != int(obs.seat[row]) or self.tree.street[node] != int(
            obs.street[row]
        ):
            return -1
        return node

    # -- acting ------------------------------------------------------------------------------------

    def _to_menu(self, obs: Observation, ids: IntArray) -> IntArray:
        """Blueprint menu ids -> the match menu's ids (raises by nearest pot fraction)."""
        out = ids.copy()
        out[ids == self.all_in_id] = obs.menu.all_in_id
        for j, f in enumerate(self.fractions):
            pick = np.flatnonzero(ids == 2 + j)
            if pick.size:
                out[pick] = raise_entry(obs.subset(pick), f)
        return out

    def _tree_policy(
        self, obs: Observation, rng: np.random.Generator
    ) -> tuple[IntArray, FloatArray, IntArray]:
        """Tree nodes (-1 off the tree), the blueprint's action probabilities ``(m, A_tree)`` at
        the rows on the tree, and the pot-odds fallback's menu ids at the rows off it."""
        if obs.num_players != 2:
            raise ValueError(f"a blueprint plays heads-up only, not at {obs.num_players} seats")
        m = obs.size
        nodes = np.array([self._node(obs, r) for r in range(m)], np.int64)
        probs = np.zeros((m, self.tree.num_actions))
        fallback = np.full(m, -1, np.int64)
        self.decisions += m
        on = np.flatnonzero(nodes >= 0)
        for street in range(4):
            rows = on[obs.street[on] == street]
            if rows.size == 0:
                continue
            bucket = self.cards.bucket(obs.hole[rows], obs.board[rows], street, rng)
            p = self.strategy[self.tree.row_offset[nodes[rows]] + bucket]
            p = p * self.tree.legal[nodes[rows]]
            probs[rows] = p / p.sum(1, keepdims=True)
        off = np.flatnonzero(nodes < 0)
        if off.size:
            self.off_tree += off.size
            sub = obs.subset(off)
            eq = sub.strength(100, rng)
            pot_raise = raise_entry(sub, 1.0)
            want = np.where(eq > sub.pot_odds, CALL_ID, np.where(sub.to_call > 0, FOLD_ID, CALL_ID))
            want = np.where((eq >= 0.8) & (pot_raise >= 0), pot_raise, want)
            fallback[off] = pick_legal(sub, want)
        return nodes, probs, fallback

    def action_probabilities(self, obs: Observation, rng: np.random.Generator) -> FloatArray:
        """``(m, A)``: the probability of each of the match menu's entries at every decision."""
        nodes, probs, fallback = self._tree_policy(obs, rng)
        out = np.zeros((obs.size, obs.menu.num_actions))
        on = np.flatnonzero(nodes >= 0)
        if on.size:
            sub = obs.subset(on)
            for j in range(probs.shape[1]):
                if probs[on, j].any():
                    target = pick_legal(sub, self._to_menu(sub, np.full(on.size, j)))
                    np.add.at(out, (on, target), probs[on, j])
        off = np.flatnonzero(nodes < 0)
        out[off, fallback[off]] = 1.0
        return out

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        nodes, probs, fallback = self._tree_policy(obs, rng)
        out = fallback.copy()
        on = np.flatnonzero(nodes >= 0)
        if on.size:
            cum = np.cumsum(probs[on], axis=1)
            u = rng.random(on.size) * cum[:, -1]
            tree_ids = np.minimum((cum < u[:, None]).sum(1), probs.shape[1] - 1)
            sub = obs.subset(on)
            out[on] = pick_legal(sub, self._to_menu(sub, tree_ids))
            if len(self._played) > 1_000_000:
                self._played.clear()
            assert obs.history is not None and obs.history_len is not None  # _node checked
            for k, r in enumerate(on):
                if tree_ids[k] >= 2:
                    prefix = obs.history[r, : int(obs.history_len[r])].tolist()
                    self._played[self._public_key(int(obs.tables[r]), prefix)] = int(tree_ids[k])
        return pick_legal(obs, out)


def check_table(agent: object, spec: str, seats: int, stack_bb: int) -> None:
    """A blueprint agent plays heads-up at the stacks it was solved for: say so otherwise."""
    blueprint = getattr(agent, "blueprint", None)
    if blueprint is None:
        return
    if seats != 2:
        raise ValueError(f"{spec} plays heads-up only; this table has {seats} seats")
    if blueprint.config.stack_bb != stack_bb:
        raise ValueError(
            f"{spec} was solved for {blueprint.config.stack_bb} bb stacks; play it at "
            f"{blueprint.config.stack_bb} bb"
        )
