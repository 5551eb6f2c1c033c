"""A small OpenAI-compatible chat server on loopback, for tests: ``POST /v1/chat/completions``
answers with what a Python function makes of the request's messages; ``GET /v1/models`` lists
one model. Every request is recorded."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Responder = Callable[[list[dict]], str]


class LoopbackLM:
    """``with LoopbackLM(responder) as lm: lm.url`` -- a server on 127.0.0.1 (a free port)."""

    def __init__(self, responder: Responder, model: str = "loopback", delay: float = 0.0):
        self.responder = responder
        self.model = model
        self.delay = delay
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": outer.model}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                outer.requests.append(body)
                if outer.delay:
                    threading.Event().wait(outer.delay)
                text = outer.responder(body["messages"])
                self._send(
                    200,
                    {
                        "id": f"cmpl-{len(outer.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", outer.model),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> LoopbackLM:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def field_of(content: str, name: str) -> str | None:
    """The text of DSPy's ``[[ ## name ## ]]`` field in a message."""
    found = re.search(rf"\[\[ ## {name} ## \]\]\n(.*?)(?=\n\[\[ ## |\Z)", content, re.S)
    return found.group(1).strip() if found else None


def situation_of(messages: list[dict]) -> str | None:
    """The gamelm prompt the last user message asks about."""
    return field_of(messages[-1]["content"], "situation")


def policy_responder(policy) -> Responder:
    """Answers like a gamelm LM served over HTTP: the action token its policy
    (`gamelm.models.causal_lm.CausalLMPolicy`) finds most likely for the situation asked about,
    the token alone."""

    def answer(messages: list[dict]) -> str:
        text = situation_of(messages)
        if text is None or "- A0:" not in text:
            return "I can only answer poker decisions."
        probs = policy.prompt_probabilities(text)
        return max(probs, key=probs.get)

    return answer


def _key(situation: str) -> tuple[str, int]:
    street = re.search(r"Street: (\w+)", situation)
    return (street.group(1) if street else "", situation.count("\n- A"))


def demo_responder(messages: list[dict]) -> str:
    """An in-context learner: the action most often taken in the worked examples of the same
    street with as many legal actions (DSPy sends them as earlier user/assistant turns), else
    the last legal action. Answers in DSPy's field format."""
    situation = situation_of(messages) or ""
    votes: dict[str, int] = {}
    for ask, said in zip(messages[1:-1:2], messages[2:-1:2]):
        demo = field_of(ask["content"], "situation") or ""
        action = field_of(said["content"], "action")
        if action and _key(demo) == _key(situation):
            votes[action] = votes.get(action, 0) + 1
    last = f"A{max(situation.count(chr(10) + '- A') - 1, 0)}"
    answer = max(votes, key=votes.get) if votes else last
    fields = re.findall(
        r"^\d+\. `(\w+)`", messages[0]["content"].split("Your output fields")[-1], re.M
    )
    if fields and "action" not in fields:  # an optimiser's own request (an instruction...)
        return "".join(f"[[ ## {f} ## ]]\nPlay the move the examples play.\n\n" for f in fields) + (
            "[[ ## completed ## ]]"
        )
    return f"[[ ## action ## ]]\n{answer}\n\n[[ ## completed ## ]]"
