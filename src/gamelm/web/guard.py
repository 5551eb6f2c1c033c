"""What stands between the network and a gamelm web app: who may bind where, which ``Host``
names are answered, the bearer token, the size of a request body, and a crash answered without
its details.

* `check_exposure` refuses to serve a non-loopback address without a token (an open server on
  a network lets anyone play its agents and read the run registry) unless the caller opts out.
* `Guard` (ASGI middleware) answers a request whose ``Host`` is not on the allow-list with 421:
  a page on another site that rebinds its DNS name to this server (DNS rebinding) sends its own
  name as ``Host``, so it cannot read the answers. The list holds the loopback names, the
  address the server is bound to, the names given (``allowed_hosts``) and those in
  ``$GAMELM_ALLOWED_HOSTS`` (comma-separated; ``*`` allows any name). It then checks the bearer
  token (``Authorization: Bearer ...`` only: a token in the URL ends up in logs and browser
  history) and caps the request body.
* `CatchCrashes` (ASGI middleware) logs the traceback of an unexpected exception and answers
  500 with a sentence that says nothing about its cause.

>>> check_exposure("127.0.0.1", token=None)
>>> check_exposure("0.0.0.0", token="s3cret")
>>> try:
...     check_exposure("0.0.0.0", token=None)
... except ExposureError as exc:
...     print(str(exc)[:51])
refusing to serve on 0.0.0.0 without a bearer token
>>> host_allowed("LocalHost:8000", allowed_host_names()), host_allowed("evil.example", set())
(True, False)
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
from collections.abc import Iterable

TOKEN_ENV = "GAMELM_API_TOKEN"
ALLOWED_HOSTS_ENV = "GAMELM_ALLOWED_HOSTS"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})  # bind every interface: not a Host name
INTERNAL_ERROR = "internal error: the server failed to answer this request (its log says why)."

log = logging.getLogger("gamelm.web")


class ExposureError(ValueError):
    """Serving a network address without a token; the message says what to do instead."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, maybe ``[bracketed]``) is this machine only."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None, allow_no_token: bool = False) -> None:
    """Refuse (`ExposureError`) to serve on ``host`` without a token unless ``host`` is
    loopback or the caller explicitly opts out with ``allow_no_token``."""
    if token or allow_no_token or is_loopback(host):
        return
    raise ExposureError(
        f"refusing to serve on {host or 'every interface'} without a bearer token: anyone who "
        f"can reach it could use it; set ${TOKEN_ENV} (or --token), bind 127.0.0.1, or pass "
        "--insecure-no-token to serve it open."
    )


def allowed_host_names(bound: str | None = None, extra: Iterable[str] = ()) -> set[str]:
    """The ``Host`` names a server bound to ``bound`` answers: loopback, ``bound`` (unless it is
    a wildcard address), ``extra`` and ``$GAMELM_ALLOWED_HOSTS``; ``*`` means any."""
    names = set(LOOPBACK_NAMES)
    env = os.environ.get(ALLOWED_HOSTS_ENV, "")
    for entry in [bound or "", *extra, *env.split(",")]:
        name = host_name(entry)  # a port or [brackets] given with a name are dropped
        if name and name not in WILDCARD_ADDRESSES:
            names.add(name)
    return names


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header[1:]
    name, _, port = header.rpartition(":") if header.count(":") == 1 else (header, "", "")
    return name.rstrip(".") if port.isdigit() or not port else header


def host_allowed(header: str, allowed: set[str]) -> bool:
    name = host_name(header)
    return "*" in allowed or name in allowed or is_loopback(name)


async def send_error(send, status: int, message: str, kind: str) -> None:
    """Answer with gamelm's JSON error shape straight from ASGI middleware."""
    body = json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: the ``Host`` allow-list (every path but ``/health``), the bearer token
    (every path but ``open_paths`` and ``/static/``, the pages' own code and styles, the same
    for everyone and holding no data), and a cap on the request body (413 when it is larger,
    whatever Content-Length claims)."""

    def __init__(
        self,
        app,
        token: str | None,
        max_body: int,
        allowed_hosts: set[str] | None = None,
        open_paths: Iterable[str] = ("/health",),
    ) -> None:
        self.app, self.token, self.max_body = app, token, max_body
        self.allowed = allowed_hosts if allowed_hosts is not None else allowed_host_names()
        self.open_paths = frozenset(open_paths) | {"/health"}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host")
        if path != "/health" and host is not None:
            name = host.decode("latin-1")
            if not host_allowed(name, self.allowed):
                return await send_error(send, 421, self._foreign(name), "host_error")
        open_path = path in self.open_paths or path.startswith("/static/")
        if self.token and not open_path and not self._authorised(headers):
            return await send_error(send, 401, "A valid bearer token is required.", "auth_error")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await send_error(send, 413, self._too_big(), "request_too_large")
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
                return await send_error(send, 413, self._too_big(), "request_too_large")
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay():
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

    def _foreign(self, header: str) -> str:
        name = "".join(c for c in host_name(header) if c.isprintable())[:100]
        return (
            f"This server does not answer to the host name {name!r}; start it with "
            f"--allowed-host {name} (or add it to ${ALLOWED_HOSTS_ENV}) if that name is yours."
        )

    def _too_big(self) -> str:
        return f"The request body is larger than the limit of {self.max_body} bytes."

    def _authorised(self, headers: dict) -> bool:
        given = headers.get(b"authorization", b"").decode("latin-1")
        if not given.lower().startswith("bearer "):
            return False
        return hmac.compare_digest(given[7:].strip().encode(), self.token.encode())


class CatchCrashes:
    """ASGI middleware, outermost: an exception nobody handled is logged with its traceback
    (logger ``gamelm.web``) and answered 500 with `INTERNAL_ERROR`, which names no detail of
    the server (paths, values, library messages)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_error(send, 500, INTERNAL_ERROR, "server_error")
