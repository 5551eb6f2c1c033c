"""Generalised advantage estimation (Schulman et al., 2016, "High-Dimensional Continuous Control
Using Generalized Advantage Estimation") over many short episodes at once.

In poker an episode is one seat's decisions in one hand: the reward (the hand's result, in big
blinds) arrives after its last decision, and every other step has reward 0. Decisions of all
episodes are given as flat arrays in which each episode's steps are contiguous and in time order,
so a batch of thousands of hands is one call:

    delta_t = r_t + gamma * V_{t+1} - V_t          (V after an episode's last step is 0)
    A_t     = delta_t + gamma * lam * A_{t+1}
    R_t     = A_t + V_t                            (the value target)

The backward recursion runs once per step position from each episode's end, vectorised over the
episodes, so its cost is the longest episode (a handful of decisions), not the batch.

>>> adv, ret = gae(np.array([0.0, 1.0]), np.array([0.5, 0.5]), np.array([0, 0]), 1.0, 1.0)
>>> adv.tolist(), ret.tolist()  # two steps of one episode, reward 1 at its end
([0.5, 0.5], [1.0, 1.0])
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def gae(
    rewards: npt.ArrayLike,
    values: npt.ArrayLike,
    episodes: npt.ArrayLike,
    gamma: float,
    lam: float,
) -> tuple[FloatArray, FloatArray]:
    """Advantages and value targets of steps grouped into contiguous ``episodes`` (ids).

    Args:
        rewards: ``(n,)`` reward after each step.
        values: ``(n,)`` value estimate at each step.
        episodes: ``(n,)`` episode id of each step; an episode's steps are contiguous, in order.
        gamma: discount per step, in [0, 1].
        lam: GAE's lambda, in [0, 1] (0: one-step TD, 1: Monte Carlo returns).
    """
    r = np.asarray(rewards, np.float64)
    v = np.asarray(values, np.float64)
    ep = np.asarray(episodes)
    if not (r.shape == v.shape == ep.shape and r.ndim == 1):
        raise ValueError(
            f"rewards, values and episodes must be equal 1-d, got {r.shape}, {v.shape}, {ep.shape}"
        )
    if not (0 <= gamma <= 1 and 0 <= lam <= 1):
        raise ValueError(f"gamma and lam must be in [0, 1], got {gamma} and {lam}")
    n = r.size
    if n == 0:
        return np.zeros(0), np.zeros(0)
    last = np.ones(n, bool)  # the step ends its episode
    last[:-1] = ep[1:] != ep[:-1]
    start = np.ones(n, bool)
    start[1:] = ep[1:] != ep[:-1]
    if np.unique(ep[start]).size != start.sum():
        raise ValueError("every episode's steps must be contiguous")
    next_v = np.where(last, 0.0, np.append(v[1:], 0.0))
    delta = r + gamma * next_v - v
    adv = np.zeros(n)
    # steps from the end of their episode: 0 for the last step, 1 for the one before ...
    run_id = np.cumsum(start) - 1
    run_end = np.flatnonzero(last)
    back = run_end[run_id] - np.arange(n)
    for k in range(int(back.max()) + 1):
        rows = np.flatnonzero(back == k)
        later = np.where(k == 0, 0.0, adv[np.minimum(rows + 1, n - 1)])
        adv[rows] = delta[rows] + gamma * lam * later
    return adv, adv + v
