"""``/health``, ``/v1/agents`` and ``/v1/act``: the served agents and their decisions on a
state given as JSON or as a PHH hand prefix (`gamelm.serving.state_parsing`)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from gamelm.serving.context import ApiError, rng_for
from gamelm.serving.routes import State
from gamelm.serving.schemas import ActRequest
from gamelm.serving.state_parsing import (
    SpotError,
    choose,
    describe_entry,
    observation_of,
    spot_from_json,
    spot_from_phh,
)

router = APIRouter()


@router.get("/health")
def health(state: State):
    return {"status": "ok", "agents": list(state.served)}


@router.get("/v1/agents")
def list_agents(state: State):
    return {
        "default": state.default,
        "agents": [
            {
                "name": s.name,
                "type": type(s.agent).__name__,
                "fractions": list(s.fractions),
                "menu": list(s.menu.names),
                "chat": True,
            }
            for s in state.served.values()
        ],
    }


@router.post("/v1/act")
def act(body: ActRequest, state: State):
    s = state.agent_named(body.agent)
    seed = body.seed if body.seed is not None else 0
    try:
        if body.phh is not None:
            spot = spot_from_phh(body.phh, seed)
        else:
            spot = spot_from_json(
                body.seats,  # type: ignore[arg-type]
                body.button,  # type: ignore[arg-type]
                body.blinds,  # type: ignore[arg-type]
                body.stacks,  # type: ignore[arg-type]
                body.hero,  # type: ignore[arg-type]
                body.hole_cards,  # type: ignore[arg-type]
                body.board,
                [a.model_dump() for a in body.actions],
                ante=body.ante,
                seed=seed,
            )
    except SpotError as exc:
        raise ApiError(422, str(exc)) from None
    obs = observation_of(spot.state, s.menu)
    rng = rng_for(body.seed)
    choice = state.run_agent(s, lambda: choose(s.agent, obs, rng))
    legal = [int(e) for e in np.flatnonzero(obs.legal[0])]
    return {
        "agent": s.name,
        "hero": spot.user_seat(spot.hero),
        "action": describe_entry(obs, choice.entry, spot),
        "probabilities": {s.menu.names[e]: round(float(choice.probabilities[e]), 6) for e in legal},
        "probabilities_exact": choice.exact,
        "legal_actions": [describe_entry(obs, e, spot) for e in legal],
    }
