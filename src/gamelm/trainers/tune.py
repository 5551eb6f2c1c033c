"""Hyperparameter tuning of any gamelm trainer with Optuna.

Algorithm: an Optuna study (Akiba et al., 2019, "Optuna: A Next-generation Hyperparameter
Optimization Framework") samples the settings named in a search space with TPE (seeded), runs
the trainer once per trial on the base settings plus the sampled ones, and maximises its
objective:

- ``ppo``: the final evaluation's bb/100 (mean over ``eval_opponents``, duplicate deals);
  each periodic evaluation is reported, so a median pruner stops trials that trail (from the
  fourth trial, from a trial's second evaluation on).
- ``rl``: bb/100 of the fine-tuned model on fresh duplicate deals against the run's opponents
  (``eval_hands``); each epoch's training bb/100 is reported for pruning.
- ``sft``: validation agreement with the expert after fine-tuning.
- ``compile``: validation agreement of the compiled program with the reference (with
  ``metric: chips``, its bb/100 in the reported match).

The study lives in a database (``sqlite:///FILE`` by default), so an interrupted study resumes
where it stopped: ``trials`` is the number of finished trials the study should hold, and running
the same command again runs only the ones missing. The base settings are enqueued as the first
trial, so the table compares the defaults with what the search found. Trials run one at a time,
on ``workers`` processes of this machine sharing the database, or as Ray tasks on an existing
cluster (``ray_address``; the database must then be reachable from every node).

Each trial writes into ``out/STUDY/trial-NNNN``; ``out/STUDY/best.yaml`` holds the best trial's
full settings, the file the trainer's ``--config`` reads. A study remembers which trainer it
tunes; the base settings run again when their trial was interrupted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig
from gamelm.evaluation.metrics import hero_win_rate
from gamelm.files import atomic_file
from gamelm.parallel import ProcessPool, RayPool
from gamelm.trainers.compile import CompileConfig, compile_program

TRAINERS = ("ppo", "rl", "sft", "compile")

DEFAULT_SPACES: dict[str, dict[str, dict[str, Any]]] = {
    "ppo": {
        "learning_rate": {"low": 1e-4, "high": 3e-3, "log": True},
        "entropy_coef": {"low": 0.0, "high": 0.05},
        "batch_size": {"choices": [256, 512, 1024]},
        "update_epochs": {"low": 1, "high": 4},
        "clip_epsilon": {"low": 0.1, "high": 0.3},
    },
    "rl": {
        "learning_rate": {"low": 1e-5, "high": 1e-3, "log": True},
        "entropy_coef": {"low": 0.0, "high": 0.05},
        "kl_coef": {"low": 0.0, "high": 0.1},
        "temperature": {"low": 0.7, "high": 1.3},
        "minibatch_size": {"choices": [64, 128, 256]},
    },
    "sft": {
        "learning_rate": {"low": 1e-5, "high": 1e-3, "log": True},
        "batch_size": {"choices": [8, 16, 32]},
        "lora_rank": {"choices": [0, 8, 16]},
    },
    "compile": {
        "optimizer": {"choices": ["labeled", "bootstrap"]},
        "max_demos": {"low": 1, "high": 8},
        "temperature": {"low": 0.0, "high": 1.0},
    },
}
"""The search spaces used when no ``--space`` file is given."""

OUT_KEYS = {"rl": "out", "sft": "out"}  # settings that name the trial's output directory


@dataclass(frozen=True)
class Param:
    """One dimension of a search space: ``choices``, or a range ``low..high`` (integers when
    both ends are, on a log scale with ``log``, in steps of ``step``)."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    @classmethod
    def parse(cls, name: str, spec: Any) -> Param:
        if isinstance(spec, list):
            spec = {"choices": spec}
        if not isinstance(spec, dict):
            raise ValueError(f"search space {name!r}: give {{low, high}} or {{choices: [...]}}")
        unknown = set(spec) - {"low", "high", "log", "step", "choices"}
        if unknown:
            raise ValueError(f"search space {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
        if "choices" in spec:
            choices = spec["choices"]
            if not isinstance(choices, list) or not choices:
                raise ValueError(f"search space {name!r}: choices must be a non-empty list")
            return cls(name, choices=tuple(choices))
        if "low" not in spec or "high" not in spec:
            raise ValueError(f"search space {name!r}: give both low and high")
        low, high = spec["low"], spec["high"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise ValueError(f"search space {name!r}: low and high must be numbers")
        if low >= high:
            raise ValueError(f"search space {name!r}: low must be below high")
        if spec.get("log") and low <= 0:
            raise ValueError(f"search space {name!r}: a log scale needs low > 0")
        step = spec.get("step")
        if step is not None:
            if spec.get("log"):
                raise ValueError(f"search space {name!r}: give step or log, not both")
            if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0:
                raise ValueError(f"search space {name!r}: step must be a positive number")
        return cls(name, low, high, bool(spec.get("log", False)), step)

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def suggest(self, trial: Any) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.integer:
            return trial.suggest_int(
                self.name, self.low, self.high, step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def admits(self, value: Any) -> bool:
        """Whether ``value`` lies in this dimension (the defaults are enqueued only then)."""
        if self.choices is not None:
            return value in self.choices
        return isinstance(value, int | float) and self.low <= value <= self.high


def parse_space(space: dict[str, Any], trainer: str | None = None) -> list[Param]:
    """The dimensions of ``space``; with ``trainer``, each must name one of its settings."""
    if not isinstance(space, dict) or not space:
        raise ValueError("the search space must be a non-empty mapping of setting -> range")
    if trainer is not None:
        known = trainer_settings(trainer)
        unknown = sorted(str(k) for k in space if k not in known)
        if unknown:
            raise ValueError(
                f"the search space names {', '.join(unknown)}, not settings of {trainer}; "
                f"known: {', '.join(sorted(known))}"
            )
    params = [Param.parse(str(name), spec) for name, spec in space.items()]
    if trainer is not None:
        defaults = trainer_defaults(trainer)
        for p in params:
            whole = isinstance(defaults.get(p.name), int) and not isinstance(defaults[p.name], bool)
            if whole and p.choices is None and not p.integer:
                raise ValueError(
                    f"search space {p.name!r}: a whole number; give whole low and high"
                )
            if p.integer and p.step is not None and p.step != int(p.step):
                raise ValueError(
                    f"search space {p.name!r}: a whole-number range needs a whole step"
                )
    return params


@dataclass
class TuneConfig:
    """One study.

    Args:
        trainer: ``ppo``, ``rl``, ``sft`` or ``compile``.
        base: the trainer's settings every trial starts from (its config's fields).
        space: search space (`Param` specs by setting name; default `DEFAULT_SPACES`).
        trials: finished trials the study should hold (a resumed study runs the rest).
        timeout: stop starting trials after this many seconds (None: no limit).
        storage: Optuna storage URL (default ``sqlite:///OUT/study.db``).
        study: study name in the storage.
        out: folder of the trials' runs and of ``best.yaml``.
        seed: seed of the sampler.
        workers: processes running trials at once (sharing the storage).
        ray_address: run the workers as tasks on this Ray cluster instead.
        prune: stop trials whose intermediate evaluations trail the median (ppo, rl).
        eval_hands: rl: duplicate hands of the final evaluation.
    """

    trainer: str
    base: dict[str, Any] = field(default_factory=dict)
    space: dict[str, Any] = field(default_factory=dict)
    trials: int = 10
    timeout: float | None = None
    storage: str | None = None
    study: str | None = None
    out: str = "tune"
    seed: int = 0
    workers: int = 1
    ray_address: str | None = None
    prune: bool = True
    eval_hands: int = 1000

    def __post_init__(self) -> None:
        if self.trainer not in TRAINERS:
            raise ValueError(f"trainer must be one of {', '.join(TRAINERS)}, got {self.trainer!r}")
        if self.trials < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        self.space = self.space or DEFAULT_SPACES[self.trainer]
        parse_space(self.space, self.trainer)
        unknown = sorted(set(self.base) - trainer_settings(self.trainer))
        if unknown:
            raise ValueError(f"unknown {self.trainer} settings: {', '.join(unknown)}")
        self.study = self.study or f"gamelm-{self.trainer}"
        if self.storage is None:
            self.storage = f"sqlite:///{Path(self.out) / 'study.db'}"

    def params(self) -> list[Param]:
        return parse_space(self.space)

    def base_settings(self) -> dict[str, Any]:
        """The trainer's defaults overridden by ``base``: what trial 0 runs."""
        return {**trainer_defaults(self.trainer), **self.base}


# -- objectives ------------------------------------------------------------------------------


class Reporter:
    """Reports a trial's intermediate values and prunes it when Optuna says so."""

    def __init__(self, trial: Any, prune: bool) -> None:
        self.trial = trial
        self.prune = prune

    def __call__(self, value: float, step: int) -> None:
        import optuna

        if not math.isfinite(value):
            return
        self.trial.report(value, step)
        if self.prune and self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step} with {value:.4g}")


def ppo_objective(settings: dict, out: Path, report: Reporter, config: TuneConfig) -> float:
    from gamelm.trainers.ppo import PPOConfig, PPOTrainer

    cfg = PPOConfig.from_dict(settings)
    name = f"{config.study}-{out.name}"  # unique in the registry the studies share
    trainer = PPOTrainer(cfg, out, name=name, runs_dir=Path(config.out) / "runs", tensorboard=False)

    evals = 0

    def progress(d: dict) -> None:
        nonlocal evals
        if "eval/bb_per_100" in d:
            report(d["eval/bb_per_100"], evals)  # step 0 is the first evaluation
            evals += 1

    result = trainer.train(progress)
    return float(result.evaluations[-1]["bb_per_100"])


def rl_objective(settings: dict, out: Path, report: Reporter, config: TuneConfig) -> float:
    from gamelm.agents.lm import LMAgent
    from gamelm.models.lm import load_policy
    from gamelm.trainers.rl import RLConfig, RLTrainer

    cfg = RLConfig.from_dict({**settings, "out": str(out)})
    RLTrainer(cfg).train(lambda record: report(record["bb_per_100"], record["epoch"] - 1))
    hero = LMAgent(load_policy(out), name="tuned")
    specs = [spec.strip() for spec in cfg.opponent.split(",") if spec.strip()]
    match = MatchConfig(
        seats=cfg.seats,
        hands=config.eval_hands,
        seed=cfg.seed + 10_007,  # deals the training never saw
        stack_bb=cfg.stack_bb,
        fractions=hero.model.fractions or (0.5, 1.0),
        tables=min(config.eval_hands, 512),
    )
    return float(hero_win_rate(hero, [make_agent(spec) for spec in specs], match).bb_per_100)


def sft_objective(settings: dict, out: Path, report: Reporter, config: TuneConfig) -> float:
    from gamelm.trainers.sft import SFTConfig, train

    result = train(SFTConfig.from_dict({**settings, "out": str(out)}), progress=False, logs=False)
    return float(result["val_agreement_after"])


def compile_objective(settings: dict, out: Path, report: Reporter, config: TuneConfig) -> float:

    cfg = CompileConfig.from_dict(settings)
    result = compile_program(cfg, out / "program.json")
    if cfg.metric == "chips":
        return float(result.match_after["bb_per_100"])
    return float(result.after.agreement)


OBJECTIVES: dict[str, Callable[[dict, Path, Reporter, TuneConfig], float]] = {
    "ppo": ppo_objective,
    "rl": rl_objective,
    "sft": sft_objective,
    "compile": compile_objective,
}


# -- the study -------------------------------------------------------------------------------


def _storage(url: str):
    import warnings

    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if "://" not in url:
        raise ValueError(f"storage must be a database URL such as sqlite:///study.db, got {url!r}")
    try:  # a trial whose process died stops beating; it is failed and run again
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                heartbeat_interval=30,
                grace_period=90,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
            )
    except (optuna.exceptions.StorageInternalError, ImportError, ValueError) as exc:
        raise ValueError(f"cannot open the storage {url!r}: {exc}") from None


def _config_class(trainer: str) -> Any:
    if trainer == "ppo":
        from gamelm.trainers.ppo import PPOConfig

        return PPOConfig
    if trainer == "rl":
        from gamelm.trainers.rl import RLConfig

        return RLConfig
    if trainer == "sft":
        from gamelm.trainers.sft import SFTConfig

        return SFTConfig

    return CompileConfig


def trainer_settings(trainer: str) -> set[str]:
    """The names of a trainer's settings (its config dataclass's fields)."""
    import dataclasses

    cls = _config_class(trainer)
    return {f.name for f in dataclasses.fields(cls)} | set(getattr(cls, "RENAMED", {}))


def trainer_defaults(trainer: str) -> dict[str, Any]:
    """The default settings of a trainer's config dataclass."""
    import dataclasses

    return {
        f.name: f.default
        for f in dataclasses.fields(_config_class(trainer))
        if f.default is not dataclasses.MISSING
    }


def load_study(config: TuneConfig, worker: int = 0):
    """The study of ``config`` (created on first use, with the base settings enqueued); each
    ``worker`` samples with a seed of its own, or parallel workers would repeat each other."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial: our one sentence
    pruner = (
        # from the fourth trial on, and never on a trial's first evaluation (too noisy)
        optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
        if config.prune
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        study_name=config.study,
        storage=_storage(config.storage),
        sampler=optuna.samplers.TPESampler(seed=config.seed + 7919 * worker),
        pruner=pruner,
        direction="maximize",
        load_if_exists=True,
    )
    owner = study.user_attrs.get("trainer")
    if owner is None:
        study.set_user_attr("trainer", config.trainer)
    elif owner != config.trainer:
        raise ValueError(
            f"study {config.study!r} in {config.storage} tunes {owner}, not {config.trainer}; "
            "give another --study"
        )
    known = config.base_settings()
    defaults = {p.name: known[p.name] for p in config.params() if p.name in known}
    inside = all(p.admits(defaults[p.name]) for p in config.params() if p.name in defaults)
    queued = any(
        t.user_attrs.get("defaults")
        and t.state.name in ("WAITING", "COMPLETE", "RUNNING", "PRUNED")
        for t in study.trials
    )
    if defaults and inside and not queued:  # trial 0, or again when it was interrupted
        study.enqueue_trial(defaults, user_attrs={"defaults": True})
    return study


def study_dir(config: TuneConfig) -> Path:
    """Where a study's trials and ``best.yaml`` go: ``out/STUDY``."""
    return Path(config.out) / str(config.study)


def _finished(study) -> int:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


def _objective(config: TuneConfig, objective: Callable | None):
    fn = objective or OBJECTIVES[config.trainer]
    params = config.params()

    def run(trial) -> float:
        sampled = {p.name: p.suggest(trial) for p in params}
        settings = {**config.base, **sampled}
        out = study_dir(config) / f"trial-{trial.number:04d}"
        key = OUT_KEYS.get(config.trainer)
        trial.set_user_attr("out", str(out))
        trial.set_user_attr("settings", {k: v for k, v in settings.items() if k != key})
        start = time.perf_counter()
        value = fn(settings, out, Reporter(trial, config.prune), config)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 1))
        return value

    return run


def _optimize(job: tuple[TuneConfig, Callable | None, int, int]) -> int:
    """Run trials until the study holds ``config.trials`` finished ones (a worker's job)."""
    import optuna
    from optuna.study import MaxTrialsCallback

    config, objective, budget, worker = job
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = load_study(config, worker)
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    study.optimize(
        _objective(config, objective),
        n_trials=budget,
        timeout=config.timeout,
        callbacks=[MaxTrialsCallback(config.trials, states=states)],
        catch=(),
        gc_after_trial=True,
    )
    return budget


@dataclass
class TuneResult:
    best_value: float
    best_params: dict[str, Any]
    trials: int  # finished (complete or pruned) trials in the study
    rows: list[dict[str, Any]]  # every trial: number, state, value, params, seconds
    best_config: Path
    default_value: float | None  # the enqueued base settings' value, when it finished

    def summary(self) -> dict[str, Any]:
        return {
            "best_value": self.best_value,
            "best_params": self.best_params,
            "trials": self.trials,
            "default_value": self.default_value,
            "best_config": str(self.best_config),
        }


def run(config: TuneConfig, objective: Callable | None = None) -> TuneResult:
    """Run (or resume) ``config``'s study and write ``out/best.yaml``.

    ``objective(settings, out, report, config) -> float`` replaces the trainer's (it must be
    picklable with ``workers`` > 1)."""
    import optuna
    import yaml

    Path(config.out).mkdir(parents=True, exist_ok=True)
    study = load_study(config)
    left = config.trials - _finished(study)
    waiting = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)))
    if left > 0 and waiting and (config.workers > 1 or config.ray_address):
        # enqueued trials first, here: SQLite cannot hand one waiting trial to one worker only
        _optimize((config, objective, min(waiting, left), 0))
        left = config.trials - _finished(load_study(config))
    if left > 0:
        if config.workers == 1 and not config.ray_address:
            _optimize((config, objective, left, 0))
        else:
            shares = [
                left // config.workers + (k < left % config.workers) for k in range(config.workers)
            ]
            jobs = [(config, objective, n, k + 1) for k, n in enumerate(shares) if n]
            pool = (
                RayPool(config.workers, config.ray_address, _optimize)
                if config.ray_address
                else ProcessPool(config.workers, _optimize)
            )
            try:
                pool.run(jobs)
            finally:
                pool.close()
        study = load_study(config)
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not done:
        raise ValueError(f"study {config.study!r} has no finished trial (all failed or pruned)")
    best = study.best_trial
    rows = [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "params": t.params,
            "seconds": t.user_attrs.get("seconds"),
        }
        for t in study.get_trials(deepcopy=False)
    ]
    settings = dict(best.user_attrs.get("settings", {**config.base, **best.params}))
    path = study_dir(config) / "best.yaml"
    header = (
        f"# best of study {config.study!r}: trial {best.number}, value {best.value:.6g}\n"
        f"# use it with: gamelm {'train' if config.trainer == 'ppo' else config.trainer} "
        f"--config {path}\n"
    )
    with atomic_file(path) as tmp:
        tmp.write_text(header + yaml.safe_dump(_plain(settings), sort_keys=True))
    enqueued = [t for t in done if t.user_attrs.get("defaults")]
    default = enqueued[0].value if enqueued else None
    return TuneResult(best.value, best.params, _finished(study), rows, path, default)


def _plain(value: Any) -> Any:
    """Tuples as lists, so the YAML is plain."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
