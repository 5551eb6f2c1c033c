"""The PyBoy wrapper on the generated ROM: ROM checks, button timing, banked reads, save
states, the locked clock, and no files beside the ROM."""

import hashlib
import time

import numpy as np
import pytest

from gamelm.gameboy.env import (
    BUTTONS,
    CRYSTAL_SHA1,
    EnvConfig,
    GameBoyEnv,
    RomError,
    check_rom,
)
from gamelm.gameboy.testrom import PRESS_COUNTS, RTC_SECONDS, build_test_rom, header_checksum


def test_rom_checks(make_rom, tmp_path):
    with pytest.raises(RomError, match="no ROM file at"):
        check_rom(tmp_path / "missing.gbc")
    with pytest.raises(RomError, match="directory"):
        check_rom(tmp_path)
    text = tmp_path / "notes.gbc"
    text.write_text("not a rom\n" * 10)
    with pytest.raises(RomError, match="not a Game Boy ROM"):
        check_rom(text)
    broken = tmp_path / "broken.gbc"
    data = bytearray(build_test_rom())
    data[0x134] ^= 0xFF  # the header checksum no longer matches
    broken.write_bytes(bytes(data))
    with pytest.raises(RomError, match="header checksum"):
        check_rom(broken)
    other = make_rom("TETRIS")
    with pytest.raises(
        RomError, match=r"not Pokemon Crystal \(its header title is 'TETRIS'\).*--allow-any-rom"
    ):
        check_rom(other)
    hack = make_rom("PM_CRYSTAL")
    with pytest.raises(RomError, match="not a known release"):
        check_rom(hack)
    info, data = check_rom(hack, allow_any_rom=True)
    assert info.crystal and info.release is None and info.cgb and len(data) == 0x8000
    assert not check_rom(other, allow_any_rom=True)[0].crystal
    assert header_checksum(data) == data[0x14D]
    entry = bytearray(build_test_rom())
    entry[0x100] = 0x76  # halt: no jump to the program
    (tmp_path / "entry.gbc").write_bytes(bytes(entry))
    with pytest.raises(RomError, match="no jump at its entry point"):
        check_rom(tmp_path / "entry.gbc")


def test_a_known_release_needs_no_flag(make_rom, monkeypatch):
    """The release path: a ROM whose SHA-1 is listed runs without --allow-any-rom (the test
    ROM's hash stands in for a real release's)."""
    rom = make_rom("PM_CRYSTAL")
    sha1 = hashlib.sha1(rom.read_bytes()).hexdigest()
    monkeypatch.setitem(CRYSTAL_SHA1, sha1, "Pokemon Crystal (test stand-in)")
    info, _ = check_rom(rom)
    assert info.crystal and info.release == "Pokemon Crystal (test stand-in)"


def test_unsupported_cartridge_is_one_sentence(tmp_path):
    data = bytearray(build_test_rom())
    data[0x147] = 0xFC  # a camera cartridge
    data[0x14D] = header_checksum(data)
    (tmp_path / "camera.gbc").write_bytes(bytes(data))
    with pytest.raises(RomError, match="PyBoy cannot run"):
        GameBoyEnv(tmp_path / "camera.gbc", allow_any_rom=True)


def test_buttons_frames_and_banked_memory(make_rom):
    with GameBoyEnv(make_rom(), EnvConfig(press_frames=6, frames_per_action=20), True) as env:
        assert env.pyboy.cartridge_title == "GAMELM TEST"
        start = env.frames
        screen = env.reset()
        assert screen.shape == (36, 40) and screen.dtype == np.uint8
        for button in ("right", "right", "right", "down", "a", "start", "left"):
            env.step(button)
        assert env.frames - start == 7 * 20 and env.actions == 7
        # one press and release per action: exactly one new press counted by the game each time
        counts = dict(zip(BUTTONS, [0] * 8, strict=True))
        order = ("a", "b", "select", "start", "right", "left", "up", "down")
        counts.update(dict(zip(order, env.memory[PRESS_COUNTS : PRESS_COUNTS + 8], strict=True)))
        assert counts == {"a": 1, "b": 0, "select": 0, "start": 1, "right": 3, "left": 1,
                          "up": 0, "down": 1}  # fmt: skip
        # the game left work RAM bank 2 switched in, with decoys at wXCoord/wYCoord
        assert env.pyboy.memory[0xFF70] & 7 == 2
        assert env.pyboy.memory[0xDCB8] == 0xEE
        assert (env.memory[0xDCB7], env.memory[0xDCB8]) == (1, 2)
        assert env.memory[0xDCB7:0xDCB9] == [1, 2]
        with pytest.raises(ValueError, match="unknown button 'x'"):
            env.step("x")
        assert env.screen_rgb().shape == (144, 160, 3)


def test_save_states_in_memory_and_files(make_rom, tmp_path):
    with GameBoyEnv(make_rom(), allow_any_rom=True) as env:
        env.step("right")
        state = env.save_state()
        first = [env.step(b) for b in ("down", "right", "up")]
        pos = (env.memory[0xDCB7], env.memory[0xDCB8])
        env.load_state(state)
        assert (env.memory[0xDCB7], env.memory[0xDCB8]) == (0, 1)
        again = [env.step(b) for b in ("down", "right", "up")]
        assert all((a == b).all() for a, b in zip(first, again, strict=True))
        assert (env.memory[0xDCB7], env.memory[0xDCB8]) == pos
        assert not (first[0] == first[1]).all()  # the scroll moved the screen
        path = env.save_state_file(tmp_path / "states" / "one.state")
        assert sorted(p.name for p in path.parent.iterdir()) == ["one.state"]  # no temp left
        env.step("left")
        env.load_state_file(path)
        assert (env.memory[0xDCB7], env.memory[0xDCB8]) == pos
        with pytest.raises(ValueError, match="no save state file at"):
            env.load_state_file(tmp_path / "none.state")
        junk = tmp_path / "junk.state"
        junk.write_bytes(b"\x01\x02")
        with pytest.raises(ValueError, match=r"junk\.state is not a save state"):
            env.load_state_file(junk)
    with GameBoyEnv(make_rom(), allow_any_rom=True, state=path) as env:  # --load-state
        assert (env.memory[0xDCB7], env.memory[0xDCB8]) == pos
        env.step("down")
        env.reset()
        assert (env.memory[0xDCB7], env.memory[0xDCB8]) == pos


def test_clock_locked(make_rom):
    with GameBoyEnv(make_rom(), allow_any_rom=True) as env:
        assert env.rtc_locked
        seconds = env.memory[RTC_SECONDS]
        for _ in range(50):
            env.step("a")  # 1,200 frames: 20 emulated seconds
        time.sleep(1.1)
        env.step("a")
        assert env.memory[RTC_SECONDS] == seconds
        env.pyboy.rtc_lock_experimental(False)  # the same ROM sees a running clock unlocked
        for _ in range(50):
            env.step("a")
        assert env.memory[RTC_SECONDS] != seconds


def test_no_files_beside_the_rom(make_rom, tmp_path):
    rom = make_rom()
    saved = tmp_path / "run" / "cartridge.ram"
    with GameBoyEnv(rom, allow_any_rom=True, cartridge_ram=saved) as env:
        env.memory[0, 0xA000] = 0x5A  # the game's battery-backed save
        env.step("a")
    assert sorted(p.name for p in rom.parent.iterdir()) == ["game.gbc"]
    assert saved.is_file()
    with GameBoyEnv(rom, allow_any_rom=True, cartridge_ram=saved) as env:
        assert env.memory[0, 0xA000] == 0x5A
    with GameBoyEnv(rom, allow_any_rom=True) as env:  # no cartridge_ram: nothing kept
        env.step("a")
    assert sorted(p.name for p in rom.parent.iterdir()) == ["game.gbc"]


def test_config_checks():
    with pytest.raises(ValueError, match="press_frames"):
        EnvConfig(press_frames=30, frames_per_action=24)
    with pytest.raises(ValueError, match="downsample"):
        EnvConfig(downsample=3)
