"""WebSocket lifecycles on real sockets (issue 14): the heartbeat and receive timeouts on
the loop clock the test moves, server pings to a client that does not answer them by
itself, and a connection that ends with its WebSocket.

The peer is a raw connection (frames built with weft.http_parser) or the test
client's ``ws_connect``; tests/test_integration_websocket_lifecycle.py compares
the same behaviours with aiohttp.web's.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import pytest

from weft.http_parser import WebSocketEncoder, WebSocketReader, WSMessage
from weft.web_core import (
    Application,
    BaseRequest,
    Response,
    StreamResponse,
    WebSocketResponse,
    WSMsgType,
)
from weft.web_testing.test_utils import TestClient, TestServer

if TYPE_CHECKING:
    from conftest import RawConnection, Serve, ServerReads, VirtualClock

TIMEOUT = 10.0
HEARTBEAT = 30.0
KEY = base64.b64encode(b"fedcba9876543210").decode()
UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()


async def upgrade(conn: RawConnection) -> None:
    conn.send(UPGRADE)
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 ")


async def frames(conn: RawConnection, reader: WebSocketReader, count: int) -> list[WSMessage]:
    out: list[WSMessage] = []
    while len(out) < count:
        data = await asyncio.wait_for(conn.reader.read(65536), TIMEOUT)
        assert data, f"EOF after {out}"
        out += reader.feed(data)
    return out


def reporting_handler(report: asyncio.Future[Any], **options: Any) -> Any:
    """A WebSocket handler that echoes TEXT and reports how its loop ended."""

    async def handler(request: BaseRequest) -> StreamResponse:
        ws = WebSocketResponse(**options)
        await ws.prepare(request)
        seen = []
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await ws.send_str("echo:" + msg.data)
            else:
                seen.append(msg.type)
        exc = ws.exception()
        report.set_result((seen, ws.close_code, None if exc is None else type(exc)))
        return ws

    return handler


async def sent_and_read(conn: RawConnection, reads: ServerReads, data: bytes) -> None:
    """Send ``data`` and return once the server has read it (before the clock moves)."""
    total = reads.total + len(data)
    conn.send(data)
    await reads.reach(total)


@pytest.mark.asyncio
async def test_heartbeat_without_a_pong(
    serve: Serve, clock: VirtualClock, server_reads: ServerReads
) -> None:
    """A PING after ``heartbeat`` s; no answer within half of it: the connection is
    closed without a close frame, and the handler's loop gets ERROR (TimeoutError), 1006."""
    report: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    served = await serve(reporting_handler(report, heartbeat=HEARTBEAT))
    conn = await served.connect()
    await upgrade(conn)
    reader = WebSocketReader(is_client=True)
    await clock.advance(HEARTBEAT + 0.1)
    assert await frames(conn, reader, 1) == [WSMessage(WSMsgType.PING, b"", "")]
    await clock.advance(HEARTBEAT / 2 + 0.1)
    assert await conn.read_to_eof() == b""  # no close frame
    assert await asyncio.wait_for(report, TIMEOUT) == ([WSMsgType.ERROR], 1006, TimeoutError)


@pytest.mark.asyncio
async def test_heartbeat_answered_keeps_the_connection(
    serve: Serve, clock: VirtualClock, server_reads: ServerReads
) -> None:
    """A PONG, even near the deadline, keeps the WebSocket open past it."""
    report: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    served = await serve(reporting_handler(report, heartbeat=HEARTBEAT))
    conn = await served.connect()
    await upgrade(conn)
    client = WebSocketEncoder(is_client=True)
    reader = WebSocketReader(is_client=True)
    for _ in range(2):
        await clock.advance(HEARTBEAT + 0.1)
        assert await frames(conn, reader, 1) == [WSMessage(WSMsgType.PING, b"", "")]
        await clock.advance(HEARTBEAT / 2 - 1)
        await sent_and_read(conn, server_reads, client.pong(b""))
        await clock.advance(2)  # past the deadline the PONG cancelled
    await sent_and_read(conn, server_reads, client.text("still here"))
    assert await frames(conn, reader, 1) == [WSMessage(WSMsgType.TEXT, "echo:still here", "")]
    conn.send(client.close(1000))
    assert await asyncio.wait_for(report, TIMEOUT) == ([], 1000, None)


@pytest.mark.asyncio
async def test_receive_timeouts_then_async_for(serve: Serve, clock: VirtualClock) -> None:
    """receive(timeout=) raising TimeoutError twice, then ``async for`` reads on."""
    report: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        timeouts = 0
        for _ in range(2):
            waiting = asyncio.ensure_future(ws.receive(timeout=20))
            await ws.send_str("waiting")
            try:
                await waiting
            except TimeoutError:
                timeouts += 1
        await ws.send_str("go")
        texts = [msg.data async for msg in ws]
        report.set_result((timeouts, texts, ws.close_code))
        return ws

    served = await serve(handler)
    conn = await served.connect()
    await upgrade(conn)
    client = WebSocketEncoder(is_client=True)
    reader = WebSocketReader(is_client=True)
    for _ in range(2):
        assert (await frames(conn, reader, 1))[0].data == "waiting"
        await clock.advance(20.1)
    assert (await frames(conn, reader, 1))[0].data == "go"
    conn.send(client.text("a") + client.text("b") + client.close(1001))
    assert await asyncio.wait_for(report, TIMEOUT) == (2, ["a", "b"], 1001)


@pytest.mark.asyncio
async def test_test_client_without_autoping_sees_the_servers_ping_and_pong() -> None:
    """The server's ping() and pong() return at once; a client without autoping gets
    them as messages and answers by hand."""
    pongs: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        ws = WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"ping?")
        await ws.pong(b"pong!")
        await ws.send_str("sent both")
        msg = await ws.receive()
        pongs.set_result(msg.data if msg.type is WSMsgType.PONG else b"not a pong")
        await ws.close()
        return ws

    app = Application()
    app.router.add_get("/ws", handler)
    async with (
        TestClient(TestServer(app)) as client,
        client.ws_connect("/ws", autoping=False) as ws,
    ):
        got = [(m.type, m.data) for m in [await ws.receive(TIMEOUT) for _ in range(3)]]
        assert got == [
            (WSMsgType.PING, b"ping?"),
            (WSMsgType.PONG, b"pong!"),
            (WSMsgType.TEXT, "sent both"),
        ]
        await ws.pong(b"ping?")
        assert await asyncio.wait_for(pongs, TIMEOUT) == b"ping?"
        assert (await ws.receive(TIMEOUT)).type is WSMsgType.CLOSE


@pytest.mark.parametrize(
    "connection", [b"Upgrade", b"keep-alive, Upgrade", b"Upgrade, keep-alive"], ids=repr
)
@pytest.mark.asyncio
async def test_nothing_after_the_websocket_is_read_as_http(serve: Serve, connection: bytes) -> None:
    """However the request asks for keep-alive, the connection ends with its WebSocket:
    a request pipelined after the close frame is not answered."""
    report: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    app = Application()
    app.router.add_get("/ws", reporting_handler(report))

    async def plain(request: BaseRequest) -> Response:
        return Response(text="plain")

    app.router.add_get("/plain", plain)
    served = await serve(app)
    conn = await served.connect()
    client = WebSocketEncoder(is_client=True)
    conn.send(
        UPGRADE.replace(b"Connection: Upgrade", b"Connection: " + connection)
        + client.close(1000)
        + b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    data = await conn.read_to_eof()
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert WebSocketReader(is_client=True).feed(rest) == [WSMessage(WSMsgType.CLOSE, 1000, "")]
    assert await asyncio.wait_for(report, TIMEOUT) == ([], 1000, None)
