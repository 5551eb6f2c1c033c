"""CFR, CFR+ and DCFR on Kuhn and Leduc: known game values, exploitability, the solve command."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gamelm.cli import app
from gamelm.games import load_game
from gamelm.solvers.cfr import CFRSolver, regret_matching
from gamelm.solvers.exploitability import best_response_value, strategy_exploitability
from gamelm.solvers.sequence_form import SequenceForm

runner = CliRunner()


@pytest.mark.parametrize("algorithm", ["cfr", "cfr+", "dcfr"])
def test_kuhn_value_is_minus_one_eighteenth(algorithm):
    solver = CFRSolver(load_game("kuhn"), algorithm)
    solver.run(1000)
    assert solver.game_value() == pytest.approx(-1 / 18, abs=1e-3)
    assert solver.exploitability() < 5e-3


def test_exploitability_falls_on_leduc():
    solver = CFRSolver(load_game("leduc"), "cfr+")
    seen = []
    for _ in range(4):
        solver.run(50)
        seen.append(solver.exploitability())
    assert seen == sorted(seen, reverse=True)
    assert seen[-1] < 0.02
    assert solver.game_value() == pytest.approx(-0.0856, abs=0.01)  # Leduc's value for player 0


def test_kuhn_equilibrium_family_is_unexploitable():
    # Kuhn's equilibria: player 0 bets J with a, K with 3a, calls with Q with a + 1/3
    a = 0.2
    sf = SequenceForm.from_game(load_game("kuhn"))
    p0 = {
        "0": [1 - a, a],
        "1": [1, 0],
        "2": [1 - 3 * a, 3 * a],
        "0pb": [1, 0],
        "1pb": [1 - (a + 1 / 3), a + 1 / 3],
        "2pb": [0, 1],
    }
    p1 = {
        "0p": [2 / 3, 1 / 3],
        "1p": [1, 0],
        "2p": [0, 1],
        "0b": [1, 0],
        "1b": [2 / 3, 1 / 3],
        "2b": [0, 1],
    }
    assert strategy_exploitability(sf, {**p0, **p1}) == pytest.approx(0.0, abs=1e-12)
    # a pure strategy for player 1 that always calls is exploitable
    p1_calls = {**p1, "0b": [0, 1]}
    assert strategy_exploitability(sf, {**p0, **p1_calls}) > 0.01


def test_best_response_beats_the_profile_value():
    sf = SequenceForm.from_game(load_game("leduc"))
    uniform = [t.uniform() for t in sf.players]
    v0 = sf.value(uniform)
    assert best_response_value(sf, 0, uniform[1]) > v0
    assert best_response_value(sf, 1, uniform[0]) > -v0


def test_regret_matching_rows_are_distributions():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(50, 3))
    legal = rng.random((50, 3)) < 0.7
    legal[:, 1] = True
    uniform = legal / legal.sum(1, keepdims=True)
    s = regret_matching(r, legal, uniform)
    np.testing.assert_allclose(s.sum(1), 1.0)
    assert (s[~legal] == 0).all()


def test_strategy_errors_are_one_sentence():
    sf = SequenceForm.from_game(load_game("kuhn"))
    with pytest.raises(ValueError, match="no entry for information state '0'"):
        strategy_exploitability(sf, {})
    full = {k: [0.5, 0.5] for t in sf.players for k in t.keys}
    with pytest.raises(ValueError, match="expected 2, one per action id"):
        strategy_exploitability(sf, {**full, "0": [1.0]})
    with pytest.raises(ValueError, match="unknown algorithm 'cfr2'"):
        CFRSolver(load_game("kuhn"), "cfr2")


def test_solve_contract_json_and_strategy_file(tmp_path):
    out = tmp_path / "leduc.json"
    r = runner.invoke(
        app,
        [
            "solve",
            "leduc",
            "--algorithm",
            "cfr+",
            "--iterations",
            "200",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["iterations"] == 200 and summary["seconds"] > 0
    strategy = json.loads(out.read_text())
    assert len(strategy) == 936
    assert all(len(p) == 3 and abs(sum(p) - 1) < 1e-9 for p in strategy.values())
    assert strategy_exploitability(load_game("leduc"), strategy) == pytest.approx(
        summary["exploitability"], abs=1e-12
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["solve", "chess"], "unknown game 'chess'"),
        (["solve", "kuhn", "--algorithm", "xfr"], "unknown algorithm 'xfr'"),
        (["solve", "kuhn", "--iterations", "5", "--minutes", "1"], "not both"),
        (["solve", "kuhn", "--iterations", "0"], "at least 1"),
    ],
)
def test_solve_errors(args, message):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output


def test_bench_cfr_reports_every_implementation():
    pytest.importorskip("pyspiel")
    r = runner.invoke(
        app,
        [
            "bench",
            "cfr",
            "--game",
            "kuhn",
            "--target",
            "1e-3",
            "--python-iterations",
            "5",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"gamelm cfr+", "gamelm dcfr", "openspiel C++ cfr+", "openspiel Python cfr+"}
    for row in out.values():
        assert row["reached"] == 1.0 and row["exploitability"] <= 1e-3 and row["seconds"] > 0
    # the Python solver computes gamelm's iterates: same iteration count, time extrapolated
    assert out["openspiel Python cfr+"]["iterations"] == out["gamelm cfr+"]["iterations"]
