"""Code mypy must accept: the typing surface of weft.web (not run, only type-checked).

The typecheck nox session passes this folder to mypy; each ``assert_type``
fails the session if weft's annotations drift.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import assert_type

from weft import web
from weft.web_core import ForwardedClient

DB = web.AppKey("db", str)
COUNT = web.RequestKey("count", int)
TAG = web.ResponseKey("tag", bytes)

routes = web.RouteTableDef()


@routes.get("/items/{id}")
async def item(request: web.Request) -> web.Response:
    assert_type(request.match_info["id"], str)
    assert_type(request.app[DB], str)
    assert_type(request[COUNT], int)
    assert_type(request.get(COUNT), int | None)
    assert_type(request.get(COUNT, 0), int)
    assert_type(request.get(web.FORWARDED_CLIENT), ForwardedClient | None)
    assert_type(request.query.get("q"), str | None)
    assert_type(await request.read(), bytes)
    response = web.json_response({"id": request.match_info["id"]})
    response[TAG] = b"x"
    assert_type(response[TAG], bytes)
    return response


class Items(web.View):
    async def get(self) -> web.Response:
        assert_type(self.request, web.Request)
        return web.Response(text="items")


@web.middleware
async def timing(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    assert_type(response, web.StreamResponse)
    return response


def make_app() -> web.Application:
    app = web.Application(middlewares=[timing])
    app[DB] = "postgres://"
    assert_type(app[DB], str)
    app.add_routes(routes)
    app.router.add_view("/items", Items)
    route = app.router.add_get("/", item)
    assert_type(route, web.AbstractRoute)
    return app


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type is web.WSMsgType.TEXT:
            await ws.send_str(message.data)
    return ws


def misuse(app: web.Application, request: web.Request) -> None:
    """Each line is an error mypy must report (strict mode flags an unused ignore)."""
    app[DB] = 1  # type: ignore[misc]
    request[COUNT] = "one"  # type: ignore[misc]
    web.Response(status="200")  # type: ignore[arg-type]
