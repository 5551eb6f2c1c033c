"""The web pages (``/``, ``/play``, ``/dashboard``, ``/strategy``) and their scripts and
styles under ``/static/``. They are the same for everyone and hold no data, so they need no
token; the pages' scripts send the token (given once as ``#token=...``) in the
``Authorization`` header of every API call (`gamelm/web/static/common.js`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from gamelm.serving.context import ApiError
from gamelm.web import STATIC

PAGES = {
    "/": "index.html",
    "/play": "play.html",
    "/dashboard": "dashboard.html",
    "/strategy": "strategy.html",
}

router = APIRouter(include_in_schema=False)


def _page(name: str):
    def page() -> Response:
        return FileResponse(STATIC / name, media_type="text/html")

    return page


for _route, _name in PAGES.items():
    router.add_api_route(_route, _page(_name), methods=["GET"])


@router.get("/static/{name}")
def static(name: str):
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise ApiError(404, f"no static file {name!r}")
    return FileResponse(path)
