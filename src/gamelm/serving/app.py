"""The HTTP API and web pages: one FastAPI app for one or more agents.

Routes (all but ``/health`` and the pages' scripts under ``/static/`` need the bearer token when
the server has one; a browser page may pass it as ``?token=...`` instead of the
``Authorization`` header):

* ``GET /health`` - liveness, no token.
* ``GET /v1/agents`` - the served agents and their raise sizes.
* ``POST /v1/act`` - a decision (a JSON state or ``{"phh": ...}``, `gamelm.serving.spot`) to
  ``{"action", "probabilities", "legal_actions"}``.
* ``GET /v1/models``, ``POST /v1/chat/completions`` - OpenAI-compatible: the answer to a
  gamelm prompt is one action token (``A0``, ``A1``, ...).
* ``POST /v1/tables``, ``GET /v1/tables/{id}``, ``POST /v1/tables/{id}/act``,
  ``POST /v1/tables/{id}/next``, ``GET /v1/tables/{id}/hands[/{k}]`` - a person against a bot,
  finished hands as PHH.
* ``GET /v1/runs``, ``GET /v1/runs/{name}`` - the run registry, for the training dashboard.
* ``GET /v1/strategy`` - an agent's 13x13 preflop grid.
* ``GET /``, ``/play``, ``/dashboard``, ``/strategy`` - the web pages (static HTML and JS).

Every error is JSON in OpenAI's shape, ``{"error": {"message": ..., "type": ..., "code": ...}}``,
with one sentence that says what is wrong.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gamelm.agents.base import Agent, AgentUnavailable, first_line
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.serving.prompt_view import PromptError, observation_from_prompt
from gamelm.serving.schemas import ActRequest, ChatRequest, HumanAction, TableRequest
from gamelm.serving.spot import (
    SpotError,
    choose,
    describe_entry,
    observation_of,
    spot_from_json,
    spot_from_phh,
)
from gamelm.serving.tables import Table

STATIC = Path(__file__).parent / "static"
PAGES = {
    "/": "index.html",
    "/play": "play.html",
    "/dashboard": "dashboard.html",
    "/strategy": "strategy.html",
}
MAX_BODY_BYTES = 256 * 1024
MAX_TABLES = 256


class ApiError(Exception):
    """An error answered as JSON with ``status`` and a one-sentence ``message``."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclass
class Served:
    """An agent behind the API, with the lock that keeps one request at a time in it."""

    name: str
    agent: Agent
    fractions: tuple[float, ...]
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def menu(self) -> ActionAbstraction:
        return ActionAbstraction(self.fractions)

    @property
    def text_model(self):
        """The causal LM that reads prompts as text itself, if the agent is one."""
        model = getattr(self.agent, "model", None)
        return model if hasattr(model, "prompt_probabilities") else None


def agent_fractions(agent: Agent, default: tuple[float, ...]) -> tuple[float, ...]:
    """The raise sizes an agent was trained with (a gamelm LM's), else ``default``."""
    own = getattr(getattr(agent, "model", None), "fractions", None)
    return tuple(own) if own else tuple(default)


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    if not errors:
        return 422, "The request body is not valid."
    err = errors[0]
    if err.get("type") == "json_invalid":
        return 400, "The request body is not valid JSON."
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if err.get("type") == "missing" and where:
        return 422, f"The field '{where}' is required."
    return 422, _sentence(f"{where}: {msg}" if where else msg)


class _Guard:
    """ASGI middleware: the bearer token on every path but ``/health`` and the pages' own
    scripts and styles under ``/static/`` (the same for everyone, no data), and a cap on the
    request body (413 when it is larger, whatever Content-Length claims)."""

    def __init__(self, app, token: str | None, max_body: int) -> None:
        self.app, self.token, self.max_body = app, token, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        open_path = scope["path"] == "/health" or scope["path"].startswith("/static/")
        if self.token and not open_path and not self._authorised(scope):
            return await _send_error(send, 401, "A valid bearer token is required.", "auth_error")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await _send_error(send, 413, self._too_big(), "request_too_large")
        # the body is read here, up to the limit, and handed on whole: an error raised while
        # the app reads it would be taken for a malformed body
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                return await _send_error(send, 413, self._too_big(), "request_too_large")
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay():
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

    def _too_big(self) -> str:
        return f"The request body is larger than the limit of {self.max_body} bytes."

    def _authorised(self, scope) -> bool:
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"").decode("latin-1")
        if given.lower().startswith("bearer "):
            return hmac.compare_digest(given[7:].strip().encode(), self.token.encode())
        for part in scope.get("query_string", b"").decode("latin-1").split("&"):
            key, _, value = part.partition("=")
            if key == "token":
                from urllib.parse import unquote

                return hmac.compare_digest(unquote(value).encode(), self.token.encode())
        return False


async def _send_error(send, status: int, message: str, kind: str) -> None:
    body = json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(
        {"error": {"message": _sentence(message), "type": kind, "code": status}}, status_code=status
    )


def create_app(
    agents: Mapping[str, Agent],
    *,
    token: str | None = None,
    fractions: tuple[float, ...] = (0.5, 1.0),
    max_body: int = MAX_BODY_BYTES,
    runs_dir: str | Path | None = None,
    max_tables: int = MAX_TABLES,
) -> FastAPI:
    """The app serving ``agents`` (name -> agent; the first is the default)."""
    if not agents:
        raise ValueError("serve at least one agent")
    served = {name: Served(name, a, agent_fractions(a, fractions)) for name, a in agents.items()}
    default = next(iter(served))
    tables: OrderedDict[str, tuple[Table, Served]] = OrderedDict()
    tables_lock = threading.Lock()
    grids: OrderedDict[tuple, dict] = OrderedDict()
    app = FastAPI(title="gamelm", version=_version(), docs_url="/docs", redoc_url=None)
    app.add_middleware(_Guard, token=token, max_body=max_body)

    # -- errors ----------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _error(exc.status, exc.message, exc.kind)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        status, message = _validation_message(exc)
        return _error(status, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = "No such route." if exc.status_code == 404 else str(exc.detail)
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
        return _error(exc.status_code, message)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        return _error(500, f"internal error: {first_line(exc)}", "server_error")

    def agent_named(name: str | None) -> Served:
        s = served.get(name or default)
        if s is None:
            raise ApiError(404, f"no agent named {name!r}; served: {', '.join(served)}")
        return s

    def rng_for(seed: int | None) -> np.random.Generator:
        return np.random.default_rng(seed if seed is not None else secrets.randbits(63))

    def run_agent(s: Served, fn):
        try:
            with s.lock:
                return fn()
        except AgentUnavailable as exc:
            raise ApiError(503, first_line(exc), "agent_unavailable") from None

    # -- the basics ------------------------------------------------------------------------
    @app.get("/health")
    def health():
        return {"status": "ok", "agents": list(served)}

    @app.get("/v1/agents")
    def list_agents():
        return {
            "default": default,
            "agents": [
                {
                    "name": s.name,
                    "type": type(s.agent).__name__,
                    "fractions": list(s.fractions),
                    "menu": list(s.menu.names),
                    "chat": True,
                }
                for s in served.values()
            ],
        }

    @app.post("/v1/act")
    def act(body: ActRequest):
        s = agent_named(body.agent)
        seed = body.seed if body.seed is not None else 0
        try:
            if body.phh is not None:
                spot = spot_from_phh(body.phh, seed)
            else:
                spot = spot_from_json(
                    body.seats,
                    body.button,
                    body.blinds,
                    body.stacks,
                    body.hero,  # type: ignore[arg-type]
                    body.hole_cards,
                    body.board,
                    [a.model_dump() for a in body.actions],  # type: ignore[arg-type]
                    ante=body.ante,
                    seed=seed,
                )
        except SpotError as exc:
            raise ApiError(422, str(exc)) from None
        obs = observation_of(spot.state, s.menu)
        rng = rng_for(body.seed)
        choice = run_agent(s, lambda: choose(s.agent, obs, rng))
        legal = [int(e) for e in np.flatnonzero(obs.legal[0])]
        return {
            "agent": s.name,
            "hero": spot.user_seat(spot.hero),
            "action": describe_entry(obs, choice.entry, spot),
            "probabilities": {
                s.menu.names[e]: round(float(choice.probabilities[e]), 6) for e in legal
            },
            "probabilities_exact": choice.exact,
            "legal_actions": [describe_entry(obs, e, spot) for e in legal],
        }

    # -- OpenAI-compatible ----------------------------------------------------------------
    @app.get("/v1/models")
    def models():
        created = int(time.time())
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": created, "owned_by": "gamelm"}
                for name in served
            ],
        }

    @app.post("/v1/chat/completions")
    def chat(body: ChatRequest):
        s = served.get(body.model)
        if s is None:
            raise ApiError(404, f"model {body.model!r} is not served; GET /v1/models lists them")
        if body.stream:
            raise ApiError(400, "streaming is not supported: ask with stream false")
        users = [m for m in body.messages if m.role == "user"]
        if not users:
            raise ApiError(400, "the request has no user message")
        text = _content_text(users[-1].content)
        temperature = body.temperature or 0.0
        rng = rng_for(body.seed)
        try:
            token = run_agent(s, lambda: _answer(s, text, temperature, rng))
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

    # -- tables for people -------------------------------------------------------------------
    def table_of(table_id: str) -> tuple[Table, Served]:
        with tables_lock:
            found = tables.get(table_id)
            if found is None:
                raise ApiError(404, f"no table {table_id!r} (it may have expired)")
            tables.move_to_end(table_id)
        return found

    @app.post("/v1/tables", status_code=201)
    def new_table(body: TableRequest):
        s = agent_named(body.agent)
        table_id = secrets.token_hex(8)
        seed = body.seed if body.seed is not None else secrets.randbits(63)

        def make() -> Table:
            return Table(
                table_id,
                s.agent,
                seats=body.seats,
                human=body.human_seat,
                small_blind=body.blinds[0],
                big_blind=body.blinds[1],
                stack=body.stack,
                seed=seed,
                menu=s.menu,
            )

        try:
            table = run_agent(s, make)
        except SpotError as exc:
            raise ApiError(422, str(exc)) from None
        with tables_lock:
            tables[table_id] = (table, s)
            while len(tables) > max_tables:
                tables.popitem(last=False)
        return table.view()

    @app.get("/v1/tables/{table_id}")
    def get_table(table_id: str):
        table, s = table_of(table_id)
        with table.lock:
            return run_agent(s, table.view)

    @app.post("/v1/tables/{table_id}/act")
    def table_act(table_id: str, body: HumanAction):
        table, s = table_of(table_id)
        with table.lock:
            try:
                run_agent(s, lambda: table.act(body.model_dump()))
            except SpotError as exc:
                raise ApiError(
                    409 if "turn" in str(exc) or "over" in str(exc) else 422, str(exc)
                ) from None
            return run_agent(s, table.view)

    @app.post("/v1/tables/{table_id}/next")
    def table_next(table_id: str):
        table, s = table_of(table_id)
        with table.lock:
            if not table.state.finished:
                raise ApiError(409, "the hand is still being played: finish it first")
            run_agent(s, table.deal)
            return run_agent(s, table.view)

    @app.get("/v1/tables/{table_id}/hands")
    def table_hands(table_id: str):
        table, _ = table_of(table_id)
        return {"table_id": table_id, "hands": list(table.hands)}

    @app.get("/v1/tables/{table_id}/hands/{k}")
    def table_hand(table_id: str, k: int):
        table, _ = table_of(table_id)
        if not 0 <= k < len(table.hands):
            raise ApiError(404, f"no finished hand {k}: this table has {len(table.hands)}")
        return PlainTextResponse(table.hands[k], media_type="application/toml")

    # -- the training dashboard ------------------------------------------------------------
    def registry():
        from gamelm.runs.registry import Registry, default_runs_dir

        root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        return Registry(root) if (root / "registry.sqlite").is_file() else None

    @app.get("/v1/runs")
    def runs():
        reg = registry()
        items = reg.runs() if reg is not None else []
        return {
            "runs": [
                {
                    "name": r.name,
                    "algorithm": r.algorithm,
                    "status": r.status,
                    "created": r.created,
                    "updated": r.updated,
                    "path": r.path,
                    "summary": r.summary,
                }
                for r in sorted(items, key=lambda r: -r.updated)
            ]
        }

    @app.get("/v1/runs/{name}")
    def run(name: str, since: int = -1):
        reg = registry()
        try:
            info = reg.get(name) if reg is not None else None
        except KeyError:
            info = None
        if info is None or reg is None:
            raise ApiError(404, f"no run named {name!r} in the registry")
        metrics = {
            k: [[st, v] for st, v in series if st > since]
            for k, series in reg.metrics(name).items()
        }
        return {
            "name": info.name,
            "algorithm": info.algorithm,
            "status": info.status,
            "path": info.path,
            "config": info.config,
            "summary": info.summary,
            "metrics": metrics,
            "checkpoints": [{"step": st, "path": p} for st, p in reg.checkpoints(name)],
        }

    # -- strategy ----------------------------------------------------------------------------
    @app.get("/v1/strategy")
    def strategy(
        agent: str | None = None, position: str = "BTN", seats: int = 2, stack_bb: int = 100
    ):
        from gamelm.serving.strategy import preflop_grid

        s = agent_named(agent)
        if not 2 <= seats <= 10 or not 1 <= stack_bb <= 10_000:
            raise ApiError(422, "seats must be 2..10 and stack_bb 1..10000")
        key = (s.name, position.upper(), seats, stack_bb)
        if key not in grids:
            try:
                grid = run_agent(
                    s, lambda: preflop_grid(s.agent, position, seats, stack_bb, s.fractions)
                )
            except ValueError as exc:
                raise ApiError(422, first_line(exc)) from None
            grids[key] = grid.to_json()
            while len(grids) > 64:
                grids.popitem(last=False)
        return grids[key]

    # -- pages -------------------------------------------------------------------------------
    for route, page in PAGES.items():
        app.add_api_route(route, _page(page), methods=["GET"], include_in_schema=False)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise ApiError(404, f"no static file {name!r}")
        return FileResponse(path)

    return app


def _page(name: str):
    def page() -> Response:
        return FileResponse(STATIC / name, media_type="text/html")

    return page


def _content_text(content) -> str:
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


def _answer(s: Served, text: str, temperature: float, rng: np.random.Generator) -> str:
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gamelm")
    except PackageNotFoundError:
        return "0"
