"""The rule-based fallback: what plays when neither the LLM nor the DQN does.

In a battle it presses A (the first menu entry, the first move). Elsewhere it presses A now and
then (to read text and talk) and otherwise walks towards the neighbouring tile it has entered
least often (ties broken at random), which sweeps a map without a model. On screen-only ROMs it
walks at random.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from gamelm.gameboy.crystal import CrystalState

_STEPS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


class RulePolicy:
    def __init__(self, rng: np.random.Generator, press_a: float = 0.25) -> None:
        self.rng = rng
        self.press_a = press_a

    def choose(self, state, allowed: tuple[str, ...], visits: Counter) -> str:
        if isinstance(state, CrystalState) and state.in_battle and "a" in allowed:
            return "a"
        walks = [b for b in _STEPS if b in allowed]
        if "a" in allowed and (not walks or self.rng.random() < self.press_a):
            return "a"
        if not walks:
            return str(self.rng.choice(allowed))
        if not isinstance(state, CrystalState):
            return str(self.rng.choice(walks))
        g, m, x, y = state.tile
        counts = [visits.get((g, m, x + dx, y + dy), 0) for dx, dy in (_STEPS[b] for b in walks)]
        least = min(counts)
        return str(self.rng.choice([b for b, c in zip(walks, counts, strict=True) if c == least]))
