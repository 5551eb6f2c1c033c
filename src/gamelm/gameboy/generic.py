"""The state of any Game Boy game, read from the screen alone (``--allow-any-rom`` on a ROM
that is not Pokemon Crystal): the "tile" explored is the screen itself, coarsened so that small
animations do not count as new places."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ScreenState:
    screen_key: str  # a hash of the coarsened screen

    @property
    def tile(self) -> tuple[str]:
        return (self.screen_key,)

    @property
    def in_battle(self) -> bool:
        return False

    def to_dict(self) -> dict:
        return {"screen": self.screen_key}


def screen_key(screen: np.ndarray) -> str:
    """A short hash of ``screen`` (grey levels) cut to four levels."""
    coarse = (np.asarray(screen, dtype=np.uint8) >> 6).tobytes()
    return hashlib.blake2b(coarse, digest_size=8).hexdigest()


def read_screen_state(screen: np.ndarray) -> ScreenState:
    return ScreenState(screen_key(screen))
