"""Poker facts for prompt programs, computed by the gamelm core: the hand's class and made hand,
its equity against random hands and against a range, and the pot odds of a call.

A prompt program (`gamelm.agents.dspy_agent`) calls these tools itself and hands their answers to
the language model as one ``analysis`` text, so a frozen LLM need not do card arithmetic.

>>> import numpy as np
>>> from gamelm.poker.cards import parse_cards
>>> pot_odds_text(30, 100)
'a call of 30 into a pot of 100 needs 23% equity'
>>> made_hand(parse_cards("AsAh"), parse_cards("AdKs2c"))
'AA, three of a kind'
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Observation
from gamelm.poker.equity import hand_strength, pot_odds
from gamelm.poker.evaluator import category_name, evaluate
from gamelm.poker.ranges import NUM_COMBOS, Range, hand_class

RAISING_RANGE = "22+, A2s+, K8s+, Q9s+, J9s+, T8s+, 98s, 87s, 76s, 65s, A8o+, KTo+, QTo+, JTo"
"""About the top 30% of hands: what a player who raised preflop is put on by default."""


@cache
def range_weights(spec: str) -> npt.NDArray[np.float64]:
    """Combo weights of a range text (``"TT+, AKs"``); ``""`` or ``"random"`` is every hand."""
    if spec.strip().lower() in ("", "random", "any"):
        return np.ones(NUM_COMBOS)
    weights = Range.parse(spec).weights
    weights.setflags(write=False)
    return weights


def made_hand(hole: npt.ArrayLike, board: npt.ArrayLike) -> str:
    """The hand's class (``AKs``) and, once a flop is out, its best five-card category."""
    hole = np.asarray(hole, np.int64)
    board = np.asarray(board, np.int64)
    name = hand_class(int(hole[0]), int(hole[1]))
    if board.size < 3:
        return name
    return f"{name}, {category_name(evaluate(np.concatenate([hole, board])))}"


def equity_vs_range(
    obs: Observation, i: int, spec: str, trials: int, rng: np.random.Generator
) -> float:
    """Equity of the hand at row ``i`` against one opponent holding ``spec`` (a range text) and
    any other live opponents holding random hands, Monte Carlo with ``trials`` deals."""
    opponents = np.maximum(obs.live_opponents[i : i + 1], 1)
    return float(
        hand_strength(
            obs.hole[i : i + 1],
            obs.board[i : i + 1],
            obs.board_count[i : i + 1],
            opponents,
            trials=trials,
            rng=rng,
            ranges=range_weights(spec),
            ranged=np.ones(1, np.int64),
        )[0]
    )


def facing_preflop_raise(obs: Observation, i: int) -> bool:
    """Preflop, an opponent has raised: the largest bet is above the big blind and is not the
    actor's own."""
    if int(obs.street[i]) != 0:
        return False
    top = int(obs.bets[i].max())
    return top > obs.big_blind and top > int(obs.bets[i, int(obs.seat[i])])


def pot_odds_text(call: int, pot: int) -> str:
    """The price of a call in words."""
    if call <= 0:
        return "nothing to call"
    return f"a call of {call} into a pot of {pot} needs {pot_odds(call, pot):.0%} equity"


def analysis(obs: Observation, i: int, trials: int, rng: np.random.Generator) -> str:
    """Every tool's answer for the decision at row ``i``, as lines of text."""
    count = int(obs.board_count[i])
    opponents = max(int(obs.live_opponents[i]), 1)
    who = f"{opponents} random hand" + ("s" if opponents > 1 else "")
    lines = [
        f"Hand: {made_hand(obs.hole[i], obs.board[i, :count])}",
        f"Equity against {who}: {equity_vs_range(obs, i, 'random', trials, rng):.0%}",
    ]
    if facing_preflop_raise(obs, i):
        eq = equity_vs_range(obs, i, RAISING_RANGE, trials, rng)
        lines.append(f"Equity against the raiser's range (top 30%): {eq:.0%}")
    lines.append(f"Pot odds: {pot_odds_text(int(obs.to_call[i]), int(obs.pot[i]))}")
    return "\n".join(lines)
