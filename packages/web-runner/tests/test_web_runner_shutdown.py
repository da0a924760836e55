"""Graceful shutdown and clients that go away mid-request."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp
import pytest

from weft.web_core import Application, BaseRequest, Response, StreamResponse
from weft.web_runner import RequestHandler

if TYPE_CHECKING:
    from conftest import Serve, Until, VirtualClock

TIMEOUT = 10.0
GET = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"


class Gate:
    """An in-flight handler held open until the test lets it go."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.finished = asyncio.Event()
        self.shutting_down = asyncio.Event()  # on_shutdown ran (gated_app)

    async def handler(self, request: BaseRequest) -> Response:
        if request.path != "/wait":
            return Response(text="quick")
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        self.finished.set()
        return Response(text="done")


def gated_app(gate: Gate, events: list[str]) -> Application:
    app = Application()
    app.router.add_get("/wait", gate.handler)
    app.router.add_get("/", gate.handler)

    async def on_startup(app: Application) -> None:
        events.append("startup")

    async def on_shutdown(app: Application) -> None:
        events.append("shutdown")
        gate.shutting_down.set()

    async def on_cleanup(app: Application) -> None:
        events.append("cleanup")

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


@pytest.mark.asyncio
async def test_in_flight_request_completes_during_cleanup(
    serve: Serve, client: aiohttp.ClientSession
) -> None:
    """runner.cleanup() lets the in-flight request finish with its full response."""
    gate, events = Gate(), list[str]()
    served = await serve(gated_app(gate, events))
    request = asyncio.create_task(client.get(served.url("/wait")))
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(gate.shutting_down.wait(), TIMEOUT)
    assert not cleanup.done()
    gate.release.set()
    response = await asyncio.wait_for(request, TIMEOUT)
    async with response:
        assert response.status == 200
        assert await response.text() == "done"
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert gate.finished.is_set()
    assert events == ["startup", "shutdown", "cleanup"]


@pytest.mark.asyncio
async def test_cleanup_stops_accepting_new_connections(serve: Serve) -> None:
    """Once cleanup has started new connections are refused while old ones finish."""
    gate, events = Gate(), list[str]()
    served = await serve(gated_app(gate, events))
    busy = await served.connect()
    busy.send(GET % b"/wait")
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)
    cleanup = asyncio.create_task(served.cleanup())
    await asyncio.wait_for(gate.shutting_down.wait(), TIMEOUT)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.wait_for(asyncio.open_connection(served.host, served.port), TIMEOUT)
    gate.release.set()
    assert (await busy.response()).body == b"done"
    await busy.close()  # told Connection: close, a client closes; the server waits for it
    await asyncio.wait_for(cleanup, TIMEOUT)


@pytest.mark.asyncio
async def test_idle_keepalive_connections_close_at_once(serve: Serve) -> None:
    """cleanup() closes idle keep-alive connections while a busy one is still in flight."""
    gate, events = Gate(), list[str]()
    served = await serve(gated_app(gate, events))
    idle = await served.connect()
    idle.send(GET % b"/")
    assert (await idle.response()).body == b"quick"
    busy = await served.connect()
    busy.send(GET % b"/wait")
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)

    cleanup = asyncio.create_task(served.cleanup())
    assert await idle.read_to_eof() == b""  # closed although the busy request goes on
    assert not gate.release.is_set()
    assert not cleanup.done()

    gate.release.set()
    assert (await busy.response()).body == b"done"
    assert await busy.read_to_eof() == b""  # and then it is closed too
    await busy.close()
    await asyncio.wait_for(cleanup, TIMEOUT)


@pytest.mark.asyncio
async def test_handler_that_never_finishes_is_cancelled(
    serve: Serve, client: aiohttp.ClientSession, clock: VirtualClock
) -> None:
    """A handler still running after shutdown_timeout is cancelled; on_cleanup still runs."""
    gate, events = Gate(), list[str]()
    served = await serve(gated_app(gate, events), shutdown_timeout=60.0)
    request = asyncio.create_task(client.get(served.url("/wait")))
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)
    cleanup = asyncio.create_task(served.cleanup())
    # on_shutdown runs in the same step as the start of the wait for in-flight requests.
    await asyncio.wait_for(gate.shutting_down.wait(), TIMEOUT)
    await clock.advance(55.0)
    assert not gate.cancelled.is_set()  # within shutdown_timeout: still waited for
    assert not cleanup.done()
    await clock.advance(10.0)
    await asyncio.wait_for(cleanup, TIMEOUT)
    assert gate.cancelled.is_set()
    assert not gate.finished.is_set()
    assert events == ["startup", "shutdown", "cleanup"]
    with pytest.raises(aiohttp.ClientConnectionError):
        await asyncio.wait_for(request, TIMEOUT)


@pytest.mark.asyncio
async def test_signals_run_in_order_without_connections(serve: Serve) -> None:
    """setup runs on_startup; cleanup runs on_shutdown then on_cleanup, once each."""
    gate, events = Gate(), list[str]()
    served = await serve(gated_app(gate, events))
    assert events == ["startup"]
    await served.cleanup()
    assert events == ["startup", "shutdown", "cleanup"]
    assert served.runner.server is None


@pytest.mark.asyncio
async def test_low_level_server_shutdown(serve: Serve) -> None:
    """ServerRunner.cleanup() waits for an in-flight low-level request, then closes."""
    gate = Gate()
    served = await serve(gate.handler)
    busy = await served.connect()
    busy.send(GET % b"/wait")
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)
    idle = await served.connect()
    cleanup = asyncio.create_task(served.cleanup())
    assert await idle.read_to_eof() == b""  # the shutdown has begun ...
    assert not cleanup.done()  # ... and waits for the busy one
    gate.release.set()
    assert (await busy.response()).body == b"done"
    await busy.close()
    await asyncio.wait_for(cleanup, TIMEOUT)


@pytest.mark.asyncio
async def test_client_disconnect_makes_writes_fail(serve: Serve) -> None:
    """When the client vanishes mid-stream, writes raise ConnectionResetError; serving goes on."""
    started, vanished = asyncio.Event(), asyncio.Event()
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        if request.path == "/next":
            return Response(text="still serving")
        response = StreamResponse()
        await response.prepare(request)
        try:
            await response.write(b"tick\n")
            started.set()
            await vanished.wait()
            for _ in range(1000):  # bounded: fails long before on a dead connection
                await response.write(b"tick\n")
        except ConnectionResetError as exc:
            outcome.set_result(exc)
            raise
        outcome.set_result(None)
        return response

    served = await serve(handler)
    connection = await served.connect()
    connection.send(GET % b"/stream")
    await asyncio.wait_for(started.wait(), TIMEOUT)
    connection.abort()
    await asyncio.wait_for(connection.writer.wait_closed(), TIMEOUT)  # the reset is sent
    vanished.set()
    assert isinstance(await asyncio.wait_for(outcome, TIMEOUT), ConnectionResetError)

    again = await served.connect()
    again.send(GET % b"/next")
    assert (await again.response()).body == b"still serving"


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["close", "reset"])
async def test_handler_cancellation_on_disconnect(serve: Serve, how: str) -> None:
    """With handler_cancellation=True the handler is cancelled when the client goes away."""
    gate = Gate()
    served = await serve(gate.handler, handler_cancellation=True)
    connection = await served.connect()
    connection.send(GET % b"/wait")
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)
    if how == "close":
        await connection.close()
    else:
        connection.abort()
    await asyncio.wait_for(gate.cancelled.wait(), TIMEOUT)
    assert not gate.finished.is_set()

    again = await served.connect()
    again.send(GET % b"/")
    assert (await again.response()).body == b"quick"


@pytest.mark.asyncio
async def test_without_handler_cancellation_the_handler_finishes(
    serve: Serve, until: Until
) -> None:
    """By default a client that disconnects does not cancel its handler."""
    gate = Gate()
    served = await serve(gate.handler)
    connection = await served.connect()
    connection.send(GET % b"/wait")
    await asyncio.wait_for(gate.started.wait(), TIMEOUT)
    connection.abort()
    await until(lambda: not served.server.connections)  # the server has seen the reset
    assert not gate.cancelled.is_set()
    gate.release.set()
    await asyncio.wait_for(gate.finished.wait(), TIMEOUT)
    assert not gate.cancelled.is_set()


@pytest.mark.asyncio
async def test_client_reset_mid_body_fails_the_read(serve: Serve) -> None:
    """A client that vanishes mid-body makes the handler's read raise ConnectionResetError."""
    reading = asyncio.Event()
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> Response:
        assert await request.content.readexactly(3) == b"abc"
        reading.set()
        try:
            await request.read()
        except ConnectionResetError as exc:
            outcome.set_result(exc)
            raise
        return Response(text="complete")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    await asyncio.wait_for(reading.wait(), TIMEOUT)
    connection.abort()
    assert isinstance(await asyncio.wait_for(outcome, TIMEOUT), ConnectionResetError)


@pytest.mark.asyncio
async def test_write_blocked_on_a_full_socket_fails_when_the_client_vanishes(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write waiting for a client that reads nothing fails once that client resets."""
    paused = asyncio.Event()
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
    pause_writing = RequestHandler.pause_writing

    def record_pause(self: RequestHandler) -> None:
        paused.set()
        pause_writing(self)

    monkeypatch.setattr(RequestHandler, "pause_writing", record_pause)

    async def handler(request: BaseRequest) -> StreamResponse:
        response = StreamResponse()
        await response.prepare(request)
        try:
            for _ in range(256):  # 256 MiB at most: far beyond any socket buffer
                await response.write(b"x" * (1 << 20))
        except ConnectionResetError as exc:
            outcome.set_result(exc)
            raise
        outcome.set_result(None)
        return response

    served = await serve(handler)
    connection = await served.connect()
    connection.send(GET % b"/")
    await asyncio.wait_for(paused.wait(), TIMEOUT)
    connection.abort()
    assert isinstance(await asyncio.wait_for(outcome, TIMEOUT), ConnectionResetError)


@pytest.mark.asyncio
async def test_protocol_reports_its_state(serve: Serve) -> None:
    """The connection a request arrived on is a RequestHandler that knows it is handling."""
    seen: list[object] = []

    async def handler(request: BaseRequest) -> Response:
        protocol = request.protocol
        assert isinstance(protocol, RequestHandler)
        seen.extend([protocol.handling, repr(protocol)])
        return Response(text="ok")

    served = await serve(handler)
    connection = await served.connect()
    connection.send(GET % b"/")
    assert (await connection.response()).body == b"ok"
    assert seen == [True, "<RequestHandler handling queued=0>"]
    (idle,) = served.server.connections
    assert not idle.handling
    assert repr(idle) == "<RequestHandler idle queued=0>"
