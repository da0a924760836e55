"""What a Server's connections tell its observer (``weft.web_runner.observer``), on real
sockets: each event where it happens, once.

Connections are counted by the Server (opened once, closed once, though the graceful
shutdown forgets them first); the rejections the connection answers itself include the
body's (its timeout's 408, a broken body's status), and WebSocket closes are reported
by the connection as it ends, whoever closed it.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, cast

import pytest

from weft.http_parser import WebSocketEncoder, WebSocketReader, WSMsgType
from weft.web_core import (
    Application,
    BaseRequest,
    Request,
    Response,
    StreamResponse,
    WebSocketResponse,
)
from weft.web_runner import RequestHandler, Server
from weft.web_runner.observer import ServerObserver, observe_server
from weft.web_testing.test_utils import TestClient, TestServer

if TYPE_CHECKING:
    from conftest import RawConnection, Serve, Until

TIMEOUT = 10.0
KEY = base64.b64encode(b"fedcba9876543210").decode()
UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()


class Recorder(ServerObserver):
    """Every report, in order: ("opened",), ("closed",), ("rejected", status), ("ws", code)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...] | tuple[str, int]] = []

    def connection_opened(self) -> None:
        self.events.append(("opened",))

    def connection_closed(self) -> None:
        self.events.append(("closed",))

    def request_rejected(self, status: int) -> None:
        self.events.append(("rejected", status))

    def websocket_closed(self, code: int) -> None:
        self.events.append(("ws", code))

    def count(self, name: str) -> int:
        return sum(1 for event in self.events if event[0] == name)

    def reported(self, name: str) -> list[int]:
        return [cast(int, event[1]) for event in self.events if event[0] == name]


async def read_body(request: BaseRequest) -> StreamResponse:
    return Response(text=f"read {len(await request.read())}")


async def upgrade(conn: RawConnection) -> None:
    conn.send(UPGRADE)
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 ")


# ---------------------------------------------------------------- connections


def test_the_server_reports_each_connection_closed_once_though_the_shutdown_forgot_it() -> None:
    """The Server's bookkeeping, by its protocol's calls: a connection reported opened is
    reported closed once, after the shutdown cleared its connections too; one the
    shutdown forgot before the observer came is reported neither; with no observer the
    Server keeps nothing for it."""
    server = Server(read_body)
    transport = cast(asyncio.Transport, object())
    first, second, forgotten = (cast(RequestHandler, object()) for _ in range(3))
    server.connection_made(first, transport)
    assert not server._reported  # nothing observes: one attribute check, nothing kept
    recorder = Recorder()
    assert observe_server(server, recorder)
    assert recorder.events == [("opened",)]  # the connection open already
    server.connection_made(second, transport)
    server.connection_made(forgotten, transport)
    server._connections.clear()  # as Server.shutdown() ends, before they are lost
    server.connection_lost(first)
    server.connection_lost(second)
    server.connection_lost(first)  # the protocol calls it once; even so, counted once
    assert (recorder.count("opened"), recorder.count("closed")) == (3, 2)
    server.connection_lost(forgotten)
    assert (recorder.count("opened"), recorder.count("closed")) == (3, 3)

    late = Server(read_body)
    late.connection_made(forgotten, transport)
    late._connections.clear()  # forgotten before anyone observed
    late_recorder = Recorder()
    observe_server(late, late_recorder)
    late.connection_lost(forgotten)
    assert late_recorder.events == []


def test_an_observer_set_before_observe_server_keeps_its_reports() -> None:
    """``server.observer`` set by hand, then observe_server(): both are told from then on."""
    server = Server(read_body)
    transport = cast(asyncio.Transport, object())
    own, added = Recorder(), Recorder()
    server.observer = own
    connection = cast(RequestHandler, object())
    server.connection_made(connection, transport)
    assert observe_server(server, added)
    assert not observe_server(server, own)  # it is one of the Server's observers already
    server.connection_lost(connection)
    assert own.events == [("opened",), ("closed",)]
    assert added.events == [("opened",), ("closed",)]


@pytest.mark.asyncio
async def test_connections_are_opened_and_closed_once_each(serve: Serve, until: Until) -> None:
    """Closed by the client, by the server after its answer, by the shutdown: one opened
    and one closed each, never more (the shutdown forgets its connections before they
    are lost)."""
    recorder = Recorder()
    served = await serve(read_body)
    observe_server(served.server, recorder)
    by_client, by_server, by_shutdown = [await served.connect() for _ in range(3)]
    await until(lambda: recorder.count("opened") == 3)
    await by_client.close()
    by_server.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await by_server.response()).body == b"read 0"
    assert await by_server.read_to_eof() == b""
    await until(lambda: recorder.count("closed") == 2)
    by_shutdown.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await by_shutdown.response()).body == b"read 0"
    await served.cleanup()
    await until(lambda: recorder.count("closed") == 3)
    await asyncio.sleep(0.1)  # anything late would show now
    assert recorder.events == [("opened",)] * 3 + [("closed",)] * 3


# ---------------------------------------------------------------- the body's rejections


@pytest.mark.asyncio
async def test_a_body_that_stops_arriving_is_reported_408_once(serve: Serve, until: Until) -> None:
    """read_body_timeout: the handler's read fails, the connection answers 408 and
    reports it; the connection is reported closed once the client has closed too."""
    recorder = Recorder()
    served = await serve(read_body, read_body_timeout=0.2)
    observe_server(served.server, recorder)
    conn = await served.connect()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")  # then silence
    response = await conn.response()
    assert response.status == 408
    assert response.headers["Connection"] == "close"
    assert await conn.read_to_eof() == b""  # lingering: the server's FIN
    await conn.close()
    await until(lambda: recorder.count("closed") == 1)
    assert recorder.events == [("opened",), ("rejected", 408), ("closed",)]


@pytest.mark.asyncio
async def test_a_broken_chunked_body_is_reported_with_its_status_once(
    serve: Serve, until: Until
) -> None:
    """A bad chunk size in the body the handler reads: 400, reported by the connection
    once (not also as the parser's rejection: no request is queued for it)."""
    recorder = Recorder()
    served = await serve(read_body)
    observe_server(served.server, recorder)
    conn = await served.connect()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZ\r\n")
    response = await conn.response()
    assert response.status == 400
    await conn.read_to_eof()
    await conn.close()
    await until(lambda: recorder.count("closed") == 1)
    assert recorder.events == [("opened",), ("rejected", 400), ("closed",)]


@pytest.mark.asyncio
async def test_a_body_timeout_the_handler_answers_itself_is_not_the_protocols(
    serve: Serve, until: Until
) -> None:
    """A handler that catches the body's timeout answers what it likes: the connection
    answered nothing, so it reports no rejection."""
    recorder = Recorder()

    async def patient(request: BaseRequest) -> StreamResponse:
        try:
            await request.read()
        except TimeoutError:
            return Response(status=400, text="too slow")
        raise AssertionError("the body arrived")

    served = await serve(patient, read_body_timeout=0.2)
    observe_server(served.server, recorder)
    conn = await served.connect()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    assert (await conn.response()).body == b"too slow"
    await conn.read_to_eof()
    await conn.close()
    await until(lambda: recorder.count("closed") == 1)
    assert recorder.events == [("opened",), ("closed",)]


# ---------------------------------------------------------------- WebSocket closes


def websocket_app() -> Application:
    async def returns_open(request: Request) -> StreamResponse:
        """Echoes one message and returns: the connection closes it (1000)."""
        ws = WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(await ws.receive_str())
        return ws

    async def echo(request: Request) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(message.data)
        return ws

    async def fails(request: Request) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        await ws.receive_str()
        raise RuntimeError("the handler broke after the switch")

    app = Application()
    app.router.add_get("/open", returns_open)
    app.router.add_get("/echo", echo)
    app.router.add_get("/fails", fails)
    app.router.add_get("/ws", echo)
    return app


@pytest.mark.asyncio
async def test_websocket_closes_are_reported_by_the_connection_once_each(until: Until) -> None:
    """Whoever closed: the client (its code), the connection after the handler returned
    (1000), a handler that raised (1006, no close frame). One report per WebSocket, as
    its connection ends, whatever the handler did."""
    recorder = Recorder()
    async with TestClient(TestServer(websocket_app())) as client:
        assert observe_server(client.server.handler, recorder)
        async with client.ws_connect("/echo") as ws:
            await ws.send_str("hi")
            assert await ws.receive_str() == "hi"
            await ws.close(code=4000)
        await until(lambda: recorder.reported("ws") == [4000])
        async with client.ws_connect("/open") as ws:
            await ws.send_str("once")
            assert await ws.receive_str() == "once"
            assert (await ws.receive()).type is WSMsgType.CLOSE  # the connection's close
        await until(lambda: recorder.reported("ws") == [4000, 1000])
        async with client.ws_connect("/fails") as ws:
            await ws.send_str("boom")
            await ws.receive()  # the end: no close frame comes
        await until(lambda: recorder.reported("ws") == [4000, 1000, 1006])
        await until(lambda: recorder.count("closed") == 3)
    assert recorder.reported("ws") == [4000, 1000, 1006]
    assert recorder.reported("rejected") == []
    assert recorder.count("opened") == recorder.count("closed") == 3


@pytest.mark.asyncio
async def test_a_protocol_violation_is_reported_with_its_code(serve: Serve, until: Until) -> None:
    """The WebSocket fails the connection (an unmasked frame: 1002): reported once."""
    recorder = Recorder()
    served = await serve(websocket_app())
    observe_server(served.server, recorder)
    conn = await served.connect()
    await upgrade(conn)
    conn.send(b"\x81\x02hi")  # not masked
    reader = WebSocketReader(is_client=True)
    data = await conn.read_to_eof()
    assert [m.data for m in reader.feed(data)] == [1002]
    await conn.close()
    await until(lambda: recorder.count("closed") == 1)
    assert recorder.events == [("opened",), ("ws", 1002), ("closed",)]


@pytest.mark.asyncio
async def test_a_client_that_vanishes_is_reported_1006(serve: Serve, until: Until) -> None:
    """No close frame, the connection reset while the handler waits: 1006, once."""
    recorder = Recorder()
    served = await serve(websocket_app())
    observe_server(served.server, recorder)
    conn = await served.connect()
    await upgrade(conn)
    client = WebSocketEncoder(is_client=True)
    conn.send(client.text("hi"))
    reader = WebSocketReader(is_client=True)
    got: list[object] = []
    while not got:
        got += reader.feed(await asyncio.wait_for(conn.reader.read(65536), TIMEOUT))
    conn.abort()
    await until(lambda: recorder.count("closed") == 1)
    assert recorder.events == [("opened",), ("ws", 1006), ("closed",)]


@pytest.mark.asyncio
async def test_a_switch_after_the_connection_was_lost_is_reported(
    serve: Serve, until: Until
) -> None:
    """The connection is gone before the handler switches: the receiver is told at once,
    and its close reported then (the connection's own end has passed)."""
    recorder = Recorder()
    entered = asyncio.Event()
    lost = asyncio.get_running_loop().create_future()

    class Receiver:
        close_code: int | None = None

        def data_received(self, data: bytes) -> None:
            raise AssertionError("no bytes after the connection ended")

        def eof_received(self) -> None:
            raise AssertionError("no FIN after the connection ended")

        def connection_lost(self, exc: BaseException | None) -> None:
            self.close_code = 1006

    async def switch_late(request: BaseRequest) -> StreamResponse:
        entered.set()
        while request.transport is not None:  # noqa: ASYNC110 (no event for it)
            await asyncio.sleep(0)
        assert isinstance(request.protocol, RequestHandler)
        receiver = Receiver()
        request.protocol.switch_protocol(receiver)
        lost.set_result(receiver.close_code)
        return Response(status=101)

    served = await serve(switch_late)
    observe_server(served.server, recorder)
    conn = await served.connect()
    conn.send(UPGRADE)
    await asyncio.wait_for(entered.wait(), TIMEOUT)
    conn.abort()
    assert await asyncio.wait_for(lost, TIMEOUT) == 1006
    assert recorder.events == [("opened",), ("closed",), ("ws", 1006)]
