"""The OpenAI-compatible endpoint: the official OpenAI client and DSPy call gamelm agents, and a
gamelm prompt is answered with one action token."""

from __future__ import annotations

import numpy as np
import pytest
from tests.live_server import call, live_server

from gamelm.agents.observation import legal_actions, prompt
from gamelm.agents.registry import make_agent
from gamelm.poker.abstraction import ActionAbstraction
from gamelm.serving.app import create_app
from gamelm.serving.state_parsing import observation_of, spot_from_json

TOKEN = "chat-token"
STATE = {
    "seats": 6,
    "button": 5,
    "blinds": [1, 2],
    "stacks": [200] * 6,
    "hero": 3,
    "hole_cards": "AsKd",
    "board": "Kh7d2c",
    "actions": [
        {"action": "fold"},
        {"action": "raise", "to": 6},
        {"action": "fold"},
        {"action": "fold"},
        {"action": "call"},
        {"action": "call"},
        {"action": "check"},
        {"action": "bet", "to": 10},
    ],
}
SPOT = spot_from_json(**STATE)
OBS = observation_of(SPOT.state, ActionAbstraction((0.5, 1.0)))
PROMPT = prompt(OBS, 0)


@pytest.fixture(scope="module")
def server(tiny_poker_lm, tiny_hf_model):
    agents = {
        "tag": make_agent("tag"),
        "poker-lm": make_agent(f"ckpt:{tiny_poker_lm}"),
        "llm": make_agent(f"hf:{tiny_hf_model}"),
    }
    with live_server(create_app(agents, token=TOKEN)) as url:
        yield url


def ask(url: str, model: str, text: str, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return call(url + "/v1/chat/completions", "POST", body, TOKEN)


def test_the_openai_client_gets_an_action_token(server):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key=TOKEN)
    assert [m.id for m in client.models.list()] == ["tag", "poker-lm", "llm"]
    reply = client.chat.completions.create(
        model="tag",
        messages=[
            {"role": "system", "content": "You play poker."},
            {"role": "user", "content": PROMPT},
        ],
        temperature=0,
    )
    token = reply.choices[0].message.content
    # tag's answer through the prompt is its answer on the exact state
    want = legal_actions(OBS)[0].index(int(make_agent("tag").act(OBS, np.random.default_rng(0))[0]))
    assert token == f"A{want}"
    assert reply.choices[0].finish_reason == "stop" and reply.usage.completion_tokens == 1
    with pytest.raises(Exception, match="401"):
        OpenAI(base_url=server + "/v1", api_key="wrong").models.list()


def test_the_poker_lm_answers_its_greedy_choice(server):
    status, exact = call(
        server + "/v1/act",
        "POST",
        {"agent": "poker-lm", **STATE},
        TOKEN,
    )
    assert status == 200 and exact["probabilities_exact"]
    best = max(exact["probabilities"], key=exact["probabilities"].get)
    order = [a["name"] for a in exact["legal_actions"]]
    status, reply = ask(server, "poker-lm", PROMPT, temperature=0)
    assert status == 200, reply
    assert reply["choices"][0]["message"]["content"] == f"A{order.index(best)}"


def test_a_text_llm_reads_the_prompt_itself(server, tiny_hf_model):
    policy = make_agent(f"hf:{tiny_hf_model}").model
    probs = policy.prompt_probabilities(PROMPT)
    status, reply = ask(server, "llm", PROMPT, temperature=0)
    assert status == 200
    assert reply["choices"][0]["message"]["content"] == max(probs, key=probs.get)
    parts = [{"type": "text", "text": PROMPT}]  # content as a list of parts
    status, reply = ask(server, "llm", parts, temperature=0)
    assert status == 200 and reply["choices"][0]["message"]["content"] == max(probs, key=probs.get)
    compact = prompt(OBS, 0, style="compact")  # what a model fine-tuned on it is sent
    probs = policy.prompt_probabilities(compact)
    assert list(probs) == [f"A{k}" for k in range(int(OBS.legal[0].sum()))]
    status, reply = ask(server, "llm", compact, temperature=0)
    assert status == 200 and reply["choices"][0]["message"]["content"] == max(probs, key=probs.get)


def test_dspy_programs_call_a_served_agent(server, monkeypatch):
    from gamelm.agents.dspy_agent import DSPyAgent, LMConfig, PokerProgram

    monkeypatch.setenv("GAMELM_LM_API_KEY", TOKEN)
    agent = DSPyAgent(PokerProgram(tools=False), LMConfig(url=server + "/v1", model="tag"))
    got = agent.act(OBS, np.random.default_rng(0))
    assert agent.fallbacks == 0
    assert got.tolist() == make_agent("tag").act(OBS, np.random.default_rng(0)).tolist()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"model": "nobody", "messages": [{"role": "user", "content": "x"}]}, 404, "not served"),
        (
            {"model": "tag", "messages": [{"role": "user", "content": "What is poker?"}]},
            400,
            "legal actions",
        ),
        ({"model": "tag", "messages": [{"role": "system", "content": "hi"}]}, 400, "no user"),
        ({"model": "tag", "messages": []}, 422, "messages"),
        (
            {"model": "tag", "stream": True, "messages": [{"role": "user", "content": "x"}]},
            400,
            "streaming",
        ),
        ({"messages": [{"role": "user", "content": "x"}]}, 422, "model"),
    ],
)
def test_bad_chat_requests(server, body, status, words):
    got, answer = call(server + "/v1/chat/completions", "POST", body, TOKEN)
    assert got == status, answer
    assert words in answer["error"]["message"]
