"""The bench app of tools/bench/server_app.py in Sanic, for bench_server.py.

Same routes and the same answers byte for byte (status, body, content type):
``GET /plaintext``, ``GET /json``, 100 ``POST /api/v1/svc{i}/items/<item>/tags/<tag>``
routes (path params, query, JSON body), ``POST /upload`` (multipart/form-data,
answers the file's size) and ``GET /stream`` (1 MiB streamed in 16 sends of
64 KiB through ``request.respond()``). JSON bodies are written with
``json.dumps`` as weft and aiohttp write them (Sanic's default drops the
spaces after separators).

Run: ``python tools/bench/peer_sanic.py PORT [--asyncio]``: one process, one
worker (``single_process=True``, no worker manager), access log off, uvloop
unless ``--asyncio``; SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# Benchmark-only dependencies: absent from the typecheck session's venv.
from sanic import Request, Sanic  # type: ignore[import-not-found,unused-ignore]
from sanic.response import (  # type: ignore[import-not-found,unused-ignore]
    HTTPResponse,
    text,
)
from sanic.response import (  # type: ignore[import-not-found,unused-ignore]
    json as json_response,
)

ROUTES = 100
STREAM_CHUNK = bytes(range(256)) * 256  # 64 KiB, as in server_app.py
STREAM_WRITES = 16


async def plaintext(request: Request) -> HTTPResponse:
    return text("Hello, World!")


async def json_hello(request: Request) -> HTTPResponse:
    return json_response({"message": "Hello, World!"})


async def api(request: Request, item: str, tag: str) -> HTTPResponse:
    body: Any = request.json
    return json_response(
        {
            "item": item,
            "tag": tag,
            "limit": int(request.args.get("limit", "10")),
            "offset": int(request.args.get("offset", "0")),
            "name": body["name"],
            "total": body["price"] * body["count"],
        }
    )


async def upload(request: Request) -> HTTPResponse:
    assert request.files is not None
    field = request.files.get("file")
    assert field is not None
    return json_response({"filename": field.name, "size": len(field.body)})


async def stream(request: Request) -> None:
    response = await request.respond(content_type="application/octet-stream")
    for _ in range(STREAM_WRITES):
        await response.send(STREAM_CHUNK)
    await response.eof()


def make_app(uvloop: bool = True) -> Sanic[Any, Any]:
    app = Sanic("weft_bench_peer", dumps=json.dumps, configure_logging=False)
    app.config.USE_UVLOOP = uvloop
    app.config.ACCESS_LOG = False
    app.add_route(plaintext, "/plaintext", methods=["GET"])
    app.add_route(json_hello, "/json", methods=["GET"])
    for i in range(ROUTES):
        app.add_route(
            api, f"/api/v1/svc{i}/items/<item>/tags/<tag>", methods=["POST"], name=f"api{i}"
        )
    app.add_route(upload, "/upload", methods=["POST"])
    app.add_route(stream, "/stream", methods=["GET"])
    return app


def main() -> None:
    port = int(sys.argv[1])
    app = make_app(uvloop="--asyncio" not in sys.argv)
    app.run(
        host="127.0.0.1",
        port=port,
        single_process=True,
        access_log=False,
        motd=False,
        debug=False,
    )


if __name__ == "__main__":
    main()
