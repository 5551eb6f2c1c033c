"""`gamelm gameboy` as a user runs it: the JSON contract, the dashboard, and one clear sentence
for each bad input."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from tests.openai_server import LoopbackLM

CONTRACT = {"actions", "actions_per_s", "total_reward", "llm_calls", "llm_fallbacks", "dqn_updates"}


def gamelm(*args, env_runs, timeout=300, **popen):
    env = {**os.environ, "GAMELM_RUNS": str(env_runs)}
    cmd = [sys.executable, "-m", "gamelm.cli", "gameboy", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **popen)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_json_contract(make_rom, tmp_path):
    rom = make_rom()
    plan = '{"buttons": ["right", "down"], "reason": "explore"}'
    with LoopbackLM(lambda m: plan) as lm:
        done = gamelm("--rom", rom, "--allow-any-rom", "--actions", 120, "--no-web", "--quiet",
                      "--llm-url", lm.url, "--json", "--llm-interval", 10,
                      env_runs=tmp_path / "runs")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --quiet
    summary = json.loads(done.stdout)
    assert CONTRACT <= set(summary)
    assert summary["actions"] == 120 and summary["llm_calls"] >= 5
    assert summary["llm_fallbacks"] == 0 and summary["actions_per_s"] > 0
    runs = list((tmp_path / "runs").iterdir())
    run = next(p for p in runs if p.is_dir())
    assert (run / "stats.json").is_file() and (run / "checkpoint_step_120" / "dqn").is_dir()
    assert sorted(p.name for p in rom.parent.iterdir()) == ["game.gbc"]


def test_dashboard_and_status_lines(make_rom, tmp_path):
    rom, port = make_rom(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gamelm.cli", "gameboy", "--rom", str(rom), "--allow-any-rom",
         "--actions", "1500", "--web-port", str(port), "--no-dqn", "--status-every", "0.5",
         "--llm-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "GAMELM_RUNS": str(tmp_path / "runs")},
    )  # fmt: skip
    try:
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
                    status = json.loads(r.read())
                if status["stats"].get("actions"):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert status is not None and status["stats"]["actions"] > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"Game Boy run" in r.read()
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Playing 'GAMELM TEST' (read from the screen only)" in err
    assert f"Dashboard: http://127.0.0.1:{port}" in err
    assert "LLM" in err and "fallbacks" in err and "no DQN" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rom", "{tmp}/missing.gbc"], "error: no ROM file at"),
        (["--rom", "{rom}"], "is not Pokemon Crystal (its header title is 'GAMELM TEST')"),
        (["--rom", "{tmp}/notes.txt"], "is not a Game Boy ROM"),
        (["--rom", "{rom}", "--allow-any-rom", "--load-state", "{tmp}/notes.txt"],
         "notes.txt is not a save state"),
        (["--rom", "{rom}", "--allow-any-rom", "--actions", "0"], "--actions must be at least 1"),
        (["--rom", "{rom}", "--allow-any-rom", "--llm-interval", "0"], "--llm-interval must be"),
        (["--rom", "{rom}", "--allow-any-rom", "--resume", "--out", "{tmp}/none"],
         "nothing to resume"),
        (["--rom", "{rom}", "--allow-any-rom", "--out", "{tmp}/notes.txt"], "is a file"),
        (["--rom", "{rom}", "--allow-any-rom", "--llm-url", "localhost:11434"],
         "--llm-url must start with http"),
        (["--rom", "{rom}", "--allow-any-rom", "--status-every", "0"],
         "--status-every must be a positive number"),
        (["--rom", "{rom}", "--allow-any-rom", "--llm-timeout", "nan"],
         "--llm-timeout must be a positive number"),
        (["--rom", "{rom}", "--allow-any-rom", "--threads", "0"], "--threads must be at least 1"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence(make_rom, tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("hello\n" * 10_000)
    rom = make_rom()
    args = [a.format(tmp=tmp_path, rom=rom) for a in args]
    done = gamelm(*args, "--no-web", env_runs=tmp_path / "runs", timeout=120)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if "--allow-any-rom" not in args:  # a rejected ROM leaves no run folder behind
        runs = tmp_path / "runs"
        assert not runs.exists() or not [p for p in runs.iterdir() if p.is_dir()]


def test_busy_dashboard_port(make_rom, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = gamelm("--rom", make_rom(), "--allow-any-rom", "--web-port", port,
                      env_runs=tmp_path / "runs", timeout=120)  # fmt: skip
    assert done.returncode == 2 and "cannot serve the dashboard on port" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_ctrl_c_stops_cleanly_and_resume_goes_on(make_rom, tmp_path):
    rom, out = make_rom(), tmp_path / "run"
    env = {**os.environ, "GAMELM_RUNS": str(tmp_path / "runs")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gamelm.cli", "gameboy", "--rom", str(rom), "--allow-any-rom",
         "--actions", "100000", "--no-web", "--status-every", "0.2", "--out", str(out),
         "--llm-url", "http://127.0.0.1:9/v1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (out / "stats.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err
    assert "Stopped at" in err and "--resume goes on" in err
    done_at = json.loads((out / "stats.json").read_text())["actions"]
    assert 0 < done_at < 100000 and (out / f"checkpoint_step_{done_at}").is_dir()
    more = gamelm("--rom", rom, "--allow-any-rom", "--out", out, "--resume", "--no-web",
                  "--actions", done_at + 40, "--json", "--quiet", "--llm-url",
                  "http://127.0.0.1:9/v1", env_runs=tmp_path / "runs")  # fmt: skip
    assert more.returncode == 0, more.stderr
    assert json.loads(more.stdout)["actions"] == done_at + 40
