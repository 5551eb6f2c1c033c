"""The commands: serve (and the Docker image's entry command, run outside Docker), play, range,
export (safetensors and ONNX), `gamelm.load_agent` and the Python client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tests.live_server import call
from typer.testing import CliRunner

from gamelm.cli import app

ROOT = Path(__file__).resolve().parents[2]
GAMELM = str(Path(sys.executable).with_name("gamelm"))
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "the server exited"
        try:
            if call(url + "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server never answered /health")


def test_the_docker_entry_command_serves(tmp_path):
    """The Dockerfile's CMD, run as it is (outside Docker: no engine here) on a free port."""
    cmd = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    argv = json.loads(cmd[4:])
    assert argv[:2] == ["gamelm", "serve"] and "0.0.0.0" in argv
    port = free_port()
    argv = [GAMELM, *argv[1:]]
    argv[argv.index("--port") + 1] = str(port)
    env = {**os.environ, "GAMELM_API_TOKEN": "docker-token", "GAMELM_RUNS": str(tmp_path)}
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        assert call(url + "/v1/agents")[0] == 401  # the token from the environment holds
        status, body = call(
            url + "/v1/act",
            "POST",
            {
                "seats": 2,
                "button": 0,
                "blinds": [1, 2],
                "stacks": [200, 200],
                "hero": 0,
                "hole_cards": "AsKd",
            },
            "docker-token",
        )
        assert status == 200 and body["agent"] == "tag"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_refuses_bad_arguments(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        out = subprocess.run(
            [GAMELM, "serve", "tag", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (
            out.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in out.stderr + out.stdout
        )
    finally:
        busy.close()
    for args, words in (
        (["serve", "nobody"], "unknown agent"),
        (["serve", "a=tag", "a=random"], "two agents are named"),
        (["serve", str(tmp_path / "missing.safetensors")], "unknown agent"),
        (["serve", "tag", "--port", "0"], "--port"),
        (["serve", "tag", "--host", "0.0.0.0"], "refusing to serve on 0.0.0.0 without a bearer"),
    ):
        result = runner.invoke(app, args, env={"GAMELM_API_TOKEN": ""})
        assert result.exit_code != 0 and words in result.output, result.output
        assert "Traceback" not in result.output


def test_range_prints_and_draws_the_grid(tmp_path):
    png = tmp_path / "grid.png"
    result = runner.invoke(
        app, ["range", "tag", "--position", "UTG", "--seats", "6", "--out", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert "AA  R" in result.output and "Plays" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = runner.invoke(
        app, ["range", "calling-station", "--position", "BB", "--seats", "2", "--json"]
    )
    grid = json.loads(result.output)
    assert grid["position"] == "BB" and grid["play_share"] == 1.0 and grid["raise_share"] == 0.0
    result = runner.invoke(app, ["range", "tag", "--position", "UTG", "--seats", "2"])
    assert result.exit_code != 0 and "not a position" in result.output


def test_play_demo_prints_the_analysis():
    result = runner.invoke(
        app, ["play", "tag", "--demo", "--hands", "200", "--opponent-level", "beginner"]
    )
    assert result.exit_code == 0, result.output
    assert "bb/100" in result.output and "Analysis: tag" in result.output
    assert "VPIP" in result.output
    result = runner.invoke(app, ["play", "tag", "--demo", "--opponent-level", "godlike"])
    assert result.exit_code != 0 and "unknown --opponent-level" in result.output


def test_play_in_the_terminal():
    # check or call every street against the calling station, then decline the next hand
    keys = "c\n" * 8 + "n\n"
    result = runner.invoke(app, ["play", "calling-station", "--seed", "3"], input=keys)
    assert result.exit_code == 0, result.output
    assert "Hand #1" in result.output and (
        "You won" in result.output or "You lost" in result.output
    )
    assert "Session:" in result.output
    result = runner.invoke(app, ["play", "calling-station"], input="r 1\nq\n")
    assert "minimum raise" in result.output or "cannot" in result.output


def test_export_load_agent_onnx_and_the_client(tiny_poker_lm, tmp_path):
    import gamelm
    from gamelm.agents.lm import LMAgent, sample_inputs
    from gamelm.models.lm import PokerLM
    from gamelm.serving.client import PokerAPI

    out, onnx = tmp_path / "bot.safetensors", tmp_path / "bot.onnx"
    result = runner.invoke(
        app, ["export", str(tiny_poker_lm), "--out", str(out), "--onnx", str(onnx)]
    )
    assert result.exit_code == 0, result.output
    assert "ONNX Runtime matches PyTorch" in result.output
    agent = gamelm.load_agent(str(out))
    original = PokerLM.load(tiny_poker_lm)
    inputs = sample_inputs(original, 32, seed=5)
    import torch

    with torch.inference_mode():
        want, _ = original(*inputs)
        got, _ = agent.model(*inputs)
    assert torch.equal(torch.nan_to_num(want, neginf=0), torch.nan_to_num(got, neginf=0))
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx))
    names = ("tokens", "mask", "choices", "legal")
    log_p, _ = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    assert np.abs(np.exp(log_p) - want.exp().numpy()).max() < 1e-5
    assert isinstance(gamelm.load_agent("tag"), object) and gamelm.load_agent(str(tiny_poker_lm))
    with pytest.raises(ValueError, match="not a file written by gamelm export"):
        gamelm.load_agent(str(onnx))
    result = runner.invoke(app, ["export", "tag", "--out", str(tmp_path / "x.safetensors")])
    assert result.exit_code != 0 and "only the small poker LM" in result.output

    api = PokerAPI(model_path=out, token="t").start(port=0, background=True)
    try:
        assert api.health()["status"] == "ok"
        answer = api.act(
            seats=2, button=0, blinds=[1, 2], stacks=[200, 200], hero=0, hole_cards="AsKd"
        )
        assert answer["probabilities_exact"] and answer["action"] in answer["legal_actions"]
        with pytest.raises(RuntimeError, match="422: bad hole cards"):
            api.act(seats=2, button=0, blinds=[1, 2], stacks=[200, 200], hero=0, hole_cards="Zz")
    finally:
        api.stop()
    assert isinstance(agent, LMAgent)
