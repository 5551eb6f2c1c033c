"""The DSPy poker program, its tools, its lenient parsing, saving and the dspy: agent spec."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from tests.openai_server import LoopbackLM, demo_responder

from gamelm.agents.dspy_agent import (
    ActionAdapter,
    DSPyAgent,
    LMConfig,
    PokerDecision,
    PokerProgram,
    ProgramConfig,
    load_program,
    parse_action,
    save_program,
)
from gamelm.agents.registry import make_agent
from gamelm.agents.tools import analysis, equity_vs_range, facing_preflop_raise, made_hand
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.poker.cards import parse_cards
from gamelm.rollouts.datasets import observations, read_jsonl


def test_tools_describe_the_hand(tag_data):
    records = read_jsonl(tag_data / "sft.jsonl")
    flop = next(r for r in records if r["state"]["board_count"] >= 3)
    obs = observations([flop["state"]])
    text = analysis(obs, 0, 400, np.random.default_rng(0))
    assert text.startswith("Hand: ") and "Equity against" in text and "Pot odds:" in text
    assert made_hand(parse_cards("AsAh"), parse_cards("AdKs2c")) == "AA, three of a kind"
    # aces against a random hand win about 85%; against a tight range less, but still most
    pre = next(r for r in records if r["state"]["board_count"] == 0)
    state = dict(pre["state"], hole=parse_cards("AsAh").tolist())
    obs = observations([state])
    rng = np.random.default_rng(1)
    loose = equity_vs_range(obs, 0, "random", 4000, rng)
    tight = equity_vs_range(obs, 0, "QQ+, AKs", 4000, rng)
    assert 0.82 < loose < 0.88 and 0.5 < tight < loose
    # the raiser's range is shown only to a player who faces a preflop raise
    opened = dict(pre["state"], bets=[2, 6], seat=0, street=0)
    assert facing_preflop_raise(observations([opened]), 0)
    assert not facing_preflop_raise(observations([dict(opened, seat=1)]), 0)


def test_answers_are_read_leniently():
    assert parse_action("A1", 2) == 1
    assert parse_action("A5", 2) is None
    assert parse_action("I would call (A1), not A0", 2) == 1
    parsed = ActionAdapter().parse(PokerDecision, "A2")  # a server that sends the token alone
    assert parsed["action"] == "A2"
    proper = "[[ ## action ## ]]\nA0\n\n[[ ## completed ## ]]"
    assert ActionAdapter().parse(PokerDecision, proper)["action"] == "A0"
    import dspy
    from dspy.utils.exceptions import AdapterParseError

    class Propose(dspy.Signature):  # an optimiser's own call is read strictly
        task: str = dspy.InputField()
        proposed_instruction: str = dspy.OutputField()

    with pytest.raises(AdapterParseError):
        ActionAdapter().parse(Propose, proper)


def test_lm_choice_is_checked():
    with pytest.raises(ValueError, match="either an endpoint"):
        LMConfig()
    with pytest.raises(ValueError, match="needs --lm-model"):
        LMConfig(url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="http"):
        LMConfig(url="localhost:11434", model="m")
    with pytest.raises(ValueError, match="either an endpoint"):
        LMConfig(url="http://x/v1", model="m", path="/some/model")


def test_program_round_trip_and_agent(tmp_path):
    program = PokerProgram(reasoning=True, tools=False)
    program.decide.predict.signature = program.decide.predict.signature.with_instructions(
        "Fold less."
    )
    with LoopbackLM(demo_responder) as server:
        spec = LMConfig(url=server.url, model="loopback")
        path = save_program(tmp_path / "p.json", program, spec, ProgramConfig(True, False, 50))
        loaded, lm, settings, _ = load_program(path)
        assert settings == ProgramConfig(True, False, 50) and lm == spec
        assert loaded.decide.predict.signature.instructions == "Fold less."
        assert "pickle" not in path.read_text() and json.loads(path.read_text())["version"] == 1
        umask = os.umask(0)
        os.umask(umask)
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
        agent = make_agent(f"dspy:{path}")
        assert isinstance(agent, DSPyAgent)
        result = play_match([agent, make_agent("tag")], MatchConfig(hands=12, tables=12, seed=3))
        assert agent.decisions > 0 and agent.fallbacks == 0  # every answer named a legal action
        assert result.payoffs.sum() == 0
        assert len(server.requests) >= agent.decisions


def test_a_program_takes_pokerbench(tmp_path):
    from tests.evaluation.test_pokerbench import POST_COLS, POSTFLOP, PRE_COLS, PREFLOP
    from typer.testing import CliRunner

    from gamelm.cli import app
    from gamelm.evaluation import pokerbench as pb

    for name, cols, rows in (
        (pb.PREFLOP_FILE, PRE_COLS, PREFLOP),
        (pb.POSTFLOP_FILE, POST_COLS, POSTFLOP),
    ):
        with open(tmp_path / name, "w", newline="") as f:
            csv.writer(f).writerows([cols, *rows])
    with LoopbackLM(demo_responder) as server:
        path = save_program(
            tmp_path / "p.json",
            PokerProgram(),
            LMConfig(url=server.url, model="m"),
            ProgramConfig(),
        )
        r = CliRunner().invoke(
            app, ["pokerbench", f"dspy:{path}", "--data", str(tmp_path), "--json"]
        )
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["converted"] == 7 and len(server.requests) == 7


def test_bad_program_files(tmp_path):
    with pytest.raises(ValueError, match="no such program file"):
        make_agent(f"dspy:{tmp_path / 'missing.json'}")
    (tmp_path / "x.json").write_text('{"weights": 1}')
    with pytest.raises(ValueError, match="not a gamelm DSPy program"):
        make_agent(f"dspy:{tmp_path / 'x.json'}")
    (tmp_path / "y.json").write_text("not json")
    with pytest.raises(ValueError, match="not a JSON program file"):
        make_agent(f"dspy:{tmp_path / 'y.json'}")
