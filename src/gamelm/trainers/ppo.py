"""PPO self-play for the poker LM (Schulman et al., 2017, "Proximal Policy Optimization
Algorithms"), with GAE (Schulman et al., 2016) and a league of opponents.

One update:

1. **Rollout** (`gamelm.rollouts.selfplay.collect`): ``hands_per_update`` hands on
   ``parallel_games`` tables in lockstep. The learner's main seat rotates; every other seat gets
   an opponent drawn from the league (``opponents``): baselines by name, ``self`` (the learner
   itself, whose decisions are trained on too) and ``snapshot`` (one of the learner's past
   snapshots, drawn per update).
2. **Advantages** (`gamelm.rollouts.trajectory.gae`): an episode is one seat's decisions in one
   hand; its reward is the hand's result in big blinds times ``reward_scale``.
3. **Update**: ``update_epochs`` passes over the rollout in minibatches of about ``batch_size``
   decisions. The decisions of one seat in one hand are packed into one sequence
   (`gamelm.rollouts.packing`), so the shared prefix is read once. Loss: the clipped surrogate
   ``-min(r A, clip(r, 1 - eps, 1 + eps) A)`` with normalised advantages, plus ``value_coef``
   times the squared value error, minus ``entropy_coef`` times the policy's entropy over the
   legal actions; gradients are clipped to ``max_grad_norm``; the learning rate decays linearly
   to zero over ``num_hands`` when ``anneal_lr``.
4. **Logging, evaluation, checkpoints**: TensorBoard scalars and the run registry every update;
   every ``eval_interval`` updates a duplicate, seat-rotated match against each of
   ``eval_opponents`` (`gamelm.evaluation.match`); early stopping after ``patience`` evaluations
   without a new best ``eval/bb_per_100``; a checkpoint every ``checkpoint_frequency`` updates,
   keeping the newest ``keep_checkpoints``.

TensorBoard scalars (the x axis is hands played): ``charts/hands_per_s``,
``charts/decisions_per_s``, ``charts/learning_rate``, ``charts/train_bb_per_100`` (the learner's
result in its rollouts), ``losses/policy``, ``losses/value``, ``losses/entropy``,
``losses/approx_kl``, ``losses/clip_fraction``, ``losses/explained_variance``,
``eval/bb_per_100`` and ``eval/bb_per_100_ci95`` (mean over the evaluation opponents, and the
half-width of its 95% CI), and ``eval/<opponent>/bb_per_100`` and ``.../ci95`` per opponent.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from gamelm.agents.baselines import BASELINES
from gamelm.agents.lm import LMAgent
from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import agent_win_rates, playing_stats
from gamelm.models.lm import PRESETS, PokerLM
from gamelm.rollouts.packing import pack
from gamelm.rollouts.selfplay import SELF, Rollout, collect
from gamelm.rollouts.trajectory import gae
from gamelm.runs import checkpoints as ckpt
from gamelm.runs.registry import Registry
from gamelm.settings import check_finite, config_from_dict
from gamelm.trainers.losses import clipped_surrogate, normalized

LEAGUE_WORDS = ("self", "snapshot")
RENAMED = {"num_games": "num_hands", "games_per_update": "hands_per_update"}  # old: new


@dataclass
class PPOConfig:
    """Every setting of a PPO run (YAML keys and ``gamelm train`` flags have the same names).

    Model:
        preset: model size, one of ``tiny`` (default), ``small``, ``seed15m``.
        d_model, n_layers, n_heads: override the preset's width, depth and attention heads.
        fractions: raise sizes of the action menu, as fractions of the pot.
        strength_trials: Monte Carlo deals behind the model's hand-strength token (its equity
            against the players still in, in tenths; 0: no such token, the model reads the
            cards only). A model that starts from ``init_from`` must read the same token.
        init_from: a saved model directory to start from (its weights; a fresh optimizer).
    Game and league:
        seats: players per table (2..6).
        stack_bb: starting stack in big blinds, reset every hand.
        opponents: the league: baseline names (``random``, ``calling-station``, ``maniac``,
            ``tag``, ``equity``), ``ckpt:PATH``, ``self`` (the learner itself, trained on from
            every seat it holds) and ``snapshot`` (a past snapshot).
        snapshots: past snapshots kept in the league.
        snapshot_interval: updates between snapshots.
    Budget:
        num_hands: hands to train for (all seats of a hand count as one hand; ``num_games``
            is read as this, the name before 0.2).
        hands_per_update: hands per rollout (one PPO update each; also read as
            ``games_per_update``).
        parallel_games: tables played in lockstep during a rollout.
    PPO:
        learning_rate: Adam step size.
        anneal_lr: decay the learning rate linearly to 0 over the run.
        batch_size: learner decisions per minibatch.
        update_epochs: passes over each rollout.
        gamma, gae_lambda: discount and GAE lambda (a hand is short: 1.0 and 0.95 by default).
        clip_epsilon: PPO's ratio clip.
        value_coef, entropy_coef: weights of the value loss and the entropy bonus.
        max_grad_norm: gradient-norm clip.
        reward_scale: rewards are results in big blinds times this.
        temperature: sampling temperature during rollouts.
    Runtime:
        seed: seeds the model, the deals and every random choice (a run is reproducible).
        device: ``cpu`` or ``cuda``.
        threads: torch threads (0: one per core, at most 2 on CPU, which measures fastest here).
        bf16: bfloat16 autocast for the forward passes (off by default: slower on CPUs without
            native bf16, such as the 2-core CI machine).
        workers: rollout worker processes (0: rollouts run in the trainer's process). Each
            update's hands are shared among them (`gamelm.rollouts.workers`).
        ray_address: run the rollout workers as Ray tasks on this cluster (``auto``,
            ``ray://host:10001``, or ``local`` to start Ray here); needs ``workers`` >= 1.
    Evaluation and checkpoints:
        eval_interval: updates between evaluations (0: only at the end).
        eval_hands: hands per evaluation opponent (duplicate deals, seats rotated).
        eval_opponents: agents the evaluation plays against (any spec of ``gamelm eval``).
        eval_temperature: the learner's temperature in evaluations (0 is greedy).
        patience: stop after this many evaluations without a new best ``eval/bb_per_100``
            (0: never stop early).
        checkpoint_frequency: updates between checkpoints (0: only the final model).
        keep_checkpoints: checkpoints kept (the newest; 0 keeps all).
    """

    preset: str = "tiny"
    d_model: int | None = None
    n_layers: int | None = None
    n_heads: int | None = None
    fractions: tuple[float, ...] = (0.5, 1.0)
    strength_trials: int = 100
    init_from: str | None = None

    seats: int = 2
    stack_bb: int = 100
    opponents: tuple[str, ...] = ("random", "calling-station", "maniac", "tag", "snapshot")
    snapshots: int = 4
    snapshot_interval: int = 10

    num_hands: int = 200_000
    hands_per_update: int = 4096
    parallel_games: int = 1024

    learning_rate: float = 1e-3
    anneal_lr: bool = True
    batch_size: int = 1024
    update_epochs: int = 2
    gamma: float = 1.0
    gae_lambda: float = 0.95
    clip_epsilon: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5
    reward_scale: float = 0.01
    temperature: float = 1.0

    seed: int = 0
    device: str = "cpu"
    threads: int = 0
    bf16: bool = False
    workers: int = 0
    ray_address: str | None = None

    RENAMED: ClassVar[dict[str, str]] = RENAMED  # settings read under their names before 0.2

    eval_interval: int = 10
    eval_hands: int = 2000
    eval_opponents: tuple[str, ...] = ("random", "calling-station", "maniac")
    eval_temperature: float = 1.0
    patience: int = 0
    checkpoint_frequency: int = 10
    keep_checkpoints: int = 3

    def __post_init__(self) -> None:
        check_finite(self)
        self.fractions = tuple(sorted(float(f) for f in self.fractions))
        self.opponents = tuple(self.opponents)
        self.eval_opponents = tuple(self.eval_opponents)
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if not 2 <= self.seats <= 6:
            raise ValueError(f"seats must be 2..6, got {self.seats}")
        positive = ("num_hands", "hands_per_update", "parallel_games", "batch_size",
                    "update_epochs", "eval_hands", "stack_bb", "snapshot_interval")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("eval_interval", "patience", "checkpoint_frequency", "keep_checkpoints",
                     "snapshots", "threads", "seed", "workers"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0 <= self.gamma <= 1 or not 0 <= self.gae_lambda <= 1:
            raise ValueError("gamma and gae_lambda must be in [0, 1]")
        if not 0 < self.clip_epsilon < 1:
            raise ValueError(f"clip_epsilon must be in (0, 1), got {self.clip_epsilon}")
        if self.learning_rate <= 0 or self.temperature <= 0 or self.reward_scale <= 0:
            raise ValueError("learning_rate, temperature and reward_scale must be positive")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be cpu or cuda, got {self.device!r}")
        if not self.opponents:
            raise ValueError("opponents must name at least one opponent")
        if not self.eval_opponents:
            raise ValueError("eval_opponents must name at least one opponent")
        for spec in (*self.opponents, *self.eval_opponents):
            _check_spec(spec)
        if "snapshot" in self.opponents and self.snapshots < 1:
            raise ValueError("the league has 'snapshot' but snapshots is 0; raise snapshots")
        if self.ray_address and self.workers < 1:
            raise ValueError("ray_address needs workers >= 1 (the number of Ray rollout tasks)")
        if not self.fractions or any(f <= 0 for f in self.fractions):
            raise ValueError("fractions must be positive pot fractions")
        if len(set(self.fractions)) != len(self.fractions) or len(self.fractions) > 8:
            raise ValueError("fractions must be 1 to 8 distinct pot fractions")
        if self.strength_trials < 0:
            raise ValueError(f"strength_trials must be >= 0, got {self.strength_trials}")
        for name in ("d_model", "n_layers", "n_heads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_grad_norm <= 0:
            raise ValueError(f"max_grad_norm must be positive, got {self.max_grad_norm}")
        if self.value_coef < 0 or self.entropy_coef < 0:
            raise ValueError("value_coef and entropy_coef must not be negative")
        if self.eval_temperature < 0:
            raise ValueError("eval_temperature must not be negative (0 is greedy)")
        for spec in self.opponents:
            if spec.strip().lower().startswith("exploit:"):
                raise ValueError(
                    f"{spec!r} cannot train against the learner yet: rollouts keep no opponent "
                    "model, so it would play as its base agent; use it in eval_opponents"
                )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PPOConfig:
        """Settings by name (YAML, ``--set``, a checkpoint's), each checked against its field's
        type; the names before 0.2 (`RENAMED`) are read as the new ones."""
        return config_from_dict(cls, cls.renamed(values), "PPO")

    @staticmethod
    def renamed(values: dict[str, Any]) -> dict[str, Any]:
        """``values`` of one source (a file, a checkpoint, the flags) with the names before 0.2
        (`RENAMED`) written as the new ones; both names in one source are refused."""
        values = dict(values)
        for old, new in RENAMED.items():
            if old in values:
                if new in values:
                    raise ValueError(f"give {new} or its old name {old}, not both")
                values[new] = values.pop(old)
        return values

    @classmethod
    def from_saved(cls, values: dict[str, Any]) -> PPOConfig:
        """The settings a checkpoint saved (runs saved before the strength token read none)."""
        return cls.from_dict({"strength_trials": 0, **values})

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> PPOConfig:
        """Settings from a YAML file, then ``overrides`` (e.g. command-line flags)."""
        import yaml

        text = Path(path).read_text()
        try:
            values = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" (line {where.line + 1})" if where is not None else ""
            raise ValueError(f"{path} is not valid YAML{at}") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path} must hold a mapping of PPO settings")
        return cls.from_dict({**values, **overrides})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def model_overrides(self) -> dict[str, int]:
        sizes = {"d_model": self.d_model, "n_layers": self.n_layers, "n_heads": self.n_heads}
        return {k: v for k, v in sizes.items() if v is not None}


def _check_spec(spec: str) -> None:
    name = spec.strip().lower()
    if name in LEAGUE_WORDS or name.startswith(("ckpt:", "exploit:", "run:", "blueprint:")):
        return
    if name not in BASELINES:
        raise ValueError(
            f"unknown opponent {spec!r}; use {', '.join(BASELINES)}, self, snapshot, "
            "ckpt:PATH, run:NAME, blueprint:PATH (and exploit:NAME among eval_opponents)"
        )


@dataclass
class UpdateStats:
    """What one update measured (averages over its minibatches)."""

    policy: float = 0.0
    value: float = 0.0
    entropy: float = 0.0
    approx_kl: float = 0.0
    clip_fraction: float = 0.0
    explained_variance: float = 0.0


@dataclass
class TrainResult:
    out: Path
    hands: int
    updates: int
    seconds: float
    stopped_early: bool
    evaluations: list[dict] = field(default_factory=list)

    @property
    def final_model(self) -> Path:
        return self.out / "final_model"


def set_threads(threads: int, device: str) -> int:
    """Set torch's intra-op threads: ``threads``, or by default one per core up to 2 on CPU."""
    import os

    n = threads or (min(2, os.cpu_count() or 1) if device == "cpu" else 1)
    torch.set_num_threads(n)
    return n


class PPOTrainer:
    """Runs `PPOConfig` into the output directory ``out`` (see the module docstring)."""

    def __init__(
        self,
        cfg: PPOConfig,
        out: str | Path,
        *,
        name: str | None = None,
        runs_dir: str | Path | None = None,
        resume: bool | str | Path = False,
        log: Callable[[str], None] | None = None,
        tensorboard: bool = True,
    ) -> None:
        self.cfg = cfg
        self.out = Path(out)
        self.name = name or self.out.resolve().name
        self.runs_dir = runs_dir
        self.log = log or (lambda message: None)
        self.tensorboard = tensorboard
        self.threads = set_threads(cfg.threads, cfg.device)
        if cfg.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("device cuda was asked for but torch sees no GPU; use --device cpu")
        self.hands = 0
        self.updates = 0
        self.elapsed = 0.0
        self.evals: list[dict] = []
        self.best = -math.inf
        self.bad_evals = 0
        self.league: list[PokerLM] = []
        self._workers = None  # rollout workers, started on first use
        self.rng = np.random.default_rng([cfg.seed, 1])
        self.model = PokerLM.from_preset(
            cfg.preset,
            seed=cfg.seed,
            fractions=cfg.fractions,
            strength_trials=cfg.strength_trials,
            **cfg.model_overrides(),
        ).to(cfg.device)
        if cfg.init_from:
            self._init_from(Path(cfg.init_from))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.learning_rate, eps=1e-5)
        self.opponents = {
            spec: make_agent(spec, runs_dir) for spec in cfg.opponents if spec not in LEAGUE_WORDS
        }
        for spec in cfg.eval_opponents:  # a bad spec fails now, not after hours of training
            self._check_menu(spec, make_agent(spec, runs_dir))
        for spec, agent in self.opponents.items():
            self._check_menu(spec, agent)
        if cfg.ray_address:  # connecting to the cluster fails now too
            from gamelm.rollouts.workers import RayWorkers

            self._workers = RayWorkers(cfg.workers, cfg.ray_address)
        start = self._resume_from(resume)
        self._check_out(start)
        if start is not None:
            self._restore(start)

        self.name, note = Registry(runs_dir).claim(self.name, self.out, explicit=name is not None)
        if note:
            self.log(note)

    def _check_menu(self, spec: str, agent: Any) -> None:
        """A saved poker LM among the opponents must use this run's raise sizes; a blueprint
        plays heads-up at the stacks it was solved for."""
        blueprint = getattr(agent, "blueprint", None)
        if blueprint is not None:
            if self.cfg.seats != 2:
                raise ValueError(f"{spec} plays heads-up only; this run has {self.cfg.seats} seats")
            if blueprint.config.stack_bb != self.cfg.stack_bb:
                raise ValueError(
                    f"{spec} was solved for {blueprint.config.stack_bb} bb stacks, this run plays "
                    f"{self.cfg.stack_bb} bb"
                )
        model = getattr(agent, "model", None)
        if isinstance(model, PokerLM) and model.fractions != self.cfg.fractions:
            raise ValueError(
                f"{spec} was trained with raise sizes {model.fractions}, this run uses "
                f"{self.cfg.fractions}; pass the same fractions"
            )

    def _check_out(self, start: Path | None) -> None:
        """Never mix two runs in one directory."""
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {self.out} is a file; name a directory for the run")
        found = ckpt.checkpoints(self.out)
        if start is None and (found or (self.out / "final_model").exists()):
            raise ValueError(
                f"{self.out} already holds a run; continue it with --resume or pick another --out"
            )
        elsewhere = start is not None and Path(start).resolve().parent != self.out.resolve()
        if elsewhere and (found or (self.out / "final_model").exists()):
            raise ValueError(
                f"{self.out} already holds a run; continue {Path(start).name} into a new --out"
            )
        if start is not None:
            step = json.loads((Path(start) / "trainer_state.json").read_text())["hands"]
            newer = [p.name for s, p in found if s > step]
            if newer:
                raise ValueError(
                    f"{self.out} holds checkpoints newer than {Path(start).name} "
                    f"({', '.join(newer)}); resume into another --out"
                )

    def _init_from(self, path: Path) -> None:
        start = PokerLM.load(path)
        if start.fractions != self.model.fractions:
            raise ValueError(
                f"{path} was trained with raise sizes {start.fractions}, this run uses "
                f"{self.model.fractions}"
            )
        if bool(start.strength_trials) != bool(self.model.strength_trials):
            reads = "reads" if start.strength_trials else "does not read"
            raise ValueError(
                f"{path} {reads} the strength token; pass "
                f"--set strength_trials={start.strength_trials} to train it on"
            )
        try:
            self.model.load_state_dict(start.state_dict())
        except RuntimeError:
            raise ValueError(
                f"{path} is a different model size than preset {self.cfg.preset!r} with these "
                "overrides; pass the same --preset/--d-model/--n-layers/--n-heads"
            ) from None

    # -- resume ----------------------------------------------------------------------------------

    def _resume_from(self, resume: bool | str | Path) -> Path | None:
        if resume is False or resume is None:
            return None
        if resume is True:
            path, damaged = ckpt.latest_intact(self.out, required=ckpt.WRITTEN)
            for aside, why in damaged:
                self.log(f"skipped a damaged checkpoint ({why}); it is kept as {aside.name}")
            if path is None:
                raise FileNotFoundError(f"nothing to resume: no intact checkpoint in {self.out}")
            return path
        if not (Path(resume) / "trainer_state.json").is_file():
            raise FileNotFoundError(f"{resume} is not a training checkpoint")
        return Path(resume)

    def _restore(self, path: Path) -> None:
        if "strength_trials" not in json.loads((path / "gamelm.json").read_text()):
            raise ValueError(
                f"{path} was written before models read the strength token and cannot be "
                f"resumed; start a new run from its weights with --set init_from={path}"
            )
        model, state, league = ckpt.load_checkpoint(path, PokerLM.load)
        saved = PPOConfig.from_saved(state["config"])
        for key in ("preset", "d_model", "n_layers", "n_heads", "fractions", "strength_trials"):
            if getattr(saved, key) != getattr(self.cfg, key):
                raise ValueError(
                    f"cannot resume: the checkpoint was trained with {key}="
                    f"{getattr(saved, key)!r}, this run asks for {getattr(self.cfg, key)!r}"
                )
        self.model.load_state_dict(model.state_dict())
        ckpt.load_checkpoint(
            path, PokerLM.load, optimizer=self.opt
        )  # optimizer tensors and torch rng
        self.league = [m.to(self.cfg.device) for m in league]
        self.hands, self.updates = state["hands"], state["updates"]
        self.elapsed = state["elapsed"]
        self.evals, self.best, self.bad_evals = state["evals"], state["best"], state["bad_evals"]
        self.rng.bit_generator.state = state["rng"]
        best = path.parent / "best_model"
        if best.is_dir() and not (self.out / "best_model").exists():  # continuing elsewhere
            shutil.copytree(best, self.out / "best_model")
        self.log(f"resumed from {path} at {self.hands:,} hands")

    def _state(self) -> dict:
        return {
            "config": self.cfg.to_dict(),
            "hands": self.hands,
            "updates": self.updates,
            "elapsed": self.elapsed,
            "evals": self.evals,
            "best": self.best,
            "bad_evals": self.bad_evals,
            "rng": self.rng.bit_generator.state,
        }

    # -- one update ------------------------------------------------------------------------------

    def _league(self) -> list:
        league: list = []
        for spec in self.cfg.opponents:
            if spec == "self":
                league.append(SELF)
            elif spec == "snapshot":
                if self.league:
                    snap = self.league[int(self.rng.integers(len(self.league)))]
                    league.append(LMAgent(snap, "snapshot", self.cfg.temperature, self.cfg.device))
                else:  # no snapshot yet: the learner as it is now
                    league.append(SELF)
            else:
                league.append(self.opponents[spec])
        return league

    def rollout(self) -> Rollout:
        cfg = self.cfg
        hands = min(cfg.hands_per_update, cfg.num_hands - self.hands)
        self.model.eval()
        if cfg.workers:
            return self._rollout_on_workers(hands)
        with self._autocast():
            return collect(
                self.model,
                self._league(),
                hands,
                self.rng,
                seats=cfg.seats,
                tables=cfg.parallel_games,
                stack_bb=cfg.stack_bb,
                temperature=cfg.temperature,
                device=cfg.device,
            )

    def _rollout_on_workers(self, hands: int) -> Rollout:
        from gamelm.rollouts import workers as w

        cfg = self.cfg
        if self._workers is None:
            self._workers = (
                w.RayWorkers(cfg.workers, cfg.ray_address) if cfg.ray_address
                else w.ProcessWorkers(cfg.workers)
            )  # fmt: skip

        def numpy(model: PokerLM) -> dict[str, np.ndarray]:
            return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}

        snapshot = None
        if "snapshot" in cfg.opponents and self.league:
            snapshot = numpy(self.league[int(self.rng.integers(len(self.league)))])
        spec = {"preset": cfg.preset, "fractions": list(cfg.fractions),
                "strength_trials": cfg.strength_trials,
                "overrides": cfg.model_overrides()}  # fmt: skip
        shares = w.split(hands, cfg.workers)
        seeds = self.rng.integers(2**63, size=len(shares))
        weights = numpy(self.model)
        jobs = [
            w.Job(spec, weights, list(cfg.opponents), snapshot, share, int(seed), cfg.seats,
                  max(1, cfg.parallel_games // cfg.workers), cfg.stack_bb, cfg.temperature,
                  runs_dir=None if self.runs_dir is None else str(self.runs_dir))
            for share, seed in zip(shares, seeds)
        ]  # fmt: skip
        return w.merge(self._workers.run(jobs), cfg.seats)

    def _autocast(self):
        if not self.cfg.bf16:
            return torch.autocast("cpu", enabled=False)
        kind = "cuda" if self.cfg.device.startswith("cuda") else "cpu"
        return torch.autocast(kind, dtype=torch.bfloat16)

    def update(self, ro: Rollout) -> UpdateStats:
        cfg, dev = self.cfg, self.cfg.device
        stats = UpdateStats()
        if ro.size == 0:
            return stats
        adv, ret = gae(ro.rewards * cfg.reward_scale, ro.values, ro.episodes, cfg.gamma,
                       cfg.gae_lambda)  # fmt: skip
        var = ret.var()
        stats.explained_variance = float(1 - (ret - ro.values).var() / var) if var > 0 else 0.0
        packed = pack(ro.tokens, ro.mask, ro.shared, ro.episodes)
        lengths = packed.lengths()
        per_seq = np.bincount(packed.sequence[packed.last], minlength=packed.num_sequences)
        t = {
            "choices": torch.as_tensor(ro.choices, device=dev),
            "legal": torch.as_tensor(ro.legal, device=dev),
            "actions": torch.as_tensor(ro.actions, device=dev),
            "logp": torch.as_tensor(ro.logp, dtype=torch.float32, device=dev),
            "adv": torch.as_tensor(adv, dtype=torch.float32, device=dev),
            "ret": torch.as_tensor(ret, dtype=torch.float32, device=dev),
        }
        parts = max(1, round(ro.size / cfg.batch_size))
        self.model.train()
        steps = 0
        for _ in range(cfg.update_epochs):
            # minibatches of sequences of similar length (little padding), in random order
            order = self.rng.permutation(packed.num_sequences)
            order = order[np.argsort(lengths[order], kind="stable")]
            bounds = np.searchsorted(
                np.cumsum(per_seq[order]), np.arange(1, parts) * ro.size / parts
            )
            batches = np.split(order, bounds)
            for b in self.rng.permutation(len(batches)):
                seqs = batches[b]
                if seqs.size == 0:
                    continue
                dec = torch.as_tensor(packed.decisions_of(seqs), device=dev)
                with self._autocast():
                    logp_all, value = self.model.packed(
                        *packed.batch(seqs, dev), t["choices"][dec], t["legal"][dec]
                    )
                logp_all, value = logp_all.float(), value.float()
                logp = logp_all.gather(1, t["actions"][dec, None]).squeeze(1)
                policy_loss, clipped, approx_kl = clipped_surrogate(
                    logp, t["logp"][dec], normalized(t["adv"][dec]), cfg.clip_epsilon
                )
                value_loss = 0.5 * (value - t["ret"][dec]).pow(2).mean()
                finite = logp_all.masked_fill(~t["legal"][dec], 0.0)  # no -inf in the gradient
                entropy = -(logp_all.exp() * finite).sum(1).mean()
                loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
                self.opt.step()
                with torch.no_grad():
                    stats.policy += policy_loss.item()
                    stats.value += value_loss.item()
                    stats.entropy += entropy.item()
                    stats.approx_kl += approx_kl.item()
                    stats.clip_fraction += clipped.item()
                steps += 1
        for name in ("policy", "value", "entropy", "approx_kl", "clip_fraction"):
            setattr(stats, name, getattr(stats, name) / max(steps, 1))
        return stats

    # -- evaluation ------------------------------------------------------------------------------

    def evaluate(self) -> dict:
        """Duplicate, seat-rotated matches against every evaluation opponent."""
        cfg = self.cfg
        with self._autocast():
            out = evaluate_model(
                self.model, cfg.eval_opponents, cfg.eval_hands, seats=cfg.seats,
                seed=cfg.seed + 10_007, stack_bb=cfg.stack_bb,
                temperature=cfg.eval_temperature, device=cfg.device, runs_dir=self.runs_dir,
            )  # fmt: skip
        return {"hands": self.hands, **out}

    # -- the loop --------------------------------------------------------------------------------

    def train(self, progress: Callable[[dict], None] | None = None) -> TrainResult:
        cfg = self.cfg

        registry = Registry(self.runs_dir)
        writer = None
        stopped_early = False
        status = "failed"
        try:
            registry.start(self.name, self.out, cfg.to_dict())
            registry.forget_after(self.name, self.hands)
            writer = self._writer()
            while self.hands < cfg.num_hands:
                t0 = time.perf_counter()
                ro = self.rollout()
                t1 = time.perf_counter()
                stats = self.update(ro)
                dt = time.perf_counter() - t0
                self.elapsed += dt
                self.hands += ro.hands
                self.updates += 1
                lr = self._anneal()
                scalars = {
                    "charts/hands_per_s": ro.hands / dt,
                    "charts/decisions_per_s": ro.size / dt,
                    "charts/rollout_share": (t1 - t0) / dt,
                    "charts/learning_rate": lr,
                    "charts/train_bb_per_100": 100 * ro.learner_result / max(ro.hands, 1),
                    **{f"losses/{k}": v for k, v in asdict(stats).items()},
                }
                if cfg.snapshots and self.updates % cfg.snapshot_interval == 0:
                    self.league.append(copy.deepcopy(self.model).eval())
                    self.league = self.league[-cfg.snapshots :]
                last = self.hands >= cfg.num_hands
                if last:  # the trained model is safe before the final evaluation
                    self.model.save(self.out / "final_model")
                if (cfg.eval_interval and self.updates % cfg.eval_interval == 0) or last:
                    ev = self.evaluate()
                    self.evals.append(ev)
                    scalars["eval/bb_per_100"] = ev["bb_per_100"]
                    scalars["eval/bb_per_100_ci95"] = ev["ci95_half_width"]
                    for spec, r in ev["opponents"].items():
                        scalars[f"eval/{spec}/bb_per_100"] = r["bb_per_100"]
                        scalars[f"eval/{spec}/ci95"] = (r["ci95"][1] - r["ci95"][0]) / 2
                    if ev["bb_per_100"] > self.best:
                        self.best, self.bad_evals = ev["bb_per_100"], 0
                        self.model.save(self.out / "best_model")
                    else:
                        self.bad_evals += 1
                    if cfg.patience and self.bad_evals >= cfg.patience:
                        stopped_early = True
                registry.log(self.name, self.hands, scalars)
                if writer is not None:
                    for k, v in scalars.items():
                        writer.add_scalar(k, v, self.hands)
                    writer.flush()
                due = cfg.checkpoint_frequency and self.updates % cfg.checkpoint_frequency == 0
                if due or last or stopped_early:
                    path = self.out / f"{ckpt.PREFIX}{self.hands}"
                    ckpt.save_checkpoint(path, self.model, self.opt, self._state(), self.league)
                    registry.checkpoint(self.name, self.hands, path)
                    ckpt.prune(self.out, cfg.keep_checkpoints)
                if progress is not None:
                    progress({"hands": self.hands, **scalars,
                              "eval": self.evals[-1] if self.evals else None})  # fmt: skip
                if stopped_early:
                    self.log(f"early stop: no better evaluation in {cfg.patience} evaluations")
                    break
            if stopped_early or not (self.out / "final_model").is_dir():
                self.model.save(self.out / "final_model")
            status = "stopped early" if stopped_early else "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            registry.finish(
                self.name, status,
                {"hands": self.hands, "updates": self.updates, "seconds": self.elapsed,
                 "last_eval": self.evals[-1] if self.evals else None},
            )  # fmt: skip
            if writer is not None:
                writer.close()
            if self._workers is not None:
                self._workers.close()
                self._workers = None
        return TrainResult(self.out, self.hands, self.updates, self.elapsed, stopped_early,
                           self.evals)  # fmt: skip

    def _anneal(self) -> float:
        cfg = self.cfg
        lr = cfg.learning_rate
        if cfg.anneal_lr:
            lr *= max(0.0, 1 - self.hands / cfg.num_hands)
        for group in self.opt.param_groups:
            group["lr"] = lr
        return lr

    def _writer(self):
        if not self.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is in the [llm] extra; without it, only the registry
            self.log("tensorboard is not installed: metrics go to the run registry only")
            return None
        return SummaryWriter(str(self.out / "tensorboard"), purge_step=self.hands or None)


def evaluate_model(
    model: PokerLM,
    opponents: tuple[str, ...] | list[str],
    hands: int,
    *,
    seats: int = 2,
    seed: int = 0,
    stack_bb: int = 100,
    temperature: float = 1.0,
    device: str = "cpu",
    progress: bool = False,
    runs_dir: str | Path | None = None,
) -> dict:
    """bb/100 with 95% CIs of ``model`` against each opponent (the others seats all play that
    opponent), from duplicate, seat-rotated matches of ``hands`` hands on the same deals, and
    their mean with the CI of the mean."""

    model.eval()
    hero = LMAgent(model, "learner", temperature, device)
    out: dict[str, Any] = {"opponents": {}}
    rates = []
    for spec in opponents:
        match = MatchConfig(
            seats=seats, hands=hands, seed=seed, stack_bb=stack_bb, fractions=model.fractions,
            tables=min(hands, 1024),
        )  # fmt: skip
        opponent = make_agent(spec, runs_dir)
        res = play_match([hero, *[opponent] * (seats - 1)], match, progress=progress)
        wr = agent_win_rates(res)["learner"]
        style = playing_stats(res, 0)
        rates.append(wr)
        out["opponents"][spec] = {
            "bb_per_100": wr.bb_per_100, "stderr": wr.stderr, "ci95": list(wr.ci95),
            "hands": wr.hands, "vpip": style["vpip"], "pfr": style["pfr"], "af": style["af"],
        }  # fmt: skip
    mean = float(np.mean([w.bb_per_100 for w in rates]))
    se = math.sqrt(sum(w.stderr**2 for w in rates)) / len(rates)
    out["bb_per_100"], out["ci95_half_width"] = mean, 1.959964 * se
    return out
