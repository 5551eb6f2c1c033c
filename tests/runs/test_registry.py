"""The run registry: names that collide across experiments, runs killed without a word."""

import sqlite3
import subprocess
import sys

import pytest

from gamelm.runs.registry import Registry


def test_a_derived_name_that_is_taken_gets_a_suffix(tmp_path):
    reg = Registry(tmp_path / "runs")
    (tmp_path / "a" / "run").mkdir(parents=True)
    reg.start("run", tmp_path / "a" / "run", {})
    # the same folder again is the same run (a resume)
    assert reg.claim("run", tmp_path / "a" / "run", explicit=False) == ("run", None)
    name, note = reg.claim("run", tmp_path / "b" / "run", explicit=False)
    assert name == "run-2" and "registered as run-2" in note
    reg.start(name, tmp_path / "b" / "run", {})
    assert reg.claim("run", tmp_path / "c" / "run", explicit=False)[0] == "run-3"
    # a name the user chose is refused, in one sentence
    with pytest.raises(ValueError, match=r"already registered .* pass another --name"):
        reg.claim("run", tmp_path / "c" / "run", explicit=True)


def test_an_entry_whose_folder_is_gone_is_replaced(tmp_path):
    reg = Registry(tmp_path / "runs")
    reg.start("run", tmp_path / "deleted" / "run", {})
    reg.log("run", 1, {"x": 1.0})
    name, note = reg.claim("run", tmp_path / "new" / "run", explicit=True)
    assert name == "run" and "is gone; replaced" in note
    assert reg.runs() == [] and reg.metrics("run") == {}


def test_a_killed_run_is_marked_stale(tmp_path):
    reg = Registry(tmp_path / "runs")
    code = (
        "import sys; from gamelm.runs.registry import Registry; "
        "Registry(sys.argv[1]).start('killed', sys.argv[2], {})"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "runs"), str(tmp_path)], check=True)
    reg.start("alive", tmp_path, {})  # this process, still running
    status = {r.name: r.status for r in reg.runs()}
    assert status == {"killed": "stale", "alive": "running"}
    assert reg.get("killed").status == "stale"


def test_an_older_registry_gains_the_new_columns(tmp_path):
    path = tmp_path / "registry.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE runs (name TEXT PRIMARY KEY, path TEXT NOT NULL, algorithm TEXT NOT "
            "NULL, status TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, config "
            "TEXT NOT NULL, summary TEXT)"
        )
        db.execute("INSERT INTO runs VALUES ('old', '/x', 'ppo', 'done', 1, 1, '{}', NULL)")
    reg = Registry(tmp_path)
    assert [r.name for r in reg.runs()] == ["old"]
    reg.start("new", tmp_path, {})
    assert {r.name for r in reg.runs()} == {"old", "new"}


def test_a_checkpoint_missing_what_a_trainer_writes_is_damaged(tmp_path):
    from gamelm.runs.checkpoints import WRITTEN, damage

    ckpt = tmp_path / "checkpoint_step_1"
    ckpt.mkdir()
    (ckpt / "trainer_state.json").write_text("[]")
    assert damage(ckpt) == "trainer_state.json holds no settings"
    (ckpt / "trainer_state.json").write_text("{}")
    assert damage(ckpt) is None
    assert damage(ckpt, WRITTEN) == "optimizer.safetensors is missing"


def test_reading_makes_no_registry(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run registry"):
        Registry(tmp_path / "none", create=False)
    assert not (tmp_path / "none").exists()
