"""A real uvicorn server on loopback for the serving tests, and a plain HTTP caller."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import contextmanager

from gamelm.web.server import BackgroundServer


@contextmanager
def live_server(app):
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    with BackgroundServer(app) as server:
        yield server.url


def call(
    url: str,
    method: str = "GET",
    body=None,
    token: str | None = None,
    raw: bytes | None = None,
):
    """``(status, parsed JSON or text)`` of one request."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text
