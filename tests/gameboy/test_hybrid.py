"""The hybrid loop on the generated ROM against a real OpenAI-compatible server on loopback:
plans, malformed answers, timeouts and forbidden buttons; the DQN learning from every action;
the dashboard over HTTP while the loop runs; checkpoints, resume and recovery from errors."""

import itertools
import json
import threading
import time
import urllib.request

import pytest
from tests.openai_server import LoopbackLM

from gamelm.gameboy import crystal as c
from gamelm.gameboy.antistuck import StuckConfig
from gamelm.gameboy.env import GameBoyEnv
from gamelm.gameboy.hybrid import HybridConfig, HybridRunner
from gamelm.gameboy.monitor import Monitor, create_monitor_app
from gamelm.gameboy.testrom import PRESS_COUNTS
from gamelm.runs.registry import Registry
from gamelm.web.server import BackgroundServer

SMALL_DQN = {"batch_size": 16, "learning_starts": 40, "replay_size": 2000, "hidden": 32}


def config(rom, **kw) -> HybridConfig:
    base = dict(rom=str(rom), actions=300, allow_any_rom=True, llm_interval=10, llm_timeout=0.3,
                status_every=0.5, log_every=50, checkpoint_every=100, dqn=SMALL_DQN)  # fmt: skip
    base.update(kw)
    return HybridConfig(**base)


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMELM_RUNS", str(tmp_path / "registry"))
    return tmp_path / "registry"


def answers():
    """Cycle: a plan, prose, a plan with START (forbidden before the first Pokemon), a late
    answer (past the 0.3 s timeout), a bare button."""
    cycle = itertools.cycle(["plan", "prose", "start", "slow", "bare"])

    def respond(messages):
        kind = next(cycle)
        if kind == "slow":
            time.sleep(0.6)
            return "a"
        return {
            "plan": '{"buttons": ["right", "right", "down"], "reason": "explore"}',
            "prose": "Let me think about this. I would press A.",
            "start": '{"buttons": ["start"], "reason": "open the menu"}',
            "bare": "left",
        }.get(kind, "a")

    return respond


def test_hybrid_loop_with_llm_dqn_and_dashboard(make_rom, tmp_path, runs):
    rom = make_rom("PM_CRYSTAL")  # the Crystal reader; the first Pokemon not yet had
    lines = []
    monitor = Monitor()
    with LoopbackLM(answers()) as lm, BackgroundServer(create_monitor_app(monitor)) as web:
        runner = HybridRunner(config(rom, llm_url=lm.url), tmp_path / "run", "hybrid",
                              log=lines.append, monitor=monitor)  # fmt: skip
        result = {}
        thread = threading.Thread(target=lambda: result.update(runner.run()))
        thread.start()
        seen = []
        while thread.is_alive():  # the dashboard answers while the loop runs
            code, kind, body = fetch(web.url + "/api/status")
            assert code == 200 and kind == "application/json"
            seen.append(json.loads(body)["stats"].get("actions", 0))
            code, kind, png = fetch(web.url + "/api/screen.png")
            assert code == 200 and kind == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
            time.sleep(0.1)
        thread.join()
        code, kind, page = fetch(web.url + "/")
        assert code == 200 and b"Latest LLM decision" in page
        for name in ("gameboy.js", "charts.js", "common.js", "style.css"):
            assert fetch(web.url + "/static/" + name)[0] == 200
        status = json.loads(fetch(web.url + "/api/status")[2])
        n_requests = len(lm.requests)
    assert len(set(seen)) > 1 and min(seen) < 300  # live: the action count moved under us
    s = result
    assert s["actions"] == 300 and s["actions_per_s"] > 0
    # the planner is asked in the background, one call at a time, so how many calls fit in 300
    # actions depends on the machine's speed (9 to 20 seen): enough for every kind of answer
    assert s["llm_calls"] >= 6 and s["llm_calls"] >= n_requests - 1
    assert s["llm_plans"] >= 3 and s["llm_fallbacks"] >= 3
    errors = s["llm_errors"]
    assert errors["malformed"] >= 1 and errors["forbidden"] >= 1 and errors["timeout"] >= 1
    assert sum(errors.values()) == s["llm_fallbacks"]
    assert s["dqn_updates"] > 0 and s["dqn"]["replay"] == 300  # every action, whoever chose it
    assert s["sources"]["llm"] > 0 and s["sources"]["dqn"] > 0 and s["sources"]["rules"] > 0
    assert s["presses"]["start"] == s["presses"]["select"] == 0
    assert s["total_reward"] == pytest.approx(sum(s["reward_terms"].values()), abs=1e-3)
    assert s["reward_terms"]["explore"] > 0 and s["errors"] == 0
    assert any(line.startswith("[") and "LLM" in line and "DQN eps" in line for line in lines)
    assert status["curve"]["actions"][-1] == 300 and "explore" in status["curve"]["terms"]
    d = status["decision"]
    assert d["prompt"].startswith("Location: ") and "Allowed buttons: a, b, up" in d["prompt"]
    assert set(d) >= {"answer", "buttons", "error", "seconds", "action"}
    # the emulator agrees: START was never pressed (the game counts every press)
    with GameBoyEnv(rom, allow_any_rom=True, state=None) as env:
        env.load_state((tmp_path / "run" / "checkpoint_step_300" / "game.state").read_bytes())
        assert env.memory[PRESS_COUNTS + 3] == 0 and env.memory[PRESS_COUNTS + 2] == 0
        assert sum(env.memory[PRESS_COUNTS : PRESS_COUNTS + 8]) > 0
    reg = Registry(runs)
    info = reg.get("hybrid")
    assert info.status == "finished" and info.algorithm == "gameboy-hybrid"
    assert [step for step, _ in reg.checkpoints("hybrid")] == [100, 200, 300]
    assert reg.metrics("hybrid")["llm/calls"][-1][0] == 300
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    assert stats["actions"] == 300


def test_start_is_pressed_once_the_first_pokemon_is_had(make_rom, tmp_path, runs):
    rom = make_rom("PM_CRYSTAL")
    plan = '{"buttons": ["start", "b"], "reason": "menu"}'
    with LoopbackLM(lambda m: plan) as lm:
        runner = HybridRunner(config(rom, llm_url=lm.url, actions=60, use_dqn=False),
                              tmp_path / "run", log=None)  # fmt: skip
        runner.env.memory[c.EVENT_FLAGS + 3] = 0b100  # event 26: the first Pokemon
        runner.state = runner.read()
        s = runner.run()
    assert s["presses"]["start"] > 0 and s["llm_fallbacks"] == 0 and s["dqn_updates"] == 0


def test_resume_continues_from_the_last_checkpoint(make_rom, tmp_path, runs):
    rom = make_rom()
    cfg = config(rom, llm_url="http://127.0.0.1:9/v1", actions=150)
    first = HybridRunner(cfg, tmp_path / "run", "r", log=None).run()
    assert first["llm_fallbacks"] == first["llm_calls"] > 0  # nothing listens on port 9
    with pytest.raises(ValueError, match="already holds a run"):
        HybridRunner(cfg, tmp_path / "run", "r", log=None)
    with pytest.raises(ValueError, match="nothing to resume"):
        HybridRunner(cfg, tmp_path / "other", "o", resume=True, log=None)
    with pytest.raises(ValueError, match="already played 150 actions; pass a larger --actions"):
        HybridRunner(cfg, tmp_path / "run", "r", resume=True, log=None)
    other = config(make_rom("OTHER GAME"), llm_url="http://127.0.0.1:9/v1", actions=250)
    with pytest.raises(ValueError, match="played another ROM"):
        HybridRunner(other, tmp_path / "run", "r", resume=True, log=None)
    cfg2 = config(rom, llm_url="http://127.0.0.1:9/v1", actions=250)
    again = HybridRunner(cfg2, tmp_path / "run", "r", resume=True, log=None)
    assert again.actions == 150 and again.dqn.steps == 150
    assert again.env.frames == first["frames"]
    assert again.tracker.totals == pytest.approx(first["reward_terms"], abs=1e-3)
    s = again.run()
    assert s["actions"] == 250 and s["llm_calls"] > first["llm_calls"]
    assert s["anti_stuck"]["bursts"] >= first["anti_stuck"]["bursts"]
    assert s["frames"] == first["frames"] + 100 * 24
    assert s["llm_errors"]["unreachable"] == s["llm_fallbacks"]
    assert [step for step, _ in Registry(runs).checkpoints("r")] == [100, 150, 200, 250]
    assert sorted(p.name for p in (tmp_path / "run").glob("checkpoint_step_*")) == [
        "checkpoint_step_150", "checkpoint_step_200", "checkpoint_step_250",
    ]  # fmt: skip


def test_errors_are_recovered_and_stuck_play_escalates(make_rom, tmp_path, runs):
    rom = make_rom()
    stuck = StuckConfig(same_screen_actions=15, no_reward_actions=10**6, tile_window=10**6,
                        burst_actions=5, grace_actions=10)  # fmt: skip
    cfg = config(rom, llm_url="http://127.0.0.1:9/v1", actions=120, use_dqn=False, stuck=stuck)
    runner = HybridRunner(cfg, tmp_path / "run", log=None)
    runner.rules.choose = lambda state, allowed, visits: "a"  # rules that never move
    real_step, calls = runner.env.step, {"n": 0}

    def flaky(button):
        calls["n"] += 1
        if calls["n"] == 30:
            raise RuntimeError("emulator hiccup")
        return real_step(button)

    runner.env.step = flaky
    s = runner.run()
    assert s["actions"] == 120 and s["errors"] == 1
    assert s["last_error"] == "action 29: RuntimeError: emulator hiccup"
    assert s["anti_stuck"]["bursts"] >= 1 and s["anti_stuck"]["reloads"] >= 1
    assert s["sources"]["burst"] >= 5


def test_a_server_sending_garbage_does_not_stop_the_run(make_rom, tmp_path, runs):
    from tests.gameboy.test_planner import garbage_server

    listener, url = garbage_server(b"SSH-2.0-OpenSSH_9.6\r\n")
    try:
        s = HybridRunner(config(make_rom(), llm_url=url, actions=60), tmp_path / "run",
                         log=None).run()  # fmt: skip
    finally:
        listener.close()
    assert s["actions"] == 60 and s["llm_errors"] == {"bad_reply": s["llm_fallbacks"]}
    assert s["llm_fallbacks"] >= 2


def test_stop_request_saves_the_exact_action(make_rom, tmp_path, runs):
    runner = HybridRunner(config(make_rom(), llm_url="http://127.0.0.1:9/v1", actions=500),
                          tmp_path / "run", "stop", log=None)  # fmt: skip
    real = runner.env.step

    def step(button):
        if runner.actions == 77:
            runner.request_stop()
        return real(button)

    runner.env.step = step
    s = runner.run()
    assert s["actions"] == 78 and Registry(runs).get("stop").status == "interrupted"
    assert (tmp_path / "run" / "checkpoint_step_78").is_dir()
    again = HybridRunner(config(make_rom(), llm_url="http://127.0.0.1:9/v1", actions=100),
                         tmp_path / "run", "stop", resume=True, log=None)  # fmt: skip
    assert again.actions == 78 and again.dqn.steps == 78 and again.env.frames == s["frames"]


def test_good_states_are_taken_on_reward_actions_only(make_rom, tmp_path, runs):
    calm = StuckConfig(no_reward_actions=10**6, same_screen_actions=10**6, tile_window=10**6)
    cfg = config(make_rom(), llm_url="http://127.0.0.1:9/v1", actions=250, use_dqn=False,
                 good_state_every=100, stuck=calm)  # fmt: skip
    runner = HybridRunner(cfg, tmp_path / "run", log=None)
    runner.rules.choose = lambda state, allowed, visits: "right" if runner.actions < 20 else "a"
    s = runner.run()
    assert s["reward_terms"]["explore"] > 0
    assert runner.good_at == 1  # rewards came only in the first 20 actions, all within 100


def test_a_checkpoint_from_another_version_is_refused(make_rom, tmp_path, runs):
    cfg = config(make_rom(), llm_url="http://127.0.0.1:9/v1", actions=100, use_dqn=False)
    HybridRunner(cfg, tmp_path / "run", log=None).run()
    state = tmp_path / "run" / "checkpoint_step_100" / "trainer_state.json"
    data = json.loads(state.read_text())
    del data["anti_stuck"]
    state.write_text(json.dumps(data))
    more = config(make_rom(), llm_url="http://127.0.0.1:9/v1", actions=200, use_dqn=False)
    with pytest.raises(ValueError, match="written by another version of gamelm"):
        HybridRunner(more, tmp_path / "run", resume=True, log=None)
