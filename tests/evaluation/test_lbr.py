"""Local best response: the sanity values of Lisy and Bowling and the lbr command."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gamelm.agents.base import pick_legal
from gamelm.agents.registry import make_agent
from gamelm.cli import app
from gamelm.evaluation.lbr import LBRConfig, local_best_response

runner = CliRunner()


class AlwaysFold:
    name = "always-fold"

    def act(self, obs, rng):
        return pick_legal(obs, np.zeros(obs.size, np.int64))


def test_lbr_wins_750_mbb_from_always_fold():
    r = local_best_response(AlwaysFold(), LBRConfig(hands=20))
    assert r.mbb_per_game == pytest.approx(750.0)
    assert r.ci95 == pytest.approx((750.0, 750.0))


def test_lbr_beats_always_call_by_a_large_margin():
    r = local_best_response(make_agent("calling-station"), LBRConfig(hands=60, wp_trials=200))
    assert r.mbb_per_game > 3000 and r.ci95[0] > 750


def test_equilibrium_like_play_is_less_exploitable():
    # the calling station never folds and never bets: LBR value-bets it to death; the tight
    # aggressive bot folds its weak hands and raises its strong ones, which LBR cannot milk
    cfg = LBRConfig(hands=60, wp_trials=200, seed=1)
    station = local_best_response(make_agent("calling-station"), cfg).mbb_per_game
    tag = local_best_response(make_agent("tag"), cfg).mbb_per_game
    assert tag < station


def test_lbr_command_json_and_errors():
    r = runner.invoke(
        app, ["lbr", "calling-station", "--hands", "4", "--wp-trials", "50", "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"mbb_per_game", "ci95", "hands", "seed"} and out["hands"] == 4
    for args, msg in (
        (["lbr", "nobody"], "unknown agent 'nobody'"),
        (["lbr", "tag", "--hands", "1"], "hands must be at least 3"),
        (["lbr", "tag", "--stack", "0"], "stack_bb must be at least 1"),
        (["lbr", "tag", "--bets", "x"], "bad pot fractions"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and msg in r.output and "Traceback" not in r.output
