"""Action abstraction: a small menu of actions mapped to legal chip amounts.

The menu is ``fold, check/call, bet/raise f1*pot, f2*pot, ..., all-in``. A pot-fraction raise is
``max_bet + f * (pot + amount to call)`` (the pot after calling, the usual pot-limit convention),
rounded down, then clamped up to the minimum raise. A fraction is legal when raising is legal and
its amount is below all-in (all-in has its own entry, so no two entries are the same chips). Raw
chip amounts are accepted too (`decode_raw`).

>>> from gamelm.poker.batch import BatchEngine
>>> eng = BatchEngine(1, 2, 1, 2, starting_stacks=200)
>>> eng.reset(seed=0)
>>> menu = ActionAbstraction(fractions=(0.5, 1.0))
>>> menu.names
('fold', 'check/call', 'raise 0.5 pot', 'raise 1 pot', 'all-in')
>>> menu.legal_mask(eng).astype(int).tolist()
[[1, 1, 1, 1, 1]]
>>> menu.raise_targets(eng)[0].tolist()  # pot 3, SB owes 1: raise to 2 + 0.5 * 4, then 2 + 4
[4, 6]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gamelm.poker.batch import CHECK_CALL, FOLD, RAISE, BatchEngine, int_array

FOLD_ID, CALL_ID = FOLD, CHECK_CALL  # menu ids 0 and 1 are the engine's kinds


@dataclass(frozen=True)
class ActionAbstraction:
    """Fold, check/call, raises by pot fractions, all-in."""

    fractions: tuple[float, ...] = (0.5, 1.0)

    def __post_init__(self) -> None:
        fr = tuple(float(f) for f in self.fractions)
        if any(not 0 < f <= 100 for f in fr) or len(set(fr)) != len(fr):  # NaN fails too
            raise ValueError(
                f"pot fractions must be distinct numbers in (0, 100], got {self.fractions}"
            )
        object.__setattr__(self, "fractions", tuple(sorted(fr)))

    @classmethod
    def parse(cls, text: str) -> ActionAbstraction:
        """``"0.5,1,2"`` -> fractions (0.5, 1.0, 2.0)."""
        parts = [x for x in text.split(",") if x.strip()]
        if text.strip() and not parts:
            raise ValueError(f"bad pot fractions {text!r}: no numbers")
        try:
            return cls(tuple(float(x) for x in parts))
        except ValueError as exc:
            raise ValueError(f"bad pot fractions {text!r}: {exc}") from None

    @property
    def num_actions(self) -> int:
        return 3 + len(self.fractions)

    @property
    def all_in_id(self) -> int:
        return 2 + len(self.fractions)

    @property
    def names(self) -> tuple[str, ...]:
        raises = tuple(f"raise {f:g} pot" for f in self.fractions)
        return ("fold", "check/call", *raises, "all-in")

    def raise_targets(self, eng: BatchEngine) -> npt.NDArray[np.int64]:
        """``(N, len(fractions))`` raise-to amounts, clamped to ``[min raise, all-in]``."""
        return self._targets(eng).T

    def _targets(self, eng: BatchEngine) -> npt.NDArray[np.int64]:
        """``(len(fractions), N)``: one contiguous row per fraction, computed once per state."""
        legal = eng.legal()
        key = ("raise_targets", self.fractions)
        if key not in legal.cache:
            pot_after_call = eng.pot() + legal.call_amount
            rows = [
                np.floor(f * pot_after_call).astype(np.int64) + eng.max_bet for f in self.fractions
            ]
            target = np.array(rows).reshape(len(self.fractions), eng.num_tables)
            legal.cache[key] = np.clip(target, legal.min_raise_to, legal.max_raise_to)
        return legal.cache[key]

    def legal_mask(self, eng: BatchEngine) -> npt.NDArray[np.bool_]:
        """``(N, A)`` legal menu entries at every table (all False where the hand is done).

        The array is the transpose of a C-contiguous ``(A, N)`` one (cheap per-entry columns).
        """
        legal = eng.legal()
        mask = np.empty((self.num_actions, eng.num_tables), bool)
        mask[FOLD_ID] = legal.can_fold
        mask[CALL_ID] = ~eng.done
        if self.fractions:
            mask[2 : 2 + len(self.fractions)] = legal.can_raise & (
                self._targets(eng) < legal.max_raise_to
            )
        mask[self.all_in_id] = legal.can_raise
        return mask.T

    def decode(
        self, eng: BatchEngine, action_ids: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Menu ids -> (kind, raise-to amount) arrays for `BatchEngine.step`."""
        ids = np.asarray(action_ids, np.int64)
        if ids.shape != (eng.num_tables,):
            raise ValueError(f"expected {eng.num_tables} action ids, got shape {ids.shape}")
        if ((ids < 0) | (ids >= self.num_actions)).any():
            raise ValueError(f"action ids are 0..{self.num_actions - 1} ({', '.join(self.names)})")
        kind = np.minimum(ids, RAISE)  # ids 0 and 1 are FOLD and CHECK_CALL
        amount = eng.legal().max_raise_to * (ids == self.all_in_id)
        if self.fractions:
            for j, target in enumerate(self._targets(eng)):
                np.copyto(amount, target, where=ids == 2 + j)
        return kind, amount

    def step(self, eng: BatchEngine, action_ids: npt.ArrayLike) -> None:
        """Decode menu ids and step the engine (illegal entries raise `IllegalActionError`)."""
        kind, amount = self.decode(eng, action_ids)
        eng.step(kind, amount)


@dataclass(frozen=True)
class ListedMenu:
    """A menu whose raise sizes are listed per decision in chips instead of pot fractions.

    Entries: fold, check/call, ``num_raises`` listed raises (smallest first), all-in. The chips
    of each entry at each table are in `gamelm.agents.base.Observation.raise_to`, and the legal
    mask marks the entries offered. PokerBench spots and human play use it; agents read sizes
    from ``raise_to``, so the same agent plays either kind of menu.

    >>> ListedMenu(2).names
    ('fold', 'check/call', 'raise #1', 'raise #2', 'all-in')
    """

    num_raises: int

    def __post_init__(self) -> None:
        if self.num_raises < 0:
            raise ValueError(f"a menu cannot list {self.num_raises} raises")

    @property
    def num_actions(self) -> int:
        return 3 + self.num_raises

    @property
    def all_in_id(self) -> int:
        return 2 + self.num_raises

    @property
    def names(self) -> tuple[str, ...]:
        raises = tuple(f"raise #{j + 1}" for j in range(self.num_raises))
        return ("fold", "check/call", *raises, "all-in")


Menu = ActionAbstraction | ListedMenu


def decode_raw(
    eng: BatchEngine, raise_to: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Raw chip actions: ``-1`` fold, ``0`` check/call, ``x > 0`` raise to ``x`` chips."""
    amt = int_array(raise_to, "raw chip actions")
    kind = np.where(amt < 0, FOLD, np.where(amt == 0, CHECK_CALL, RAISE))
    return kind, np.maximum(amt, 0)


def sample_uniform(mask: npt.NDArray[np.bool_], rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """One legal id per row, uniformly at random (rows with no legal id get check/call).

    >>> sample_uniform(np.array([[0, 1, 0, 1], [0, 0, 0, 0]], bool), np.random.default_rng(0))
    array([3, 1])
    """
    cols = np.ascontiguousarray(np.asarray(mask, bool).T).astype(np.int32)  # one row per entry
    count = cols[0].copy()
    for col in cols[1:]:
        count += col
    pick = (rng.random(count.size) * count).astype(np.int32)  # which legal entry, 0-based
    seen = np.zeros_like(count)  # legal entries up to the current id
    ids = np.zeros_like(count)
    for col in cols[:-1]:
        seen += col
        ids += seen <= pick  # past the picked entry once seen > pick
    return np.where(count > 0, ids, CALL_ID).astype(np.int64)
