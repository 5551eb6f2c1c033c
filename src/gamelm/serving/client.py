"""A Python handle on the server: start it in-process, or talk to one already running.

>>> api = PokerAPI(agent="tag").start(port=0, background=True)   # doctest: +SKIP
>>> api.act(seats=2, button=0, blinds=[1, 2], stacks=[200, 200], hero=0,
...         hole_cards="AsKd")["action"]                         # doctest: +SKIP
>>> api.stop()                                                   # doctest: +SKIP

``PokerAPI(model_path="model.safetensors").start(port=8000)`` serves an exported model and
blocks, like ``gamelm serve``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from gamelm import load_agent
from gamelm.web.guard import check_exposure


class PokerAPI:
    """Serve one agent (``model_path``: an exported file or model directory; or ``agent``: any
    agent spec) over HTTP, and call the API from Python. A ``host`` other than loopback needs a
    ``token`` unless ``allow_no_token`` (`gamelm.web.guard.check_exposure`)."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        agent: str | None = None,
        host: str = "127.0.0.1",
        token: str | None = None,
        url: str | None = None,
        allow_no_token: bool = False,
    ) -> None:
        if url is None and (model_path is None) == (agent is None):
            raise ValueError("give model_path or agent (or url= for a running server)")
        self.source = str(model_path) if model_path is not None else agent
        self.host, self.token, self.allow_no_token = host, token, allow_no_token
        self.url = url.rstrip("/") if url else None
        self._server = None

    def app(self):
        """The FastAPI app serving the agent."""
        from gamelm.serving.app import create_app

        check_exposure(self.host, self.token, self.allow_no_token)  # before loading a model
        agent = load_agent(self.source)
        return create_app(
            {getattr(agent, "name", self.source): agent},
            token=self.token,
            host=self.host,
            allow_no_token=self.allow_no_token,
        )

    def start(self, port: int = 8000, background: bool = False) -> PokerAPI:
        """Run the server on ``port`` (0: any free port). In the foreground it blocks until
        interrupted; with ``background`` it returns once the server answers."""
        import uvicorn

        from gamelm.web.server import BackgroundServer

        if not background:
            self.url = f"http://{self.host}:{port}"
            uvicorn.Server(
                uvicorn.Config(self.app(), host=self.host, port=port, log_level="warning")
            ).run()
            return self
        try:
            self._server = BackgroundServer(self.app(), self.host, port).start()
        except OSError as exc:
            raise RuntimeError(f"the server did not start on {self.host}:{port} ({exc})") from None
        self.url = self._server.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    # -- calls ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        """One call; an error answer raises ``RuntimeError`` with the server's sentence."""
        if self.url is None:
            raise RuntimeError("start the server first, or give url=")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = str(exc)
            raise RuntimeError(f"{exc.code}: {message}") from None

    def act(self, **state) -> dict:
        """``POST /v1/act`` with a state (or ``phh=...``)."""
        return self.request("POST", "/v1/act", state)

    def health(self) -> dict:
        return self.request("GET", "/health")
