"""A bounded load test: 2,000 decisions from 16 concurrent clients, none lost."""

from __future__ import annotations

from tests.live_server import live_server

from gamelm.agents.registry import make_agent
from gamelm.bench.load import run_load
from gamelm.serving.app import create_app


def test_two_thousand_requests_from_sixteen_clients(capsys):
    app = create_app({"tag": make_agent("tag")}, token="load")
    with live_server(app) as url:
        result = run_load(url, requests=2000, clients=16, token="load")
    with capsys.disabled():
        print(f"\nload test (/v1/act, tag, 16 clients): {result.line()}")
    assert result.requests == 2000 and result.ok == 2000 and result.failed == 0
    assert result.latencies_ms.size == 2000
