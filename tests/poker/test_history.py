import io

import numpy as np
import pytest

from gamelm.poker import history, rules
from gamelm.poker.abstraction import ActionAbstraction, sample_uniform
from gamelm.poker.batch import BatchEngine


def play_batch(n_tables: int, seats: int, seed: int, ante: int = 0):
    rng = np.random.default_rng(seed)
    stacks = rng.integers(5, 300, size=(n_tables, seats))
    eng = BatchEngine(n_tables, seats, 1, 2, starting_stacks=stacks, ante=ante)
    eng.reset(rng=rng)
    rec = history.BatchRecorder(n_tables)
    rec.start(eng, range(n_tables))
    menu = ActionAbstraction((0.5, 1.0))
    while not eng.done.all():
        kind, amount = menu.decode(eng, sample_uniform(menu.legal_mask(eng), rng))
        rec.record(eng, kind, amount)
        eng.step(kind, amount)
    return eng, rec.finish(eng, range(n_tables))


@pytest.mark.parametrize(("seats", "ante"), [(2, 0), (3, 1), (6, 0), (9, 2)])
def test_round_trip_and_replay(seats, ante):
    eng, records = play_batch(60, seats, seed=seats, ante=ante)
    for t, rec in enumerate(records):
        text = history.dumps(rec)
        back = history.loads(text)
        state = history.replay(back)
        assert state.finished
        assert list(state.final_stacks) == rec.finishing_stacks == eng.stacks[t].tolist()
        assert back.finishing_stacks == rec.finishing_stacks


@pytest.mark.parametrize(("seats", "ante"), [(2, 0), (2, 3), (4, 0), (6, 1), (9, 0)])
def test_pokerkit_loads_and_replays_to_finishing_stacks(seats, ante):
    pokerkit = pytest.importorskip("pokerkit")
    _, records = play_batch(80, seats, seed=100 + seats, ante=ante)
    for rec in records:
        hh = pokerkit.HandHistory.load(io.BytesIO(history.dumps(rec).encode()))
        final = list(hh)[-1]
        assert list(final.stacks) == rec.finishing_stacks
        assert not final.status


def test_record_from_rules_state():
    cfg = rules.HandConfig(1, 2, (50, 80, 120))
    rng = np.random.default_rng(0)
    hole, board = rules.deal_random(cfg, rng)
    s = rules.start_hand(cfg, hole, board)
    s = rules.apply_action(s, rules.RaiseTo(120))  # button all-in, both blinds call
    s = rules.apply_action(s, rules.CheckCall())
    s = rules.apply_action(s, rules.CheckCall())
    assert s.finished
    back = history.replay(history.loads(history.dumps(history.record_from_state(s))))
    assert back.final_stacks == s.final_stacks


def test_bad_phh():
    with pytest.raises(ValueError, match="variant"):
        history.loads('variant = "FT"\n')
    with pytest.raises(ValueError, match="not a PHH"):
        history.loads("variant = \n")


def test_write_atomic(tmp_path):
    path = tmp_path / "a" / "hand.phh"
    history.write_atomic(path, "x = 1\n")
    assert path.read_text() == "x = 1\n"
    assert [p.name for p in path.parent.iterdir()] == ["hand.phh"]
