"""A thin driver around PokerKit (test-only oracle) that deals given cards and exposes the same
legal-action summary as gamelm."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from gamelm.poker.cards import CARD_NAMES

try:
    import pokerkit as pk
except ImportError:  # pragma: no cover - the dev extra installs it
    pk = None

STREET_BOARD = (0, 3, 4, 5)


@dataclass(frozen=True)
class LegalView:
    seat: int
    can_fold: bool
    call_amount: int
    can_raise: bool
    min_raise_to: int | None
    max_raise_to: int | None
    pot: int


class PokerKitHand:
    """One NLHE hand in PokerKit with fixed cards; seats are PokerKit player indices."""

    def __init__(self, stacks, small_blind, big_blind, ante, hole, board):
        automations = (
            pk.Automation.ANTE_POSTING,
            pk.Automation.BET_COLLECTION,
            pk.Automation.BLIND_OR_STRADDLE_POSTING,
            pk.Automation.CARD_BURNING,
        )
        self.n = len(stacks)
        self.state = pk.NoLimitTexasHoldem.create_state(
            automations,
            False,
            ante,
            (small_blind, big_blind),
            big_blind,
            tuple(stacks),
            self.n,
        )
        self.board = [CARD_NAMES[c] for c in board]
        self.dealt_board = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(self.n):
                self.state.deal_hole(CARD_NAMES[hole[2 * i]] + CARD_NAMES[hole[2 * i + 1]])
        self.final_pots = None
        self._advance()

    def _advance(self):
        s = self.state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while True:
                if s.can_deal_board():
                    k = 3 if self.dealt_board == 0 else 1
                    s.deal_board("".join(self.board[self.dealt_board : self.dealt_board + k]))
                    self.dealt_board += k
                elif s.can_show_or_muck_hole_cards():
                    s.show_or_muck_hole_cards(True)  # everyone shows: pots keep all players
                elif s.can_kill_hand() or s.can_push_chips():
                    if self.final_pots is None:  # the pots before losing hands are killed
                        self.final_pots = [(p.amount, tuple(p.player_indices)) for p in s.pots]
                    if s.can_kill_hand():
                        s.kill_hand()
                    else:
                        s.push_chips()
                elif s.can_pull_chips():
                    s.pull_chips()
                else:
                    break

    @property
    def finished(self) -> bool:
        return not self.state.status

    @property
    def actor(self):
        return self.state.actor_index

    def legal(self) -> LegalView:
        s = self.state
        can_raise = s.can_complete_bet_or_raise_to()
        return LegalView(
            seat=s.actor_index,
            can_fold=s.can_fold(),
            call_amount=s.checking_or_calling_amount,
            can_raise=can_raise,
            min_raise_to=s.min_completion_betting_or_raising_to_amount if can_raise else None,
            max_raise_to=s.max_completion_betting_or_raising_to_amount if can_raise else None,
            pot=s.total_pot_amount,
        )

    def fold(self):
        self.state.fold()
        self._advance()

    def check_call(self):
        self.state.check_or_call()
        self._advance()

    def raise_to(self, amount: int):
        self.state.complete_bet_or_raise_to(amount)
        self._advance()

    @property
    def stacks(self):
        return tuple(self.state.stacks)
