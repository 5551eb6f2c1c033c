import io
import json

import pytest
from typer.testing import CliRunner

from gamelm.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [[], ["simulate"], ["demo"], ["eval"], ["bench"], ["bench", "evaluator"], ["bench", "engine"]],
)
def test_help_everywhere(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_simulate_writes_phh_that_pokerkit_replays(tmp_path):
    pokerkit = pytest.importorskip("pokerkit")
    out = tmp_path / "hands"
    result = runner.invoke(
        app, ["simulate", "--seats", "3", "--hands", "40", "--seed", "7", "--phh-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.phh"))
    assert len(files) == 40
    assert not list(out.glob("*.tmp"))
    for f in files:
        hh = pokerkit.HandHistory.load(io.BytesIO(f.read_bytes()))
        assert list(list(hh)[-1].stacks) == hh.finishing_stacks


def test_simulate_json_is_reproducible():
    a = runner.invoke(app, ["simulate", "--seats", "6", "--hands", "500", "--seed", "3", "--json"])
    b = runner.invoke(app, ["simulate", "--seats", "6", "--hands", "500", "--seed", "3", "--json"])
    assert a.exit_code == b.exit_code == 0
    ja, jb = json.loads(a.output), json.loads(b.output)
    assert ja["hands"] == 500 and ja["net_chips"] == jb["net_chips"]
    assert sum(ja["net_chips"]) == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "--agents", "foo"], "unknown agent"),
        (["simulate", "--seats", "11"], "--seats must be 2..10, got 11"),
        (["simulate", "--hands", "0"], "--hands"),
        (["simulate", "--fractions", "0.5,x"], "pot fractions"),
        (["bench", "engine", "--seats", "1"], "seats"),
        (["simulate", "--tables", "0"], "--tables"),
        (["simulate", "--seed", "-1"], "--seed"),
        (["simulate", "--fractions", "nan"], "pot fractions"),
        (["simulate", "--phh-out", "pyproject.toml/x"], "cannot write hand histories"),
        (["bench", "engine", "--seconds", "0"], "--seconds"),
        (["bench", "evaluator", "--seconds", "nan"], "--seconds must be a positive number"),
        (["demo", "--hands", "0"], "--hands"),
        (["eval", "shark"], "unknown agent 'shark'"),
        (["eval", "tag", "--vs", "random", "--seats", "11"], "seats must be 2..10"),
        (["eval", "tag", "--hands", "0"], "hands must be at least 1"),
        (["eval", "tag", "--vs", "random,maniac", "--seats", "2"], "do not fit"),
        (["eval", "tag", "--greedy"], "--greedy applies to language-model agents"),
        (["eval", "tag", "--prompt-style", "compact"], "applies to transformers LLM agents"),
    ],
)
def test_bad_input_is_one_clear_line(args, needle):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output


def test_bench_json_keys():
    result = runner.invoke(app, ["bench", "evaluator", "--seconds", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["gamelm"]["hands_per_s"] > 0
    for name in ("phevaluator", "eval7", "treys", "pokerkit"):
        assert data[name]["hands_per_s"] > 0
    result = runner.invoke(
        app, ["bench", "engine", "--seats", "2", "--seconds", "0.2", "--tables", "256", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for name in ("gamelm", "openspiel", "rlcard", "pokerkit"):
        assert data[name]["hands_per_s"] > 0 and data[name]["decisions_per_s"] > 0


def test_eval_json_contract():
    args = ["eval", "tag", "--vs", "calling-station", "--hands", "400", "--seats", "2"]
    result = runner.invoke(app, [*args, "--duplicate", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["hands"] == 400
    tag = out["agents"]["tag"]
    assert {"bb_per_100", "stderr", "ci95"} <= set(tag)
    lo, hi = tag["ci95"]
    assert lo < tag["bb_per_100"] < hi
    assert out["agents"]["calling-station"]["bb_per_100"] == -tag["bb_per_100"]


def test_hands_that_end_at_the_deal_are_counted(tmp_path):
    # an ante bigger than the stack: every hand is decided before anyone acts
    args = ["simulate", "--seats", "3", "--ante", "5", "--stack", "1", "--hands", "50"]
    result = runner.invoke(app, [*args, "--phh-out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["hands"] == 50
    assert len(list(tmp_path.glob("*.phh"))) == 50


def test_eval_plot_and_exploit_spec(tmp_path):
    png = tmp_path / "bb.png"
    args = ["eval", "exploit:tag", "--vs", "calling-station", "--hands", "200", "--seats", "2"]
    result = runner.invoke(app, [*args, "--plot", str(png), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out["agents"]) == {"exploit:tag", "calling-station"}
    adj = out["agents"]["exploit:tag"]["allin_adjusted"]
    assert adj["ci95"][0] < adj["bb_per_100"] < adj["ci95"][1]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, [*args, "--plot", str(tmp_path / "no" / "bb.png")])
    assert bad.exit_code != 0 and "existing folder" in bad.output


def test_eval_plays_exactly_the_hands_asked_with_position_intervals():
    args = ["eval", "tag", "--vs", "random", "--hands", "100", "--seats", "6", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["hands"] == 100  # 16 deals in all six seats, the 17th in four
    # the 17th deal's luck is not cancelled: the estimates use the 96 hands of whole deals
    assert out["agents"]["tag"]["hands"] == 96
    positions = out["agents"]["tag"]["positions"]
    assert sum(p["hands"] for p in positions.values()) == 96
    # random holds five seats of every hand
    assert sum(p["hands"] for p in out["agents"]["random"]["positions"].values()) == 480
    for p in positions.values():
        assert p["ci95"][0] <= p["bb_per_100"] <= p["ci95"][1]  # a seat that always folds: 0 wide


def test_errors_go_to_stderr_on_one_line():
    result = runner.invoke(app, ["eval", "tag", "--vs", "no-such-bot", "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1


def test_eval_saves_records_that_load(tmp_path):
    from gamelm.evaluation.match import MatchResult

    args = ["eval", "tag", "--vs", "random", "--hands", "60", "--seats", "3", "--json"]
    result = runner.invoke(app, [*args, "--save", str(tmp_path / "r.npz")])
    assert result.exit_code == 0, result.output
    res = MatchResult.load(tmp_path / "r.npz")
    assert res.payoffs.shape == (60, 3) and res.agents == ["tag", "random"]
    bad = runner.invoke(app, [*args, "--save", str(tmp_path / "no" / "r.npz")])
    assert bad.exit_code == 2 and "existing folder" in bad.stderr
