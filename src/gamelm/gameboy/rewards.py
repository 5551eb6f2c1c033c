"""Reward terms, each computed and logged on its own.

A term is a pure function of the state before an action, the state after it and what the
`RewardTracker` remembers (tiles visited, the best level total and event count so far):

* ``level``: party levels gained beyond the best total seen (a deposit and a withdrawal earn
  nothing; a Pokemon received or caught adds its level);
* ``badge``: each new badge;
* ``money``: money gained (spending costs nothing);
* ``explore``: each tile (map group, map number, x, y) entered for the first time; on ROMs other
  than Crystal, each new screen;
* ``event``: each story event flag set for the first time in the run; more than
  ``event_bulk`` flags appearing in one action (a new game sets about 130 at once) are taken as
  the baseline, not rewarded;
* ``heal``: the party's HP fraction regained outside battle (a Pokemon Center gives up to 1);
* ``revisit``: a penalty each time a tile is entered after ``revisit_limit`` visits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

TERMS = ("level", "badge", "money", "explore", "event", "heal", "revisit")


@dataclass
class RewardConfig:
    level: float = 1.0
    badge: float = 10.0
    money: float = 0.0005  # per unit of money: 1,000 gained is worth 0.5
    explore: float = 0.05
    event: float = 0.5
    heal: float = 1.0
    revisit: float = -0.01
    revisit_limit: int = 30
    event_bulk: int = 16

    def to_dict(self) -> dict:
        return asdict(self)


def _has(state, name: str) -> bool:
    return hasattr(state, name)


def level_term(prev, cur, best_levels: int, cfg: RewardConfig) -> float:
    if not _has(cur, "party_levels"):
        return 0.0
    return cfg.level * max(0, sum(cur.party_levels) - best_levels)


def badge_term(prev, cur, cfg: RewardConfig) -> float:
    if not _has(cur, "badges"):
        return 0.0
    return cfg.badge * max(0, cur.badges - prev.badges)


def money_term(prev, cur, cfg: RewardConfig) -> float:
    if not _has(cur, "money"):
        return 0.0
    return cfg.money * max(0, cur.money - prev.money)


def explore_term(prev, cur, visits_before: int, cfg: RewardConfig) -> float:
    return cfg.explore if visits_before == 0 else 0.0


def event_term(prev, cur, seen_events: int, cfg: RewardConfig) -> float:
    if not _has(cur, "event_bits"):
        return 0.0
    new = (cur.event_bits & ~seen_events).bit_count()
    return cfg.event * new if new <= cfg.event_bulk else 0.0


def heal_term(prev, cur, cfg: RewardConfig) -> float:
    if not _has(cur, "hp_fraction") or prev.in_battle or cur.in_battle:
        return 0.0
    if len(cur.party_hp) != len(prev.party_hp) or not cur.party_hp:
        return 0.0
    return cfg.heal * max(0.0, cur.hp_fraction - prev.hp_fraction)


def revisit_term(prev, cur, visits_before: int, cfg: RewardConfig) -> float:
    entered = cur.tile != prev.tile
    return cfg.revisit if entered and visits_before >= cfg.revisit_limit else 0.0


class RewardTracker:
    """Computes the terms of each action and remembers what they need; `totals` sums each."""

    def __init__(self, config: RewardConfig | None = None) -> None:
        self.config = config or RewardConfig()
        self.visits: Counter = Counter()
        self.best_levels = 0
        self.seen_events = 0  # every event flag seen set in this run
        self.totals = dict.fromkeys(TERMS, 0.0)

    def start(self, state) -> None:
        """The state play starts from: it counts as visited, and its flags as seen."""
        self.visits[state.tile] += 1
        self._baselines(state)

    def _baselines(self, state) -> None:
        self.best_levels = max(self.best_levels, sum(getattr(state, "party_levels", ())))
        self.seen_events |= getattr(state, "event_bits", 0)

    def step(self, prev, cur) -> dict[str, float]:
        cfg = self.config
        entered = cur.tile != prev.tile
        visits_before = self.visits[cur.tile] if entered else 1
        terms = {
            "level": level_term(prev, cur, self.best_levels, cfg),
            "badge": badge_term(prev, cur, cfg),
            "money": money_term(prev, cur, cfg),
            "explore": explore_term(prev, cur, visits_before, cfg),
            "event": event_term(prev, cur, self.seen_events, cfg),
            "heal": heal_term(prev, cur, cfg),
            "revisit": revisit_term(prev, cur, visits_before, cfg),
        }
        if entered:
            self.visits[cur.tile] += 1
        self._baselines(cur)
        for k, v in terms.items():
            self.totals[k] += v
        return terms

    @property
    def total(self) -> float:
        return sum(self.totals.values())

    def state_dict(self) -> dict:
        return {
            "visits": [[list(t), n] for t, n in self.visits.items()],
            "best_levels": self.best_levels,
            "seen_events": hex(self.seen_events),
            "totals": self.totals,
        }

    def load_state_dict(self, data: dict) -> None:
        self.visits = Counter({tuple(t): n for t, n in data["visits"]})
        self.best_levels = data["best_levels"]
        self.seen_events = int(data["seen_events"], 16)
        self.totals = {k: float(data["totals"].get(k, 0.0)) for k in TERMS}
