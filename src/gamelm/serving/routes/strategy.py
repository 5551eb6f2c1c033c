"""``/v1/strategy``: a served agent's 13x13 preflop grid at one position
(`gamelm.evaluation.strategy.preflop_grid`), computed once per agent and setting."""

from __future__ import annotations

from fastapi import APIRouter

from gamelm.errors import first_line
from gamelm.evaluation.strategy import preflop_grid
from gamelm.poker.rules import MAX_SEATS, MIN_SEATS, SEATS
from gamelm.serving.context import MAX_GRIDS, ApiError
from gamelm.serving.routes import State

router = APIRouter()


@router.get("/v1/strategy")
def strategy(
    state: State,
    agent: str | None = None,
    position: str = "BTN",
    seats: int = 2,
    stack_bb: int = 100,
):
    s = state.agent_named(agent)
    if not MIN_SEATS <= seats <= MAX_SEATS or not 1 <= stack_bb <= 10_000:
        raise ApiError(422, f"seats must be {SEATS} and stack_bb 1..10000")
    key = (s.name, position.upper(), seats, stack_bb)
    grids = state.grids
    if key not in grids:
        try:
            grid = state.run_agent(
                s, lambda: preflop_grid(s.agent, position, seats, stack_bb, s.fractions)
            )
        except ValueError as exc:
            raise ApiError(422, first_line(exc)) from None
        grids[key] = grid.to_json()
        while len(grids) > MAX_GRIDS:
            grids.popitem(last=False)
    return grids[key]
