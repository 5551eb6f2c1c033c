"""Batched No-Limit Hold'em: N tables of P seats played in lockstep with numpy.

Struct of arrays, updated in place, laid out so that a step costs a few vector operations over the
N tables and almost nothing per seat:

* chip fields (stacks, bets, starting stacks, antes) are ``(P, N)`` int32 arrays, seat-major, so
  that the actor's entries are one flat gather and the rare reductions over seats are contiguous
  (int32 halves the memory traffic; the chips at one table must add up to less than 2**31);
* per-seat flags (folded, all-in, still to act, acted since the last full raise, cannot cover the
  current bet) are one integer bitmask per table; "how many are still in", "who acts next" and
  "who wins uncontested" are lookups in small tables indexed by those masks;
* the pot, the highest and second-highest bet (for the uncalled bet) and the seat that made the
  highest bet are kept per table as the hand goes, so closing a betting round touches no seat
  array but the bets.

The public attributes ``stacks``, ``bets``, ``hole``... are ``(N, P)`` views; ``folded`` is
decoded from its bitmask. Every table has one player to act; ``step`` applies one action per
table at once (tables that are finished, or left out by ``mask``, do not move). Finished tables
stay finished until ``reset``. The rules are those of `gamelm.poker.rules` (seat order, blinds,
minimum raises, short all-ins, uncalled bets, side pots, PokerKit's odd-chip convention); a
differential test plays thousands of random hands through both and PokerKit.

>>> eng = BatchEngine(num_tables=4, num_players=2, small_blind=1, big_blind=2, starting_stacks=200)
>>> eng.reset(seed=0)
>>> eng.actor.tolist(), eng.pot().tolist()
([1, 1, 1, 1], [3, 3, 3, 3])
>>> eng.step(np.full(4, FOLD))
>>> eng.done.all(), eng.payoffs()[:, 1].tolist()
(np.True_, [-1, -1, -1, -1])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt

from gamelm.poker.cards import deal
from gamelm.poker.evaluator import evaluate_cards
from gamelm.poker.rules import IllegalActionError, check_seats

FOLD, CHECK_CALL, RAISE = 0, 1, 2
ACTION_KIND_NAMES = ("fold", "check/call", "raise")
CHIP = np.int32  # dtype of chips, bitmasks and seat indices in the engine state
MAX_CHIPS = 2**31 - 1  # chips at one table must fit in CHIP

IntArray = npt.NDArray[np.int64]
ChipArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class LegalBatch:
    """Legal options of the player to act at every table (meaningless where ``done``).

    ``stack`` and ``bet`` are the actor's chips behind and chips bet on this street.
    """

    actor: ChipArray
    can_fold: BoolArray
    call_amount: ChipArray
    can_raise: BoolArray
    min_raise_to: ChipArray
    max_raise_to: ChipArray
    stack: ChipArray
    bet: ChipArray
    cache: dict = field(default_factory=dict, repr=False)  # derived arrays (e.g. menu amounts)


def int_array(x: npt.ArrayLike, what: str) -> IntArray:
    """``x`` as int64; whole numbers only (``5.0`` is fine, ``5.7``, NaN or 2**64 are not)."""
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{what} must be whole numbers, got {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
            raise ValueError(f"{what} must be whole numbers")
    if arr.size and (arr.max() > np.iinfo(np.int64).max or arr.min() < np.iinfo(np.int64).min):
        raise ValueError(f"{what} are out of range")
    return arr.astype(np.int64)


@dataclass(frozen=True)
class _SeatTables:
    """Lookup tables over the ``2**P`` seat bitmasks of a P-seat table."""

    bit: ChipArray  # (P,) 1 << seat
    count: ChipArray  # (2**P,) seats in the mask
    lowest: ChipArray  # (2**P,) lowest seat in the mask (P if empty)
    after: ChipArray  # (P * 2**P,) [seat * 2**P + mask]: first seat of mask after seat, cyclically


@cache
def _seat_tables(p: int) -> _SeatTables:
    size = 1 << p
    masks = np.arange(size)
    has = (masks[:, None] >> np.arange(p)) & 1  # (2**P, P)
    count = has.sum(axis=1)
    lowest = np.where(has.any(axis=1), has.argmax(axis=1), p)
    after = np.empty((p, size), CHIP)
    for seat in range(p):
        order = (seat + 1 + np.arange(p)) % p  # the seats after ``seat``, ending with it
        first = has[:, order].argmax(axis=1)
        after[seat] = np.where(count > 0, order[first], p)
    bit = (1 << np.arange(p)).astype(CHIP)
    return _SeatTables(bit, count.astype(CHIP), lowest.astype(CHIP), after.ravel())


class BatchEngine:
    """N tables x P seats of NLHE (seat P-1 is the button, as in `gamelm.poker.rules`).

    Args:
        num_tables: tables played in lockstep.
        num_players: seats per table, `gamelm.poker.rules.SEATS`.
        small_blind, big_blind, ante: forced bets in chips (the ante is posted by every seat).
        starting_stacks: one stack for all seats, one per seat ``(P,)``, or one per table and seat
            ``(N, P)``; ``reset`` can override it.
    """

    def __init__(
        self,
        num_tables: int,
        num_players: int,
        small_blind: int,
        big_blind: int,
        starting_stacks: int | npt.ArrayLike = 100,
        ante: int = 0,
    ) -> None:
        if num_tables < 1:
            raise ValueError(f"num_tables must be at least 1, got {num_tables}")
        check_seats(num_players, "num_players")
        for label, value in (
            ("small blind", small_blind),
            ("big blind", big_blind),
            ("ante", ante),
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"the {label} must be a whole number of chips, got {value!r}")
        if not 0 < small_blind <= big_blind:
            raise ValueError(
                f"blinds must satisfy 0 < small blind <= big blind, got {small_blind}/{big_blind}"
            )
        if ante < 0:
            raise ValueError(f"the ante cannot be negative, got {ante}")
        if max(big_blind, ante) > MAX_CHIPS:
            raise ValueError(f"blinds and antes must be at most {MAX_CHIPS} chips")
        n, p = num_tables, num_players
        self.num_tables, self.num_players = n, p
        self.small_blind, self.big_blind, self.ante = int(small_blind), int(big_blind), int(ante)
        self.default_stacks = self._stack_array(starting_stacks)
        self.default_stacks.setflags(write=False)
        self._default_start = np.ascontiguousarray(self.default_stacks.T)
        blinds = np.zeros(p, dtype=CHIP)
        if p == 2:
            blinds[:] = (big_blind, small_blind)
        else:
            blinds[:2] = (small_blind, big_blind)
        self.blinds = blinds
        self._lut = _seat_tables(p)
        self._full = (1 << p) - 1
        self._rows = np.arange(n)
        self._seats = np.arange(p)[:, None]  # (P, 1) to broadcast against (P, N)
        shape = (p, n)  # seat-major
        self._start = np.zeros(shape, CHIP)
        self._stacks = np.zeros(shape, CHIP)
        self._bets = np.zeros(shape, CHIP)
        self._stake = np.zeros(shape, CHIP)  # starting stack less the ante: chips to bet
        self._strength = np.zeros(shape, CHIP)
        self._paid = np.zeros(shape, CHIP)  # chips each seat put in, set at a showdown
        # Cards are bytes laid out so that one 64-bit OR gives a seat's 7 cards at a showdown:
        # a seat's hole cards are one little-endian uint16, a board is bytes 2..6 of a uint64.
        self._hole = np.zeros((p, n, 2), np.uint8)
        self._board8 = np.zeros((n, 8), np.uint8)
        # per-table seat bitmasks
        self._folded = np.zeros(n, CHIP)
        self._all_in = np.zeros(n, CHIP)  # no chips behind
        self._pending = np.zeros(n, CHIP)  # still to act this round (PokerKit's actor queue)
        self._acted = np.zeros(n, CHIP)  # acted since the last full raise
        self._capped = np.zeros(n, CHIP)  # stack + bet <= max_bet: cannot cover the bet
        # per-table scalars
        self._pot = np.zeros(n, CHIP)  # antes and every bet, uncalled chips returned
        self._second = np.zeros(n, CHIP)  # second-highest bet of the street
        self._top_seat = np.zeros(n, CHIP)  # a seat whose bet is max_bet
        self.street = np.zeros(n, CHIP)  # 0 preflop .. 3 river
        self.actor = np.zeros(n, CHIP)
        self.done = np.ones(n, bool)
        self.max_bet = np.zeros(n, CHIP)
        self.last_raise = np.zeros(n, CHIP)
        self.short_sum = np.zeros(n, CHIP)
        self.short_any = np.zeros(n, bool)
        self.showdown = np.zeros(n, bool)
        self._legal: LegalBatch | None = None
        same = (self.default_stacks == self.default_stacks[0]).all()
        self._same_start = self._opening(self._default_start[:, :1]) if same else None

    # (N, P) views of the seat-major state
    @property
    def stacks(self) -> ChipArray:
        """``(N, P)`` chips behind (not yet bet)."""
        return self._stacks.T

    @property
    def bets(self) -> ChipArray:
        """``(N, P)`` chips bet on the current street."""
        return self._bets.T

    @property
    def antes(self) -> ChipArray:
        """``(N, P)`` antes posted."""
        return (self._start - self._stake).T

    @property
    def contrib(self) -> ChipArray:
        """``(N, P)`` chips put in over the hand, antes excluded (before the pots are paid)."""
        return (self._stake - self._stacks).T

    @property
    def paid_in(self) -> ChipArray:
        """``(N, P)`` chips each seat put in the pots at the last showdown of each table (uncalled
        bets returned, antes excluded); valid where ``showdown`` is set."""
        return self._paid.T

    @property
    def folded(self) -> BoolArray:
        """``(N, P)`` seats that folded (a new array)."""
        return self._unpack(self._folded)

    @property
    def start_stacks(self) -> ChipArray:
        """``(N, P)`` stacks at the start of the current hand."""
        return self._start.T

    @property
    def hole(self) -> npt.NDArray[np.uint8]:
        """``(N, P, 2)`` hole cards."""
        return self._hole.transpose(1, 0, 2)

    @property
    def board(self) -> npt.NDArray[np.uint8]:
        """``(N, 5)`` all five board cards of each deal, including streets not reached yet (a
        view: use `visible_board_count` for what the players have seen)."""
        return self._board8[:, 2:7]

    @property
    def strength(self) -> ChipArray:
        """``(N, P)`` hand strengths of a showdown (0 for folded seats and before)."""
        return self._strength.T

    def _unpack(self, bits: IntArray) -> BoolArray:
        return ((bits[:, None] >> np.arange(self.num_players)) & 1).astype(bool)

    @staticmethod
    def _pack(flags: BoolArray) -> IntArray:
        """``(P, m)`` bools -> ``(m,)`` bitmasks."""
        bits = flags[0].astype(CHIP)
        for seat in range(1, len(flags)):
            bits |= flags[seat].astype(CHIP) << seat
        return bits

    def _table_mask(self, mask: npt.ArrayLike) -> BoolArray:
        m = np.asarray(mask)
        if m.dtype != np.bool_ or m.shape != (self.num_tables,):
            raise ValueError(
                f"a table mask is {self.num_tables} booleans, got {m.dtype} of shape {m.shape}"
            )
        return m

    def _per_table(self, x: IntArray, what: str) -> IntArray:
        if x.ndim > 1 or (x.ndim == 1 and x.shape != (self.num_tables,)):
            raise ValueError(f"give one value or {self.num_tables} {what}, got shape {x.shape}")
        return np.broadcast_to(x, (self.num_tables,))

    # -- set-up -----------------------------------------------------------------------------
    def _stack_array(self, stacks: int | npt.ArrayLike) -> IntArray:
        try:
            arr = np.broadcast_to(
                int_array(stacks, "starting stacks"), (self.num_tables, self.num_players)
            )
        except ValueError:
            raise ValueError(
                f"starting stacks must be one number, {self.num_players} numbers or a "
                f"({self.num_tables}, {self.num_players}) array of integers"
            ) from None
        if (arr <= 0).any():
            raise ValueError("every starting stack must be positive")
        if (arr.sum(axis=1) > MAX_CHIPS).any():
            raise ValueError(f"the chips at one table must add up to at most {MAX_CHIPS}")
        return arr.copy()

    def reset(
        self,
        mask: npt.ArrayLike | None = None,
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        starting_stacks: int | npt.ArrayLike | None = None,
        hole: npt.ArrayLike | None = None,
        board: npt.ArrayLike | None = None,
    ) -> None:
        """Start new hands at the tables in ``mask`` (all by default).

        Cards come from ``rng`` (or ``seed``) unless ``hole`` ``(N, P, 2)`` and ``board``
        ``(N, 5)`` are given (rows for the masked tables are used).
        """
        idx = self._rows if mask is None else np.flatnonzero(self._table_mask(mask))
        if idx.size == 0:
            return
        if starting_stacks is not None:
            opening = self._opening(
                np.ascontiguousarray(self._stack_array(starting_stacks).T[:, idx])
            )
        elif self._same_start is not None:
            opening = self._same_start  # every table starts alike: one column broadcast
        else:
            opening = self._opening(self._default_start[:, idx])
        p, m = self.num_players, idx.size
        if hole is not None or board is not None:
            if hole is None or board is None:
                raise ValueError("give both hole and board cards, or neither")
            h = int_array(hole, "hole cards")
            b = int_array(board, "board cards")
            if h.size != self.num_tables * p * 2 or b.size != self.num_tables * 5:
                raise ValueError(
                    f"hole cards must be ({self.num_tables}, {p}, 2) and the board "
                    f"({self.num_tables}, 5), got {h.shape} and {b.shape}"
                )
            h = h.reshape(self.num_tables, p, 2)[idx]
            b = b.reshape(self.num_tables, 5)[idx]
            every = np.concatenate([h.reshape(m, -1), b], axis=1)
            srt = np.sort(every, axis=1)
            if (every < 0).any() or (every > 51).any() or (srt[:, 1:] == srt[:, :-1]).any():
                raise ValueError("cards must be distinct ints 0..51 at every table")
            self._hole[:, idx] = h.transpose(1, 0, 2)
            self.board[idx] = b
        else:
            gen = rng if rng is not None else np.random.default_rng(seed)
            deck = deal(gen, 2 * p + 5, m)  # (2P + 5, m)
            self._hole[:, idx] = deck[: 2 * p].reshape(p, 2, m).transpose(0, 2, 1)
            self.board[idx] = deck[2 * p :].T
        self._begin_hand(idx, opening)

    def _opening(self, start: IntArray) -> dict[str, IntArray]:
        """The state after antes and blinds for starting stacks ``start`` ``(P, m)``."""
        lut, p = self._lut, self.num_players
        antes = np.minimum(self.ante, start)
        after_ante = start - antes
        bets = np.minimum(self.blinds[:, None], after_ante)
        stacks = after_ante - bets
        top, second = self._top_two(bets)
        # a player acts only if someone else could match more than their bet
        _, second_total = self._top_two(bets + stacks)
        pending = self._pack((stacks > 0) & (second_total > bets))
        # the seat after the largest blind opens (ties: the later seat)
        blind_key = bets * (self.blinds > 0)[:, None] * (p + 1) + self._seats
        last_blind = blind_key.argmax(axis=0)
        actor = lut.after[last_blind * (1 << p) + pending] % p
        count = lut.count[pending]
        idle = (count == 0) | ((count == 1) & (bets[actor, np.arange(actor.size)] >= top))
        return {
            "start": start,
            "antes": antes,
            "stacks": stacks,
            "bets": bets,
            "pot": antes.sum(axis=0) + bets.sum(axis=0),
            "all_in": self._pack(stacks == 0),
            "max_bet": top,
            "second": second,
            "top_seat": bets.argmax(axis=0),
            "capped": self._pack(stacks + bets <= top),
            "pending": pending,
            "actor": actor,
            "idle": idle,
        }

    def _begin_hand(self, idx: IntArray, opening: dict[str, IntArray]) -> None:
        """Write ``opening`` (one column per table of ``idx``, or one for all) and open preflop."""
        o = opening
        self._start[:, idx] = o["start"]
        self._stake[:, idx] = o["start"] - o["antes"]
        self._stacks[:, idx] = o["stacks"]
        self._bets[:, idx] = o["bets"]
        self._strength[:, idx] = 0
        self._pot[idx] = o["pot"]
        self._all_in[idx] = o["all_in"]
        self.max_bet[idx] = o["max_bet"]
        self._second[idx] = o["second"]
        self._top_seat[idx] = o["top_seat"]
        self._capped[idx] = o["capped"]
        self._pending[idx] = o["pending"]
        self.actor[idx] = o["actor"]
        self.street[idx] = 0
        self.done[idx] = False
        self.showdown[idx] = False
        self.last_raise[idx] = 0
        self.short_sum[idx] = 0
        self.short_any[idx] = False
        self._folded[idx] = 0
        self._acted[idx] = 0
        self._legal = None
        idle = o["idle"]
        if idle.size == 1 and idx.size > 1:
            idle = np.broadcast_to(idle, idx.shape)
        if idle.any():  # nobody can act preflop: return the uncalled blind and run the board
            self._close_rounds(idx[idle])

    # -- queries ----------------------------------------------------------------------------
    def legal(self) -> LegalBatch:
        """Legal options at every table (cached until the next change)."""
        if self._legal is None:
            self._legal = self._compute_legal()
        return self._legal

    def _compute_legal(self) -> LegalBatch:
        flat = self.actor * self.num_tables + self._rows
        stack = self._stacks.ravel().take(flat)
        bet = self._bets.ravel().take(flat)
        owe = self.max_bet - bet
        call = np.minimum(stack, owe)
        me = self._lut.bit.take(self.actor)
        acted = (self._acted & me) != 0
        # someone else still in could put in more than the current bet
        covered = (self._full & ~(self._folded | self._capped | me)) != 0
        live = ~self.done
        can_raise = (
            (call >= self.last_raise) & ~(self.short_any & acted) & (stack > owe) & covered & live
        )
        max_to = stack + bet
        min_to = np.minimum(max_to, np.maximum(self.last_raise, self.big_blind) + self.max_bet)
        return LegalBatch(
            actor=self.actor.copy(),
            can_fold=(bet < self.max_bet) & live,
            call_amount=call,
            can_raise=can_raise,
            min_raise_to=min_to,
            max_raise_to=max_to,
            stack=stack,
            bet=bet,
        )

    def pot(self) -> ChipArray:
        """All chips committed at each table (antes and current bets included)."""
        return self._pot.copy()

    def payoffs(self) -> IntArray:
        """``(N, P)`` chips won or lost in the current hand (final once ``done``), as int64."""
        return (self._stacks.astype(np.int64) - self._start).T

    def visible_board_count(self) -> IntArray:
        """Number of board cards visible at each table."""
        count = np.array([0, 3, 4, 5])[self.street]
        return np.where(self.done & self.showdown, 5, count)

    # -- acting -----------------------------------------------------------------------------
    def step(
        self,
        kind: npt.ArrayLike,
        amount: npt.ArrayLike | None = None,
        mask: npt.ArrayLike | None = None,
    ) -> None:
        """Apply one action per table: ``kind`` is FOLD, CHECK_CALL or RAISE (to ``amount``).

        Tables that are done or outside ``mask`` are left alone. An illegal action at any table
        raises `IllegalActionError` naming the table and the rule, and changes nothing.
        """
        n, lut = self.num_tables, self._lut
        kind = self._per_table(int_array(kind, "action kinds"), "action kinds")
        amount_arr = self._per_table(
            int_array(0 if amount is None else amount, "raise amounts"), "raise amounts"
        )
        act = ~self.done if mask is None else (self._table_mask(mask) & ~self.done)
        legal = self.legal()
        self._validate(kind, amount_arr, act, legal)
        amount_arr = amount_arr.astype(CHIP)  # valid raises fit; other tables' amounts are unused

        is_call = act & (kind == CHECK_CALL)
        is_raise = act & (kind == RAISE)
        chips = np.where(is_call, legal.call_amount, 0)
        chips = np.where(is_raise, amount_arr - legal.bet, chips)
        flat = self.actor * n + self._rows
        stack = legal.stack - chips
        bet = legal.bet + chips
        self._stacks.ravel()[flat] = stack
        self._bets.ravel()[flat] = bet
        self._pot += chips
        me = lut.bit.take(self.actor) * act  # 0 where the table does not move
        self._folded |= me * (kind == FOLD)
        self._pending &= ~me
        self._acted |= me
        self._all_in |= me * (stack == 0)
        np.maximum(self._second, np.where(is_call, bet, 0), out=self._second)
        if is_raise.any():
            self._apply_raises(is_raise, amount_arr, me, stack)

        over = act & ((lut.count.take(self._full & ~self._folded) <= 1) | (self._pending == 0))
        go_on = act & ~over
        nxt = lut.after.take(self.actor * (1 << self.num_players) + self._pending)
        np.copyto(self.actor, nxt, where=go_on)
        self._legal = None
        e = np.flatnonzero(over)
        if e.size:
            self._close_rounds(e)

    def _validate(
        self, kind: IntArray, amount: IntArray, act: BoolArray, legal: LegalBatch
    ) -> None:
        bad = act & ((kind < 0) | (kind > 2))
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            raise IllegalActionError(f"table {t}: unknown action kind {int(kind[t])}")
        bad = act & (kind == FOLD) & ~legal.can_fold
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            raise IllegalActionError(
                f"table {t}: seat {int(self.actor[t])} cannot fold: there is no bet to call "
                "(check instead)"
            )
        raising = act & (kind == RAISE)
        bad = raising & ~legal.can_raise
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            raise IllegalActionError(
                f"table {t}: seat {int(self.actor[t])} cannot raise: {self._why_no_raise(t)}"
            )
        bad = raising & ((amount < legal.min_raise_to) | (amount > legal.max_raise_to))
        if bad.any():
            t = int(np.flatnonzero(bad)[0])
            lo, hi = int(legal.min_raise_to[t]), int(legal.max_raise_to[t])
            why = (
                f"the minimum raise is to {lo}"
                if amount[t] < lo
                else f"that is more than the stack allows (at most {hi})"
            )
            raise IllegalActionError(
                f"table {t}: seat {int(self.actor[t])} cannot raise to {int(amount[t])}: {why}"
            )

    def _why_no_raise(self, t: int) -> str:
        a = int(self.actor[t])
        owe = int(self.max_bet[t] - self._bets[a, t])
        call = min(int(self._stacks[a, t]), owe)
        if call < self.last_raise[t]:
            return (
                "an all-in short of a full raise does not reopen the betting for a player "
                "who only has to call it"
            )
        if self.short_any[t] and self._acted[t] >> a & 1:
            return "an all-in that is not a full raise does not reopen the betting"
        if self._stacks[a, t] <= owe:
            return "the stack does not exceed the amount to call"
        return "every opponent is all-in or folded"

    def _apply_raises(
        self, is_raise: BoolArray, amount: IntArray, me: IntArray, stack: IntArray
    ) -> None:
        """Raises at the tables in ``is_raise`` (``me``: the actor's bit, ``stack``: after it)."""
        put = np.copyto  # masked in-place updates: tables that did not raise keep their values
        inc = amount - self.max_bet
        put(self._acted, me, where=is_raise & (inc >= self.last_raise))  # a full raise reopens
        last = np.maximum(self.last_raise, inc)
        put(self.last_raise, last, where=is_raise)
        short = (self.short_sum + inc) * (stack == 0)  # all-ins short of a full raise add up
        keep = (stack == 0) & (short < last)
        put(self.short_sum, short * keep, where=is_raise)
        put(self.short_any, keep, where=is_raise)
        put(self._pending, self._full & ~(self._folded | self._all_in | me), where=is_raise)
        put(self._second, self.max_bet, where=is_raise)
        put(self._top_seat, self.actor, where=is_raise)
        put(self.max_bet, amount, where=is_raise)
        capped = self._pack(self._stacks + self._bets <= self.max_bet)  # all tables: no gathers
        put(self._capped, capped, where=is_raise)

    # -- rounds, streets, showdown --------------------------------------------------------------
    @staticmethod
    def _top_two(x: IntArray) -> tuple[IntArray, IntArray]:
        """Largest and second largest of each column of a ``(P, m)`` array."""
        top = np.maximum(x[0], x[1])
        second = np.minimum(x[0], x[1])
        for row in x[2:]:
            second = np.maximum(second, np.minimum(top, row))
            top = np.maximum(top, row)
        return top, second

    def _close_rounds(self, e: IntArray) -> None:
        """End the betting rounds at tables ``e``; open the next street or finish the hand."""
        lut, n = self._lut, self.num_tables
        live = self._full & ~self._folded[e]
        contested = lut.count.take(live) > 1
        # the uncalled part of the highest bet goes back to its owner
        excess = np.where(contested, self.max_bet[e] - self._second[e], 0)
        top = self._top_seat[e] * n + e
        self._stacks.ravel()[top] += excess
        self._pot[e] -= excess
        self._bets[:, e] = 0
        self.max_bet[e] = 0
        self._second[e] = 0
        self._pending[e] = 0
        if not contested.all():
            w = e[~contested]
            winner = lut.lowest.take(live[~contested])
            self._stacks.ravel()[winner * n + w] += self._pot[w]
            self.done[w] = True
            e, live = e[contested], live[contested]
        river = self.street[e] == 3
        shown = [e[river]]
        e, live = e[~river], live[~river]
        if e.size:
            # the next street: seat 0 opens; nobody acts unless two players still have chips
            self.street[e] += 1
            pend = live & ~self._all_in[e]
            self._pending[e] = pend
            self._capped[e] = self._all_in[e]
            self._acted[e] = 0
            self.last_raise[e] = 0
            self.short_sum[e] = 0
            self.short_any[e] = False
            self.actor[e] = lut.lowest.take(pend) % self.num_players
            idle = lut.count.take(pend) <= 1
            if idle.any():  # the board is run out: nobody can bet any more
                self.street[e[idle]] = 3
                shown.append(e[idle])
        showdown = np.concatenate(shown) if len(shown) > 1 else shown[0]
        if showdown.size:
            self._finish_showdown(showdown)

    def _finish_showdown(self, e: IntArray) -> None:
        m, p, n = e.size, self.num_players, self.num_tables
        live = ~self._unpack(self._folded[e]).T  # (P, m)
        # evaluate the hands still in: flat (seat, table) positions
        k = np.flatnonzero(live)
        seat, col = np.divmod(k, m)
        table = e[col]
        hole = self._hole.view("<u2").reshape(p * n).take(seat * n + table)
        words = self._board8.view("<u8").reshape(n).take(table) | hole
        cards = words.view(np.uint8).reshape(k.size, 8)[:, :7]
        strength = np.full(p * m, -1, np.int64)
        strength[k] = evaluate_cards(cards)
        strength = strength.reshape(p, m)
        self._strength[:, e] = np.maximum(strength, 0)
        contrib = self._stake[:, e] - self._stacks[:, e]
        self._paid[:, e] = contrib
        # Fast path: one pot (every player still in put in the same, nobody who folded more).
        top, _ = self._top_two(contrib)
        single = ~(live & (contrib < top)).any(axis=0)
        if single.any():
            cols = np.flatnonzero(single)
            s = strength[:, cols]  # -1 for seats that folded
            winners = s == s.max(axis=0)
            count = winners.sum(axis=0)
            pot = self._pot[e[cols]]
            share = pot // count
            payout = winners * share
            payout[winners.argmax(axis=0), np.arange(cols.size)] += pot - share * count
            self._stacks[:, e[cols]] += payout
            if single.all():
                self.showdown[e] = True
                self.done[e] = True
                return
            keep = ~single
            self.showdown[e[cols]] = True
            self.done[e[cols]] = True
            e, m = e[keep], int(keep.sum())
            live, strength, contrib = live[:, keep], strength[:, keep], contrib[:, keep]
        levels = np.sort(contrib, axis=0)
        antes = (self._start[:, e] - self._stake[:, e]).sum(axis=0)
        amounts, eligible = [], []
        prev = np.zeros(m, np.int64)
        for k in range(p):
            level = levels[k]
            amt = (np.minimum(contrib, level) - np.minimum(contrib, prev)).sum(axis=0)
            if k == 0:
                amt = amt + antes
            amounts.append(amt)
            eligible.append(live & (contrib >= level))
            prev = level
        # hands that can win no pot are killed before the pots are split (PokerKit's order)
        can_win = np.zeros((p, m), bool)
        for amt, elig in zip(amounts, eligible):
            s = np.where(elig, strength, -1)
            can_win |= elig & (s == s.max(axis=0)) & (amt > 0)
        payout = np.zeros((p, m), np.int64)
        cols = np.arange(m)
        acc = np.zeros(m, np.int64)
        group_count = np.full(m, -1)
        group = np.zeros((p, m), bool)
        for amt, elig in zip(amounts, eligible):
            elig = elig & can_win
            count = elig.sum(axis=0)
            has = amt > 0
            flush = has & (count != group_count) & (acc > 0)
            self._split(payout, cols, np.where(flush, acc, 0), group, strength)
            acc = np.where(flush, 0, acc) + amt
            group_count = np.where(has, count, group_count)
            group = np.where(has, elig, group)
        self._split(payout, cols, acc, group, strength)
        self._stacks[:, e] += payout
        self.showdown[e] = True
        self.done[e] = True

    @staticmethod
    def _split(
        payout: IntArray, cols: IntArray, amount: IntArray, elig: BoolArray, strength: IntArray
    ) -> None:
        """Split ``amount`` between the best eligible hands; odd chips to the first of them."""
        s = np.where(elig, strength, -1)
        winners = elig & (s == s.max(axis=0))
        count = np.maximum(winners.sum(axis=0), 1)
        share = amount // count
        payout += winners * share
        payout[winners.argmax(axis=0), cols] += amount - share * count
