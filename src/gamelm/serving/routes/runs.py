"""``/v1/runs`` and ``/v1/runs/{name}``: the run registry (`gamelm.runs.registry`) for the
training dashboard. A NaN or an infinity anywhere in a run (the summary of a short run, a
diverged loss) is served as null: JSON has no NaN."""

from __future__ import annotations

from fastapi import APIRouter

from gamelm.serving.context import ApiError, finite
from gamelm.serving.routes import State

router = APIRouter()


@router.get("/v1/runs")
def runs(state: State):
    reg = state.registry()
    items = reg.runs() if reg is not None else []
    return {
        "runs": [
            {
                "name": r.name,
                "algorithm": r.algorithm,
                "status": r.status,
                "created": r.created,
                "updated": r.updated,
                "path": r.path,
                "summary": finite(r.summary),
            }
            for r in sorted(items, key=lambda r: -r.updated)
        ]
    }


@router.get("/v1/runs/{name}")
def run(name: str, state: State, since: int = -1):
    reg = state.registry()
    try:
        info = reg.get(name) if reg is not None else None
    except KeyError:
        info = None
    if info is None or reg is None:
        raise ApiError(404, f"no run named {name!r} in the registry")
    metrics = {
        k: [[st, finite(v)] for st, v in series if st > since]
        for k, series in reg.metrics(name).items()
    }
    return {
        "name": info.name,
        "algorithm": info.algorithm,
        "status": info.status,
        "path": info.path,
        "config": finite(info.config),
        "summary": finite(info.summary),
        "metrics": metrics,
        "checkpoints": [{"step": st, "path": p} for st, p in reg.checkpoints(name)],
    }
