"""Equity: exact enumeration against a brute force with phevaluator, Monte Carlo against exact."""

from itertools import combinations

import numpy as np
import pytest

from gamelm.poker.cards import parse_cards
from gamelm.poker.equity import equity, implied_odds, pot_odds
from gamelm.poker.ranges import COMBOS, Range

phevaluator = pytest.importorskip("phevaluator")


def brute_force(hands: list[str], board: str, ranges: dict[int, str] | None = None) -> list[float]:
    """Every run-out and every range holding, scored with phevaluator (lower rank is stronger)."""
    ranges = ranges or {}
    fixed = {i: parse_cards(h).tolist() for i, h in enumerate(hands) if i not in ranges}
    b = parse_cards(board).tolist() if board else []
    holdings = [[]]
    weights = [1.0]
    for i in range(len(hands)):
        if i in ranges:
            r = Range.parse(ranges[i])
            idx = np.flatnonzero(r.weights)
            new_h, new_w = [], []
            for h, w in zip(holdings, weights):
                for c in idx:
                    new_h.append([*h, COMBOS[c].tolist()])
                    new_w.append(w * r.weights[c])
            holdings, weights = new_h, new_w
        else:
            holdings = [[*h, fixed[i]] for h in holdings]
    total = np.zeros(len(hands))
    mass = 0.0
    for h, w in zip(holdings, weights):
        used = [c for pair in h for c in pair] + b
        if len(set(used)) != len(used):
            continue
        deck = [c for c in range(52) if c not in used]
        for run in combinations(deck, 5 - len(b)):
            ranks = [phevaluator.evaluate_cards(*pair, *b, *run) for pair in h]
            best = min(ranks)
            winners = [i for i, r in enumerate(ranks) if r == best]
            for i in winners:
                total[i] += w / len(winners)
            mass += w
    return (total / mass).tolist()


@pytest.mark.parametrize(
    ("players", "board", "ranges"),
    [
        (["AhKh", "QsQd"], "Td9h2c", None),
        (["7c8c", "AsKd", "9s9h"], "Tc9d2h", None),
        (["AhKh", "x"], "Td9h2c7s", {1: "QQ, JJ, T9s, AKo:0.5"}),
        (["5d5c", "x"], "2c7h9dTs", {1: "AK"}),
        (["x", "y"], "Kh7d2cQs", {0: "AA, KQs", 1: "77, 22, AK"}),
    ],
)
def test_exact_matches_brute_force(players, board, ranges):
    specs = [ranges[i] if ranges and i in ranges else p for i, p in enumerate(players)]
    got = equity(specs, board)
    assert got.exact
    assert got.equity == pytest.approx(brute_force(players, board, ranges), abs=1e-12)


def test_monte_carlo_agrees_with_exact():
    cases = [
        (["AhKh", "QQ, JJ, T9s, AKo:0.5"], "Td9h2c"),  # a weighted range: sampled
        (["AhKh", "random", "7s7d"], "Td9h2c"),  # a random hand: dealt from the deck
        (["KsKd", "random"], "Ah7c2d"),
        (["AhKh", "7h7d"], ""),  # preflop: five board cards dealt, flushes in one suit
    ]
    for specs, board in cases:
        exact = equity(specs, board)
        mc = equity(specs, board, trials=200_000, seed=3, max_exact=0)
        assert exact.exact and not mc.exact and mc.trials == 200_000
        for e, m, se in zip(exact.equity, mc.equity, mc.stderr):
            assert 0 < se < 0.01
            assert abs(m - e) < 4.5 * se, (specs, e, m, se)
        assert sum(mc.equity) == pytest.approx(1.0)


def test_preflop_reference_values():
    # AKs against a random hand: 67.0% in every equity table
    r = equity(["AhKh", "random"], trials=400_000, seed=1)
    assert not r.exact and abs(r.equity[0] - 0.6704) < 4 * r.stderr[0] + 5e-4
    # AA vs KK, no shared suits, enumerated over all 1,712,304 boards; eval7's Monte Carlo agrees
    r = equity(["AsAd", "KhKc"])
    assert r.exact and r.trials == 1_712_304
    eval7 = pytest.importorskip("eval7")
    n = 2_000_000
    e7 = eval7.py_hand_vs_range_monte_carlo(
        [eval7.Card("As"), eval7.Card("Ad")], eval7.HandRange("KhKc"), [], n
    )
    assert abs(r.equity[0] - e7) < 4 * np.sqrt(e7 * (1 - e7) / n)


def test_seeded_and_split_pots():
    a = equity(["AhKh", "random", "random"], trials=50_000, seed=7)
    b = equity(["AhKh", "random", "random"], trials=50_000, seed=7)
    assert a == b
    royal = equity(["2c3d", "4h5s"], "AsKsQsJsTs")  # the board plays
    assert royal.equity == (0.5, 0.5)


@pytest.mark.parametrize(
    ("players", "board", "needle"),
    [
        (["AhKh", "AhQd"], "", "held twice"),
        (["AhKh", "QsQd"], "Ah2c3d", "held twice"),
        (["AhKh", "QsQd"], "2c3d", "0, 3, 4 or 5"),
        (["AhKh"], "", "give 2..10 players"),
        (["AhKh", "AA"], "AsAd2c", "no combo"),
        (["AhKh", "ZZ"], "", "player 1"),
    ],
)
def test_bad_input(players, board, needle):
    with pytest.raises(ValueError, match=needle):
        equity(players, board)


def test_odds():
    assert pot_odds(50, 150) == 0.25
    assert pot_odds(0, 10) == 0.0
    assert implied_odds(50, 150, 200) == pytest.approx(50 / 400)


def test_hand_strength_against_a_range_matches_equity():
    """Opponents drawn from a range (blocked combos removed, colliding deals dropped), alone or
    next to random hands, give the same equity as `equity`, preflop and on the flop."""
    from gamelm.poker.cards import parse_cards
    from gamelm.poker.equity import hand_strength
    from gamelm.poker.ranges import Range

    cases = [("7c2d", "QQ+, AKs", "", 1, 1), ("Td9d", "22+, AJs+, KQs", "Jd8c2h", 1, 1)]
    cases += [("AhQh", "TT+, AK", "Qs7h2h", 2, 2), ("AhQh", "TT+, AK", "", 3, 1)]
    for hole, spec, board, opponents, ranged in cases:
        board_cards = np.full(5, 0, np.int64)
        board_cards[: len(board) // 2] = parse_cards(board) if board else []
        got = hand_strength(
            parse_cards(hole)[None],
            board_cards[None],
            [len(board) // 2],
            [opponents],
            trials=40_000,
            rng=np.random.default_rng(1),
            ranges=Range.parse(spec).weights,
            ranged=[ranged],
        )[0]
        players = [hole] + [spec] * ranged + ["random"] * (opponents - ranged)
        want = equity(players, board, trials=400_000, seed=2).equity[0]
        assert abs(got - want) < 4 * 0.5 / np.sqrt(40_000), (hole, spec, got, want)


def test_any_bit_generator_and_impossible_ranges():
    mt = np.random.Generator(np.random.MT19937(0))  # 32-bit raw output
    r = equity(["AhKh", "random"], trials=100_000, rng=mt, max_exact=0)
    assert abs(r.equity[0] - 0.6704) < 4 * r.stderr[0]
    for kw in ({}, {"max_exact": 0}):  # both aces ranges need the two aces left: no deal exists
        with pytest.raises(ValueError, match="no deal is possible"):
            equity(["KdKc", "AA", "AA"], "AhAs2c", **kw)
