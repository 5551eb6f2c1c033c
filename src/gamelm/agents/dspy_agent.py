"""DSPy prompt programs that play poker: the program, its language-model backends, and the agent.

A `PokerProgram` is a `dspy.Module` with one predictor whose signature reads the gamelm prompt of
a decision (the table, cards, pot, stacks, action so far and the legal actions ``A0..Ak``) and
the answers of the poker tools (`gamelm.agents.tools`: hand class, equity, pot odds), and writes
one action token (after a short reasoning with ``reasoning=True``). What a DSPy optimiser
(`gamelm.trainers.compile`) learns -- the instructions and the worked examples -- is the
program's state, saved as JSON (`save_program`, never pickle) with the description of its
language model, and played by `DSPyAgent` (agent spec ``dspy:PATH``).

Language models (`LMConfig`): any OpenAI-compatible endpoint (Ollama, vLLM, a llama.cpp server,
``gamelm serve``) by base URL and model name, or a local transformers model through
`TransformersEngine`, a DSPy engine that generates in this process (no network).

Importing this module configures DSPy and LiteLLM not to reach the internet: LiteLLM reads its
bundled price list instead of fetching one, and DSPy's disk cache stays off until a caller
points it into a run directory (`configure_cache`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list fetch at import
os.environ.setdefault("DSPY_CACHEDIR", str(Path(tempfile.gettempdir()) / "gamelm-dspy-cache"))

import dspy
import numpy as np
import numpy.typing as npt
from dspy.lm15 import Message, Response, TextPart, Usage, response_to_events
from dspy.utils.exceptions import AdapterParseError, LMError

from gamelm.agents.base import CALL_ID, AgentUnavailable, Observation, pick_legal
from gamelm.agents.observation import legal_actions, prompt
from gamelm.agents.tools import analysis
from gamelm.chat_client import API_KEY_ENV
from gamelm.errors import first_line
from gamelm.files import atomic_file

FORMAT = "gamelm-dspy-program"
_ACTION = re.compile(r"\bA(\d{1,2})\b")


def configure_cache(directory: str | Path | None) -> None:
    """DSPy's response cache on disk in ``directory`` (a run's folder), or in memory only."""
    if directory is None:
        dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=True)
    else:
        dspy.configure_cache(enable_disk_cache=True, disk_cache_dir=str(directory))


configure_cache(None)
try:  # LiteLLM, when DSPy routes a request through it, must not send telemetry
    import litellm

    litellm.telemetry = False
except ImportError:  # pragma: no cover - DSPy may stop depending on LiteLLM
    pass


# -- the program -----------------------------------------------------------------------------


class PokerDecision(dspy.Signature):
    """You are playing no-limit Texas Hold'em. Read the situation and the analysis, then choose
    the legal action that wins the most chips in the long run. Answer with exactly one action
    token from the legal actions listed in the situation, such as A1."""

    situation: str = dspy.InputField(
        desc="the table, cards, pot, stacks, action so far and the legal actions A0..Ak"
    )
    analysis: str = dspy.InputField(desc="hand strength, equity and pot odds from poker tools")
    action: str = dspy.OutputField(desc="one legal action token, such as A1")


class PokerProgram(dspy.Module):
    """One predictor from (situation, analysis) to an action token; ``reasoning`` makes it a
    chain of thought, ``tools=False`` drops the analysis field."""

    def __init__(self, reasoning: bool = False, tools: bool = True) -> None:
        super().__init__()
        self.reasoning = reasoning
        self.tools = tools
        signature = PokerDecision if tools else PokerDecision.delete("analysis")
        self.decide = dspy.ChainOfThought(signature) if reasoning else dspy.Predict(signature)

    def forward(self, situation: str, analysis: str = "") -> dspy.Prediction:
        if self.tools:
            return self.decide(situation=situation, analysis=analysis)
        return self.decide(situation=situation)


class ActionAdapter(dspy.ChatAdapter):
    """DSPy's chat format, read leniently: an answer that skips the field markers but names an
    action token (small models, or a server that answers with the token alone) still parses.
    Never falls back to a second, JSON-mode request."""

    def __init__(self) -> None:
        super().__init__(use_json_adapter_fallback=False)

    def parse(self, signature: type[dspy.Signature], completion: str) -> dict[str, Any]:
        try:
            return super().parse(signature, completion)
        except AdapterParseError:
            if "action" not in signature.output_fields:  # an optimiser's own call: strict
                raise
            found = _ACTION.search(completion)
            out = dict.fromkeys(signature.output_fields, completion.strip())
            out["action"] = found.group(0) if found else completion.strip()
            return out


def parse_action(text: str, num_legal: int) -> int | None:
    """The index ``k`` of the first token ``Ak`` in ``text`` with ``k < num_legal``, else None.

    >>> parse_action("I would raise: A2", 3), parse_action("A7", 3), parse_action("fold", 3)
    (2, None, None)
    """
    for found in _ACTION.finditer(text or ""):
        k = int(found.group(1))
        if k < num_legal:
            return k
    return None


# -- language models -------------------------------------------------------------------------


class TransformersEngine:
    """A DSPy engine (``complete(Request) -> Response``) that generates with a local
    transformers causal LM (a directory, or a hub name already in the local cache: it never
    downloads): the chat template when the tokenizer has one, otherwise the messages
    as ``role: text`` blocks. Greedy at temperature 0. A prompt longer than the model's context
    keeps its end (the question; the system text and the first demos go). One generation at a
    time (a lock), since the model is shared by DSPy's threads."""

    def __init__(self, path: str | Path, dtype: str | None = None, device: str = "cpu") -> None:
        from gamelm.models.causal_lm import load_pretrained

        self.path = str(path)
        self.device = device
        self.lm, self.tokenizer = load_pretrained(path, dtype, local_files_only=True)
        self.lm.to(device).eval()
        self._lock = threading.Lock()

    def render(self, messages: list[dict[str, str]]) -> str:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\n\nassistant:"

    def complete(self, request: Any) -> Response:
        import torch

        messages = []
        if request.system is not None:
            system = request.system
            text = system if isinstance(system, str) else "".join(p.text for p in system)
            messages.append({"role": "system", "content": text})
        messages += [{"role": m.role, "content": m.text or ""} for m in request.messages]
        config = request.config
        temperature = config.temperature or 0.0
        tok = self.tokenizer
        ids = tok(self.render(messages), return_tensors="pt", add_special_tokens=False)
        new_tokens = config.max_tokens or 256
        limit = getattr(self.lm.config, "max_position_embeddings", None)
        if limit and ids["input_ids"].shape[1] + new_tokens > limit:  # keep the prompt's end
            keep = max(limit - new_tokens, 1)
            ids = {k: v[:, -keep:] for k, v in ids.items()}
        kwargs: dict[str, Any] = {"do_sample": temperature > 0}
        if temperature > 0:
            kwargs["temperature"] = temperature
        with self._lock, torch.inference_mode():
            out = self.lm.generate(
                input_ids=ids["input_ids"].to(self.device),
                attention_mask=ids["attention_mask"].to(self.device),
                max_new_tokens=new_tokens,
                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
                eos_token_id=tok.eos_token_id,
                **kwargs,
            )
        new = out[0, ids["input_ids"].shape[1] :]
        text = tok.decode(new, skip_special_tokens=True)
        for stop in config.stop or ():
            text = text.split(stop)[0]
        usage = Usage(input_tokens=int(ids["input_ids"].shape[1]), output_tokens=int(new.numel()))
        return Response(
            id=None,
            model=request.model,
            message=Message.assistant([TextPart(text)]),
            finish_reason="stop",
            usage=usage,
        )

    def stream(self, request: Any):
        return response_to_events(self.complete(request))

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class LMConfig:
    """Which language model a program calls, saved with the program.

    Either ``url`` (an OpenAI-compatible base URL, such as ``http://localhost:11434/v1`` for
    Ollama) with ``model`` (the name that server knows), or ``path`` (a local transformers model
    directory or hub name, generated in this process)."""

    url: str | None = None
    model: str | None = None
    path: str | None = None
    temperature: float = 0.0
    max_tokens: int = 256
    timeout: float = 60.0  # seconds per request
    num_retries: int = 2
    dtype: str | None = None  # local model only

    def __post_init__(self) -> None:
        if self.path is not None and Path(self.path).expanduser().is_dir():  # saved absolute
            object.__setattr__(self, "path", str(Path(self.path).expanduser().resolve()))
        if (self.url is None) == (self.path is None):
            raise ValueError("give either an endpoint (--lm-url with --lm-model) or --lm-path")
        if self.url is not None:
            if not self.model:
                raise ValueError("--lm-url needs --lm-model, the model name the server knows")
            if not re.match(r"^https?://", self.url):
                raise ValueError(f"--lm-url must start with http:// or https://, got {self.url!r}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")

    @property
    def label(self) -> str:
        return f"{self.model} at {self.url}" if self.url else f"local model {self.path}"

    def build(self) -> dspy.LM:
        """The `dspy.LM` this spec names."""
        if self.url is not None:
            return dspy.LM(
                f"openai/{self.model}",
                api_base=self.url.rstrip("/"),
                api_key=os.environ.get(API_KEY_ENV) or "none",
                temperature=self.temperature,
                max_tokens=self.max_tokens,
                num_retries=self.num_retries,
                timeout=self.timeout,
            )
        engine = TransformersEngine(self.path, self.dtype)
        return dspy.LM(
            f"openai/{Path(self.path).name or 'local'}",
            engine=engine,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            num_retries=0,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LMConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# -- deciding --------------------------------------------------------------------------------


@dataclass
class Decision:
    """One answer of a program: the legal action's index (None when the answer named none)
    and the raw text of the action field."""

    index: int | None
    text: str


class LMUnavailable(AgentUnavailable):
    """The language model did not answer (connection refused, timeout, server error)."""


LM_FAILURES = (LMError, OSError, TimeoutError)
"""What a language model's client raises when the model cannot answer."""


def decide(
    program: PokerProgram,
    lm: dspy.LM,
    items: Sequence[tuple[str, str, int]],
    threads: int = 8,
    progress: Callable[[int], None] | None = None,
) -> list[Decision]:
    """Run ``program`` on each ``(situation, analysis, num_legal)`` with ``lm``, ``threads``
    requests at a time; ``progress(n)`` is called as answers arrive."""
    adapter = ActionAdapter()

    def one(item: tuple[str, str, int]) -> Decision:
        situation, facts, n = item
        try:
            with dspy.context(lm=lm, adapter=adapter):
                pred = program(situation=situation, analysis=facts)
        except AdapterParseError as exc:
            return Decision(None, str(exc.lm_response or ""))
        except LM_FAILURES as exc:
            raise LMUnavailable(f"the language model did not answer: {first_line(exc)}") from exc
        text = str(getattr(pred, "action", "") or "")
        return Decision(parse_action(text, n), text)

    out: list[Decision] = []
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for d in pool.map(one, items):
            out.append(d)
            if progress is not None:
                progress(1)
    return out


def situations(
    obs: Observation, tools: bool, trials: int, rng: np.random.Generator
) -> list[tuple[str, str, int]]:
    """``(situation, analysis, num_legal)`` of every decision in ``obs``."""
    n = obs.legal.sum(axis=1)
    return [
        (prompt(obs, i), analysis(obs, i, trials, rng) if tools else "", int(n[i]))
        for i in range(obs.size)
    ]


# -- saving and the agent ----------------------------------------------------------------------


@dataclass
class ProgramConfig:
    """How a program is built and fed (saved with it)."""

    reasoning: bool = False
    tools: bool = True
    equity_trials: int = 300  # Monte Carlo deals behind the analysis' equity figures


def save_program(
    path: str | Path,
    program: PokerProgram,
    lm: LMConfig,
    settings: ProgramConfig,
    report: dict[str, Any] | None = None,
) -> Path:
    """Write the program's state, its settings and its LM as JSON (atomically)."""
    path = Path(path)
    data = {
        "format": FORMAT,
        "version": 1,
        "lm": asdict(lm),
        "settings": asdict(settings),
        "state": program.dump_state(),
        "report": report or {},
    }
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, default=str))
    return path


def load_program(path: str | Path) -> tuple[PokerProgram, LMConfig, ProgramConfig, dict]:
    """``(program, lm, settings, report)`` from a file written by `save_program`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such program file")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a JSON program file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gamelm DSPy program (written by `gamelm compile`)")
    try:
        settings = ProgramConfig(**data["settings"])
        program = PokerProgram(settings.reasoning, settings.tools)
        program.load_state(data["state"])
        lm = LMConfig.from_dict(data["lm"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} is damaged: {exc}") from None
    return program, lm, settings, data.get("report", {})


@dataclass
class DSPyAgent:
    """Plays a compiled program (agent spec ``dspy:PATH``): each decision is one program call,
    ``threads`` at a time. An answer that names no legal action token is replaced by check/call
    (fold when a call is not legal) and counted in ``fallbacks``."""

    program: PokerProgram
    lm_spec: LMConfig
    settings: ProgramConfig = field(default_factory=ProgramConfig)
    name: str = "dspy"
    threads: int = 8
    fallbacks: int = 0
    decisions: int = 0

    def __post_init__(self) -> None:
        self.lm = self.lm_spec.build()

    @property
    def deterministic(self) -> bool:
        """Greedy answers: one draw shows its policy (`gamelm.serving.state_parsing.choose`)."""
        return self.lm_spec.temperature == 0

    @classmethod
    def load(cls, path: str | Path, name: str | None = None, threads: int = 8) -> DSPyAgent:
        program, lm, settings, _ = load_program(path)
        return cls(program, lm, settings, name=name or f"dspy:{path}", threads=threads)

    def act(self, obs: Observation, rng: np.random.Generator) -> npt.NDArray[np.int64]:
        items = situations(obs, self.settings.tools, self.settings.equity_trials, rng)
        answers = decide(self.program, self.lm, items, self.threads)
        menu_ids = legal_actions(obs)
        want = np.full(obs.size, CALL_ID, np.int64)
        for i, d in enumerate(answers):
            if d.index is None:
                self.fallbacks += 1
            else:
                want[i] = menu_ids[i][d.index]
        self.decisions += obs.size
        return pick_legal(obs, want)


LMSpec = LMConfig  # the names before 0.2
ProgramSettings = ProgramConfig
