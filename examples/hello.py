"""The bundled example app: ``python -m weft.web examples.hello:create_app``.

It is written exactly as an aiohttp.web app would be; only the import differs.
"""

from __future__ import annotations

from weft import web

routes = web.RouteTableDef()


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    return web.Response(text="Hello from weft!\n")


@routes.get("/hello/{name}")
async def hello(request: web.Request) -> web.Response:
    return web.Response(text=f"Hello, {request.match_info['name']}!\n")


@routes.post("/echo")
async def echo(request: web.Request) -> web.Response:
    return web.json_response(await request.json())


@routes.get("/old")
async def moved(request: web.Request) -> web.Response:
    raise web.HTTPFound(location="/")


def create_app(argv: list[str] | None = None) -> web.Application:
    app = web.Application()
    app.add_routes(routes)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
