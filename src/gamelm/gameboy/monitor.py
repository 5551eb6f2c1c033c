"""The live dashboard of a Game Boy run: the screen, reward curves, the latest LLM decision and
the run's statistics, on the same FastAPI/uvicorn stack and style sheet as the poker pages.

The training loop calls `Monitor.update`; the web app only reads, under a lock, so a slow
browser never slows the emulator. Routes:

* ``GET /`` - the page (``gameboy.html``), polling the two below;
* ``GET /api/status`` - statistics, the reward curves and the latest LLM decision (JSON);
* ``GET /api/screen.png`` - the current screen, 160x144 PNG;
* ``GET /health``; ``GET /static/{name}`` - the page's script and styles.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque

import numpy as np

from gamelm.web import STATIC
from gamelm.web.guard import Guard, allowed_host_names

CURVE_POINTS = 2_000


class Monitor:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._screen = np.zeros((144, 160, 3), np.uint8)
        self._png: bytes | None = None
        self.stats: dict = {}
        self.curve: deque = deque(maxlen=CURVE_POINTS)  # (actions, total, {term: total})
        self.decision: dict | None = None
        self.started = time.time()

    def update(self, screen_rgb=None, stats=None, point=None, decision=None) -> None:
        with self._lock:
            if screen_rgb is not None:
                self._screen, self._png = screen_rgb, None
            if stats is not None:
                self.stats = stats
            if point is not None:
                self.curve.append(point)
            if decision is not None:
                self.decision = decision

    def status(self) -> dict:
        with self._lock:
            points = list(self.curve)
            names = points[-1][2] if points else {}
            return {
                "stats": self.stats,
                "curve": {
                    "actions": [p[0] for p in points],
                    "total": [p[1] for p in points],
                    "terms": {k: [p[2][k] for p in points] for k in names},
                },
                "decision": self.decision,
                "uptime_s": round(time.time() - self.started, 1),
            }

    def png(self) -> bytes:
        from PIL import Image

        with self._lock:
            if self._png is None:
                buf = io.BytesIO()
                Image.fromarray(self._screen).save(buf, format="PNG")
                self._png = buf.getvalue()
            return self._png


def create_monitor_app(monitor: Monitor):  # -> fastapi.FastAPI
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import FileResponse, Response

    app = FastAPI(title="gamelm Game Boy dashboard", docs_url=None, redoc_url=None)
    # loopback Host names only: a page on another site cannot read the dashboard by pointing
    # its own name at 127.0.0.1 (DNS rebinding); it needs no token, as it binds loopback
    app.add_middleware(Guard, token=None, max_body=4096, allowed_hosts=allowed_host_names())

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/api/status")
    def status():
        return monitor.status()

    @app.get("/api/screen.png")
    def screen():
        headers = {"Cache-Control": "no-store"}
        return Response(monitor.png(), media_type="image/png", headers=headers)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "gameboy.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        path = (STATIC / name).resolve()
        if path.parent != STATIC.resolve() or not path.is_file():
            raise HTTPException(404, f"no static file {name!r}")
        return FileResponse(path)

    return app
