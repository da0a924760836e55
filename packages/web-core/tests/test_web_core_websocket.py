"""WebSocketResponse against an in-memory connection: handshake, messages, closing, heartbeat.

The fake connection implements web-core's UpgradableProtocol: it records the
receiver ``prepare()`` hands over, and the tests play the client by feeding
it masked frames; what the server wrote is parsed back with a client-side
WebSocketReader.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from web_core_support import FakeTransport, VirtualClock, get, parse_response, yield_to_the_loop

from weft.http_parser import (
    RequestHead,
    RequestParser,
    WebSocketEncoder,
    WebSocketError,
    WebSocketReader,
    WSDeflateParams,
    ws_encode_close,
    ws_encode_frame,
)
from weft.http_parser.streams import BodyStream
from weft.web_core import (
    Application,
    Request,
    StreamWriter,
    UpgradableProtocol,
    UpgradeReceiver,
    WebSocketReady,
    WebSocketResponse,
    WSCloseCode,
    WSMessage,
    WSMessageTypeError,
    WSMsgType,
)
from weft.web_exceptions import HTTPBadRequest, HTTPUpgradeRequired

KEY = base64.b64encode(b"0123456789abcdef").decode()
UPGRADE = (
    "Upgrade: websocket",
    "Connection: Upgrade",
    f"Sec-WebSocket-Key: {KEY}",
    "Sec-WebSocket-Version: 13",
)


class FakeConnection:
    """An UpgradableProtocol in memory: drains can be held to test backpressure."""

    def __init__(self, transport: FakeTransport) -> None:
        self.transport: FakeTransport | None = transport
        self.receiver: UpgradeReceiver | None = None
        self.drains = 0
        self.paused = False
        self.pauses = 0
        self.gate: asyncio.Event | None = None  # set: drains wait on it

    async def drain(self) -> None:
        self.drains += 1
        if self.gate is not None:
            await self.gate.wait()

    def switch_protocol(self, receiver: UpgradeReceiver) -> None:
        self.receiver = receiver

    def pause_reading(self) -> None:
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        self.paused = False


class Peer:
    """The client side of one WebSocketResponse under test."""

    def __init__(self, ws: WebSocketResponse, conn: FakeConnection, transport: FakeTransport):
        self.ws = ws
        self.conn = conn
        self.transport = transport
        head_end = transport.data.index(b"\r\n\r\n") + 4
        self.head = parse_response(transport.data[:head_end])
        self._seen = head_end
        params = None
        if "Sec-WebSocket-Extensions" in self.head.headers:
            params = WSDeflateParams()
        self.reader = WebSocketReader(is_client=True, compress=params)
        self.encoder = WebSocketEncoder(is_client=True, compress=params)

    def send(self, data: bytes) -> None:
        assert self.conn.receiver is not None
        self.conn.receiver.data_received(data)

    def text(self, text: str) -> None:
        self.send(self.encoder.text(text))

    def frames(self) -> list[WSMessage]:
        """The messages the server wrote since the last call."""
        data = self.transport.data[self._seen :]
        self._seen = len(self.transport.data)
        return self.reader.feed(data)


def make_request(raw: bytes) -> tuple[Request, FakeConnection, FakeTransport]:
    head = RequestParser().feed(raw)[0]
    assert isinstance(head, RequestHead)
    transport = FakeTransport()
    conn = FakeConnection(transport)
    loop = asyncio.get_running_loop()
    request = Application()._make_request(
        head, BodyStream.empty(), conn, StreamWriter(conn), None, loop
    )
    return request, conn, transport


async def connect(*headers: str, **kwargs: Any) -> Peer:
    ws = WebSocketResponse(**kwargs)
    request, conn, transport = make_request(get("/ws", *UPGRADE, *headers))
    await ws.prepare(request)
    return Peer(ws, conn, transport)


# ---------------------------------------------------------------- handshake


@pytest.mark.asyncio
async def test_prepare_writes_101_and_switches() -> None:
    """The 101 carries Accept, Upgrade and Connection, no body framing; the receiver is set."""
    peer = await connect(compress=False)
    assert peer.head.status == 101
    headers = peer.head.headers
    assert headers["Upgrade"] == "websocket"
    assert headers["Connection"] == "Upgrade"
    assert "Sec-WebSocket-Accept" in headers
    assert "Transfer-Encoding" not in headers
    assert "Content-Length" not in headers
    assert "Content-Type" not in headers
    assert peer.conn.receiver is not None
    assert peer.ws.prepared
    assert peer.ws.compress == 0
    closed_early = peer.ws.closed
    assert not closed_early
    assert isinstance(peer.conn, UpgradableProtocol)


@pytest.mark.asyncio
async def test_prepare_twice_returns_the_same_writer() -> None:
    peer = await connect()
    request, _, _ = make_request(get("/ws", *UPGRADE))
    assert await peer.ws.prepare(request) is peer.ws._payload_writer


@pytest.mark.asyncio
async def test_can_prepare() -> None:
    """can_prepare tells a valid upgrade (and the protocol chosen) from anything else."""
    request, _, _ = make_request(get("/ws", *UPGRADE, "Sec-WebSocket-Protocol: v2, chat"))
    ready = WebSocketResponse(protocols=("chat", "v2")).can_prepare(request)
    assert ready == WebSocketReady(True, "v2")
    assert ready
    plain, _, _ = make_request(get("/ws"))
    not_ready = WebSocketResponse().can_prepare(plain)
    assert not not_ready
    assert not_ready.protocol is None


@pytest.mark.asyncio
async def test_can_prepare_after_prepare_raises() -> None:
    peer = await connect()
    request, _, _ = make_request(get("/ws", *UPGRADE))
    with pytest.raises(RuntimeError, match="Already started"):
        peer.ws.can_prepare(request)


@pytest.mark.asyncio
async def test_protocol_negotiated() -> None:
    peer = await connect("Sec-WebSocket-Protocol: a, b", protocols=["b"])
    assert peer.ws.ws_protocol == "b"
    assert peer.head.headers["Sec-WebSocket-Protocol"] == "b"


@pytest.mark.asyncio
async def test_bad_handshakes_raise_before_writing() -> None:
    """No Upgrade: 400; a version other than 13: 426 with Sec-WebSocket-Version: 13."""
    request, _, transport = make_request(get("/ws"))
    with pytest.raises(HTTPBadRequest) as bad:
        await WebSocketResponse().prepare(request)
    assert "Upgrade" in (bad.value.text or "")
    assert transport.data == b""
    versioned = [h for h in UPGRADE if "Version" not in h] + ["Sec-WebSocket-Version: 8"]
    request, _, transport = make_request(get("/ws", *versioned))
    with pytest.raises(HTTPUpgradeRequired) as info:
        await WebSocketResponse().prepare(request)
    assert info.value.headers["Sec-WebSocket-Version"] == "13"
    assert transport.data == b""
    bad_key = [h for h in UPGRADE if "Key" not in h] + ["Sec-WebSocket-Key: short"]
    request, _, _ = make_request(get("/ws", *bad_key))
    with pytest.raises(HTTPBadRequest) as bad:
        await WebSocketResponse().prepare(request)
    assert "Sec-WebSocket-Key" in (bad.value.text or "")


@pytest.mark.asyncio
async def test_prepare_needs_an_upgradable_connection() -> None:
    """A connection without switch_protocol: a RuntimeError that says what to do."""

    class Plain:
        def __init__(self, transport: FakeTransport) -> None:
            self.transport = transport

        async def drain(self) -> None:
            pass

    head = RequestParser().feed(get("/ws", *UPGRADE))[0]
    assert isinstance(head, RequestHead)
    conn = Plain(FakeTransport())
    loop = asyncio.get_running_loop()
    request = Request(head, BodyStream.empty(), conn, StreamWriter(conn), None, loop)
    with pytest.raises(RuntimeError, match="cannot switch protocols"):
        await WebSocketResponse().prepare(request)


@pytest.mark.asyncio
async def test_calls_before_prepare_raise() -> None:
    ws = WebSocketResponse()
    with pytest.raises(RuntimeError, match="prepare"):
        await ws.send_str("x")
    with pytest.raises(RuntimeError, match="prepare"):
        await ws.receive()
    with pytest.raises(RuntimeError, match="prepare"):
        await ws.close()
    with pytest.raises(RuntimeError, match="not been started"):
        await ws.write_eof()
    assert ws.get_extra_info("peername", "none") == "none"
    assert not ws.prepared
    assert ws.compress is True


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="heartbeat"):
        WebSocketResponse(heartbeat=0)
    with pytest.raises(ValueError, match="max_msg_size"):
        WebSocketResponse(max_msg_size=-1)


# ---------------------------------------------------------------- messages


@pytest.mark.asyncio
async def test_text_and_binary_both_ways() -> None:
    peer = await connect(compress=False)
    peer.text("héllo")
    peer.send(peer.encoder.binary(b"\x00\x01"))
    assert await peer.ws.receive() == WSMessage(WSMsgType.TEXT, "héllo", "")
    assert await peer.ws.receive_bytes() == b"\x00\x01"
    await peer.ws.send_str("ok")
    await peer.ws.send_bytes(b"\xff")
    await peer.ws.send_json({"a": 1})
    frames = peer.frames()
    assert [(m.type, m.data) for m in frames] == [
        (WSMsgType.TEXT, "ok"),
        (WSMsgType.BINARY, b"\xff"),
        (WSMsgType.TEXT, '{"a": 1}'),
    ]
    assert peer.conn.drains >= 3  # every send waits for the drain (backpressure)
    assert peer.ws.get_extra_info("peername") == ("192.0.2.7", 50123)


@pytest.mark.asyncio
async def test_receive_json_and_type_errors() -> None:
    peer = await connect()
    peer.text('{"x": [1, 2]}')
    assert await peer.ws.receive_json() == {"x": [1, 2]}
    peer.send(peer.encoder.binary(b"b"))
    with pytest.raises(WSMessageTypeError):
        await peer.ws.receive_str()
    peer.text("t")
    with pytest.raises(WSMessageTypeError):
        await peer.ws.receive_bytes()
    with pytest.raises(TypeError):
        await peer.ws.send_str(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await peer.ws.send_bytes("x")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="write"):
        await peer.ws.write(b"x")


@pytest.mark.asyncio
async def test_fragmented_message_and_split_bytes() -> None:
    """Fragments (with a ping between them) and a frame cut anywhere make one message."""
    peer = await connect(compress=False)
    data = (
        ws_encode_frame(WSMsgType.TEXT, b"hel", fin=False, mask=True)
        + ws_encode_frame(WSMsgType.PING, b"p", mask=True)
        + ws_encode_frame(WSMsgType.CONTINUATION, b"lo", mask=True)
    )
    for i in range(len(data)):
        peer.send(data[i : i + 1])
    assert await peer.ws.receive_str() == "hello"
    assert [(m.type, m.data) for m in peer.frames()] == [(WSMsgType.PONG, b"p")]


@pytest.mark.asyncio
async def test_decode_text_false_gives_bytes() -> None:
    peer = await connect(decode_text=False)
    peer.text("é")
    msg = await peer.ws.receive()
    assert msg.type is WSMsgType.TEXT
    assert msg.data == "é".encode()


@pytest.mark.asyncio
async def test_ping_pong_autoping() -> None:
    """A PING is answered at once (even with nobody reading); a PONG is swallowed."""
    peer = await connect()
    peer.send(peer.encoder.ping(b"abc"))
    peer.send(peer.encoder.pong(b"zz"))
    assert [(m.type, m.data) for m in peer.frames()] == [(WSMsgType.PONG, b"abc")]
    assert not peer.ws._messages
    await peer.ws.ping(b"srv")
    await peer.ws.pong("u")
    assert [(m.type, m.data) for m in peer.frames()] == [
        (WSMsgType.PING, b"srv"),
        (WSMsgType.PONG, b"u"),
    ]


@pytest.mark.asyncio
async def test_no_autoping_returns_ping_and_pong() -> None:
    peer = await connect(autoping=False)
    peer.send(peer.encoder.ping(b"1"))
    peer.send(peer.encoder.pong(b"2"))
    assert await peer.ws.receive() == WSMessage(WSMsgType.PING, b"1", "")
    assert await peer.ws.receive() == WSMessage(WSMsgType.PONG, b"2", "")
    assert peer.frames() == []


@pytest.mark.asyncio
async def test_compression_negotiated() -> None:
    """permessage-deflate: the extension is answered and messages go out with RSV1."""
    peer = await connect("Sec-WebSocket-Extensions: permessage-deflate")
    assert "permessage-deflate" in peer.head.headers["Sec-WebSocket-Extensions"]
    assert peer.ws.compress == 15
    await peer.ws.send_str("a" * 1000)
    raw = peer.transport.writes[-1]
    assert raw[0] & 0x40  # RSV1: compressed
    assert len(raw) < 100
    assert peer.frames() == [WSMessage(WSMsgType.TEXT, "a" * 1000, "")]
    await peer.ws.send_str("b" * 1000, compress=0)
    assert not peer.transport.writes[-1][0] & 0x40
    peer.text("c" * 500)
    assert await peer.ws.receive_str() == "c" * 500


@pytest.mark.asyncio
async def test_compression_off() -> None:
    peer = await connect("Sec-WebSocket-Extensions: permessage-deflate", compress=False)
    assert "Sec-WebSocket-Extensions" not in peer.head.headers
    await peer.ws.send_str("a" * 1000)
    assert not peer.transport.writes[-1][0] & 0x40


@pytest.mark.asyncio
async def test_send_frame() -> None:
    peer = await connect(compress=False)
    await peer.ws.send_frame(b"raw", WSMsgType.BINARY)
    await peer.ws.send_json_bytes([1], dumps=lambda d: json.dumps(d).encode())
    assert [m.data for m in peer.frames()] == [b"raw", b"[1]"]


@pytest.mark.asyncio
async def test_async_iteration_stops_at_close() -> None:
    peer = await connect()
    peer.text("1")
    peer.text("2")
    peer.send(ws_encode_close(1000, mask=True))
    assert [m.data async for m in peer.ws] == ["1", "2"]


@pytest.mark.asyncio
async def test_receive_timeout(clock: VirtualClock) -> None:
    """receive() gives up after receive_timeout, not before; the connection stays usable."""
    peer = await connect(receive_timeout=10)
    receiving = asyncio.create_task(peer.ws.receive())
    await clock.advance(9.9)
    assert not receiving.done()
    await clock.advance(0.2)
    with pytest.raises(TimeoutError):
        await receiving
    peer.text("later")
    assert await peer.ws.receive_str(timeout=1) == "later"


@pytest.mark.asyncio
async def test_concurrent_receive_raises() -> None:
    peer = await connect()
    task = asyncio.create_task(peer.ws.receive())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Concurrent"):
        await peer.ws.receive()
    peer.text("x")
    assert (await task).data == "x"


@pytest.mark.asyncio
async def test_concurrent_senders_wait_for_the_drain() -> None:
    """With the transport full, every sender waits; frames are whole and all arrive."""
    peer = await connect(compress=False)
    peer.conn.gate = asyncio.Event()
    tasks = [asyncio.create_task(peer.ws.send_str(f"m{i}" * 50)) for i in range(10)]
    await yield_to_the_loop()
    assert peer.conn.drains >= 1
    assert not any(task.done() for task in tasks)
    peer.conn.gate.set()
    await asyncio.gather(*tasks)
    assert sorted(m.data for m in peer.frames()) == sorted(f"m{i}" * 50 for i in range(10))


@pytest.mark.asyncio
async def test_reading_pauses_when_messages_pile_up() -> None:
    peer = await connect(compress=False)
    for _ in range(5):
        peer.send(peer.encoder.binary(b"x" * 40_000))
    assert peer.conn.paused
    for _ in range(5):
        await peer.ws.receive_bytes()
    assert not peer.conn.paused


# ---------------------------------------------------------------- closing


@pytest.mark.asyncio
async def test_peer_close_is_answered_with_its_code() -> None:
    """autoclose: the peer's code comes back once the messages before it are read, the
    transport closes, then CLOSED (5th: error)."""
    peer = await connect()
    peer.text("before")
    peer.send(ws_encode_close(4001, "bye", mask=True))
    assert peer.frames() == []  # "before" is still unread: the close waits for it
    closed_early = peer.ws.closed
    assert not closed_early
    assert await peer.ws.receive_str() == "before"
    assert await peer.ws.receive() == WSMessage(WSMsgType.CLOSE, 4001, "bye")
    assert peer.frames() == [WSMessage(WSMsgType.CLOSE, 4001, "")]
    assert peer.transport.is_closing()
    assert peer.ws.closed
    assert peer.ws.close_code == 4001
    for _ in range(4):
        assert (await peer.ws.receive()).type is WSMsgType.CLOSED
    with pytest.raises(RuntimeError, match="closed"):
        await peer.ws.receive()
    assert await peer.ws.close() is False
    with pytest.raises(ConnectionResetError):
        await peer.ws.send_str("late")


@pytest.mark.asyncio
async def test_peer_close_without_code() -> None:
    peer = await connect()
    peer.send(ws_encode_close(None, mask=True))
    assert (await peer.ws.receive()).data == 0
    assert peer.ws.close_code == 0
    assert peer.frames() == [WSMessage(WSMsgType.CLOSE, 0, "")]


@pytest.mark.asyncio
async def test_no_autoclose() -> None:
    """autoclose=False: CLOSE, then CLOSING until the handler closes; then no waiting."""
    peer = await connect(autoclose=False)
    peer.send(ws_encode_close(1001, mask=True))
    assert (await peer.ws.receive()).type is WSMsgType.CLOSE
    assert (await peer.ws.receive()).type is WSMsgType.CLOSING
    assert not peer.transport.is_closing()
    assert await peer.ws.close(code=1000, message=b"ok") is True
    assert peer.frames() == [WSMessage(WSMsgType.CLOSE, 1000, "ok")]
    assert peer.transport.is_closing()
    assert peer.ws.close_code == 1001


@pytest.mark.asyncio
async def test_server_close_waits_for_the_answer() -> None:
    peer = await connect()
    task = asyncio.create_task(peer.ws.close(code=4000, message="done"))
    await asyncio.sleep(0)
    assert peer.frames() == [WSMessage(WSMsgType.CLOSE, 4000, "done")]
    assert not task.done()
    assert not peer.transport.is_closing()
    peer.text("dropped")
    peer.send(ws_encode_close(4000, mask=True))
    assert await task is True
    assert peer.transport.is_closing()
    assert peer.ws.close_code == 4000
    assert (await peer.ws.receive()).type is WSMsgType.CLOSED


@pytest.mark.asyncio
async def test_close_wakes_a_waiting_receive() -> None:
    peer = await connect()
    receiving = asyncio.create_task(peer.ws.receive())
    await asyncio.sleep(0)
    closing = asyncio.create_task(peer.ws.close())
    assert (await receiving).type is WSMsgType.CLOSING
    peer.send(ws_encode_close(1000, mask=True))
    assert await closing


@pytest.mark.asyncio
async def test_close_times_out(clock: VirtualClock) -> None:
    """No answer within ``timeout``: 1006, the TimeoutError kept, the transport closed."""
    peer = await connect(timeout=10)
    closing = asyncio.create_task(peer.ws.close())
    await clock.advance(9.9)
    assert not closing.done()
    assert not peer.transport.is_closing()
    await clock.advance(0.2)
    assert await closing is True
    assert peer.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert isinstance(peer.ws.exception(), TimeoutError)
    assert peer.transport.is_closing()


@pytest.mark.asyncio
async def test_close_checks_its_arguments() -> None:
    peer = await connect()
    with pytest.raises(ValueError, match="1005"):
        await peer.ws.close(code=1005)
    with pytest.raises(ValueError, match="123"):
        await peer.ws.close(message="x" * 124)
    closed_early = peer.ws.closed
    assert not closed_early


@pytest.mark.asyncio
async def test_write_eof_closes(clock: VirtualClock) -> None:
    """The runner's write_eof() after the handler runs the closing handshake."""
    peer = await connect(timeout=10)
    closing = asyncio.create_task(peer.ws.write_eof())
    await clock.advance(10.1)  # the peer never answers
    await closing
    assert peer.frames() == [WSMessage(WSMsgType.CLOSE, 1000, "")]
    await peer.ws.write_eof()  # once


@pytest.mark.asyncio
async def test_connection_lost() -> None:
    """The connection drops without a close frame: queued messages, then CLOSED; 1006."""
    peer = await connect()
    peer.text("last")
    assert peer.conn.receiver is not None
    peer.conn.receiver.eof_received()
    peer.conn.receiver.connection_lost(ConnectionResetError("reset"))
    assert await peer.ws.receive_str() == "last"
    assert (await peer.ws.receive()).type is WSMsgType.CLOSED
    assert peer.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    # What the connection reads from its receiver to report the close (web-runner).
    assert getattr(peer.conn.receiver, "close_code", None) == WSCloseCode.ABNORMAL_CLOSURE
    assert isinstance(peer.ws.exception(), ConnectionResetError)
    assert await peer.ws.close() is False


@pytest.mark.asyncio
async def test_connection_lost_while_closing() -> None:
    peer = await connect()
    task = asyncio.create_task(peer.ws.close())
    await asyncio.sleep(0)
    assert peer.conn.receiver is not None
    peer.conn.receiver.connection_lost(None)
    assert await task is True
    assert peer.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE


# ---------------------------------------------------------------- protocol violations


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (ws_encode_frame(WSMsgType.TEXT, b"hi"), 1002),  # not masked
        (bytes([0x83, 0x80]) + b"\0\0\0\0", 1002),  # reserved opcode 3
        (bytes([0xC1, 0x80]) + b"\0\0\0\0", 1002),  # RSV1 without deflate
        (ws_encode_frame(WSMsgType.TEXT, b"\xff\xfe", mask=True), 1007),  # invalid UTF-8
        (ws_encode_frame(WSMsgType.BINARY, b"x" * 200, mask=True), 1009),  # over max_msg_size
    ],
)
@pytest.mark.asyncio
async def test_violations_are_answered_with_their_code(frame: bytes, code: int) -> None:
    peer = await connect(max_msg_size=100, compress=False)
    peer.text("ok")
    peer.send(frame)
    frames = peer.frames()
    assert [m.type for m in frames] == [WSMsgType.CLOSE]
    assert frames[0].data == code
    assert peer.transport.is_closing()
    assert await peer.ws.receive_str() == "ok"
    msg = await peer.ws.receive()
    assert msg.type is WSMsgType.ERROR
    assert isinstance(msg.data, WebSocketError)
    assert msg.data.code == code
    assert peer.ws.close_code == code
    assert peer.ws.exception() is msg.data
    assert (await peer.ws.receive()).type is WSMsgType.CLOSED
    peer.text("ignored")  # nothing more is read
    assert peer.frames() == []


# ---------------------------------------------------------------- heartbeat


@pytest.mark.asyncio
async def test_heartbeat_closes_a_silent_peer(clock: VirtualClock) -> None:
    """A PING after ``heartbeat`` s; no PONG within half of it: ERROR, 1006, transport closed."""
    peer = await connect(heartbeat=20)
    receiving = asyncio.create_task(peer.ws.receive())
    await clock.advance(19.9)
    assert peer.frames() == []
    await clock.advance(0.2)
    assert [m.type for m in peer.frames()] == [WSMsgType.PING]
    await clock.advance(9.8)  # the pong may take half the interval
    assert not receiving.done()
    await clock.advance(0.2)
    msg = await receiving
    assert msg.type is WSMsgType.ERROR
    assert isinstance(msg.data, TimeoutError)
    assert peer.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert peer.transport.is_closing()
    assert peer.ws.closed
    assert (await peer.ws.receive()).type is WSMsgType.CLOSED


@pytest.mark.asyncio
async def test_heartbeat_kept_alive_by_pongs(clock: VirtualClock) -> None:
    """A peer that answers every PING stays connected, well past the pong deadlines."""
    peer = await connect(heartbeat=20)
    for _ in range(3):
        await clock.advance(20.1)
        [ping] = peer.frames()
        assert ping.type is WSMsgType.PING
        await clock.advance(9)  # an answer late but within half the interval
        peer.send(peer.encoder.pong(ping.data))
        await clock.advance(5)  # past where the unanswered deadline was
    closed_early = peer.ws.closed
    assert not closed_early
    assert peer.ws.close_code is None
    peer.send(ws_encode_close(1000, mask=True))
    assert (await peer.ws.receive()).type is WSMsgType.CLOSE


class BufferingTransport(FakeTransport):
    """A transport that says how many written bytes it still holds."""

    def __init__(self) -> None:
        super().__init__()
        self.held = 0

    def get_write_buffer_size(self) -> int:
        return self.held


@pytest.mark.asyncio
async def test_a_send_waits_for_the_drain_only_while_bytes_wait() -> None:
    """A frame the transport sent whole needs no drain (asyncio and uvloop pause only
    above the high-water mark); one it holds bytes after waits, as before."""
    head = RequestParser().feed(get("/ws", *UPGRADE))[0]
    assert isinstance(head, RequestHead)
    transport = BufferingTransport()
    conn = FakeConnection(transport)
    request = Application()._make_request(
        head, BodyStream.empty(), conn, StreamWriter(conn), None, asyncio.get_running_loop()
    )
    ws = WebSocketResponse(compress=False)
    await ws.prepare(request)
    peer = Peer(ws, conn, transport)
    drains = conn.drains
    await ws.send_str("sent whole")
    await ws.send_bytes(b"\x00")
    assert conn.drains == drains
    transport.held = 10  # the kernel took part of it: wait for the rest to go
    conn.gate = asyncio.Event()
    task = asyncio.create_task(ws.send_str("held"))
    await yield_to_the_loop()
    assert conn.drains == drains + 1
    assert not task.done()
    # Another sender while one waits: it waits too (the drain's lock), even if
    # the buffer has emptied meanwhile.
    transport.held = 0
    second = asyncio.create_task(ws.send_str("after"))
    await yield_to_the_loop()
    assert not second.done()
    conn.gate.set()
    await asyncio.gather(task, second)
    assert [m.data for m in peer.frames()] == ["sent whole", b"\x00", "held", "after"]
