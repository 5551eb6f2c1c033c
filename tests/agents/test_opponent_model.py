"""The opponent model: counts agree with the match statistics, features reach observations,
and the counter-strategy hook changes play where it should."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from gamelm.agents.base import IntArray, Observation
from gamelm.agents.opponent_model import (
    FEATURES,
    NUM_FEATURES,
    CounterStrategy,
    OpponentModel,
    feature_index,
)
from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import agent_win_rates, playing_stats, win_rate


@dataclass
class Recorder:
    """Plays a base agent and keeps the opponent features it was shown."""

    base: object
    name: str = "recorder"
    seen: list[np.ndarray] = field(default_factory=list)

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        assert obs.opponent_stats is not None
        assert obs.opponent_stats.shape == (obs.size, obs.num_players, NUM_FEATURES)
        self.seen.append(obs.opponent_stats.copy())
        return self.base.act(obs, rng)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seats", [2, 6])
def test_model_counts_match_the_match_statistics(seats: int) -> None:
    agents = [make_agent("tag"), make_agent("maniac"), make_agent("calling-station")][:seats]
    res = play_match(agents, MatchConfig(seats=seats, hands=600, seed=4), model=True)
    assert res.model is not None
    for k, agent in enumerate(agents):
        s = res.model.stats(agent.name)
        ref = playing_stats(res, k)
        assert s.hands == ref["hands"]
        for mine, theirs in (
            (s.vpip, ref["vpip"]),
            (s.pfr, ref["pfr"]),
            (s.three_bet, ref["three_bet"]),
            (s.af, ref["af"]),
            (s.fold_to_cbet, ref["fold_to_cbet"]),
            (s.wtsd, ref["wtsd"]),
        ):
            assert (math.isnan(mine) and math.isnan(theirs)) or mine == pytest.approx(theirs)
    maniac = res.model.stats("maniac")  # raises whenever it acts (HU: unless tag folds first)
    assert maniac.vpip >= maniac.pfr > 0.6
    if seats > 2:
        assert res.model.stats("calling-station").pfr == 0


def test_features_reach_observations_and_shrink_to_the_prior() -> None:
    model = OpponentModel(["a", "b"], prior_n=10)
    fresh = model.features(np.array([[0, 1]]))
    priors = [prior for _, _, prior in FEATURES.values()]
    assert fresh[0, 0].tolist() == pytest.approx([*priors, 0.0])
    model.update([1] * 10, {"vpip": [1] * 10, "pfr": [0] * 10})
    b = model.features(np.array([1]))[0]
    assert b[feature_index("vpip")] == pytest.approx((10 + 0.25 * 10) / 20)
    assert b[feature_index("confidence")] == pytest.approx(0.5)
    hero = Recorder(make_agent("tag"))
    play_match([hero, make_agent("calling-station")], MatchConfig(seats=2, hands=400), model=True)
    last = hero.seen[-1][0]  # seat of the calling station: loose, never raises preflop
    pfr, vpip = feature_index("pfr"), feature_index("vpip")
    station, tag = (last[1], last[0]) if last[1, pfr] < last[0, pfr] else (last[0], last[1])
    assert station[pfr] < 0.05 < tag[pfr] and station[vpip] > tag[vpip]


def test_bad_updates_are_refused() -> None:
    model = OpponentModel(["a"])
    with pytest.raises(ValueError, match="player ids"):
        model.update([1], {"vpip": [1]})
    with pytest.raises(ValueError, match="unknown events"):
        model.update([0], {"vips": [1]})
    with pytest.raises(KeyError, match="no player"):
        model.stats("b")


def test_the_default_hook_plays_the_base_agent() -> None:
    cfg = MatchConfig(seats=2, hands=400, seed=2)
    plain = play_match([make_agent("tag"), make_agent("random")], cfg)
    wrapped = play_match([CounterStrategy(make_agent("tag")), make_agent("random")], cfg)
    assert (plain.payoffs == wrapped.payoffs).all()


@pytest.mark.parametrize("seats", [2, 6])
def test_exploit_wins_more_against_a_calling_station(seats: int) -> None:
    cfg = MatchConfig(seats=seats, hands=3000, seed=3)
    plain = play_match([make_agent("tag"), make_agent("calling-station")], cfg)
    adjusted = play_match([make_agent("exploit:tag"), make_agent("calling-station")], cfg)
    # the same deals in both matches: compare deal by deal (a paired difference)
    gain = win_rate(_hero_per_deal(adjusted) - _hero_per_deal(plain), cfg.big_blind)
    assert gain.ci95[0] > 0, gain
    assert agent_win_rates(adjusted)["exploit:tag"].ci95[0] > 0


def _hero_per_deal(res) -> np.ndarray:
    held = res.lineup == 0
    chips = np.bincount(res.deal, (res.payoffs * held).sum(axis=1))
    return chips / np.bincount(res.deal, held.sum(axis=1))
