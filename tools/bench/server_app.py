"""The app tools/bench/bench_server.py serves: one code base, two frameworks.

``BENCH_FRAMEWORK=weft`` (default) imports ``from weft import web``,
``BENCH_FRAMEWORK=aiohttp`` ``from aiohttp import web``; everything else is
the same lines. Routes:

* ``GET /plaintext``: "Hello, World!" as text/plain;
* ``GET /json``: ``{"message": "Hello, World!"}``;
* ``POST /api/v1/svc{0..99}/items/{item}/tags/{tag}``: 100 routes; the
  handler reads the path params, the query and a JSON body and answers JSON;
* ``POST /upload``: a multipart/form-data upload read with ``post()``; answers
  the file's size;
* ``GET /stream``: 1 MiB as a streamed response (``StreamResponse``,
  ``prepare()``, then 16 ``write()`` calls of 64 KiB each).

tools/bench/peer_blacksheep.py and tools/bench/peer_sanic.py serve the same
routes with the same answers in BlackSheep and Sanic.

Run: ``python tools/bench/server_app.py PORT [--uvloop]`` (access log off,
no start-up message; SIGINT or SIGTERM stops it).
"""

from __future__ import annotations

import asyncio
import os
import sys

if os.environ.get("BENCH_FRAMEWORK", "weft") == "aiohttp":
    from aiohttp import web
else:
    from weft import web  # type: ignore[no-redef]

ROUTES = 100
STREAM_CHUNK = bytes(range(256)) * 256  # 64 KiB
STREAM_WRITES = 16


async def plaintext(request: web.Request) -> web.Response:
    return web.Response(text="Hello, World!")


async def json_hello(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello, World!"})


async def api(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response(
        {
            "item": request.match_info["item"],
            "tag": request.match_info["tag"],
            "limit": int(request.query.get("limit", "10")),
            "offset": int(request.query.get("offset", "0")),
            "name": body["name"],
            "total": body["price"] * body["count"],
        }
    )


async def upload(request: web.Request) -> web.Response:
    form = await request.post()
    field = form["file"]
    assert isinstance(field, web.FileField)
    with field.file:
        size = len(field.file.read())
    return web.json_response({"filename": field.filename, "size": size})


async def stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_type = "application/octet-stream"
    await response.prepare(request)
    for _ in range(STREAM_WRITES):
        await response.write(STREAM_CHUNK)
    return response


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/plaintext", plaintext)
    app.router.add_get("/json", json_hello)
    for i in range(ROUTES):
        app.router.add_post(f"/api/v1/svc{i}/items/{{item}}/tags/{{tag}}", api)
    app.router.add_post("/upload", upload)
    app.router.add_get("/stream", stream)
    return app


def main() -> None:
    port = int(sys.argv[1])
    loop: asyncio.AbstractEventLoop
    if "--uvloop" in sys.argv:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    web.run_app(make_app(), host="127.0.0.1", port=port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
