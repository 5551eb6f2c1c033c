"""gamelm tune: a study finds better than the defaults where the optimum is known, resumes
after an interruption, runs on workers, and tunes every trainer through the CLI."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from tests.openai_server import LoopbackLM, demo_responder
from tests.toy_objectives import Interrupt, quadratic
from typer.testing import CliRunner

from gamelm.cli import app
from gamelm.trainers.ppo import PPOConfig
from gamelm.trainers.tune import TuneConfig, run

runner = CliRunner()
SPACE = {"learning_rate": {"low": 1e-5, "high": 1e-1, "log": True}}


def _config(tmp_path, trials, **kw):
    return TuneConfig(
        trainer="ppo", base={"learning_rate": 1e-3}, space=SPACE, trials=trials,
        out=str(tmp_path / "study"), **kw,
    )  # fmt: skip


def test_a_short_study_beats_the_default_and_resumes(tmp_path):
    first = run(_config(tmp_path, 12), quadratic)
    assert first.trials == 12
    assert first.default_value == pytest.approx(-0.25)  # trial 0 ran the base settings
    assert first.best_value > first.default_value + 0.2  # the optimum is 0
    assert abs(math.log10(first.best_params["learning_rate"]) + 2.5) < 0.5
    saved = yaml.safe_load((tmp_path / "study" / "gamelm-ppo" / "best.yaml").read_text())
    assert saved["learning_rate"] == first.best_params["learning_rate"]
    again = run(_config(tmp_path, 16), quadratic)  # the same study, four more trials
    assert again.trials == 16 and [r["value"] for r in again.rows[:12]] == [
        r["value"] for r in first.rows
    ]
    assert again.best_value >= first.best_value


def test_interrupting_the_base_trial_runs_it_again(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(_config(tmp_path, 4), Interrupt(at=0))
    result = run(_config(tmp_path, 4), Interrupt(at=-1))
    assert result.default_value == pytest.approx(-0.25) and result.trials == 4


def test_a_study_belongs_to_one_trainer(tmp_path):
    run(_config(tmp_path, 1), quadratic)
    other = TuneConfig(trainer="sft", space=SPACE, trials=1, out=str(tmp_path / "study"),
                       study="gamelm-ppo")  # fmt: skip
    with pytest.raises(ValueError, match="tunes ppo, not sft"):
        run(other, quadratic)


def test_an_interrupted_study_runs_only_what_is_left(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(_config(tmp_path, 8), Interrupt(at=5))
    rest = Interrupt(at=-1)
    result = run(_config(tmp_path, 8), rest)
    assert result.trials == 8 and rest.calls == 3  # trials 0..4 were kept
    assert [r["state"] for r in result.rows].count("fail") == 1


def test_workers_share_the_study(tmp_path):
    result = run(_config(tmp_path, 6, workers=2), quadratic)
    assert result.trials == 6 and {r["state"] for r in result.rows} <= {"complete", "pruned"}
    assert result.default_value == pytest.approx(-0.25)  # the base settings ran once
    assert len({r["params"]["learning_rate"] for r in result.rows}) == 6  # sampled apart


def test_trials_as_ray_tasks(tmp_path):
    import ray

    try:
        result = run(_config(tmp_path, 5, workers=2, ray_address="local"), quadratic)
    finally:
        ray.shutdown()  # later tests start or reach their own cluster
    assert result.trials == 5 and result.default_value == pytest.approx(-0.25)


def test_ppo_through_the_cli_contract(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMELM_RUNS", str(tmp_path / "runs"))
    db = tmp_path / "s.db"
    args = [
        "tune", "ppo", "--trials", "2", "--storage", f"sqlite:///{db}", "--study", "s",
        "--out", str(tmp_path / "t"), "--set", "num_games=256", "--set", "games_per_update=128",
        "--set", "parallel_games=64", "--set", "batch_size=128", "--set", "eval_hands=20",
        "--set", "eval_opponents=[calling-station]", "--set", "opponents=[random]",
        "--set", "eval_interval=1", "--json",
    ]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) >= {"best_value", "best_params", "trials"} and out["trials"] == 2
    assert set(out["best_params"]) == {
        "learning_rate", "entropy_coef", "batch_size", "update_epochs", "clip_epsilon",
    }  # fmt: skip
    cfg = PPOConfig.from_yaml(tmp_path / "t" / "s" / "best.yaml")  # gamelm train --config
    assert cfg.learning_rate == out["best_params"]["learning_rate"] and cfg.num_hands == 256
    r = runner.invoke(app, [*args[:2], "--trials", "3", *args[4:]])  # resumes: one more trial
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["trials"] == 3


def test_compile_sft_and_rl_studies(tag_data, tiny_poker_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("GAMELM_RUNS", str(tmp_path / "runs"))
    with LoopbackLM(demo_responder) as server:
        r = runner.invoke(
            app,
            [
                "tune", "compile", "--trials", "3", "--out", str(tmp_path / "c"),
                "--set", f"lm_url={server.url}", "--set", "lm_model=m",
                "--set", f"reference={tag_data}", "--set", "train_size=12",
                "--set", "val_size=16", "--set", "equity_trials=20", "--json",
            ],
        )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["best_value"] > 0.3  # demos help the in-context server
    space = tmp_path / "space.yaml"
    space.write_text("learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}\n")
    common = ["--trials", "2", "--space", str(space), "--json"]
    r = runner.invoke(
        app,
        [
            "tune", "sft", *common, "--out", str(tmp_path / "s"), "--set", f"model={tiny_poker_lm}",
            "--set", f"data={tag_data}", "--set", "max_steps=4", "--set", "batch_size=8",
            "--set", "device=cpu", "--set", "val_size=32",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert 0 <= json.loads(r.stdout)["best_value"] <= 1
    best = tmp_path / "s" / "gamelm-sft" / "best.yaml"  # the trainer reads it as it is
    r = runner.invoke(
        app, ["sft", "--config", str(best), "--out", str(tmp_path / "again"), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["steps"] == 4
    r = runner.invoke(
        app,
        [
            "tune", "rl", *common, "--out", str(tmp_path / "r"), "--eval-hands", "16",
            "--set", f"model={tiny_poker_lm}", "--set", "num_epochs=2",
            "--set", "episodes_per_epoch=16", "--set", "tables=16", "--set", "device=cpu",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    best = yaml.safe_load((tmp_path / "r" / "gamelm-rl" / "best.yaml").read_text())
    assert best["model"] == str(tiny_poker_lm) and "out" not in best
    config = tmp_path / "r" / "gamelm-rl" / "best.yaml"
    r = runner.invoke(app, ["rl", "--config", str(config), "--out", str(tmp_path / "rl"), "--json"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "rl" / "metrics.jsonl").read_text().count("\n") == 2  # its two epochs


def test_bad_input_is_one_sentence(tmp_path):
    r = runner.invoke(app, ["tune", "xgboost"])
    assert r.exit_code == 2 and "trainer must be one of" in r.output
    space = tmp_path / "s.yaml"
    for text, message in [
        ("learning_rate: {low: 1, high: 0.1}", "low must be below high"),
        ("learning_rate: {low: 0, high: 1, log: true}", "log scale needs low > 0"),
        ("learning_rate: {min: 1}", "unknown key"),
        ("learning_rate: {low: 0.1, high: 1, log: true, step: 0.1}", "step or log"),
        ("lr: {low: 0.1, high: 1}", "names lr, not settings of ppo"),
        ("batch_size: {low: 100.5, high: 900}", "a whole number"),
        ("update_epochs: {low: 1, high: 4, step: 0.5}", "whole step"),
        ("- 1", "must hold a mapping"),
    ]:
        space.write_text(text)
        r = runner.invoke(app, ["tune", "ppo", "--space", str(space), "--out", str(tmp_path)])
        assert r.exit_code == 2 and message in r.output, r.output
        assert "Traceback" not in r.output
    r = runner.invoke(app, ["tune", "ppo", "--set", "lr=0.1", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "unknown ppo settings: lr" in r.output
    r = runner.invoke(app, ["tune", "ppo", "--storage", "nowhere.db", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "database URL" in r.output
