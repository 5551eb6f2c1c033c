"""PPO's clipped surrogate against values worked by hand."""

import math

import torch

from gamelm.trainers.losses import clipped_surrogate, normalized


def test_clipped_surrogate_by_hand():
    old = torch.log(torch.tensor([0.5, 0.5, 0.5, 0.5]))
    new = torch.log(torch.tensor([0.75, 0.25, 0.55, 0.45])).requires_grad_()
    adv = torch.tensor([1.0, 1.0, -1.0, -1.0])
    loss, clipped, kl = clipped_surrogate(new, old, adv, 0.2)
    # ratios 1.5, 0.5, 1.1, 0.9: min(r A, clip(r) A) = 1.2, 0.5, -1.1, -0.9
    assert math.isclose(loss.item(), -(1.2 + 0.5 - 1.1 - 0.9) / 4, rel_tol=1e-6)
    assert math.isclose(clipped.item(), 0.5)
    r = torch.tensor([1.5, 0.5, 1.1, 0.9])
    assert math.isclose(kl.item(), ((r - 1) - r.log()).mean().item(), rel_tol=1e-6)
    loss.backward()
    # the first ratio is clipped from above with a positive advantage: no gradient through it
    assert new.grad[0].item() == 0.0 and new.grad[1].item() != 0.0


def test_normalized():
    a = normalized(torch.tensor([1.0, 2.0, 3.0]))
    assert abs(a.mean().item()) < 1e-6 and math.isclose(a.std().item(), 1.0, rel_tol=1e-5)
    assert normalized(torch.tensor([5.0])).item() == 5.0
