"""Tensor pieces both LM kinds share: left padding, position ids, and the policy over the menu."""

from __future__ import annotations

import torch


def positions_of(mask: torch.Tensor) -> torch.Tensor:
    """Position ids of left-padded rows: 0 at each row's first real token."""
    return (mask.long().cumsum(dim=1) - 1).clamp(min=0)


def pad_left(ids: list[list[int]], pad: int, device: str | torch.device = "cpu"):
    """``(m, T)`` ids left-padded with ``pad`` and the mask of real tokens."""
    width = max(len(x) for x in ids)
    tokens = torch.full((len(ids), width), pad, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.bool)
    for r, x in enumerate(ids):
        tokens[r, width - len(x) :] = torch.tensor(x, dtype=torch.long)
        mask[r, width - len(x) :] = True
    return tokens.to(device), mask.to(device)


def menu_log_probs(
    logits: torch.Tensor, choices: torch.Tensor, legal: torch.Tensor, temperature: float
) -> torch.Tensor:
    """The policy of both LM kinds: log-softmax over the logits ``(m, V)`` of each menu entry's
    token ``choices`` ``(m, A)``, at ``temperature``, illegal entries ``-inf``."""
    menu = logits.float().gather(1, choices) / temperature
    return torch.log_softmax(menu.masked_fill(~legal, float("-inf")), dim=-1)
