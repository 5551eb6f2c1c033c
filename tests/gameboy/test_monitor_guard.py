"""The Game Boy dashboard answers only loopback Host names (no DNS rebinding)."""

from fastapi.testclient import TestClient

from gamelm.gameboy.monitor import Monitor, create_monitor_app


def test_the_dashboard_refuses_a_foreign_host():
    client = TestClient(create_monitor_app(Monitor()))
    assert client.get("/api/status", headers={"host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/api/status", headers={"host": "localhost"}).status_code == 200
    refused = client.get("/api/status", headers={"host": "evil.example:8765"})
    assert refused.status_code == 421 and "evil.example" in refused.json()["error"]["message"]
