"""WebSocketResponse, issue 14: what aiohttp 3.14 does after a cancelled receive(), around
a failed heartbeat, with ``autoclose=False`` and with ``decode_text=False``.

The same in-memory connection as test_web_core_websocket.py (its ``connect`` and
``Peer``); timeouts on the stopped loop clock. tests/test_integration_websocket_lifecycle.py
holds the same behaviours against aiohttp.web's, through real clients.
"""

from __future__ import annotations

import asyncio
import json
from typing import Literal, assert_type

import pytest
from test_web_core_websocket import UPGRADE, connect, make_request
from web_core_support import VirtualClock, get, yield_to_the_loop

from weft.http_parser import ws_encode_close, ws_encode_frame
from weft.web_core import WebSocketResponse, WSCloseCode, WSMessage, WSMsgType

# ---------------------------------------------------------------- server ping and pong


@pytest.mark.asyncio
async def test_ping_and_pong_return_without_waiting_for_the_peer() -> None:
    """ping() and pong() return once written: a peer that never answers (autoping off on
    its side) does not hold them, and the conversation goes on."""
    peer = await connect(autoping=False)
    await peer.ws.ping(b"are you there")
    await peer.ws.pong(b"unsolicited")
    await peer.ws.send_str("after")
    assert [(m.type, m.data) for m in peer.frames()] == [
        (WSMsgType.PING, b"are you there"),
        (WSMsgType.PONG, b"unsolicited"),
        (WSMsgType.TEXT, "after"),
    ]
    peer.send(peer.encoder.pong(b"are you there"))  # an answer that comes late
    peer.text("next")
    assert await peer.ws.receive() == WSMessage(WSMsgType.PONG, b"are you there", "")
    assert await peer.ws.receive_str() == "next"


@pytest.mark.asyncio
async def test_ping_from_a_handler_with_autoping_swallows_the_answer() -> None:
    """With autoping (the default) the peer's PONG to the handler's ping is not a message."""
    peer = await connect()
    await peer.ws.ping(b"1")
    peer.send(peer.encoder.pong(b"1"))
    peer.text("then")
    assert await peer.ws.receive_str() == "then"


# ---------------------------------------------------------------- receive() after a cancelled one


@pytest.mark.asyncio
async def test_receive_after_a_cancelled_receive() -> None:
    """A cancelled receive() leaves nothing behind: the next one (and ``async for``)
    gets the next messages, as in aiohttp, whose reader drops the cancelled waiter."""
    peer = await connect()
    receiving = asyncio.create_task(peer.ws.receive())
    await yield_to_the_loop()
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    peer.text("one")
    assert await peer.ws.receive_str() == "one"
    receiving = asyncio.create_task(peer.ws.receive())
    await yield_to_the_loop()
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    peer.text("two")
    peer.text("three")
    peer.send(ws_encode_close(1000, mask=True))
    assert [m.data async for m in peer.ws] == ["two", "three"]
    assert peer.ws.close_code == 1000


@pytest.mark.asyncio
async def test_a_message_delivered_as_receive_is_cancelled_waits_for_the_next() -> None:
    """The message that woke a receive() cancelled before it resumed is not lost."""
    peer = await connect()
    receiving = asyncio.create_task(peer.ws.receive())
    await yield_to_the_loop()
    peer.text("kept")
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    assert await peer.ws.receive_str() == "kept"


@pytest.mark.asyncio
async def test_receive_after_timeouts(clock: VirtualClock) -> None:
    """receive(timeout=) raising TimeoutError, twice, then ``async for`` reads on."""
    peer = await connect()
    for _ in range(2):
        receiving = asyncio.create_task(peer.ws.receive(timeout=5))
        await clock.advance(5.1)
        with pytest.raises(TimeoutError):
            await receiving
    received: list[str] = []

    async def read_all() -> None:
        async for msg in peer.ws:
            received.append(msg.data)

    reading = asyncio.create_task(read_all())
    peer.text("a")
    peer.text("b")
    await yield_to_the_loop()
    assert received == ["a", "b"]
    peer.send(ws_encode_close(1001, mask=True))
    await reading
    assert peer.ws.close_code == 1001


@pytest.mark.asyncio
async def test_wait_for_around_receive() -> None:
    """``asyncio.wait_for(ws.receive(), t)`` timing out is the same cancellation."""
    peer = await connect()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(peer.ws.receive(), 0)
    peer.text("x")
    assert await asyncio.wait_for(peer.ws.receive_str(), 10) == "x"


# ---------------------------------------------------------------- heartbeat without a pong


@pytest.mark.asyncio
async def test_heartbeat_failure_while_the_handler_is_busy(clock: VirtualClock) -> None:
    """Nobody in receive() when the pong deadline passes: the next receive() is CLOSED
    (unread messages dropped, as aiohttp's), close_code 1006, a TimeoutError kept, no
    close frame sent, and close() has nothing left to do."""
    peer = await connect(heartbeat=20)
    await clock.advance(20.1)
    assert [m.type for m in peer.frames()] == [WSMsgType.PING]
    peer.text("unread")  # data, but no answer to the PING: it resets the wait
    await clock.advance(20.1)
    assert [m.type for m in peer.frames()] == [WSMsgType.PING]
    await clock.advance(10.1)
    assert peer.transport.is_closing()
    assert peer.frames() == []
    assert peer.ws.closed
    assert peer.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert isinstance(peer.ws.exception(), TimeoutError)
    assert (await peer.ws.receive()).type is WSMsgType.CLOSED
    assert await peer.ws.close() is False
    with pytest.raises(ConnectionResetError):
        await peer.ws.ping()


@pytest.mark.asyncio
async def test_heartbeat_failure_ends_async_for(clock: VirtualClock) -> None:
    """In ``async for``, the failure is an ERROR message (TimeoutError); the loop then ends."""
    peer = await connect(heartbeat=20)
    seen: list[WSMessage] = []

    async def read_all() -> None:
        async for msg in peer.ws:
            seen.append(msg)

    reading = asyncio.create_task(read_all())
    await clock.advance(20.1)  # the PING
    await clock.advance(10.1)  # no PONG by then
    await reading
    [error] = seen
    assert error.type is WSMsgType.ERROR
    assert isinstance(error.data, TimeoutError)
    assert str(error.data) == "No PONG received after 10.0 seconds"


# ---------------------------------------------------------------- autoclose=False


@pytest.mark.asyncio
async def test_no_autoclose_the_handler_answers() -> None:
    """The peer's CLOSE reaches the handler unanswered; the handler may still send, and
    its close() sends its own code and closes at once (the peer already closed)."""
    peer = await connect(autoclose=False)
    peer.text("last")
    peer.send(ws_encode_close(4000, "bye", mask=True))
    assert await peer.ws.receive_str() == "last"
    assert await peer.ws.receive() == WSMessage(WSMsgType.CLOSE, 4000, "bye")
    assert peer.frames() == []
    closed_early = peer.ws.closed
    assert not closed_early
    assert peer.ws.close_code == 4000
    await peer.ws.send_str("goodbye")
    assert await peer.ws.close(code=4001) is True
    assert [(m.type, m.data) for m in peer.frames()] == [
        (WSMsgType.TEXT, "goodbye"),
        (WSMsgType.CLOSE, 4001),
    ]
    assert peer.transport.is_closing()
    assert peer.ws.close_code == 4000
    assert (await peer.ws.receive()).type is WSMsgType.CLOSED


@pytest.mark.asyncio
async def test_no_autoclose_a_handler_that_returns_is_closed_for_it(clock: VirtualClock) -> None:
    """The runner's write_eof() answers the CLOSE the handler left unanswered, at once."""
    peer = await connect(autoclose=False)
    peer.send(ws_encode_close(1001, mask=True))
    assert (await peer.ws.receive()).type is WSMsgType.CLOSE
    await peer.ws.write_eof()
    assert peer.frames() == [WSMessage(WSMsgType.CLOSE, 1000, "")]
    assert peer.transport.is_closing()


# ---------------------------------------------------------------- decode_text=False


@pytest.mark.asyncio
async def test_decode_text_false_keeps_the_bytes_unchecked() -> None:
    """TEXT data is the bytes sent, whether valid UTF-8 or not (aiohttp checks nothing
    then): no 1007, and receive_str()/receive_json() hand over the bytes."""
    peer = await connect(decode_text=False, compress=False)
    peer.send(ws_encode_frame(WSMsgType.TEXT, b"\xff\xfe not utf-8", mask=True))
    peer.send(ws_encode_frame(WSMsgType.TEXT, b"\xe2\x9c", fin=False, mask=True))
    peer.send(ws_encode_frame(WSMsgType.CONTINUATION, b"\x93", mask=True))
    peer.text('{"a": 1}')
    peer.text('{"b": 2}')
    ws: WebSocketResponse[bool] = peer.ws  # Peer types it for the default
    assert await ws.receive() == WSMessage(WSMsgType.TEXT, b"\xff\xfe not utf-8", "")
    assert await ws.receive_str() == "✓".encode()
    assert await ws.receive_json() == {"a": 1}
    assert await ws.receive_json(loads=lambda data: json.loads(data.decode())) == {"b": 2}
    assert peer.frames() == []
    assert ws.exception() is None


@pytest.mark.asyncio
async def test_decode_text_false_with_deflate() -> None:
    peer = await connect("Sec-WebSocket-Extensions: permessage-deflate", decode_text=False)
    assert peer.ws.compress == 15
    peer.text("compressé")
    peer.send(peer.encoder.binary(b"\x00"))
    assert await peer.ws.receive() == WSMessage(WSMsgType.TEXT, "compressé".encode(), "")
    assert await peer.ws.receive() == WSMessage(WSMsgType.BINARY, b"\x00", "")


@pytest.mark.asyncio
async def test_decode_text_true_still_refuses_invalid_utf8() -> None:
    peer = await connect(compress=False)
    peer.send(ws_encode_frame(WSMsgType.TEXT, b"\xff", mask=True))
    msg = await peer.ws.receive()
    assert msg.type is WSMsgType.ERROR
    assert peer.ws.close_code == WSCloseCode.INVALID_TEXT


@pytest.mark.asyncio
async def test_decode_text_types() -> None:
    """The type parameter says what TEXT data is (mypy checks the assert_type calls);
    the class can be subscripted at run time, as aiohttp's Generic class can."""
    decoded = WebSocketResponse()
    raw = WebSocketResponse(decode_text=False)
    either = WebSocketResponse(decode_text=bool(len(UPGRADE)))  # a bool known at run time
    assert_type(decoded, WebSocketResponse[Literal[True]])
    assert_type(raw, WebSocketResponse[Literal[False]])
    assert_type(either, WebSocketResponse[bool])
    annotated: WebSocketResponse = decoded  # the default parameter: decoded text
    assert_type(annotated, WebSocketResponse[Literal[True]])
    assert WebSocketResponse[Literal[False]] is not WebSocketResponse
    for ws in (decoded, raw, either):
        request, conn, _ = make_request(get("/ws", *UPGRADE))
        await ws.prepare(request)
        assert conn.receiver is not None
        conn.receiver.data_received(ws_encode_frame(WSMsgType.TEXT, "é".encode(), mask=True))
    assert assert_type(await decoded.receive_str(), str) == "é"
    assert assert_type(await raw.receive_str(), bytes) == "é".encode()
    assert assert_type(await either.receive_str(), str | bytes) == "é"
