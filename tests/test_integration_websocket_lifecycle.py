"""WebSocket lifecycles of issue 14, held to aiohttp.web's: each app is served by
aiohttp.web and by weft.web (``under_both``) and talked to by aiohttp's client and by
the `websockets` library; both servers must give each client the same conversation,
and the handlers must see the same messages.

The heartbeat runs on the loop's clock, which the tests move forward (``Clock``)
instead of waiting: real time still flows for the sockets, but only ``advance``
reaches a deadline of tens of seconds.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.differential import under_both

TIMEOUT = 10.0  # a safety bound only: no test asserts how long anything takes
HEARTBEAT = 30.0
# Past the heartbeat, with room for aiohttp's rounding of deadlines over 5 s up to a second.
PAST_THE_PING = HEARTBEAT + 1.5
PAST_THE_PONG_DEADLINE = HEARTBEAT / 2 + 1.5


class Clock:
    """The running loop's time plus an offset that only ``advance`` grows."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._real_time = loop.time
        self._offset = 0.0

    def time(self) -> float:
        return self._real_time() + self._offset

    async def advance(self, seconds: float) -> None:
        """Move ``seconds`` on; return once every timer due by then has run."""
        self._offset += seconds
        reached: asyncio.Future[None] = self._loop.create_future()
        # Due timers leave the heap in deadline order: those overdue run before this one.
        self._loop.call_at(self.time(), reached.set_result, None)
        await reached
        for _ in range(5):  # what they scheduled at once (aiohttp sends its PING in a task)
            await asyncio.sleep(0)


@pytest_asyncio.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    loop = asyncio.get_running_loop()
    clock = Clock(loop)
    monkeypatch.setattr(loop, "time", clock.time)
    return clock


class Reports:
    """What a handler saw, handed to the test (one queue per server run)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def put(self, item: Any) -> None:
        self.queue.put_nowait(item)

    async def get(self) -> Any:
        return await asyncio.wait_for(self.queue.get(), TIMEOUT)


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def described(msg: Any) -> tuple[str, Any, Any]:
    """A received message as comparable values (an exception by its type and text)."""
    data = msg.data
    if isinstance(data, BaseException):
        data = (type(data).__name__, str(data))
    return (msg.type.name, data, msg.extra)


def ended(ws: Any) -> tuple[bool, Any, str | None]:
    """A server WebSocket's state after its conversation."""
    exc = ws.exception()
    return (ws.closed, ws.close_code, None if exc is None else type(exc).__name__)


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def one_handler(handler: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    """``build`` for under_both: an app whose /ws route is ``handler(web, request)``."""

    def build(web: Any) -> Any:
        async def route(request: Any) -> Any:
            return await handler(web, request)

        app = web.Application()
        app.router.add_get("/ws", route)
        return app

    return build


# ---------------------------------------------------------------- server ping() and pong()


def build_pinging(reports: Reports) -> Callable[[Any], Any]:
    """ping() and pong() from the handler, then an echo; its own autoping as asked."""

    async def handler(web: Any, request: Any) -> Any:
        ws = web.WebSocketResponse(autoping=request.query.get("autoping") == "1")
        await ws.prepare(request)
        await ws.ping(b"are you there")
        await ws.pong(b"unsolicited")
        await ws.send_str("both returned")
        seen: list[Any] = []
        async for msg in ws:
            seen.append(described(msg))
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str("echo " + msg.data)
        reports.put((seen, ended(ws)))
        return ws

    return one_handler(handler)


@pytest.mark.parametrize("server_autoping", ["1", "0"])
@pytest.mark.asyncio
async def test_server_ping_and_pong_with_aiohttp_client_without_autoping(
    session: aiohttp.ClientSession, server_autoping: str
) -> None:
    """The client sees the PING and the PONG as messages and answers by hand; the
    server's ping() returned without an answer."""
    reports = Reports()

    async def talk(base: str) -> Any:
        url = f"{base}/ws?autoping={server_autoping}"
        async with session.ws_connect(url, autoping=False) as ws:
            seen = [described(await ws.receive(timeout=TIMEOUT)) for _ in range(3)]
            await ws.pong(b"are you there")  # the answer, late and by hand
            await ws.ping(b"mine")
            await ws.send_str("x")
            # The server's autoping answers "mine" before the echo; without it, only the echo.
            answers = 2 if server_autoping == "1" else 1
            seen += [described(await ws.receive(timeout=TIMEOUT)) for _ in range(answers)]
            await ws.close()
            return seen, ws.close_code, await reports.get()

    seen = await under_both(build_pinging(reports), talk)
    assert seen["weft"] == seen["aiohttp"]
    client, close_code, (server, server_end) = seen["weft"]
    assert client[:3] == [
        ("PING", b"are you there", ""),
        ("PONG", b"unsolicited", ""),
        ("TEXT", "both returned", ""),
    ]
    if server_autoping == "1":  # answered for the handler, which sees neither
        assert client[3:] == [("PONG", b"mine", ""), ("TEXT", "echo x", "")]
        assert server == [("TEXT", "x", "")]
    else:
        assert client[3:] == [("TEXT", "echo x", "")]
        assert server == [
            ("PONG", b"are you there", ""),
            ("PING", b"mine", ""),
            ("TEXT", "x", ""),
        ]
    assert close_code == 1000
    assert server_end == (True, 1000, None)


@pytest.mark.asyncio
async def test_server_ping_and_pong_with_websockets() -> None:
    """websockets answers the PING itself and ignores the unsolicited PONG; a handler
    without autoping sees that answer."""
    reports = Reports()

    async def talk(base: str) -> Any:
        async with connect(ws_url(base, "/ws?autoping=0"), ping_interval=None) as ws:
            first = await asyncio.wait_for(ws.recv(), TIMEOUT)
            await ws.send("x")
            second = await asyncio.wait_for(ws.recv(), TIMEOUT)
        return first, second, ws.close_code, await reports.get()

    seen = await under_both(build_pinging(reports), talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"] == (
        "both returned",
        "echo x",
        1000,
        ([("PONG", b"are you there", ""), ("TEXT", "x", "")], (True, 1000, None)),
    )


# ---------------------------------------------------------------- receive() after cancelled ones


def build_cancelling(reports: Reports) -> Callable[[Any], Any]:
    """A receive() cancelled, one timed out by wait_for, one by its own timeout; then
    ``async for`` reads what the client sends after "go"."""

    async def handler(web: Any, request: Any) -> Any:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        events: list[Any] = []
        receiving = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0)
        receiving.cancel()
        try:
            await receiving
        except asyncio.CancelledError:
            events.append("cancelled")
        try:
            await asyncio.wait_for(ws.receive(), 0)
        except TimeoutError:
            events.append("wait_for timed out")
        try:
            await ws.receive(timeout=0.001)  # nothing comes before "go"
        except TimeoutError:
            events.append("receive timed out")
        await ws.send_str("go")
        events.append(described(await ws.receive(timeout=TIMEOUT)))
        async for msg in ws:
            events.append(described(msg))
        reports.put((events, ended(ws)))
        return ws

    return one_handler(handler)


EXPECTED_AFTER_CANCELLING = (
    [
        "cancelled",
        "wait_for timed out",
        "receive timed out",
        ("TEXT", "first", ""),
        ("TEXT", "second", ""),
        ("BINARY", b"third", ""),
    ],
    (True, 4000, None),
)
# The code each server answers a client's CLOSE with: aiohttp 1000 whatever the client's,
# weft the client's own (RFC 6455 §5.5.1; web-core's README lists the difference).
ANSWERED = {"aiohttp": 1000, "weft": 4000}


@pytest.mark.asyncio
async def test_receive_after_cancelled_ones_with_aiohttp_client(
    session: aiohttp.ClientSession,
) -> None:
    reports = Reports()

    async def talk(base: str) -> Any:
        async with session.ws_connect(base + "/ws") as ws:
            assert await ws.receive_str(timeout=TIMEOUT) == "go"
            await ws.send_str("first")
            await ws.send_str("second")
            await ws.send_bytes(b"third")
            await ws.close(code=4000)
            return ws.close_code, await reports.get()

    seen = await under_both(build_cancelling(reports), talk)
    assert seen == {name: (code, EXPECTED_AFTER_CANCELLING) for name, code in ANSWERED.items()}


@pytest.mark.asyncio
async def test_receive_after_cancelled_ones_with_websockets() -> None:
    reports = Reports()

    async def talk(base: str) -> Any:
        async with connect(ws_url(base, "/ws"), ping_interval=None) as ws:
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "go"
            await ws.send("first")
            await ws.send("second")
            await ws.send(b"third")
            await ws.close(code=4000)
        return ws.close_code, await reports.get()

    seen = await under_both(build_cancelling(reports), talk)
    assert seen == {name: (code, EXPECTED_AFTER_CANCELLING) for name, code in ANSWERED.items()}


# ---------------------------------------------------------------- heartbeat without a pong


def build_heartbeat(reports: Reports, busy: asyncio.Event | None = None) -> Callable[[Any], Any]:
    """A heartbeat handler reading with ``async for``, or, with ``busy``, away from
    receive() (until the event) after the first message. Each message read is
    acknowledged: a client that moves the clock first waits for that, since data
    read after the move would count as a sign of life at the later time."""

    async def handler(web: Any, request: Any) -> Any:
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT)
        await ws.prepare(request)
        seen: list[Any] = []
        if busy is None:
            async for msg in ws:
                seen.append(described(msg))
                if msg.type == web.WSMsgType.TEXT:
                    await ws.send_str("ack")
        else:
            seen.append(described(await ws.receive()))
            await ws.send_str("ack")
            await busy.wait()
            seen.append(described(await ws.receive()))
        seen.append(await ws.close())
        reports.put((seen, ended(ws)))
        return ws

    return one_handler(handler)


HEARTBEAT_TIMEOUT = ("TimeoutError", f"No PONG received after {HEARTBEAT / 2} seconds")


@pytest.mark.parametrize("busy", [False, True], ids=["in-receive", "busy"])
@pytest.mark.asyncio
async def test_heartbeat_without_a_pong_aiohttp_client(
    session: aiohttp.ClientSession, clock: Clock, busy: bool
) -> None:
    """No PONG (the client's autoping is off) within half the heartbeat: the server
    closes without a close frame, 1006; a receive() in progress gets ERROR
    (TimeoutError), a later one CLOSED, and what was unread is dropped."""
    reports = Reports()
    gate = asyncio.Event()

    async def talk(base: str) -> Any:
        gate.clear()
        async with session.ws_connect(base + "/ws", autoping=False) as ws:
            await ws.send_str("hello")
            if busy:  # sent at once: the server reads it with "hello", in the same turn
                await ws.send_str("unread")
            assert await ws.receive_str(timeout=TIMEOUT) == "ack"
            await clock.advance(PAST_THE_PING)
            ping = described(await ws.receive(timeout=TIMEOUT))
            await clock.advance(PAST_THE_PONG_DEADLINE)
            after = described(await ws.receive(timeout=TIMEOUT))
            gate.set()
            return ping, after, ws.close_code, await reports.get()

    seen = await under_both(build_heartbeat(reports, gate if busy else None), talk)
    assert seen["weft"] == seen["aiohttp"]
    ping, after, close_code, (server, server_end) = seen["weft"]
    assert ping == ("PING", b"", "")
    assert after == ("CLOSED", None, None)
    assert close_code == 1006
    if busy:
        assert server == [("TEXT", "hello", ""), ("CLOSED", None, None), False]
    else:
        assert server == [("TEXT", "hello", ""), ("ERROR", HEARTBEAT_TIMEOUT, None), False]
    assert server_end == (True, 1006, "TimeoutError")


@pytest.mark.asyncio
async def test_heartbeat_without_a_pong_websockets(clock: Clock) -> None:
    """A websockets client that stops reading never answers the PING: it then finds the
    connection closed without a close frame (1006)."""
    reports = Reports()

    async def talk(base: str) -> Any:
        ws: ClientConnection
        async with connect(ws_url(base, "/ws"), ping_interval=None) as ws:
            await ws.send("hello")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "ack"
            ws.transport.pause_reading()
            await clock.advance(PAST_THE_PING)
            await clock.advance(PAST_THE_PONG_DEADLINE)
            report = await reports.get()
            ws.transport.resume_reading()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
        return ws.close_code, report

    seen = await under_both(build_heartbeat(reports), talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"] == (
        1006,
        (
            [("TEXT", "hello", ""), ("ERROR", HEARTBEAT_TIMEOUT, None), False],
            (True, 1006, "TimeoutError"),
        ),
    )


# ---------------------------------------------------------------- autoclose=False


def build_no_autoclose(reports: Reports) -> Callable[[Any], Any]:
    """The peer's CLOSE is the handler's to answer: it reads on, sends, then closes
    with its own code; ``?return=1``: it returns without closing."""

    async def handler(web: Any, request: Any) -> Any:
        ws = web.WebSocketResponse(autoclose=False)
        await ws.prepare(request)
        seen: list[Any] = [described(await ws.receive()), described(await ws.receive())]
        seen.append(ended(ws))
        if request.query.get("return") == "1":
            reports.put(seen)
            return ws
        seen.append(described(await ws.receive()))
        await ws.send_str("goodbye")
        seen.append(await ws.close(code=4001, message=b"mine"))
        seen.append(described(await ws.receive()))
        reports.put((seen, ended(ws)))
        return ws

    return one_handler(handler)


NO_AUTOCLOSE_SERVER = (
    [
        ("TEXT", "last", ""),
        ("CLOSE", 4000, "bye"),
        (False, 4000, None),
        ("CLOSING", None, None),
        True,
        ("CLOSED", None, None),
    ],
    (True, 4000, None),
)
RETURNED_SERVER = [("TEXT", "last", ""), ("CLOSE", 4000, "bye"), (False, 4000, None)]


@pytest.mark.parametrize("returns", ["0", "1"], ids=["closes", "returns"])
@pytest.mark.asyncio
async def test_no_autoclose_aiohttp_client(session: aiohttp.ClientSession, returns: str) -> None:
    reports = Reports()

    async def talk(base: str) -> Any:
        async with session.ws_connect(f"{base}/ws?return={returns}") as ws:
            await ws.send_str("last")
            await ws.close(code=4000, message=b"bye")
            return ws.close_code, await reports.get()

    seen = await under_both(build_no_autoclose(reports), talk)
    assert seen["weft"] == seen["aiohttp"]
    if returns == "1":  # the runner closes for the handler, with 1000
        assert seen["weft"] == (1000, RETURNED_SERVER)
    else:
        assert seen["weft"] == (4001, NO_AUTOCLOSE_SERVER)


@pytest.mark.parametrize("returns", ["0", "1"], ids=["closes", "returns"])
@pytest.mark.asyncio
async def test_no_autoclose_websockets(returns: str) -> None:
    reports = Reports()

    async def talk(base: str) -> Any:
        async with connect(ws_url(base, f"/ws?return={returns}"), ping_interval=None) as ws:
            await ws.send("last")
            await ws.close(code=4000, reason="bye")
        return ws.close_code, ws.close_reason, await reports.get()

    seen = await under_both(build_no_autoclose(reports), talk)
    assert seen["weft"] == seen["aiohttp"]
    if returns == "1":
        assert seen["weft"] == (1000, "", RETURNED_SERVER)
    else:
        assert seen["weft"] == (4001, "mine", NO_AUTOCLOSE_SERVER)


# ---------------------------------------------------------------- the connection after the handler

KEY = base64.b64encode(b"0123456789abcdef").decode()
MASKED_CLOSE_1000 = b"\x88\x82\x00\x00\x00\x00\x03\xe8"  # a zero mask leaves the payload as is
PIPELINED = b"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"


def build_keep_alive(web: Any) -> Any:
    async def ws_route(request: Any) -> Any:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if request.query.get("raise") == "1":
            raise RuntimeError("the handler failed after the handshake")
        async for _ in ws:
            pass
        return ws

    async def plain(request: Any) -> Any:
        return web.Response(text="plain")

    app = web.Application()
    app.router.add_get("/ws", ws_route)
    app.router.add_get("/plain", plain)
    return app


async def raw_conversation(base: str, data: bytes) -> bytes:
    """Everything the server sends for ``data`` until it closes the connection."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()


def after_the_head(response: bytes) -> tuple[int, bytes]:
    head, _, rest = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


@pytest.mark.parametrize(
    "connection", ["Upgrade", "keep-alive, Upgrade", "Upgrade, keep-alive"], ids=str
)
@pytest.mark.asyncio
async def test_the_connection_closes_after_a_websocket_handler(connection: str) -> None:
    """Whatever the Connection header asks, the WebSocket's connection ends with it: a
    request sent after the close frame is never answered."""
    upgrade = (
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        f"Connection: {connection}\r\nSec-WebSocket-Key: {KEY}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()

    async def talk(base: str) -> tuple[int, bytes]:
        return after_the_head(await raw_conversation(base, upgrade + MASKED_CLOSE_1000 + PIPELINED))

    seen = await under_both(build_keep_alive, talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"] == (101, b"\x88\x02\x03\xe8")  # the answer to the close, then EOF


@pytest.mark.asyncio
async def test_a_handler_failing_after_the_handshake_ends_the_connection(
    session: aiohttp.ClientSession,
) -> None:
    """An exception after prepare(): no HTTP error page inside the WebSocket; the client
    sees the connection end."""

    async def talk(base: str) -> Any:
        async with session.ws_connect(base + "/ws?raise=1") as ws:
            msg = described(await ws.receive(timeout=TIMEOUT))
            return msg, ws.closed

    seen = await under_both(build_keep_alive, talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"][1] is True


@pytest.mark.asyncio
async def test_an_http_1_0_upgrade_is_refused_by_weft() -> None:
    """A deliberate difference (web-core's README): aiohttp upgrades an HTTP/1.0
    request; weft answers 400, as RFC 9110 §7.8 (a server MUST ignore Upgrade in an
    HTTP/1.0 request) and RFC 6455 §4.1 (HTTP/1.1 at least) require."""
    upgrade = (
        "GET /ws HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()

    async def talk(base: str) -> int:
        return after_the_head(await raw_conversation(base, upgrade + MASKED_CLOSE_1000))[0]

    assert await under_both(build_keep_alive, talk) == {"aiohttp": 101, "weft": 400}


@pytest.mark.asyncio
async def test_an_upgrade_answered_with_http_keeps_the_connection() -> None:
    """A handler that answers an upgrade request with a plain response (``can_prepare``
    said no, or the route is not a WebSocket's) keeps speaking HTTP on the connection."""
    upgrade = (
        "GET /plain HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()

    async def talk(base: str) -> list[tuple[int, bytes]]:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(upgrade + PIPELINED)
            answers = []
            for _ in range(2):
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                body = await asyncio.wait_for(reader.readexactly(length), TIMEOUT)
                answers.append((int(head.split(b" ", 2)[1]), body))
            return answers
        finally:
            writer.close()

    seen = await under_both(build_keep_alive, talk)
    assert seen["weft"] == seen["aiohttp"]
    assert seen["weft"] == [(200, b"plain"), (200, b"plain")]
