"""PPO: config checks, a smoke run that changes the model and reloads it, resume equivalence,
and learning a spot that is trivially won."""

from pathlib import Path

import numpy as np
import pytest
import torch

from gamelm.agents.base import pick_legal
from gamelm.agents.baselines import BASELINES
from gamelm.models.lm import PokerLM
from gamelm.poker.abstraction import CALL_ID, FOLD_ID
from gamelm.runs import checkpoints as ckpt
from gamelm.runs.registry import Registry
from gamelm.trainers.ppo import PPOConfig, PPOTrainer

ROOT = Path(__file__).resolve().parents[2]

TINY = dict(
    num_hands=384, hands_per_update=128, parallel_games=64, batch_size=128,
    eval_hands=64, eval_interval=2, checkpoint_frequency=1, keep_checkpoints=0,
    threads=1, snapshot_interval=1, opponents=("random", "snapshot"),
    eval_opponents=("calling-station",),
)  # fmt: skip


def test_the_yaml_file_holds_the_defaults():
    assert PPOConfig.from_yaml(ROOT / "configs" / "ppo.yaml") == PPOConfig()


@pytest.mark.parametrize(
    "bad,message",
    [
        ({"seats": 7}, "seats must be 2..6"),
        ({"num_hands": 0}, "num_hands must be at least 1"),
        ({"clip_epsilon": 1.5}, "clip_epsilon"),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number"),
        ({"opponents": ("nobody",)}, "unknown opponent 'nobody'"),
        ({"preset": "huge"}, "preset must be one of"),
        ({"device": "tpu"}, "device must be cpu or cuda"),
        ({"opponents": ("snapshot",), "snapshots": 0}, "raise snapshots"),
        ({"n_heads": 0}, "n_heads must be at least 1"),
        ({"d_model": -64}, "d_model must be at least 1"),
        ({"fractions": tuple(i / 10 for i in range(1, 10))}, "1 to 8 distinct"),
        ({"max_grad_norm": 0}, "max_grad_norm must be positive"),
        ({"entropy_coef": -0.1}, "must not be negative"),
        ({"opponents": ("exploit:tag",)}, "no opponent\\s+model"),
        ({"ray_address": "auto"}, "needs workers"),
        ({"strength_trials": -5}, "strength_trials must be >= 0"),
        ({"eval_opponents": ()}, "eval_opponents must name"),
    ],
)
def test_bad_settings_say_what_to_change(bad, message):
    with pytest.raises(ValueError, match=message):
        PPOConfig(**bad)


def test_unknown_settings_are_named():
    with pytest.raises(ValueError, match=r"unknown PPO setting.*lr"):
        PPOConfig.from_dict({"lr": 0.1})


def test_settings_from_yaml_or_set_are_read_as_their_types():
    cfg = PPOConfig.from_dict({"opponents": "tag, equity", "fractions": "1, 0.5",
                               "learning_rate": "1e-3", "eval_hands": 500})  # fmt: skip
    assert cfg.opponents == ("tag", "equity") and cfg.fractions == (0.5, 1.0)
    assert cfg.learning_rate == 0.001
    for bad, message in [({"seats": "two"}, "seats must be a whole number"),
                         ({"fractions": "abc"}, "fractions must be a number"),
                         ({"strength_trials": 1.5}, "strength_trials must be a whole number"),
                         ({"bf16": "yes"}, "bf16 must be true or false")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            PPOConfig.from_dict(bad)


def test_a_start_model_must_read_the_same_strength_token(tmp_path):
    PokerLM.from_preset("tiny", strength_trials=0).save(tmp_path / "cards_only")
    cfg = PPOConfig(num_hands=64, init_from=str(tmp_path / "cards_only"))
    with pytest.raises(ValueError, match="--set strength_trials=0"):
        PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path / "runs")
    # a league or evaluation model with other raise sizes fails now, not at the first evaluation
    PokerLM.from_preset("tiny", fractions=(0.33, 0.75)).save(tmp_path / "other_sizes")
    for key in ("opponents", "eval_opponents"):
        cfg = PPOConfig(num_hands=64, **{key: (f"ckpt:{tmp_path / 'other_sizes'}",)})
        with pytest.raises(ValueError, match="raise sizes"):
            PPOTrainer(cfg, tmp_path / f"run_{key}", runs_dir=tmp_path / "runs")


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_smoke_run_trains_logs_checkpoints_and_reloads(tmp_path):
    cfg = PPOConfig(**TINY)
    trainer = PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path / "runs")
    before = _params(trainer.model).clone()
    result = trainer.train()
    assert result.hands == 384 and result.updates == 3
    assert not torch.equal(before, _params(trainer.model))  # the parameters moved
    # the final model reloads to identical outputs, through from_pretrained
    loaded = PokerLM.load(result.final_model)
    assert torch.equal(_params(loaded), _params(trainer.model.eval()))
    from transformers import AutoModelForCausalLM

    hf = AutoModelForCausalLM.from_pretrained(result.final_model)
    assert hf.config.model_type == "llama"
    # checkpoints are complete model directories; the league's snapshots are kept
    found = ckpt.checkpoints(tmp_path / "run")
    assert [s for s, _ in found] == [128, 256, 384]
    reloaded, state, league = ckpt.load_checkpoint(found[-1][1], PokerLM.load)
    assert state["hands"] == 384 and len(league) == 3
    roll = trainer.rollout.__self__  # the trainer; play a few hands to get real inputs
    from gamelm.agents.registry import make_agent
    from gamelm.rollouts.selfplay import collect

    ro = collect(loaded, [make_agent("random")], 64, np.random.default_rng(0), tables=32)
    inputs = [torch.as_tensor(x) for x in (ro.tokens, ro.mask, ro.choices, ro.legal)]
    with torch.no_grad():
        for other in (reloaded, roll.model.eval()):
            a, b = other(*inputs), loaded(*inputs)
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # the registry holds the run, its metrics and checkpoints; TensorBoard has the events
    reg = Registry(tmp_path / "runs")
    assert reg.get("run").status == "finished"
    metrics = reg.metrics("run")
    assert [s for s, _ in metrics["losses/policy"]] == [128, 256, 384]
    assert [s for s, _ in metrics["eval/bb_per_100"]] == [256, 384]
    assert len(reg.checkpoints("run")) == 3
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))


def test_resume_continues_exactly(tmp_path):
    cfg = PPOConfig(**TINY)
    straight = PPOTrainer(cfg, tmp_path / "a", runs_dir=tmp_path / "runs", tensorboard=False)
    straight.train()
    # a second run from the first's checkpoint after two updates ends at the same weights
    middle = tmp_path / "a" / "checkpoint_step_256"
    resumed = PPOTrainer(cfg, tmp_path / "b", runs_dir=tmp_path / "runs", resume=middle,
                         tensorboard=False)  # fmt: skip
    assert resumed.hands == 256
    resumed.train()
    assert torch.equal(_params(straight.model), _params(resumed.model))
    assert straight.evals[-1]["bb_per_100"] == resumed.evals[-1]["bb_per_100"]


def test_a_run_directory_holds_one_run(tmp_path):
    cfg = PPOConfig(**{**TINY, "eval_interval": 0})
    PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path, tensorboard=False).train()
    with pytest.raises(ValueError, match="already holds a run"):
        PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path)
    with pytest.raises(ValueError, match="checkpoints newer than checkpoint_step_128"):
        PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path,
                   resume=tmp_path / "run" / "checkpoint_step_128")  # fmt: skip
    # a checkpoint of another run cannot continue into a directory that holds a run
    other = tmp_path / "other"
    PPOTrainer(cfg, other, runs_dir=tmp_path, tensorboard=False).train()
    with pytest.raises(ValueError, match="into a new --out"):
        PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path,
                   resume=other / "checkpoint_step_384")  # fmt: skip
    with pytest.raises(ValueError, match="cannot load 'ckpt:/nowhere'"):
        PPOTrainer(PPOConfig(**{**TINY, "eval_opponents": ("ckpt:/nowhere",)}), tmp_path / "x",
                   runs_dir=tmp_path)  # fmt: skip
    # the same folder name elsewhere is registered under a name of its own; a --name that is
    # taken is refused (it would overwrite the registry's record of the first run)
    assert PPOTrainer(cfg, tmp_path / "elsewhere" / "run", runs_dir=tmp_path).name == "run-2"
    with pytest.raises(ValueError, match="already registered"):
        PPOTrainer(cfg, tmp_path / "third" / "run", name="run", runs_dir=tmp_path)


def test_keep_checkpoints_prunes_the_oldest(tmp_path):
    cfg = PPOConfig(**{**TINY, "keep_checkpoints": 2, "eval_interval": 0})
    PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path, tensorboard=False).train()
    assert [s for s, _ in ckpt.checkpoints(tmp_path / "run")] == [256, 384]
    # a half-written checkpoint (no trainer state) is never the latest
    (tmp_path / "run" / "checkpoint_step_999").mkdir()
    assert ckpt.latest(tmp_path / "run").name == "checkpoint_step_384"


class FoldsToBets:
    """Checks when it can and folds to any bet: every hand is won by betting."""

    name = "folder"

    def act(self, obs, rng):
        want = np.where(obs.to_call > 0, FOLD_ID, CALL_ID)
        return pick_legal(obs, want)


def test_ppo_learns_to_bet_into_a_player_who_always_folds(tmp_path, monkeypatch):
    monkeypatch.setitem(BASELINES, "folder", FoldsToBets)
    cfg = PPOConfig(
        num_hands=6144, hands_per_update=512, parallel_games=256, batch_size=256,
        opponents=("folder",), eval_interval=0, eval_opponents=("folder",), eval_hands=256,
        checkpoint_frequency=0, learning_rate=3e-3, threads=1, seed=3,
    )  # fmt: skip
    trainer = PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path, tensorboard=False)
    results = []
    trainer.train(progress=lambda d: results.append(d["charts/train_bb_per_100"]))
    # the best play never folds and wins the blinds of every hand: +75 bb/100 over both seats;
    # the untrained policy folds now and then (one entry of its menu is fold)
    assert results[0] < 65
    assert np.mean(results[-3:]) > 73.5
