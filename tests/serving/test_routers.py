"""The app is made of one router per concern (`gamelm.serving.routes`): every route lives in
one of them, `create_app` only wires state and routers, the routes and their OpenAPI
description are those the API documents, and two apps share nothing."""

from __future__ import annotations

import inspect

from fastapi.routing import APIRoute
from tests.live_server import call, live_server

from gamelm.agents.registry import make_agent
from gamelm.serving import app as app_module
from gamelm.serving.app import create_app

ROUTES = {
    ("GET", "/health"): "decisions",
    ("GET", "/v1/agents"): "decisions",
    ("POST", "/v1/act"): "decisions",
    ("GET", "/v1/models"): "openai_compat",
    ("POST", "/v1/chat/completions"): "openai_compat",
    ("POST", "/v1/tables"): "tables",
    ("GET", "/v1/tables/{table_id}"): "tables",
    ("POST", "/v1/tables/{table_id}/act"): "tables",
    ("POST", "/v1/tables/{table_id}/next"): "tables",
    ("GET", "/v1/tables/{table_id}/hands"): "tables",
    ("GET", "/v1/tables/{table_id}/hands/{k}"): "tables",
    ("GET", "/v1/runs"): "runs",
    ("GET", "/v1/runs/{name}"): "runs",
    ("GET", "/v1/strategy"): "strategy",
    ("GET", "/"): "pages",
    ("GET", "/play"): "pages",
    ("GET", "/dashboard"): "pages",
    ("GET", "/strategy"): "pages",
    ("GET", "/static/{name}"): "pages",
}


def api_routes(routes) -> list[APIRoute]:
    """The API routes of an app, those of included routers too (newer FastAPI versions keep
    an included router whole, as one entry)."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):
            out += api_routes(route.original_router.routes)
    return out


def test_every_route_comes_from_its_router():
    app = create_app({"tag": make_agent("tag")})
    found = {}
    for route in api_routes(app.routes):
        for method in route.methods:
            assert (method, route.path) not in found, route.path
            found[(method, route.path)] = route.endpoint.__module__
    assert found == {k: f"gamelm.serving.routes.{v}" for k, v in ROUTES.items()}


def test_create_app_only_wires():
    lines = inspect.getsource(app_module.create_app).splitlines()
    assert len(lines) < 70, len(lines)
    assert "@app.get" not in "\n".join(lines) and "@app.post" not in "\n".join(lines)


def test_the_openapi_description_keeps_its_shape():
    """The shared state reaches the routes as a dependency: no client-visible parameter."""
    paths = create_app({"tag": make_agent("tag")}).openapi()["paths"]
    act = paths["/v1/act"]["post"]
    assert "parameters" not in act and "ActRequest" in str(act["requestBody"])
    strategy = [p["name"] for p in paths["/v1/strategy"]["get"]["parameters"]]
    assert strategy == ["agent", "position", "seats", "stack_bb"]
    run = [p["name"] for p in paths["/v1/runs/{name}"]["get"]["parameters"]]
    assert run == ["name", "since"]
    assert "/play" not in paths and "/static/{name}" not in paths


def test_two_apps_share_no_state():
    one = create_app({"tag": make_agent("tag")})
    two = create_app({"random": make_agent("random")})
    assert one.state.gamelm is not two.state.gamelm
    with live_server(one) as a, live_server(two) as b:
        status, view = call(a + "/v1/tables", "POST", {"seed": 1})
        assert status == 201, view
        assert call(a + f"/v1/tables/{view['table_id']}")[0] == 200
        assert call(b + f"/v1/tables/{view['table_id']}")[0] == 404
        assert call(b + "/v1/agents")[1]["default"] == "random"
