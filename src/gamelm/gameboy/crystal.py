"""Pokemon Crystal's memory: the addresses gamelm reads, and `read_state`.

Every address is in work RAM bank 1 (0xD000-0xDFFF) of the English releases. Each was checked
against the symbol files of the pret/pokecrystal disassembly (https://github.com/pret/pokecrystal):
``pokecrystal.sym`` (1.0) and ``pokecrystal11.sym`` (1.1) list the same address, marked ``01:``
(bank 1), for every label below. ``ram/wram.asm`` lays the labels out. Other sources:

* party-structure offsets: the ``MON_*`` constants of ``constants/pokemon_data_constants.asm``
  (``party_struct`` in ``macros/ram.asm``);
* event numbers: ``constants/event_flags.asm``; flag n is byte n // 8, bit n % 8
  (``FlagAction`` in ``home/flag.asm``);
* money: three bytes, big-endian binary with no BCD (``engine/events/money.asm``);
* text: ``constants/charmap.asm``;
* map numbers: ``constants/map_constants.asm``. A new game starts in group 24, map 7
  (PLAYERS_HOUSE_2F) at x=3, y=3 (``data/maps/spawn_points.asm``).

Other languages lay out memory differently and are not covered.

>>> memory = bytearray(0x10000)
>>> memory[PARTY_COUNT], memory[PARTY_MONS + MON_LEVEL] = 1, 5
>>> read_state(memory).party_levels
(5,)
"""

from __future__ import annotations

from dataclasses import dataclass

# ram/wram.asm (addresses from pokecrystal.sym)
BATTLE_MODE = 0xD22D  # wBattleMode: 0 none, 1 wild, 2 trainer
PLAYER_NAME = 0xD47D  # wPlayerName: NAME_LENGTH bytes, 0x50-terminated
MONEY = 0xD84E  # wMoney: 3 bytes, big-endian binary
JOHTO_BADGES = 0xD857  # wJohtoBadges: one bit per badge
KANTO_BADGES = 0xD858  # wKantoBadges
EVENT_FLAGS = 0xDA72  # wEventFlags: NUM_EVENTS bits, event n at byte n // 8, bit n % 8
MAP_GROUP = 0xDCB5  # wMapGroup
MAP_NUMBER = 0xDCB6  # wMapNumber
Y_COORD = 0xDCB7  # wYCoord
X_COORD = 0xDCB8  # wXCoord
PARTY_COUNT = 0xDCD7  # wPartyCount
PARTY_SPECIES = 0xDCD8  # wPartySpecies: PARTY_LENGTH bytes, then 0xFF
PARTY_MONS = 0xDCDF  # wPartyMon1: PARTY_LENGTH party_structs

PARTY_LENGTH = 6
PARTYMON_STRUCT_LENGTH = 0x30
NAME_LENGTH = 11
NUM_EVENTS = 2000  # constants/event_flags.asm ends at EVENT_7CF: 250 bytes (wCurBox follows)

# constants/pokemon_data_constants.asm: offsets in a party_struct
MON_SPECIES = 0x00
MON_LEVEL = 0x1F
MON_STATUS = 0x20
MON_HP = 0x22  # 2 bytes, big-endian
MON_MAXHP = 0x24  # 2 bytes, big-endian

# constants/event_flags.asm
EVENT_GOT_A_POKEMON_FROM_ELM = 26

MAX_LEVEL = 100

# constants/map_constants.asm, group 24: the maps of the first minutes of a new game
MAP_NAMES = {
    (24, 4): "New Bark Town",
    (24, 5): "Elm's Lab",
    (24, 6): "Player's House 1F",
    (24, 7): "Player's House 2F",
}

# constants/charmap.asm: the letters, digits and a few signs of names
_CHARS = {0x7F: " ", 0xE3: "-", 0xE8: ".", 0xF4: ","}
_CHARS.update({0x80 + i: chr(ord("A") + i) for i in range(26)})
_CHARS.update({0xA0 + i: chr(ord("a") + i) for i in range(26)})
_CHARS.update({0xF6 + i: chr(ord("0") + i) for i in range(10)})
NAME_END = 0x50


@dataclass(frozen=True)
class CrystalState:
    """What gamelm reads from Crystal's memory. A party count outside 0..6 (memory not yet set
    up, as on the title screen) reads as an empty party."""

    party_species: tuple[int, ...]
    party_levels: tuple[int, ...]
    party_hp: tuple[int, ...]
    party_max_hp: tuple[int, ...]
    johto_badges: int
    kanto_badges: int
    money: int
    map_group: int
    map_number: int
    x: int
    y: int
    battle_mode: int
    player_name: str
    events_set: int  # how many event flags are set
    got_starter: bool
    event_bits: int = 0  # all the flags: bit n is event n

    @property
    def badges(self) -> int:
        return (self.johto_badges | self.kanto_badges << 8).bit_count()

    @property
    def tile(self) -> tuple[int, int, int, int]:
        return (self.map_group, self.map_number, self.x, self.y)

    @property
    def map_name(self) -> str:
        known = MAP_NAMES.get((self.map_group, self.map_number))
        return known or f"map group {self.map_group}, number {self.map_number}"

    @property
    def in_battle(self) -> bool:
        return self.battle_mode != 0

    @property
    def hp_fraction(self) -> float:
        """The party's current HP over its maximum (1.0 for an empty party)."""
        total = sum(self.party_max_hp)
        return sum(self.party_hp) / total if total else 1.0

    def to_dict(self) -> dict:
        return {
            "party_species": list(self.party_species),
            "party_levels": list(self.party_levels),
            "party_hp": list(self.party_hp),
            "party_max_hp": list(self.party_max_hp),
            "johto_badges": self.johto_badges,
            "kanto_badges": self.kanto_badges,
            "badges": self.badges,
            "money": self.money,
            "map_group": self.map_group,
            "map_number": self.map_number,
            "x": self.x,
            "y": self.y,
            "battle_mode": self.battle_mode,
            "player_name": self.player_name,
            "events_set": self.events_set,
            "got_starter": self.got_starter,
        }


def _reader(memory):
    """``read(addr, n) -> list of n bytes`` for ``memory``: banked (``memory[1, a:b]``) when it
    takes a bank, as ``pyboy.memory`` does; else indexed by address (a bytearray, a NumPy array,
    a dict of addresses)."""
    try:
        memory[1, PARTY_COUNT]
    except (TypeError, IndexError, KeyError, ValueError):
        pass
    else:
        return lambda addr, n=1: [int(b) for b in memory[1, addr : addr + n]]
    try:
        memory[PARTY_COUNT : PARTY_COUNT + 1]
    except (TypeError, KeyError):
        return lambda addr, n=1: [int(memory[a]) for a in range(addr, addr + n)]
    return lambda addr, n=1: [int(b) for b in memory[addr : addr + n]]


def decode_name(raw: list[int] | bytes) -> str:
    """A name in the game's text encoding, up to its 0x50 terminator; unknown codes read '?'."""
    out = []
    for b in raw:
        if b == NAME_END:
            break
        out.append(_CHARS.get(b, "?"))
    return "".join(out)


def read_state(memory) -> CrystalState:
    """The parsed state from ``memory``: ``pyboy.memory`` (read in work RAM bank 1), a
    `gamelm.gameboy.env.BankedMemory`, or anything indexed by address."""
    read = _reader(memory)

    def rd(addr: int) -> int:
        return read(addr)[0]

    count = rd(PARTY_COUNT)
    if count > PARTY_LENGTH:
        count = 0
    species, levels, hp, max_hp = [], [], [], []
    for k in range(count):
        base = PARTY_MONS + k * PARTYMON_STRUCT_LENGTH
        species.append(rd(PARTY_SPECIES + k))
        levels.append(min(rd(base + MON_LEVEL), MAX_LEVEL))
        hp.append(rd(base + MON_HP) << 8 | rd(base + MON_HP + 1))
        max_hp.append(rd(base + MON_MAXHP) << 8 | rd(base + MON_MAXHP + 1))
    events = read(EVENT_FLAGS, (NUM_EVENTS + 7) // 8)
    bits = int.from_bytes(bytes(events), "little") & ((1 << NUM_EVENTS) - 1)
    starter = EVENT_GOT_A_POKEMON_FROM_ELM
    return CrystalState(
        party_species=tuple(species),
        party_levels=tuple(levels),
        party_hp=tuple(hp),
        party_max_hp=tuple(max_hp),
        johto_badges=rd(JOHTO_BADGES),
        kanto_badges=rd(KANTO_BADGES),
        money=rd(MONEY) << 16 | rd(MONEY + 1) << 8 | rd(MONEY + 2),
        map_group=rd(MAP_GROUP),
        map_number=rd(MAP_NUMBER),
        x=rd(X_COORD),
        y=rd(Y_COORD),
        battle_mode=rd(BATTLE_MODE),
        player_name=decode_name(read(PLAYER_NAME, NAME_LENGTH)),
        events_set=bits.bit_count(),
        got_starter=bool(bits >> starter & 1),
        event_bits=bits,
    )


MENU_BUTTONS = ("start", "select")


def allowed_buttons(state, buttons: tuple[str, ...]) -> tuple[str, ...]:
    """The buttons an agent may press in ``state``: before the first Pokemon, START and SELECT
    are forbidden (they only open menus that lead nowhere yet). Screen-only states allow all."""
    if isinstance(state, CrystalState) and not state.got_starter:
        return tuple(b for b in buttons if b not in MENU_BUTTONS)
    return buttons


def features(state) -> list[float]:
    """`FEATURES` numbers in about [0, 1] for the DQN: party levels and HP, badge bits, money,
    map, position, battle mode, the first-Pokemon flag. Zeros for screen-only states."""
    if not isinstance(state, CrystalState):
        return [0.0] * FEATURES
    levels = list(state.party_levels) + [0] * (PARTY_LENGTH - len(state.party_levels))
    hp = [h / m if m else 0.0 for h, m in zip(state.party_hp, state.party_max_hp, strict=True)]
    hp += [0.0] * (PARTY_LENGTH - len(hp))
    return [
        *(lv / MAX_LEVEL for lv in levels),
        *hp,
        *(float(state.johto_badges >> i & 1) for i in range(8)),
        *(float(state.kanto_badges >> i & 1) for i in range(8)),
        min(state.money / 1_000_000, 1.0),
        state.map_group / 32,
        state.map_number / 128,
        state.x / 64,
        state.y / 64,
        *(float(state.battle_mode == m) for m in (0, 1, 2)),
        float(state.got_starter),
    ]


FEATURES = 6 + 6 + 8 + 8 + 1 + 4 + 3 + 1
