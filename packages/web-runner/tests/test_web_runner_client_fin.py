"""A client's FIN while its request is being handled ends the connection, as aiohttp.

aiohttp's RequestHandler leaves ``eof_received`` to asyncio, which then closes
the transport: ``request.transport`` becomes None and the handler's next write
raises (aiohttp's ClientConnectionResetError, a ConnectionResetError; weft's
ConnectionResetError), which is how a streaming handler (SSE, long-poll) sees
that its client left; aiohttp-sse relies on it. The handler is not cancelled
(unless ``handler_cancellation``), and what it answers is not sent. Each test
runs the same bytes against both servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from weft.web_core import Application, Response, StreamResponse
from weft.web_runner import AppRunner, TCPSite

TIMEOUT = 10.0  # a safety bound only
FRAMEWORKS = ("aiohttp", "weft")

Handler = Callable[[Any], Awaitable[Any]]


@contextlib.asynccontextmanager
async def serving(framework: str, handler: Handler, **kwargs: Any) -> AsyncIterator[int]:
    """``handler`` on every GET and POST path, served by ``framework`` on a free port."""
    runner: aiohttp_web.AppRunner | AppRunner
    if framework == "aiohttp":
        aio_app = aiohttp_web.Application()
        aio_app.router.add_route("*", "/{path:.*}", handler)
        runner = aiohttp_web.AppRunner(aio_app, access_log=None, **kwargs)
        await runner.setup()
        site: aiohttp_web.TCPSite | TCPSite = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
    else:
        app = Application()
        app.router.add_route("*", "/{path:.*}", handler)
        runner = AppRunner(app, access_log=None, **kwargs)
        await runner.setup()
        site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def gone(request: Any) -> None:
    """Until the server has seen the client leave (no event says it)."""
    async with asyncio.timeout(TIMEOUT):
        while request.transport is not None:  # noqa: ASYNC110
            await asyncio.sleep(0)


async def received_until_closed(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := await asyncio.wait_for(loop.sock_recv(sock, 65536), TIMEOUT):
            received += chunk
    return received


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("how", ["close", "half-close"])
async def test_a_streaming_handler_sees_its_client_leave(framework: str, how: str) -> None:
    """A client that closes (or only half-closes) while its response streams: the
    handler sees request.transport become None, its next write raises
    ConnectionResetError, and it is not cancelled."""
    seen: list[object] = []
    headed = asyncio.Event()

    async def handler(request: Any) -> Any:
        response = (aiohttp_web.StreamResponse if framework == "aiohttp" else StreamResponse)()
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        headed.set()
        try:
            await gone(request)
            seen.append(request.protocol.transport)
            try:
                await response.write(b"data: second\n\n")
            except ConnectionResetError as error:
                seen.append(type(error))
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return response

    async with serving(framework, handler) as port:
        loop = asyncio.get_running_loop()
        with connect(port) as sock:
            await loop.sock_sendall(sock, b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.wait_for(headed.wait(), TIMEOUT)
            assert b"data: first" in await asyncio.wait_for(loop.sock_recv(sock, 65536), TIMEOUT)
            if how == "half-close":
                sock.shutdown(socket.SHUT_WR)
                await received_until_closed(sock)  # the server closes: no more data
        async with asyncio.timeout(TIMEOUT):
            while len(seen) < 2:  # noqa: ASYNC110 (the handler records; no event)
                await asyncio.sleep(0)
    assert seen[0] is None
    assert issubclass(seen[1], ConnectionResetError)  # type: ignore[arg-type]
    assert "cancelled" not in seen


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_requests_followed_by_a_fin_get_no_answer(framework: str) -> None:
    """Two pipelined requests, then the client's FIN before the first is answered:
    the connection closes without an answer, and the second is never started."""
    started: list[str] = []
    finished: list[str] = []

    async def handler(request: Any) -> Any:
        started.append(request.path)
        await gone(request)
        finished.append(request.path)
        return (aiohttp_web.Response if framework == "aiohttp" else Response)(text="late")

    get = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
    async with serving(framework, handler) as port:
        loop = asyncio.get_running_loop()
        with connect(port) as sock:
            await loop.sock_sendall(sock, get % b"/one" + get % b"/two")
            sock.shutdown(socket.SHUT_WR)
            assert await received_until_closed(sock) == b""
        async with asyncio.timeout(TIMEOUT):
            while not finished:  # noqa: ASYNC110 (the handler records; no event)
                await asyncio.sleep(0)
    assert started == finished == ["/one"]


@pytest.mark.asyncio
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_fin_before_the_body_ends_fails_the_read(framework: str) -> None:
    """A client that stops sending mid-body: the handler's read raises
    ConnectionResetError, and its answer is not sent."""
    failures: list[type[BaseException]] = []
    reading = asyncio.Event()

    async def handler(request: Any) -> Any:
        assert await request.content.readexactly(3) == b"abc"
        reading.set()
        try:
            await request.read()
        except ConnectionResetError as error:
            failures.append(type(error))
        return (aiohttp_web.Response if framework == "aiohttp" else Response)(text="answer")

    async with serving(framework, handler) as port:
        loop = asyncio.get_running_loop()
        with connect(port) as sock:
            await loop.sock_sendall(
                sock, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
            )
            await asyncio.wait_for(reading.wait(), TIMEOUT)
            sock.shutdown(socket.SHUT_WR)
            assert await received_until_closed(sock) == b""
        async with asyncio.timeout(TIMEOUT):
            while not failures:  # noqa: ASYNC110 (the handler records; no event)
                await asyncio.sleep(0)
    assert issubclass(failures[0], ConnectionResetError)


@pytest.mark.asyncio
async def test_handler_cancellation_cancels_at_the_fin() -> None:
    """With handler_cancellation=True the FIN cancels the handler (as aiohttp's)."""
    events: list[str] = []
    started = asyncio.Event()

    async def handler(request: Any) -> Response:
        started.set()
        try:
            await asyncio.sleep(TIMEOUT)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        return Response(text="late")

    async with serving("weft", handler, handler_cancellation=True) as port:
        loop = asyncio.get_running_loop()
        with connect(port) as sock:
            await loop.sock_sendall(sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.wait_for(started.wait(), TIMEOUT)
            sock.shutdown(socket.SHUT_WR)
            assert await received_until_closed(sock) == b""
        async with asyncio.timeout(TIMEOUT):
            while not events:  # noqa: ASYNC110 (the handler records; no event)
                await asyncio.sleep(0)
    assert events == ["cancelled"]
