"""PokerBench conversion and scoring on a few rows written inline (the test set itself stays
outside the repository and is never read by the tests)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gamelm.agents.baselines import BASELINES
from gamelm.agents.registry import make_agent
from gamelm.cli import app
from gamelm.evaluation import pokerbench as pb
from gamelm.poker.abstraction import CALL_ID, FOLD_ID
from gamelm.poker.cards import parse_cards

PRE_COLS = [
    "",
    "prev_line",
    "hero_pos",
    "hero_holding",
    "correct_decision",
    "num_players",
    "num_bets",
    "available_moves",
    "pot_size",
]
POST_COLS = [
    "",
    "preflop_action",
    "board_flop",
    "board_turn",
    "board_river",
    "aggressor_position",
    "postflop_action",
    "evaluation_at",
    "available_moves",
    "pot_size",
    "hero_position",
    "holding",
    "correct_decision",
]
PREFLOP = [
    ["0", "UTG/2.0bb/BTN/call/SB/13.0bb/BB/allin/UTG/fold/BTN/fold", "SB", "KdKc", "call", "4",
     "3", "['call', 'fold']", "117.0"],
    ["1", "", "SB", "QdJc", "3.0bb", "1", "0", "['3.0bb', 'call', 'fold']", "1.5"],
    ["2", "SB/call", "BB", "7h2c", "check", "2", "0", "['5.0bb', '3.0bb', 'check', 'fold']",
     "1.0"],
    ["3", "SB/call/BB/5.0bb", "SB", "5s5c", "fold", "2", "1", "['fold']", "5.0"],
]  # fmt: skip
POSTFLOP = [
    ["0", "HJ/2.0bb/BB/call", "Ks7h2d", "Jc", "7c", "OOP",
     "OOP_CHECK/IP_CHECK/dealcards/Jc/OOP_CHECK/IP_BET_5/OOP_RAISE_14/IP_CALL/dealcards/7c/"
     "OOP_CHECK", "River", "['Check', 'Bet 24']", "32", "IP", "8h8c", "Check"],
    ["1", "HJ/2.0bb/BB/call", "Jh4h5s", "2d", "Qc", "OOP", "OOP_CHECK/IP_BET_3/OOP_RAISE_10",
     "Flop", "['Fold', 'Call', 'Raise 26']", "17", "IP", "AsJs", "Call"],
    ["2", "CO/2.3bb/BTN/call", "Ks7h2d", "Jc", "7c", "OOP",
     "OOP_CHECK/IP_BET_2/OOP_CALL/dealcards/Jc/OOP_CHECK/IP_BET_8/OOP_RAISE_25/IP_CALL/"
     "dealcards/7c/OOP_CHECK/IP_BET_45", "River", "['Fold', 'Call', 'Raise 70']", "103", "OOP",
     "AhAc", "Raise 70"],
]  # fmt: skip


def _rows(cols: list[str], data: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(cols, r)) for r in data]


def _bench() -> pb.Bench:
    return pb.convert_rows(
        [
            ("preflop", _rows(PRE_COLS, PREFLOP), pb.convert_preflop),
            ("postflop", _rows(POST_COLS, POSTFLOP), pb.convert_postflop),
        ]
    )


def test_preflop_rows_replay_to_the_hero() -> None:
    pre = _rows(PRE_COLS, PREFLOP)
    s = pb.convert_preflop(pre[0], 0)
    # UTG 20, BTN 20, SB 130, BB all-in 1000; HJ and CO folded when their turn came
    assert s.state.actor == pb.POSITIONS["SB"] and s.state.pot == 1170
    assert [s.state.folded[pb.POSITIONS[p]] for p in ("UTG", "HJ", "CO", "BTN")] == [True] * 4
    assert s.kinds == ("call", "fold") and s.raise_to == (1000, 130) and s.label == 0
    assert s.preflop_raises == 3 and s.state.hole[0] == tuple(parse_cards("KdKc"))
    first = pb.convert_preflop(pre[1], 1)  # UTG, HJ, CO, BTN fold to the small blind
    assert first.state.actor == 0 and sum(first.state.folded) == 4
    assert first.raise_to == (30, 10, 5) and first.entries == (2, CALL_ID, FOLD_ID)
    limp = pb.convert_preflop(pre[2], 2)  # BB may check: the listed fold is not legal here
    assert limp.kinds == ("bet-raise", "bet-raise", "check", "fold") and limp.label_legal
    assert not limp.state.legal().can_fold and limp.entries == (3, 2, CALL_ID, FOLD_ID)
    only = pb.convert_preflop(pre[3], 3)
    assert only.moves == ("fold",) and only.label_legal


def test_postflop_rows_replay_street_by_street() -> None:
    post = _rows(POST_COLS, POSTFLOP)
    s = pb.convert_postflop(post[0], 0)
    # preflop 45 chips (HJ 20, BB 20, SB 5); turn 50 raised to 140 and called; river check
    assert s.state.street == 3 and s.state.pot == 45 + 280
    assert s.state.actor == pb.POSITIONS["HJ"] and s.state.board == tuple(parse_cards("Ks7h2dJc7c"))
    assert s.raise_to == (0, 240) and s.kinds == ("check", "bet-raise") and s.label == 0
    flop = pb.convert_postflop(post[1], 1)  # the turn and river are not shown on the flop
    obs = pb.observations([flop])
    assert obs.board_count.tolist() == [3] and (obs.board[0, 3:] == 255).all()
    assert obs.to_call.tolist() == [70] and obs.raises.tolist() == [2]


def test_sizes_just_short_of_the_stack_are_the_all_in() -> None:
    s = pb.convert_postflop(_rows(POST_COLS, POSTFLOP)[2], 2)
    legal = s.state.legal()
    # 70.7 bb behind after 2.3 + 27 bb: the solver's "Raise 70" is the all-in under rounding
    assert legal.max_raise_to == 707 and s.raise_to[2] == 707 and s.entries[2] == -1
    assert s.label_legal and s.snapped == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"hero_pos": "MP"}, "unknown hero position"),
        ({"hero_holding": "AsAs"}, "duplicate card"),
        ({"hero_holding": "Qd"}, "2 cards"),
        ({"prev_line": "BTN/2.5bb/UTG/call"}, "not to act"),
        ({"correct_decision": "4.0bb"}, "not among the moves"),
        ({"available_moves": "call"}, "not a list"),
        ({"prev_line": "SB/1.25bb"}, "multiple of 0.1"),
    ],
)
def test_bad_rows_give_one_clear_reason(change: dict[str, str], message: str) -> None:
    row = _rows(PRE_COLS, PREFLOP)[1] | change
    with pytest.raises(pb.ConversionError, match=message):
        pb.convert_preflop(row, 0)
    bench = pb.convert_rows([("preflop", [row], pb.convert_preflop)])
    assert bench.total == 1 and not bench.spots and message in bench.failures[0][2]


def test_scores_and_random_floor() -> None:
    bench = _bench()
    out = pb.evaluate(make_agent("calling-station"), bench)
    assert out["total"] == out["converted"] == 7 and out["labels_legal"] == 7
    # calling station: call/check where listed, otherwise fold (the row with only a fold)
    assert out["preflop"] == {"n": 4, "exact": 0.75, "action": 0.75}
    assert out["postflop"] == {"n": 3, "exact": 2 / 3, "action": 2 / 3}
    floor = [1 / 2, 1 / 3, 1 / 4, 1]
    assert out["random_floor"]["preflop"] == pytest.approx(np.mean(floor))
    assert out["random_floor_action"]["preflop"] == pytest.approx(np.mean(floor))
    assert out["random_floor_action"]["postflop"] == pytest.approx(np.mean([1 / 2, 1 / 3, 1 / 3]))
    maniac = pb.evaluate(make_agent("maniac"), bench)
    assert maniac["postflop"]["exact"] == pytest.approx(1 / 3)  # only the raise label
    # an all-in where the label is a 3 bb raise: the same kind of move, not the same move
    exact, action = pb.score(bench.spots[1:2], np.array([4]), 4)
    assert exact.tolist() == [0] and action.tolist() == [1]
    for name in BASELINES:  # every baseline picks among the listed moves
        assert pb.evaluate(make_agent(name), bench)["unlisted_choices"] == 0


def test_cli_json_contract(tmp_path: Path) -> None:
    for name, cols, data in (
        (pb.PREFLOP_FILE, PRE_COLS, PREFLOP),
        (pb.POSTFLOP_FILE, POST_COLS, POSTFLOP),
    ):
        with open(tmp_path / name, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            w.writerows(data)
    res = CliRunner().invoke(app, ["pokerbench", "tag", "--data", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["total"] == 7 and out["converted"] == 7
    for part in ("preflop", "postflop", "overall"):
        assert set(out[part]) == {"n", "exact", "action"}
        assert 0 <= out[part]["exact"] <= out[part]["action"] <= 1
        assert 0 < out["random_floor"][part] < 1
    missing = CliRunner().invoke(app, ["pokerbench", "tag", "--data", str(tmp_path / "x")])
    assert missing.exit_code != 0 and "does not hold" in missing.output
    no_data = CliRunner().invoke(app, ["pokerbench", "tag"], env={"GAMELM_POKERBENCH": ""})
    assert no_data.exit_code == 2 and "give --data FOLDER" in no_data.output
    from_env = CliRunner().invoke(
        app, ["pokerbench", "tag", "--json"], env={"GAMELM_POKERBENCH": str(tmp_path)}
    )
    assert from_env.exit_code == 0, from_env.output
    for name, cols in ((pb.PREFLOP_FILE, PRE_COLS), (pb.POSTFLOP_FILE, POST_COLS)):
        (tmp_path / name).write_text(",".join(cols) + "\n")  # headers, no rows
    empty = CliRunner().invoke(app, ["pokerbench", "tag", "--data", str(tmp_path)])
    assert empty.exit_code != 0 and "no PokerBench row" in empty.output


def test_sizes_within_a_big_blind_of_the_stack_are_the_all_in() -> None:
    row = _rows(POST_COLS, POSTFLOP)[2] | {"available_moves": "['Fold', 'Call', 'Raise 70']"}
    state = pb.convert_postflop(row, 0).state  # 70.7 bb behind
    kind, chips, size = pb._menu_entry(state, "Raise 70", [])
    assert (kind, chips, size) == ("bet-raise", 707, -1)
    kind, chips, size = pb._menu_entry(state, "Raise 69", [])
    assert chips == 690 and size == 690


def test_replayed_pots_are_compared_with_the_rows_pot_size() -> None:
    out = pb.evaluate(make_agent("random"), _bench())
    # postflop row 2: 6.1 bb preflop, 4 on the flop, 50 on the turn, a 45 bet: 105.1 against 103
    assert out["pot_vs_data"] == {"rows": 7, "over_1bb": 1, "max_bb": pytest.approx(2.1)}


def test_files_without_the_columns_or_not_text_name_the_file(tmp_path: Path) -> None:
    for name, cols, data in (
        (pb.PREFLOP_FILE, PRE_COLS, PREFLOP),
        (pb.POSTFLOP_FILE, PRE_COLS, PREFLOP),  # the preflop columns under the postflop name
    ):
        with open(tmp_path / name, "w", newline="") as f:
            csv.writer(f).writerows([cols, *data])
    res = CliRunner().invoke(app, ["pokerbench", "tag", "--data", str(tmp_path)])
    assert res.exit_code == 2 and pb.POSTFLOP_FILE in res.stderr
    assert "lacks the column(s) preflop_action" in res.stderr
    (tmp_path / pb.POSTFLOP_FILE).write_bytes(b"\xff\xfe\x00binary")
    res = CliRunner().invoke(app, ["pokerbench", "tag", "--data", str(tmp_path)])
    assert res.exit_code == 2 and "is not UTF-8 text" in res.stderr


def test_a_short_row_or_a_bad_pot_size_fails_only_that_row(tmp_path: Path) -> None:
    rows = _rows(POST_COLS, POSTFLOP)
    rows[0] = {k: v for k, v in rows[0].items() if k in POST_COLS[:7]}  # cut after the line
    rows[1]["pot_size"] = "n/a"  # only reported: the row still converts
    bench = pb.convert_rows([("postflop", rows, pb.convert_postflop)])
    assert len(bench.spots) == 2 and [f[1] for f in bench.failures] == [0]
    assert bench.spots[0].data_pot is None
    path = tmp_path / pb.POSTFLOP_FILE
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([POST_COLS, POSTFLOP[1], POSTFLOP[2][:5]])  # a row cut short
    read = pb.read_rows(path)
    assert read[1]["evaluation_at"] == ""  # not None: the converter reports a clear reason
    bench = pb.convert_rows([("postflop", read, pb.convert_postflop)])
    assert len(bench.spots) == 1 and "street" in bench.failures[0][2]


def test_a_poker_lm_plays_the_listed_moves(tmp_path: Path) -> None:
    from gamelm.agents.lm import LMAgent
    from gamelm.models.lm import PokerLM

    model = PokerLM.from_preset("tiny", seed=0)
    model.save(tmp_path / "m")
    agent = make_agent(f"ckpt:{tmp_path / 'm'}")
    assert isinstance(agent, LMAgent)
    out = pb.evaluate(agent, _bench())
    assert out["unlisted_choices"] == 0 and out["converted"] == len(PREFLOP) + len(POSTFLOP)
    # every spot's history reads as a hand: it starts preflop, one token per action
    obs = pb.observations(_bench().spots)
    assert (obs.history_len >= 2).all()


def test_an_llm_is_asked_in_small_batches_so_the_bar_moves() -> None:
    """A transformers LLM takes seconds per decision: the spots go to it (and the progress bar
    moves) a few at a time, as many as its model reads at once."""
    from types import SimpleNamespace

    bench = _bench()
    sizes: list[int] = []

    class Slow:
        name = "slow"
        model = SimpleNamespace(max_batch=2, fractions=None)

        def act(self, obs, rng):
            sizes.append(obs.size)
            return np.argmax(obs.legal, axis=1)

    out = pb.evaluate(Slow(), bench)
    assert out["converted"] == len(bench.spots) > 2
    assert max(sizes) == 2 and sum(sizes) == len(bench.spots)


def test_greedy_plays_a_language_models_most_likely_move(tmp_path: Path) -> None:
    """``--greedy`` scores the model's argmax move (PokerBench labels one move per spot). A rule
    agent has no such setting and is refused in one line."""
    from gamelm.agents.lm import LMAgent
    from gamelm.models.lm import PokerLM

    PokerLM.from_preset("tiny", seed=0).save(tmp_path / "m")
    for name, cols, data in (
        (pb.PREFLOP_FILE, PRE_COLS, PREFLOP),
        (pb.POSTFLOP_FILE, POST_COLS, POSTFLOP),
    ):
        with open(tmp_path / name, "w", newline="") as f:
            csv.writer(f).writerows([cols, *data])
    args = ["pokerbench", f"ckpt:{tmp_path / 'm'}", "--data", str(tmp_path), "--json"]
    res = CliRunner().invoke(app, [*args, "--greedy"])
    assert res.exit_code == 0, res.output
    agent = make_agent(f"ckpt:{tmp_path / 'm'}")
    assert isinstance(agent, LMAgent)
    spots = _bench().spots
    obs = pb.observations(spots)
    rng = np.random.default_rng([0, 5])  # the equity feature's draws, as `evaluate` seeds them
    best = agent.probabilities(obs, rng).argmax(axis=1)
    exact, _ = pb.score(spots, best, obs.menu.all_in_id)
    assert json.loads(res.output)["overall"]["exact"] == pytest.approx(exact.mean())
    refused = CliRunner().invoke(app, ["pokerbench", "tag", "--data", str(tmp_path), "--greedy"])
    assert refused.exit_code == 2 and "language-model agents" in refused.output
