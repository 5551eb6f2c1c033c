"""Local best response (Lisy and Bowling 2017, "Equilibrium Approximation Quality of Current
No-Limit Poker Bots"): a lower bound on how much a heads-up agent can be exploited.

LBR plays the agent. It keeps the agent's *range*, a weight per two-card combo, starting uniform
over the combos its own cards and the board do not block; after every action of the agent each
combo's weight is multiplied by the probability that the agent takes that action with that combo
(asked of the agent itself, 1,326 hypothetical hands in one batch; Bayes' rule). At its own
decisions LBR assumes the hand is checked or called down from there and picks, among fold,
check/call and its bet sizes, the one with the best expected value against the range:

- call: ``wp * pot - (1 - wp) * to_call``, ``wp`` its Monte Carlo equity against the range;
- bet ``b``: ``fp * pot + (1 - fp) * (wp' * (pot + b) - (1 - wp') * (to_call + b))``, where
  ``fp`` is the range's probability of folding to the bet (asked of the agent) and ``wp'`` the
  equity against the range that continues;
- fold: 0, chosen when nothing else is positive (a free check is never folded).

Every deal is played twice, LBR in each seat, and the result is LBR's winnings in milli big
blinds per game with a 95% confidence interval over the deals. Agents that expose
``action_probabilities(obs, rng) -> (m, A)`` (the blueprint, random) are asked exactly; for the
others one sampled action per combo is taken as the probability (smoothed by ``epsilon`` so that
one noisy choice does not empty the range).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, Observation, observe
from gamelm.agents.observation import ActionHistory
from gamelm.poker.abstraction import CALL_ID, FOLD_ID, ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.poker.cards import deal
from gamelm.poker.equity import hand_strength
from gamelm.poker.ranges import COMBOS, NUM_COMBOS

FloatArray = npt.NDArray[np.float64]
SMALL_BLIND, BIG_BLIND = 1, 2


@dataclass
class LBRConfig:
    """How LBR is played.

    Args:
        hands: games to play, at least 3 (rounded up to an even number: every deal in both
            seats).
        bet_fractions: LBR's bet sizes as pot fractions, besides fold, check/call and all-in.
        fractions: the raise sizes of the menu the agent plays with (LBR's sizes are added).
        stack_bb: starting stacks in big blinds.
        wp_trials: Monte Carlo deals for each equity against the range.
        epsilon: smoothing of the one-sample action probabilities of agents without
            ``action_probabilities``.
        seed: seed of the deals and of LBR's and the agent's randomness.
    """

    hands: int = 1000
    bet_fractions: tuple[float, ...] = (1.0,)
    fractions: tuple[float, ...] = (0.5, 1.0)
    stack_bb: int = 100
    wp_trials: int = 400
    epsilon: float = 0.05
    seed: int = 0

    def __post_init__(self) -> None:
        if self.hands < 3:
            raise ValueError(
                f"hands must be at least 3 (two deals in both seats give a CI), got {self.hands}"
            )
        if self.stack_bb < 1:
            raise ValueError(f"stack_bb must be at least 1, got {self.stack_bb}")
        if self.wp_trials < 10:
            raise ValueError(f"wp_trials must be at least 10, got {self.wp_trials}")
        if not 0 <= self.epsilon < 1:
            raise ValueError(f"epsilon must be in [0, 1), got {self.epsilon}")
        ActionAbstraction(tuple(self.bet_fractions))
        ActionAbstraction(tuple(self.fractions))

    @property
    def menu(self) -> ActionAbstraction:
        return ActionAbstraction(tuple(sorted(set(self.fractions) | set(self.bet_fractions))))


@dataclass
class LBRResult:
    mbb_per_game: float
    ci95: tuple[float, float]
    hands: int
    per_deal: FloatArray  # LBR's mean winnings per deal (both seats), mbb
    seed: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "mbb_per_game": self.mbb_per_game,
            "ci95": list(self.ci95),
            "hands": self.hands,
            "seed": self.seed,
        }


class _Hand:
    """One hand replayed from its deal and menu ids on a one-table engine."""

    def __init__(self, menu: ActionAbstraction, stack: int, hole: np.ndarray, board: np.ndarray):
        self.menu, self.stack, self.hole, self.board = menu, stack, hole, board
        self.actions: list[int] = []

    def state(self, extra: list[int] | None = None) -> tuple[BatchEngine, ActionHistory, list[int]]:
        eng = BatchEngine(1, 2, SMALL_BLIND, BIG_BLIND, starting_stacks=self.stack)
        eng.reset(hole=self.hole[None], board=self.board[None])
        history = ActionHistory(1, 2)
        history.reset([0])
        raises = np.zeros(1, np.int64)
        pre = np.zeros(1, np.int64)
        t = np.zeros(1, np.int64)
        for a in [*self.actions, *(extra or [])]:
            obs = observe(eng, self.menu, t, raises, pre, history)
            history.record(obs, np.array([a]))
            if a >= 2:
                raises += 1
                pre += eng.street[0] == 0
            before = int(eng.street[0])
            self.menu.step(eng, np.array([a]))
            if int(eng.street[0]) != before:
                raises[:] = 0
                if not eng.done[0]:
                    history.new_street(t, eng.street[t], eng.board[t])
        return eng, history, [int(raises[0]), int(pre[0])]

    def observation(self, extra: list[int] | None = None) -> Observation:
        eng, history, (raises, pre) = self.state(extra)
        t = np.zeros(1, np.int64)
        return observe(eng, self.menu, t, np.array([raises]), np.array([pre]), history)


def _action_probs(
    agent: Agent,
    obs: Observation,
    combos: npt.NDArray[np.int64],
    rng: np.random.Generator,
    epsilon: float,
) -> FloatArray:
    """``(len(combos), A)``: the agent's action probabilities at ``obs`` holding each combo."""
    many = obs.subset(np.zeros(combos.size, np.int64))
    many.hole = COMBOS[combos].astype(np.uint8)
    probs_fn = getattr(agent, "action_probabilities", None)
    if probs_fn is not None:
        return np.asarray(probs_fn(many, rng), np.float64)
    ids = np.asarray(agent.act(many, rng), np.int64)
    legal = many.legal.astype(np.float64)
    one_hot = np.zeros_like(legal)
    one_hot[np.arange(combos.size), ids] = 1.0
    return (1 - epsilon) * one_hot + epsilon * legal / legal.sum(1, keepdims=True)


def _blocked(cards: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    c = np.asarray(cards, np.int64).ravel()
    return np.isin(COMBOS[:, 0], c) | np.isin(COMBOS[:, 1], c)


def local_best_response(
    agent: Agent, config: LBRConfig | None = None, progress: bool = False
) -> LBRResult:
    """Play LBR against ``agent`` heads-up; return LBR's winnings (the agent's exploitability
    lower bound) in mbb per game."""
    from tqdm import tqdm

    cfg = config or LBRConfig()
    blueprint = getattr(agent, "blueprint", None)
    if blueprint is not None and blueprint.config.stack_bb != cfg.stack_bb:
        raise ValueError(
            f"{agent.name} was solved for {blueprint.config.stack_bb} bb stacks; "
            f"play it at --stack {blueprint.config.stack_bb}"
        )
    menu = cfg.menu
    stack = cfg.stack_bb * BIG_BLIND
    bet_ids = [2 + menu.fractions.index(f) for f in cfg.bet_fractions] + [menu.all_in_id]
    rng = np.random.default_rng([cfg.seed, 7])
    deals = -(-cfg.hands // 2)
    cards = deal(np.random.default_rng([cfg.seed, 8]), 9, deals).T.astype(np.int64)
    per_deal = np.zeros(deals)
    bar = tqdm(
        total=2 * deals, unit="hand", desc=f"LBR vs {agent.name}", disable=not progress, leave=False
    )
    with bar:
        for d in range(deals):
            total = 0.0
            for lbr_seat in (0, 1):
                hole = cards[d, :4].reshape(2, 2)
                board = cards[d, 4:]
                total += _play(agent, cfg, menu, stack, bet_ids, hole, board, lbr_seat, rng)
                bar.update(1)
            per_deal[d] = total / 2 / BIG_BLIND * 1000
    mean = float(per_deal.mean())
    half = 1.96 * float(per_deal.std(ddof=1)) / np.sqrt(deals)
    return LBRResult(mean, (mean - half, mean + half), 2 * deals, per_deal, cfg.seed)


def _play(
    agent: Agent,
    cfg: LBRConfig,
    menu: ActionAbstraction,
    stack: int,
    bet_ids: list[int],
    hole: np.ndarray,
    board: np.ndarray,
    lbr_seat: int,
    rng: np.random.Generator,
) -> float:
    """One hand; LBR's winnings in chips."""
    hand = _Hand(menu, stack, hole, board)
    weights = np.ones(NUM_COMBOS)
    mine = hole[lbr_seat]
    while True:
        eng, _, _ = hand.state()
        if eng.done[0]:
            return float(eng.payoffs()[0, lbr_seat])
        count = int(eng.visible_board_count()[0])
        known = np.concatenate([mine, board[:count]])
        weights[_blocked(known)] = 0.0
        obs = hand.observation()
        if int(eng.actor[0]) != lbr_seat:
            combos = np.flatnonzero(weights > 0)
            a = int(np.asarray(agent.act(obs, rng))[0])
            if combos.size:
                weights[combos] *= _action_probs(agent, obs, combos, rng, cfg.epsilon)[:, a]
            hand.actions.append(a)
            continue
        hand.actions.append(_lbr_action(agent, cfg, hand, obs, weights, bet_ids, rng))


def _equity(
    mine: np.ndarray, obs: Observation, weights: FloatArray, trials: int, rng: np.random.Generator
) -> float:
    if weights.sum() <= 0:
        return 1.0
    return float(
        hand_strength(
            mine[None],
            obs.board[:1],
            obs.board_count[:1],
            [1],
            trials=trials,
            rng=rng,
            ranges=weights,
        )[0]
    )


def _lbr_action(
    agent: Agent,
    cfg: LBRConfig,
    hand: _Hand,
    obs: Observation,
    weights: FloatArray,
    bet_ids: list[int],
    rng: np.random.Generator,
) -> int:
    mine = obs.hole[0].astype(np.int64)
    pot = float(obs.pot[0])
    asked = float(obs.to_call[0])
    wp = _equity(mine, obs, weights, cfg.wp_trials, rng)
    best_id, best = CALL_ID, wp * pot - (1 - wp) * asked
    combos = np.flatnonzero(weights > 0)
    my_bet = float(obs.bets[0, int(obs.seat[0])])
    for b in bet_ids:
        if not obs.legal[0, b]:
            continue
        size = float(obs.raise_to[0, b]) - my_bet - asked  # chips beyond calling
        after = hand.observation([b])
        if combos.size == 0:
            fp, cont = 1.0, weights
        else:
            p = _action_probs(agent, after, combos, rng, cfg.epsilon)
            w = weights[combos]
            fold = p[:, FOLD_ID] if after.legal[0, FOLD_ID] else np.zeros(combos.size)
            fp = float((w * fold).sum() / w.sum())
            cont = np.zeros(NUM_COMBOS)
            cont[combos] = w * (1 - fold)
        wp2 = _equity(mine, obs, cont, cfg.wp_trials, rng)
        u = fp * pot + (1 - fp) * (wp2 * (pot + size) - (1 - wp2) * (asked + size))
        if u > best:
            best_id, best = b, u
    if best < 0 and asked > 0 and obs.legal[0, FOLD_ID]:
        return FOLD_ID
    return best_id
