"""The hybrid agent and its training loop: an LLM plans every ``llm_interval`` actions, the DQN
plays in between, rules fill every gap, and every action -- whoever chose it -- goes into the
DQN's replay buffer.

Each action:

1. the buttons allowed now (`gamelm.gameboy.crystal.allowed_buttons`: no START or SELECT
   before the first Pokemon);
2. on an LLM turn, a request is sent in the background with the parsed state; play goes on
   while it runs, and its plan is queued when it lands. A timeout, an unreachable server or a
   malformed answer counts as a fallback, and the rules play the next action;
3. who plays: a random burst ordered by anti-stuck, else the LLM's queued plan, else the rules
   after a fallback, else the DQN (the rules with ``use_dqn=False``). A button that is not
   allowed is replaced by the rules' choice;
4. the emulator steps, the state is read, each reward term computed and logged, the transition
   stored and learnt from, anti-stuck consulted (a burst, or reloading the last good state,
   which is saved whenever reward comes in);
5. status, metrics, checkpoints and the dashboard, on their own clocks.

An error in a step (the emulator, a state that cannot be read) is counted, the last good state
is loaded and the run goes on.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gamelm.chat_client import OLLAMA_URL, ChatClient
from gamelm.files import atomic_directory, atomic_file
from gamelm.gameboy import crystal
from gamelm.gameboy.antistuck import BURST, RELOAD, AntiStuck, StuckConfig
from gamelm.gameboy.env import BUTTONS, EnvConfig, GameBoyEnv, check_rom
from gamelm.gameboy.generic import read_screen_state, screen_key
from gamelm.gameboy.planner import LLMPlanner
from gamelm.gameboy.rewards import TERMS, RewardConfig, RewardTracker
from gamelm.gameboy.rules import RulePolicy
from gamelm.runs import checkpoints as ckpt
from gamelm.runs.registry import Registry

DEFAULT_LLM_MODEL = "qwen2.5:1.5b"


@dataclass
class HybridConfig:
    rom: str = ""
    actions: int = 10_000
    allow_any_rom: bool = False
    load_state: str | None = None
    llm_url: str = OLLAMA_URL
    llm_model: str = DEFAULT_LLM_MODEL
    llm_interval: int = 20
    llm_timeout: float = 20.0
    use_dqn: bool = True
    seed: int = 0
    status_every: float = 30.0  # seconds between console status lines
    log_every: int = 100  # actions between metric rows in the registry
    checkpoint_every: int = 5_000  # actions between checkpoints (0: only at the end)
    keep_checkpoints: int = 3
    good_state_every: int = 500  # at most one "last good state" per this many actions (a
    # PyBoy save state takes about 50 ms); the first reward always saves one
    threads: int = 1  # torch threads for the DQN (its network is small: more threads only wait)
    env: EnvConfig = field(default_factory=EnvConfig)
    dqn: dict = field(default_factory=dict)  # DQNConfig fields
    rewards: RewardConfig = field(default_factory=RewardConfig)
    stuck: StuckConfig = field(default_factory=StuckConfig)

    def __post_init__(self) -> None:
        if self.actions < 1:
            raise ValueError("--actions must be at least 1")
        if self.llm_interval < 1:
            raise ValueError("--llm-interval must be at least 1")
        if not 0 < self.llm_timeout < math.inf:
            raise ValueError("--llm-timeout must be a positive number of seconds")
        if not 0 < self.status_every < math.inf:
            raise ValueError("--status-every must be a positive number of seconds")
        if self.threads < 1:
            raise ValueError("--threads must be at least 1")
        if self.log_every < 1:
            raise ValueError("log_every must be at least 1")
        if not self.llm_url.startswith(("http://", "https://")):
            raise ValueError(f"--llm-url must start with http:// or https://, not {self.llm_url!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class HybridRunner:
    """One run (see the module docstring). ``out`` holds the statistics, checkpoints and the
    cartridge's battery RAM; ``log`` receives the console lines (None: quiet)."""

    def __init__(
        self,
        config: HybridConfig,
        out: str | Path,
        name: str | None = None,
        runs_dir: str | Path | None = None,
        resume: bool = False,
        log: Callable[[str], None] | None = print,
        monitor=None,
    ) -> None:
        self.cfg = cfg = config
        self.out = Path(out)
        self.name = name or self.out.name
        self.runs_dir = runs_dir
        self.log = log
        self.monitor = monitor
        self.rng = np.random.default_rng(cfg.seed)
        self.stop_requested = False
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {self.out} is a file; name a directory")
        check_rom(cfg.rom, cfg.allow_any_rom)  # a rejected ROM leaves no --out folder behind
        created = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create {self.out} ({exc.strerror or exc})") from None
        latest = ckpt.latest(self.out) if resume else None
        if resume and latest is None:
            raise ValueError(
                f"nothing to resume: no checkpoint in {self.out} (give the run's --out)"
            )
        if not resume and latest is None and (self.out / "stats.json").exists():
            raise ValueError(f"{self.out} already holds a run; pass --resume or another --out")

        self.name, note = Registry(runs_dir).claim(self.name, self.out, explicit=name is not None)
        if note and self.log is not None:
            self.log(note)
        try:
            self.env = GameBoyEnv(
                cfg.rom, cfg.env, cfg.allow_any_rom, cfg.load_state, self.out / "cartridge.ram"
            )
        except BaseException:
            if created and not any(self.out.iterdir()):
                self.out.rmdir()  # nothing was written: leave no empty folder
            raise
        self.crystal = self.env.info.crystal
        self.tracker = RewardTracker(cfg.rewards)
        self.stuck = AntiStuck(cfg.stuck)
        self.rules = RulePolicy(self.rng)
        game = "Pokemon Crystal" if self.crystal else f"a game titled {self.env.info.title!r}"
        client = ChatClient(cfg.llm_url, cfg.llm_model, cfg.llm_timeout)
        self.planner = LLMPlanner(client, game=game)
        self.dqn = None
        if cfg.use_dqn:
            from gamelm.gameboy.dqn import DQN, DQNConfig

            dqn_cfg = DQNConfig(**{"seed": cfg.seed, **cfg.dqn})
            self.dqn = DQN(self.env.screen().shape, crystal.FEATURES, len(BUTTONS), dqn_cfg)
        self.actions = 0
        self.elapsed = 0.0
        self.counts = {"llm_calls": 0, "llm_fallbacks": 0, "llm_plans": 0, "errors": 0,
                       "forbidden_blocked": 0}  # fmt: skip
        self.sources = dict.fromkeys(("llm", "dqn", "rules", "burst"), 0)
        self.llm_errors: dict[str, int] = {}  # fallbacks by kind: timeout, malformed, ...
        self.recent: deque = deque(maxlen=cfg.log_every)  # (reward, terms) of recent actions
        self.buttons: deque = deque(maxlen=32)
        self.presses = dict.fromkeys(BUTTONS, 0)
        self.last_decision: dict | None = None
        self.last_error: str | None = None
        self.good_state = self.env.save_state()  # the start: reloaded only on errors
        self.good_at: int | None = None  # when a good state after a reward was kept
        if latest is not None:
            self._restore(latest)
        self.state = self.read()
        self.screen = self.env.screen()
        if latest is None:
            self.tracker.start(self.state)

    # -- state -----------------------------------------------------------------------------------

    def read(self, screen: np.ndarray | None = None):
        """The parsed state; ``screen`` (the one just returned by a step) spares screen-only
        games a second downsampling."""
        if self.crystal:
            return crystal.read_state(self.env.memory)
        return read_screen_state(self.env.screen() if screen is None else screen)

    def state_dict(self) -> dict:
        d = self.state.to_dict()
        if self.crystal:
            d["map_name"] = self.state.map_name
        return d

    # -- one action ------------------------------------------------------------------------------

    def _choose(self, allowed: tuple[str, ...], plan: deque, mode: dict) -> tuple[str, str]:
        if mode["burst"] > 0:
            mode["burst"] -= 1
            return str(self.rng.choice(allowed)), "burst"
        if plan:
            button = plan.popleft()
            if button in allowed:
                return button, "llm"
            self.counts["forbidden_blocked"] += 1
            return self.rules.choose(self.state, allowed, self.tracker.visits), "rules"
        if mode["fallback"] or self.dqn is None:
            mode["fallback"] = False
            return self.rules.choose(self.state, allowed, self.tracker.visits), "rules"
        mask = np.array([b in allowed for b in BUTTONS])
        feats = crystal.features(self.state)
        return BUTTONS[self.dqn.act(self.screen, feats, mask)], "dqn"

    def _step(self, button: str) -> tuple[float, dict]:
        prev, prev_screen = self.state, self.screen
        self.screen = self.env.step(button)
        self.state = self.read(self.screen)
        terms = self.tracker.step(prev, self.state)
        reward = sum(terms.values())
        if self.dqn is not None:
            allowed = crystal.allowed_buttons(self.state, BUTTONS)
            self.dqn.remember(
                prev_screen, crystal.features(prev), BUTTONS.index(button), reward,
                self.screen, crystal.features(self.state), False,
                np.array([b in allowed for b in BUTTONS]),
            )  # fmt: skip
        return reward, terms

    def _reload(self) -> None:
        self.env.load_state(self.good_state)
        self.state = self.read()
        self.screen = self.env.screen()

    def request_stop(self) -> None:
        """Stop cleanly after the current action, with a checkpoint (signal handlers call it)."""
        self.stop_requested = True

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> dict:
        cfg = self.cfg

        registry = Registry(self.runs_dir)
        registry.start(self.name, self.out, cfg.to_dict(), algorithm="gameboy-hybrid")
        registry.forget_after(self.name, self.actions)
        plan: deque = deque()
        mode = {"burst": 0, "fallback": False}
        pending: Future | None = None
        status = "failed"
        if self.dqn is not None:
            import torch

            torch.set_num_threads(cfg.threads)
        t_start = time.perf_counter()
        elapsed_before = self.elapsed
        last_status = time.monotonic()
        last_monitor = 0.0
        try:
            while self.actions < cfg.actions and not self.stop_requested:
                allowed = crystal.allowed_buttons(self.state, BUTTONS)
                if pending is None and self.actions % cfg.llm_interval == 0:
                    pending = _in_background(
                        self.planner.ask, self.state_dict(), allowed, list(self.buttons),
                        self.stuck.reason,
                    )  # fmt: skip
                    pending.action = self.actions
                    pending.sent = time.monotonic()
                    self.counts["llm_calls"] += 1
                if pending is not None and not pending.done():
                    if time.monotonic() - pending.sent > cfg.llm_timeout + 5:
                        # a server trickling bytes never trips the per-read timeout: give up
                        self.counts["llm_fallbacks"] += 1
                        self.llm_errors["timeout"] = self.llm_errors.get("timeout", 0) + 1
                        mode["fallback"] = True
                        pending = None
                if pending is not None and pending.done():
                    decision = pending.result()
                    self.last_decision = {"action": pending.action, **decision.to_dict()}
                    pending = None
                    if decision.plan is not None:
                        plan = deque(decision.plan.buttons)
                        self.counts["llm_plans"] += 1
                    else:
                        self.counts["llm_fallbacks"] += 1
                        kind = decision.error_kind or "error"
                        self.llm_errors[kind] = self.llm_errors.get(kind, 0) + 1
                        mode["fallback"] = True
                    if self.monitor is not None:
                        self.monitor.update(decision=self.last_decision)
                button, source = self._choose(allowed, plan, mode)
                try:
                    reward, terms = self._step(button)
                except Exception as exc:  # the run goes on from the last good state
                    self.counts["errors"] += 1
                    self.last_error = f"action {self.actions}: {type(exc).__name__}: {exc}"
                    self._reload()  # an error here too ends the run (with a checkpoint)
                    plan.clear()
                    reward, terms = 0.0, dict.fromkeys(TERMS, 0.0)
                self.actions += 1
                self.sources[source] += 1
                self.buttons.append(button)
                self.presses[button] += 1
                self.recent.append((reward, terms))
                if reward > 0 and (
                    self.good_at is None or self.actions - self.good_at >= cfg.good_state_every
                ):
                    self.good_state, self.good_at = self.env.save_state(), self.actions
                key = getattr(self.state, "screen_key", None) or screen_key(self.screen)
                action = self.stuck.observe(
                    reward, self.state.tile, key,
                    can_reload=self.good_at is not None,
                )  # fmt: skip
                if action == BURST:
                    mode["burst"] = cfg.stuck.burst_actions
                    plan.clear()
                elif action == RELOAD:
                    self._reload()
                    plan.clear()
                self.elapsed = elapsed_before + time.perf_counter() - t_start
                if self.actions % cfg.log_every == 0 or self.actions == cfg.actions:
                    registry.log(self.name, self.actions, self._metrics())
                    if self.monitor is not None:
                        self.monitor.update(point=self._point())
                due = cfg.checkpoint_every and self.actions % cfg.checkpoint_every == 0
                if due or self.actions == cfg.actions:
                    path = self.save_checkpoint()
                    registry.checkpoint(self.name, self.actions, path)
                    ckpt.prune(self.out, cfg.keep_checkpoints)
                now = time.monotonic()
                if self.monitor is not None and now - last_monitor >= 0.25:
                    last_monitor = now
                    self.monitor.update(screen_rgb=self.env.screen_rgb(), stats=self.summary())
                if now - last_status >= cfg.status_every:
                    last_status = now
                    self._write_stats()
                    if self.log is not None:
                        self.log(self.status_line())
            status = "finished" if self.actions >= cfg.actions else "interrupted"
            if status == "interrupted":
                registry.checkpoint(self.name, self.actions, self.save_checkpoint())
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.last_error = self.last_error or f"{type(exc).__name__}: {exc}"
            try:  # keep what was played, whatever went wrong
                registry.checkpoint(self.name, self.actions, self.save_checkpoint())
            except Exception:
                pass
            raise
        finally:
            summary = self.summary()
            for cleanup in (
                self._write_stats,
                lambda: registry.finish(self.name, status, summary),
                lambda: (
                    self.monitor is not None
                    and self.monitor.update(screen_rgb=self.env.screen_rgb(), stats=summary)
                ),
                self.env.close,
            ):
                try:
                    cleanup()
                except Exception:
                    pass
        return summary

    # -- reporting -------------------------------------------------------------------------------

    def _recent_terms(self) -> dict[str, float]:
        out = dict.fromkeys(TERMS, 0.0)
        for _, terms in self.recent:
            for k, v in terms.items():
                out[k] += v
        return out

    def _metrics(self) -> dict[str, float]:
        m = {
            "charts/actions_per_s": self.actions / max(self.elapsed, 1e-9),
            "reward/total": self.tracker.total,
            "reward/recent": sum(r for r, _ in self.recent),
            **{f"reward/{k}": v for k, v in self.tracker.totals.items()},
            "llm/calls": self.counts["llm_calls"],
            "llm/fallbacks": self.counts["llm_fallbacks"],
            "stuck/bursts": self.stuck.bursts,
            "stuck/reloads": self.stuck.reloads,
        }
        if self.dqn is not None:
            m["dqn/epsilon"] = self.dqn.epsilon
            m["dqn/updates"] = self.dqn.updates
            if self.dqn.last_loss is not None:
                m["losses/td"] = self.dqn.last_loss
        return m

    def _point(self) -> tuple:
        return (self.actions, round(self.tracker.total, 4),
                {k: round(v, 4) for k, v in self.tracker.totals.items()})  # fmt: skip

    def summary(self) -> dict:
        return {
            "actions": self.actions,
            "actions_per_s": round(self.actions / max(self.elapsed, 1e-9), 2),
            "frames": self.env.frames,
            "total_reward": round(self.tracker.total, 4),
            "reward_terms": {k: round(v, 4) for k, v in self.tracker.totals.items()},
            "recent_reward_terms": {k: round(v, 4) for k, v in self._recent_terms().items()},
            "llm_calls": self.counts["llm_calls"],
            "llm_fallbacks": self.counts["llm_fallbacks"],
            "llm_plans": self.counts["llm_plans"],
            "llm_errors": dict(self.llm_errors),
            "dqn_updates": self.dqn.updates if self.dqn is not None else 0,
            "dqn": self.dqn.stats() if self.dqn is not None else None,
            "sources": dict(self.sources),
            "presses": dict(self.presses),
            "forbidden_blocked": self.counts["forbidden_blocked"],
            "errors": self.counts["errors"],
            "last_error": self.last_error,
            "tiles_seen": len(self.tracker.visits),
            "anti_stuck": self.stuck.status(),
            "game": self.state_dict(),
            "rom": {"title": self.env.info.title, "release": self.env.info.release},
        }

    def status_line(self) -> str:
        s = self.summary()
        recent = " ".join(f"{k} {v:+.2f}" for k, v in s["recent_reward_terms"].items() if v)
        g = s["game"]
        if self.crystal:
            where = (f"levels {g['party_levels'] or '-'} badges {g['badges']} money {g['money']} "
                     f"| {g['map_name']} ({g['x']},{g['y']})")  # fmt: skip
        else:
            where = f"screens {s['tiles_seen']}"
        d = s["dqn"]
        dqn = "no DQN"
        if d:
            loss = "-" if d["loss"] is None else f"{d['loss']:.4f}"
            dqn = f"DQN eps {d['epsilon']:.2f} replay {d['replay']} "
            dqn += f"updates {d['updates']} loss {loss}"
        stuck = s["anti_stuck"]["stuck"] or "no"
        return (
            f"[{s['actions']} actions, {s['actions_per_s']:.1f}/s] reward {s['total_reward']:.2f} "
            f"(recent: {recent or 'none'}) | {where} | LLM {s['llm_calls']} calls, "
            f"{s['llm_fallbacks']} fallbacks | {dqn} | stuck: {stuck}"
        )

    def _write_stats(self) -> None:
        with atomic_file(self.out / "stats.json") as tmp:
            tmp.write_text(json.dumps(self.summary(), indent=1))

    # -- checkpoints -----------------------------------------------------------------------------

    def save_checkpoint(self) -> Path:
        path = self.out / f"{ckpt.PREFIX}{self.actions}"
        with atomic_directory(path) as tmp:
            (tmp / "game.state").write_bytes(self.env.save_state())
            (tmp / "good.state").write_bytes(self.good_state)
            runner = {
                "rom_sha1": self.env.info.sha1,
                "frames": self.env.frames,
                "good_at": self.good_at,
                "llm_errors": self.llm_errors,
                "anti_stuck": self.stuck.state_dict(),
                "actions": self.actions,
                "elapsed": self.elapsed,
                "counts": self.counts,
                "sources": self.sources,
                "presses": self.presses,
                "tracker": self.tracker.state_dict(),
                "rng": self.rng.bit_generator.state,
                "config": self.cfg.to_dict(),
            }
            (tmp / "trainer_state.json").write_text(json.dumps(runner))
            if self.dqn is not None:
                self.dqn.save(tmp / "dqn")
        return path

    def _restore(self, path: Path) -> None:
        runner = json.loads((path / "trainer_state.json").read_text())
        needed = {"rom_sha1", "frames", "good_at", "llm_errors", "anti_stuck", "tracker"}
        if not needed <= set(runner):
            raise ValueError(f"{path} was written by another version of gamelm; start a new --out")
        if runner["rom_sha1"] != self.env.info.sha1:
            raise ValueError(
                f"the run in {self.out} played another ROM (SHA-1 {runner['rom_sha1']})"
            )
        if self.cfg.actions <= runner["actions"]:
            raise ValueError(
                f"the run in {self.out} has already played {runner['actions']:,} actions; "
                "pass a larger --actions to go on"
            )
        self.env.load_state((path / "game.state").read_bytes())
        self.env.frames = runner["frames"]
        self.good_state, self.good_at = (path / "good.state").read_bytes(), runner["good_at"]
        self.llm_errors = runner["llm_errors"]
        self.stuck.load_state_dict(runner["anti_stuck"])
        self.actions, self.elapsed = runner["actions"], runner["elapsed"]
        self.counts.update(runner["counts"])
        self.sources.update(runner["sources"])
        self.presses.update(runner["presses"])
        self.tracker.load_state_dict(runner["tracker"])
        self.rng.bit_generator.state = runner["rng"]
        if self.dqn is not None and (path / "dqn").is_dir():
            from gamelm.gameboy.dqn import DQN

            self.dqn, _ = DQN.load(path / "dqn")


def _in_background(fn, *args) -> Future:
    """Run ``fn(*args)`` in a daemon thread (a late LLM answer never holds up the exit)."""
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=work, daemon=True, name="llm-planner").start()
    return future
