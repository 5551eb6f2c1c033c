"""Rollout workers: processes and Ray tasks collect an update's hands and merge them."""

import numpy as np
import pytest
import torch

from gamelm.agents.registry import make_agent
from gamelm.models.lm import PokerLM
from gamelm.rollouts.selfplay import collect
from gamelm.rollouts.workers import Job, merge, run_job, split
from gamelm.trainers.ppo import PPOConfig, PPOTrainer


def _job(model, hands, seed, opponent="calling-station"):
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    spec = {"preset": "tiny", "fractions": [0.5, 1.0], "strength_trials": 100, "overrides": {}}
    return Job(spec, weights, [opponent], None, hands, seed, tables=32)


def test_a_job_is_the_same_rollout_as_in_process():
    model = PokerLM.from_preset("tiny", seed=4).eval()
    here = collect(model, [make_agent("calling-station")], 64, np.random.default_rng(9), tables=32)
    there = run_job(_job(model, 64, 9))
    assert np.array_equal(here.actions, there.actions)
    assert np.allclose(here.logp, there.logp)


def test_merge_renumbers_hands_and_pads_tokens():
    model = PokerLM.from_preset("tiny", seed=4).eval()
    a, b = run_job(_job(model, 40, 1)), run_job(_job(model, 30, 2))
    both = merge([a, b], seats=2)
    assert both.hands == 70 and both.size == a.size + b.size
    assert np.unique(both.episodes).size == np.unique(a.episodes).size + np.unique(b.episodes).size
    assert (both.mask.sum(1) == np.concatenate([a.mask.sum(1), b.mask.sum(1)])).all()
    assert split(10, 3) == [4, 3, 3] and split(2, 3) == [1, 1]
    # a share may hold no learner decision at all (a one-hand share: the learner's big blind
    # is walked); merging still counts its hand and result
    shares = (run_job(_job(model, 1, s, "random")) for s in range(60))
    empty = next(r for r in shares if r.size == 0)
    merged = merge([a, empty], seats=2)
    assert merged.hands == 41 and merged.size == a.size
    assert merge([empty, empty], seats=2).hands == 2


def _train(tmp_path, **kw):
    cfg = PPOConfig(
        num_hands=256, hands_per_update=128, parallel_games=64, batch_size=128,
        eval_interval=0, checkpoint_frequency=0, threads=1, eval_hands=16,
        eval_opponents=("random",), opponents=("random", "snapshot"), snapshot_interval=1, **kw,
    )  # fmt: skip
    trainer = PPOTrainer(cfg, tmp_path / "run", runs_dir=tmp_path, tensorboard=False)
    before = torch.cat([p.detach().flatten() for p in trainer.model.parameters()]).clone()
    result = trainer.train()
    after = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    assert not torch.equal(before, after)
    assert torch.equal(after, _flat(PokerLM.load(result.final_model)))
    return result


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_training_with_worker_processes(tmp_path):
    result = _train(tmp_path, workers=2)
    assert result.hands == 256 and result.final_model.is_dir()


def test_training_on_a_local_ray_cluster(tmp_path):
    ray = pytest.importorskip("ray")
    try:
        result = _train(tmp_path, workers=2, ray_address="local")
    finally:
        ray.shutdown()
    assert result.hands == 256 and result.final_model.is_dir()
