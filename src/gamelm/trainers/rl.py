"""Policy-gradient fine-tuning of a language model against opponents (`gamelm rl`).

The model (any transformers causal LM through `gamelm.models.causal_lm.CausalLMPolicy`, or the
small poker LM) plays real hands on the batched engine against fixed opponents (a baseline, the
CFR blueprint ``blueprint:PATH``, a checkpoint...), seat-rotated on duplicate deals, and learns from
the chips it wins. Every decision is one forward pass: the policy is the softmax over the legal
action tokens (`gamelm.models.lm.PokerLM.forward` / `CausalLMPolicy.forward`), so log-probabilities,
entropies and the KL divergence to the reference model are exact sums over a handful of actions.

Per epoch (phases marked in `RLTrainer.epoch`):

1. **rollout**: ``episodes_per_epoch`` hands; the learner samples its actions (``temperature``)
   and every decision is recorded with its token ids, log-probability and value;
2. **rewards**: the hand's result in big blinds at the learner's last decision of the hand, plus
   the shaping terms of `gamelm.trainers.shaping` (bluff, aggression, fold equity, exploitative
   sizing), each weighted and logged separately, plus optionally a reward model's score of every
   decision (`gamelm.trainers.reward_model.RewardModel`, ``reward_model_weight``);
3. **advantages**: REINFORCE uses the return to the end of the hand minus the value head's
   baseline; PPO uses GAE(lambda) over the learner's decisions of each hand (``gamma`` 1);
4. **update**: REINFORCE: one pass of ``-logp(a) * advantage``; PPO (Schulman et al., 2017):
   ``ppo_epochs`` passes of the clipped surrogate. Both add ``value_coef`` times the value head's
   Huber loss, ``kl_coef`` times the exact KL(policy || reference) on the decision's actions (the
   reference is the starting model, frozen; with LoRA, the model with its adapters off), and
   ``-entropy_coef`` times the entropy;
5. **logging**: average return, win rate, bb/100 with its 95% CI (duplicate deals are the
   units), the losses, KL, entropy and every reward term, to ``metrics.jsonl``, TensorBoard and the
   progress callback. A checkpoint every ``checkpoint_every`` epochs (model, optimizer, counters),
   the best epoch's model (by bb/100) in ``out/best``, the final model in ``out``.

TRL 1.x no longer ships a PPO trainer for causal LMs; this one is written on gamelm's shared
action-token policy code instead. GRPO on single-decision prompts is `gamelm.trainers.grpo`.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gamelm.agents.base import Observation
from gamelm.agents.lm import example_ids
from gamelm.agents.opponent_model import OpponentModel, feature_index
from gamelm.agents.registry import make_agent
from gamelm.agents.tabular import check_table
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import agent_win_rates
from gamelm.files import atomic_directory
from gamelm.poker.rules import check_seats
from gamelm.rollouts.trajectory import gae
from gamelm.trainers.hf_common import (
    DEFAULT_TARGETS,
    check_settings,
    config_from_dict,
    lora_config,
    pick_device,
    with_lora,
)
from gamelm.trainers.losses import clipped_surrogate
from gamelm.trainers.shaping import RAISE, SHAPING, Decisions

ALGORITHMS = ("reinforce", "ppo")


@dataclass
class RLConfig:
    """Settings of `RLTrainer` (the flags of ``gamelm rl`` map onto them).

    Args:
        model: the starting policy: a model directory (gamelm poker LM, fine-tuned LLM, any
            transformers causal LM) or a hub name.
        opponent: agent specs of the other seats, comma-separated, cycled over the seats.
        out: run directory: final model, ``best/``, ``checkpoints/``, ``metrics.jsonl``.
        algorithm: ``reinforce`` (with the value head as baseline) or ``ppo``.
        num_epochs: epochs of rollout + update.
        episodes_per_epoch: hands played per epoch.
        seats: players per table (the learner holds one seat, rotated over the deals).
        learning_rate: AdamW step size.
        ppo_epochs: passes over each epoch's decisions (PPO; REINFORCE makes one).
        minibatch_size: decisions per gradient step.
        micro_batch_size: decisions per forward pass (their gradients add up to the step's); 0:
            the whole minibatch at once. A large LLM needs a small one: the activations of 128
            prompts through a 135 M model fill about 20 GB.
        clip_epsilon: PPO's ratio clip.
        gae_lambda: GAE's lambda (PPO).
        value_coef: weight of the value head's loss.
        kl_coef: weight of KL(policy || reference).
        entropy_coef: weight of the entropy bonus.
        temperature: sampling temperature of the learner's actions.
        max_grad_norm: gradient clipping.
        bluff_bonus, aggression_bonus, fold_equity_bonus, sizing_bonus: weights (big blinds)
            of the shaping terms of `gamelm.trainers.shaping`.
        reward_model: a `gamelm reward-model` directory scoring every decision (optional).
        reward_model_weight: weight of its score.
        equity_trials: Monte Carlo deals for the equity the bluff and sizing terms read.
        checkpoint_every: epochs between checkpoints (the last two are kept).
        lora_rank, lora_alpha, lora_dropout, target_modules: LoRA (rank 0: full fine-tuning).
        bf16: bfloat16 autocast (GPU).
        stack_bb: starting stacks in big blinds.
        fractions: raise sizes of the action menu, as pot fractions (None: the poker LM's own,
            else 0.5 and 1 pot).
        tables: tables played in lockstep.
        seed: seed of the deals, sampling and initialisation.
        device: ``auto``, ``cpu`` or ``cuda``.
        resume: continue from the newest checkpoint in ``out/checkpoints``.
        dtype: weights' dtype when loading a transformers LLM (``float32`` keeps full-precision
            master weights; ``--bf16`` then trains in mixed precision).
        prompt_style: the prompt a transformers LLM reads, ``full``, ``compact`` or
            ``equity``; None: the starting model's own (as in
            `gamelm.trainers.hf_common.HFRunConfig`).
    """

    model: str
    opponent: str = "calling-station"
    out: str = "runs/rl"
    algorithm: str = "ppo"
    num_epochs: int = 10
    episodes_per_epoch: int = 512
    seats: int = 2
    learning_rate: float = 1e-4
    ppo_epochs: int = 2
    minibatch_size: int = 128
    micro_batch_size: int = 0
    clip_epsilon: float = 0.2
    gae_lambda: float = 0.95
    value_coef: float = 0.5
    kl_coef: float = 0.02
    entropy_coef: float = 0.0
    temperature: float = 1.0
    max_grad_norm: float = 1.0
    bluff_bonus: float = 0.0
    aggression_bonus: float = 0.0
    fold_equity_bonus: float = 0.0
    sizing_bonus: float = 0.0
    reward_model: str | None = None
    reward_model_weight: float = 1.0
    equity_trials: int = 100
    checkpoint_every: int = 5
    lora_rank: int = 0
    lora_alpha: int | None = None
    lora_dropout: float = 0.0  # > 0 makes PPO's first ratio differ from 1 (eval vs train mode)
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    bf16: bool = False
    stack_bb: int = 100
    fractions: tuple[float, ...] | None = None
    tables: int = 256
    seed: int = 0
    device: str = "auto"
    resume: bool = False
    dtype: str = "float32"
    prompt_style: str | None = None

    def __post_init__(self) -> None:
        check_settings(
            self,
            (
                "num_epochs",
                "episodes_per_epoch",
                "ppo_epochs",
                "minibatch_size",
                "checkpoint_every",
                "tables",
                "equity_trials",
            ),
        )
        if self.micro_batch_size < 0:
            raise ValueError(f"micro_batch_size must be >= 0, got {self.micro_batch_size}")
        if self.fractions is not None:
            self.fractions = tuple(sorted(float(f) for f in self.fractions))
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}"
            )
        check_seats(self.seats)
        if not 0 <= self.gae_lambda <= 1:
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        if self.temperature <= 0:
            raise ValueError(
                f"temperature must be > 0 (the learner samples), got {self.temperature}"
            )
        for name in ("value_coef", "kl_coef", "entropy_coef", "clip_epsilon", "max_grad_norm"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.opponent.strip():
            raise ValueError("give at least one opponent")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RLConfig:
        return config_from_dict(cls, values, "rl")

    @property
    def bonus_weights(self) -> dict[str, float]:
        return {
            "bluff": self.bluff_bonus,
            "aggression": self.aggression_bonus,
            "fold_equity": self.fold_equity_bonus,
            "sizing": self.sizing_bonus,
        }


@dataclass
class Batch:
    """The learner's decisions of one epoch (``n`` rows, in the order they were made)."""

    ids: list[list[int]]  # token ids the policy read
    choices: np.ndarray  # (n, A) token of every menu entry
    legal: np.ndarray  # (n, A)
    action: np.ndarray  # (n,) menu entry played
    logp: np.ndarray  # (n,) its log-probability when played
    value: np.ndarray  # (n,)
    hand: np.ndarray  # (n,) hand index in the epoch's match
    seat: np.ndarray  # (n,)
    features: dict[str, np.ndarray]  # per-decision inputs of the shaping terms
    reward_model: np.ndarray  # (n,) reward model scores (0 without one)


class _Learner:
    """The agent the trainer plays: samples from the policy and records every decision."""

    def __init__(self, trainer: RLTrainer) -> None:
        self.t = trainer
        self.name = "learner"
        self.rows: list[dict[str, Any]] = []

    def act(self, obs: Observation, rng: np.random.Generator) -> np.ndarray:
        t = self.t
        view = t.policy.view
        ids, choices = example_ids(view, obs, rng=rng)
        step = getattr(t.policy, "max_batch", 4096)  # an LLM's prompts: a few at a time
        parts = []
        with torch.inference_mode(), t.autocast():
            for lo in range(0, obs.size, step):
                rows = slice(lo, lo + step)
                tokens, mask = view.pad(ids[rows], t.device)
                parts.append(
                    t.policy(
                        tokens,
                        mask,
                        torch.as_tensor(choices[rows], device=t.device),
                        torch.as_tensor(obs.legal[rows], device=t.device),
                        t.cfg.temperature,
                    )
                )
        logp = torch.cat([x[0] for x in parts])
        value = torch.cat([x[1] for x in parts])
        p = logp.float().exp().cpu().numpy().astype(np.float64)
        cdf = np.cumsum(p, axis=1)
        u = rng.random(obs.size) * cdf[:, -1]
        action = np.minimum((cdf < u[:, None]).sum(axis=1), p.shape[1] - 1)
        rows = np.arange(obs.size)
        logp_a = logp.float().cpu().numpy()[rows, action]
        features = decision_features(obs, action, t.needs_equity, t.cfg.equity_trials, rng)
        rm = np.zeros(obs.size)
        if t.reward_model is not None:
            rm = t.reward_model.score(obs, action)
        self.rows.append(
            {
                "ids": ids,
                "choices": choices,
                "legal": obs.legal.copy(),
                "action": action,
                "logp": logp_a,
                "value": value.float().cpu().numpy(),
                "hand": obs.hand.copy(),
                "seat": obs.seat.copy(),
                "features": features,
                "reward_model": rm,
            }
        )
        return action.astype(np.int64)

    def batch(self) -> Batch:
        rows = self.rows
        cat = np.concatenate
        return Batch(
            ids=[x for r in rows for x in r["ids"]],
            choices=cat([r["choices"] for r in rows]),
            legal=cat([r["legal"] for r in rows]),
            action=cat([r["action"] for r in rows]),
            logp=cat([r["logp"] for r in rows]),
            value=cat([r["value"] for r in rows]),
            hand=cat([r["hand"] for r in rows]),
            seat=cat([r["seat"] for r in rows]),
            features={k: cat([r["features"][k] for r in rows]) for k in rows[0]["features"]},
            reward_model=cat([r["reward_model"] for r in rows]),
        )


def decision_features(
    obs: Observation,
    action: np.ndarray,
    with_equity: bool,
    trials: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The per-decision inputs of the shaping terms (the outcome is added after the hand)."""
    rows = np.arange(obs.size)
    kind = np.where(action == 0, 0, np.where(action == 1, 1, RAISE))
    after_call = obs.pot + obs.to_call
    target = obs.raise_to[rows, action]
    added = target - obs.bets[rows, obs.seat] - obs.to_call
    size = np.where(kind == RAISE, added / np.maximum(after_call, 1), 0.0)
    fold = np.full(obs.size, 0.5)
    if obs.opponent_stats is not None:
        col = obs.opponent_stats[:, :, feature_index("fold_to_cbet")]
        live = ~obs.folded.copy()
        live[rows, obs.seat] = False
        fold = (col * live).sum(axis=1) / np.maximum(live.sum(axis=1), 1)
    equity = obs.strength(trials, rng) if with_equity else np.full(obs.size, np.nan)
    return {
        "kind": kind,
        "street": obs.street.copy(),
        "equity": equity,
        "size": size,
        "pot_bb": obs.pot / obs.big_blind,
        "opponent_fold": fold,
    }


def _kl_entropy(logp: torch.Tensor, ref: torch.Tensor, legal: torch.Tensor):
    """Exact KL(p || ref) and entropy of p over the legal entries, per row."""
    p = logp.exp()
    safe = torch.where(legal, logp, torch.zeros_like(logp))
    safe_ref = torch.where(legal, ref, torch.zeros_like(ref))
    kl = (p * (safe - safe_ref)).sum(-1)
    entropy = -(p * safe).sum(-1)
    return kl, entropy


class RLTrainer:
    """Plays ``cfg.num_epochs`` epochs against ``cfg.opponent`` and learns from them."""

    def __init__(self, cfg: RLConfig) -> None:
        from gamelm.models.lm import load_policy

        self.cfg = cfg
        self.device = pick_device(cfg.device)
        self.out = Path(cfg.out)
        torch.manual_seed(cfg.seed)
        self.policy = load_policy(cfg.model, dtype=cfg.dtype, prompt_style=cfg.prompt_style).to(
            self.device
        )
        specs = [s.strip() for s in cfg.opponent.split(",") if s.strip()]
        self.opponents = [make_agent(s) for s in specs]
        if cfg.fractions is None:  # the poker LM's own raise sizes, else the usual menu
            cfg.fractions = tuple(getattr(self.policy, "fractions", None) or (0.5, 1.0))
        for spec, agent in [(cfg.model, self.policy), *zip(specs, self.opponents)]:
            check_table(agent, spec, cfg.seats, cfg.stack_bb)
            model = getattr(agent, "model", agent)
            sizes = getattr(model, "fractions", None)
            if sizes is not None and tuple(sizes) != cfg.fractions:
                raise ValueError(
                    f"{spec} was trained with raise sizes {tuple(sizes)}; this run uses "
                    f"{cfg.fractions}"
                )
        if cfg.lora_rank:
            peft = lora_config(
                cfg.lora_rank,
                cfg.lora_alpha,
                cfg.lora_dropout,
                cfg.target_modules,
                "CAUSAL_LM",
                self.policy,
            )
            self.policy.lm = with_lora(self.policy.lm, peft)
            self.reference = None  # the model with its adapters off
        else:
            self.reference = copy.deepcopy(self.policy).eval()
            for p in self.reference.parameters():
                p.requires_grad_(False)
        params = [p for p in self.policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
        self.reward_model = None
        if cfg.reward_model:
            from gamelm.trainers.reward_model import RewardModel

            self.reward_model = RewardModel.load(cfg.reward_model, self.device)
        self.needs_equity = cfg.bluff_bonus != 0 or cfg.sizing_bonus != 0
        if len(specs) > cfg.seats - 1:
            raise ValueError(f"{len(specs)} opponents do not fit at {cfg.seats} seats")
        lineup = ["learner", *[f"{s}#{k}" for k, s in enumerate(specs)]]
        # the sizing term reads the opponents' fold rates, kept over the whole run
        self.opponent_model = OpponentModel(lineup) if cfg.sizing_bonus else None
        self.epoch_done = 0
        self.best = -math.inf
        self.history: list[dict[str, Any]] = []
        if cfg.resume:
            self._restore()

    # -- helpers ---------------------------------------------------------------------------------

    def autocast(self):
        if self.cfg.bf16 and self.device.startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def _reference_logp(self, batch: Batch) -> np.ndarray:
        """``(n, A)`` log-probabilities of the reference model at every decision."""
        out = []
        size = self.cfg.micro_batch_size or self.cfg.minibatch_size
        ctx = self.policy.lm.disable_adapter() if self.reference is None else nullcontext()
        model = self.policy if self.reference is None else self.reference
        with torch.inference_mode(), ctx, self.autocast():
            for s in range(0, len(batch.ids), size):
                logp, _ = model(*self._tensors(batch, np.arange(s, min(s + size, len(batch.ids)))))
                out.append(logp.float().cpu().numpy())
        return np.concatenate(out)

    def _tensors(self, batch: Batch, rows: np.ndarray):
        tokens, mask = self.policy.view.pad([batch.ids[i] for i in rows], self.device)
        return (
            tokens,
            mask,
            torch.as_tensor(batch.choices[rows], device=self.device),
            torch.as_tensor(batch.legal[rows], device=self.device),
            self.cfg.temperature,
        )

    # -- one epoch -------------------------------------------------------------------------------

    def rollout(self, epoch: int):
        """Play the epoch's hands; return the match result and the learner's decisions."""

        cfg = self.cfg
        learner = _Learner(self)
        agents = [learner, *self.opponents]  # the match cycles the opponents over the seats
        match = MatchConfig(
            seats=cfg.seats,
            hands=cfg.episodes_per_epoch,
            duplicate=True,
            seed=cfg.seed * 100_003 + epoch,
            stack_bb=cfg.stack_bb,
            fractions=cfg.fractions,
            tables=min(cfg.tables, cfg.episodes_per_epoch),
        )
        model = self.opponent_model if self.opponent_model is not None else False
        self.policy.eval()
        result = play_match(agents, match, model=model)
        if not learner.rows:
            raise RuntimeError("the learner made no decision this epoch; play more hands")
        return result, learner.batch()

    def rewards(self, result: Any, batch: Batch) -> tuple[np.ndarray, dict[str, float]]:
        """Per-decision rewards: the hand's chips (bb) at the learner's last decision of it,
        the weighted shaping terms and the reward model's score; and each term's mean per
        hand."""
        cfg = self.cfg
        bb = result.config.big_blind
        n = batch.action.size
        payoff = result.payoffs[batch.hand, batch.seat] / bb
        key = batch.hand * 16 + batch.seat
        last = np.ones(n, bool)
        order = np.argsort(key, kind="stable")
        same = key[order][1:] == key[order][:-1]
        last[order[:-1][same]] = False  # a later decision of the same seat in the same hand
        won_quietly = (payoff > 0) & ~result.showdown[batch.hand]
        d = Decisions(
            ended_hand=last,
            won_no_showdown=won_quietly,
            **{k: batch.features[k] for k in ("kind", "street", "equity", "size", "pot_bb")},
            opponent_fold=batch.features["opponent_fold"],
        )
        reward = np.where(last, payoff, 0.0)
        hands = result.payoffs.shape[0]
        terms = {"chips": float(reward.sum() / hands)}
        for name, weight in cfg.bonus_weights.items():
            if weight:
                bonus = weight * SHAPING[name](d)
                reward = reward + bonus
                terms[f"shaping_{name}"] = float(bonus.sum() / hands)
        if self.reward_model is not None:
            rm = cfg.reward_model_weight * batch.reward_model
            reward = reward + rm
            terms["reward_model"] = float(rm.sum() / hands)
        return reward, terms

    def advantages(self, batch: Batch, reward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(advantages, value targets)``; episodes are a seat's decisions in one hand."""
        key = batch.hand * 16 + batch.seat
        order = np.argsort(key, kind="stable")
        lam = 1.0 if self.cfg.algorithm == "reinforce" else self.cfg.gae_lambda
        adv_sorted, ret_sorted = gae(reward[order], batch.value[order], key[order], 1.0, lam)
        adv, ret = np.empty_like(adv_sorted), np.empty_like(ret_sorted)
        adv[order], ret[order] = adv_sorted, ret_sorted
        return adv, ret

    def update(self, batch: Batch, adv: np.ndarray, ret: np.ndarray) -> dict[str, float]:
        """The gradient steps of the epoch (phase 4 of the module docstring)."""
        cfg = self.cfg
        ref = self._reference_logp(batch)
        n = adv.size
        norm = (adv - adv.mean()) / (adv.std() + 1e-8) if n > 1 else adv
        passes = cfg.ppo_epochs if cfg.algorithm == "ppo" else 1
        gen = torch.Generator().manual_seed(cfg.seed * 7919 + self.epoch_done)
        sums = dict.fromkeys(("loss", "policy_loss", "value_loss", "kl", "entropy", "clip"), 0.0)
        steps = 0
        self.policy.train()
        for _ in range(passes):
            perm = torch.randperm(n, generator=gen).numpy()
            for s in range(0, n, cfg.minibatch_size):
                rows = perm[s : s + cfg.minibatch_size]
                self.optimizer.zero_grad(set_to_none=True)
                micro = cfg.micro_batch_size or rows.size
                for m in range(0, rows.size, micro):
                    part = rows[m : m + micro]
                    terms = self._losses(batch, part, norm, ret, ref)
                    (terms["loss"] * (part.size / rows.size)).backward()
                    for k, v in terms.items():
                        sums[k] += float(v.detach()) * part.size / rows.size
                params = [p for p in self.policy.parameters() if p.requires_grad]
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                self.optimizer.step()
                steps += 1
        self.policy.eval()
        return {k: v / max(steps, 1) for k, v in sums.items()}

    def _losses(
        self, batch: Batch, rows: np.ndarray, norm: np.ndarray, ret: np.ndarray, ref: np.ndarray
    ) -> dict[str, torch.Tensor]:
        """The loss of ``rows`` (a mean over them) and its terms."""
        cfg = self.cfg
        with self.autocast():
            logp, value = self.policy(*self._tensors(batch, rows))
        logp = logp.float()
        a = torch.as_tensor(batch.action[rows], device=self.device)
        logp_a = logp.gather(1, a[:, None]).squeeze(1)
        advantage = torch.as_tensor(norm[rows], dtype=torch.float32, device=self.device)
        if cfg.algorithm == "ppo":
            old = torch.as_tensor(batch.logp[rows], device=self.device)
            policy_loss, clip, _ = clipped_surrogate(logp_a, old, advantage, cfg.clip_epsilon)
        else:
            policy_loss = -(logp_a * advantage).mean()
            clip = torch.zeros(())
        target = torch.as_tensor(ret[rows], dtype=torch.float32, device=self.device)
        value_loss = F.smooth_l1_loss(value.float(), target)
        legal = torch.as_tensor(batch.legal[rows], device=self.device)
        ref_logp = torch.as_tensor(ref[rows], device=self.device)
        kl, entropy = _kl_entropy(logp, ref_logp, legal)
        loss = (
            policy_loss
            + cfg.value_coef * value_loss
            + cfg.kl_coef * kl.mean()
            - cfg.entropy_coef * entropy.mean()
        )
        return {
            "loss": loss,
            "policy_loss": policy_loss,
            "value_loss": value_loss,
            "kl": kl.mean(),
            "entropy": entropy.mean(),
            "clip": clip,
        }

    def epoch(self) -> dict[str, Any]:
        """One epoch: rollout, rewards, advantages, update, logging; its record."""

        start = time.perf_counter()
        e = self.epoch_done + 1
        result, batch = self.rollout(e)  # 1. rollout
        played = time.perf_counter() - start
        rate = agent_win_rates(result)["learner"]
        if rate.bb_per_100 > self.best:  # the weights that earned it: saved before the update
            self.best = rate.bb_per_100
            self._save_best(e)
        reward, terms = self.rewards(result, batch)  # 2. rewards
        adv, ret = self.advantages(batch, reward)  # 3. advantages
        losses = self.update(batch, adv, ret)  # 4. update
        # 5. logging
        learner_chips = (result.payoffs * (result.lineup == 0)).sum(axis=1)
        record = {
            "epoch": e,
            "hands": int(result.payoffs.shape[0]),
            "decisions": int(batch.action.size),
            "avg_return": float(learner_chips.mean() / result.config.big_blind),
            "win_rate": float((learner_chips > 0).mean()),
            "bb_per_100": rate.bb_per_100,
            "ci95": list(rate.ci95),
            **losses,
            **terms,
            "seconds": round(time.perf_counter() - start, 2),
            "hands_per_s": round(result.payoffs.shape[0] / max(played, 1e-9), 1),
        }
        self.epoch_done = e
        self.history.append(record)
        return record

    # -- the run ---------------------------------------------------------------------------------

    def train(self, progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict]:
        """Run the remaining epochs; write checkpoints, ``best/``, the final model and
        ``metrics.jsonl`` under ``cfg.out``; return every epoch's record."""
        from gamelm.trainers.hf_common import save_final

        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "rl_config.json").write_text(json.dumps(asdict(cfg), indent=2))
        writer = self._writer()
        try:
            while self.epoch_done < cfg.num_epochs:
                record = self.epoch()
                with (self.out / "metrics.jsonl").open("a") as f:
                    f.write(json.dumps(record) + "\n")
                if writer is not None:
                    for k, v in record.items():
                        if isinstance(v, int | float) and k != "epoch":
                            writer.add_scalar(f"rl/{k}", v, record["epoch"])
                    writer.flush()
                if record["epoch"] % cfg.checkpoint_every == 0 or record["epoch"] == cfg.num_epochs:
                    self._checkpoint()
                if progress is not None:
                    progress(record)
        finally:
            if writer is not None:
                writer.close()
        keep = ("checkpoints", "best", "logs", "metrics.jsonl", "rl_config.json")
        save_final(self.policy, self.out, keep=keep)
        return self.history

    def _save_best(self, epoch: int) -> None:
        """The policy that played epoch ``epoch``'s hands (before that epoch's update)."""

        self.out.mkdir(parents=True, exist_ok=True)
        with atomic_directory(self.out / "best") as tmp:
            self.policy.write(tmp)
            (tmp / "epoch.json").write_text(json.dumps({"epoch": epoch, "bb_per_100": self.best}))

    def _checkpoint(self) -> None:
        from gamelm.runs.checkpoints import PREFIX, prune, save_checkpoint

        hands = sum(int(r["hands"]) for r in self.history)
        state = {
            "epoch": self.epoch_done,
            "best": self.best,
            "history": self.history,
            "config": asdict(self.cfg),
        }
        path = save_checkpoint(
            self.out / "checkpoints" / f"{PREFIX}{hands}", self.policy, self.optimizer, state
        )
        if self.cfg.lora_rank:  # the adapters themselves (the model files hold them merged)
            from peft import get_peft_model_state_dict
            from safetensors.torch import save_file

            adapter = get_peft_model_state_dict(self.policy.lm)
            save_file(
                {k: v.detach().cpu().contiguous() for k, v in adapter.items()},
                str(path / "adapter.safetensors"),
            )
        prune(self.out / "checkpoints", keep=2)

    def _restore(self) -> None:
        from safetensors.torch import load_file

        from gamelm.models.lm import load_policy
        from gamelm.runs.checkpoints import latest, load_optimizer

        path = latest(self.out / "checkpoints")
        if path is None:
            raise ValueError(f"--resume: no checkpoint in {self.out / 'checkpoints'}")
        saved = load_policy(path, self.device)
        if self.cfg.lora_rank:  # the base stays the starting model; the adapters come back
            from peft import set_peft_model_state_dict

            adapter = path / "adapter.safetensors"
            if not adapter.is_file():
                raise ValueError(f"--resume: {path} holds no LoRA adapter (was it a LoRA run?)")
            set_peft_model_state_dict(self.policy.lm, load_file(str(adapter)))
        else:
            self.policy.lm.load_state_dict(saved.lm.state_dict())
        self.policy.value_head.load_state_dict(saved.value_head.state_dict())
        state = json.loads((path / "trainer_state.json").read_text())
        load_optimizer(
            self.optimizer, load_file(str(path / "optimizer.safetensors")), state["optimizer"]
        )
        torch.set_rng_state(load_file(str(path / "rng.safetensors"))["torch_rng"])
        self.epoch_done = int(state["epoch"])
        self.best = float(state["best"])
        self.history = list(state["history"])
        metrics = self.out / "metrics.jsonl"  # drop records of epochs after the checkpoint
        metrics.write_text("".join(json.dumps(r) + "\n" for r in self.history))

    def _writer(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard not installed: metrics.jsonl only
            return None
        return SummaryWriter(str(self.out / "logs"))
