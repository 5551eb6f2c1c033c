"""``/v1/models`` and ``/v1/chat/completions``, OpenAI-compatible: the answer to a gamelm
decision prompt (`gamelm.agents.observation.prompt`) is one action token, ``A0``, ``A1``, ...
A text model reads the prompt itself; any other agent sees the observation
`gamelm.agents.prompt_view` reads back from it."""

from __future__ import annotations

import secrets
import time

import numpy as np
from fastapi import APIRouter

from gamelm.agents.prompt_view import PromptError, observation_from_prompt
from gamelm.errors import first_line
from gamelm.serving.context import ApiError, Served, rng_for
from gamelm.serving.routes import State
from gamelm.serving.schemas import ChatRequest
from gamelm.serving.state_parsing import choose

router = APIRouter()


@router.get("/v1/models")
def models(state: State):
    created = int(time.time())
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "gamelm"}
            for name in state.served
        ],
    }


@router.post("/v1/chat/completions")
def chat(body: ChatRequest, state: State):
    s = state.served.get(body.model)
    if s is None:
        raise ApiError(404, f"model {body.model!r} is not served; GET /v1/models lists them")
    if body.stream:
        raise ApiError(400, "streaming is not supported: ask with stream false")
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise ApiError(400, "the request has no user message")
    text = content_text(users[-1].content)
    temperature = body.temperature or 0.0
    rng = rng_for(body.seed)
    try:
        token = state.run_agent(s, lambda: answer(s, text, temperature, rng))
    except (PromptError, ValueError) as exc:
        raise ApiError(400, f"not a gamelm decision prompt: {first_line(exc)}") from None
    words = len(text.split())
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": s.name,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": token},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        # counted in words (the served agent may have no tokenizer of its own)
        "usage": {"prompt_tokens": words, "completion_tokens": 1, "total_tokens": words + 1},
    }


def content_text(content) -> str:
    """The text of a message's content (a string, or OpenAI's list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def answer(s: Served, text: str, temperature: float, rng: np.random.Generator) -> str:
    """The action token a served agent answers to a gamelm prompt."""
    model = s.text_model
    if model is not None:
        probs = model.prompt_probabilities(text)
        words = list(probs)
        p = np.array([probs[w] for w in words])
        if temperature < 1e-3:  # greedy (and no underflow below)
            return words[int(p.argmax())]
        logits = np.log(np.maximum(p, 1e-300)) / temperature
        q = np.exp(logits - logits.max())
        return words[int(rng.choice(len(words), p=q / q.sum()))]
    obs = observation_from_prompt(text, s.fractions)
    choice = choose(s.agent, obs, rng)
    entry = choice.entry
    if temperature <= 0 and choice.exact:  # greedy: the policy's most likely move
        entry = int(choice.probabilities.argmax())
    legal = np.flatnonzero(obs.legal[0]).tolist()
    return f"A{legal.index(entry)}"
