"""The two views of a state: the poker LM's tokens and the general LLM's prompt."""

import numpy as np

from gamelm.agents.base import observe
from gamelm.agents.observation import (
    VOCAB,
    ActionHistory,
    action_tokens,
    decode,
    encode,
    legal_actions,
    preflop_equity,
    prompt,
    strength,
)
from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.batch import BatchEngine
from gamelm.poker.cards import CARD_NAMES, parse_cards
from gamelm.poker.equity import equity
from gamelm.poker.ranges import HAND_CLASSES, hand_class


def _flop_spot():
    """Heads-up, blinds 50/100: the button limps, the big blind checks; the big blind (AsAh)
    is first to act on Kh 7d 2c."""
    eng = BatchEngine(1, 2, 50, 100, starting_stacks=20000)
    hole = np.stack([parse_cards("AsAh"), parse_cards("QcJc")])[None]
    eng.reset(hole=hole, board=parse_cards("Kh7d2cTs3h")[None])
    menu, hist = ActionAbstraction((0.5, 1.0)), ActionHistory(1, 2)
    hist.reset([0])
    for a in (1, 1):
        obs = observe(eng, menu, np.arange(1), history=hist)
        hist.record(obs, [a])
        before = eng.street.copy()
        menu.step(eng, [a])
        if eng.street[0] != before[0]:
            hist.new_street([0], eng.street, eng.board)
    return observe(eng, menu, np.arange(1), history=hist)


def test_tokens_read_as_the_hand_so_far():
    obs = _flop_spot()
    tokens, mask = encode(obs)
    assert mask.all() and tokens.shape == (1, 15)
    assert decode(tokens[0]) == (
        "<bos> players:2 @BB As Ah preflop SB/BTN:call BB:check flop Kh 7d 2c stack:8 pot:2 price:0"
    )
    # the policy's tokens: no fold offered with nothing to call; check, r1, r2, allin
    names = [VOCAB[t] for t in action_tokens(obs)[0][obs.legal[0]]]
    assert names == ["check", "r1", "r2", "allin"]


def test_the_strength_token_is_the_hands_equity_in_tenths():
    obs = _flop_spot()  # AsAh on Kh 7d 2c against one random hand
    eq = strength(obs, 4000, np.random.default_rng(0))
    exact = equity(["AsAh", "random"], board="Kh7d2c").equity[0]  # 0.887, enumerated
    assert abs(eq[0] - exact) < 0.025
    tokens, _ = encode(obs, equity=eq)
    assert decode(tokens[0]).endswith("stack:8 pot:2 price:0 strength:8")
    assert decode(encode(obs, equity=np.array([1.0]))[0][0]).endswith("strength:9")
    # preflop, a table per number of opponents, close to the enumerated values
    # (AA 0.852, 72o 0.346 heads-up; AA 0.492 against five)
    aa, seven_two = HAND_CLASSES.index("AA"), HAND_CLASSES.index("72o")
    assert abs(preflop_equity(1)[aa] - 0.852) < 0.01
    assert abs(preflop_equity(1)[seven_two] - 0.346) < 0.01
    assert abs(preflop_equity(5)[aa] - 0.492) < 0.01
    eng = BatchEngine(2, 6, 1, 2, starting_stacks=200)
    eng.reset(seed=1)
    hist = ActionHistory(2, 6)
    hist.reset(np.arange(2))
    pre = observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(2), history=hist)
    cls = [HAND_CLASSES.index(hand_class(*h)) for h in pre.hole.tolist()]
    assert np.allclose(strength(pre, 10, np.random.default_rng(0)), preflop_equity(5)[cls])


def test_prompt_follows_the_documented_format():
    obs = _flop_spot()
    assert prompt(obs, 0) == "\n".join(
        [
            "You are playing heads-up no-limit Texas Hold'em.",
            "Blinds: small blind 50, big blind 100.",
            "Street: Flop",
            "Your position: BB",
            "Board cards: Kh 7d 2c",
            "Your hole cards: As Ah",
            "Pot size: 200",
            "Your stack: 19900",
            "To call: 0",
            "Opponents still in: SB/BTN (19900 behind)",
            "Action so far: Preflop: SB/BTN calls, BB checks. Flop (Kh 7d 2c): no action yet.",
            "Legal actions:",
            "- A0: Check (no chips added).",
            "- A1: Bet 100 into the pot.",
            "- A2: Bet 200 into the pot.",
            "- A3: Bet 19900 into the pot (all-in).",
            "Respond with exactly ONE action token from the list above.",
        ]
    )
    assert legal_actions(obs) == [[1, 2, 3, 4]]


class _Recorder:
    """Plays like ``base`` and keeps every decision's tokens."""

    def __init__(self, base):
        self.base, self.name, self.seen = base, base.name, []

    def act(self, obs, rng):
        choice = self.base.act(obs, rng)
        tokens, mask = encode(obs)
        self.seen.append((obs, tokens, mask, choice))
        return choice


def test_the_compact_prompt_says_the_same_in_fewer_words():
    obs = _flop_spot()
    compact = prompt(obs, 0, style="compact")
    assert compact == "\n".join(
        [
            "No-limit Texas Hold'em. Reply with one action token.",
            "2max 50/100 Flop. You BB AsAh, stack 19900.",
            "Board Kh7d2c. Pot 200, call 0.",
            "In: SB/BTN 19900.",
            "SB/BTN c BB x",
            "A0 check",
            "A1 bet 100",
            "A2 bet 200",
            "A3 bet 19900 allin",
        ]
    )
    assert len(compact) < 0.6 * len(prompt(obs, 0))
    try:
        prompt(obs, 0, style="short")
    except ValueError as exc:
        assert "full, compact, equity" in str(exc)
    else:
        raise AssertionError("an unknown style was accepted")


def test_the_equity_prompt_adds_the_hands_equity_and_the_price():
    obs = _flop_spot()
    lines = prompt(obs, 0, style="compact").split("\n")
    shown = prompt(obs, 0, style="equity").split("\n")
    assert shown[:3] + shown[4:] == lines and shown[3].startswith("Equity ")
    # AsAh on Kh7d2c against one random hand: estimated, within Monte Carlo error
    exact = equity(["AsAh", "random"], board="Kh7d2c").equity[0]  # 0.887, enumerated
    assert abs(int(shown[3].removeprefix("Equity ").rstrip(".%")) / 100 - exact) < 0.03
    assert prompt(obs, 0, style="equity", equity=0.4149).split("\n")[3] == "Equity 41%."
    # facing a bet the line names the pot odds: the share of the pot after a call it costs
    eng = BatchEngine(1, 2, 50, 100, starting_stacks=20000)
    eng.reset(seed=5)
    facing = observe(eng, ActionAbstraction((0.5, 1.0)), np.arange(1))  # the button: call 50
    line = prompt(facing, 0, style="equity", equity=0.5).split("\n")[3]
    assert line == "Equity 50%, pot odds 25%."  # 50 / (150 + 50)


def test_the_history_in_a_match_matches_what_was_played():
    rec = _Recorder(make_agent("tag"))
    play_match([rec, make_agent("random")], MatchConfig(seats=2, hands=300, seed=1, tables=64))
    lengths = []
    for obs, tokens, mask, _choice in rec.seen:
        lengths += mask.sum(axis=1).tolist()
        for i in range(obs.size):
            words = decode(tokens[i]).split()
            assert words[:3] == ["<bos>", "players:2", "@BB" if obs.seat[i] == 0 else "@SB/BTN"]
            assert words[3:5] == [CARD_NAMES[c] for c in obs.hole[i]]
            board = [w for w in words[5:] if w in CARD_NAMES]
            assert board == [CARD_NAMES[c] for c in obs.board[i, : obs.board_count[i]]]
            streets = [w for w in words if w in ("preflop", "flop", "turn", "river")]
            assert len(streets) == obs.street[i] + 1
    assert 10 <= np.mean(lengths) <= 32  # a typical heads-up decision is short


def test_a_long_history_keeps_its_newest_tokens():
    hist = ActionHistory(2, 2, max_len=16)
    hist.reset([0, 1])
    eng = BatchEngine(2, 2, 1, 2, starting_stacks=10_000)
    eng.reset(seed=0)
    menu = ActionAbstraction((0.5,))
    for _ in range(10):  # a raising war: 21 tokens into 16 slots
        obs = observe(eng, menu, np.arange(2), history=hist)
        hist.record(obs, [2, 2])
        menu.step(eng, [2, 2])
    assert (hist.length <= 16).all()
    assert decode(hist.tokens[0, : hist.length[0]]).split()[-1].endswith(":r1")


def test_a_rules_hand_reads_as_the_same_history_tokens():
    from gamelm.agents.observation import rules_history
    from gamelm.poker import rules
    from gamelm.poker.cards import parse_cards

    cfg = rules.HandConfig(1, 2, (200, 200))
    state = rules.start_hand(cfg, parse_cards("AsAhKdKc"), parse_cards("Kh7d2c9s3h"))
    state = rules.apply_action(state, rules.RaiseTo(6))  # the button: 2 + 1.0 x (3 + 1)
    state = rules.apply_action(state, rules.CheckCall())
    state = rules.apply_action(state, rules.CheckCall())  # big blind checks the flop
    state = rules.apply_action(state, rules.RaiseTo(194))  # button all-in
    assert decode(rules_history(state)) == (
        "preflop SB/BTN:r2 BB:call flop Kh 7d 2c BB:check SB/BTN:allin"
    )
    # the same hand read with other raise sizes: 1.0 pot is nearest to 1.5 of (0.33, 1.5)
    assert decode(rules_history(state, (0.33, 1.5))).split()[1] == "SB/BTN:r2"
    assert decode(rules_history(state, (0.8, 3.0))).split()[1] == "SB/BTN:r1"
