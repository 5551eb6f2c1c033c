"""Expert data for supervised fine-tuning and reward modelling (`gamelm datagen`).

An expert agent (the CFR blueprint heads-up, ``tag``/``equity`` or a trained checkpoint for
6-max) plays hands on the batched engine, against itself by default, and every decision it makes
becomes

* an **SFT record** ``{"prompt", "response"}``: the natural-language prompt of
  `gamelm.agents.observation.prompt` and the action token ``A<k>`` of the expert's move,
  optionally followed by a one-line rationale from the hand's equity and the pot odds; for an
  expert with a policy (the blueprint, a trained checkpoint) also ``probs``, its probability of
  each legal move in ``A0..Ak`` order (the soft targets of ``gamelm sft --soft-targets``);
* a **preference pair** ``{"prompt", "chosen", "rejected"}``: ``chosen`` is the expert's
  preferred move, ``rejected`` a legal move it values lower (for an expert with
  ``action_probabilities``, like the blueprint, one it plays less often; for a trained LM, which
  plays its most probable move here, one its sampling policy gives less probability; for a
  deterministic expert, any other legal move).

Every record also carries the decision's ``state`` (the observation as plain JSON), so that a
model with another view of the game (the small poker LM reads tokens, not prose) is trained and
scored on exactly the same decisions (`observations`). Records are streamed to JSONL as hands
finish, deduplicated by prompt, and split into training and validation by a hash of the prompt, so
that no validation prompt appears in training.

Files: ``sft.jsonl``, ``sft.val.jsonl``, ``pairs.jsonl``, ``pairs.val.jsonl`` and ``meta.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gamelm.agents.base import Agent, IntArray, Observation
from gamelm.agents.observation import legal_actions, prompt
from gamelm.agents.registry import make_agent
from gamelm.agents.tabular import check_table
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.files import atomic_file
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.poker.rules import check_seats

FILES = ("sft.jsonl", "sft.val.jsonl", "pairs.jsonl", "pairs.val.jsonl")
_ARRAYS = (  # per-decision fields of an Observation kept in a record's state
    "seat",
    "hole",
    "board",
    "board_count",
    "street",
    "stacks",
    "bets",
    "folded",
    "pot",
    "to_call",
    "min_raise_to",
    "max_raise_to",
    "legal",
    "raise_to",
    "raises",
    "preflop_raises",
)


class DataError(ValueError):
    """A data file that cannot be read: the message names the file and the line."""


# -- decisions as JSON ---------------------------------------------------------------------------


def state_of(obs: Observation, i: int) -> dict[str, Any]:
    """Decision ``i`` of ``obs`` as plain JSON (the inverse of `observations`)."""
    state: dict[str, Any] = {
        "players": obs.num_players,
        "big_blind": obs.big_blind,
        "fractions": list(getattr(obs.menu, "fractions", ())),
    }
    for name in _ARRAYS:
        value = getattr(obs, name)[i]
        state[name] = value.tolist() if isinstance(value, np.ndarray) else value.item()
    if obs.history is not None and obs.history_len is not None:
        state["history"] = obs.history[i, : int(obs.history_len[i])].tolist()
    return state


def observations(states: list[dict[str, Any]]) -> Observation:
    """One `Observation` of decisions saved by `state_of` (all of one table size, big blind
    and menu)."""
    first = states[0]
    key = (first["players"], first["big_blind"], tuple(first["fractions"]))
    for s in states:
        if (s["players"], s["big_blind"], tuple(s["fractions"])) != key:
            raise ValueError("observations() takes decisions of one table size, blind and menu")
    cols = {name: np.array([s[name] for s in states]) for name in _ARRAYS}
    hist = [s.get("history", []) for s in states]
    width = max(1, max(len(h) for h in hist))
    history = np.zeros((len(states), width), np.int32)
    for r, h in enumerate(hist):
        history[r, : len(h)] = h
    return Observation(
        tables=np.arange(len(states)),
        num_players=int(key[0]),
        big_blind=int(key[1]),
        menu=ActionAbstraction(key[2]),
        hole=cols["hole"].astype(np.uint8),
        board=cols["board"].astype(np.uint8),
        legal=cols["legal"].astype(bool),
        folded=cols["folded"].astype(bool),
        history=history,
        history_len=np.array([len(h) for h in hist], np.int64),
        **{
            k: cols[k].astype(np.int64)
            for k in _ARRAYS
            if k not in ("hole", "board", "legal", "folded")
        },
    )


def grouped(states: list[dict[str, Any]]) -> Iterator[tuple[IntArray, Observation]]:
    """``(indices, observation)`` for each group of ``states`` that `observations` takes."""
    keys: dict[tuple, list[int]] = {}
    for i, s in enumerate(states):
        keys.setdefault((s["players"], s["big_blind"], tuple(s["fractions"])), []).append(i)
    for rows in keys.values():
        yield np.array(rows), observations([states[i] for i in rows])


# -- reading -------------------------------------------------------------------------------------


def read_jsonl(path: str | Path, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The records of a JSONL file; a missing file, a line that is not a JSON object or one
    without a ``required`` field raises `DataError` naming the file and the line."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p} does not exist")
    out = []
    with p.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DataError(f"{p}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{p}:{n}: a record must be a JSON object")
            missing = [k for k in required if k not in record]
            if missing:
                raise DataError(f"{p}:{n}: the record has no {', '.join(map(repr, missing))}")
            record["_line"] = n  # for messages about this record later
            out.append(record)
    if not out:
        raise DataError(f"{p} holds no records")
    return out


STATE_KEYS = ("players", "big_blind", "fractions", *_ARRAYS)


def check_records(records: list[dict[str, Any]], path: str | Path, moves: tuple[str, ...]) -> None:
    """Raise `DataError` naming the file and line of the first record whose prompt is not text,
    whose ``moves`` fields (``response``, or ``chosen`` and ``rejected``) do not start with an
    action token, or whose ``state`` is incomplete or offers fewer legal moves than a token
    names."""
    for i, r in enumerate(records):
        where = f"{path}:{r.get('_line', i + 1)}"
        if not isinstance(r.get("prompt"), str):
            raise DataError(f"{where}: 'prompt' must be text")
        for key in moves:
            if not isinstance(r.get(key), str):
                raise DataError(f"{where}: {key!r} must be text starting with an action token")
            try:
                action_index(r[key])
            except ValueError as exc:
                raise DataError(f"{where}: {exc}") from None
        if "state" not in r:
            continue
        state = r["state"]
        missing = [k for k in STATE_KEYS if not isinstance(state, dict) or k not in state]
        if missing:
            raise DataError(f"{where}: the state has no {', '.join(missing)}")
        try:
            observations([state])
            for key in moves:
                record_action(r, key)
        except (ValueError, TypeError, IndexError) as exc:
            raise DataError(f"{where}: {exc}") from None


def action_index(response: str) -> int:
    """``"A2\\nrationale..."`` -> 2 (the action token a response starts with)."""
    word = response.split(maxsplit=1)[0] if response.strip() else ""
    if len(word) < 2 or word[0] != "A" or not word[1:].isdigit():
        raise ValueError(f"a response must start with an action token A0, A1, ...: {response!r}")
    return int(word[1:])


def record_action(record: dict[str, Any], key: str = "response") -> int:
    """The menu entry a record's ``response`` (or ``chosen``/``rejected``) names."""
    k = action_index(record[key])
    legal = [i for i, ok in enumerate(record["state"]["legal"]) if ok]
    if k >= len(legal):
        raise ValueError(f"{record[key]!r} names one of {len(legal)} legal actions")
    return legal[k]


# -- generation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatagenConfig:
    """What `generate` plays and writes.

    Args:
        expert: agent spec of the expert (`gamelm.agents.registry.make_agent`).
        hands: hands to play.
        seats: players per table.
        seed: seed of the deals and of the agents' randomness.
        opponents: agent specs of the other seats, cycled (empty: the expert in every seat);
            only the expert's decisions are recorded.
        val_fraction: share of distinct prompts kept for validation.
        rationale: follow each action token with a line on equity and pot odds.
        equity_trials: Monte Carlo deals per decision for the equity (rationale and ``equity``).
        fractions: the raise sizes of the action menu, as pot fractions.
        stack_bb: starting stacks in big blinds.
    """

    expert: str = "tag"
    hands: int = 10_000
    seats: int = 2
    seed: int = 0
    opponents: tuple[str, ...] = ()
    val_fraction: float = 0.1
    rationale: bool = False
    equity_trials: int = 200
    fractions: tuple[float, ...] = (0.5, 1.0)
    stack_bb: int = 100

    def __post_init__(self) -> None:
        if self.hands < 1:
            raise ValueError(f"hands must be at least 1, got {self.hands}")
        check_seats(self.seats)
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.equity_trials < 1:
            raise ValueError(f"equity_trials must be at least 1, got {self.equity_trials}")


@dataclass
class DatagenResult:
    """Counts of what `generate` wrote."""

    decisions: int = 0
    duplicates: int = 0
    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILES, 0))
    interrupted: bool = False


def rationale(equity: float, pot_odds: float, opponents: int) -> str:
    """A one-line reason from the hand's equity and the price of a call.

    >>> rationale(0.62, 0.25, 1)
    'Equity 62% against 1 opponent; a call costs 25% of the final pot.'
    >>> rationale(0.3, 0.0, 2)
    'Equity 30% against 2 opponents; nothing to call.'
    """
    who = f"{opponents} opponent" + ("s" if opponents != 1 else "")
    price = f"a call costs {pot_odds:.0%} of the final pot" if pot_odds > 0 else "nothing to call"
    return f"Equity {equity:.0%} against {who}; {price}."


def _is_val(text: str, fraction: float) -> bool:
    h = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
    return h % 100_000 < fraction * 100_000


def _preferences(
    expert: Agent, obs: Observation, played: IntArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray, np.ndarray | None]:
    """Per decision, the expert's preferred entry, one it values lower (-1: none) and its
    probability of every menu entry (None for an expert without a policy)."""
    m = obs.size
    probs_of = getattr(expert, "action_probabilities", None)
    model = getattr(expert, "model", None)
    if model is not None and hasattr(expert, "probabilities"):  # an LM plays greedily: rank
        probs_of = LMAgentView(model).probabilities  # the moves by its sampling policy
    policy = None
    if probs_of is not None:
        policy = np.where(obs.legal, np.asarray(probs_of(obs, rng), np.float64), 0.0)
        probs = np.where(obs.legal, policy, -1.0)
        chosen = probs.argmax(axis=1)
        top = probs[np.arange(m), chosen]
        lower = obs.legal & (probs < top[:, None] - 0.05)  # clearly less often played
    else:
        chosen = played.copy()
        lower = obs.legal.copy()
        lower[np.arange(m), chosen] = False
    pick = np.where(lower, rng.random(lower.shape), -1.0)
    rejected = np.where(lower.any(axis=1), pick.argmax(axis=1), -1)
    return chosen, rejected, policy


class LMAgentView:
    """A trained LM expert's policy at temperature 1 (its greedy play ranks nothing)."""

    def __init__(self, model: Any) -> None:
        from gamelm.agents.lm import LMAgent

        self.agent = LMAgent(model, temperature=1.0)

    def probabilities(self, obs: Observation, rng: np.random.Generator) -> np.ndarray:
        return self.agent.probabilities(obs, rng)


class _Recorder:
    """Plays an expert and hands every decision to ``sink(expert, obs, ids)``."""

    def __init__(self, expert: Agent, sink: Callable[..., None]) -> None:
        self.expert, self.sink, self.name = expert, sink, expert.name

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        ids = np.asarray(self.expert.act(obs, rng), np.int64)
        self.sink(self.expert, obs, ids)
        return ids


def generate(
    config: DatagenConfig,
    out: str | Path,
    progress: bool = False,
    append: bool = False,
) -> DatagenResult:
    """Play ``config.hands`` hands and write the four JSONL files and ``meta.json`` to ``out``.

    Records are appended as decisions are made, into hidden files that are renamed when the run
    ends, also when it is interrupted (Ctrl-C): what was played is kept
    (``result.interrupted``). A folder that already holds a dataset is refused, unless
    ``append``: then the new records (deduplicated against the old ones too) are added to it,
    provided it was made with the same settings but for ``hands`` and ``seed``."""

    cfg = config
    opponents = [make_agent(s) for s in cfg.opponents]
    for spec, agent in [(cfg.expert, make_agent(cfg.expert)), *zip(cfg.opponents, opponents)]:
        check_table(agent, spec, cfg.seats, cfg.stack_bb)
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"--out {directory} is a file; name a folder for the dataset")
    existing = [name for name in (*FILES, "meta.json") if (directory / name).exists()]
    previous: dict[str, Any] | None = None
    if existing and not append:
        raise ValueError(
            f"{directory} already holds a dataset ({', '.join(existing)}); pass --append to add "
            "to it, or choose another --out"
        )
    if existing:
        previous = _previous_meta(directory, cfg)

    match = MatchConfig(  # bad settings fail here, before anything is written
        seats=cfg.seats,
        hands=cfg.hands,
        duplicate=False,
        seed=cfg.seed,
        stack_bb=cfg.stack_bb,
        fractions=tuple(cfg.fractions),
        tables=min(cfg.hands, 512),
    )
    directory.mkdir(parents=True, exist_ok=True)
    tmp = {name: directory / f".{name}.partial" for name in FILES}
    files = {name: tmp[name].open("w", encoding="utf-8") for name in FILES}
    seen: set[bytes] = set()
    for name in ("sft.jsonl", "sft.val.jsonl") if previous is not None else ():
        for record in read_jsonl(directory / name):  # the old prompts count as seen
            seen.add(hashlib.sha1(str(record.get("prompt", "")).encode()).digest())
    result = DatagenResult()
    rng = np.random.default_rng([cfg.seed, 23])

    def write(name: str, record: dict[str, Any]) -> None:
        files[name].write(json.dumps(record, separators=(",", ":")) + "\n")
        result.written[name] += 1

    def sink(expert: Agent, obs: Observation, played: IntArray) -> None:
        result.decisions += obs.size
        equity = obs.strength(cfg.equity_trials, rng)
        odds = obs.pot_odds
        chosen, rejected, policy = _preferences(expert, obs, played, rng)
        entries = legal_actions(obs)
        for i in range(obs.size):
            text = prompt(obs, i)
            key = hashlib.sha1(text.encode()).digest()
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            val = ".val" if _is_val(text, cfg.val_fraction) else ""
            token = f"A{entries[i].index(int(played[i]))}"
            why = rationale(float(equity[i]), float(odds[i]), int(obs.live_opponents[i]))
            state = state_of(obs, i)
            record = {
                "prompt": text,
                "response": f"{token}\n{why}" if cfg.rationale else token,
                "action": int(played[i]),
                "equity": round(float(equity[i]), 4),
                "pot_odds": round(float(odds[i]), 4),
                "state": state,
            }
            if policy is not None:  # the expert's frequencies, in A0..Ak order (soft targets)
                record["probs"] = [round(float(policy[i, e]), 4) for e in entries[i]]
            write(f"sft{val}.jsonl", record)
            if rejected[i] >= 0:
                write(
                    f"pairs{val}.jsonl",
                    {
                        "prompt": text,
                        "chosen": f"A{entries[i].index(int(chosen[i]))}",
                        "rejected": f"A{entries[i].index(int(rejected[i]))}",
                        "equity": round(float(equity[i]), 4),
                        "state": state,
                    },
                )

    # one expert object per seat it plays (stateful experts, like the blueprint's memory of its
    # own raises, keep their state per seat)
    def expert() -> Any:
        agent = make_agent(cfg.expert)
        if hasattr(agent, "temperature"):  # a trained LM: the expert plays its best move
            agent.temperature = 0.0
        return _Recorder(agent, sink)

    lineup: list[Any] = [expert()]
    if opponents:
        lineup += [opponents[k % len(opponents)] for k in range(cfg.seats - 1)]
    else:
        lineup += [expert() for _ in range(cfg.seats - 1)]
    try:
        play_match(lineup, match, progress=progress)
    except KeyboardInterrupt:
        result.interrupted = True
    except BaseException:  # an error: nothing half-made is published
        for f in files.values():
            f.close()
        for name in FILES:
            tmp[name].unlink(missing_ok=True)
        raise
    for f in files.values():
        f.close()
    for name in FILES:
        final = directory / name
        if previous is not None and final.exists():  # old records, then the new ones
            with atomic_file(final, ".jsonl") as joined:
                joined.write_bytes(final.read_bytes() + tmp[name].read_bytes())
            tmp[name].unlink()
        else:
            tmp[name].replace(final)
    meta: dict[str, Any] = {"config": asdict(cfg), **asdict(result)}
    if previous is not None:
        parts = previous.get("parts") or [previous]
        meta["parts"] = [*parts, {"config": asdict(cfg), **asdict(result)}]
        meta["written"] = {
            name: sum(int(part.get("written", {}).get(name, 0)) for part in meta["parts"])
            for name in FILES
        }
    with atomic_file(directory / "meta.json", ".json") as tmp_meta:
        tmp_meta.write_text(json.dumps(meta, indent=2))
    return result


def _previous_meta(directory: Path, cfg: DatagenConfig) -> dict[str, Any]:
    """The ``meta.json`` of the dataset being appended to, refused (one sentence) when it was
    made with other settings than ``cfg`` (hands and seed aside)."""
    try:
        meta = json.loads((directory / "meta.json").read_text())
        old = dict(meta["config"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(
            f"{directory} holds no readable meta.json, so --append cannot check it was made "
            "with the same settings; choose another --out"
        ) from None
    new = asdict(cfg)
    differ = sorted(
        k for k in new if k not in ("hands", "seed") and _plain(old.get(k)) != _plain(new[k])
    )
    if differ:
        raise ValueError(
            f"{directory} was made with other settings ({', '.join(differ)}); --append adds "
            "only records made the same way"
        )
    return meta


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def agreement(
    policy_probabilities: Callable[[Observation, npt.NDArray[np.float64] | None], np.ndarray],
    records: list[dict[str, Any]],
    batch: int = 256,
) -> tuple[float, float]:
    """``(agreement, chance)`` over ``records``: the share of decisions where the greedy choice
    of ``policy_probabilities(obs, equity)`` (``(m, A)``) is the expert's move, and what a
    uniform choice among the legal moves would score."""
    states = [r["state"] for r in records]
    target = np.array([record_action(r) for r in records])
    equity = np.array([r.get("equity", np.nan) for r in records])
    hits, chance = 0, 0.0
    for rows, obs in grouped(states):
        for s in range(0, rows.size, batch):
            part = rows[s : s + batch]
            sub = obs.subset(np.arange(s, s + part.size))
            p = policy_probabilities(sub, equity[part])
            hits += int((p.argmax(axis=1) == target[part]).sum())
            chance += float((1 / sub.legal.sum(axis=1)).sum())
    return hits / len(records), chance / len(records)
