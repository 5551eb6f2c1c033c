"""The blueprint agent: playing the average strategy, following hands through the tree,
translating raises it does not know, and its errors."""

import numpy as np
import pytest

from gamelm.agents.registry import make_agent
from gamelm.agents.tabular import BlueprintAgent, pseudo_harmonic
from gamelm.evaluation.match import MatchConfig, play_match


@pytest.fixture(scope="module")
def blueprint(tiny_blueprint):
    return tiny_blueprint


def test_pseudo_harmonic_mapping():
    assert pseudo_harmonic(0.5, 0.5, 1.0) == 1.0 and pseudo_harmonic(1.0, 0.5, 1.0) == 0.0
    # Ganzfried and Sandholm: a bet of x maps to A with (B - x)(1 + A) / ((B - A)(1 + x))
    assert pseudo_harmonic(0.75, 0.5, 1.0) == pytest.approx(0.25 * 1.5 / (0.5 * 1.75))
    xs = np.linspace(0.5, 1.0, 11)
    probs = [pseudo_harmonic(x, 0.5, 1.0) for x in xs]
    assert probs == sorted(probs, reverse=True)


def test_in_tree_against_the_same_menu(blueprint):
    agent = make_agent(f"blueprint:{blueprint}")
    assert isinstance(agent, BlueprintAgent)
    res = play_match([agent, make_agent("calling-station")], MatchConfig(hands=200, seed=1))
    assert agent.decisions > 0 and agent.off_tree == 0  # a calling station never leaves the tree
    assert res.payoffs[:, 0].size == 200


def test_reads_its_own_raises_back_when_the_menus_differ(blueprint):
    # menu (0.75, 2): the tree's 0.5 and 1 pot raises are both played as 0.75 pot; the agent must
    # remember which one it meant, or it would follow the wrong line (and leave the tree)
    agent = BlueprintAgent.load(blueprint)
    cfg = MatchConfig(hands=300, seed=4, fractions=(0.75, 2.0))
    play_match([agent, make_agent("calling-station")], cfg)
    assert agent._played and agent.off_tree == 0


def test_translates_raises_it_does_not_know(blueprint):
    agent = BlueprintAgent.load(blueprint)
    root = 0  # the button to act: raises of 0.5 and 1 pot, and all-in (49.5 pots)
    assert [f for f, _ in agent._raise_options(root)] == [0.5, 1.0, 49.5]
    us = np.linspace(0, 1, 2001)[:-1]
    to_half = np.mean([agent._translate(root, 0.75, False, u) == 2 for u in us])
    assert to_half == pytest.approx(pseudo_harmonic(0.75, 0.5, 1.0), abs=1e-3)
    to_pot = np.mean([agent._translate(root, 5.0, False, u) == 3 for u in us])
    assert to_pot == pytest.approx(pseudo_harmonic(5.0, 1.0, 49.5), abs=1e-3)
    assert agent._translate(root, 0.3, False, 0.99) == 2  # below the smallest size
    assert agent._translate(root, 80.0, False, 0.0) == 4  # above all-in
    assert agent._translate(root, 0.75, True, 0.0) == 3  # our own: the nearest (log scale)
    # in a match against raises of other sizes the agent keeps playing
    res = play_match(
        [agent, make_agent("maniac")], MatchConfig(hands=200, seed=2, fractions=(0.75, 2.0))
    )
    assert agent.decisions > 0 and res.payoffs.shape == (200, 2)


def test_action_probabilities_are_distributions(blueprint):
    agent = BlueprintAgent.load(blueprint)
    seen = []

    class Spy:
        name = "spy"

        def act(self, obs, rng):
            if obs.street[0] == 0:
                seen.append(obs)
            return make_agent("calling-station").act(obs, rng)

    play_match([agent, Spy()], MatchConfig(hands=20, seed=3))
    p = agent.action_probabilities(seen[0], np.random.default_rng(0))
    assert p.shape == seen[0].legal.shape
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert (p[~seen[0].legal] == 0).all()


def test_errors(blueprint, tmp_path):
    with pytest.raises(ValueError, match=r"cannot load 'blueprint:.*is not a blueprint"):
        make_agent(f"blueprint:{tmp_path}")
    agent = BlueprintAgent.load(blueprint)
    with pytest.raises(ValueError, match="heads-up only"):
        play_match(
            [agent, make_agent("random"), make_agent("random")], MatchConfig(seats=3, hands=6)
        )


def test_blueprint_plays_in_ppo_rollouts_and_league(blueprint):
    from gamelm.models.lm import PokerLM
    from gamelm.rollouts.selfplay import collect
    from gamelm.trainers.ppo import PPOConfig

    PPOConfig(opponents=[f"blueprint:{blueprint}"])  # accepted as a league opponent
    agent = BlueprintAgent.load(blueprint)
    model = PokerLM.from_preset("tiny", strength_trials=0)
    roll = collect(model, [agent], 64, np.random.default_rng(0), tables=32)
    assert agent.decisions > 0 and len(roll.rewards) > 0


def test_ppo_refuses_a_blueprint_at_a_full_table(blueprint, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gamelm.cli import app

    monkeypatch.setenv("GAMELM_RUNS", str(tmp_path / "reg"))  # --runs-dir sets it; undo after

    r = CliRunner().invoke(
        app,
        [
            "train",
            "--seats",
            "3",
            "--eval-opponents",
            f"blueprint:{blueprint}",
            "--num-games",
            "64",
            "--out",
            str(tmp_path / "run"),
            "--runs-dir",
            str(tmp_path / "reg"),
        ],
    )
    assert r.exit_code == 2 and "plays heads-up only" in r.output, r.output


def test_every_hand_on_one_public_history_is_on_one_node(blueprint):
    # LBR asks the agent about all 1,326 hands on the real hand's history: they must all follow
    # the real hand's line, whatever the agent did with other cards in earlier hands
    agent = BlueprintAgent.load(blueprint)
    seen = []

    class Spy:
        name = "spy"

        def act(self, obs, rng):
            return make_agent("calling-station").act(obs, rng)

    class Recorder(BlueprintAgent):
        def act(self, obs, rng):
            ids = super().act(obs, rng)
            seen.extend(obs.subset(np.array([r])) for r in range(obs.size) if obs.street[r] > 0)
            return ids

    rec = Recorder(agent.blueprint)
    play_match([rec, Spy()], MatchConfig(hands=60, seed=6, fractions=(0.75, 2.0), tables=1))
    assert seen
    from gamelm.poker.ranges import COMBOS

    for obs in seen[-10:]:
        many = obs.subset(np.zeros(40, np.int64))
        many.hole = COMBOS[np.linspace(0, 1325, 40).astype(np.int64)].astype(np.uint8)
        nodes = {rec._node(many, r) for r in range(40)}
        assert nodes == {rec._node(obs, 0)}


def test_a_blueprint_plays_at_its_own_stacks(blueprint):
    from typer.testing import CliRunner

    from gamelm.cli import app

    for args in (
        ["eval", f"blueprint:{blueprint}", "--vs", "tag", "--stack", "50"],
        ["lbr", f"blueprint:{blueprint}", "--stack", "50", "--hands", "4"],
    ):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2 and "solved for 100 bb stacks" in r.output, r.output
