"""An opponent model: per-player tendencies counted online, as statistics and as features.

`OpponentModel` counts, for every player it has seen, the public events of each finished hand:
voluntarily put chips in preflop (VPIP), raised preflop (PFR), 3-bet when facing one raise,
postflop bets/raises and calls (aggression), folded to a continuation bet, saw the flop and went
to showdown (WTSD). `OpponentModel.stats` gives the rates with their sample counts;
`OpponentModel.features` gives every seat's tendencies as numbers in [0, 1] for an observation,
shrunk toward a prior so that a player seen for three hands does not look extreme
(``(events + prior_rate * prior_n) / (chances + prior_n)``).

A match keeps a model when asked (or when an agent is a `CounterStrategy`) and fills
``Observation.opponent_stats`` with the ``(m, P, F)`` features of `FEATURES`. `CounterStrategy`
wraps any agent and hands its choices and the features to `CounterStrategy.adjust`, the hook to
override; `Exploit` is a worked example.

>>> m = OpponentModel(["hero", "fish"])
>>> m.update(np.array([1, 1]), {"vpip": np.array([1, 1]), "pfr": np.array([0, 1])})
>>> s = m.stats("fish")
>>> s.hands, s.vpip, s.pfr
(2, 1.0, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, IntArray, Observation, pick_legal, raise_entry
from gamelm.poker.abstraction import CALL_ID

# counted events per player (names as in `gamelm.evaluation.match.COUNTERS`)
EVENTS = (
    "hands",
    "vpip",
    "pfr",
    "three_bet_chance",
    "three_bet",
    "post_aggr",
    "post_calls",
    "face_cbet",
    "fold_cbet",
    "saw_flop",
    "showdown",
)
# feature: (events, chances, prior rate); aggression is the share of bets/raises among postflop
# bets, raises and calls (the aggression factor AF = aggr / calls maps onto it as AF / (1 + AF))
FEATURES: dict[str, tuple[str, str, float]] = {
    "vpip": ("vpip", "hands", 0.25),
    "pfr": ("pfr", "hands", 0.18),
    "three_bet": ("three_bet", "three_bet_chance", 0.07),
    "aggression": ("post_aggr", "post_actions", 0.5),
    "fold_to_cbet": ("fold_cbet", "face_cbet", 0.45),
    "wtsd": ("showdown", "saw_flop", 0.3),
}
NUM_FEATURES = len(FEATURES) + 1  # + confidence: hands / (hands + prior_n)


@dataclass(frozen=True)
class OpponentStats:
    """A player's rates (nan without a chance) and the samples behind each."""

    hands: int
    vpip: float
    pfr: float
    three_bet: float
    three_bet_chances: int
    af: float  # postflop (bets + raises) / calls
    postflop_actions: int  # bets, raises and calls after the flop
    fold_to_cbet: float
    cbets_faced: int
    wtsd: float
    flops_seen: int


def _rate(a: float, b: float) -> float:
    return a / b if b else float("nan")


@dataclass
class OpponentModel:
    """Online counts of every player's tendencies (players are named; ids index ``players``).

    Args:
        players: player names; `update` and `features` take indices into this list.
        prior_n: weight, in chances, of the prior rates that the features are shrunk toward.
    """

    players: Sequence[str]
    prior_n: float = 20.0
    counts: npt.NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.players = list(self.players)
        if self.prior_n < 0:
            raise ValueError(f"prior_n must not be negative, got {self.prior_n}")
        self.counts = np.zeros((len(self.players), len(EVENTS)), np.int64)

    def _id(self, opponent: str | int) -> int:
        if isinstance(opponent, str):
            if opponent not in self.players:
                raise KeyError(f"no player {opponent!r}; known: {', '.join(self.players)}")
            return self.players.index(opponent)
        if not 0 <= opponent < len(self.players):
            raise KeyError(f"no player #{opponent}; there are {len(self.players)}")
        return int(opponent)

    def update(self, players: npt.ArrayLike, events: Mapping[str, npt.ArrayLike]) -> None:
        """Add finished hands: ``players[i]`` (an id) played one hand with ``events[name][i]``
        occurrences of each counted event (missing events count zero)."""
        ids = np.asarray(players, np.int64).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.players)):
            raise ValueError(f"player ids must be 0..{len(self.players) - 1}")
        unknown = set(events) - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown events {sorted(unknown)}; counted: {', '.join(EVENTS)}")
        for j, name in enumerate(EVENTS):
            if name == "hands":
                value = np.ones(ids.size, np.int64)
            elif name in events:
                value = np.asarray(events[name], np.int64).ravel()
                if value.shape != ids.shape:
                    raise ValueError(f"{name}: {value.shape} values for {ids.size} hands")
            else:
                continue
            np.add.at(self.counts[:, j], ids, value)

    def stats(self, opponent: str | int) -> OpponentStats:
        """The tendencies of one player, with the sample count behind each rate."""
        c = dict(zip(EVENTS, self.counts[self._id(opponent)].tolist()))
        post = c["post_aggr"] + c["post_calls"]
        return OpponentStats(
            hands=c["hands"],
            vpip=_rate(c["vpip"], c["hands"]),
            pfr=_rate(c["pfr"], c["hands"]),
            three_bet=_rate(c["three_bet"], c["three_bet_chance"]),
            three_bet_chances=c["three_bet_chance"],
            af=_rate(c["post_aggr"], c["post_calls"]),
            postflop_actions=post,
            fold_to_cbet=_rate(c["fold_cbet"], c["face_cbet"]),
            cbets_faced=c["face_cbet"],
            wtsd=_rate(c["showdown"], c["saw_flop"]),
            flops_seen=c["saw_flop"],
        )

    def feature_table(self) -> npt.NDArray[np.float64]:
        """``(players, NUM_FEATURES)``: every player's shrunk rates, then the confidence."""
        c = {name: self.counts[:, j].astype(np.float64) for j, name in enumerate(EVENTS)}
        c["post_actions"] = c["post_aggr"] + c["post_calls"]
        cols = [
            (c[num] + prior * self.prior_n) / np.maximum(c[den] + self.prior_n, 1e-12)
            for num, den, prior in FEATURES.values()
        ]
        cols.append(c["hands"] / np.maximum(c["hands"] + self.prior_n, 1e-12))
        return np.stack(cols, axis=1)

    def features(self, players: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Features of the players at each seat: ``players`` ``(m, P)`` ids -> ``(m, P, F)``."""
        return self.feature_table()[np.asarray(players, np.int64)]


def feature_index(name: str) -> int:
    """Column of a feature (`FEATURES` names, then ``"confidence"``) in the feature vectors."""
    names = [*FEATURES, "confidence"]
    return names.index(name)


@dataclass
class CounterStrategy:
    """An agent that plays ``base`` and lets `adjust` change its choices from the opponents'
    tendencies (``obs.opponent_stats``). Subclass it and override `adjust`; without opponent
    features (no model in the match) the base choices are played unchanged."""

    base: Agent
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            self.name = f"{type(self).__name__.lower()}:{self.base.name}"

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        choice = np.asarray(self.base.act(obs, rng), np.int64)
        if obs.opponent_stats is None or obs.size == 0:
            return choice
        return self.adjust(obs, choice, rng)

    def adjust(self, obs: Observation, choice: IntArray, rng: np.random.Generator) -> IntArray:
        """The hook: the base agent's ``choice`` -> the played choice (legal menu ids)."""
        return choice

    @staticmethod
    def opponents(obs: Observation, feature: str) -> npt.NDArray[np.float64]:
        """``(m, P)`` one feature of every seat, nan for the actor and folded seats."""
        assert obs.opponent_stats is not None
        x = obs.opponent_stats[:, :, feature_index(feature)].copy()
        x[obs.folded] = np.nan
        x[np.arange(obs.size), obs.seat] = np.nan
        return x


@dataclass
class Exploit(CounterStrategy):
    """A worked counter-strategy.

    * Against opponents who fold to bets (every live opponent's fold-to-c-bet above
      ``steal_above``), bet ``steal_size`` pots postflop where the base agent would check.
    * Against calling stations (every live opponent's aggression below ``passive_below`` and
      VPIP above ``loose_above``), bet for value thinly and never bluff: postflop, with nothing to
      call, a hand of strength above ``thin_value`` bets ``value_size`` pots, and one below
      ``bluff_below`` checks (heads-up thresholds; multiway, the same multiples of a fair share).
    """

    steal_above: float = 0.55
    steal_size: float = 0.5
    passive_below: float = 0.25
    loose_above: float = 0.6
    thin_value: float = 0.55
    bluff_below: float = 0.45
    value_size: float = 1.0
    trials: int = 200

    def adjust(self, obs: Observation, choice: IntArray, rng: np.random.Generator) -> IntArray:
        post = (obs.street > 0) & (obs.to_call == 0)
        live = ~obs.folded & (np.arange(obs.num_players)[None, :] != obs.seat[:, None])
        any_live = live.any(axis=1)

        def every_live(test: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
            return np.where(live, test, True).all(axis=1) & any_live

        out = choice.copy()
        folders = every_live(self.opponents(obs, "fold_to_cbet") > self.steal_above)
        steal = raise_entry(obs, self.steal_size)
        take = post & folders & (choice == CALL_ID) & (steal >= 0)
        out[take] = steal[take]
        stations = every_live(self.opponents(obs, "aggression") < self.passive_below) & every_live(
            self.opponents(obs, "vpip") > self.loose_above
        )
        rows = np.flatnonzero(post & stations & ~take)
        if rows.size:
            o = obs.subset(rows)
            eq = o.strength(self.trials, rng)
            share = 2.0 / (np.maximum(o.live_opponents, 1) + 1)  # heads-up thresholds scaled
            value = raise_entry(o, self.value_size)
            thin = (eq > self.thin_value * share) & (value >= 0)
            out[rows] = np.where(thin, value, out[rows])
            out[rows] = np.where(eq < self.bluff_below * share, CALL_ID, out[rows])
        return pick_legal(obs, out)
