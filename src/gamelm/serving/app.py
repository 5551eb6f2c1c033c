"""The HTTP API and web pages: one FastAPI app for one or more agents.

Routes (one router per concern, `gamelm.serving.routes`; all but ``/health``, the pages and
their scripts under ``/static/`` and the API reference ``/docs`` need the bearer token, in the
``Authorization`` header, when the server has one):

* ``GET /health`` - liveness, no token.
* ``GET /v1/agents`` - the served agents and their raise sizes.
* ``POST /v1/act`` - a decision (a JSON state or ``{"phh": ...}``,
  `gamelm.serving.state_parsing`) to ``{"action", "probabilities", "legal_actions"}``.
* ``GET /v1/models``, ``POST /v1/chat/completions`` - OpenAI-compatible: the answer to a
  gamelm prompt is one action token (``A0``, ``A1``, ...).
* ``POST /v1/tables``, ``GET /v1/tables/{id}``, ``POST /v1/tables/{id}/act``,
  ``POST /v1/tables/{id}/next``, ``GET /v1/tables/{id}/hands[/{k}]`` - a person against a bot,
  finished hands as PHH.
* ``GET /v1/runs``, ``GET /v1/runs/{name}`` - the run registry, for the training dashboard.
* ``GET /v1/strategy`` - an agent's 13x13 preflop grid.
* ``GET /``, ``/play``, ``/dashboard``, ``/strategy`` - the web pages (static HTML and JS).

Every error is JSON in OpenAI's shape, ``{"error": {"message": ..., "type": ..., "code": ...}}``,
with one sentence that says what is wrong. A request whose ``Host`` is not one the server
answers to gets 421, and a crash gets 500 with a sentence that names no detail (the traceback
goes to the log); see `gamelm.web.guard`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gamelm.agents.base import Agent
from gamelm.serving.context import (
    ApiError,
    Served,
    ServerState,
    agent_fractions,
    finite,
)
from gamelm.serving.routes import decisions, openai_compat, pages, runs, strategy, tables
from gamelm.web.guard import CatchCrashes, Guard, allowed_host_names, check_exposure

__all__ = ["MAX_BODY_BYTES", "MAX_TABLES", "ApiError", "Served", "agent_fractions", "create_app"]

PAGES = pages.PAGES
ROUTERS = (
    decisions.router,
    openai_compat.router,
    tables.router,
    runs.router,
    strategy.router,
    pages.router,
)
# the API reference (no data, the same for everyone): a browser cannot send the token header
# when it opens it
DOCS = ("/docs", "/docs/oauth2-redirect", "/openapi.json")
MAX_BODY_BYTES = 256 * 1024
MAX_TABLES = 256


def create_app(
    agents: Mapping[str, Agent],
    *,
    token: str | None = None,
    fractions: tuple[float, ...] = (0.5, 1.0),
    max_body: int = MAX_BODY_BYTES,
    runs_dir: str | Path | None = None,
    max_tables: int = MAX_TABLES,
    host: str | None = None,
    allowed_hosts: Iterable[str] = (),
    allow_no_token: bool = False,
) -> FastAPI:
    """The app serving ``agents`` (name -> agent; the first is the default).

    ``host`` is the address the server will be bound to: a non-loopback one without a
    ``token`` is refused (`gamelm.web.guard.ExposureError`, a ValueError) unless
    ``allow_no_token``. The app answers requests whose ``Host`` is a loopback name, ``host``,
    one of ``allowed_hosts`` or of ``$GAMELM_ALLOWED_HOSTS`` (``*``: any).
    """
    if not agents:
        raise ValueError("serve at least one agent")
    if host is not None:
        check_exposure(host, token, allow_no_token)
    served = {name: Served(name, a, agent_fractions(a, fractions)) for name, a in agents.items()}
    app = FastAPI(
        title="gamelm",
        version=_version(),
        docs_url="/docs",
        redoc_url=None,
        default_response_class=FiniteJSONResponse,
    )
    app.state.gamelm = ServerState(
        served, Path(runs_dir) if runs_dir is not None else None, max_tables
    )
    _install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        Guard,
        token=token,
        max_body=max_body,
        allowed_hosts=allowed_host_names(host, allowed_hosts),
        open_paths=[*PAGES, *DOCS],
    )
    app.add_middleware(CatchCrashes)  # added last: the outermost
    return app


# -- errors ------------------------------------------------------------------------------------
def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(
        {"error": {"message": _sentence(message), "type": kind, "code": status}}, status_code=status
    )


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


def _install_error_handlers(app: FastAPI) -> None:
    """Every error as one sentence in OpenAI's shape. Anything else raised is answered by
    `gamelm.web.guard.CatchCrashes` (500, no detail; the traceback in the log)."""

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


class FiniteJSONResponse(JSONResponse):
    """JSON where a NaN or an infinity (which JSON cannot hold) is written as null."""

    def render(self, content) -> bytes:
        try:
            return super().render(content)
        except ValueError:  # "Out of range float values are not JSON compliant"
            return json.dumps(
                finite(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode("utf-8")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gamelm")
    except PackageNotFoundError:
        return "0"
