"""Win rates with their uncertainty, and playing statistics, from a `MatchResult`.

bb/100 is the mean result per hand in big blinds, times 100. Its standard error comes from the
spread of independent units: single hands for a plain match, whole deals (all rotations of one set
of cards, averaged) for a duplicate match, so the variance the cards cause is cancelled before the
spread is measured (a last deal played in fewer rotations than seats is left out). The 95%
interval is mean +- 1.96 standard errors (normal approximation; fine for the thousands of hands
any such estimate needs).

>>> w = win_rate(np.array([1.0, -1.0, 3.0, 1.0]), big_blind=1.0)  # chips per hand
>>> w.bb_per_100, round(w.stderr, 2), [round(x, 1) for x in w.ci95]
(100.0, 81.65, [-60.0, 260.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent
from gamelm.agents.registry import make_agent
from gamelm.agents.tabular import BlueprintAgent
from gamelm.evaluation.match import MatchConfig, MatchResult, play_match
from gamelm.poker.positions import position_names
from gamelm.solvers.blueprint import Blueprint

Z95 = 1.959963984540054


@dataclass(frozen=True)
class WinRate:
    bb_per_100: float
    stderr: float  # of bb_per_100
    ci95: tuple[float, float]
    hands: int


def win_rate(per_unit: npt.ArrayLike, big_blind: float, hands: int | None = None) -> WinRate:
    """bb/100 from per-unit mean results in chips (a unit is a hand or a duplicate deal)."""
    x = np.asarray(per_unit, np.float64) / big_blind * 100
    n = x.size
    mean = float(x.mean()) if n else float("nan")
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return WinRate(mean, se, (mean - Z95 * se, mean + Z95 * se), hands if hands is not None else n)


def agent_win_rates(res: MatchResult, allin_adjusted: bool = False) -> dict[str, WinRate]:
    """bb/100 of every agent over every seat it held (duplicate: deals are the units); with
    ``allin_adjusted``, from the all-in adjusted payoffs."""
    out = {}
    bb = res.config.big_blind
    pay = res.allin_payoffs if allin_adjusted and res.allin_payoffs is not None else res.payoffs
    for k, name in enumerate(res.agents):
        held = res.lineup == k  # (H, P)
        units, hands = _units(res, (pay * held).sum(axis=1), held.sum(axis=1))
        out[_unique(name, k, res.agents)] = win_rate(units, bb, hands=hands)
    return out


def _units(
    res: MatchResult, chips: npt.NDArray[np.float64], seats: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], int]:
    """Independent units of one agent's results and the hands they hold: per hand its mean
    result over the seats it held (``chips / seats``) for a plain match; for a duplicate match
    the same per whole deal, leaving out a last deal not played in every rotation (its cards'
    luck is not cancelled), unless no deal is whole."""
    if res.config.duplicate:
        whole = np.bincount(res.deal) == res.config.seats
        rows = whole[res.deal] if whole.any() else np.ones(res.deal.size, bool)
        num = np.bincount(res.deal[rows], chips[rows])
        den = np.bincount(res.deal[rows], seats[rows])
        hands = int(seats[rows].sum())
    else:
        num, den = chips.astype(np.float64), seats.astype(np.float64)
        hands = int(seats.sum())
    keep = den > 0
    return num[keep] / den[keep], hands


def position_win_rates(res: MatchResult, agent: int = 0) -> dict[str, WinRate]:
    """bb/100 of one agent per seat position, with the units of `agent_win_rates` (in a duplicate
    match an agent may sit at one position in several rotations of a deal: they form one unit)."""
    names = position_names(res.config.seats)
    out = {}
    for s, pos in enumerate(names):
        held = res.lineup[:, s] == agent
        if held.any():
            units, hands = _units(res, np.where(held, res.payoffs[:, s], 0), held.astype(int))
            out[pos] = win_rate(units, res.config.big_blind, hands=hands)
    return out


def _unique(name: str, k: int, names: list[str]) -> str:
    return name if names.count(name) == 1 else f"{name}#{k}"


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def playing_stats(res: MatchResult, agent: int) -> dict[str, float]:
    """VPIP, PFR, 3-bet, AF, WTSD, W$SD, c-bet, fold to c-bet, bluffs and action shares."""
    held = res.lineup == agent
    c = {k: float((v * held).sum()) for k, v in res.counters.items()}
    seat_hands = float(held.sum())
    won_sd = float(((res.payoffs > 0) & held & (res.counters["showdown"] > 0)).sum())
    bluff_hands = held & (res.counters["bluffs"] > 0)
    actions = c["folds"] + c["checks"] + c["calls"] + c["raises"]
    return {
        "hands": seat_hands,
        "vpip": _ratio(c["vpip"], seat_hands),
        "pfr": _ratio(c["pfr"], seat_hands),
        "three_bet": _ratio(c["three_bet"], c["three_bet_chance"]),
        "af": _ratio(c["post_aggr"], c["post_calls"]),
        "wtsd": _ratio(c["showdown"], c["saw_flop"]),
        "wsd": _ratio(won_sd, c["showdown"]),
        "cbet": _ratio(c["cbet"], c["cbet_chance"]),
        "fold_to_cbet": _ratio(c["fold_cbet"], c["face_cbet"]),
        "bluffs_per_100": 100 * _ratio(c["bluffs"], seat_hands),
        "bluff_success": _ratio(
            float(((res.payoffs > 0) & bluff_hands).sum()), float(bluff_hands.sum())
        ),
        "bluff_bb": _ratio(
            float((res.payoffs * bluff_hands).sum()) / res.config.big_blind,
            float(bluff_hands.sum()),
        ),
        "fold": _ratio(c["folds"], actions),
        "check": _ratio(c["checks"], actions),
        "call": _ratio(c["calls"], actions),
        "raise": _ratio(c["raises"], actions),
        "all_in": _ratio(c["all_ins"], actions),
    }


def summary(res: MatchResult) -> dict:
    """The JSON summary of a match: ``{"hands": H, "agents": {name: {...}}}``; every agent's entry
    has its win rate, all-in adjusted win rate, playing statistics and win rate by position."""
    rates = agent_win_rates(res)
    adjusted = agent_win_rates(res, allin_adjusted=True)
    agents = {}
    for k, (name, wr) in enumerate(rates.items()):
        stats = playing_stats(res, k)
        same, asked = res.agreement.get(k, (0, 0))
        adj = adjusted[name]
        agents[name] = {
            "bb_per_100": wr.bb_per_100,
            "stderr": wr.stderr,
            "ci95": list(wr.ci95),
            "hands": wr.hands,
            "allin_adjusted": {
                "bb_per_100": adj.bb_per_100,
                "stderr": adj.stderr,
                "ci95": list(adj.ci95),
            },
            **{key: stats[key] for key in stats if key != "hands"},
            **({"agreement": same / asked} if asked else {}),
            "positions": {
                pos: {
                    "bb_per_100": w.bb_per_100,
                    "stderr": w.stderr,
                    "ci95": list(w.ci95),
                    "hands": w.hands,
                }
                for pos, w in position_win_rates(res, k).items()
            },
        }
    return {
        "hands": int(res.payoffs.shape[0]),
        "seats": res.config.seats,
        "duplicate": res.config.duplicate,
        "seed": res.config.seed,
        "agents": agents,
    }


def hero_win_rate(
    hero: Agent, opponents: list[Agent], config: MatchConfig, progress: bool = False
) -> WinRate:
    """`WinRate` of ``hero`` (bb/100 with its 95% CI) in a match against ``opponents``, cycled
    over the other ``config.seats - 1`` seats."""
    others = [opponents[k % len(opponents)] for k in range(config.seats - 1)]
    rates = agent_win_rates(play_match([hero, *others], config, progress=progress))
    return next(iter(rates.values()))  # the hero's: agents keep their order


def blueprint_win_rate(
    blueprint: Blueprint, opponent: str = "tag", hands: int = 1000, seed: int = 0
) -> dict[str, float | str | list[float]]:
    """Play ``blueprint``'s current average strategy against ``opponent`` (an agent spec) for
    ``hands`` duplicate heads-up hands (the blueprint's stacks, the match menu of its raise
    sizes): bb/100 with its 95% CI, with the blueprint's iterations and deals so far."""
    match = MatchConfig(
        seats=2, hands=hands, seed=seed, stack_bb=blueprint.config.stack_bb,
        fractions=blueprint.config.fractions,
    )  # fmt: skip
    wr = hero_win_rate(BlueprintAgent(blueprint), [make_agent(opponent)], match)
    return {
        "iterations": blueprint.iterations,
        "deals": blueprint.deals,
        "opponent": opponent,
        "hands": hands,
        "bb_per_100": wr.bb_per_100,
        "ci95": [float(x) for x in wr.ci95],
    }
