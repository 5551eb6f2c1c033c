"""A Game Boy emulator for agents: PyBoy headless, with button timing, frame skip, a downsampled
screen, banked RAM reads and save states.

>>> env = GameBoyEnv("crystal.gbc")  # doctest: +SKIP
>>> screen = env.reset()  # (36, 40) uint8 grey levels  # doctest: +SKIP
>>> screen = env.step("a")  # A held 8 frames, 24 frames in all  # doctest: +SKIP
>>> env.memory[0xDCD7]  # work RAM bank 1, whichever bank the game selected  # doctest: +SKIP

* PyBoy runs with ``window="null"``, sound off and no speed limit.
* One action is one button pressed for ``press_frames`` frames, then released, with the emulator
  run on to ``frames_per_action`` frames; only the last frame is rendered.
* `memory` reads and writes work RAM at 0xD000-0xDFFF in bank 1 (``WRAM_BANK``) whatever bank the
  game has switched in (Pokemon Crystal switches constantly); other addresses as the CPU sees them.
* Save states go to bytes (`save_state`/`load_state`) or to files written atomically.
* The cartridge's real-time clock is locked at its start value (cartridges that have one), so a
  run replays identically whatever the wall clock says.
* The ROM is read once into memory: PyBoy never looks for, nor writes, ``.ram``/``.rtc`` files
  beside it. The cartridge's battery RAM (the game's own save) is kept in ``cartridge_ram`` when
  given (written atomically on `close`), else discarded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gamelm.files import atomic_file
from gamelm.gameboy.testrom import header_checksum

BUTTONS = ("a", "b", "start", "select", "up", "down", "left", "right")
WRAM_BANK = 1
SCREEN_SHAPE = (144, 160)

# Pokemon Crystal's releases (pret/pokecrystal, README "roms" list): SHA-1 of the ROM file.
CRYSTAL_TITLE = "PM_CRYSTAL"
CRYSTAL_SHA1 = {
    "f4cd194bdee0d04ca4eac29e09b8e4e9d818c133": "Pokemon Crystal (UE) 1.0",
    "f2f52230b536214ef7c9924f483392993e226cfb": "Pokemon Crystal (UE) 1.1",
    "a0fc810f1d4e124434f7be2c989ab5b5892ddf36": "Pokemon Crystal (AU)",
}
_NINTENDO_TITLE_END = 0x144
_MIN_ROM = 0x8000


def _pyboy():
    """PyBoy's class and exception, imported quietly (no SDL notice, no INFO lines)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyboy
            from pyboy.utils import PyBoyException
    except ImportError:
        raise RuntimeError("the Game Boy needs PyBoy: pip install 'gamelm[gameboy]'") from None
    pyboy.logging.log_level("ERROR")
    return pyboy.PyBoy, PyBoyException


class RomError(ValueError):
    """A ROM that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class RomInfo:
    path: str
    title: str
    sha1: str
    cgb: bool
    release: str | None  # a known Crystal release, else None

    @property
    def crystal(self) -> bool:
        """The header says Pokemon Crystal (a release, a translation or a hack)."""
        return self.title == CRYSTAL_TITLE


def rom_title(rom: bytes) -> str:
    """The header title: 0x134.., up to 16 bytes (11 on colour cartridges), NUL-padded."""
    end = 0x13F if rom[0x143] & 0x80 else 0x144
    return rom[0x134:end].split(b"\0", 1)[0].decode("ascii", "replace").strip()


def check_rom(path: str | Path, allow_any_rom: bool = False) -> tuple[RomInfo, bytes]:
    """Read and check a ROM file; a missing file, a file that is not a Game Boy ROM, or (unless
    ``allow_any_rom``) a ROM that is not a known Pokemon Crystal release raises `RomError`."""
    p = Path(path)
    if not p.is_file():
        raise RomError(f"no ROM file at {p}" + (" (it is a directory)" if p.is_dir() else ""))
    size = p.stat().st_size
    if size < _MIN_ROM or size > 8 * 1024 * 1024:
        raise RomError(f"{p} is not a Game Boy ROM ({size:,} bytes; ROMs are 32 KiB to 8 MiB)")
    rom = p.read_bytes()

    if rom[0x14D] != header_checksum(rom):
        raise RomError(f"{p} is not a Game Boy ROM (its header checksum does not match)")
    if rom[0x100] not in (0x00, 0xC3, 0x18, 0xF3):
        raise RomError(f"{p} is not a Game Boy ROM (no jump at its entry point, 0x100)")
    info = RomInfo(
        path=str(p),
        title=rom_title(rom),
        sha1=hashlib.sha1(rom).hexdigest(),
        cgb=bool(rom[0x143] & 0x80),
        release=None,
    )
    info = RomInfo(**{**info.__dict__, "release": CRYSTAL_SHA1.get(info.sha1)})
    if info.release is None and not allow_any_rom:
        what = (
            "a Pokemon Crystal ROM that is not a known release (a hack or a bad dump)"
            if info.crystal
            else f"not Pokemon Crystal (its header title is {info.title!r})"
        )
        raise RomError(f"{p} is {what}; pass --allow-any-rom to run it anyway")
    return info, rom


class BankedMemory:
    """``pyboy.memory`` with work RAM 0xD000-0xDFFF read and written in a fixed bank."""

    def __init__(self, memory, bank: int = WRAM_BANK) -> None:
        self._memory = memory
        self.bank = bank

    @staticmethod
    def _switched(addr) -> bool:
        start = addr.start if isinstance(addr, slice) else addr
        return 0xD000 <= start < 0xE000

    def __getitem__(self, addr):
        if isinstance(addr, tuple):
            return self._memory[addr]
        if self._switched(addr):
            return self._memory[self.bank, addr]
        return self._memory[addr]

    def __setitem__(self, addr, value) -> None:
        if isinstance(addr, tuple):
            self._memory[addr] = value
        elif self._switched(addr):
            self._memory[self.bank, addr] = value
        else:
            self._memory[addr] = value


@dataclass
class EnvConfig:
    press_frames: int = 8
    frames_per_action: int = 24
    downsample: int = 4  # the screen given to agents: 144x160 / 4 = 36x40
    boot_frames: int = 600  # frames run after power-on before the first state is kept

    def __post_init__(self) -> None:
        if not 1 <= self.press_frames < self.frames_per_action:
            raise ValueError("press_frames must be at least 1 and below frames_per_action")
        if self.boot_frames < 1:
            raise ValueError("boot_frames must be at least 1")
        if self.downsample not in (1, 2, 4, 8):
            raise ValueError("downsample must be 1, 2, 4 or 8")


class GameBoyEnv:
    """One emulator (see the module docstring). ``state`` is a save state file to start from
    (``--load-state``); `reset` goes back to it, or to the state after booting."""

    def __init__(
        self,
        rom: str | Path,
        config: EnvConfig | None = None,
        allow_any_rom: bool = False,
        state: str | Path | None = None,
        cartridge_ram: str | Path | None = None,
    ) -> None:
        self.config = config or EnvConfig()
        self.info, data = check_rom(rom, allow_any_rom)
        PyBoy, PyBoyException = _pyboy()
        self.cartridge_ram = Path(cartridge_ram) if cartridge_ram else None
        ram = None
        if self.cartridge_ram is not None and self.cartridge_ram.is_file():
            ram = io.BytesIO(self.cartridge_ram.read_bytes())
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # PyBoy prints "No RTC file found"
                self.pyboy = PyBoy(
                    io.BytesIO(data), window="null", sound_emulated=False, ram_file=ram
                )
        except Exception as exc:  # unsupported cartridge types, RAM sizes
            detail = f"{type(exc).__name__}: {exc}"[:160]
            raise RomError(f"PyBoy cannot run {self.info.path} ({detail})") from None
        self.pyboy.set_emulation_speed(0)
        try:
            self.pyboy.rtc_lock_experimental(True)
            self.rtc_locked = True
        except PyBoyException:  # no clock on this cartridge
            self.rtc_locked = False
        self.memory = BankedMemory(self.pyboy.memory)
        self.frames = 0
        self.actions = 0
        self._closed = False
        if state is not None:
            self.load_state_file(state)
        else:
            self._tick(self.config.boot_frames - 1)
            self._tick(1, render=True)
        self.start_state = self.save_state()

    # -- stepping --------------------------------------------------------------------------------

    def _tick(self, frames: int, render: bool = False) -> None:
        if frames > 0:
            self.pyboy.tick(frames, render, False)
            self.frames += frames

    def reset(self) -> np.ndarray:
        """Back to the starting state; the downsampled screen."""
        self.load_state(self.start_state)
        return self.screen()

    def step(self, button: str) -> np.ndarray:
        """Press ``button`` (one of `BUTTONS`) and run one action's frames; the screen after."""
        if button not in BUTTONS:
            raise ValueError(f"unknown button {button!r}; buttons are {', '.join(BUTTONS)}")
        cfg = self.config
        self.pyboy.button_press(button)
        self._tick(cfg.press_frames)
        self.pyboy.button_release(button)
        self._tick(cfg.frames_per_action - cfg.press_frames - 1)
        self._tick(1, render=True)
        self.actions += 1
        return self.screen()

    def screen_rgb(self) -> np.ndarray:
        """The full screen as rendered on the last action's final frame, (144, 160, 3) uint8."""
        return np.ascontiguousarray(self.pyboy.screen.ndarray[:, :, :3])

    def screen(self) -> np.ndarray:
        """The screen in grey levels, (144 / k, 160 / k) for ``downsample`` k: each k x k block
        is the mean of four pixels sampled in it (all of them for k = 2), which is four times
        cheaper than a full block mean and as good for 8-pixel tiles."""
        k = self.config.downsample
        step = max(k // 2, 1)
        rgb = self.pyboy.screen.ndarray[step // 2 :: step, step // 2 :: step, :3]
        x = rgb.astype(np.uint32)
        grey = x[:, :, 0] * 77 + x[:, :, 1] * 150 + x[:, :, 2] * 29  # luma x 256
        if k == 1:
            return (grey >> 8).astype(np.uint8)
        quad = grey[0::2, 0::2] + grey[1::2, 0::2] + grey[0::2, 1::2] + grey[1::2, 1::2]
        return (quad >> 10).astype(np.uint8)

    # -- save states -----------------------------------------------------------------------------

    def save_state(self) -> bytes:
        buf = io.BytesIO()
        self.pyboy.save_state(buf)
        return buf.getvalue()

    def load_state(self, state: bytes) -> None:
        try:
            self.pyboy.load_state(io.BytesIO(state))
        except Exception as exc:  # PyBoy raises assorted errors on foreign or cut files
            raise ValueError(f"not a save state for this emulator ({exc})") from None

    def save_state_file(self, path: str | Path) -> Path:
        """Write the current state to ``path`` atomically (a crash never leaves half a file)."""
        state = self.save_state()
        with atomic_file(path) as tmp:
            tmp.write_bytes(state)
        return Path(path)

    def load_state_file(self, path: str | Path) -> None:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"no save state file at {p}")
        try:
            self.load_state(p.read_bytes())
        except ValueError as exc:
            raise ValueError(f"{p} is {exc}") from None

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the emulator; keep the cartridge RAM in ``cartridge_ram`` if one was given."""
        if self._closed:
            return
        self._closed = True
        ram = io.BytesIO() if self.cartridge_ram is not None else None
        if ram is not None:
            self.pyboy.stop(save=True, ram_file=ram, rtc_file=io.BytesIO())
            if ram.getvalue():
                with atomic_file(self.cartridge_ram) as tmp:
                    tmp.write_bytes(ram.getvalue())
        else:
            self.pyboy.stop(save=False)

    def __enter__(self) -> GameBoyEnv:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
