"""Crystal's memory map: `read_state` from plain memory and through the emulator, where the
game keeps another work RAM bank switched in."""

import pytest

from gamelm.gameboy import crystal as c
from gamelm.gameboy.env import BUTTONS, GameBoyEnv


def poke(memory, values: dict[int, int]) -> None:
    for addr, value in values.items():
        memory[addr] = value


def sample_values() -> dict[int, int]:
    v = {c.PARTY_COUNT: 2, c.PARTY_SPECIES: 155, c.PARTY_SPECIES + 1: 16, c.PARTY_SPECIES + 2: 0xFF}
    first, second = c.PARTY_MONS, c.PARTY_MONS + c.PARTYMON_STRUCT_LENGTH
    v.update(
        {
            first + c.MON_LEVEL: 14,
            first + c.MON_HP: 0x01,
            first + c.MON_HP + 1: 0x02,
            first + c.MON_MAXHP: 0x01,
            first + c.MON_MAXHP + 1: 0x2C,
        }
    )  # 258 / 300 HP
    v.update({second + c.MON_LEVEL: 3, second + c.MON_HP + 1: 0, second + c.MON_MAXHP + 1: 15})
    v.update({c.JOHTO_BADGES: 0b101, c.KANTO_BADGES: 0b1})
    v.update({c.MONEY: 0x01, c.MONEY + 1: 0xE2, c.MONEY + 2: 0x40})  # 123,456 (not BCD)
    v.update({c.MAP_GROUP: 24, c.MAP_NUMBER: 4, c.X_COORD: 9, c.Y_COORD: 6, c.BATTLE_MODE: 1})
    name = [0x82, 0x87, 0x91, 0x88, 0x92, c.NAME_END]  # CHRIS
    v.update({c.PLAYER_NAME + i: b for i, b in enumerate(name)})
    v.update({c.EVENT_FLAGS + 3: 0b100, c.EVENT_FLAGS + 10: 0b11})  # event 26, plus two more
    return v


def check(state: c.CrystalState) -> None:
    assert state.party_species == (155, 16)
    assert state.party_levels == (14, 3)
    assert state.party_hp == (258, 0) and state.party_max_hp == (300, 15)
    assert state.hp_fraction == pytest.approx(258 / 315)
    assert (state.johto_badges, state.kanto_badges, state.badges) == (0b101, 1, 3)
    assert state.money == 123_456
    assert state.tile == (24, 4, 9, 6) and state.map_name == "New Bark Town"
    assert state.battle_mode == 1 and state.in_battle
    assert state.player_name == "CHRIS"
    assert state.got_starter and state.events_set == 3
    assert state.event_bits == 1 << 26 | 1 << 80 | 1 << 81


def test_event_26_is_byte_3_bit_2_and_the_flags_end_before_wcurbox():
    assert c.EVENT_FLAGS + c.EVENT_GOT_A_POKEMON_FROM_ELM // 8 == 0xDA75
    assert 1 << c.EVENT_GOT_A_POKEMON_FROM_ELM % 8 == 0x04
    assert c.EVENT_FLAGS + c.NUM_EVENTS // 8 == 0xDB6C  # then wCurBox (0xDB72) after padding
    memory = bytearray(0x10000)
    memory[0xDB72:0xDB75] = b"\x81\x8e\x97"  # a box name ("BOX"): not events
    assert c.read_state(memory).events_set == 0


def test_read_state_from_plain_memory():
    memory = bytearray(0x10000)
    poke(memory, sample_values())
    check(c.read_state(memory))
    check(c.read_state(dict(enumerate(memory))))
    memory[c.PARTY_COUNT] = 0xFF  # the title screen: memory not set up
    empty = c.read_state(memory)
    assert empty.party_levels == () and empty.hp_fraction == 1.0
    memory[c.EVENT_FLAGS + 3] = 0
    assert not c.read_state(memory).got_starter
    assert c.read_state(memory).to_dict()["party_levels"] == []


def test_read_state_through_the_emulator(make_rom):
    with GameBoyEnv(make_rom("PM_CRYSTAL"), allow_any_rom=True) as env:
        assert env.info.crystal
        values = sample_values()
        values.pop(c.X_COORD), values.pop(c.Y_COORD)  # the ROM writes these itself
        for addr, value in values.items():
            env.pyboy.memory[1, addr] = value  # bank 1, as the game keeps it
            env.pyboy.memory[2, addr] = 0x77  # decoys in the bank the game switches in
        for button in ("right",) * 9 + ("down",) * 6:
            env.step(button)
        assert env.pyboy.memory[0xFF70] & 7 == 2
        check(c.read_state(env.pyboy.memory))  # pyboy.memory itself: read in bank 1
        check(c.read_state(env.memory))


def test_forbidden_buttons_and_features():
    memory = bytearray(0x10000)
    before = c.read_state(memory)
    assert c.allowed_buttons(before, BUTTONS) == ("a", "b", "up", "down", "left", "right")
    poke(memory, sample_values())
    after = c.read_state(memory)
    assert c.allowed_buttons(after, BUTTONS) == BUTTONS
    feats = c.features(after)
    assert len(feats) == c.FEATURES and all(0 <= f <= 1 for f in feats)
    assert feats[0] == pytest.approx(0.14) and feats[12] == 1.0
    assert c.features(object()) == [0.0] * c.FEATURES
