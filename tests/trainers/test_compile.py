"""gamelm compile: DSPy optimisers against a reference, on a loopback OpenAI-compatible server
and on a local transformers model, never beyond loopback."""

from __future__ import annotations

import json
import socket

import pytest
from tests.openai_server import LoopbackLM, demo_responder, policy_responder
from typer.testing import CliRunner

from gamelm.agents.dspy_agent import LMUnavailable, load_program
from gamelm.cli import app
from gamelm.models.lm import load_policy
from gamelm.rollouts.datasets import read_jsonl
from gamelm.trainers.compile import CompileConfig, compile_program, run_dir, score, spots

runner = CliRunner()


@pytest.fixture
def loopback_only(monkeypatch):
    """Refuse and record every name lookup or connection that would leave this machine (DSPy
    and LiteLLM must not try); the test fails at teardown if one was attempted."""
    attempts = []
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
    local = ("127.0.0.1", "localhost", "::1")

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in local:
            attempts.append(address)
            raise OSError(f"test: no connection to {address}")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in local and host is not None:
            attempts.append(host)
            raise socket.gaierror(f"test: no lookup of {host}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    assert not attempts, f"reached beyond loopback: {attempts}"


@pytest.mark.parametrize("optimizer", ["labeled", "bootstrap", "mipro"])
def test_compiling_puts_the_reference_into_the_prompt(optimizer, tag_data, tmp_path, loopback_only):
    # The server learns in context: it answers the move most often shown for the same street
    # and number of legal actions, and the last legal action when shown nothing. So the
    # compiled demos must reach it, and agreement rises only if they are the reference's moves.
    with LoopbackLM(demo_responder) as server:
        cfg = CompileConfig(
            lm_url=server.url, lm_model="loopback", reference=str(tag_data), optimizer=optimizer,
            train_size=60, val_size=40, max_demos=8, max_labeled=8, candidates=3, trials=4,
            equity_trials=50,
        )  # fmt: skip
        result = compile_program(cfg, tmp_path / "p.json")
        assert result.after.agreement > result.before.agreement + 0.3
        assert result.demos > 0 and result.after.fallbacks == 0
        assert max(len(r["messages"]) for r in server.requests) > 2  # demos were sent
        # the saved program scores the same on the same decisions
        program, spec, settings, report = load_program(tmp_path / "p.json")
        assert report["val_agreement_after"] == result.after.agreement
        val = spots(read_jsonl(tag_data / "sft.val.jsonl")[:5], settings.tools, 50, 0)
        assert score(program, spec.build(), val, 2).fallbacks == 0
    assert (run_dir(tmp_path / "p.json") / "compile.log").is_file()
    assert (run_dir(tmp_path / "p.json") / "dspy_cache").is_dir()  # the cache is in the run


def test_chips_keep_the_compilation_that_wins_most(tag_data, tmp_path):
    with LoopbackLM(demo_responder) as server:
        cfg = CompileConfig(
            lm_url=server.url, lm_model="m", reference=str(tag_data), optimizer="labeled",
            train_size=16, val_size=8, max_demos=4, metric="chips", selections=2,
            match_hands=24, opponent="calling-station", equity_trials=20,
        )  # fmt: skip
        result = compile_program(cfg, tmp_path / "c.json")
    assert len(result.selection) == 3  # the uncompiled program, then two compilations
    kept = max(range(3), key=lambda k: result.selection[k])
    assert (result.demos == 0) == (kept == 0)
    assert result.match_after is not None and "selection_bb100" in result.summary()
    with pytest.raises(ValueError, match="needs --match-hands"):
        CompileConfig(lm_url=server.url, lm_model="m", metric="chips")


def test_gepa_when_available(tag_data, tmp_path):
    import dspy

    if not hasattr(dspy, "GEPA"):
        pytest.skip("this DSPy has no GEPA")
    with LoopbackLM(demo_responder) as server:
        cfg = CompileConfig(
            lm_url=server.url, lm_model="m", reference=str(tag_data), optimizer="gepa",
            train_size=6, val_size=8, trials=1, equity_trials=20,
        )  # fmt: skip
        result = compile_program(cfg, tmp_path / "g.json")
    assert result.after.decisions == 8 and (tmp_path / "g.json").is_file()


def test_cli_contract_with_a_served_gamelm_model(tiny_hf_model, tmp_path, loopback_only):
    # the endpoint is a gamelm LM (a tiny transformers model) answering with action tokens
    policy = load_policy(tiny_hf_model)
    out = tmp_path / "prog.json"
    with LoopbackLM(policy_responder(policy), model="tiny") as server:
        r = runner.invoke(
            app,
            [
                "compile", "--lm-url", server.url, "--lm-model", "tiny", "--reference", "tag",
                "--optimizer", "bootstrap", "--train-size", "6", "--val-size", "8",
                "--hands", "60", "--out", str(out), "--json",
            ],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout)
        assert {"val_agreement_before", "val_agreement_after"} <= set(summary)
        assert 0 <= summary["val_agreement_after"] <= 1 and summary["val_decisions"] == 8
        assert (run_dir(out) / "data" / "sft.jsonl").is_file()  # the reference's games
        r = runner.invoke(app, ["eval", f"dspy:{out}", "--vs", "tag", "--hands", "8", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)


def test_local_transformers_model(tiny_hf_base_model, tag_data, tmp_path, loopback_only):
    cfg = CompileConfig(
        lm_path=str(tiny_hf_base_model), reference=str(tag_data), optimizer="labeled",
        train_size=4, val_size=4, max_demos=1, max_tokens=8, equity_trials=20, threads=2,
    )  # fmt: skip
    result = compile_program(cfg, tmp_path / "local.json")
    assert result.after.decisions == 4
    _, spec, _, _ = load_program(tmp_path / "local.json")
    assert spec.path == str(tiny_hf_base_model) and spec.url is None


def test_the_local_engine_generates_what_the_model_does(tiny_hf_model):
    import torch
    from dspy.lm15 import Config, Message, Request

    from gamelm.agents.dspy_agent import TransformersEngine

    engine = TransformersEngine(tiny_hf_model)
    request = Request(
        model="m",
        system="Answer with an action token.",
        messages=(Message.user("Legal actions:\n- A0: Fold\n- A1: Call 2"),),
        config=Config(max_tokens=6, temperature=0.0),
    )
    text = engine.complete(request).message.parts[0].text
    messages = [
        {"role": "system", "content": "Answer with an action token."},
        {"role": "user", "content": "Legal actions:\n- A0: Fold\n- A1: Call 2"},
    ]
    tok = engine.tokenizer
    ids = tok(engine.render(messages), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = engine.lm.generate(**ids, max_new_tokens=6, do_sample=False,
                                 pad_token_id=tok.pad_token_id)  # fmt: skip
    assert text == tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TransformersEngine("no/such/model/dir")


def test_clear_errors(tag_data, tmp_path):
    r = runner.invoke(
        app, ["compile", "--reference", str(tag_data), "--out", str(tmp_path / "x.json")]
    )
    assert r.exit_code == 2 and "--lm-url" in r.output and "Traceback" not in r.output
    args = ["compile", "--lm-url", "http://127.0.0.1:9/v1", "--lm-model", "m"]
    r = runner.invoke(app, [*args, "--reference", str(tag_data), "--optimizer", "magic"])
    assert r.exit_code == 2 and "optimizer must be one of" in r.output
    r = runner.invoke(app, [*args, "--reference", str(tmp_path), "--out", str(tmp_path / "x.json")])
    assert r.exit_code == 2 and "without sft.jsonl" in r.output
    r = runner.invoke(app, [*args, "--reference", str(tag_data), "--train-size", "100000"])
    assert r.exit_code == 2 and "fewer than" in r.output
    cfg = CompileConfig(
        lm_url="http://127.0.0.1:9/v1", lm_model="m", reference=str(tag_data), train_size=2,
        val_size=2, equity_trials=10, timeout=5,
    )  # fmt: skip
    with pytest.raises(LMUnavailable, match="did not answer"):
        compile_program(cfg, tmp_path / "down.json")
    assert not run_dir(tmp_path / "down.json").exists()  # a failed run leaves nothing behind
    # a saved program whose server is down: eval says so in one sentence
    from gamelm.agents.dspy_agent import LMConfig, PokerProgram, ProgramConfig, save_program

    down = save_program(tmp_path / "p.json", PokerProgram(), cfg.lm_spec(), ProgramConfig())
    r = runner.invoke(app, ["eval", f"dspy:{down}", "--vs", "tag", "--hands", "4"])
    assert r.exit_code == 2 and "did not answer" in r.output and "Traceback" not in r.output
    assert LMConfig.from_dict({"url": "http://x/v1", "model": "m", "unknown": 1}).model == "m"


def test_settings_from_a_config_file(tag_data, tmp_path):
    with LoopbackLM(demo_responder) as server:
        (tmp_path / "c.yaml").write_text(
            f"lm_url: {server.url}\nlm_model: m\nreference: {tag_data}\ntrain_size: 6\n"
            "val_size: 4\noptimizer: bootstrap\nequity_trials: 10\n"
        )
        args = ["compile", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "p.json")]
        r = runner.invoke(app, [*args, "--optimizer", "labeled", "--json"])  # the flag wins
        assert r.exit_code == 0, r.output
        assert (
            json.loads((tmp_path / "p.json").read_text())["report"]["config"]["optimizer"]
            == "labeled"
        )
        (tmp_path / "bad.yaml").write_text("train_size: many\n")
        r = runner.invoke(app, ["compile", "--config", str(tmp_path / "bad.yaml")])
        assert r.exit_code == 2 and "train_size must be a whole number" in r.output
