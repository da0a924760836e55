"""WebSocket protocol violations from a raw socket, and a peer that never answers pings.

Each violation is sent after a valid handshake; the server must answer with
a close frame carrying the right code (RFC 6455 §7.4.1: 1002 protocol error,
1007 invalid data, 1009 message too big), close the connection, and give
the handler an ERROR message with the same code.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from weft import web
from weft.http_parser import WebSocketReader, WSMessage, ws_encode_frame

# Until weft.web re-exports them (issue 7), the WebSocket names come from web-core.


ServeApp = Callable[[web.Application], Awaitable[str]]
TIMEOUT = 10.0
KEY = base64.b64encode(b"raw-socket-key!!").decode()
EVENTS = web.AppKey("events", list)


def frame(
    first: int, payload: bytes = b"", *, mask: bool = True, length: int | None = None
) -> bytes:
    """A frame with any first byte (FIN, RSV bits, opcode), masked unless told otherwise."""
    size = len(payload) if length is None else length
    if size < 126:
        header = bytes((first, (0x80 if mask else 0) | size))
    elif size < 0x10000:
        header = bytes((first, (0x80 if mask else 0) | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, (0x80 if mask else 0) | 127)) + size.to_bytes(8, "big")
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def record(request: web.Request) -> web.WebSocketResponse:
    """Reads until the end; records the messages' types and the close code."""
    ws = web.WebSocketResponse(max_msg_size=1024, compress=False, heartbeat=None)
    await ws.prepare(request)
    seen: list[Any] = []
    while True:
        msg = await ws.receive()
        seen.append(msg.data.code if msg.type is web.WSMsgType.ERROR else msg.type)
        if msg.type in (web.WSMsgType.CLOSED, web.WSMsgType.CLOSE, web.WSMsgType.ERROR):
            break
    request.app[EVENTS].append((seen, ws.close_code))
    return ws


async def silent_peer(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=0.2)
    await ws.prepare(request)
    msg = await ws.receive()
    kind = type(msg.data).__name__ if msg.type is web.WSMsgType.ERROR else None
    request.app[EVENTS].append((msg.type, kind, ws.close_code, (await ws.receive()).type))
    return ws


@pytest.fixture
def app() -> web.Application:
    app = web.Application()
    app[EVENTS] = []
    app.router.add_get("/ws", record)
    app.router.add_get("/silent", silent_peer)
    return app


async def open_ws(base: str, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return reader, writer


async def until_eof(reader: asyncio.StreamReader) -> list[WSMessage]:
    """The server's frames until it closes the connection."""
    data = await asyncio.wait_for(reader.read(), TIMEOUT)
    return WebSocketReader(is_client=True).feed(data)


async def event(app: web.Application) -> Any:
    async with asyncio.timeout(TIMEOUT):
        while not app[EVENTS]:  # noqa: ASYNC110 (the handler runs in the server's task)
            await asyncio.sleep(0.01)
    return app[EVENTS][0]


VIOLATIONS = {
    "unmasked client frame": (frame(0x81, b"hi", mask=False), 1002),
    "reserved data opcode 3": (frame(0x83, b"x"), 1002),
    "reserved control opcode 0xB": (frame(0x8B), 1002),
    "RSV1 without an extension": (frame(0xC1, b"x"), 1002),
    "RSV2": (frame(0xA1, b"x"), 1002),
    "RSV3": (frame(0x91, b"x"), 1002),
    "control frame over 125 bytes": (frame(0x89, b"p" * 126), 1002),
    "fragmented control frame": (frame(0x09, b"p") + frame(0x80, b"q"), 1002),
    "continuation outside a message": (frame(0x80, b"x"), 1002),
    "new message inside a fragmented one": (frame(0x01, b"a") + frame(0x81, b"b"), 1002),
    "close with a 1-byte payload": (frame(0x88, b"\x03"), 1002),
    "close code 1005": (frame(0x88, (1005).to_bytes(2, "big")), 1002),
    "close code 999": (frame(0x88, (999).to_bytes(2, "big")), 1002),
    "invalid UTF-8 text": (frame(0x81, b"\xc3\x28"), 1007),
    "invalid UTF-8 across fragments": (frame(0x01, b"ok\xce") + frame(0x80, b"\x41"), 1007),
    "invalid UTF-8 in a close reason": (frame(0x88, b"\x03\xe8\xff"), 1007),
    "oversized frame": (frame(0x82, b"x" * 2000), 1009),
    "oversized by its declared length": (frame(0x82, b"", length=2**40), 1009),
    "oversized fragmented message": (frame(0x02, b"x" * 600) + frame(0x80, b"y" * 600), 1009),
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
@pytest.mark.asyncio
async def test_violation_is_answered_with_its_close_code(
    serve: ServeApp, app: web.Application, name: str
) -> None:
    data, code = VIOLATIONS[name]
    base = await serve(app)
    reader, writer = await open_ws(base, "/ws")
    try:
        writer.write(data)
        messages = await until_eof(reader)
    finally:
        writer.close()
    assert [(m.type, m.data) for m in messages] == [(web.WSMsgType.CLOSE, code)]
    seen, close_code = await event(app)
    assert seen == [code]  # the handler got ERROR with the WebSocketError of that code
    assert close_code == code


@pytest.mark.asyncio
async def test_messages_before_a_violation_are_delivered(
    serve: ServeApp, app: web.Application
) -> None:
    base = await serve(app)
    reader, writer = await open_ws(base, "/ws")
    try:
        writer.write(ws_encode_frame(web.WSMsgType.TEXT, b"fine", mask=True) + frame(0x83))
        messages = await until_eof(reader)
    finally:
        writer.close()
    assert [m.data for m in messages] == [1002]
    seen, _ = await event(app)
    assert seen == [web.WSMsgType.TEXT, 1002]


@pytest.mark.asyncio
async def test_heartbeat_detects_a_silent_peer(serve: ServeApp, app: web.Application) -> None:
    """A peer that never answers the server's PING: the server drops it, code 1006.

    As aiohttp: no close frame is sent (the peer is presumed gone); the
    handler's receive() gets ERROR with the TimeoutError, then CLOSED.
    """
    base = await serve(app)
    reader, writer = await open_ws(base, "/silent")
    try:
        messages = await until_eof(reader)
    finally:
        writer.close()
    assert [m.type for m in messages] == [web.WSMsgType.PING]
    assert await event(app) == (web.WSMsgType.ERROR, "TimeoutError", 1006, web.WSMsgType.CLOSED)
