"""A tiny Game Boy Color ROM written from Python, for the tests and the benchmark (no commercial
ROM may be committed or downloaded, so the emulator is exercised on this one).

The program is a "walk around" loop that behaves, in the few places gamelm reads, like Pokemon
Crystal's memory:

* once per frame (it halts until the vertical blank) it reads the joypad and counts each new press
  of each button at ``PRESS_COUNTS`` (work RAM bank 0: A, B, Select, Start, Right, Left, Up, Down);
* it writes the player's X (right presses minus left) and Y (down minus up) at Crystal's
  ``wXCoord``/``wYCoord`` in work RAM **bank 1**, and scrolls a random 32x32 tile background by
  them, so every position shows a different screen;
* it latches the cartridge's real-time clock and copies its seconds to ``RTC_SECONDS``;
* it then switches work RAM to **bank 2** and writes 0xEE at the same two addresses, leaving bank
  2 selected, as Crystal leaves other banks selected: a reader that does not name bank 1 reads
  the wrong bytes.

The header is a real one (title, CGB flag, MBC3 with timer, RAM and battery like Crystal's, and
both checksums); the Nintendo logo is left blank, which PyBoy's boot ROM does not check.
"""

from __future__ import annotations

import random

PRESS_COUNTS = 0xC100  # 8 bytes, work RAM bank 0
RTC_SECONDS = 0xC108  # the cartridge clock's seconds, latched every frame
ROM_SIZE = 0x8000  # 32 KiB: two banks
CART_TYPE = 0x10  # MBC3 + timer + RAM + battery (Crystal's type)
RAM_SIZE_CODE = 0x03  # 32 KiB of cartridge RAM (Crystal's size)
_TILEMAP = 0x1000  # 1,024 random tile numbers, copied to 0x9800
_TILES = 0x1400  # 32 bytes: tile 0 blank, tile 1 solid
_PALETTE = 0x1420  # 8 bytes: one CGB background palette (white .. black)


def _assemble(program: list, origin: int) -> bytes:
    """Bytes and ``("label", name)`` / ``("jr", opcode, name)`` / ``("abs", opcode, name)``."""
    labels: dict[str, int] = {}
    pc = origin
    for item in program:  # first pass: addresses
        if isinstance(item, tuple) and item[0] == "label":
            labels[item[1]] = pc
        elif isinstance(item, tuple):
            pc += 2 if item[0] == "jr" else 3
        else:
            pc += len(item)
    out = bytearray()
    for item in program:
        if isinstance(item, tuple) and item[0] == "label":
            continue
        if isinstance(item, tuple) and item[0] == "jr":
            offset = labels[item[2]] - (origin + len(out) + 2)
            assert -128 <= offset < 128, item
            out += bytes([item[1], offset & 0xFF])
        elif isinstance(item, tuple):
            target = labels[item[2]]
            out += bytes([item[1], target & 0xFF, target >> 8])
        else:
            out += bytes(item)
    return bytes(out)


def _program() -> bytes:
    lo, hi = PRESS_COUNTS & 0xFF, PRESS_COUNTS >> 8
    ld_a_abs = 0xFA
    return _assemble(
        [
            [0xF3, 0x31, 0xF0, 0xCF],  # di; ld sp,$CFF0
            [0xAF, 0xE0, 0x40],  # xor a; ldh [LCDC],a (screen off while VRAM is filled)
            [0x21, 0x00, 0x98, 0x11, _TILEMAP & 0xFF, _TILEMAP >> 8, 0x01, 0x00, 0x04],
            ("abs", 0xCD, "copy"),  # call copy: hl=$9800 de=tilemap bc=1024
            [0x21, 0x00, 0x80, 0x11, _TILES & 0xFF, _TILES >> 8, 0x01, 0x20, 0x00],
            ("abs", 0xCD, "copy"),  # call copy: hl=$8000 de=tiles bc=32
            [0x3E, 0x80, 0xE0, 0x68],  # ld a,$80; ldh [BCPS],a (palette 0, auto-increment)
            [0x11, _PALETTE & 0xFF, _PALETTE >> 8, 0x06, 0x08],  # ld de,palette; ld b,8
            ("label", "pal"),
            [0x1A, 0xE0, 0x69, 0x13, 0x05],  # ld a,[de]; ldh [BCPD],a; inc de; dec b
            ("jr", 0x20, "pal"),
            [0x21, lo, hi, 0xAF, 0x06, 0x08],  # ld hl,counts; xor a; ld b,8
            ("label", "zero"),
            [0x22, 0x05],  # ld [hl+],a; dec b
            ("jr", 0x20, "zero"),
            [0xE0, 0x80],  # ldh [$FF80],a (previous joypad state)
            [0x3E, 0x91, 0xE0, 0x40],  # ld a,$91; ldh [LCDC],a (screen and background on)
            [0x3E, 0x01, 0xE0, 0xFF, 0xFB],  # ld a,1; ldh [IE],a (vblank); ei
            ("label", "main"),
            [0x76, 0x00],  # halt; nop
            [0x3E, 0x0A, 0xEA, 0x00, 0x00],  # ld a,$0A; ld [$0000],a (cartridge RAM and clock on)
            [0xAF, 0xEA, 0x00, 0x60, 0x3C, 0xEA, 0x00, 0x60],  # latch the clock: 0 then 1
            [0x3E, 0x08, 0xEA, 0x00, 0x40],  # ld a,8; ld [$4000],a (the clock's seconds)
            [ld_a_abs, 0x00, 0xA0, 0xEA, lo + 8, hi],  # ld a,[$A000]; ld [RTC_SECONDS],a
            [0xAF, 0xEA, 0x00, 0x40],  # xor a; ld [$4000],a (cartridge RAM bank 0 again)
            [0x3E, 0x20, 0xE0, 0x00, 0xF0, 0x00, 0xF0, 0x00],  # select the d-pad, read twice
            [0x2F, 0xE6, 0x0F, 0xCB, 0x37, 0x47],  # cpl; and $0F; swap a; ld b,a
            [0x3E, 0x10, 0xE0, 0x00, 0xF0, 0x00, 0xF0, 0x00],  # select the buttons, read twice
            [0x2F, 0xE6, 0x0F, 0xB0, 0x47],  # cpl; and $0F; or b; ld b,a
            [0x3E, 0x30, 0xE0, 0x00],  # deselect both
            [0xF0, 0x80, 0x2F, 0xA0, 0x5F],  # ldh a,[prev]; cpl; and b; ld e,a (new presses)
            [0x78, 0xE0, 0x80],  # ld a,b; ldh [prev],a
            [0x21, lo, hi, 0x16, 0x08],  # ld hl,counts; ld d,8
            ("label", "count"),
            [0xCB, 0x3B],  # srl e
            ("jr", 0x30, "skip"),  # jr nc,skip
            [0x34],  # inc [hl]
            ("label", "skip"),
            [0x23, 0x15],  # inc hl; dec d
            ("jr", 0x20, "count"),
            [0x3E, 0x01, 0xE0, 0x70],  # ld a,1; ldh [SVBK],a (work RAM bank 1)
            [ld_a_abs, lo + 4, hi, 0x21, lo + 5, hi, 0x96],  # a = right - left
            [0xEA, 0xB8, 0xDC, 0x87, 0x87, 0x87, 0xE0, 0x43],  # ld [wXCoord],a; a*8; ldh [SCX],a
            [ld_a_abs, lo + 7, hi, 0x21, lo + 6, hi, 0x96],  # a = down - up
            [0xEA, 0xB7, 0xDC, 0x87, 0x87, 0x87, 0xE0, 0x42],  # ld [wYCoord],a; a*8; ldh [SCY],a
            [0x3E, 0x02, 0xE0, 0x70, 0x3E, 0xEE],  # bank 2; ld a,$EE
            [0xEA, 0xB8, 0xDC, 0xEA, 0xB7, 0xDC],  # the decoys
            ("abs", 0xC3, "main"),
            ("label", "copy"),  # copy bc bytes from [de] to [hl]
            [0x1A, 0x22, 0x13, 0x0B, 0x78, 0xB1],  # ld a,[de]; ld [hl+],a; inc de; dec bc; or
            ("jr", 0x20, "copy"),
            [0xC9],  # ret
        ],
        origin=0x150,
    )


def build_test_rom(title: str = "GAMELM TEST", seed: int = 0) -> bytes:
    """The ROM's bytes; ``title`` (at most 11 ASCII characters) goes in the header."""
    if len(title) > 11 or not title.isascii():
        raise ValueError("the title must be at most 11 ASCII characters")
    rom = bytearray(ROM_SIZE)
    rom[0x40] = 0xD9  # vblank interrupt: reti
    rom[0x100:0x104] = bytes([0x00, 0xC3, 0x50, 0x01])  # nop; jp $0150
    rom[0x134 : 0x134 + len(title)] = title.encode()
    rom[0x143] = 0x80  # works on both; runs in colour on a Game Boy Color
    rom[0x147], rom[0x148], rom[0x149] = CART_TYPE, 0x00, RAM_SIZE_CODE
    rom[0x14A] = 0x01  # destination: not Japan
    code = _program()
    rom[0x150 : 0x150 + len(code)] = code
    rng = random.Random(seed)
    rom[_TILEMAP : _TILEMAP + 0x400] = bytes(rng.randrange(2) for _ in range(0x400))
    rom[_TILES + 16 : _TILES + 32] = b"\xff" * 16
    rom[_PALETTE : _PALETTE + 8] = bytes([0xFF, 0x7F, 0x94, 0x52, 0x4A, 0x29, 0x00, 0x00])
    rom[0x14D] = header_checksum(rom)
    total = (sum(rom) - rom[0x14E] - rom[0x14F]) & 0xFFFF
    rom[0x14E], rom[0x14F] = total >> 8, total & 0xFF
    return bytes(rom)


def header_checksum(rom: bytes | bytearray) -> int:
    """The byte at 0x14D that every boot ROM checks: over the header bytes 0x134..0x14C."""
    x = 0
    for b in rom[0x134:0x14D]:
        x = (x - b - 1) & 0xFF
    return x
