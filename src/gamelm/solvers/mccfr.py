"""External-sampling Monte Carlo CFR on an abstracted betting tree, one batch of deals at a time.

External sampling (Lanctot, Waugh, Zinkevich and Bowling 2009, "Monte Carlo Sampling for Regret
Minimization in Extensive Games"): each iteration samples the cards and, at the opponent's
decisions, one action from the opponent's current strategy; the traversing player's decisions
are expanded fully. The traverser's sampled counterfactual regrets are added to its information
sets, and the opponent's current strategy at the information sets it visited is added to the
average (stochastically weighted averaging). With ``linear=True`` iteration ``t`` counts ``t``
times (Linear CFR, Brown and Sandholm 2019), which forgets the poor early strategies faster.

What makes it fast in Python is that it is vectorised over a **batch of deals**: the betting
tree (`Tree`: a few thousand nodes, the same for every deal) is swept level by level, each level
one set of numpy operations over ``(nodes in the level, deals)``; half of the deals traverse for
each player. An information set is a (decision node, card bucket of the player to act on that
street) pair, a row of the regret and strategy tables. Every sampled choice of the opponent is
drawn at every node, visited or not, and a mask keeps the updates to the nodes the deal actually
reaches, which is the same distribution as sampling them on the way down.

The same solver runs on any game given as a `Tree` plus a deal sampler (`TreeGame`): Leduc
(`leduc_tree_game`, exact: its buckets are the cards) is the test bed whose exploitability is
measured exactly; No-Limit Hold'em with a bet and card abstraction is `gamelm.games.holdem`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gamelm.games.leduc import NUM_CARDS, LeducPoker, LeducState
from gamelm.games.tree import BoolArray, FloatArray, IntArray, Tree, TreeGame


class MCCFR:
    """External-sampling MCCFR over batches of deals on a `TreeGame`.

    The tables are kept action-major, ``(actions, rows)``, so that every per-action gather and
    update in the sweeps reads and writes contiguous memory; `regrets` and `strategy_sum` give
    them as ``(rows, actions)``.
    """

    def __init__(self, game: TreeGame, *, linear: bool = True) -> None:
        self.game = game
        self.tree = tree = game.tree
        self.linear = linear
        self.iteration = 0  # batches done
        self.deals = 0
        a_n = tree.num_actions
        self.regrets_t = np.zeros((a_n, tree.num_rows))
        self.strategy_sum_t = np.zeros((a_n, tree.num_rows))
        per_node = np.asarray(tree.num_buckets)[tree.street[tree.decision]]
        self.node_of_row = np.repeat(tree.decision, per_node)
        self.legal_rows_t = np.ascontiguousarray(tree.legal[self.node_of_row].T)
        # decision nodes of each level, by the player to act
        self._groups: list[tuple[int, IntArray]] = []
        self._level_groups: list[list[tuple[int, IntArray]]] = []
        for lo, hi in tree.levels:
            nodes = np.arange(lo, hi)
            groups = [(p, nodes[tree.player[nodes] == p]) for p in (0, 1)]
            self._level_groups.append([(p, n) for p, n in groups if n.size])

    @property
    def regrets(self) -> FloatArray:
        return self.regrets_t.T

    @property
    def strategy_sum(self) -> FloatArray:
        return self.strategy_sum_t.T

    def current_strategy_t(self) -> FloatArray:
        """Regret matching, ``(actions, rows)``."""
        pos = np.maximum(self.regrets_t, 0.0)
        return _normalise(pos, self.legal_rows_t)

    def average_strategy(self) -> FloatArray:
        """The average strategy, ``(rows, actions)`` (uniform on rows never visited)."""
        return _normalise(self.strategy_sum_t, self.legal_rows_t).T

    def run(self, batches: int, batch_size: int, rng: np.random.Generator) -> None:
        for _ in range(batches):
            self.step(batch_size, rng)

    def step(self, batch_size: int, rng: np.random.Generator) -> None:
        """One iteration: ``batch_size`` sampled deals, half traversing for each player."""
        self.iteration += 1
        weight = float(self.iteration) if self.linear else 1.0
        d_regret, d_strategy = self.sample_updates(batch_size, rng, self.current_strategy_t())
        self.regrets_t += weight * d_regret
        self.strategy_sum_t += weight * d_strategy
        self.deals += batch_size

    def sample_updates(
        self, batch_size: int, rng: np.random.Generator, sigma_t: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Regret and average-strategy increments ``(actions, rows)`` of one batch of deals
        under the strategy ``sigma_t`` ``(actions, rows)``.

        Deals ``[0, h)`` traverse for player 0 and ``[h, 2h)`` for player 1, so at a node of
        player ``p`` one half of the batch expands every action (``mine``) and the other half
        follows one sampled action (``other``).
        """
        if batch_size < 2 or batch_size % 2:
            raise ValueError(f"batch_size must be an even number >= 2, got {batch_size}")
        tree = self.tree
        h = batch_size // 2
        a_n, rows = tree.num_actions, tree.num_rows
        buckets, result = self.game.sample(batch_size, rng)
        half = (slice(0, h), slice(h, 2 * h))
        visited = np.zeros((tree.num_nodes, batch_size), bool)
        visited[0] = True
        value = np.zeros((tree.num_nodes, batch_size))
        term = tree.player < 0
        fold = term & ~tree.showdown
        sd = term & tree.showdown
        sign = np.concatenate([np.ones(h), -np.ones(h)])  # the traverser's share of p0's winnings
        value[fold] = tree.fold_payoff[fold, None] * sign[None, :]
        value[sd] = tree.stake[sd, None] * (result * sign)[None, :]
        last_legal = a_n - 1 - np.argmax(tree.legal[:, ::-1], axis=1)

        # forward: sample the non-traversers' actions, mark the nodes each deal reaches
        saved = []
        for groups in self._level_groups:
            level = []
            for p, nodes in groups:
                mine, other = half[p], half[1 - p]
                st = tree.street[nodes]
                idx_o = tree.row_offset[nodes, None] + buckets[other, p][:, st].T  # (n, h)
                probs_o = [sigma_t[a][idx_o] for a in range(a_n)]
                u = rng.random(idx_o.shape)
                cum = np.zeros(idx_o.shape)
                choice = np.zeros(idx_o.shape, np.int64)
                for a in range(a_n - 1):
                    cum += probs_o[a]
                    choice += cum < u
                np.minimum(choice, last_legal[nodes, None], out=choice)
                vis = visited[nodes]
                for a in range(a_n):
                    kids = tree.children[nodes, a]
                    ok = kids >= 0
                    if ok.any():
                        visited[kids[ok], mine] = vis[ok, mine]
                        visited[kids[ok], other] = vis[ok, other] & (choice[ok] == a)
                level.append((p, nodes, idx_o, probs_o, choice))
            saved.append(level)

        # backward: values bottom-up; regrets where the traverser acts, the average where the
        # other player acts, both only at the nodes the deal reached
        d_regret = np.zeros((a_n, rows))
        d_strategy = np.zeros((a_n, rows))
        for level in reversed(saved):
            for p, nodes, idx_o, probs_o, choice in level:
                mine, other = half[p], half[1 - p]
                kids = tree.children[nodes]  # (n, A)
                v_other = value[:, other]
                chosen = np.take_along_axis(kids, choice, axis=1)
                v_other[nodes] = v_other[chosen, np.arange(h)[None, :]]
                vis_o = visited[nodes][:, other]
                if vis_o.any():
                    sel = idx_o[vis_o]
                    for a in range(a_n):
                        d_strategy[a] += np.bincount(sel, probs_o[a][vis_o], rows)
                v_mine = value[:, mine]
                st = tree.street[nodes]
                idx_m = tree.row_offset[nodes, None] + buckets[mine, p][:, st].T
                expected = np.zeros(idx_m.shape)
                child_values = []
                for a in range(a_n):
                    ok = kids[:, a] >= 0
                    cv = np.zeros(idx_m.shape)
                    if ok.any():
                        cv[ok] = v_mine[kids[ok, a]]
                        expected += sigma_t[a][idx_m] * cv
                    child_values.append((ok, cv))
                v_mine[nodes] = expected
                vis_m = visited[nodes][:, mine]
                if vis_m.any():
                    sel = idx_m[vis_m]
                    for a, (ok, cv) in enumerate(child_values):
                        if ok.any():
                            regret = (cv - expected) * ok[:, None]
                            d_regret[a] += np.bincount(sel, regret[vis_m], rows)
        return d_regret, d_strategy


def _normalise(weights_t: FloatArray, legal_t: BoolArray) -> FloatArray:
    """Columns of ``(actions, rows)`` weights as distributions; uniform over the legal actions
    where the weights sum to zero."""
    total = weights_t.sum(0)
    uniform = legal_t / np.maximum(legal_t.sum(0), 1)
    out = uniform.copy()
    np.divide(weights_t, total, out=out, where=total > 0)
    return out


# -- Leduc as a tree game: the exact test bed ------------------------------------------------------


def leduc_tree_game() -> tuple[TreeGame, Callable[[FloatArray], dict[str, list[float]]]]:
    """Leduc as a `TreeGame` whose buckets are the cards (private card in round 1, private and
    public card in round 2), so MCCFR on it is MCCFR on Leduc itself; and a function turning a
    strategy table into ``{OpenSpiel information state: probabilities}`` for exact
    exploitability (`gamelm.solvers.exploitability.strategy_exploitability`)."""

    game = LeducPoker()
    # betting histories, breadth first; cards do not change the betting
    start = game.initial_state().child(0).child(2)
    nodes: list[tuple[LeducState, tuple[int, ...]]] = [(start, ())]
    player, street, children, fold, stake, showdown = [], [], [], [], [], []
    i = 0
    while i < len(nodes):
        state, hist = nodes[i]
        i += 1
        kids = [-1, -1, -1]
        if state.is_terminal():
            player.append(-1)
            street.append(len(state.rounds) - 1)
            folded = state.folded >= 0
            fold.append(state.returns()[0] if folded else 0.0)
            stake.append(0.0 if folded else float(state.contrib[0]))
            showdown.append(not folded)
        else:
            player.append(state.current_player())
            street.append(len(state.rounds) - 1)
            fold.append(0.0)
            stake.append(0.0)
            showdown.append(False)
            for a in state.legal_actions():
                nxt = state.child(a)
                if nxt.current_player() == -1 and not nxt.is_terminal():
                    nxt = nxt.child(4)  # the public card: any, the betting does not depend on it
                kids[a] = len(nodes)
                nodes.append((nxt, (*hist, a)))
        children.append(kids)
    tree = Tree.from_lists(
        player,
        street,
        children,
        fold,
        stake,
        showdown,
        num_buckets=(NUM_CARDS, NUM_CARDS * NUM_CARDS),
        action_names=("fold", "call", "raise"),
    )

    def sample(batch: int, rng: np.random.Generator) -> tuple[IntArray, FloatArray]:
        cards = np.argsort(rng.random((batch, NUM_CARDS)), axis=1)[:, :3]
        c0, c1, pub = cards[:, 0], cards[:, 1], cards[:, 2]
        buckets = np.stack(
            [np.stack([c0, c0 * NUM_CARDS + pub], 1), np.stack([c1, c1 * NUM_CARDS + pub], 1)], 1
        )
        s0 = np.where(c0 // 2 == pub // 2, 10 + c0 // 2, c0 // 2)
        s1 = np.where(c1 // 2 == pub // 2, 10 + c1 // 2, c1 // 2)
        return buckets, np.sign(s0 - s1).astype(np.float64)

    def to_openspiel(table: FloatArray) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for n in tree.decision:
            _, hist = nodes[n]
            p, s = int(tree.player[n]), int(tree.street[n])
            for bucket in range(tree.num_buckets[s]):
                mine, pub = (bucket, -1) if s == 0 else divmod(bucket, NUM_CARDS)
                if mine == pub:
                    continue
                other = next(c for c in range(NUM_CARDS) if c not in (mine, pub))
                st = game.initial_state()
                st = st.child(mine).child(other) if p == 0 else st.child(other).child(mine)
                for a in hist:
                    st = st.child(a)
                    if st.current_player() == -1 and not st.is_terminal():
                        st = st.child(pub)
                key = st.information_state_string(p)
                out[key] = table[tree.row_offset[n] + bucket].tolist()
        return out

    return TreeGame(tree, sample, "leduc"), to_openspiel
