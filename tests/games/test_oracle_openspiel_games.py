"""Oracle test: gamelm's Kuhn and Leduc walk the same trees as OpenSpiel's, node for node."""

import pytest

pyspiel = pytest.importorskip("pyspiel")

from gamelm.games import CHANCE, load_game  # noqa: E402


def _walk(ours, theirs, counts):
    assert ours.is_terminal() == theirs.is_terminal()
    if ours.is_terminal():
        assert ours.returns() == pytest.approx(tuple(theirs.returns()))
        counts["terminal"] += 1
        return
    if theirs.is_chance_node():
        assert ours.current_player() == CHANCE
        outs = ours.chance_outcomes()
        assert [a for a, _ in outs] == [a for a, _ in theirs.chance_outcomes()]
        assert [p for _, p in outs] == pytest.approx([p for _, p in theirs.chance_outcomes()])
        actions = [a for a, _ in outs]
    else:
        p = theirs.current_player()
        assert ours.current_player() == p
        assert ours.legal_actions() == theirs.legal_actions()
        for q in (0, 1):
            assert ours.information_state_string(q) == theirs.information_state_string(q)
        counts["infosets"].add(ours.information_state_string(p))
        actions = ours.legal_actions()
    for a in actions:
        _walk(ours.child(a), theirs.child(a), counts)


@pytest.mark.parametrize(
    ("name", "spiel", "infosets"), [("kuhn", "kuhn_poker", 12), ("leduc", "leduc_poker", 936)]
)
def test_game_tree_matches_openspiel(name, spiel, infosets):
    counts = {"terminal": 0, "infosets": set()}
    _walk(load_game(name).initial_state(), pyspiel.load_game(spiel).new_initial_state(), counts)
    assert len(counts["infosets"]) == infosets
    assert counts["terminal"] > 0


def test_unknown_game_is_one_sentence():
    with pytest.raises(ValueError, match="unknown game 'chess'; choose one of kuhn, leduc"):
        load_game("chess")
