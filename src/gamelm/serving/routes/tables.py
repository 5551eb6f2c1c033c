"""``/v1/tables...``: a person plays hands against a served agent (`gamelm.serving.tables`);
finished hands are served as PHH text."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from gamelm.serving.context import ApiError
from gamelm.serving.routes import State
from gamelm.serving.schemas import HumanAction, TableRequest
from gamelm.serving.state_parsing import SpotError
from gamelm.serving.tables import Table

router = APIRouter()


@router.post("/v1/tables", status_code=201)
def new_table(body: TableRequest, state: State):
    s = state.agent_named(body.agent)
    table_id = secrets.token_hex(8)
    seed = body.seed if body.seed is not None else secrets.randbits(63)

    def make() -> Table:
        return Table(
            table_id,
            s.agent,
            seats=body.seats,
            human=body.human_seat,
            small_blind=body.blinds[0],
            big_blind=body.blinds[1],
            stack=body.stack,
            seed=seed,
            menu=s.menu,
        )

    try:
        table = state.run_agent(s, make)
    except SpotError as exc:
        raise ApiError(422, str(exc)) from None
    state.add_table(table, s)
    return table.view()


@router.get("/v1/tables/{table_id}")
def get_table(table_id: str, state: State):
    table, s = state.table(table_id)
    with table.lock:
        return state.run_agent(s, table.view)


@router.post("/v1/tables/{table_id}/act")
def table_act(table_id: str, body: HumanAction, state: State):
    table, s = state.table(table_id)
    with table.lock:
        try:
            state.run_agent(s, lambda: table.act(body.model_dump()))
        except SpotError as exc:
            status = 409 if "turn" in str(exc) or "over" in str(exc) else 422
            raise ApiError(status, str(exc)) from None
        return state.run_agent(s, table.view)


@router.post("/v1/tables/{table_id}/next")
def table_next(table_id: str, state: State):
    table, s = state.table(table_id)
    with table.lock:
        if not table.state.finished:
            raise ApiError(409, "the hand is still being played: finish it first")
        state.run_agent(s, table.deal)
        return state.run_agent(s, table.view)


@router.get("/v1/tables/{table_id}/hands")
def table_hands(table_id: str, state: State):
    table, _ = state.table(table_id)
    return {"table_id": table_id, "hands": list(table.hands)}


@router.get("/v1/tables/{table_id}/hands/{k}")
def table_hand(table_id: str, k: int, state: State):
    table, _ = state.table(table_id)
    if not 0 <= k < len(table.hands):
        raise ApiError(404, f"no finished hand {k}: this table has {len(table.hands)}")
    return PlainTextResponse(table.hands[k], media_type="application/toml")
