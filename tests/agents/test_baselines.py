"""Baseline agents pick legal actions and behave as their names say."""

import numpy as np
import pytest

from gamelm.agents.base import Agent, observe
from gamelm.agents.baselines import BASELINES
from gamelm.agents.registry import make_agent
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
    from gamelm.agents.baselines import BASELINES
    from gamelm.agents.registry import make_agent

    assert set(BASELINES) == {"random", "calling-station", "maniac", "tag", "equity"}
    for level in BASELINES:
        agent = make_agent(level.upper())
        assert type(agent).opponent_level == level == agent.name


def _big_blind_after(first: int, hands: list[str]):
    """Heads-up tables where the small blind (the button) has played menu id ``first``; the big
    blind holds ``hands``. Returns the big blind's observation."""
    n = len(hands)
    eng = BatchEngine(n, 2, 1, 2, starting_stacks=200)
    hole = np.zeros((n, 2, 2), np.int64)
    for i, h in enumerate(hands):
        hole[i, 0], hole[i, 1] = parse_cards(h), parse_cards("JdTc")  # seat 0: the big blind
    eng.reset(hole=hole, board=np.tile(parse_cards("4h5h6s8d9c"), (n, 1)))
    menu = ActionAbstraction((0.5, 1.0))
    assert (eng.actor == 1).all()  # the button/small blind acts first preflop
    raises = np.zeros(n, np.int64)
    if first >= 2:
        raises += 1
    menu.step(eng, np.full(n, first))
    return observe(eng, menu, np.arange(n), raises, raises)


def test_baselines_behave_as_their_names_say():
    from gamelm.poker.abstraction import CALL_ID, FOLD_ID

    rng = np.random.default_rng(0)
    hands = ["AsAd", "7h2c", "KsQs"]
    obs = _big_blind_after(CALL_ID, hands)  # the small blind limped
    assert (obs.seat == 0).all() and (obs.to_call == 0).all()
    tag = make_agent("tag").act(obs, rng)
    assert tag[0] >= 2 and tag[1] == CALL_ID and tag[2] >= 2  # raises AA and KQs, checks 7-2
    assert (make_agent("calling-station").act(obs, rng) == CALL_ID).all()
    assert (make_agent("maniac").act(obs, rng) >= 2).all()
    eq = make_agent("equity").act(obs, rng)
    assert eq[0] >= 2 and eq[1] == CALL_ID  # 85% equity raises, 7-2 checks for free
    obs = _big_blind_after(3, hands)  # the small blind raised a pot
    assert (obs.to_call > 0).all() and (obs.preflop_raises == 1).all()
    for name in ("tag", "equity"):
        choice = make_agent(name).act(obs, rng)
        assert choice[0] != FOLD_ID and choice[1] == FOLD_ID, name  # aces go on, 7-2 folds
