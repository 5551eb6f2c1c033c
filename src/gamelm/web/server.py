"""Serving an app from a thread of the current process (the Game Boy dashboard beside its
training loop; the tests' live servers)."""

from __future__ import annotations

import threading
import time

import uvicorn


class BackgroundServer:
    """``server = BackgroundServer(app, port=8765).start()``; ``server.url``; ``server.stop()``.
    Port 0 takes a free port."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        # log_config=None: a server in a thread leaves the process's logging as it found it (uvicorn
        # would otherwise bind handlers to the sys.stderr of the moment)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.host = host
        self.url: str | None = None

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise OSError(f"cannot serve on {self.host}:{self.server.config.port}")
            if time.monotonic() > deadline:
                raise OSError("the web server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
