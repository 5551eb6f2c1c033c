"""gamelm datagen, ask, merge-lora and the accelerate launch of the trainers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from gamelm.agents.lm import model_inputs
from gamelm.cli import app
from gamelm.cli import llm as cli_llm
from gamelm.models.lm import load_policy
from gamelm.rollouts.datasets import observations, read_jsonl
from gamelm.trainers.sft import SFTConfig, train

runner = CliRunner()


def test_datagen_contract(tmp_path):
    out = tmp_path / "d"
    r = runner.invoke(
        app,
        [
            "datagen",
            "--expert",
            "equity",
            "--hands",
            "60",
            "--seats",
            "6",
            "--seed",
            "1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    counts = json.loads(r.stdout.strip().splitlines()[-1])
    for name in ("sft.jsonl", "sft.val.jsonl", "pairs.jsonl", "pairs.val.jsonl"):
        assert (out / name).is_file() and counts[name] == len((out / name).read_text().splitlines())
    assert read_jsonl(out / "sft.jsonl")[0]["state"]["players"] == 6
    r = runner.invoke(app, ["datagen", "--expert", "nobody", "--out", str(out)])
    assert r.exit_code == 2 and "unknown agent" in r.output
    r = runner.invoke(app, ["datagen", "--hands", "5", "--out", str(out)])  # no data is lost
    assert r.exit_code == 2 and "already holds a dataset" in r.output and "--append" in r.output
    assert counts["sft.jsonl"] == len((out / "sft.jsonl").read_text().splitlines())


def test_ask_batch_and_interactive(tiny_hf_model, tag_data, tmp_path):
    records = (tag_data / "sft.val.jsonl").read_text().splitlines()[:4]
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join(records) + "\n")
    r = runner.invoke(
        app,
        [
            "ask",
            str(tiny_hf_model),
            "--mode",
            "batch",
            "--test-file",
            str(batch),
            "--device",
            "cpu",
        ],
    )
    assert r.exit_code == 0, r.output
    answers = read_jsonl(tmp_path / "questions.jsonl.answers.jsonl")
    assert len(answers) == 4
    for a in answers:
        assert (
            a["action"] in a["probabilities"] and abs(sum(a["probabilities"].values()) - 1) < 1e-3
        )
        assert a["correct"] == (a["action"] == a["expected"])
    text = tmp_path / "free.txt"
    text.write_text(
        "What is a check-raise?\n" + json.loads(records[0])["prompt"].replace("\n", " ") + "\n"
    )
    r = runner.invoke(
        app,
        [
            "ask",
            str(tiny_hf_model),
            "--mode",
            "batch",
            "--test-file",
            str(text),
            "--max-length",
            "5",
            "--temperature",
            "0",
            "--device",
            "cpu",
        ],
    )
    assert r.exit_code == 0, r.output
    free, scored = read_jsonl(tmp_path / "free.txt.answers.jsonl")
    assert free["action"] is None and isinstance(free["answer"], str)
    assert scored["action"].startswith("A")  # a prompt in the gamelm format gets its action
    r = runner.invoke(
        app,
        ["ask", str(tiny_hf_model), "--device", "cpu", "--max-length", "3"],
        input="hello\n" + records[0] + "\nquit\n",
    )
    assert r.exit_code == 0 and r.output.count("> ") >= 3 and '"A0"' in r.output
    r = runner.invoke(app, ["ask", str(tiny_hf_model), "--mode", "batch"])
    assert r.exit_code == 2 and "--test-file" in r.output


def test_merge_lora_rebuilds_the_trained_model(tiny_hf_model, tag_data, tmp_path):
    out = tmp_path / "sft"
    cfg = SFTConfig(
        model=str(tiny_hf_model), data=str(tag_data), out=str(out), max_steps=10,
        learning_rate=1e-2, lora_rank=4, target_modules=("q_proj", "v_proj"), device="cpu",
    )  # fmt: skip
    train(cfg, progress=False, logs=False)
    r = runner.invoke(app, ["merge-lora", str(out / "adapter"), "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    obs = observations([x["state"] for x in read_jsonl(tag_data / "sft.val.jsonl")[:8]])
    a, b = load_policy(out), load_policy(tmp_path / "m")
    with torch.no_grad():
        la, va = a(*model_inputs(a, obs))
        lb, vb = b(*model_inputs(b, obs))
    assert torch.allclose(la.exp(), lb.exp(), atol=1e-5) and torch.allclose(va, vb)
    r = runner.invoke(app, ["merge-lora", str(tmp_path), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "no adapter_config.json" in r.output


def test_accelerate_configs_parse_and_the_launch_command(monkeypatch, tmp_path):
    from accelerate.commands.config.config_args import load_config_from_file

    for name in ("ddp", "zero2", "zero3"):
        cfg = load_config_from_file(f"configs/accelerate/{name}.yaml")
        assert cfg.num_machines == 1
    seen = {}

    def fake_call(cmd, env):
        seen["cmd"], seen["env"] = cmd, env
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    monkeypatch.delenv("GAMELM_ACCELERATE", raising=False)
    monkeypatch.setattr(
        sys, "argv",
        ["gamelm", "sft", "--model", "m", "--accelerate-config", "configs/accelerate/ddp.yaml",
         "--data", "d", "--out", "o"],
    )  # fmt: skip
    r = runner.invoke(
        app,
        [
            "sft",
            "--model",
            "m",
            "--data",
            "d",
            "--out",
            "o",
            "--accelerate-config",
            "configs/accelerate/ddp.yaml",
        ],
    )
    assert r.exit_code == 0, r.output
    cmd = seen["cmd"]
    assert cmd[1:5] == ["launch", "--config_file", "configs/accelerate/ddp.yaml", "-m"]
    assert cmd[5:] == ["gamelm.cli", "sft", "--model", "m", "--data", "d", "--out", "o"]
    assert seen["env"]["GAMELM_ACCELERATE"] == "1"
    r = runner.invoke(
        app,
        [
            "sft",
            "--model",
            "m",
            "--data",
            "d",
            "--out",
            "o",
            "--accelerate-config",
            str(tmp_path / "none.yaml"),
        ],
    )
    assert r.exit_code == 2 and "does not exist" in r.output


def test_a_real_accelerate_launch_on_the_cpu(tiny_poker_lm, tag_data, tmp_path):
    """One process under `accelerate launch` (the same path as multi-GPU runs)."""
    config = tmp_path / "cpu.yaml"
    config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nnum_machines: 1\n"
        "num_processes: 1\nmachine_rank: 0\nmixed_precision: 'no'\nuse_cpu: true\n"
    )
    exe = str(cli_llm.Path(sys.executable).with_name("gamelm"))
    out = subprocess.run(
        [exe, "sft", "--model", str(tiny_poker_lm), "--data", str(tag_data), "--out",
         str(tmp_path / "o"), "--max-steps", "3", "--device", "cpu", "--json",
         "--accelerate-config", str(config)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["steps"] == 3 and (tmp_path / "o" / "config.json").is_file()


def test_outputs_under_a_file_and_unknown_devices_are_one_sentence(
    tiny_poker_lm, tag_data, tmp_path
):
    from gamelm.trainers.hf_common import record_problem
    from gamelm.trainers.sft import SFTConfig

    (tmp_path / "afile").write_text("x")
    under = str(tmp_path / "afile" / "sub")
    for args in (
        ["datagen", "--hands", "5", "--out", under],
        ["sft", "--model", str(tiny_poker_lm), "--data", str(tag_data), "--out", under],
        ["train", "--num-hands", "64", "--out", under],
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "is a file, not a folder" in r.output, r.output
    with pytest.raises(ValueError, match="device must be auto, cpu, cuda"):
        SFTConfig(model="m", data="d", out="o", device="nosuch")
    assert record_problem(KeyError("players")) == "the record or its state has no 'players'"


def test_a_trainer_never_writes_over_another_runs_output(tiny_poker_lm, tag_data, tmp_path):
    from gamelm.trainers.ppo import PPOConfig

    used = tmp_path / "used"
    used.mkdir()
    (used / "final_model").mkdir()
    for args in (
        ["sft", "--model", str(tiny_poker_lm), "--data", str(tag_data), "--out", str(used)],
        ["grpo", "--model", str(tiny_poker_lm), "--data", str(tag_data), "--out", str(used)],
        ["rl", "--model", str(tiny_poker_lm), "--out", str(used)],
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "already holds files of another run" in r.output, r.output
    # a run saved before 0.2 resumes with a new budget under the new name
    saved = PPOConfig.renamed({"num_games": 256, "games_per_update": 128})
    assert PPOConfig.from_saved({**saved, "num_hands": 384}).num_hands == 384
    with pytest.raises(ValueError, match="not both"):
        PPOConfig.renamed({"num_games": 1, "num_hands": 2})
