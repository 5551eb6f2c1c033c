"""The policy-gradient losses both on-policy trainers share (`gamelm.trainers.ppo` for the poker
LM, `gamelm.trainers.rl` for any LM): PPO's clipped surrogate and advantage normalisation.

PPO (Schulman et al., 2017, "Proximal Policy Optimization Algorithms") maximises
``min(r A, clip(r, 1 - eps, 1 + eps) A)`` with ``r = pi(a|s) / pi_old(a|s)``, so one batch of
rollouts can be reused for several gradient steps without the policy moving far from the one
that played. REINFORCE (Williams, 1992) is the unclipped ``log pi(a|s) A``.

>>> import torch
>>> logp = torch.log(torch.tensor([0.5, 0.2]))
>>> loss, clipped, kl = clipped_surrogate(logp, logp, torch.tensor([1.0, -1.0]), 0.2)
>>> abs(loss.item()), clipped.item(), kl.item()  # unchanged policy: r = 1, no clipping
(0.0, 0.0, 0.0)
"""

from __future__ import annotations

import torch


def normalized(advantages: torch.Tensor) -> torch.Tensor:
    """Advantages shifted to mean 0 and scaled to standard deviation 1 (as they are when there
    is a single one)."""
    if advantages.numel() < 2:
        return advantages
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def clipped_surrogate(
    logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip_epsilon: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's clipped policy loss over a minibatch ``(m,)`` of log-probabilities of the actions
    played, now (``logp``) and when they were played (``old_logp``), and their ``advantages``.

    Returns the loss (to minimise), the share of ratios outside ``1 +- clip_epsilon`` and the
    approximate KL divergence of the old policy from the new (``(r - 1) - log r``, Schulman's
    low-variance estimator); the last two without gradient."""
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    clipped = ratio.clamp(1 - clip_epsilon, 1 + clip_epsilon)
    loss = -torch.min(ratio * advantages, clipped * advantages).mean()
    with torch.no_grad():
        clip_fraction = ((ratio - 1).abs() > clip_epsilon).float().mean()
        approx_kl = ((ratio - 1) - log_ratio).mean()
    return loss, clip_fraction, approx_kl
