"""The HTTP API against a real uvicorn server on loopback: every route, with and without the
token, and each kind of bad input answered with a 4xx and one sentence."""

from __future__ import annotations

import numpy as np
import pytest
from tests.live_server import call, live_server

from gamelm.agents.registry import make_agent
from gamelm.poker import history
from gamelm.serving.app import create_app

TOKEN = "s3cret-token"
STATE = {
    "seats": 6,
    "button": 5,
    "blinds": [1, 2],
    "stacks": [200] * 6,
    "hero": 0,
    "hole_cards": "AsKd",
    "board": "",
    "actions": [
        {"action": "fold"},
        {"action": "raise", "to": 6, "seat": 3},
        {"action": "fold"},
        {"action": "fold"},
    ],
}
MENU = ["fold", "check/call", "raise 0.5 pot", "raise 1 pot", "all-in"]


@pytest.fixture(scope="module")
def server():
    app = create_app({"tag": make_agent("tag"), "random": make_agent("random")}, token=TOKEN)
    with live_server(app) as url:
        yield url


def one_sentence(body) -> str:
    message = body["error"]["message"]
    assert "\n" not in message and message.endswith(".") and len(message) < 300, message
    assert "Traceback" not in message
    return message


def test_health_is_open_and_everything_else_needs_the_token(server):
    assert call(server + "/health") == (200, {"status": "ok", "agents": ["tag", "random"]})
    for path in ("/v1/agents", "/v1/models", "/v1/runs", "/v1/strategy"):
        status, body = call(server + path)
        assert status == 401 and "token" in one_sentence(body)
        assert call(server + path, token="wrong")[0] == 401
        assert call(server + path, token=TOKEN)[0] == 200
    # only the Authorization header: a token in the URL ends up in logs and browser history
    assert call(server + f"/v1/agents?token={TOKEN}")[0] == 401
    assert call(server + "/v1/act", "POST", STATE)[0] == 401
    for path in ("/", "/play", "/static/play.js"):  # the pages and their code hold no data
        assert call(server + path)[0] == 200


def test_no_token_means_open():
    with live_server(create_app({"tag": make_agent("tag")})) as url:
        assert call(url + "/v1/agents")[0] == 200
        assert call(url + "/v1/act", "POST", STATE)[0] == 200


def test_act_on_a_json_state(server):
    status, body = call(server + "/v1/act", "POST", {**STATE, "agent": "random", "seed": 3}, TOKEN)
    assert status == 200, body
    legal = body["legal_actions"]
    assert [a["action"] for a in legal] == ["fold", "call", "raise", "raise", "all-in"]
    assert legal[1]["chips"] == 5 and legal[1]["to"] == 6 and legal[-1]["to"] == 200
    assert body["hero"] == 0 and all(a["seat"] == 0 for a in legal)
    assert body["action"] in legal
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
    assert body["probabilities_exact"] is True  # the random agent has a policy: uniform
    assert list(body["probabilities"]) == MENU
    assert list(body["probabilities"].values()) == pytest.approx([0.2] * 5)
    again = call(server + "/v1/act", "POST", {**STATE, "agent": "random", "seed": 3}, TOKEN)[1]
    assert again["action"] == body["action"]  # a seed makes the answer reproducible
    status, tag = call(server + "/v1/act", "POST", STATE, TOKEN)  # the default agent: tag
    assert tag["agent"] == "tag" and tag["probabilities_exact"] is False
    assert tag["action"]["action"] == "raise"  # AKs 3-bets a single raise


def test_act_postflop_and_the_same_spot_as_phh(server):
    state = {
        "seats": 2,
        "button": 1,
        "blinds": [1, 2],
        "stacks": [100, 150],
        "hero": 1,
        "hole_cards": "QhQd",
        "board": "Kh7d2c",
        "actions": [{"action": "call"}, {"action": "check"}, {"action": "bet", "to": 4}],
    }
    status, body = call(server + "/v1/act", "POST", state, TOKEN)
    assert status == 200, body
    # PHH players are in gamelm's order: heads-up p1 is the big blind (client seat 0 here) and
    # p2 the button; the big blind bets the flop, and the button (the hero) is to act
    phh = (
        'variant = "NT"\nantes = [0, 0]\nblinds_or_straddles = [2, 1]\nmin_bet = 2\n'
        "starting_stacks = [100, 150]\n"
        'actions = ["d dh p1 ????", "d dh p2 QhQd", "p2 cc", "p1 cc", "d db Kh7d2c", '
        '"p1 cbr 4"]\n'
    )
    status, from_phh = call(server + "/v1/act", "POST", {"phh": phh}, TOKEN)
    assert status == 200, from_phh
    assert [a["action"] for a in body["legal_actions"]] == [
        "fold",
        "call",
        "raise",
        "raise",
        "all-in",
    ]
    assert body["legal_actions"][1]["chips"] == 4
    assert [(a["id"], a["to"]) for a in from_phh["legal_actions"]] == [
        (a["id"], a["to"]) for a in body["legal_actions"]
    ]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"hole_cards": "AsXx"}, 422, "bad card"),
        ({"hole_cards": "AsAs"}, 422, "duplicate"),
        ({"board": "AsQc2d", "actions": STATE["actions"]}, 422, "twice"),
        ({"hole_cards": "AsK"}, 422, "hole cards"),
        ({"actions": [{"action": "fold"}, {"action": "raise", "to": 3}]}, 422, "minimum raise"),
        ({"actions": [{"action": "fold"}, {"action": "raise", "to": 999}]}, 422, "more than"),
        ({"actions": [{"action": "check"}]}, 422, "cannot check"),
        ({"actions": [{"action": "call", "seat": 4}]}, 422, "out of turn"),
        ({"actions": [{"action": "jump"}]}, 422, "should be"),
        ({"actions": [{"action": "raise"}]}, 422, "needs 'to'"),
        ({"actions": []}, 422, "not the hero"),
        ({"actions": [{"action": "fold"}] * 5}, 422, "hand is over"),
        ({"board": "Kh7d2c"}, 422, "board must hold 0"),
        ({"stacks": [200] * 5}, 422, "one stack per seat"),
        ({"blinds": [2, 1]}, 422, "blinds"),
        ({"seats": 11}, 422, "seats"),
        ({"hero": None}, 422, "hero"),
        ({"phh": "x = 1"}, 422, "not both"),
        ({"agent": "nobody"}, 404, "no agent named"),
        ({"extra_field": 1}, 422, "extra_field"),
    ],
)
def test_bad_states_get_one_sentence(server, change, status, words):
    body = {k: v for k, v in {**STATE, **change}.items() if v is not None}
    got, answer = call(server + "/v1/act", "POST", body, TOKEN)
    assert got == status, answer
    assert words in one_sentence(answer)


@pytest.mark.parametrize(
    ("phh", "words"),
    [
        ("not toml at all [", "bad PHH"),
        (
            'variant = "FT"\nstarting_stacks = [1, 2]\nblinds_or_straddles = [1, 2]\nactions = []',
            "NT",
        ),
        (
            'variant = "NT"\nstarting_stacks = [100, 100]\nblinds_or_straddles = [1, 2]\n'
            'actions = ["d dh p1 ????", "d dh p2 ????"]',
            "no known hole cards",
        ),
    ],
)
def test_bad_phh(server, phh, words):
    status, answer = call(server + "/v1/act", "POST", {"phh": phh}, TOKEN)
    assert status == 422 and words in one_sentence(answer)


def test_malformed_bodies_sizes_routes_and_methods(server):
    status, body = call(server + "/v1/act", "POST", token=TOKEN, raw=b'{"seats": 2,')
    assert status == 400 and "not valid JSON" in one_sentence(body)
    status, body = call(server + "/v1/act", "POST", token=TOKEN, raw=b"[1, 2]")
    assert status == 422 and one_sentence(body)
    status, body = call(server + "/v1/act", "POST", token=TOKEN, raw=b"x" * 300_000)
    assert status == 413 and "limit" in one_sentence(body)
    assert call(server + "/v1/nothing", token=TOKEN)[0] == 404
    status, body = call(server + "/v1/act", "GET", token=TOKEN)
    assert status == 405 and one_sentence(body)


def test_body_limit_without_content_length(server):
    """A chunked body declares no length: the server counts what arrives."""
    import http.client

    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", "/v1/act")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b"x" * 65536
    try:
        for _ in range(5):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except OSError:  # the server may answer and close before the whole body is sent
        pass
    assert conn.getresponse().status == 413
    conn.close()


def test_agents_and_models(server):
    status, body = call(server + "/v1/agents", token=TOKEN)
    assert status == 200 and body["default"] == "tag"
    assert [a["name"] for a in body["agents"]] == ["tag", "random"]
    assert body["agents"][0]["menu"] == MENU
    status, body = call(server + "/v1/models", token=TOKEN)
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["tag", "random"]


def test_a_human_plays_hands_and_gets_phh(server):
    status, view = call(
        server + "/v1/tables", "POST", {"agent": "random", "seats": 3, "seed": 5}, TOKEN
    )
    assert status == 201, view
    table = server + f"/v1/tables/{view['table_id']}"
    assert call(table, token=TOKEN) == (200, view)
    rng = np.random.default_rng(0)
    played = 0
    for _ in range(300):
        if view["hand_over"]:
            assert view["result"] is not None and view["legal_actions"] == []
            status, err = call(table + "/act", "POST", {"action": "call"}, TOKEN)
            assert status == 409 and "over" in one_sentence(err)
            played += 1
            if played == 6:
                break
            status, view = call(table + "/next", "POST", token=TOKEN)
            assert status == 200
            continue
        assert view["to_act"] == 0 and len(view["hero"]["cards"]) == 2
        assert all(s["cards"] == [] for s in view["seats"][1:])
        if any(a["action"] == "raise" for a in view["legal_actions"]):
            status, err = call(table + "/act", "POST", {"action": "raise", "to": 1}, TOKEN)
            assert status == 422 and "minimum raise" in one_sentence(err)
        choice = view["legal_actions"][rng.integers(len(view["legal_actions"]))]
        status, view = call(
            table + "/act", "POST", {"action": choice["action"], "to": choice["to"]}, TOKEN
        )
        assert status == 200, view
    assert played == 6
    status, err = call(table + "/next", "POST", token=TOKEN)
    status, hands = call(table + "/hands", token=TOKEN)
    assert status == 200 and len(hands["hands"]) >= 6
    total = 0
    for k, text in enumerate(hands["hands"][:6]):
        assert call(table + f"/hands/{k}", token=TOKEN) == (200, text)
        record = history.loads(text)
        final = history.replay(record)
        assert list(final.stacks) == record.finishing_stacks  # the PHH replays to its result
        button = (k + 1) % 3  # hand k+1; the human (client seat 0) sits at gamelm (0 - b - 1) % 3
        total += final.payoffs[(0 - button - 1) % 3]
    assert view["session_total"] == total
    assert call(table + "/hands/99", token=TOKEN)[0] == 404
    assert call(server + "/v1/tables/nope", token=TOKEN)[0] == 404
    status, err = call(server + "/v1/tables", "POST", {"seats": 2, "human_seat": 5}, TOKEN)
    assert status == 422 and one_sentence(err)


def test_strategy_grid(server):
    status, grid = call(server + "/v1/strategy?agent=tag&position=BTN&seats=6", token=TOKEN)
    assert status == 200 and len(grid["classes"]) == 169 and grid["classes"][0] == "AA"
    total = np.array(grid["fold"]) + np.array(grid["call"]) + np.array(grid["raise"])
    assert np.allclose(total, 1, atol=1e-3)
    assert grid["raise"][0] == 1.0 and grid["fold"][grid["classes"].index("32o")] == 1.0
    status, err = call(server + "/v1/strategy?position=XYZ", token=TOKEN)
    assert status == 422 and "not a position" in one_sentence(err)


def test_pages_are_served(server):
    pages = {
        "/": "gamelm server",
        "/play": "Play against a bot",
        "/dashboard": "Training dashboard",
        "/strategy": "Preflop strategy",
    }
    for path, marker in pages.items():
        status, html = call(server + path)
        assert status == 200 and marker in html
    for name in ("common.js", "play.js", "dashboard.js", "strategy.js", "style.css"):
        assert call(server + f"/static/{name}")[0] == 200
    assert call(server + "/static/..%2Fapp.py")[0] == 404


ASK = [{"role": "user", "content": "x"}]
PHH_HEAD = 'variant = "NT"\nactions = []\n'
ONE_PLAYER = PHH_HEAD + "starting_stacks = [100]\nblinds_or_straddles = [1]"
TEXT_STACK = PHH_HEAD + 'starting_stacks = ["x", 1]\nblinds_or_straddles = [1, 2]'


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/v1/act", {**STATE, "stacks": [10**30] + [200] * 5}, "stacks"),
        ("/v1/act", {**STATE, "stacks": [10**9] * 6}, "add up to at most"),
        ("/v1/tables", {"seats": 10, "stack": 10**9}, "add up to at most"),
        ("/v1/chat/completions", {"model": "tag", "seed": -1, "messages": ASK}, "seed"),
        (
            "/v1/chat/completions",
            {"model": "tag", "temperature": "x", "messages": ASK},
            "temperature",
        ),
        ("/v1/act", {"phh": ONE_PLAYER}, "bad PHH"),
        ("/v1/act", {"phh": TEXT_STACK}, "whole numbers"),
    ],
)
def test_out_of_range_numbers_are_refused(server, path, body, words):
    status, answer = call(server + path, "POST", body, TOKEN)
    assert status in (400, 422), answer
    assert words in one_sentence(answer)
