"""Baseline agents pick legal actions and behave as their names say."""

import numpy as np
import pytest

from gamelm.agents.base import Agent, observe
from gamelm.agents.baselines import BASELINES, make_agent
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.poker.cards import parse_cards
from gamelm.poker.equity import equity, hand_strength


@pytest.mark.parametrize("name", list(BASELINES))
def test_every_baseline_plays_legal_actions(name):
    agent = make_agent(name)
    assert isinstance(agent, Agent) and agent.name == name
    eng = BatchEngine(64, 6, 1, 2, starting_stacks=200)
    menu = ActionAbstraction((0.5, 1.0))
    rng = np.random.default_rng(0)
    eng.reset(rng=rng)
    while not eng.done.all():
        rows = np.flatnonzero(~eng.done)
        obs = observe(eng, menu, rows)
        ids = agent.act(obs, rng)
        assert obs.legal[np.arange(rows.size), ids].all()
        full = np.full(64, 1)
        full[rows] = ids
        menu.step(eng, full)


def test_unknown_agent():
    with pytest.raises(ValueError, match=r"unknown agent 'shark'.*tag"):
        make_agent("shark")


def test_hand_strength_matches_equity():
    rng = np.random.default_rng(1)
    hole = np.stack([parse_cards("7c8c"), parse_cards("QsQd")])
    board = np.stack([parse_cards("Tc9d2hAs3s"), parse_cards("Ah7c2d5s3h")])
    s = hand_strength(hole, board, [3, 4], [2, 1], trials=40_000, rng=rng)
    for got, (h, b, k) in zip(s, [("7c8c", "Tc9d2h", 2), ("QsQd", "Ah7c2d5s", 1)]):
        want = equity([h] + ["random"] * k, b, trials=300_000, seed=0).equity[0]
        assert abs(got - want) < 0.01


def test_every_baseline_has_its_opponent_level_name():
    from gamelm.agents.baselines import BASELINES, make_agent

    assert set(BASELINES) == {"random", "calling-station", "maniac", "tag", "equity"}
    for level in BASELINES:
        agent = make_agent(level.upper())
        assert type(agent).opponent_level == level == agent.name
