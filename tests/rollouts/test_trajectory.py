"""GAE against a plain per-episode loop."""

import numpy as np
import pytest

from gamelm.rollouts.trajectory import gae


def _reference(r, v, gamma, lam):
    adv, running = np.zeros(len(r)), 0.0
    for t in reversed(range(len(r))):
        nxt = v[t + 1] if t + 1 < len(r) else 0.0
        running = r[t] + gamma * nxt - v[t] + gamma * lam * running
        adv[t] = running
    return adv


@pytest.mark.parametrize(("gamma", "lam"), [(1.0, 1.0), (0.99, 0.95), (0.9, 0.0), (1.0, 0.5)])
def test_matches_a_loop_over_each_episode(gamma, lam):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, size=300)
    ep = np.repeat(rng.permutation(1000)[:300], lengths)  # ids need not be sorted
    r = np.zeros(ep.size)
    ends = np.cumsum(lengths) - 1
    r[ends] = rng.normal(0, 10, size=300)  # poker: the result comes after the last decision
    v = rng.normal(0, 5, size=ep.size)
    adv, ret = gae(r, v, ep, gamma, lam)
    start = 0
    for n in lengths:
        sl = slice(start, start + n)
        assert np.allclose(adv[sl], _reference(r[sl], v[sl], gamma, lam))
        start += n
    assert np.allclose(ret, adv + v)
    if gamma == lam == 1.0:  # Monte Carlo: the target of every step is its episode's result
        assert np.allclose(ret, np.repeat(r[ends], lengths))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="contiguous"):
        gae([0, 0, 0], [0, 0, 0], [1, 2, 1], 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma and lam"):
        gae([0], [0], [0], 1.5, 1.0)
    with pytest.raises(ValueError, match="equal 1-d"):
        gae([0, 1], [0], [0], 1.0, 1.0)
    assert gae([], [], [], 1.0, 1.0)[0].size == 0
