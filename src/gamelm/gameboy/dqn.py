"""A double DQN on the downsampled screen plus RAM features.

* `QNetwork`: two convolutions over the grey screen, joined with the feature vector
  (`gamelm.gameboy.crystal.features`), then one hidden layer to a Q-value per button.
* `ReplayBuffer`: a ring of transitions in NumPy (screens as uint8), with the mask of buttons
  allowed in the next state, so that neither acting nor the bootstrap target ever uses a
  forbidden button.
* `DQN`: epsilon-greedy acting on a linear schedule, Huber loss on the double-DQN target
  ``r + gamma * Q_target(s', argmax_a Q_online(s', a))``, the target network copied every
  ``target_update`` updates, gradient norm clipped.

Checkpoints (`DQN.save`) are a directory written atomically: both networks in safetensors, the
optimizer, counters and random states in JSON. The replay buffer is not saved: a resumed run
refills it before learning again (``learning_starts``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from gamelm.files import atomic_directory
from gamelm.runs.checkpoints import load_optimizer, optimizer_tensors


@dataclass
class DQNConfig:
    lr: float = 2.5e-4
    gamma: float = 0.97
    batch_size: int = 32
    replay_size: int = 20_000
    learning_starts: int = 500
    train_every: int = 4
    target_update: int = 250
    eps_start: float = 1.0
    eps_end: float = 0.05
    eps_decay_actions: int = 20_000
    hidden: int = 256
    max_grad_norm: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.gamma < 1:
            raise ValueError("gamma must be between 0 and 1")
        if self.batch_size < 1 or self.replay_size < self.batch_size:
            raise ValueError("the replay buffer must hold at least one batch")

    def to_dict(self) -> dict:
        return asdict(self)


class QNetwork(nn.Module):
    def __init__(self, screen_shape: tuple[int, int], n_features: int, n_actions: int, hidden: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
            nn.Flatten(),
        )  # fmt: skip
        with torch.no_grad():
            flat = self.conv(torch.zeros(1, 1, *screen_shape)).shape[1]
        self.head = nn.Sequential(
            nn.Linear(flat + n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_actions)
        )

    def forward(self, screens: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        x = self.conv(screens.unsqueeze(1).float() / 255.0)
        return self.head(torch.cat([x, feats], dim=1))


class ReplayBuffer:
    def __init__(self, size: int, screen_shape, n_features: int, n_actions: int) -> None:
        self.size, self.n, self.pos = size, 0, 0
        self.screens = np.zeros((size, *screen_shape), np.uint8)
        self.next_screens = np.zeros((size, *screen_shape), np.uint8)
        self.feats = np.zeros((size, n_features), np.float32)
        self.next_feats = np.zeros((size, n_features), np.float32)
        self.actions = np.zeros(size, np.int64)
        self.rewards = np.zeros(size, np.float32)
        self.dones = np.zeros(size, np.float32)
        self.next_masks = np.zeros((size, n_actions), bool)

    def add(self, screen, feats, action, reward, next_screen, next_feats, done, next_mask):
        i = self.pos
        self.screens[i], self.feats[i], self.actions[i] = screen, feats, action
        self.rewards[i], self.dones[i] = reward, float(done)
        self.next_screens[i], self.next_feats[i], self.next_masks[i] = (
            next_screen, next_feats, next_mask,
        )  # fmt: skip
        self.pos = (i + 1) % self.size
        self.n = min(self.n + 1, self.size)

    def sample(self, batch: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        idx = rng.integers(0, self.n, size=batch)
        return {
            "screens": torch.from_numpy(self.screens[idx]),
            "feats": torch.from_numpy(self.feats[idx]),
            "actions": torch.from_numpy(self.actions[idx]),
            "rewards": torch.from_numpy(self.rewards[idx]),
            "next_screens": torch.from_numpy(self.next_screens[idx]),
            "next_feats": torch.from_numpy(self.next_feats[idx]),
            "dones": torch.from_numpy(self.dones[idx]),
            "next_masks": torch.from_numpy(self.next_masks[idx]),
        }

    def __len__(self) -> int:
        return self.n


class DQN:
    def __init__(
        self,
        screen_shape: tuple[int, int],
        n_features: int,
        n_actions: int,
        config: DQNConfig | None = None,
    ) -> None:
        self.config = cfg = config or DQNConfig()
        self.shape = tuple(screen_shape)
        self.n_features, self.n_actions = n_features, n_actions
        torch.manual_seed(cfg.seed)
        self.online = QNetwork(self.shape, n_features, n_actions, cfg.hidden)
        self.target = QNetwork(self.shape, n_features, n_actions, cfg.hidden)
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        self.opt = torch.optim.Adam(self.online.parameters(), lr=cfg.lr)
        self.replay = ReplayBuffer(cfg.replay_size, self.shape, n_features, n_actions)
        self.rng = np.random.default_rng(cfg.seed)
        self.steps = 0  # transitions seen
        self.updates = 0
        self.last_loss: float | None = None
        self.last_q: float | None = None

    @property
    def epsilon(self) -> float:
        cfg = self.config
        frac = min(1.0, self.steps / max(cfg.eps_decay_actions, 1))
        return cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)

    @torch.no_grad()
    def q_values(self, screen: np.ndarray, feats) -> np.ndarray:
        s = torch.from_numpy(np.asarray(screen, np.uint8)[None])
        f = torch.tensor(np.asarray(feats, np.float32)[None])
        return self.online(s, f)[0].numpy()

    def act(self, screen: np.ndarray, feats, mask: np.ndarray, greedy: bool = False) -> int:
        """An allowed action (``mask``): random with probability epsilon, else the best."""
        allowed = np.flatnonzero(mask)
        if len(allowed) == 0:
            raise ValueError("no action is allowed")
        if not greedy and self.rng.random() < self.epsilon:
            return int(self.rng.choice(allowed))
        q = self.q_values(screen, feats)
        self.last_q = float(q[allowed].max())
        return int(allowed[np.argmax(q[allowed])])

    def remember(self, screen, feats, action, reward, next_screen, next_feats, done, next_mask):
        """Store a transition; learn every ``train_every`` of them once the buffer is warm.
        Returns the loss when an update ran."""
        self.replay.add(screen, feats, action, reward, next_screen, next_feats, done, next_mask)
        self.steps += 1
        cfg = self.config
        if len(self.replay) >= max(cfg.learning_starts, cfg.batch_size):
            if self.steps % cfg.train_every == 0:
                return self.update()
        return None

    def update(self) -> float:
        cfg = self.config
        b = self.replay.sample(cfg.batch_size, self.rng)
        q = self.online(b["screens"], b["feats"]).gather(1, b["actions"][:, None])[:, 0]
        with torch.no_grad():
            masked = self.online(b["next_screens"], b["next_feats"]).masked_fill(
                ~b["next_masks"], float("-inf")
            )
            best = masked.argmax(dim=1, keepdim=True)
            next_q = self.target(b["next_screens"], b["next_feats"]).gather(1, best)[:, 0]
            target = b["rewards"] + cfg.gamma * (1.0 - b["dones"]) * next_q
        loss = F.smooth_l1_loss(q, target)
        self.opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.online.parameters(), cfg.max_grad_norm)
        self.opt.step()
        self.updates += 1
        if self.updates % cfg.target_update == 0:
            self.target.load_state_dict(self.online.state_dict())
        self.last_loss = float(loss.detach())
        return self.last_loss

    def stats(self) -> dict:
        return {
            "epsilon": round(self.epsilon, 4),
            "replay": len(self.replay),
            "updates": self.updates,
            "loss": self.last_loss,
            "q": self.last_q,
        }

    # -- checkpoints -----------------------------------------------------------------------------

    def save(self, path: str | Path, extra: dict | None = None) -> Path:
        """Write the networks, optimizer and counters to directory ``path`` atomically;
        ``extra`` (JSON) is kept beside them."""
        with atomic_directory(path) as tmp:
            tensors = {f"online.{k}": v for k, v in self.online.state_dict().items()}
            tensors.update({f"target.{k}": v for k, v in self.target.state_dict().items()})
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp / "dqn.safetensors"))
            opt_tensors, opt_meta = optimizer_tensors(self.opt)
            save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
            state = {
                "config": self.config.to_dict(),
                "screen_shape": list(self.shape),
                "n_features": self.n_features,
                "n_actions": self.n_actions,
                "steps": self.steps,
                "updates": self.updates,
                "rng": self.rng.bit_generator.state,
                "optimizer": opt_meta,
                "extra": extra or {},
            }
            (tmp / "dqn_state.json").write_text(json.dumps(state, indent=1))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> tuple[DQN, dict]:
        """A DQN from `save`'s directory, and the ``extra`` saved with it."""
        p = Path(path)
        try:
            state = json.loads((p / "dqn_state.json").read_text())
            tensors = load_file(str(p / "dqn.safetensors"))
            opt_tensors = load_file(str(p / "optimizer.safetensors"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{p} is not a readable DQN checkpoint ({exc})") from None
        dqn = cls(
            tuple(state["screen_shape"]), state["n_features"], state["n_actions"],
            DQNConfig(**state["config"]),
        )  # fmt: skip
        dqn.online.load_state_dict(
            {k[len("online.") :]: v for k, v in tensors.items() if k.startswith("online.")}
        )
        dqn.target.load_state_dict(
            {k[len("target.") :]: v for k, v in tensors.items() if k.startswith("target.")}
        )
        load_optimizer(dqn.opt, opt_tensors, state["optimizer"])
        dqn.steps, dqn.updates = state["steps"], state["updates"]
        dqn.rng.bit_generator.state = state["rng"]
        return dqn, state["extra"]
