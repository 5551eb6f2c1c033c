"""Oracle tests: gamelm's CFR, CFR+ and DCFR compute OpenSpiel's iterates, and OpenSpiel's own
exploitability function agrees with gamelm's on gamelm's strategies."""

import numpy as np
import pytest

pyspiel = pytest.importorskip("pyspiel")
from open_spiel.python import policy as os_policy  # noqa: E402
from open_spiel.python.algorithms import cfr as os_cfr  # noqa: E402
from open_spiel.python.algorithms import discounted_cfr as os_dcfr  # noqa: E402
from open_spiel.python.algorithms import exploitability as os_expl  # noqa: E402

from gamelm.games import load_game  # noqa: E402
from gamelm.solvers.cfr import CFRSolver  # noqa: E402

SPIEL = {"kuhn": "kuhn_poker", "leduc": "leduc_poker"}


def to_openspiel(spiel_game, strategy):
    pol = os_policy.TabularPolicy(spiel_game)
    for key, probs in strategy.items():
        pol.policy_for_key(key)[:] = probs
    return pol


def openspiel_solver(algorithm, game):
    if algorithm == "cfr":
        return os_cfr.CFRSolver(game)
    if algorithm == "cfr+":
        return os_cfr.CFRPlusSolver(game)
    return os_dcfr.DCFRSolver(game)


@pytest.mark.parametrize("algorithm", ["cfr", "cfr+", "dcfr"])
@pytest.mark.parametrize(("name", "iterations"), [("kuhn", 60), ("leduc", 6)])
def test_iterates_match_openspiel(name, iterations, algorithm):
    spiel_game = pyspiel.load_game(SPIEL[name])
    theirs = openspiel_solver(algorithm, spiel_game)
    ours = CFRSolver(load_game(name), algorithm)
    for _ in range(iterations):
        theirs.evaluate_and_update_policy()
    ours.run(iterations)
    avg = theirs.average_policy()
    strategy = ours.average_strategy()
    assert len(strategy) == len(avg.state_lookup)
    for key, probs in strategy.items():
        np.testing.assert_allclose(probs, avg.policy_for_key(key), atol=1e-9, err_msg=key)
    expected = os_expl.exploitability(spiel_game, avg)
    assert ours.exploitability() == pytest.approx(expected, abs=1e-9)
    # a gamelm strategy as an OpenSpiel policy: OpenSpiel's own function agrees
    assert os_expl.exploitability(spiel_game, to_openspiel(spiel_game, strategy)) == pytest.approx(
        ours.exploitability(), abs=1e-9
    )


def test_cfr_plus_matches_openspiel_cpp_on_leduc():
    spiel_game = pyspiel.load_game("leduc_poker")
    theirs = pyspiel.CFRPlusSolver(spiel_game)
    ours = CFRSolver(load_game("leduc"), "cfr+")
    for _ in range(100):
        theirs.evaluate_and_update_policy()
    ours.run(100)
    expected = pyspiel.exploitability(spiel_game, theirs.average_policy())
    assert ours.exploitability() == pytest.approx(expected, abs=1e-9)


def test_uniform_exploitability_matches_openspiel():
    for name, spiel in SPIEL.items():
        solver = CFRSolver(load_game(name))
        spiel_game = pyspiel.load_game(spiel)
        uniform = os_policy.UniformRandomPolicy(spiel_game)
        assert solver.exploitability() == pytest.approx(
            os_expl.exploitability(spiel_game, uniform), abs=1e-12
        )
