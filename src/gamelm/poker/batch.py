"""Batched No-Limit Hold'em: N tables of P seats played in lockstep with numpy.

Struct of arrays: one array per field, updated in place. Per-seat fields are stored seat-major,
``(P, N)``, so that every reduction over the seats of all tables is a few contiguous vector
operations (numpy reduces a short last axis ~20x slower); the public attributes ``stacks``,
``bets``, ``folded``, ``hole``... are ``(N, P)`` views of them.
Every table has one player to act; ``step`` applies one action per table at once (tables that are
finished, or left out by ``mask``, do not move). Finished tables stay finished until ``reset``.
The rules are those of `gamelm.poker.rules` (seat order, blinds, minimum raises, short all-ins,
uncalled bets, side pots, PokerKit's odd-chip convention); a differential test plays thousands of
random hands through both and PokerKit.

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

import numpy as np
import numpy.typing as npt

from gamelm.poker.evaluator import evaluate_batch
from gamelm.poker.rules import MAX_SEATS, IllegalActionError

FOLD, CHECK_CALL, RAISE = 0, 1, 2
ACTION_KIND_NAMES = ("fold", "check/call", "raise")

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class LegalBatch:
    """Legal options of the player to act at every table (meaningless where ``done``)."""

    actor: IntArray
    can_fold: BoolArray
    call_amount: IntArray
    can_raise: BoolArray
    min_raise_to: IntArray
    max_raise_to: IntArray
    cache: dict = field(default_factory=dict, repr=False)  # derived arrays (e.g. menu amounts)


class BatchEngine:
    """N tables x P seats of NLHE (seat P-1 is the button, as in `gamelm.poker.rules`).

    Args:
        num_tables: tables played in lockstep.
        num_players: seats per table, 2..10.
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
        if not 2 <= num_players <= MAX_SEATS:
            raise ValueError(f"a table has 2 to {MAX_SEATS} seats, got {num_players}")
        if not 0 < small_blind <= big_blind:
            raise ValueError(
                f"blinds must satisfy 0 < small blind <= big blind, got {small_blind}/{big_blind}"
            )
        if ante < 0:
            raise ValueError(f"the ante cannot be negative, got {ante}")
        n, p = num_tables, num_players
        self.num_tables, self.num_players = n, p
        self.small_blind, self.big_blind, self.ante = int(small_blind), int(big_blind), int(ante)
        self.default_stacks = self._stack_array(starting_stacks)
        blinds = np.zeros(p, dtype=np.int64)
        if p == 2:
            blinds[:] = (big_blind, small_blind)
        else:
            blinds[:2] = (small_blind, big_blind)
        self.blinds = blinds
        self._rows = np.arange(n)
        self._seats = np.arange(p)[:, None]  # (P, 1) to broadcast against (P, N)
        shape = (p, n)  # seat-major
        self._start = np.zeros(shape, np.int64)
        self._stacks = np.zeros(shape, np.int64)
        self._bets = np.zeros(shape, np.int64)
        self._contrib = np.zeros(shape, np.int64)  # chips put in this hand, antes excluded
        self._antes = np.zeros(shape, np.int64)
        self._folded = np.zeros(shape, bool)
        self._pending = np.zeros(shape, bool)  # still to act this round (PokerKit's actor queue)
        self._acted = np.zeros(shape, bool)
        self._strength = np.zeros(shape, np.int64)
        self._hole = np.zeros((p, n, 2), np.uint8)
        self.board = np.zeros((n, 5), np.uint8)
        self.street = np.zeros(n, np.int64)  # 0 preflop .. 3 river
        self.actor = np.zeros(n, np.int64)
        self.done = np.ones(n, bool)
        self.max_bet = np.zeros(n, np.int64)
        self.last_raise = np.zeros(n, np.int64)
        self.short_sum = np.zeros(n, np.int64)
        self.short_any = np.zeros(n, bool)
        self.showdown = np.zeros(n, bool)
        self._legal: LegalBatch | None = None

    # (N, P) views of the seat-major state
    @property
    def stacks(self) -> IntArray:
        """``(N, P)`` chips behind (not yet bet)."""
        return self._stacks.T

    @property
    def bets(self) -> IntArray:
        """``(N, P)`` chips bet on the current street."""
        return self._bets.T

    @property
    def contrib(self) -> IntArray:
        """``(N, P)`` chips put in over the hand, antes excluded."""
        return self._contrib.T

    @property
    def antes(self) -> IntArray:
        """``(N, P)`` antes posted."""
        return self._antes.T

    @property
    def folded(self) -> BoolArray:
        return self._folded.T

    @property
    def start_stacks(self) -> IntArray:
        """``(N, P)`` stacks at the start of the current hand."""
        return self._start.T

    @property
    def hole(self) -> npt.NDArray[np.uint8]:
        """``(N, P, 2)`` hole cards."""
        return self._hole.transpose(1, 0, 2)

    @property
    def strength(self) -> IntArray:
        """``(N, P)`` hand strengths of a showdown (0 for folded seats and before)."""
        return self._strength.T

    # -- set-up -----------------------------------------------------------------------------
    def _stack_array(self, stacks: int | npt.ArrayLike) -> IntArray:
        try:
            arr = np.broadcast_to(
                np.asarray(stacks, dtype=np.int64), (self.num_tables, self.num_players)
            )
        except ValueError:
            raise ValueError(
                f"starting stacks must be one number, {self.num_players} numbers or a "
                f"({self.num_tables}, {self.num_players}) array"
            ) from None
        if (arr <= 0).any():
            raise ValueError("every starting stack must be positive")
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
        idx = self._rows if mask is None else np.flatnonzero(np.asarray(mask, bool))
        if idx.size == 0:
            return
        if starting_stacks is not None:
            start = self._stack_array(starting_stacks)[idx]
        else:
            start = self.default_stacks[idx]
        p, m = self.num_players, idx.size
        if hole is not None or board is not None:
            if hole is None or board is None:
                raise ValueError("give both hole and board cards, or neither")
            h = np.asarray(hole, np.int64).reshape(self.num_tables, p, 2)[idx]
            b = np.asarray(board, np.int64).reshape(self.num_tables, 5)[idx]
            every = np.concatenate([h.reshape(m, -1), b], axis=1)
            srt = np.sort(every, axis=1)
            if (every < 0).any() or (every > 51).any() or (srt[:, 1:] == srt[:, :-1]).any():
                raise ValueError("cards must be distinct ints 0..51 at every table")
            self._hole[:, idx] = h.transpose(1, 0, 2)
            self.board[idx] = b
        else:
            gen = rng if rng is not None else np.random.default_rng(seed)
            deck = self._deal(gen, m, 2 * p + 5)  # (2P + 5, m)
            self._hole[:, idx] = deck[: 2 * p].reshape(p, 2, m).transpose(0, 2, 1)
            self.board[idx] = deck[2 * p :].T
        start = start.T  # (P, m)
        antes = np.minimum(self.ante, start)
        after_ante = start - antes
        blinds = np.minimum(self.blinds[:, None], after_ante)
        self._start[:, idx] = start
        self._antes[:, idx] = antes
        self._stacks[:, idx] = after_ante - blinds
        self._bets[:, idx] = blinds
        self._contrib[:, idx] = blinds
        self._folded[:, idx] = False
        self._strength[:, idx] = 0
        self.street[idx] = 0
        self.done[idx] = False
        self.showdown[idx] = False
        self._legal = None
        self._close_rounds(self._begin_round(idx))

    @staticmethod
    def _deal(gen: np.random.Generator, m: int, k: int) -> npt.NDArray[np.uint8]:
        """``(k, m)``: the first ``k`` cards of ``m`` shuffled decks (partial Fisher-Yates)."""
        deck = np.empty((52, m), np.uint8)
        deck[:] = np.arange(52, dtype=np.uint8)[:, None]
        flat = deck.ravel()
        cols = np.arange(m)
        for i in range(k):
            j = (i + gen.integers(0, 52 - i, size=m)) * m + cols
            picked = flat[j]
            flat[j] = deck[i]
            deck[i] = picked
        return deck[:k]

    # -- queries ----------------------------------------------------------------------------
    def legal(self) -> LegalBatch:
        """Legal options at every table (cached until the next change)."""
        if self._legal is None:
            self._legal = self._compute_legal()
        return self._legal

    def _actor_flat(self) -> IntArray:
        return self.actor * self.num_tables + self._rows

    def _compute_legal(self) -> LegalBatch:
        flat = self._actor_flat()
        stack = self._stacks.ravel()[flat]
        bet = self._bets.ravel()[flat]
        owe = self.max_bet - bet
        call = np.minimum(stack, owe)
        acted = self._acted.ravel()[flat]
        covering = (self._stacks + self._bets > self.max_bet) & ~self._folded
        others = covering.sum(axis=0) - covering.ravel()[flat]
        can_raise = (
            (call >= self.last_raise)
            & ~(self.short_any & acted)
            & (stack > owe)
            & (others > 0)
            & ~self.done
        )
        max_to = stack + bet
        min_to = np.minimum(max_to, np.maximum(self.last_raise, self.big_blind) + self.max_bet)
        return LegalBatch(
            actor=self.actor.copy(),
            can_fold=(bet < self.max_bet) & ~self.done,
            call_amount=call,
            can_raise=can_raise,
            min_raise_to=min_to,
            max_raise_to=max_to,
        )

    def pot(self) -> IntArray:
        """All chips committed at each table (antes and current bets included)."""
        return self._contrib.sum(axis=0) + self._antes.sum(axis=0)

    def payoffs(self) -> IntArray:
        """``(N, P)`` chips won or lost in the current hand (final once ``done``)."""
        return (self._stacks - self._start).T

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
        n, p = self.num_tables, self.num_players
        kind = np.broadcast_to(np.asarray(kind, np.int64), (n,))
        amount_arr = np.broadcast_to(np.asarray(0 if amount is None else amount, np.int64), (n,))
        act = ~self.done if mask is None else (np.asarray(mask, bool) & ~self.done)
        legal = self.legal()
        self._validate(kind, amount_arr, act, legal)

        is_fold = act & (kind == FOLD)
        is_raise = act & (kind == RAISE)
        flat = self._actor_flat()
        bet = self._bets.ravel()[flat]
        chips = np.where(kind == CHECK_CALL, legal.call_amount, amount_arr - bet)
        chips = np.where(act & ~is_fold, chips, 0)
        self._stacks.ravel()[flat] -= chips
        self._bets.ravel()[flat] += chips
        self._contrib.ravel()[flat] += chips
        self._folded.ravel()[flat] |= is_fold
        self._pending.ravel()[flat] &= ~act
        self._acted.ravel()[flat] |= act

        r = np.flatnonzero(is_raise)
        if r.size:
            self._apply_raises(r, flat[r], amount_arr[r])

        live = p - self._folded.sum(axis=0)
        over = act & ((live <= 1) | ~self._pending.any(axis=0))
        go_on = act & ~over
        # next to act: the first pending seat after the actor, cyclically
        after = (self._seats - self.actor - 1) % p  # (P, N): 0 for the next seat
        first = np.where(self._pending, after, p).min(axis=0)
        self.actor = np.where(go_on, (self.actor + 1 + first) % p, self.actor)
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
        if self.short_any[t] and self._acted[a, t]:
            return "an all-in that is not a full raise does not reopen the betting"
        if self._stacks[a, t] <= owe:
            return "the stack does not exceed the amount to call"
        return "every opponent is all-in or folded"

    def _apply_raises(self, r: IntArray, flat: IntArray, amount: IntArray) -> None:
        inc = amount - self.max_bet[r]
        full = inc >= self.last_raise[r]
        self._acted[:, r[full]] = False
        self._acted.ravel()[flat[full]] = True
        last = np.maximum(self.last_raise[r], inc)
        self.last_raise[r] = last
        all_in = self._stacks.ravel()[flat] == 0
        short = np.where(all_in, self.short_sum[r] + inc, 0)
        keep = all_in & (short < last)
        self.short_sum[r] = np.where(keep, short, 0)
        self.short_any[r] = keep
        self._pending[:, r] = ~self._folded[:, r] & (self._stacks[:, r] > 0)
        self._pending.ravel()[flat] = False
        self.max_bet[r] = amount

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

    def _begin_round(self, e: IntArray) -> IntArray:
        """Start the betting round of ``street[e]``; return the tables where nobody can act."""
        p = self.num_players
        stacks = self._stacks[:, e]
        live = ~self._folded[:, e]
        self._acted[:, e] = False
        self.last_raise[e] = 0
        self.short_sum[e] = 0
        self.short_any[e] = False
        if (self.street[e] > 0).all():
            # postflop: no bets yet, seat 0 opens, a lone player with chips never acts
            _, second = self._top_two(np.where(live, stacks, -1))
            pend = live & (stacks > 0) & (second > 0)
            self._pending[:, e] = pend
            self.max_bet[e] = 0
            self.actor[e] = np.where(pend, self._seats, p).min(axis=0) % p
            return e[pend.sum(axis=0) <= 1]
        bets = self._bets[:, e]
        preflop = self.street[e] == 0
        # preflop the seat after the largest blind opens (ties: the later seat); postflop seat 0
        blind_key = bets * (self.blinds > 0)[:, None] * (p + 1) + self._seats
        opener = np.where(preflop, (blind_key.argmax(axis=0) + 1) % p, 0)
        _, second = self._top_two(np.where(live, bets + stacks, -1))
        effective = np.minimum(stacks, np.maximum(0, second - bets))
        pend = live & (stacks > 0) & (effective > 0)
        self._pending[:, e] = pend
        max_bet = bets.max(axis=0)
        self.max_bet[e] = max_bet
        first = np.where(pend, (self._seats - opener) % p, p).min(axis=0)
        actor = (opener + first) % p
        self.actor[e] = actor
        count = pend.sum(axis=0)
        cols = np.arange(e.size)
        idle = (count == 0) | ((count == 1) & (bets[actor % p, cols] >= max_bet))
        return e[idle]

    def _close_rounds(self, e: IntArray) -> None:
        """End the betting rounds at tables ``e`` and move them on until someone must act."""
        while e.size:
            e = self._collect(e)
            river = self.street[e] == 3
            if river.any():
                self._finish_showdown(e[river])
                e = e[~river]
            self.street[e] += 1
            e = self._begin_round(e)

    def _collect(self, e: IntArray) -> IntArray:
        """Return uncalled bets, clear bets; finish uncontested hands. Return the tables left."""
        bets = self._bets[:, e]
        live = ~self._folded[:, e]
        contested = live.sum(axis=0) > 1
        _, cutoff = self._top_two(bets)
        excess = np.maximum(bets - cutoff, 0) * contested
        self._stacks[:, e] += excess
        self._contrib[:, e] -= excess
        self._bets[:, e] = 0
        self.max_bet[e] = 0
        self._pending[:, e] = False
        won = ~contested
        if won.any():
            w = e[won]
            winner = live[:, won].argmax(axis=0)
            pot = self._contrib[:, w].sum(axis=0) + self._antes[:, w].sum(axis=0)
            self._stacks[winner, w] += pot
            self.done[w] = True
        return e[contested]

    def _finish_showdown(self, e: IntArray) -> None:
        m, p = e.size, self.num_players
        cards = np.empty((p, m, 7), np.uint8)
        cards[:, :, :2] = self._hole[:, e]
        cards[:, :, 2:] = self.board[e][None, :, :]
        live = ~self._folded[:, e]
        strength = np.where(live, evaluate_batch(cards.reshape(p * m, 7)).reshape(p, m), -1)
        self._strength[:, e] = np.maximum(strength, 0)
        contrib = self._contrib[:, e]
        # Fast path: one pot (every player still in put in the same, nobody who folded more).
        top, _ = self._top_two(contrib)
        single = ~(live & (contrib < top)).any(axis=0)
        if single.any():
            cols = np.flatnonzero(single)
            pot = contrib[:, cols].sum(axis=0) + self._antes[:, e[cols]].sum(axis=0)
            payout = np.zeros((p, cols.size), np.int64)
            self._split(payout, np.arange(cols.size), pot, live[:, cols], strength[:, cols])
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
        antes = self._antes[:, e].sum(axis=0)
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
