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


def _phh(stacks: str, blinds: str = "[1, 2]", actions: str = '"d dh p1 AsAh", "d dh p2 KsKd"'):
    return (
        f'variant = "NT"\nblinds_or_straddles = {blinds}\nstarting_stacks = {stacks}\n'
        f"actions = [{actions}]\n"
    )


def test_chip_amounts_are_whole_numbers_never_truncated():
    record = history.loads(_phh("[100.0, 250]", "[1.0, 2]"))
    assert record.starting_stacks == [100, 250] and (record.small_blind, record.big_blind) == (1, 2)
    assert all(type(s) is int for s in record.starting_stacks)
    for stacks, shown in [("[100.7, 100]", "100.7"), ("[inf, 100]", "inf"), ("[nan, 1]", "nan")]:
        with pytest.raises(ValueError, match=f"starting_stacks must be whole numbers.*{shown}"):
            history.loads(_phh(stacks))
    with pytest.raises(ValueError, match="blinds_or_straddles must be whole numbers"):
        history.loads(_phh("[100, 100]", "[1, -inf]"))
    with pytest.raises(ValueError, match="starting_stacks must be whole numbers"):
        history.loads(_phh("[true, 100]"))
    with pytest.raises(ValueError, match="must be a list"):
        history.loads(_phh("100"))
    with pytest.raises(ValueError, match=r"whole number of chips, got '2\.5'"):
        history.loads(_phh("[100, 100]", actions='"d dh p1 AsAh", "p2 cbr 2.5"'))


def test_absurd_phh_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="nest too deeply"):
        history.loads('variant = "NT"\nx = ' + "[" * 5000 + "]" * 5000)
    with pytest.raises(ValueError, match="too many digits"):
        history.loads(_phh("[" + "9" * 5000 + ", 100]"))
    with pytest.raises(ValueError, match=r"names no player p1\.\.p2"):
        history.loads(_phh("[100, 100]", actions='"d dh p0 AsAh"'))
    with pytest.raises(ValueError, match=r"names no player p1\.\.p2"):
        history.loads(_phh("[100, 100]", actions='"p3 f"'))
    with pytest.raises(ValueError, match="board cannot hold 2 cards"):
        history.loads(_phh("[100, 100]", actions='"d db AcAd"'))
