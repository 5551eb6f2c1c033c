"""The API's routes, one `fastapi.APIRouter` per concern; `gamelm.serving.app.create_app`
includes them all. A route reaches the app's shared `gamelm.serving.context.ServerState` by
declaring a parameter of type `State`.

* `gamelm.serving.routes.decisions` - ``/health``, ``/v1/agents``, ``/v1/act``.
* `gamelm.serving.routes.openai_compat` - ``/v1/models``, ``/v1/chat/completions``.
* `gamelm.serving.routes.tables` - ``/v1/tables...``: a person against a bot.
* `gamelm.serving.routes.runs` - ``/v1/runs...``: the run registry for the dashboard.
* `gamelm.serving.routes.strategy` - ``/v1/strategy``: an agent's preflop grid.
* `gamelm.serving.routes.pages` - the web pages and their static files.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gamelm.serving.context import ServerState


def server_state(request: Request) -> ServerState:
    """The `ServerState` of the app answering ``request``."""
    return request.app.state.gamelm


State = Annotated[ServerState, Depends(server_state)]
