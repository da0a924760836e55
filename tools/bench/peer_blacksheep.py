"""The bench app of tools/bench/server_app.py in BlackSheep, for bench_server.py.

Same routes and the same answers byte for byte (status, body, content type):
``GET /plaintext``, ``GET /json``, 100 ``POST /api/v1/svc{i}/items/{item}/tags/{tag}``
routes (path params, query, JSON body), ``POST /upload`` (multipart/form-data,
answers the file's size) and ``GET /stream`` (1 MiB streamed in 16 chunks of
64 KiB). JSON bodies are written with ``json.dumps`` as weft and aiohttp write
them (BlackSheep's default drops the spaces after separators).

Served by granian over ASGI: BlackSheep is an ASGI framework and has no RSGI
entry point (granian's RSGI interface needs an app written for RSGI), so ASGI
is the faster of the two it can use. bench_server.py runs it as
``python -m granian --interface asgi --working-dir tools/bench peer_blacksheep:app``
with one worker, one runtime thread and uvloop.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

# Benchmark-only dependencies: absent from the typecheck session's venv.
from blacksheep import (  # type: ignore[import-not-found,unused-ignore]
    Application,
    Request,
    Response,
    StreamedContent,
)
from blacksheep.server.responses import (  # type: ignore[import-not-found,unused-ignore]
    json as json_response,
)
from blacksheep.server.responses import text  # type: ignore[import-not-found,unused-ignore]
from blacksheep.settings.json import json_settings  # type: ignore[import-not-found,unused-ignore]

ROUTES = 100
STREAM_CHUNK = bytes(range(256)) * 256  # 64 KiB, as in server_app.py
STREAM_WRITES = 16

json_settings.use(loads=json.loads, dumps=json.dumps)  # type: ignore[no-untyped-call,unused-ignore]


async def plaintext(request: Request) -> Response:
    return text("Hello, World!")


async def json_hello(request: Request) -> Response:
    return json_response({"message": "Hello, World!"})


async def api(request: Request) -> Response:
    body: Any = await request.json()
    query = request.query
    return json_response(
        {
            "item": request.route_values["item"],
            "tag": request.route_values["tag"],
            "limit": int(query.get("limit", ["10"])[0]),
            "offset": int(query.get("offset", ["0"])[0]),
            "name": body["name"],
            "total": body["price"] * body["count"],
        }
    )


async def upload(request: Request) -> Response:
    files = await request.files("file")
    part = files[0]
    filename = part.file_name.decode() if part.file_name else None
    return json_response({"filename": filename, "size": len(part.data)})


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(STREAM_WRITES):
        yield STREAM_CHUNK


async def stream(request: Request) -> Response:
    return Response(200, None, StreamedContent(b"application/octet-stream", _chunks))


def make_app() -> Application:
    application = Application()
    application.router.add_get("/plaintext", plaintext)
    application.router.add_get("/json", json_hello)
    for i in range(ROUTES):
        application.router.add_post(f"/api/v1/svc{i}/items/{{item}}/tags/{{tag}}", api)
    application.router.add_post("/upload", upload)
    application.router.add_get("/stream", stream)
    return application


app = make_app()
