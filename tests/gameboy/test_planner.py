"""The LLM planner: strict parsing, and the chat client against a real loopback server
(answers, timeouts, HTTP errors, an unreachable port)."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.openai_server import LoopbackLM

from gamelm.chat_client import ChatClient, ChatError
from gamelm.gameboy.env import BUTTONS
from gamelm.gameboy.planner import LLMPlanner, Plan, PlanError, describe, parse_plan

NO_MENUS = ("a", "b", "up", "down", "left", "right")


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        (
            '{"buttons": ["up", "up", "a"], "reason": "talk to Mom"}',
            Plan(("up", "up", "a"), "talk to Mom"),
        ),
        ('```json\n{"buttons": ["Right"]}\n```', Plan(("right",), "")),
        ("  a \n", Plan(("a",), "")),
        ("B", Plan(("b",), "")),
    ],
)
def test_parse_valid(text, plan):
    assert parse_plan(text) == plan


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("I think you should press A", "neither a JSON object nor a button"),
        ('{"buttons": ["a"], "why": "x"}', '"buttons" and "reason" only'),
        ('["a", "b"]', '"buttons" and "reason" only'),
        ('{"buttons": "a"}', "must be a list"),
        ('{"buttons": []}', "1 to 8 buttons, not 0"),
        ('{"buttons": ["a","a","a","a","a","a","a","a","a"]}', "1 to 8 buttons, not 9"),
        ('{"buttons": ["jump"]}', "'jump' is not a button"),
        ('{"buttons": ["a"], "reason": 3}', '"reason" must be text'),
    ],
)
def test_parse_rejects(text, error):
    with pytest.raises(PlanError, match=error):
        parse_plan(text)


def test_forbidden_buttons_are_rejected():
    with pytest.raises(PlanError, match="'start' is not allowed now"):
        parse_plan('{"buttons": ["up", "start"]}', NO_MENUS)
    with pytest.raises(PlanError, match="not allowed"):
        parse_plan("select", NO_MENUS)


def test_describe_crystal_and_screen_states():
    state = {"map_name": "Elm's Lab", "x": 4, "y": 3, "party_levels": [5], "party_hp": [18],
             "party_max_hp": [20], "badges": 0, "money": 3000, "battle_mode": 0,
             "got_starter": True}  # fmt: skip
    text = describe(state, BUTTONS, ["up", "a"], "no reward for 500 actions")
    assert "Location: Elm's Lab, x=4, y=3" in text and "level 5 (18/20 HP)" in text
    assert "Last buttons: up a" in text and "stuck: no reward for 500 actions" in text
    assert "Screen id: abc" in describe({"screen": "abc"}, NO_MENUS, [], None)


def test_client_and_planner_against_a_loopback_server():
    answers = iter(['{"buttons": ["down", "a"], "reason": "go"}', "press start please"])
    with LoopbackLM(lambda messages: next(answers), model="tiny") as lm:
        planner = LLMPlanner(ChatClient(lm.url, "tiny", timeout=5))
        ok = planner.ask({"screen": "s"}, NO_MENUS, [], None)
        assert ok.plan == Plan(("down", "a"), "go") and ok.error is None
        bad = planner.ask({"screen": "s"}, NO_MENUS, [], None)
        assert bad.plan is None and "neither a JSON object" in bad.error
        assert bad.answer == "press start please"
        request = lm.requests[0]
        assert request["model"] == "tiny" and request["messages"][0]["role"] == "system"
        assert "Allowed buttons: a, b, up, down, left, right" in request["messages"][1]["content"]


def test_client_errors():
    release = threading.Event()

    def slow(messages):
        release.wait(5)
        return "a"

    with LoopbackLM(slow) as lm:
        with pytest.raises(ChatError, match=r"did not answer within 0\.2 s"):
            ChatClient(lm.url, "m", timeout=0.2).complete([{"role": "user", "content": "x"}])
        release.set()

    class Unavailable(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_error(503)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        with pytest.raises(ChatError, match="answered HTTP 503"):
            ChatClient(url, "m", timeout=5).complete([])
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ChatError, match="is not an http"):
        ChatClient("notaurl", "m").complete([])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ChatError, match="cannot reach"):
        ChatClient(f"http://127.0.0.1:{port}/v1", "m", timeout=2).complete([])
    decision = LLMPlanner(ChatClient(f"http://127.0.0.1:{port}/v1", "m", timeout=2)).ask(
        {"screen": "s"}, BUTTONS, [], None
    )
    assert decision.plan is None and "cannot reach" in decision.error


def garbage_server(reply: bytes):
    """A TCP server that answers every connection with ``reply`` and hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


@pytest.mark.parametrize(
    "reply",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n",  # not HTTP at all
        b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"choices"',  # cut short
        b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nnot js!",  # not JSON
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",  # no message
    ],
)
def test_broken_replies_are_chat_errors(reply):
    listener, url = garbage_server(reply)
    try:
        with pytest.raises(ChatError) as info:
            ChatClient(url, "m", timeout=5).complete([])
        assert info.value.kind == "bad_reply"
        decision = LLMPlanner(ChatClient(url, "m", timeout=5)).ask(
            {"screen": "s"}, BUTTONS, [], None
        )
        assert decision.plan is None and decision.error_kind == "bad_reply"
    finally:
        listener.close()
