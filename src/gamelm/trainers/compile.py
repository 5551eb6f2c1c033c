"""The training compiler: optimise what a frozen LLM reads, not its weights.

Algorithm: a `gamelm.agents.dspy_agent.PokerProgram` (one DSPy predictor from the decision's
prompt and the poker tools' analysis to an action token) is compiled by a DSPy optimiser against
a reference agent's moves:

- ``labeled``: LabeledFewShot -- ``max_demos`` reference decisions as worked examples.
- ``bootstrap``: BootstrapFewShot (Khattab et al., 2023, "DSPy: Compiling Declarative Language
  Model Calls into Self-Improving Pipelines") -- the program's own answers on training decisions
  that agree with the reference become the demos (with their reasoning under ``--reasoning``),
  topped up with labeled ones.
- ``mipro``: MIPROv2 (Opsahl-Ong et al., 2024) -- candidate instructions proposed by the LM and
  candidate demo sets, searched with a Bayesian optimiser on validation minibatches.
- ``gepa``: GEPA (Agrawal et al., 2025) -- instructions evolved by reflecting on failures, when
  the installed DSPy has it.

The optimisers' metric is agreement with the reference (the share of decisions where the program
plays the reference's move). With ``metric="chips"``, ``selections`` compilations on differently
shuffled training decisions and the uncompiled program are also played against ``opponent`` in
short duplicate matches (``match_hands`` hands on deals of their own), and the one that wins the
most chips is kept. The reference is an agent (``blueprint:PATH``, ``tag``, ``ckpt:PATH``...),
whose decisions are generated with `gamelm.rollouts.datasets.generate` and split into train and
validation by a hash of the prompt, or a directory of expert data written by ``gamelm datagen``.
PokerBench is never used. Quality is reported before and after on the validation decisions, and
with ``match_hands`` also as chips won (bb/100 with a 95% CI) in a duplicate match against
``opponent``.

Everything a run writes lies next to the program file ``OUT``: ``OUT`` itself (the program as
JSON), and ``OUT.run/`` with the reference data, DSPy's response cache, the optimiser's log
(``compile.log``) and ``report.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gamelm.agents.registry import make_agent
from gamelm.agents.tools import analysis
from gamelm.errors import first_line
from gamelm.evaluation.match import MatchConfig
from gamelm.evaluation.metrics import hero_win_rate
from gamelm.files import atomic_file
from gamelm.poker.rules import check_seats
from gamelm.rollouts.datasets import (
    DatagenConfig,
    action_index,
    check_records,
    generate,
    observations,
    read_jsonl,
)
from gamelm.settings import config_from_dict

OPTIMIZERS = ("labeled", "bootstrap", "mipro", "gepa")
METRICS = ("agreement", "chips")
SELECTION_SEED = 7919  # added to the seed for the deals that select by chips


@dataclass
class CompileConfig:
    """One compile run.

    Args:
        lm_url: base URL of an OpenAI-compatible endpoint (``http://localhost:11434/v1``).
        lm_model: the model name that endpoint serves.
        lm_path: a local transformers model (directory or hub name) instead of an endpoint.
        lm_dtype: dtype of the local model (``float32``, ``bfloat16``...; default: its own).
        reference: agent spec whose moves are the target, or a ``gamelm datagen`` directory.
        optimizer: ``labeled``, ``bootstrap``, ``mipro`` or ``gepa``.
        train_size: training decisions the optimiser sees.
        val_size: validation decisions scored before and after.
        max_demos: worked examples in the compiled prompt (bootstrapped ones for bootstrap
            and mipro, which add up to ``max_labeled`` labeled ones).
        max_labeled: labeled examples bootstrap and mipro may add.
        candidates: instruction and demo-set candidates (mipro).
        trials: optimisation trials (mipro), or the budget in full evaluations (gepa).
        reasoning: a chain of thought before the action.
        tools: give the LM the poker tools' analysis (hand, equity, pot odds).
        temperature: sampling temperature of the LM (0: greedy).
        max_tokens: longest answer.
        seats: players per table of the reference's games.
        hands: hands the reference plays to make the data (default: enough for the sizes).
        seed: seed of the deals, the split samples and the optimisers.
        threads: LM requests in flight at once.
        equity_trials: Monte Carlo deals behind the analysis' equities.
        metric: ``agreement``, or ``chips`` to keep, of ``selections`` compilations and the
            uncompiled program, the one that wins most against ``opponent``.
        selections: compilations compared with ``metric="chips"``.
        match_hands: when positive, also play this many duplicate hands against ``opponent``
            before and after and report bb/100 (``chips`` selects on other deals of this size).
        opponent: agent spec of the match opponent.
        timeout: seconds per LM request.
    """

    lm_url: str | None = None
    lm_model: str | None = None
    lm_path: str | None = None
    lm_dtype: str | None = None
    reference: str = "tag"
    optimizer: str = "bootstrap"
    train_size: int = 32
    val_size: int = 64
    max_demos: int = 4
    max_labeled: int = 4
    candidates: int = 4
    trials: int = 8
    reasoning: bool = False
    tools: bool = True
    temperature: float = 0.0
    max_tokens: int = 256
    seats: int = 2
    hands: int | None = None
    seed: int = 0
    threads: int = 4
    equity_trials: int = 300
    metric: str = "agreement"
    selections: int = 3
    match_hands: int = 0
    opponent: str = "tag"
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        for name in ("train_size", "val_size", "candidates", "trials", "threads", "equity_trials"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("max_demos", "max_labeled", "match_hands"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {self.metric!r}")
        if self.metric == "chips" and self.match_hands < 2:
            raise ValueError("--metric chips needs --match-hands (hands per selection match)")
        if self.selections < 1:
            raise ValueError(f"selections must be at least 1, got {self.selections}")
        if self.optimizer == "labeled" and self.max_demos < 1:
            raise ValueError("the labeled optimizer needs --max-demos of at least 1")
        if self.hands is not None and self.hands < 1:
            raise ValueError(f"hands must be at least 1, got {self.hands}")
        check_seats(self.seats)
        self.lm_spec()  # checks the LM choice

    def lm_spec(self):
        from gamelm.agents.dspy_agent import LMConfig

        return LMConfig(
            url=self.lm_url,
            model=self.lm_model,
            path=self.lm_path,
            dtype=self.lm_dtype,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=self.timeout,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompileConfig:
        return config_from_dict(cls, data, "compile")


@dataclass
class Spot:
    """One reference decision: its prompt, the tools' analysis, how many legal actions it has
    and the reference's choice (an index into them)."""

    situation: str
    analysis: str
    num_legal: int
    target: int

    def example(self):
        import dspy

        return dspy.Example(
            situation=self.situation,
            analysis=self.analysis,
            action=f"A{self.target}",
            num_legal=self.num_legal,
            target=self.target,
        ).with_inputs("situation", "analysis")


def run_dir(out: str | Path) -> Path:
    """The folder of a run's data, cache and report: ``OUT.run`` beside the program file."""
    out = Path(out)
    return out.with_name(out.name + ".run")


# -- data ------------------------------------------------------------------------------------


def reference_records(config: CompileConfig, directory: Path, progress: bool = False):
    """``(train, val)`` records of the reference's decisions: read from a ``gamelm datagen``
    directory, or generated by playing the reference agent into ``directory``."""

    source = Path(config.reference)
    if source.is_dir():
        if not (source / "sft.jsonl").is_file():
            raise ValueError(
                f"{source} is a directory without sft.jsonl; give a `gamelm datagen` output "
                "directory or an agent spec as --reference"
            )
        data = source
    else:
        wanted = config.train_size + config.val_size
        hands = config.hands or max(200, 2 * wanted)
        share = config.val_size / wanted
        data = directory / "data"
        cfg = DatagenConfig(
            expert=config.reference,
            hands=hands,
            seats=config.seats,
            seed=config.seed,
            val_fraction=share,
        )
        generate(cfg, data, progress=progress)
    out = []
    for name in ("sft.jsonl", "sft.val.jsonl"):
        records = read_jsonl(data / name, required=("prompt", "response", "state"))
        check_records(records, data / name, ("response",))
        out.append(records)
    return out[0], out[1]


def sample(records: list[dict], size: int, seed: int, what: str) -> list[dict]:
    """``size`` records drawn without replacement; fewer records than that is an error."""
    if len(records) < size:
        raise ValueError(
            f"the reference data holds {len(records)} {what} decisions, fewer than the "
            f"{size} asked for; lower the size or give more --hands"
        )
    pick = np.random.default_rng(seed).choice(len(records), size, replace=False)
    return [records[i] for i in sorted(pick.tolist())]


def spots(records: list[dict], tools: bool, trials: int, seed: int) -> list[Spot]:
    """The records as `Spot` s, with the tools' analysis computed from each record's state
    (seeded by the prompt, so the same decision always reads the same figures)."""

    out = []
    for r in records:
        obs = observations([r["state"]])
        text = ""
        if tools:
            digest = hashlib.sha1(r["prompt"].encode()).digest()
            rng = np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])
            text = analysis(obs, 0, trials, rng)
        n = int(obs.legal[0].sum())
        out.append(Spot(r["prompt"], text, n, action_index(r["response"])))
    return out


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Score:
    """Agreement of a program with the reference on some decisions."""

    agreement: float
    fallbacks: int  # answers that named no legal action
    decisions: int
    chance: float  # a uniform pick among the legal actions

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def score(
    program, lm, items: list[Spot], threads: int, desc: str = "", progress: bool = False
) -> Score:
    """Run ``program`` on ``items`` and compare with the reference's choices."""
    from tqdm.auto import tqdm

    from gamelm.agents.dspy_agent import decide

    bar = tqdm(total=len(items), desc=desc, disable=not progress, leave=False)
    try:
        answers = decide(
            program,
            lm,
            [(s.situation, s.analysis, s.num_legal) for s in items],
            threads,
            bar.update,
        )
    finally:
        bar.close()
    hits = sum(a.index == s.target for a, s in zip(answers, items))
    return Score(
        agreement=hits / len(items),
        fallbacks=sum(a.index is None for a in answers),
        decisions=len(items),
        chance=float(np.mean([1 / s.num_legal for s in items])),
    )


def agreement_metric(example, prediction, trace=None) -> bool:
    """DSPy metric: the prediction names the reference's action."""
    from gamelm.agents.dspy_agent import parse_action

    return parse_action(str(getattr(prediction, "action", "")), example.num_legal) == example.target


def feedback_metric(example, prediction, trace=None, pred_name=None, pred_trace=None):
    """GEPA's metric: the score plus a sentence on what the reference did."""
    import dspy

    from gamelm.agents.dspy_agent import parse_action

    got = parse_action(str(getattr(prediction, "action", "")), example.num_legal)
    ok = got == example.target
    lines = [ln for ln in example.situation.splitlines() if ln.startswith(f"- A{example.target}:")]
    played = lines[0][2:] if lines else f"A{example.target}"
    if ok:
        feedback = f"Correct: the reference also played {played}."
    elif got is None:
        feedback = f"The answer named no legal action token; the reference played {played}."
    else:
        feedback = f"The reference played {played}, not A{got}."
    return dspy.Prediction(score=float(ok), feedback=feedback)


def match_win_rate(
    program, spec, settings, config: CompileConfig, progress: bool = False, seed: int | None = None
):
    """bb/100 of the program against ``config.opponent`` over ``config.match_hands`` duplicate
    hands (deals of ``seed``, by default ``config.seed``)."""
    from gamelm.agents.dspy_agent import DSPyAgent

    agent = DSPyAgent(program, spec, settings, name="program", threads=config.threads)
    cfg = MatchConfig(
        seats=config.seats,
        hands=config.match_hands,
        seed=config.seed if seed is None else seed,
        tables=config.match_hands,
    )
    wr = hero_win_rate(agent, [make_agent(config.opponent)], cfg, progress)
    return {"bb_per_100": wr.bb_per_100, "ci95": list(wr.ci95), "hands": wr.hands}


# -- compiling -------------------------------------------------------------------------------


def optimize(program, trainset, config: CompileConfig, lm):
    """The compiled copy of ``program``: DSPy's optimiser chosen by ``config.optimizer``, on the
    training examples only."""
    import dspy

    if config.optimizer == "labeled":
        opt = dspy.LabeledFewShot(k=config.max_demos)
        return opt.compile(program, trainset=trainset, sample=True)
    if config.optimizer == "bootstrap":
        opt = dspy.BootstrapFewShot(
            metric=agreement_metric,
            max_bootstrapped_demos=config.max_demos,
            max_labeled_demos=config.max_labeled,
            max_rounds=1,
            max_errors=len(trainset),
        )
        return opt.compile(program, trainset=trainset)
    # mipro and gepa select among candidates on a dev half of the training decisions, so the
    # validation decisions stay unseen by every optimiser
    half = max(1, len(trainset) // 2)
    trainset, devset = (trainset[:half], trainset[half:] or trainset[:half])
    if config.optimizer == "mipro":
        opt = dspy.MIPROv2(
            metric=agreement_metric,
            max_bootstrapped_demos=config.max_demos,
            max_labeled_demos=config.max_labeled,
            auto=None,
            num_candidates=config.candidates,
            num_threads=config.threads,
            seed=config.seed,
            verbose=False,
            track_stats=False,
            max_errors=len(trainset) + len(devset),
        )
        return opt.compile(
            program,
            trainset=trainset,
            valset=devset,
            num_trials=config.trials,
            minibatch=len(devset) > 35,
            minibatch_size=min(35, len(devset)),
        )
    if not hasattr(dspy, "GEPA"):
        raise ValueError("this DSPy has no GEPA optimizer; pick labeled, bootstrap or mipro")
    opt = dspy.GEPA(
        metric=feedback_metric,
        max_full_evals=config.trials,
        reflection_lm=lm,
        num_threads=config.threads,
        seed=config.seed,
        track_stats=False,
    )
    return opt.compile(program, trainset=trainset, valset=devset)


@dataclass
class CompileResult:
    """What a compile run measured and where it wrote."""

    out: Path
    before: Score
    after: Score
    seconds: float
    match_before: dict | None = None
    match_after: dict | None = None
    demos: int = 0
    instructions: str = ""
    selection: list[float] | None = None  # chips: bb/100 of the uncompiled program, candidates

    def summary(self) -> dict[str, Any]:
        out = {
            "val_agreement_before": self.before.agreement,
            "val_agreement_after": self.after.agreement,
            "val_fallbacks_before": self.before.fallbacks,
            "val_fallbacks_after": self.after.fallbacks,
            "val_decisions": self.after.decisions,
            "val_chance": self.after.chance,
            "demos": self.demos,
            "seconds": round(self.seconds, 1),
            "out": str(self.out),
        }
        if self.match_before is not None:
            out["match_bb100_before"] = self.match_before["bb_per_100"]
            out["match_bb100_after"] = self.match_after["bb_per_100"]
            out["match_ci95_before"] = self.match_before["ci95"]
            out["match_ci95_after"] = self.match_after["ci95"]
        if self.selection is not None:
            out["selection_bb100"] = self.selection
        return out


def compile_program(
    config: CompileConfig, out: str | Path, progress: bool = False
) -> CompileResult:
    """Compile a poker program for ``config``'s LM against its reference; save it to ``out``."""
    import dspy
    from dspy.utils.exceptions import AdapterParseError

    from gamelm.agents.dspy_agent import (
        LM_FAILURES,
        ActionAdapter,
        LMUnavailable,
        PokerProgram,
        ProgramConfig,
        configure_cache,
        save_program,
    )

    start = time.perf_counter()
    out = Path(out)
    folder = run_dir(out)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    configure_cache(folder / "dspy_cache")
    ok = False
    try:
        spec = config.lm_spec()
        lm = spec.build()
        train_records, val_records = reference_records(config, folder, progress)
        train = spots(
            sample(train_records, config.train_size, config.seed, "training"),
            config.tools,
            config.equity_trials,
            config.seed,
        )
        val = spots(
            sample(val_records, config.val_size, config.seed + 1, "validation"),
            config.tools,
            config.equity_trials,
            config.seed,
        )
        settings = ProgramConfig(config.reasoning, config.tools, config.equity_trials)
        program = PokerProgram(config.reasoning, config.tools)
        before = score(program, lm, val, config.threads, "before", progress)
        trainset = [s.example() for s in train]
        runs = config.selections if config.metric == "chips" else 1
        candidates = []
        for k in range(runs):  # the first on the training decisions as drawn, then shuffled
            order = np.random.default_rng([config.seed, k]).permutation(len(trainset))
            examples = trainset if k == 0 else [trainset[i] for i in order]
            # DSPy's optimisers print and log as they go: into OUT.run/compile.log
            with (
                (folder / "compile.log").open("a") as log,
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
                dspy.context(lm=lm, adapter=ActionAdapter()),
            ):
                try:
                    candidates.append(optimize(program, examples, config, lm))
                except LM_FAILURES as exc:  # once DSPy's own error budget is spent
                    raise LMUnavailable(
                        f"the language model did not answer: {first_line(exc)}"
                    ) from exc
                except AdapterParseError as exc:  # e.g. MIPRO's instruction proposals
                    raise ValueError(
                        f"the {config.optimizer} optimiser could not read the language model's "
                        "answer to its own prompt (the model does not follow DSPy's format); "
                        "try --optimizer bootstrap or labeled"
                    ) from exc
        compiled, selection = candidates[0], None
        if config.metric == "chips":  # on deals of their own, not the reported match's
            seed = config.seed + SELECTION_SEED
            pool = [program, *candidates]
            selection = [
                match_win_rate(c, spec, settings, config, progress, seed)["bb_per_100"]
                for c in pool
            ]
            compiled = pool[int(np.argmax(selection))]
        after = score(compiled, lm, val, config.threads, "after", progress)
        match_before = match_after = None
        if config.match_hands:
            match_before = match_win_rate(program, spec, settings, config, progress)
            match_after = match_win_rate(compiled, spec, settings, config, progress)
        ok = True
    finally:
        configure_cache(None)
        if not ok and created:  # a run that failed leaves nothing behind
            shutil.rmtree(folder, ignore_errors=True)
    predictor = compiled.decide.predict if config.reasoning else compiled.decide
    result = CompileResult(
        out=out,
        before=before,
        after=after,
        seconds=time.perf_counter() - start,
        match_before=match_before,
        match_after=match_after,
        demos=len(predictor.demos),
        instructions=predictor.signature.instructions,
        selection=selection,
    )
    report = {
        **result.summary(),
        "before": before.as_dict(),
        "after": after.as_dict(),
        "config": asdict(config),
        "lm": spec.label,
    }
    save_program(out, compiled, spec, settings, report)
    with atomic_file(folder / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1, default=str))
    return result
