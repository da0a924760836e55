"""The app gunicorn serves in the end-to-end tests: the guide's app plus test routes.

Loaded by gunicorn's workers as ``tests.e2e.e2e_app:create_app`` (the
repository is on their PYTHONPATH). ``WEFT_E2E_RECORD_DIR`` names a folder
where each worker appends the id of every ``/load`` request it starts, so a
test can tell a request that was lost (started, never answered) from one that
never reached the app.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from examples.deployment import build_app
from weft import web


class Record:
    """Where this worker appends the ids of the /load requests it starts (-1: nowhere)."""

    fd = -1

    def started(self, request_id: str) -> None:
        if self.fd >= 0:
            os.write(self.fd, f"{request_id}\n".encode())


RECORD = web.AppKey("record", Record)


async def whoami(request: web.Request) -> web.Response:
    # What the app learns of its client through nginx: the request as the
    # guide's trusted-proxy middleware made it, and the headers it came with.
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    return web.json_response(
        {
            "pid": os.getpid(),
            "loop": loop,
            "remote": request.remote,
            "scheme": request.scheme,
            "host": request.host,
            "secure": request.secure,
            "url": str(request.url),
            "x_forwarded_for": request.headers.get("X-Forwarded-For"),
            "version": f"HTTP/{request.version.major}.{request.version.minor}",
            "keep_alive": request.keep_alive,
            "connection": request.headers.get("Connection"),
        }
    )


async def upload(request: web.Request) -> web.Response:
    digest = hashlib.sha256()
    size = 0
    # read(), not a loop over request.content: it enforces client_max_size.
    body = await request.read()
    digest.update(body)
    size = len(body)
    return web.json_response({"size": size, "sha256": digest.hexdigest()})


async def stream(request: web.Request) -> web.StreamResponse:
    """The first part at once; the rest once the test says so through its gate socket.

    The gate is a unix socket the test listens on: the handler connects, and
    the byte the test sends is the event it waits for, across processes.
    """
    response = web.StreamResponse()
    response.content_type = "text/plain"
    await response.prepare(request)
    reader, writer = await asyncio.open_unix_connection(request.query["gate"])
    try:
        await response.write(b"first part\n")
        await reader.readexactly(1)
    finally:
        writer.close()
    await response.write(b"last part\n")
    await response.write_eof()
    return response


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_str(f"hello from {os.getpid()}")
    async for message in ws:
        if message.type is web.WSMsgType.TEXT:
            if message.data == "bye":
                await ws.close(code=4001, message=b"see you")
                break
            await ws.send_str(message.data.upper())
        elif message.type is web.WSMsgType.BINARY:
            await ws.send_bytes(message.data[::-1])
    return ws


async def load(request: web.Request) -> web.Response:
    """A request that stays in flight for a few ms, its start recorded first."""
    request_id = request.query["id"]
    request.app[RECORD].started(request_id)
    # Long enough that a signal lands while requests are in their handlers.
    await asyncio.sleep(0.003)
    return web.Response(text=f"{request_id} {os.getpid()}")


async def _record_file(app: web.Application) -> AsyncIterator[None]:
    folder = os.environ.get("WEFT_E2E_RECORD_DIR")
    if not folder:
        yield
        return
    # Written as each request starts, not at exit: a worker that died would
    # otherwise take its record of the requests it lost with it.
    fd = os.open(
        Path(folder) / f"started-{os.getpid()}.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    app[RECORD].fd = fd
    yield
    os.close(fd)


async def _announce(app: web.Application) -> None:
    # The line the tests wait for: this worker's app has started and serves.
    # One write(2) of a short line: the workers share the pipe, and a line
    # written in parts (as print does) could be split by another's.
    os.write(2, f"e2e app ready in {os.getpid()}\n".encode())


async def create_app() -> web.Application:
    app = build_app()
    app[RECORD] = Record()
    app.router.add_get("/whoami", whoami)
    app.router.add_post("/upload", upload)
    app.router.add_get("/stream", stream)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/load", load)
    app.cleanup_ctx.append(_record_file)
    app.on_startup.append(_announce)
    return app
