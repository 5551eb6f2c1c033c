"""A small client for OpenAI-compatible chat endpoints (Ollama, vLLM, a llama.cpp server,
OpenAI), for callers that need one plain request with a hard timeout and no retries: the Game
Boy planner. (Poker's LLM programs go through DSPy, see `gamelm.agents.dspy_agent`.)

>>> client = ChatClient("http://localhost:11434/v1", "qwen2.5:1.5b", timeout=10)  # doctest: +SKIP
>>> client.complete([{"role": "user", "content": "Say A"}])                        # doctest: +SKIP
'A'
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

OLLAMA_URL = "http://localhost:11434/v1"
API_KEY_ENV = "GAMELM_LM_API_KEY"
"""The environment variable an endpoint's key is read from (never saved, never another one: an
OpenAI key is not sent to other servers)."""


class ChatError(RuntimeError):
    """The endpoint did not answer usefully; the message says why in one sentence, ``kind`` in
    one word: ``timeout``, ``unreachable``, ``http`` or ``bad_reply``."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class ChatClient:
    url: str = OLLAMA_URL
    model: str = "qwen2.5:1.5b"
    timeout: float = 20.0
    api_key: str | None = None  # else $GAMELM_LM_API_KEY, sent only when set

    def complete(
        self, messages: list[dict], max_tokens: int = 200, temperature: float = 0.2
    ) -> str:
        """The assistant's text for ``messages``; `ChatError` on a timeout, a refused
        connection, an HTTP error or a reply without text."""
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        try:
            request = urllib.request.Request(
                self.url.rstrip("/") + "/chat/completions",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
        except ValueError:
            raise ChatError(f"{self.url!r} is not an http(s) URL", "unreachable") from None
        key = self.api_key or os.environ.get(API_KEY_ENV)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        late = ChatError(f"{self.url} did not answer within {self.timeout:g} s", "timeout")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ChatError(f"{self.url} answered HTTP {exc.code}", "http") from None
        except TimeoutError:
            raise late from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise late from None
            raise ChatError(f"cannot reach {self.url} ({exc.reason})", "unreachable") from None
        except Exception as exc:  # a broken reply: bad status line, cut body, not JSON
            detail = f"{type(exc).__name__}: {exc}"[:200]
            message = f"{self.url} sent an unreadable reply ({detail})"
            raise ChatError(message, "bad_reply") from None
        try:
            text = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ChatError(f"{self.url} sent a reply without a message", "bad_reply") from None
        if not isinstance(text, str):
            raise ChatError(f"{self.url} sent a message without text", "bad_reply")
        return text
