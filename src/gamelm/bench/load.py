"""A bounded load test of ``POST /v1/act``: ``clients`` threads, each on its own keep-alive
connection, send ``requests`` decisions in all; every answer is checked. Used by the test suite
and by ``benchmarks/serve_load.py``."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

BODY = {
    "seats": 6, "button": 5, "blinds": [1, 2], "stacks": [200] * 6, "hero": 0,
    "hole_cards": "AsKd", "board": "",
    "actions": [{"action": "fold"}, {"action": "raise", "to": 6}, {"action": "fold"},
                {"action": "fold"}],
}  # fmt: skip


@dataclass(frozen=True)
class LoadResult:
    requests: int
    ok: int
    failed: int
    seconds: float
    latencies_ms: np.ndarray

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))

    def line(self) -> str:
        return (
            f"{self.ok:,}/{self.requests:,} answered, {self.failed} lost or failed, "
            f"{self.per_second:,.0f} requests/s, latency p50 {self.percentile(50):.1f} ms, "
            f"p99 {self.percentile(99):.1f} ms"
        )


def run_load(url: str, requests: int = 2000, clients: int = 16, token: str | None = None,
             body: dict | None = None) -> LoadResult:  # fmt: skip
    """Send ``requests`` decisions from ``clients`` concurrent connections."""
    parts = urlsplit(url)
    payload = json.dumps(body or BODY).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    counts = [requests // clients + (k < requests % clients) for k in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        for _ in range(counts[k]):
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/act", payload, headers)
                resp = conn.getresponse()
                data = json.loads(resp.read())
                good = resp.status == 200 and data["action"] in data["legal_actions"]
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                good = False
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            if good:
                latencies[k].append((time.perf_counter() - start) * 1000)
            else:
                failures[k] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    lat = np.array([x for xs in latencies for x in xs])
    return LoadResult(requests, int(lat.size), sum(failures), seconds, lat)
