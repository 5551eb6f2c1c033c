"""Counterfactual regret minimisation on the sequence form: CFR, CFR+ and discounted CFR.

- **CFR** (Zinkevich et al. 2007, "Regret Minimization in Games with Incomplete Information"):
  regret matching at every information set, average strategy weighted by own reach.
- **CFR+** (Tammelin 2014, "Solving Large Imperfect Information Games Using CFR+"): regret
  matching+ (cumulative regrets floored at zero) and the average weighted by iteration ``t``.
- **DCFR** (Brown and Sandholm 2019, "Solving Imperfect-Information Games via Discounted Regret
  Minimization"): after iteration ``t`` positive regrets are multiplied by
  ``t^alpha / (t^alpha + 1)``, negative ones by ``t^beta / (t^beta + 1)``, and the iteration's
  strategy enters the average with weight ``t^gamma`` (defaults 3/2, 0, 2).

Updates alternate between the players, as in OpenSpiel's solvers, and each variant computes the
same iterates as OpenSpiel's ``CFRSolver``, ``CFRPlusSolver`` and ``DCFRSolver`` (the tests check
this to 1e-9). What differs is the representation: instead of a recursion over every history,
each player's regrets, current and average strategies are ``(information sets, actions)``
arrays, and one pass for a player is a realization plan of the opponent (one vector operation
per level), one sparse matrix-vector product for the counterfactual payoffs, and one bottom-up
sweep (`gamelm.solvers.sequence_form`).

>>> from gamelm.games import load_game
>>> solver = CFRSolver(load_game("kuhn"), "cfr+")
>>> solver.run(200)
>>> round(solver.game_value(), 3), solver.exploitability() < 1e-3
(-0.056, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from gamelm.games import load_game
from gamelm.games.base import Game
from gamelm.solvers.exploitability import exploitability
from gamelm.solvers.sequence_form import BoolArray, FloatArray, SequenceForm

ALGORITHMS = ("cfr", "cfr+", "dcfr")


def regret_matching(regrets: FloatArray, legal: BoolArray, uniform: FloatArray) -> FloatArray:
    """Play each action in proportion to its positive regret; uniformly if none is positive.

    >>> r = np.array([[2.0, -1.0, 1.0], [-1.0, -2.0, 0.0]])
    >>> legal = np.array([[True, True, True], [True, True, False]])
    >>> regret_matching(r, legal, legal / legal.sum(1, keepdims=True)).tolist()
    [[0.6666666666666666, 0.0, 0.3333333333333333], [0.5, 0.5, 0.0]]
    """
    pos = np.maximum(regrets, 0.0, where=legal, out=np.zeros_like(regrets))
    total = pos.sum(1, keepdims=True)
    out = uniform.copy()
    np.divide(pos, total, out=out, where=total > 0)
    return out


class CFRSolver:
    """Tabular CFR / CFR+ / DCFR with alternating updates on a small two-player zero-sum game."""

    def __init__(
        self,
        game: Game | SequenceForm,
        algorithm: str = "cfr+",
        *,
        alpha: float = 1.5,
        beta: float = 0.0,
        gamma: float = 2.0,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}"
            )
        self.sf = game if isinstance(game, SequenceForm) else SequenceForm.from_game(game)
        self.algorithm = algorithm
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        self.iteration = 0
        trees = self.sf.players
        self.regrets = [np.zeros(t.legal.shape) for t in trees]
        self.strategy_sum = [np.zeros(t.legal.shape) for t in trees]
        self.current = [t.uniform() for t in trees]
        self._values = [np.empty(t.legal.shape) for t in trees]
        self._scratch = [np.zeros(t.legal.shape) for t in trees]
        self._plans: list[FloatArray | None] = [None, None]

    def _update(self, p: int) -> None:
        tree = self.sf.players[p]
        t = self.iteration
        opp_plan = self._plan(1 - p)
        cf = self.sf.counterfactual(p, opp_plan)
        v = self._values[p]
        set_values, _ = tree.values(cf, self.current[p], v)
        regrets = self.regrets[p]
        regrets += np.subtract(v, set_values[:, None], where=tree.legal, out=self._scratch[p])
        own_plan = self._plan(p)
        weight = {"cfr": 1.0, "cfr+": float(t), "dcfr": float(t) ** self.gamma}[self.algorithm]
        self.strategy_sum[p] += weight * own_plan[1:].reshape(tree.legal.shape)
        if self.algorithm == "cfr+":
            np.maximum(regrets, 0.0, out=regrets)
        elif self.algorithm == "dcfr":
            ta, tb = float(t) ** self.alpha, float(t) ** self.beta
            regrets *= np.where(regrets >= 0, ta / (ta + 1), tb / (tb + 1))
        self.current[p] = regret_matching(regrets, tree.legal, tree._uniform)
        self._plans[p] = None

    def _plan(self, p: int) -> FloatArray:
        """Player p's realization plan of the current strategy (cached until it changes)."""
        plan = self._plans[p]
        if plan is None:
            plan = self._plans[p] = self.sf.players[p].realization(self.current[p])
        return plan

    def iterate(self) -> None:
        """One iteration: update player 0, then player 1 against player 0's new strategy."""
        self.iteration += 1
        self._update(0)
        self._update(1)

    def run(self, iterations: int, callback: Callable[[CFRSolver], None] | None = None) -> None:
        for _ in range(iterations):
            self.iterate()
            if callback is not None:
                callback(self)

    def average(self) -> list[FloatArray]:
        """The average strategy (uniform where an information set was never reached)."""
        out = []
        for tree, s in zip(self.sf.players, self.strategy_sum):
            total = s.sum(1, keepdims=True)
            out.append(np.where(total > 0, s / np.where(total > 0, total, 1.0), tree._uniform))
        return out

    def average_strategy(self) -> dict[str, list[float]]:
        """``{OpenSpiel information state string: probability per action id}``."""
        return self.sf.to_dict(self.average())

    def exploitability(self) -> float:
        """Exploitability of the average strategy, chips per game."""
        return exploitability(self.sf, self.average())

    def game_value(self) -> float:
        """Player 0's expected winnings under the average strategy."""
        return self.sf.value(self.average())


def solve(
    game: str | Game,
    algorithm: str = "cfr+",
    iterations: int | None = None,
    seconds: float = float("inf"),
    progress: bool = False,
) -> CFRSolver:
    """Run ``algorithm`` on ``game`` (a `gamelm.games.load_game` name or a `Game`) for
    ``iterations`` iterations, or when that is None until ``seconds`` have passed; a tqdm bar
    with the current exploitability when ``progress``."""
    from tqdm import tqdm

    solver = CFRSolver(load_game(game) if isinstance(game, str) else game, algorithm)
    name = game if isinstance(game, str) else type(game).__name__
    start = time.perf_counter()
    last_shown = 0.0
    with tqdm(
        total=iterations, unit="it", desc=f"{algorithm} on {name}", disable=not progress,
        leave=False,
    ) as bar:  # fmt: skip
        while True:
            done = solver.iteration
            if iterations is not None and done >= iterations:
                break
            if iterations is None and time.perf_counter() - start >= seconds:
                break
            step = 10 if iterations is None else min(10, iterations - done)
            solver.run(step)
            bar.update(step)
            now = time.perf_counter()
            if progress and now - last_shown > 0.5:  # one exploitability costs one iteration
                bar.set_postfix(exploitability=f"{solver.exploitability():.3g}")
                last_shown = now
    return solver
