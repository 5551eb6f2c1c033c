"""The double DQN: it learns a small contextual bandit, never picks a masked button, and
round-trips through a checkpoint."""

import numpy as np
import pytest
import torch

from gamelm.gameboy.dqn import DQN, DQNConfig


def screens():
    dark = np.zeros((36, 40), np.uint8)
    light = np.full((36, 40), 200, np.uint8)
    return dark, light


def test_learns_which_button_each_screen_wants():
    cfg = DQNConfig(lr=2e-3, gamma=0.5, batch_size=16, replay_size=2000, learning_starts=32,
                    train_every=1, target_update=50, eps_decay_actions=250, hidden=32)  # fmt: skip
    dqn = DQN((36, 40), 3, 4, cfg)
    dark, light = screens()
    rng = np.random.default_rng(0)
    mask = np.ones(4, bool)
    feats = np.zeros(3, np.float32)
    for _ in range(450):
        s = dark if rng.random() < 0.5 else light
        a = dqn.act(s, feats, mask)
        want = 1 if s is dark else 3
        s2 = dark if rng.random() < 0.5 else light
        dqn.remember(s, feats, a, float(a == want), s2, feats, False, mask)
    assert dqn.updates > 400 and dqn.epsilon == pytest.approx(0.05)
    assert dqn.act(dark, feats, mask, greedy=True) == 1
    assert dqn.act(light, feats, mask, greedy=True) == 3
    q = dqn.q_values(dark, feats)
    assert q[1] == pytest.approx(1 / (1 - cfg.gamma), abs=0.35)  # r + gamma * max Q


def test_masks_are_respected():
    dqn = DQN((36, 40), 3, 4, DQNConfig(eps_start=1.0, eps_end=1.0))
    dark, _ = screens()
    mask = np.array([False, True, False, True])
    picks = {dqn.act(dark, np.zeros(3), mask) for _ in range(200)}
    assert picks == {1, 3}
    assert dqn.act(dark, np.zeros(3), mask, greedy=True) in (1, 3)
    with pytest.raises(ValueError, match="no action is allowed"):
        dqn.act(dark, np.zeros(3), np.zeros(4, bool))


def test_target_ignores_masked_actions():
    cfg = DQNConfig(batch_size=1, replay_size=1, learning_starts=1, train_every=1, gamma=0.9,
                    lr=0.0)  # fmt: skip
    dqn = DQN((36, 40), 1, 2, cfg)
    dark, _ = screens()
    with torch.no_grad():  # make action 0 look far better than action 1 in every state
        dqn.online.head[2].bias.copy_(torch.tensor([100.0, 10.0]))
        dqn.target.head[2].bias.copy_(torch.tensor([100.0, 10.0]))
        q = dqn.online(torch.from_numpy(dark[None]), torch.zeros(1, 1))[0]
    dqn.remember(dark, [0.0], 1, 0.0, dark, [0.0], False, np.array([False, True]))
    # the target is 0.9 * Q_target(s', 1) (action 0 is masked), not 0.9 * Q(s', 0) ~ 90
    masked = torch.nn.functional.smooth_l1_loss(q[1], 0.9 * q[1])
    assert dqn.last_loss == pytest.approx(float(masked), rel=1e-4)
    assert dqn.last_loss < 2


def test_checkpoint_round_trip(tmp_path):
    cfg = DQNConfig(batch_size=8, replay_size=64, learning_starts=8, train_every=1, hidden=16)
    dqn = DQN((36, 40), 3, 4, cfg)
    dark, light = screens()
    for i in range(20):
        dqn.remember(dark, np.ones(3), i % 4, 1.0, light, np.ones(3), False, np.ones(4, bool))
    dqn.save(tmp_path / "ck", extra={"actions": 20})
    back, extra = DQN.load(tmp_path / "ck")
    assert extra == {"actions": 20} and back.steps == 20 and back.updates == dqn.updates
    assert np.allclose(back.q_values(dark, np.ones(3)), dqn.q_values(dark, np.ones(3)))
    assert back.epsilon == dqn.epsilon and back.config == dqn.config
    assert back.rng.random() == dqn.rng.random()
    with pytest.raises(ValueError, match="not a readable DQN checkpoint"):
        DQN.load(tmp_path / "missing")
