"""The training commands: train, resume, runs, history, run:/ckpt: specs and bench train."""

import json

import pytest
from typer.testing import CliRunner

from gamelm.cli import app

runner = CliRunner()
SMALL = ["--num-hands", "256", "--parallel-games", "64", "--batch-size", "128",
         "--eval-hands", "32", "--eval-interval", "1", "--checkpoint-frequency", "1",
         "--threads", "1", "--set", "hands_per_update=128"]  # fmt: skip


@pytest.mark.parametrize("args", [["train"], ["runs"], ["history"], ["bench", "train"]])
def test_help(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_train_runs_history_and_specs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r1"
    result = runner.invoke(
        app, ["train", "--preset", "tiny", "--seed", "3", "--out", str(out), "--json", *SMALL]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["hands"] == 256 and (out / "final_model" / "config.json").is_file()
    assert summary["last_eval"]["opponents"].keys() == {"random", "calling-station", "maniac"}
    # the registry (./runs by default) lists the run; history prints and plots it
    listed = runner.invoke(app, ["runs", "--json"])
    assert [r["name"] for r in json.loads(listed.stdout)] == ["r1"]
    hist = runner.invoke(app, ["history", "r1", "--plot", str(tmp_path / "h.png")])
    assert hist.exit_code == 0, hist.output
    assert (tmp_path / "h.png").stat().st_size > 0 and "policy" in hist.stdout
    # the model plays as ckpt:PATH and as run:NAME
    for spec in (f"ckpt:{out / 'final_model'}", "run:r1"):
        ev = runner.invoke(app, ["eval", spec, "--hands", "40", "--json"])
        assert ev.exit_code == 0, ev.output
        assert json.loads(ev.stdout)["hands"] == 40
    # a finished run is not overwritten; --resume on it has nothing left to do
    again = runner.invoke(app, ["train", "--out", str(out), *SMALL])
    assert again.exit_code == 2 and "already holds a run" in again.stderr
    more = runner.invoke(
        app, ["train", "--out", str(out), "--resume", "--num-games", "384", "--json"]
    )
    assert more.exit_code == 0, more.output
    assert json.loads(more.stdout.strip().splitlines()[-1])["hands"] == 384


def test_resume_passes_over_a_damaged_checkpoint_and_names_do_not_collide(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "a" / "run"
    first = runner.invoke(app, ["train", "--out", str(out), "--json", *SMALL])
    assert first.exit_code == 0, first.output
    newest = max(out.glob("checkpoint_step_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))
    opt = newest / "optimizer.safetensors"
    opt.write_bytes(opt.read_bytes()[:100])  # cut short, as by a full disk
    more = runner.invoke(
        app, ["train", "--out", str(out), "--resume", "--num-hands", "384", "--json"]
    )
    assert more.exit_code == 0, more.output
    assert "skipped a damaged checkpoint" in more.stderr and "optimizer.safetensors" in more.stderr
    assert (out / f"{newest.name}.damaged").is_dir()  # kept, not deleted
    assert json.loads(more.stdout.strip().splitlines()[-1])["hands"] == 384
    # a second experiment whose folder has the same name gets its own registry entry
    other = runner.invoke(app, ["train", "--out", str(tmp_path / "b" / "run"), *SMALL])
    assert other.exit_code == 0, other.output
    assert "registered as run-2" in other.stderr
    listed = runner.invoke(app, ["runs", "--json"])
    assert [r["name"] for r in json.loads(listed.stdout)] == ["run", "run-2"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--seats", "9"], "seats must be 2..6"),
        (["--opponents", "nobody"], "unknown opponent"),
        (["--set", "lr=1"], "unknown PPO setting"),
        (["--resume"], "--resume needs --out"),
        (["--checkpoint", "/nonexistent"], "neither a training checkpoint"),
        (["--config", "bad.yaml"], "bad.yaml is not valid YAML (line 2)"),
        (["--set", "seats=two"], "seats must be a whole number"),
        (["--out", "afile"], "is a file"),
        (["--runs-dir", "afile"], "runs folder afile is a file"),
        (["--eval-opponents", "ckpt:broken"], "holds no model weights"),
        (["--workers", "1", "--ray-address", "127.0.0.1:9"], "cannot reach Ray"),
    ],
)
def test_train_errors_are_one_clear_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAMELM_RUNS", str(tmp_path / "runs"))  # --runs-dir sets it; undo after
    (tmp_path / "bad.yaml").write_text("seats: [2\n")
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "gamelm.json").write_text('{"preset": "tiny", "fractions": [0.5, 1]}')
    result = runner.invoke(app, ["train", *args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_history_of_an_unknown_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["history", "nope"])
    assert result.exit_code == 2 and "no run named 'nope'" in result.stderr
    bad = runner.invoke(app, ["eval", "run:nope", "--hands", "10"])
    assert bad.exit_code == 2 and "no run named" in bad.stderr
    (tmp_path / "afile").write_text("x")
    (tmp_path / "reg").mkdir()
    (tmp_path / "reg" / "registry.sqlite").write_text("not a database, but long enough " * 40)
    for args, message in [
        (["runs", "--runs-dir", "afile"], "is a file"),
        (["runs", "--runs-dir", "reg"], "not a readable run registry"),
        (["history", "x", "--runs-dir", "reg"], "not a readable run registry"),
    ]:
        result = runner.invoke(app, args)  # fmt: skip
        assert result.exit_code == 2 and message in result.stderr, result.output
    # reading makes no registry where there is none
    listed = runner.invoke(app, ["runs", "--runs-dir", "none/here"])
    assert listed.exit_code == 0 and "no runs in none/here" in listed.stdout
    assert not (tmp_path / "none").exists() and not (tmp_path / "runs").exists()


def test_bench_train_json(tmp_path):
    result = runner.invoke(app, ["bench", "train", "--hands", "512", "--threads", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"preset", "hands_per_s", "decisions_per_s", "threads"} <= out.keys()
    assert out["preset"] == "tiny" and out["hands"] >= 512 and out["hands_per_s"] > 0
    assert set(out["forward_decisions_per_s"]) == {"transformers", "plain_torch"}


def test_demo_trains_and_prints_the_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--hands", "256", "--eval-hands", "20"])
    assert result.exit_code == 0, result.output
    for name in ("random", "calling-station", "maniac", "tag", "equity"):
        assert name in result.stdout
    assert (tmp_path / "runs" / "demo-0" / "final_model" / "gamelm.json").is_file()
