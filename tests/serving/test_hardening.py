"""Client input never makes the server crash (each probe gets a 4xx and one sentence), a NaN in
the run registry is served as null, and the network edge: the Host allow-list (DNS
rebinding), the token in the header only, a non-loopback bind without a token refused, and a
500 that names no detail."""

from __future__ import annotations

import http.client
import json
import logging

import numpy as np
import pytest
from tests.live_server import call, live_server

from gamelm.agents.observation import prompt
from gamelm.agents.registry import make_agent
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.runs.registry import Registry
from gamelm.serving.app import create_app
from gamelm.serving.client import PokerAPI
from gamelm.serving.state_parsing import observation_of, spot_from_json
from gamelm.web.guard import ExposureError, check_exposure, host_allowed, host_name

TOKEN = "hardening-token"
STATE = {
    "seats": 2,
    "button": 1,
    "blinds": [1, 2],
    "stacks": [100, 150],
    "hero": 1,
    "hole_cards": "QhQd",
    "board": "Kh7d2c",
    "actions": [{"action": "call"}, {"action": "check"}, {"action": "bet", "to": 4}],
}
PROMPT = prompt(observation_of(spot_from_json(**STATE).state, ActionAbstraction((0.5, 1.0))), 0)
SECRET = "/very/secret/path/model.bin"


class Crashing:
    """An agent with a bug: its exception names a path the client must never see."""

    name = "crashing"

    def act(self, obs, rng):
        raise RuntimeError(f"cannot open {SECRET}")


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    reg = Registry(root)
    reg.start("short", str(root / "short"), {"lr": 0.001, "clip": float("inf")})
    reg.log("short", 1, {"losses/policy": 0.5, "losses/value": float("inf")})
    reg.finish("short", "done", {"af": float("nan"), "bb_per_100": 3.5, "best": [1.0, -np.inf]})
    reg.start("fine", str(root / "fine"), {"lr": 0.01})
    reg.finish("fine", "done", {"af": 2.0})
    return root


@pytest.fixture(scope="module")
def server(runs_dir):
    agents = {"tag": make_agent("tag"), "crashing": Crashing()}
    with live_server(create_app(agents, token=TOKEN, runs_dir=runs_dir)) as url:
        yield url


def one_sentence(body) -> str:
    message = body["error"]["message"]
    assert "\n" not in message and message.endswith(".") and len(message) < 300, message
    assert "Traceback" not in message
    return message


def phh(stacks: str = "[100, 100]", blinds: str = "[1, 2]", extra: str = "") -> str:
    return (
        f'variant = "NT"\nblinds_or_straddles = {blinds}\nstarting_stacks = {stacks}\n{extra}'
        'actions = ["d dh p1 AsAh", "d dh p2 KsKd"]\n'
    )


# -- 2. no 500 from client input -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('variant = "NT"\nx = ' + "[" * 5000 + "]" * 5000, "nest too deeply"),
        ('variant = "NT"\nx = ' + "{a=" * 3000 + "1" + "}" * 3000, "nest too deeply"),
        (phh("[inf, 100]"), "whole numbers of chips, got inf"),
        (phh("[nan, 100]"), "whole numbers of chips, got nan"),
        (phh("[100, 100]", "[1, inf]"), "whole numbers of chips, got inf"),
        (phh("[100, 100]", extra="antes = [-inf, -inf]\n"), "whole numbers of chips"),
        (phh("[1e300, 100]"), "add up to at most"),
        (phh("[100, 100]", "[1, 1e12]"), "blinds and antes must be at most"),
        (phh("[100, 100]", "[1, 99999999999999999999]"), "blinds and antes must be at most"),
        (phh("[100, 100]", extra="antes = [1e12, 1e12]\n"), "blinds and antes must be at most"),
        (phh("[100.7, 100]"), "whole numbers of chips, got 100.7"),
        (phh("[" + "9" * 5000 + ", 100]"), "too many digits"),
        (phh().replace('KsKd"]', 'KsKd", "p2 cbr 1e999"]'), "whole number of chips"),
        (phh().replace('KsKd"]', 'KsKd", "p0 cc"]'), "names no player"),
    ],
)
def test_bad_phh_numbers_and_nesting_get_a_4xx(server, text, words):
    status, answer = call(server + "/v1/act", "POST", {"phh": text}, TOKEN)
    assert status == 422, answer
    assert words in one_sentence(answer)


def test_whole_float_stacks_in_phh_are_played(server):
    text = phh("[100.0, 100.0]", "[1.0, 2.0]")
    status, answer = call(server + "/v1/act", "POST", {"phh": text}, TOKEN)
    assert status == 200, answer
    as_ints = call(server + "/v1/act", "POST", {"phh": phh()}, TOKEN)[1]
    assert answer["legal_actions"] == as_ints["legal_actions"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"blinds": [1, 2**31]}, "blinds and antes must be at most"),
        ({"ante": 10**30}, "blinds and antes must be at most"),
    ],
)
def test_huge_blinds_and_antes_in_a_json_state(server, change, words):
    status, answer = call(server + "/v1/act", "POST", {**STATE, **change}, TOKEN)
    assert status == 422, answer
    assert words in one_sentence(answer)


def _ask(server, text: str, model: str = "tag"):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return call(server + "/v1/chat/completions", "POST", body, TOKEN)


BIG = "9" * 40


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("Your stack: ", "Your stack: " + BIG, "Your stack"),
        ("To call: ", "To call: " + BIG, "To call"),
        ("Pot size: ", "Pot size: " + BIG, "Pot size"),
        ("Raise to ", "Raise to " + BIG, "a listed raise"),
        (" behind)", "0" * 30 + " behind)", "the stack of"),
        ("small blind 1", "small blind 1" + "0" * 30, "the small blind"),
        ("small blind 1", "small blind 0", "0 < small blind"),
        ("heads-up", "9" * 5000 + "-handed", "how many players"),
        ("heads-up", "100-handed", "a table has"),
        ("(Kh 7d 2c)", "(Kh 7d Xx)", "bad card 'Xx'"),
        ("(Kh 7d 2c)", "(Kh Kh 2c)", "action history"),
        ("1 pot.", "1.2.3 pot.", "action history"),
        ("Your hole cards: Qh Qd", "Your hole cards: Kh Qd", "the card Kh appears twice"),
    ],
)
def test_chat_prompts_with_bad_numbers_or_cards_get_a_400(server, old, new, words):
    text = PROMPT.replace(old, new, 1)
    assert text != PROMPT, old
    status, answer = _ask(server, text)
    assert status == 400, answer
    assert words in one_sentence(answer)


def test_the_chat_prompt_and_act_refuse_the_same_card_twice(server):
    """The same card in the hand and on the board: /v1/act says so, and so does the chat."""
    status, answer = call(server + "/v1/act", "POST", {**STATE, "hole_cards": "KhQd"}, TOKEN)
    assert status == 422 and "the card Kh appears twice" in one_sentence(answer)
    status, answer = _ask(
        server, PROMPT.replace("Your hole cards: Qh Qd", "Your hole cards: Kh Qd")
    )
    assert status == 400 and "the card Kh appears twice" in one_sentence(answer)
    assert _ask(server, PROMPT)[0] == 200  # the prompt itself is fine


# -- 3. NaN in the run registry ------------------------------------------------------------------
def test_nan_in_a_run_summary_is_served_as_null(server):
    status, body = call(server + "/v1/runs", token=TOKEN)
    assert status == 200, body
    runs = {r["name"]: r for r in body["runs"]}
    assert runs["short"]["summary"] == {"af": None, "bb_per_100": 3.5, "best": [1.0, None]}
    assert runs["fine"]["summary"] == {"af": 2.0}  # one bad run does not hide the others
    status, run = call(server + "/v1/runs/short", token=TOKEN)
    assert status == 200, run
    assert run["summary"]["af"] is None and run["config"] == {"lr": 0.001, "clip": None}
    assert run["metrics"]["losses/policy"] == [[1, 0.5]]
    assert run["metrics"]["losses/value"] == [[1, None]]


# -- 4. the network edge ---------------------------------------------------------------------------
def raw_get(url: str, path: str, host: str | None, token: str | None = TOKEN):
    """``(status, JSON body)`` of a GET with a ``Host`` header of our choosing."""
    hostname, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(hostname, int(port), timeout=30)
    conn.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    if token:
        conn.putheader("Authorization", f"Bearer {token}")
    conn.endheaders()
    resp = conn.getresponse()
    status, text = resp.status, resp.read().decode()
    conn.close()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused(server, host):
    """DNS rebinding: a page of evil.example whose name now points at this server sends its own
    name as Host; it must not read /v1/runs (which names absolute paths)."""
    status, body = raw_get(server, "/v1/runs", host)
    assert status == 421 and "host name" in one_sentence(body)
    assert "runs" not in body
    assert raw_get(server, "/", host, token=None)[0] == 421  # the pages too
    assert raw_get(server, "/health", host, token=None)[0] == 200  # liveness probes use IPs


@pytest.mark.parametrize("host", ["localhost:1234", "127.0.0.1", "[::1]:80", "LOCALHOST"])
def test_loopback_host_names_are_answered(server, host):
    assert raw_get(server, "/v1/runs", host)[0] == 200


def test_configured_host_names_are_answered(runs_dir, monkeypatch):
    monkeypatch.setenv("GAMELM_ALLOWED_HOSTS", "poker.example.org, 10.0.0.5")
    app = create_app({"tag": make_agent("tag")}, token=TOKEN, allowed_hosts=["api.example.org"])
    with live_server(app) as url:
        for host in ("poker.example.org", "10.0.0.5:8000", "api.example.org:443"):
            assert raw_get(url, "/v1/agents", host)[0] == 200, host
        assert raw_get(url, "/v1/agents", "other.example.org")[0] == 421
    monkeypatch.setenv("GAMELM_ALLOWED_HOSTS", "*")
    with live_server(create_app({"tag": make_agent("tag")}, token=TOKEN)) as url:
        assert raw_get(url, "/v1/agents", "anything.example")[0] == 200


def test_host_header_parsing():
    assert host_name("Example.ORG:8000") == "example.org"
    assert host_name("[::1]:8000") == "::1" and host_name("example.org.") == "example.org"
    assert host_allowed("127.0.0.2", set()) and host_allowed("a.localhost:5", set())
    assert not host_allowed("localhost.evil.example", set())
    assert not host_allowed("example.org:80:80", {"example.org"})


def test_the_token_is_taken_from_the_header_only(server):
    assert call(server + f"/v1/runs?token={TOKEN}")[0] == 401
    assert call(server + f"/v1/agents?access_token={TOKEN}")[0] == 401
    assert call(server + "/v1/runs", token=TOKEN)[0] == 200


def test_a_crash_answers_500_without_its_details(server, caplog):
    with caplog.at_level(logging.ERROR, logger="gamelm.web"):
        status, body = call(server + "/v1/act", "POST", {**STATE, "agent": "crashing"}, TOKEN)
    assert status == 500
    message = one_sentence(body)
    assert message.startswith("internal error") and body["error"]["type"] == "server_error"
    assert SECRET not in json.dumps(body) and "RuntimeError" not in json.dumps(body)
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "POST /v1/act" in logged and SECRET in logged  # the log has the traceback


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org", ""])
def test_a_network_address_needs_a_token(host):
    with pytest.raises(ExposureError, match="without a bearer token"):
        check_exposure(host, None)
    with pytest.raises(ValueError, match="GAMELM_API_TOKEN"):
        create_app({"tag": make_agent("tag")}, host=host)
    check_exposure(host, "a-token")
    check_exposure(host, None, allow_no_token=True)
    create_app({"tag": make_agent("tag")}, host=host, allow_no_token=True)
    with pytest.raises(ExposureError):
        PokerAPI(agent="tag", host=host).app()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_loopback_needs_no_token(host):
    check_exposure(host, None)
    create_app({"tag": make_agent("tag")}, host=host)


def test_the_bound_host_is_answered():
    app = create_app({"tag": make_agent("tag")}, token=TOKEN, host="10.1.2.3")
    with live_server(app) as url:
        assert raw_get(url, "/v1/agents", "10.1.2.3:8000")[0] == 200
        assert raw_get(url, "/v1/agents", "10.1.2.4:8000")[0] == 421


def test_pages_and_the_api_reference_need_no_token_but_the_data_does(server):
    """A browser cannot send the header when it opens a page: the pages, their code and the
    API reference hold no data and are open; every route with data needs the token."""
    for path in ("/", "/play", "/dashboard", "/strategy", "/static/common.js", "/docs"):
        assert call(server + path)[0] == 200, path
    status, schema = call(server + "/openapi.json")
    assert status == 200 and "/v1/act" in schema["paths"]
    for path in ("/v1/agents", "/v1/models", "/v1/runs", "/v1/runs/short", "/v1/strategy"):
        assert call(server + path)[0] == 401, path
    assert call(server + "/v1/tables", "POST", {})[0] == 401


def test_every_json_answer_writes_nan_as_null():
    from gamelm.serving.app import FiniteJSONResponse

    body = FiniteJSONResponse({"a": float("nan"), "b": [1.5, float("-inf")], "c": "x"}).body
    assert json.loads(body) == {"a": None, "b": [1.5, None], "c": "x"}
