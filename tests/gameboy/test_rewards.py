"""Reward terms one by one, the tracker, and anti-stuck."""

import dataclasses
import json

import pytest

from gamelm.gameboy import crystal as c
from gamelm.gameboy.antistuck import BURST, NONE, RELOAD, AntiStuck, StuckConfig
from gamelm.gameboy.env import GameBoyEnv
from gamelm.gameboy.generic import read_screen_state, screen_key
from gamelm.gameboy.rewards import TERMS, RewardConfig, RewardTracker


def state(**kw) -> c.CrystalState:
    base = dict(party_species=(155,), party_levels=(5,), party_hp=(20,), party_max_hp=(20,),
                johto_badges=0, kanto_badges=0, money=3000, map_group=24, map_number=4,
                x=5, y=5, battle_mode=0, player_name="CHRIS", events_set=10,
                got_starter=True)  # fmt: skip
    base.update(kw)
    return c.CrystalState(**base)


def test_each_term():
    cfg = RewardConfig()
    t = RewardTracker(cfg)
    s0 = state()
    t.start(s0)
    assert t.step(s0, state(party_levels=(6,))) == {**dict.fromkeys(TERMS, 0.0), "level": 1.0}
    # a deposit and a withdrawal earn nothing; only levels beyond the best total count
    assert t.step(state(party_levels=(6,)), state(party_levels=(), party_species=(),
                  party_hp=(), party_max_hp=()))["level"] == 0  # fmt: skip
    assert t.step(state(party_levels=()), state(party_levels=(6,)))["level"] == 0
    assert t.step(s0, state(johto_badges=0b11))["badge"] == 2 * cfg.badge
    assert t.step(s0, state(money=5000))["money"] == pytest.approx(2000 * cfg.money)
    assert t.step(s0, state(money=1000))["money"] == 0  # spending costs nothing
    two = state(event_bits=0b110, events_set=2)
    assert t.step(s0, two)["event"] == 2 * cfg.event
    assert t.step(two, s0)["event"] == 0  # cleared: nothing lost
    assert t.step(s0, state(event_bits=0b100))["event"] == 0  # set again: seen before
    assert t.step(s0, state(event_bits=0b1110))["event"] == cfg.event  # only flag 3 is new
    bulk = (1 << 200) - 1  # a new game sets ~130 flags at once: the baseline, no reward
    assert t.step(s0, state(event_bits=bulk))["event"] == 0
    assert t.step(s0, state(event_bits=bulk | 1 << 300))["event"] == cfg.event
    hurt, healed = state(party_hp=(5,)), state(party_hp=(20,))
    assert t.step(hurt, healed)["heal"] == pytest.approx(0.75)
    assert t.step(state(party_hp=(5,), battle_mode=1), healed)["heal"] == 0
    explore = t.step(s0, state(x=6))
    assert explore["explore"] == cfg.explore and explore["revisit"] == 0
    assert t.step(state(x=6), s0)["explore"] == 0  # entered before
    assert t.step(s0, s0)["explore"] == 0  # standing still


def test_revisit_penalty_only_when_entering_a_tile_too_often():
    cfg = RewardConfig(revisit_limit=3)
    t = RewardTracker(cfg)
    a, b = state(), state(x=6)
    t.start(a)
    penalties = []
    for _ in range(5):
        penalties.append(t.step(a, b)["revisit"])
        penalties.append(t.step(b, a)["revisit"])
    # b is entered with 0..4 visits before (2 penalised), a with 1..5 (the start counts: 3)
    assert penalties.count(cfg.revisit) == 5
    assert t.step(a, a)["revisit"] == 0  # pressing A in place is not a revisit
    assert t.totals["revisit"] == pytest.approx(5 * cfg.revisit)


def test_tracker_state_round_trip():
    t = RewardTracker()
    t.start(state())
    t.step(state(), state(x=7, party_levels=(9,)))
    u = RewardTracker()
    t.step(state(), state(event_bits=1 << 1999))
    u.load_state_dict(json.loads(json.dumps(t.state_dict())))
    assert u.visits == t.visits and u.totals == t.totals and u.best_levels == 9
    assert u.seen_events == t.seen_events == 1 << 1999


def test_generic_screen_state_explores_screens(make_rom):
    with GameBoyEnv(make_rom(), allow_any_rom=True) as env:
        t = RewardTracker()
        prev = read_screen_state(env.screen())
        t.start(prev)
        got = []
        for button in ("right", "left", "right", "right"):
            cur = read_screen_state(env.step(button))
            got.append(t.step(prev, cur)["explore"])
            prev = cur
        assert got == [0.05, 0.0, 0.0, 0.05]  # back to the start and to x=1: seen before
        assert dataclasses.asdict(prev)["screen_key"] == screen_key(env.screen())


def test_rewards_through_the_emulator(make_rom):
    with GameBoyEnv(make_rom("PM_CRYSTAL"), allow_any_rom=True) as env:
        mem = env.memory
        mem[c.PARTY_COUNT], mem[c.PARTY_MONS + c.MON_LEVEL] = 1, 5
        mem[c.PARTY_MONS + c.MON_MAXHP + 1], mem[c.PARTY_MONS + c.MON_HP + 1] = 40, 10
        t = RewardTracker()
        prev = c.read_state(env.pyboy.memory)
        t.start(prev)
        mem[c.PARTY_MONS + c.MON_LEVEL] = 7  # two levels
        mem[c.JOHTO_BADGES] = 1  # Zephyr badge
        mem[c.MONEY + 1], mem[c.MONEY + 2] = 0x03, 0xE8  # 1,000
        mem[c.PARTY_MONS + c.MON_HP + 1] = 40  # healed
        mem[c.EVENT_FLAGS] = 0b1
        mem[c.EVENT_FLAGS + c.NUM_EVENTS // 8] = 0xFF  # wCurBox, past the last flag: not events
        env.step("right")
        cur = c.read_state(env.pyboy.memory)
        terms = t.step(prev, cur)
        assert terms == {"level": 2.0, "badge": 10.0, "money": 0.5, "explore": 0.05,
                         "event": 0.5, "heal": 0.75, "revisit": 0.0}  # fmt: skip


def test_anti_stuck_escalates():
    cfg = StuckConfig(no_reward_actions=10, tile_window=1000, same_screen_actions=1000,
                      burst_actions=3, grace_actions=5)  # fmt: skip
    s = AntiStuck(cfg)
    events = [s.observe(0.0, (0, 0, i, 0), str(i)) for i in range(30)]
    assert events[9] == BURST and s.reason == "no reward for 10 actions"
    assert events[15] == RELOAD  # still stuck after the grace: load the last good state
    assert events.count(BURST) == 2 and events.count(RELOAD) == 1
    assert s.observe(1.0, (0, 0, 0, 0), "x") == NONE and s.level == 0 and s.reason is None
    few = AntiStuck(StuckConfig(tile_window=20, few_tiles=2, no_reward_actions=10**6))
    got = [few.observe(0.0, (0, 0, i % 2, 0), str(i % 2)) for i in range(20)]
    assert got[-1] == BURST and "2 tiles in the last 20" in few.reason
    # one tile but the screen keeps changing (the intro's text, a menu): not stuck
    reading = AntiStuck(StuckConfig(tile_window=20, no_reward_actions=10**6))
    assert all(reading.observe(0.0, (0, 0, 0, 0), str(i)) == NONE for i in range(100))
    # no good state to go back to: bursts only
    lone = AntiStuck(cfg)
    got = [lone.observe(0.0, (0, 0, i, 0), str(i), can_reload=False) for i in range(30)]
    assert RELOAD not in got and [i for i, g in enumerate(got) if g == BURST] == [9, 15, 21, 27]


def test_anti_stuck_on_a_frozen_screen(make_rom):
    cfg = StuckConfig(same_screen_actions=8, no_reward_actions=10**6, tile_window=10**6)
    s = AntiStuck(cfg)
    with GameBoyEnv(make_rom(), allow_any_rom=True) as env:
        got = [s.observe(0.0, (0,), screen_key(env.step("a"))) for _ in range(10)]
        assert got.index(BURST) == 8 and "the same screen for 8 actions" in s.reason
        s2 = AntiStuck(cfg)
        moves = ("right", "left")
        got = [s2.observe(0.0, (0,), screen_key(env.step(moves[i % 2]))) for i in range(12)]
        assert BURST not in got  # the screen changes with every step
