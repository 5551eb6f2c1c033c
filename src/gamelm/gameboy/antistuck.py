"""Noticing that play is stuck, and what to do about it.

Play is stuck when one of these holds:

* no positive reward for ``no_reward_actions`` actions;
* the last ``tile_window`` actions stayed on at most ``few_tiles`` tiles and showed at most
  ``few_screens`` screens (a menu or text that changes the screen on the same tile is not
  stuck);
* the screen has not changed for ``same_screen_actions`` actions.

Interventions escalate: first a burst of ``burst_actions`` random (allowed) buttons; if play is
still stuck ``grace_actions`` later, the last good save state (the loop keeps one after a
reward, at most every 500 actions) is loaded; with no such state yet, another burst instead.
Any positive reward ends the episode of stuckness and resets the ladder.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

NONE, BURST, RELOAD = "none", "burst", "reload"


@dataclass
class StuckConfig:
    no_reward_actions: int = 500
    tile_window: int = 300
    few_tiles: int = 3
    few_screens: int = 12  # ... and at most this many screens (text being read is progress)
    same_screen_actions: int = 60
    burst_actions: int = 40
    grace_actions: int = 150

    def to_dict(self) -> dict:
        return asdict(self)


class AntiStuck:
    def __init__(self, config: StuckConfig | None = None) -> None:
        self.config = config or StuckConfig()
        self.level = 0  # interventions made in this stuck episode
        self.reason: str | None = None
        self.since_reward = 0
        self.tiles: deque = deque(maxlen=self.config.tile_window)
        self.screens: deque = deque(maxlen=self.config.tile_window)
        self.same_screen = 0
        self._screen = None
        self._grace = 0
        self.bursts = 0
        self.reloads = 0

    def _stuck(self) -> str | None:
        cfg = self.config
        if self.since_reward >= cfg.no_reward_actions:
            return f"no reward for {self.since_reward} actions"
        few = len(self.tiles) == cfg.tile_window and len(set(self.tiles)) <= cfg.few_tiles
        if few and len(set(self.screens)) <= cfg.few_screens:
            return f"{len(set(self.tiles))} tiles in the last {cfg.tile_window} actions"
        if self.same_screen >= cfg.same_screen_actions:
            return f"the same screen for {self.same_screen} actions"
        return None

    def observe(self, reward: float, tile, screen_key: str, can_reload: bool = True) -> str:
        """Record one action; returns the intervention to make now: `NONE`, `BURST` or
        `RELOAD` (another `BURST` instead when there is no good state to go back to)."""
        self.tiles.append(tile)
        self.screens.append(screen_key)
        self.same_screen = self.same_screen + 1 if screen_key == self._screen else 0
        self._screen = screen_key
        if reward > 0:
            self.since_reward = 0
            self.level = 0
            self.reason = None
            self._grace = 0
            return NONE
        self.since_reward += 1
        if self._grace > 0:
            self._grace -= 1
            return NONE
        self.reason = self._stuck()
        if self.reason is None:
            return NONE
        self._grace = self.config.grace_actions
        if self.level == 0 or not can_reload:
            self.level, self.bursts = 1, self.bursts + 1
            return BURST
        self.level, self.reloads = 0, self.reloads + 1
        self.since_reward = 0
        self.tiles.clear()
        self.screens.clear()
        self.same_screen = 0
        return RELOAD

    def status(self) -> dict:
        return {
            "stuck": self.reason,
            "level": self.level,
            "bursts": self.bursts,
            "reloads": self.reloads,
            "actions_since_reward": self.since_reward,
        }

    def state_dict(self) -> dict:
        """The counters and the ladder (the windows of tiles and screens start afresh)."""
        keys = ("level", "since_reward", "same_screen", "bursts", "reloads")
        return {k: getattr(self, k) for k in keys} | {"grace": self._grace}

    def load_state_dict(self, data: dict) -> None:
        for k in ("level", "since_reward", "same_screen", "bursts", "reloads"):
            setattr(self, k, int(data[k]))
        self._grace = int(data["grace"])
