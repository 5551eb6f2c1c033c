"""Throughput of gamelm's evaluator and engine next to the reference libraries, in one run.

Every implementation is timed for the same wall-clock budget on the same machine, one after the
other, so the ratios mean something on a noisy machine. References are called the fastest way they
allow (phevaluator's C core directly, card conversion outside the timing). A reference that is not
installed is reported as missing, never estimated.

Engine random play: every implementation plays full hands of heads-up or 6-max NLHE at 100 big
blinds with a uniformly random choice among fold / check-call / pot raise / all-in (OpenSpiel's
``fcpa`` abstraction; RLCard's actions without the half-pot raise).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gamelm.games import load_game
from gamelm.poker.abstraction import ActionAbstraction, sample_uniform
from gamelm.poker.batch import BatchEngine
from gamelm.poker.cards import CARD_NAMES
from gamelm.poker.equity import equity
from gamelm.poker.evaluator import evaluate_batch, evaluate_cards
from gamelm.poker.ranges import HAND_CLASSES
from gamelm.poker.rules import check_seats
from gamelm.solvers.cfr import CFRSolver

Result = dict[str, dict[str, float]]


def _timed(fn: Callable[[], int], seconds: float) -> tuple[float, float]:
    """Call ``fn`` (returns units done) until ``seconds`` pass; return (units, elapsed)."""
    fn()  # warm-up: caches, tables, JIT-less imports
    done, start = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done, elapsed


def _loop_rate(call: Callable[[Any], object], items: list, seconds: float) -> dict[str, float]:
    """Hands/s of a reference called once per prepared hand in a Python loop."""

    def run() -> int:
        for item in items:
            call(item)
        return len(items)

    n, t = _timed(run, seconds)
    return {"hands_per_s": n / t}


# -- evaluator -------------------------------------------------------------------------------


def bench_evaluator(seconds: float = 2.0, seed: int = 0) -> Result:
    """7-card hands per second for gamelm and each installed reference."""
    rng = np.random.default_rng(seed)
    big = np.argsort(rng.random((1 << 21, 52)), axis=1)[:, :7].astype(np.uint8)
    small = [tuple(int(c) for c in row) for row in big[:20000]]
    out: Result = {}

    def run_gamelm() -> int:  # the engine's path: cards known valid, as the references take
        evaluate_cards(big)
        return len(big)

    def run_checked() -> int:  # the public entry: ranges and repeated cards checked
        evaluate_batch(big)
        return len(big)

    n, t = _timed(run_gamelm, seconds)
    out["gamelm"] = {"hands_per_s": n / t}
    n, t = _timed(run_checked, seconds)
    out["gamelm, input checked"] = {"hands_per_s": n / t}

    try:
        from phevaluator import _pheval

        ev7 = _pheval.evaluate_7cards
        out["phevaluator"] = _loop_rate(lambda h: ev7(*h), small, seconds)
    except ImportError:
        pass

    try:
        import eval7

        hands7 = [[eval7.Card(CARD_NAMES[c]) for c in h] for h in small]
        out["eval7"] = _loop_rate(eval7.evaluate, hands7, seconds)
    except ImportError:
        pass

    try:
        import treys

        ints = [treys.Card.new(name) for name in CARD_NAMES]
        evaluator = treys.Evaluator()
        hands_t = [([ints[c] for c in h[:2]], [ints[c] for c in h[2:]]) for h in small[:5000]]
        out["treys"] = _loop_rate(lambda hb: evaluator.evaluate(*hb), hands_t, seconds)
    except ImportError:
        pass

    try:
        import pokerkit

        hands_pk = [
            list(pokerkit.Card.parse("".join(CARD_NAMES[c] for c in h))) for h in small[:500]
        ]
        out["pokerkit"] = _loop_rate(pokerkit.StandardHighHand.from_game, hands_pk, seconds)
    except ImportError:
        pass
    return out


# -- engine ----------------------------------------------------------------------------------


def _gamelm_engine(seats: int, seconds: float, seed: int, tables: int) -> dict[str, float]:
    eng = BatchEngine(tables, seats, 1, 2, starting_stacks=200)
    menu = ActionAbstraction(fractions=(1.0,))  # fold, call, pot, all-in
    rng = np.random.default_rng(seed)
    eng.reset(rng=rng)
    hands = decisions = 0
    start = time.perf_counter()
    while True:
        decisions += int((~eng.done).sum())
        menu.step(eng, sample_uniform(menu.legal_mask(eng), rng))
        finished = eng.done
        k = int(finished.sum())
        if k:
            hands += k
            eng.reset(finished, rng=rng)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"hands_per_s": hands / elapsed, "decisions_per_s": decisions / elapsed}


def _pokerkit_engine(seats: int, seconds: float, seed: int) -> dict[str, float]:
    import pokerkit as pk

    rnd = random.Random(seed)
    automations = (
        pk.Automation.ANTE_POSTING,
        pk.Automation.BET_COLLECTION,
        pk.Automation.BLIND_OR_STRADDLE_POSTING,
        pk.Automation.CARD_BURNING,
        pk.Automation.HOLE_DEALING,
        pk.Automation.BOARD_DEALING,
        pk.Automation.HOLE_CARDS_SHOWING_OR_MUCKING,
        pk.Automation.HAND_KILLING,
        pk.Automation.CHIPS_PUSHING,
        pk.Automation.CHIPS_PULLING,
    )
    hands = decisions = 0
    start = time.perf_counter()
    while True:
        s = pk.NoLimitTexasHoldem.create_state(
            automations, False, 0, (1, 2), 2, (200,) * seats, seats
        )
        while s.status:
            options: list[int | None] = [0]  # None: fold, 0: check/call, x: raise to x
            if s.can_fold():
                options.append(None)
            if s.can_complete_bet_or_raise_to():
                pot_to = s.pot_completion_betting_or_raising_to_amount
                max_to = s.max_completion_betting_or_raising_to_amount
                options.append(max_to)
                if pot_to is not None and pot_to < max_to:
                    options.append(pot_to)
            choice = rnd.choice(options)
            if choice is None:
                s.fold()
            elif choice == 0:
                s.check_or_call()
            else:
                s.complete_bet_or_raise_to(choice)
            decisions += 1
        hands += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"hands_per_s": hands / elapsed, "decisions_per_s": decisions / elapsed}


def _rlcard_engine(seats: int, seconds: float, seed: int) -> dict[str, float]:
    from rlcard.games.nolimitholdem.game import NolimitholdemGame
    from rlcard.games.nolimitholdem.round import Action

    game = NolimitholdemGame(num_players=seats)
    game.configure({"game_num_players": seats, "chips_for_each": 200, "dealer_id": None})
    game.np_random = np.random.RandomState(seed)
    rnd = random.Random(seed)
    wanted = {Action.FOLD, Action.CHECK_CALL, Action.RAISE_POT, Action.ALL_IN}
    hands = decisions = 0
    start = time.perf_counter()
    while True:
        game.init_game()
        while not game.is_over():
            legal = [a for a in game.get_legal_actions() if a in wanted]
            game.step(rnd.choice(legal))
            decisions += 1
        game.get_payoffs()
        hands += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return {"hands_per_s": hands / elapsed, "decisions_per_s": decisions / elapsed}


def openspiel_game_string(seats: int) -> str:
    """universal_poker NLHE, 1/2 blinds, 100 big blinds, fold/call/pot/all-in."""
    blinds = " ".join(["1", "2"] + ["0"] * (seats - 2)) if seats > 2 else "2 1"
    first = "2 1 1 1" if seats == 2 else "3 1 1 1"
    return (
        "universal_poker(betting=nolimit,bettingAbstraction=fcpa,numPlayers="
        f"{seats},numRounds=4,blind={blinds},firstPlayer={first},numSuits=4,numRanks=13,"
        f"numHoleCards=2,numBoardCards=0 3 1 1,stack={' '.join(['200'] * seats)})"
    )


def _openspiel_engine(seats: int, seconds: float, seed: int) -> dict[str, float]:
    """Hands/s from OpenSpiel's own C++ loop (``evaluate_bots`` with uniform random bots), the
    fastest way it offers; decisions/s = hands/s x the mean decisions per hand of the same game
    and policy, counted in a Python loop over 2,000 hands."""
    import pyspiel

    game = pyspiel.load_game(openspiel_game_string(seats))
    rnd = random.Random(seed)
    decisions = 0
    for _ in range(2000):
        state = game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                outcomes = state.chance_outcomes()
                state.apply_action(outcomes[rnd.randrange(len(outcomes))][0])
            else:
                state.apply_action(rnd.choice(state.legal_actions()))
                decisions += 1
    per_hand = decisions / 2000
    bots = [pyspiel.make_uniform_random_bot(i, seed + i) for i in range(seats)]
    pyspiel.evaluate_bots(game.new_initial_state(), bots, seed)
    hands = 0
    start = time.perf_counter()
    while True:
        for _ in range(100):
            pyspiel.evaluate_bots(game.new_initial_state(), bots, seed + hands)
            hands += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            rate = hands / elapsed
            return {"hands_per_s": rate, "decisions_per_s": rate * per_hand}


def bench_engine(
    seats: int = 2, seconds: float = 3.0, seed: int = 0, tables: int = 65536
) -> Result:
    """Random-play hands and decisions per second for gamelm and each installed reference."""
    check_seats(seats)
    out: Result = {"gamelm": _gamelm_engine(seats, seconds, seed, tables)}
    for name, fn, module in (
        ("openspiel", _openspiel_engine, "pyspiel"),
        ("rlcard", _rlcard_engine, "rlcard"),
        ("pokerkit", _pokerkit_engine, "pokerkit"),
    ):
        try:
            __import__(module)
        except ImportError:
            continue
        out[name] = fn(seats, seconds, seed)
    return out


# -- equity ----------------------------------------------------------------------------------------


def bench_equity(
    seconds: float = 3.0, hand: str = "AhKh", trials: int = 1_000_000, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Monte Carlo equity trials per second of ``hand`` against a random hand, preflop.

    gamelm's `gamelm.poker.equity.equity` with ``"random"`` against eval7's
    ``py_hand_vs_range_monte_carlo`` with the range of all 169 hand classes (eval7 deals the
    range's hand and the board per trial, as gamelm does); both with ``trials`` per call. The
    calls alternate, one of each per round, for about ``seconds`` each, and each side's median
    round is reported, so a machine whose speed drifts during the run favours neither.
    """

    calls = itertools.count(seed)
    sides: dict[str, Callable[[], float]] = {
        "gamelm": lambda: equity(
            [hand, "random"], trials=trials, seed=next(calls), max_exact=0
        ).equity[0]
    }
    try:
        import eval7

        cards = [eval7.Card(hand[:2]), eval7.Card(hand[2:])]
        villain = eval7.HandRange(", ".join(HAND_CLASSES))
        sides["eval7"] = lambda: eval7.py_hand_vs_range_monte_carlo(cards, villain, [], trials)
    except ImportError:
        pass
    for run in sides.values():  # warm-up: tables, caches
        run()
    rates: dict[str, list[float]] = {name: [] for name in sides}
    last: dict[str, float] = {}
    spent = 0.0
    while spent < seconds * len(sides) or len(rates["gamelm"]) < 3:
        for name, run in sides.items():
            start = time.perf_counter()
            last[name] = float(run())
            elapsed = time.perf_counter() - start
            rates[name].append(trials / elapsed)
            spent += elapsed
    return {
        name: {"trials_per_s": float(np.median(r)), "equity": last[name]}
        for name, r in rates.items()
    }


def forward_speeds(model: Any, rollout: Any, batch: int = 512, repeats: int = 3) -> dict:
    """Learner decisions/s of the poker LM's forward pass (inference, the rollouts' hot loop)
    over a rollout's decisions, through the transformers ``LlamaModel`` and through gamelm's
    plain torch forward of the same weights (`gamelm.models.llama_fast`), best of ``repeats``,
    the two alternating so that the machine's drift hits both alike."""
    import torch

    from gamelm.models.llama_fast import causal_allowed, hidden_states

    tokens = torch.as_tensor(rollout.tokens)
    mask = torch.as_tensor(rollout.mask)
    n = tokens.shape[0]

    def transformers_forward(t: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        pos = (m.long().cumsum(1) - 1).clamp(min=0)
        out = model.lm.model(input_ids=t, attention_mask=m, position_ids=pos)
        return out.last_hidden_state[:, -1]

    def plain_forward(t: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        pos = (m.long().cumsum(1) - 1).clamp(min=0)
        return hidden_states(model.lm, t, pos, causal_allowed(m))[:, -1]

    best = {"transformers": 0.0, "plain_torch": 0.0}
    model.eval()
    with torch.inference_mode():
        for _ in range(repeats):
            pair = (("transformers", transformers_forward), ("plain_torch", plain_forward))
            for name, fn in pair:
                start = time.perf_counter()
                for i in range(0, n, batch):
                    m = mask[i : i + batch]
                    width = int(m.sum(1).max())
                    fn(tokens[i : i + batch, -width:], m[:, -width:])
                best[name] = max(best[name], n / (time.perf_counter() - start))
    return best


# -- CFR on Leduc ----------------------------------------------------------------------------------


def _time_to_target(
    step: Callable[[int], None],
    measure: Callable[[], float],
    target: float,
    check_every: int,
    max_iterations: int,
) -> dict[str, float]:
    """Run ``step(check_every)`` until ``measure()`` <= target; the checks are not timed."""
    done, solve_time, value = 0, 0.0, float("inf")
    while done < max_iterations:
        start = time.perf_counter()
        step(check_every)
        solve_time += time.perf_counter() - start
        done += check_every
        value = measure()
        if value <= target:
            break
    return {
        "iterations": done,
        "seconds": solve_time,
        "exploitability": value,
        "reached": float(value <= target),
    }


def bench_cfr(
    target: float = 1e-5,
    check_every: int = 100,
    python_iterations: int = 100,
    max_iterations: int = 50_000,
    game_name: str = "leduc",
) -> Result:
    """Seconds for CFR+ to bring Leduc's exploitability to ``target`` chips: gamelm's CFR+ and
    DCFR, OpenSpiel's C++ CFR+ (all run to the target, exploitability checked every
    ``check_every`` iterations and not timed) and OpenSpiel's Python CFR+. The Python solver
    computes exactly gamelm's CFR+ iterates (tests/solvers check it to 1e-9), so it needs the same
    number of iterations; it is timed over ``python_iterations`` and its time to the target is
    that rate times gamelm's iteration count (``estimated``: 1)."""

    spiel_names = {"leduc": "leduc_poker", "kuhn": "kuhn_poker"}
    out: Result = {}
    for algorithm in ("cfr+", "dcfr"):
        solver = CFRSolver(load_game(game_name), algorithm)
        out[f"gamelm {algorithm}"] = _time_to_target(
            solver.run, solver.exploitability, target, check_every, max_iterations
        )
    try:
        import pyspiel
        from open_spiel.python.algorithms import cfr as os_cfr
    except ImportError:
        return out
    game = pyspiel.load_game(spiel_names[game_name])
    cpp = pyspiel.CFRPlusSolver(game)

    def cpp_step(n: int) -> None:
        for _ in range(n):
            cpp.evaluate_and_update_policy()

    out["openspiel C++ cfr+"] = _time_to_target(
        cpp_step,
        lambda: pyspiel.exploitability(game, cpp.average_policy()),
        target,
        check_every,
        max_iterations,
    )
    py = os_cfr.CFRPlusSolver(game)
    start = time.perf_counter()
    for _ in range(python_iterations):
        py.evaluate_and_update_policy()
    per_iteration = (time.perf_counter() - start) / python_iterations
    needed = out["gamelm cfr+"]["iterations"]
    out["openspiel Python cfr+"] = {
        "iterations": needed,
        "seconds": per_iteration * needed,
        "exploitability": out["gamelm cfr+"]["exploitability"],
        "reached": 1.0,
        "estimated": 1.0,
        "timed_iterations": float(python_iterations),
    }
    return out
