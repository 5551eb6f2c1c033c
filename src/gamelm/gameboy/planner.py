"""The LLM planner: the parsed game state in, a button or a short plan out.

The model is asked for one JSON object, ``{"buttons": ["up", "up", "a"], "reason": "..."}``
(a code fence around it is tolerated), or a single button name alone. Anything else -- other
keys, an unknown or forbidden button, too long a plan, prose -- is rejected (`PlanError`) and the
caller falls back to its rules; so are timeouts and unreachable servers (`ChatError`).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from gamelm.chat_client import ChatClient, ChatError
from gamelm.gameboy.env import BUTTONS

SYSTEM = (
    "You are playing {game} on a Game Boy. Each turn you get the game state and "
    "answer with the next buttons to press, as one JSON object and nothing else: "
    '{"buttons": ["up", "a"], "reason": "a few words"}. Buttons: a, b, start, select, up, '
    "down, left, right. Press a to talk, read text and choose; walk with the arrows into "
    "new places.{hints}"
)
CRYSTAL_HINTS = " Win battles; heal at Pokemon Centers."
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


class PlanError(ValueError):
    """An answer that is not a valid plan; the message says what is wrong, ``kind`` is
    ``forbidden`` (a button not allowed now) or ``malformed`` (anything else)."""

    def __init__(self, message: str, kind: str = "malformed") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Plan:
    buttons: tuple[str, ...]
    reason: str = ""


def parse_plan(text: str, allowed: tuple[str, ...] = BUTTONS, max_len: int = 8) -> Plan:
    """Parse an answer strictly (see the module docstring)."""
    raw = text.strip()
    fenced = _FENCE.match(raw)
    if fenced:
        raw = fenced.group(1).strip()
    if raw.lower() in BUTTONS:
        buttons, reason = [raw.lower()], ""
    else:
        try:
            data = json.loads(raw)
        except ValueError:
            raise PlanError("the answer is neither a JSON object nor a button name") from None
        if not isinstance(data, dict) or not set(data) <= {"buttons", "reason"}:
            raise PlanError('the answer must be an object with "buttons" and "reason" only')
        buttons, reason = data.get("buttons"), data.get("reason", "")
        if not isinstance(buttons, list) or not all(isinstance(b, str) for b in buttons):
            raise PlanError('"buttons" must be a list of button names')
        if not isinstance(reason, str):
            raise PlanError('"reason" must be text')
        buttons = [b.strip().lower() for b in buttons]
    if not 1 <= len(buttons) <= max_len:
        raise PlanError(f"a plan has 1 to {max_len} buttons, not {len(buttons)}")
    for b in buttons:
        if b not in BUTTONS:
            raise PlanError(f"{b!r} is not a button")
        if b not in allowed:
            raise PlanError(f"{b!r} is not allowed now", "forbidden")
    return Plan(tuple(buttons), reason.strip()[:200])


def describe(state: dict, allowed: tuple[str, ...], recent: list[str], stuck: str | None) -> str:
    """The user message: the parsed state, the last buttons, what is allowed."""
    lines = []
    if "map_name" in state:
        party = ", ".join(
            f"level {lv} ({hp}/{mhp} HP)"
            for lv, hp, mhp in zip(
                state["party_levels"], state["party_hp"], state["party_max_hp"], strict=True
            )
        )
        battle = {0: "no", 1: "wild battle", 2: "trainer battle"}.get(state["battle_mode"], "?")
        lines += [
            f"Location: {state['map_name']}, x={state['x']}, y={state['y']}",
            f"Party: {party or 'no Pokemon yet'}",
            f"Badges: {state['badges']}; money: {state['money']}; in battle: {battle}",
            f"Got the first Pokemon: {'yes' if state['got_starter'] else 'no'}",
        ]
    else:
        lines.append(f"Screen id: {state.get('screen', '?')} (no game memory is read)")
    lines.append(f"Last buttons: {' '.join(recent[-12:]) or 'none'}")
    if stuck:
        lines.append(f"Play seems stuck: {stuck}. Try something different.")
    lines.append(f"Allowed buttons: {', '.join(allowed)}")
    return "\n".join(lines)


@dataclass
class Decision:
    """One planner request: what was asked, what came back, and the plan or why there is none."""

    prompt: str
    answer: str | None
    plan: Plan | None
    error: str | None
    seconds: float
    error_kind: str | None = None  # timeout, unreachable, http, bad_reply, malformed, forbidden

    def to_dict(self) -> dict:
        return {
            "prompt": self.prompt,
            "answer": self.answer,
            "buttons": list(self.plan.buttons) if self.plan else None,
            "reason": self.plan.reason if self.plan else None,
            "error": self.error,
            "error_kind": self.error_kind,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class LLMPlanner:
    client: ChatClient
    max_plan: int = 8
    game: str = "Pokemon Crystal"

    def ask(self, state: dict, allowed, recent: list[str], stuck: str | None) -> Decision:
        """One request; never raises: a timeout, an unreachable server or a malformed answer
        is a `Decision` with ``error`` set and no plan."""
        user = describe(state, tuple(allowed), recent, stuck)
        hints = CRYSTAL_HINTS if self.game == "Pokemon Crystal" else ""
        system = SYSTEM.replace("{game}", self.game).replace("{hints}", hints)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        t0 = time.perf_counter()
        answer = None
        try:
            answer = self.client.complete(messages, max_tokens=120)
            plan = parse_plan(answer, tuple(allowed), self.max_plan)
        except (ChatError, PlanError) as exc:
            return Decision(user, answer, None, str(exc), time.perf_counter() - t0, exc.kind)
        except Exception as exc:  # never let a planner bug stop the game
            error = f"{type(exc).__name__}: {exc}"[:200]
            return Decision(user, answer, None, error, time.perf_counter() - t0, "error")
        return Decision(user, answer, plan, None, time.perf_counter() - t0)
