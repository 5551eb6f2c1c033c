"""MCCFR on Leduc (exact exploitability as the oracle), the hold'em betting tree and card
abstraction, blueprint save/resume and the solve holdem command."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gamelm.cli import app
from gamelm.games import load_game
from gamelm.games.holdem import BetAbstraction, CardAbstraction, build_tree, equity_moments
from gamelm.poker.cards import parse_cards
from gamelm.poker.equity import hand_strength
from gamelm.poker.ranges import HAND_CLASSES
from gamelm.solvers.blueprint import Blueprint, BlueprintConfig, train
from gamelm.solvers.exploitability import strategy_exploitability
from gamelm.solvers.mccfr import MCCFR, leduc_tree_game
from gamelm.solvers.sequence_form import SequenceForm

runner = CliRunner()


@pytest.fixture(scope="module")
def leduc_sf():
    return SequenceForm.from_game(load_game("leduc"))


@pytest.mark.parametrize("linear", [True, False])
def test_mccfr_converges_on_leduc(leduc_sf, linear):
    game, to_openspiel = leduc_tree_game()
    solver = MCCFR(game, linear=linear)
    uniform = strategy_exploitability(leduc_sf, to_openspiel(solver.average_strategy()))
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(3):
        solver.run(40, 256, rng)
        seen.append(strategy_exploitability(leduc_sf, to_openspiel(solver.average_strategy())))
    assert uniform == pytest.approx(2.3736, abs=1e-3)  # the uniform strategy (NashConv 4.747)
    assert seen[-1] < seen[0] < 1.0
    assert seen[-1] < 0.3
    assert solver.deals == 3 * 40 * 256


def test_leduc_tree_covers_every_information_set(leduc_sf):
    game, to_openspiel = leduc_tree_game()
    strategy = to_openspiel(MCCFR(game).average_strategy())
    assert set(strategy) == {k for t in leduc_sf.players for k in t.keys}


def test_batch_size_must_be_even():
    game, _ = leduc_tree_game()
    with pytest.raises(ValueError, match="even number"):
        MCCFR(game).step(3, np.random.default_rng(0))


def test_holdem_tree_follows_the_rules():
    ht = build_tree(BetAbstraction(raise_caps=(2, 1, 1, 1)))
    t = ht.tree
    names = t.action_names
    assert names == ("fold", "check/call", "raise 0.5 pot", "raise 1 pot", "all-in")
    # the button (seat 1) acts first preflop; folding gives the big blind the small blind
    assert t.player[0] == 1 and t.street[0] == 0
    fold = t.children[0, 0]
    assert t.player[fold] == -1 and not t.showdown[fold] and t.fold_payoff[fold] == 1.0
    # limp, check: the flop, where the big blind (seat 0) acts first
    limp = t.children[0, 1]
    flop = t.children[limp, 1]
    assert t.player[flop] == 0 and t.street[flop] == 1
    assert ht.pot_after_call[flop] == 4
    # all-in, call: a showdown for the whole stacks
    shove = t.children[0, 4]
    called = t.children[shove, 1]
    assert t.showdown[called] and t.stake[called] == 200
    # raise caps: preflop open and 3-bet, then only all-in raises
    open_ = t.children[0, 3]
    three = t.children[open_, 3]
    assert t.children[three, 2] == -1 and t.children[three, 3] == -1 and t.children[three, 4] > 0
    # breadth-first order and a consistent row layout
    kids = t.children[t.children >= 0]
    assert len(set(kids.tolist())) == kids.size and kids.min() > 0
    assert t.num_rows == int(sum(t.num_buckets[s] for s in t.street[t.decision]))


def test_equity_moments_agree_with_hand_strength():
    rng = np.random.default_rng(1)
    hole = np.stack([parse_cards("AhKh"), parse_cards("7c2d"), parse_cards("9s8s")])
    board = np.stack([parse_cards("Qh7h2s4c5d")] * 3)
    mean, second = equity_moments(hole, board, 3, rng, runouts=64, opponents=16)
    ref = hand_strength(hole, board, [3, 3, 3], [1, 1, 1], trials=4000, rng=rng)
    np.testing.assert_allclose(mean, ref, atol=0.04)
    assert np.all(second >= mean**2 - 1e-12) and np.all(second <= mean + 1e-12)
    # the flush draw's river equity is spread out more than the made hand's
    assert second[0] - mean[0] ** 2 > second[1] - mean[1] ** 2


def test_card_abstraction_buckets():
    rng = np.random.default_rng(0)
    cards = CardAbstraction(equity_bins=4, spread_bins=2, river_bins=5).fit(rng, deals=3000)
    assert cards.num_buckets == (169, 8, 8, 5)
    hole = np.stack([parse_cards("AsAh"), parse_cards("7c2d")])
    board = np.stack([parse_cards("AdKs9c4hJh")] * 2)
    pre = cards.bucket(hole, board, 0, rng)
    assert [HAND_CLASSES[i] for i in pre] == ["AA", "72o"]
    river = cards.bucket(hole, board, 3, rng)
    assert river.tolist() == [4, 0]
    flop = cards.bucket(hole, board, 1, rng)
    assert flop[0] // 2 == 3 and flop[1] // 2 == 0
    again = CardAbstraction.from_dict(json.loads(json.dumps(cards.to_dict())))
    assert again.bucket(hole, board, 3, rng).tolist() == [4, 0]
    with pytest.raises(ValueError, match="not fitted"):
        CardAbstraction().bucket(hole, board, 2, rng)


def _tiny(**kw):
    base = dict(
        fractions=(1.0,),
        raise_caps=(2, 1, 1, 1),
        equity_bins=3,
        spread_bins=2,
        river_bins=3,
        runouts=4,
        opponents=4,
        batch_size=64,
        batches_per_round=2,
    )
    return BlueprintConfig(**(base | kw))


def test_blueprint_save_load_and_resume(tmp_path):
    bp = Blueprint.new(_tiny())
    train(bp, iterations=4, out=tmp_path / "bp")
    again = Blueprint.load(tmp_path / "bp")
    assert again.iterations == 4 and again.deals == 4 * 64
    np.testing.assert_array_equal(again.regrets_t, bp.regrets_t)
    train(again, iterations=6, out=tmp_path / "bp")
    assert Blueprint.load(tmp_path / "bp").iterations == 6
    (tmp_path / "bp" / "tables.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="cannot read the blueprint"):
        Blueprint.load(tmp_path / "bp")
    with pytest.raises(ValueError, match="is not a blueprint"):
        Blueprint.load(tmp_path)


def test_blueprint_config_is_checked():
    with pytest.raises(ValueError, match="even number"):
        BlueprintConfig(batch_size=3)
    with pytest.raises(ValueError, match="raise_caps needs four"):
        BlueprintConfig(raise_caps=(1, 1))
    with pytest.raises(ValueError, match="unknown blueprint settings: bins"):
        BlueprintConfig.from_dict({"bins": 3})


def test_solve_holdem_command(tmp_path):
    out = tmp_path / "bp"
    sets = [
        "--set",
        "fractions=1",
        "--set",
        "equity_bins=3",
        "--set",
        "spread_bins=2",
        "--set",
        "river_bins=3",
        "--set",
        "runouts=4",
        "--set",
        "opponents=4",
        "--set",
        "batch_size=64",
    ]
    r = runner.invoke(
        app,
        [
            "solve",
            "holdem",
            "--iterations",
            "3",
            "--out",
            str(out),
            "--workers",
            "1",
            "--eval-hands",
            "40",
            "--json",
            *sets,
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["iterations"] == 3 and summary["deals"] == 192
    assert summary["evaluation"]["opponent"] == "tag"
    r = runner.invoke(app, ["solve", "holdem", "--iterations", "3", "--out", str(out)])
    assert r.exit_code == 2 and "pass --resume" in r.output
    r = runner.invoke(
        app,
        [
            "solve",
            "holdem",
            "--iterations",
            "5",
            "--out",
            str(out),
            "--resume",
            "--workers",
            "1",
            "--eval-hands",
            "0",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["iterations"] == 5
    r = runner.invoke(app, ["solve", "holdem", "--out", str(out), "--resume", "--set", "seed=3"])
    assert r.exit_code == 2 and "cannot change a blueprint being resumed" in r.output
    for bad, msg in (
        ("bins=3", "unknown blueprint settings: bins"),
        ("batch_size=x", "batch_size must be a whole number"),
        ("linear", "KEY=VALUE"),
    ):
        r = runner.invoke(app, ["solve", "holdem", "--out", str(tmp_path / "x"), "--set", bad])
        assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output


def test_parallel_rounds_are_reproducible(tmp_path):
    a = train(Blueprint.new(_tiny()), iterations=4, workers=2)
    b = train(Blueprint.new(_tiny()), iterations=4, workers=2)
    assert a.iterations == 4 and a.deals == 256
    np.testing.assert_array_equal(a.regrets_t, b.regrets_t)


def test_holdem_protocol_view_agrees_with_the_engine():
    from gamelm.games.base import CHANCE, Game, GameState
    from gamelm.games.holdem import HoldemGame
    from gamelm.poker.batch import BatchEngine

    game = HoldemGame(BetAbstraction(raise_caps=(2, 1, 1, 1)))
    assert isinstance(game, Game)
    rng = np.random.default_rng(5)
    menu = game.abstraction.menu
    for _ in range(40):
        state = game.initial_state()
        assert isinstance(state, GameState)
        while state.current_player() == CHANCE:
            outs = state.chance_outcomes()
            state = state.child(outs[rng.integers(len(outs))][0])
        cards = np.array(state.cards)
        eng = BatchEngine(1, 2, 1, 2, starting_stacks=200)
        eng.reset(hole=cards[:4].reshape(1, 2, 2), board=cards[None, 4:])
        infos = set()
        while not state.is_terminal():
            assert state.current_player() == int(eng.actor[0])
            infos.add(state.information_state_string(state.current_player()))
            a = int(rng.choice(state.legal_actions()))
            state = state.child(a)
            menu.step(eng, np.array([a]))
        assert eng.done[0]
        assert state.returns()[0] == float(eng.payoffs()[0, 0])
        assert all("[Hole: " in k for k in infos)


def test_blueprint_rounds_on_a_local_ray_cluster():
    ray = pytest.importorskip("ray")
    try:
        bp = train(Blueprint.new(_tiny()), iterations=2, workers=2, ray_address="local")
    finally:
        ray.shutdown()  # later tests start or reach their own cluster
    ref = train(Blueprint.new(_tiny()), iterations=2, workers=2)
    np.testing.assert_array_equal(bp.regrets_t, ref.regrets_t)  # same jobs, same seeds


def test_blueprint_saved_when_interrupted_and_bad_out_fails_first(tmp_path):
    bp = Blueprint.new(_tiny())

    def stop(b, rate):
        if b.iterations >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(bp, iterations=100, out=tmp_path / "bp", on_round=stop)
    assert Blueprint.load(tmp_path / "bp").iterations == 4
    (tmp_path / "afile").write_text("x")
    r = runner.invoke(
        app,
        [
            "solve",
            "holdem",
            "--out",
            str(tmp_path / "afile" / "bp"),
            "--iterations",
            "2",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 2 and "cannot write" in r.output and "Traceback" not in r.output
