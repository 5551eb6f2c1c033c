"""The loop every consumer of the batched engine runs: play a budget of hands on a fixed set of
tables in lockstep, dealing a new hand at a table as soon as its hand ends, until every hand of
the budget is played. Random simulation (`gamelm.poker.simulate`), evaluation matches
(`gamelm.evaluation.match`) and self-play rollouts (`gamelm.rollouts.selfplay`) differ only in
how a hand is dealt, what is recorded when it ends, and who decides at the tables in play, so
they hand those three steps to `Lockstep.run`.

>>> from gamelm.poker.abstraction import ActionAbstraction, sample_uniform
>>> from gamelm.poker.batch import BatchEngine
>>> eng, menu = BatchEngine(8, 2, 1, 2, 200), ActionAbstraction((1.0,))
>>> rng = np.random.default_rng(0)
>>> loop = Lockstep(eng, hands=100)
>>> won = np.zeros((100, 2), np.int64)
>>> def deal(tables, hands):
...     eng.reset(np.isin(np.arange(8), tables), rng=rng)
>>> def finish(tables, hands):
...     won[hands] = eng.payoffs()[tables]
>>> def act(tables):
...     menu.step(eng, sample_uniform(menu.legal_mask(eng), rng))
>>> loop.run(deal, finish, act)
>>> loop.finished, int(won.sum())  # every hand played once; chips are conserved
(100, 0)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from gamelm.poker.batch import BatchEngine

IntArray = npt.NDArray[np.int64]


class Lockstep:
    """``hands`` hands on the tables of ``engine`` (at most one hand per table at a time).

    ``hand_of[t]`` is the id (0 .. hands - 1, in the order dealt) of the hand at table ``t``.
    """

    def __init__(self, engine: BatchEngine, hands: int) -> None:
        if hands < engine.num_tables:
            raise ValueError(
                f"{hands} hands leave tables idle: use at most {hands} of the "
                f"{engine.num_tables} tables"
            )
        self.engine = engine
        self.hands = hands
        self.hand_of: IntArray = np.full(engine.num_tables, -1, np.int64)
        self.started = 0
        self.finished = 0

    def run(
        self,
        deal: Callable[[IntArray, IntArray], None],
        finish: Callable[[IntArray, IntArray], None],
        act: Callable[[IntArray], None],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Play the budget: ``deal(tables, hands)`` resets ``tables`` for those hand ids;
        ``finish(tables, hands)`` records hands that ended (also those over at the deal, when
        everyone is all-in for the blinds); ``act(tables)`` moves every table still in play by
        one decision. ``progress(k)`` hears of every ``k`` hands finished."""
        eng = self.engine
        tables = np.arange(eng.num_tables)
        self._deal(deal, tables)
        in_play = np.ones(eng.num_tables, bool)  # the table holds a hand not yet recorded
        while self.finished < self.hands:
            ended = tables[in_play & eng.done]
            if ended.size == 0:
                act(tables[~eng.done])
                continue
            finish(ended, self.hand_of[ended])
            self.finished += ended.size
            if progress is not None:
                progress(ended.size)
            again = ended[: self.hands - self.started]
            in_play[ended[again.size :]] = False
            if again.size:
                self._deal(deal, again)

    def _deal(self, deal: Callable[[IntArray, IntArray], None], tables: IntArray) -> None:
        ids = np.arange(self.started, self.started + tables.size)
        self.hand_of[tables] = ids
        self.started += tables.size
        deal(tables, ids)
