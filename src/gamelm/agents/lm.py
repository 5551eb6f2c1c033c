"""Language models as agents: how a model reads observations, and `LMAgent`, which plays one.

The models themselves (`gamelm.models.lm.PokerLM`, `gamelm.models.causal_lm.CausalLMPolicy`)
work on token ids; this module turns a batch of observations into what they read:

* the poker LM reads the tokens of `gamelm.agents.observation.encode` (with the hand-strength
  token when the model was trained with it), and entry ``a`` of the menu is the token
  `gamelm.agents.observation.action_tokens` gives it;
* a transformers LLM reads the prompt of `gamelm.agents.observation.prompt`, rendered by the
  model's view (chat template or answer cue), and the ``k``-th legal entry is ``A<k>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from gamelm.agents.base import IntArray, Observation, observe
from gamelm.agents.observation import (
    ActionHistory,
    action_tokens,
    encode,
    legal_actions,
    prompt,
    prompt_equity,
    strength,
)
from gamelm.models.causal_lm import MAX_ACTIONS, PromptView
from gamelm.models.lm import TokenView
from gamelm.poker.abstraction import CALL_ID, ActionAbstraction
from gamelm.poker.batch import BatchEngine


def strength_equity(
    view: TokenView,
    obs: Observation,
    rng: np.random.Generator | None = None,
    equity: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64] | None:
    """The equity the strength token shows: ``equity`` when given (and not NaN), else estimated
    from ``view.strength_trials`` deals (None for a model that reads no strength token)."""
    if not view.strength_trials:
        return None
    if equity is not None and not np.isnan(np.asarray(equity, np.float64)).any():
        return np.asarray(equity, np.float64)
    return strength(obs, view.strength_trials, rng or np.random.default_rng(0))


def example_ids(
    view: TokenView | PromptView,
    obs: Observation,
    equity: npt.NDArray[np.float64] | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[list[list[int]], npt.NDArray[np.int64]]:
    """Per decision, the token ids the model of ``view`` reads (no padding), and ``(m, A)`` the
    token of every menu entry (the supervised target of entry ``a`` of row ``i`` is
    ``choices[i, a]``). ``equity`` and ``rng`` concern the poker LM's strength token and the
    ``equity`` prompt's equity line (given, else `prompt_equity` of ``rng``); an illegal entry
    of a prompt gets ``A0``, never read."""
    if isinstance(view, TokenView):
        tokens, mask = encode(obs, equity=strength_equity(view, obs, rng, equity))
        ids = [row[keep].tolist() for row, keep in zip(tokens, mask)]
        return ids, action_tokens(obs, view.fractions)
    style = getattr(view, "style", "full")
    shown: list[float | None] = [None] * obs.size
    if style == "equity":
        given = None if equity is None else np.asarray(equity, np.float64)
        if given is None or np.isnan(given).any():
            given = prompt_equity(obs, rng)
        shown = [float(e) for e in given]
    ids = [
        view.text_ids(view.render(prompt(obs, i, style=style, equity=shown[i])))
        for i in range(obs.size)
    ]
    choices = np.full(obs.legal.shape, view.action_ids[0], np.int64)
    for i, entries in enumerate(legal_actions(obs)):
        if len(entries) > MAX_ACTIONS:
            raise ValueError(f"{len(entries)} legal actions; the prompt lists {MAX_ACTIONS}")
        choices[i, entries] = view.action_ids[: len(entries)]
    return ids, choices


def model_inputs(
    model: nn.Module,
    obs: Observation,
    device: str | torch.device = "cpu",
    rng: np.random.Generator | None = None,
    equity: npt.NDArray[np.float64] | None = None,
) -> tuple[torch.Tensor, ...]:
    """The tensors ``model.forward`` takes for a batch of observations: left-padded tokens and
    mask ``(m, T)``, the token of every menu entry and the legal mask ``(m, A)`` (``rng`` draws
    the deals that estimate the strength token, a fixed seed when not given; ``equity`` gives
    it instead)."""
    view = model.view
    if isinstance(view, TokenView):  # no padding to strip: encode pads on the left already
        tokens, mask = encode(obs, equity=strength_equity(view, obs, rng, equity))
        tokens_t = torch.as_tensor(tokens, device=device)
        mask_t = torch.as_tensor(mask, device=device)
        choices = action_tokens(obs, view.fractions)
    else:
        ids, choices = example_ids(view, obs)
        tokens_t, mask_t = view.pad(ids, device)
    return (
        tokens_t,
        mask_t,
        torch.as_tensor(choices, device=device),
        torch.as_tensor(obs.legal, device=device),
    )


@dataclass
class LMAgent:
    """Plays a `PokerLM` or a `gamelm.models.causal_lm.CausalLMPolicy`: samples the menu entry
    from the policy (``temperature`` 0 is greedy)."""

    model: nn.Module
    name: str = "lm"
    temperature: float = 1.0
    device: str = "cpu"

    def act(self, obs: Observation, rng: np.random.Generator) -> IntArray:
        p = self.probabilities(obs, rng)
        if self.temperature <= 0:
            return p.argmax(axis=1).astype(np.int64)
        return _sample(p, rng)

    def action_probabilities(self, obs: Observation, rng: np.random.Generator) -> npt.NDArray:
        """``(m, A)``: the probability that `act` plays each menu entry (asked by LBR and by
        data generation)."""
        return self.probabilities(obs, rng)

    def probabilities(self, obs: Observation, rng: np.random.Generator) -> npt.NDArray:
        """``(m, A)``: the policy's probability of every menu entry."""
        fractions = getattr(obs.menu, "fractions", self.model.fractions)  # listed menus map
        if self.model.fractions is not None and tuple(fractions) != self.model.fractions:
            raise ValueError(
                f"the model was trained with raise sizes {self.model.fractions}; "
                f"this match offers {tuple(fractions)}; pass the same --fractions"
            )
        if hasattr(self.model, "decide"):  # an LLM: shared prefixes read once, rows by length
            ids, choices = example_ids(self.model.view, obs)
            logp = self.model.decide(
                ids,
                torch.as_tensor(choices),
                torch.as_tensor(obs.legal),
                max(self.temperature, 1e-6),
            )
            return self._checked(logp.exp().double().cpu().numpy())
        step = getattr(self.model, "max_batch", 4096)
        out = []
        with torch.inference_mode():
            for lo in range(0, obs.size, step):
                part = (
                    obs if obs.size <= step else obs.subset(np.arange(lo, min(lo + step, obs.size)))
                )
                inputs = model_inputs(self.model, part, self.device, rng)
                logp, _ = self.model(*inputs, max(self.temperature, 1e-6))
                out.append(self._checked(logp.exp().double().cpu().numpy()))
        return np.concatenate(out) if out else np.zeros((0, obs.legal.shape[1]))

    def _checked(self, p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if not np.isfinite(p).all():
            raise ValueError(
                f"{self.name}: the model's policy is not a number (NaN) for some "
                "decisions; its weights are damaged (NaN or infinite)"
            )
        return p


def _sample(p: npt.NDArray[np.float64], rng: np.random.Generator) -> IntArray:
    """One index per row of a row-stochastic matrix."""
    cdf = np.cumsum(p, axis=1)
    u = rng.random(p.shape[0]) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), p.shape[1] - 1).astype(np.int64)


def sample_inputs(model: nn.Module, decisions: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """`model_inputs` for ``decisions`` heads-up decisions after 0 to 5 checks and calls (so
    preflop, flop and turn decisions are mixed): example inputs for tracing and checking an
    exported model."""
    rng = np.random.default_rng(seed)
    menu = ActionAbstraction(model.fractions)
    tables = np.arange(decisions)
    eng = BatchEngine(decisions, 2, 1, 2, starting_stacks=200)
    eng.reset(rng=rng)
    hist = ActionHistory(decisions, 2)
    hist.reset(tables)
    steps = rng.integers(0, 6, decisions)  # checks and calls each table plays first
    for k in range(5):
        move = steps > k
        obs = observe(eng, menu, tables, history=hist)
        ids = np.full(decisions, CALL_ID)  # checking and calling never ends a hand early
        hist.record(obs.subset(np.flatnonzero(move)), ids[move])
        before = eng.street.copy()
        kind, amount = menu.decode(eng, ids)
        eng.step(kind, amount, mask=move)
        dealt = np.flatnonzero(eng.street != before)
        hist.new_street(dealt, eng.street[dealt], eng.board[dealt])
    return model_inputs(model, observe(eng, menu, tables, history=hist), rng=rng)
