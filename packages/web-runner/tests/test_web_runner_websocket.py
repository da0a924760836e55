"""The upgrade hand-off: after a 101 the connection's bytes belong to the WebSocket.

Real sockets on 127.0.0.1; the peer is a raw connection (frames built with
weft.http_parser). (The test client's ``ws_connect``: weft-web-testing's tests.)
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING

import pytest

from weft.http_parser import (
    WebSocketEncoder,
    WebSocketReader,
    WSMessage,
)
from weft.web_core import (
    Application,
    BaseRequest,
    Request,
    Response,
    StreamResponse,
    WebSocketResponse,
    WSMsgType,
)

if TYPE_CHECKING:
    from conftest import RawConnection, Serve, ServerReads, VirtualClock

KEY = base64.b64encode(b"fedcba9876543210").decode()
UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()
TIMEOUT = 10.0


async def echo(request: BaseRequest) -> StreamResponse:
    ws = WebSocketResponse(protocols=("chat",))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close(code=4002, message=b"asked")
            else:
                await ws.send_str("echo:" + msg.data)
        elif msg.type is WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


def make_app() -> Application:
    app = Application()
    app.router.add_get("/ws", echo)

    async def plain(request: Request) -> Response:
        return Response(text="plain")

    app.router.add_get("/plain", plain)
    return app


async def upgrade(conn: RawConnection, extra: bytes = b"") -> None:
    conn.send(UPGRADE + extra)
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 ")


async def frames(conn: RawConnection, reader: WebSocketReader, count: int) -> list[WSMessage]:
    out: list[WSMessage] = []
    while len(out) < count:
        data = await asyncio.wait_for(conn.reader.read(65536), TIMEOUT)
        assert data, f"EOF after {out}"
        out += reader.feed(data)
    return out


@pytest.mark.asyncio
async def test_frames_sent_with_the_request_are_not_lost(serve: Serve) -> None:
    """Frames in the same packet as the upgrade request reach the WebSocket first."""
    served = await serve(make_app())
    conn = await served.connect()
    client = WebSocketEncoder(is_client=True)
    await upgrade(conn, client.text("early") + client.text("second"))
    reader = WebSocketReader(is_client=True)
    got = await frames(conn, reader, 2)
    assert [m.data for m in got] == ["echo:early", "echo:second"]
    conn.send(client.close(1000))
    assert (await frames(conn, reader, 1))[0].type is WSMsgType.CLOSE
    assert await conn.read_to_eof() == b""  # the server closes the connection


@pytest.mark.asyncio
async def test_http_timeouts_do_not_close_a_websocket(
    serve: Serve, clock: VirtualClock, server_reads: ServerReads
) -> None:
    """keep-alive and read timeouts are HTTP's: an idle WebSocket outlives them."""
    served = await serve(
        make_app(), keepalive_timeout=60.0, read_head_timeout=60.0, read_body_timeout=60.0
    )
    conn = await served.connect()
    await upgrade(conn)
    client = WebSocketEncoder(is_client=True)
    reader = WebSocketReader(is_client=True)
    frame = client.text("a")
    read_before = server_reads.total
    conn.send(frame[:3])  # half a frame, then silence
    await server_reads.reach(read_before + 3)
    await clock.advance(600.0)  # ten times each timeout
    conn.send(frame[3:])
    assert (await frames(conn, reader, 1))[0].data == "echo:a"
    conn.send(client.close(1000))
    assert await conn.read_to_eof()  # the close frame, then EOF


@pytest.mark.asyncio
async def test_server_close_ends_the_connection(serve: Serve) -> None:
    served = await serve(make_app())
    conn = await served.connect()
    await upgrade(conn)
    client = WebSocketEncoder(is_client=True)
    conn.send(client.text("close"))
    reader = WebSocketReader(is_client=True)
    assert (await frames(conn, reader, 1))[0] == WSMessage(WSMsgType.CLOSE, 4002, "asked")
    conn.send(client.close(4002))
    assert await conn.read_to_eof() == b""


@pytest.mark.asyncio
async def test_client_fin_ends_the_websocket(serve: Serve) -> None:
    """A FIN without a close frame: the handler's loop ends (CLOSED) and the server closes."""
    done = asyncio.get_running_loop().create_future()

    async def handler(request: BaseRequest) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        done.set_result((msg.type, ws.close_code))
        return ws

    served = await serve(handler)
    conn = await served.connect()
    await upgrade(conn)
    conn.writer.write_eof()
    assert await asyncio.wait_for(done, TIMEOUT) == (WSMsgType.CLOSED, 1006)
    assert await conn.read_to_eof() == b""


@pytest.mark.asyncio
async def test_declined_upgrade_keeps_speaking_http(serve: Serve) -> None:
    """A 200 to an upgrade request: the bytes after it are parsed as HTTP again."""
    served = await serve(make_app())
    conn = await served.connect()
    h2c = (
        b"GET /plain HTTP/1.1\r\nHost: x\r\n"
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"
    )
    conn.send(h2c + b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
    first = await conn.response()
    second = await conn.response()
    assert (first.status, first.body, second.status, second.body) == (200, b"plain", 200, b"plain")


@pytest.mark.asyncio
async def test_bad_handshake_answers_400_and_426(serve: Serve) -> None:
    served = await serve(make_app())
    conn = await served.connect()
    conn.send(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await conn.response()).status == 400
    conn = await served.connect()
    conn.send(UPGRADE.replace(b"Version: 13", b"Version: 8"))
    response = await conn.response()
    assert response.status == 426
    assert response.headers["Sec-WebSocket-Version"] == "13"


@pytest.mark.asyncio
async def test_raw_protocol_error_closes_with_1002(serve: Serve) -> None:
    served = await serve(make_app())
    conn = await served.connect()
    await upgrade(conn)
    conn.send(b"\x81\x02hi")  # not masked
    reader = WebSocketReader(is_client=True)
    assert (await frames(conn, reader, 1))[0].data == 1002
    assert await conn.read_to_eof() == b""
