"""The test client's WebSocket (``TestClient.ws_connect``) against weft's WebSocketResponse.

Each behaviour is aiohttp's ``ClientWebSocketResponse``'s: pings answered
(or handed over without ``autoping``), a server's close answered (or left to
the caller without ``autoclose``), errors surfaced as ERROR messages with
``exception()`` and a close code, and refused handshakes raised. Where the
behaviour is a wire-level one, aiohttp's own client is run against the same
server and has to agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from weft.http_parser import WebSocketError
from weft.web_core import (
    Application,
    BaseRequest,
    Request,
    Response,
    StreamResponse,
    WSCloseCode,
    WSMsgType,
)
from weft.web_core import WebSocketResponse as ServerWebSocket
from weft.web_testing.test_utils import (
    ClientConnectionError,
    TestClient,
    TestServer,
    WSServerHandshakeError,
)

# What TestClient(TestServer(app)) is, as aiohttp's generic client.
AppClient = TestClient[Request, Application]

Handler = Callable[[Request], Awaitable[StreamResponse]]


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[AppClient]:
    """A TestClient for an app answering ``/`` with ``handler``."""
    app = Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app)) as client:
        yield client


async def echo(request: Request) -> StreamResponse:
    """Text and binary messages come back as they went."""
    ws = ServerWebSocket()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type is WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def chat_echo(request: Request) -> StreamResponse:
    """Echoes with a prefix under the "chat" subprotocol; "close" closes with 4002."""
    ws = ServerWebSocket(protocols=("chat",))
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


async def hang_forever() -> None:
    """Wait until the handler is cancelled (the client hangs up, or the server closes)."""
    await asyncio.get_running_loop().create_future()


# ---------------------------------------------------------------- pings


@pytest.mark.asyncio
async def test_ws_connect_speaks_aiohttps_client_api() -> None:
    """TestClient.ws_connect: aiohttp's client API, protocols, close codes."""
    app = Application()
    app.router.add_get("/ws", chat_echo)

    async def plain(request: Request) -> Response:
        return Response(text="plain")

    app.router.add_get("/plain", plain)
    async with TestClient(TestServer(app)) as client:
        async with client.ws_connect("/ws", protocols=["chat"]) as ws:
            assert ws.protocol == "chat"
            assert ws.compress == 15
            await ws.send_str("hi")
            assert await ws.receive_str() == "echo:hi"
            await ws.send_bytes(b"\x00" * 100_000)
            assert await ws.receive_bytes() == b"\x00" * 100_000
            await ws.send_json({"j": 1})
            assert (await ws.receive()).data == 'echo:{"j": 1}'
            await ws.ping(b"p")
            assert await ws.close(code=4001) is True
            assert ws.close_code == 4001
            assert ws.closed
        ws = await client.ws_connect("/ws", compress=0)
        assert ws.compress == 0
        await ws.send_str("close")
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4002, "asked")
        assert ws.close_code == 4002
        assert (await ws.receive()).type is WSMsgType.CLOSED
        with pytest.raises(WSServerHandshakeError) as info:
            await client.ws_connect("/plain")
        assert info.value.status == 200
        # left open on purpose: TestClient.close() closes it
        await client.ws_connect("/ws")


@pytest.mark.asyncio
async def test_autoping_answers_the_servers_ping_with_its_payload() -> None:
    """A server's PING is answered with a PONG carrying the same bytes, unseen by receive()."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"are you there")
        msg = await ws.receive()
        await ws.send_str(f"{msg.type.name} {msg.data!r}")
        await ws.close()
        return ws

    async with serving(handler) as client, client.ws_connect("/") as ws:
        assert await ws.receive_str() == "PONG b'are you there'"
        assert (await ws.receive()).type is WSMsgType.CLOSE
        assert ws.close_code == WSCloseCode.OK


@pytest.mark.asyncio
async def test_without_autoping_pings_and_pongs_reach_the_caller() -> None:
    """autoping=False: receive() returns the server's PING and the PONG to our ping."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"p1")
        async for msg in ws:
            if msg.type is WSMsgType.PONG:
                await ws.send_str(f"got pong {msg.data!r}")
            elif msg.type is WSMsgType.PING:
                await ws.pong(msg.data + b" back")
        return ws

    async with serving(handler) as client, client.ws_connect("/", autoping=False) as ws:
        ping = await ws.receive()
        assert (ping.type, ping.data) == (WSMsgType.PING, b"p1")
        await ws.pong(ping.data)
        assert await ws.receive_str() == "got pong b'p1'"
        await ws.ping(b"p2")
        pong = await ws.receive()
        assert (pong.type, pong.data) == (WSMsgType.PONG, b"p2 back")


# ---------------------------------------------------------------- sending and receiving


@pytest.mark.asyncio
async def test_send_frame_sends_a_frame_of_the_given_opcode() -> None:
    """send_frame(data, opcode) as aiohttp's: a BINARY frame comes back from the echo."""
    async with serving(echo) as client, client.ws_connect("/") as ws:
        await ws.send_frame(b"\x00raw\xff", WSMsgType.BINARY)
        assert await ws.receive_bytes() == b"\x00raw\xff"
        await ws.send_frame(b"text", WSMsgType.TEXT, compress=0)
        assert await ws.receive_str() == "text"


@pytest.mark.asyncio
async def test_typed_receives_refuse_other_message_types() -> None:
    """receive_str on BINARY and receive_bytes on TEXT raise TypeError; receive_json parses."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        await ws.send_bytes(b"\x01\x02")
        await ws.send_str("not bytes")
        await ws.send_json({"n": [1, 2]})
        await ws.close()
        return ws

    async with serving(handler) as client, client.ws_connect("/") as ws:
        with pytest.raises(TypeError, match=r"is not WSMsgType\.TEXT"):
            await ws.receive_str()
        with pytest.raises(TypeError, match=r"is not WSMsgType\.BINARY"):
            await ws.receive_bytes()
        assert await ws.receive_json() == {"n": [1, 2]}


@pytest.mark.asyncio
async def test_async_for_yields_messages_until_the_server_closes() -> None:
    """``async for msg in ws`` ends at the server's close; the close code is the server's."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        for text in ("a", "b", "c"):
            await ws.send_str(text)
        await ws.close(code=4005, message=b"enough")
        return ws

    async with serving(handler) as client, client.ws_connect("/") as ws:
        assert [msg.data async for msg in ws] == ["a", "b", "c"]
        assert ws.close_code == 4005
        assert ws.closed


@pytest.mark.asyncio
async def test_sending_after_close_raises_connection_reset() -> None:
    """A closed WebSocket refuses to send, as aiohttp's (ClientConnectionResetError)."""
    async with serving(echo) as client:
        ws = await client.ws_connect("/")
        assert await ws.close() is True
        assert await ws.close() is False  # already closed
        with pytest.raises(ConnectionResetError):
            await ws.send_str("too late")


@pytest.mark.asyncio
async def test_origin_and_headers_are_sent_with_the_handshake() -> None:
    """origin= becomes the Origin header; headers= are sent as given."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        await ws.send_json(
            {"origin": request.headers.get("Origin"), "token": request.headers.get("X-Token")}
        )
        await ws.close()
        return ws

    async with (
        serving(handler) as client,
        client.ws_connect("/", origin="http://example.test", headers={"X-Token": "t1"}) as ws,
    ):
        assert await ws.receive_json() == {"origin": "http://example.test", "token": "t1"}


@pytest.mark.asyncio
async def test_get_extra_info_is_the_connections() -> None:
    """get_extra_info('peername') is the server's address, as the transport's."""
    async with serving(echo) as client, client.ws_connect("/") as ws:
        assert ws.get_extra_info("peername") == ("127.0.0.1", client.port)
        assert ws.get_extra_info("no such thing", "fallback") == "fallback"


# ---------------------------------------------------------------- closing and errors


@pytest.mark.asyncio
async def test_without_autoclose_the_servers_close_waits_for_ours() -> None:
    """autoclose=False: CLOSE is returned, then CLOSING, until close() answers it."""
    server_saw: list[int | None] = []

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        await ws.close(code=4000, message=b"done")  # waits for the client's answer
        server_saw.append(ws.close_code)  # the code of the client's answer
        return ws

    async with serving(handler) as client:
        ws = await client.ws_connect("/", autoclose=False)
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4000, "done")
        open_until_answered = not ws.closed  # (a local: mypy would narrow ws.closed)
        assert open_until_answered
        assert ws.close_code == 4000
        assert (await ws.receive()).type is WSMsgType.CLOSING
        assert await ws.close() is True
        assert ws.closed
        assert (await ws.receive()).type is WSMsgType.CLOSED
    assert server_saw == [WSCloseCode.OK]


@pytest.mark.asyncio
async def test_message_over_max_msg_size_is_an_error_with_code_1009() -> None:
    """A message larger than max_msg_size: an ERROR message, exception(), close code 1009.

    aiohttp's client, against the same server, agrees on the type and the code.
    """

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        await ws.send_str("x" * 100)
        await ws.receive()
        return ws

    async with serving(handler) as client:
        ws = await client.ws_connect("/", max_msg_size=10)
        msg = await ws.receive()
        assert msg.type is WSMsgType.ERROR
        assert isinstance(msg.data, WebSocketError)
        assert ws.exception() is msg.data
        assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
        assert ws.closed

        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(client.make_url("/"), max_msg_size=10) as theirs,
        ):
            their_msg = await theirs.receive()
            assert their_msg.type.name == msg.type.name
            assert theirs.close_code == ws.close_code


@pytest.mark.asyncio
async def test_server_hanging_up_without_a_close_frame_is_closed_1006() -> None:
    """The connection ending with no close frame: CLOSED, close code 1006, as aiohttp's."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        await ws.send_str("bye")
        assert request.transport is not None
        request.transport.close()  # FIN, with no close frame before it
        return ws

    async with serving(handler) as client:
        ws = await client.ws_connect("/")
        assert await ws.receive_str() == "bye"
        assert (await ws.receive()).type is WSMsgType.CLOSED
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert ws.closed

        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(client.make_url("/")) as theirs,
        ):
            assert await theirs.receive_str() == "bye"
            assert (await theirs.receive()).type.name == "CLOSED"
            assert theirs.close_code == ws.close_code


@pytest.mark.asyncio
async def test_connection_reset_is_an_error_message() -> None:
    """A reset (RST) connection: an ERROR message with the ConnectionResetError, code 1006."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket()
        await ws.prepare(request)
        assert request.transport is not None
        sock = request.transport.get_extra_info("socket")
        # Linger 0: closing sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.transport.abort()
        return ws

    async with serving(handler) as client:
        ws = await client.ws_connect("/")
        msg = await ws.receive()
        assert msg.type is WSMsgType.ERROR
        assert isinstance(msg.data, ConnectionResetError)
        assert ws.exception() is msg.data
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert ws.closed


@pytest.mark.asyncio
async def test_close_gives_up_when_the_server_never_answers() -> None:
    """close() waits ``timeout`` for the server's close frame, then closes anyway (1006)."""
    release = asyncio.Event()

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket(autoclose=False)
        await ws.prepare(request)
        assert (await ws.receive()).type is WSMsgType.CLOSE
        await release.wait()  # never answers the close
        return ws

    async with serving(handler) as client:
        ws = await client.ws_connect("/", timeout=0.2)
        assert await ws.close() is True
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
        assert isinstance(ws.exception(), TimeoutError)
        release.set()


@pytest.mark.asyncio
async def test_close_ends_when_the_server_hangs_up_instead_of_answering() -> None:
    """close() stops waiting when the connection ends with no close frame (1006)."""

    async def handler(request: Request) -> StreamResponse:
        ws = ServerWebSocket(autoclose=False)
        await ws.prepare(request)
        await ws.send_str("unread")
        assert (await ws.receive()).type is WSMsgType.CLOSE
        assert request.transport is not None
        request.transport.close()  # hangs up without answering
        return ws

    async with serving(handler) as client:
        ws = await client.ws_connect("/")
        assert await ws.close() is True  # skips the unread message, then sees the end
        assert ws.close_code == WSCloseCode.ABNORMAL_CLOSURE


# ---------------------------------------------------------------- refused handshakes


async def answer_raw(request: BaseRequest, data: bytes) -> StreamResponse:
    """Write ``data`` as the handshake's answer, bypassing WebSocketResponse."""
    assert request.transport is not None
    request.transport.write(data)
    if not data:
        request.transport.close()
    await hang_forever()
    raise AssertionError("unreachable")


@pytest.mark.asyncio
async def test_a_wrong_accept_key_is_a_handshake_error() -> None:
    """A 101 whose Sec-WebSocket-Accept does not match the key: WSServerHandshakeError."""

    async def handler(request: Request) -> StreamResponse:
        return await answer_raw(
            request,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoaXMgb25l\r\n\r\n",
        )

    async with serving(handler) as client:
        with pytest.raises(WSServerHandshakeError, match="does not match") as info:
            await client.ws_connect("/")
        assert info.value.status == 101


@pytest.mark.asyncio
async def test_a_response_that_is_not_http_is_a_connection_error() -> None:
    """Bytes that are not an HTTP response: ClientConnectionError naming the handshake."""

    async def handler(request: Request) -> StreamResponse:
        return await answer_raw(request, b"SSH-2.0-OpenSSH\r\n\r\n")

    async with serving(handler) as client:
        with pytest.raises(ClientConnectionError, match="Invalid handshake response"):
            await client.ws_connect("/")


@pytest.mark.asyncio
async def test_a_server_hanging_up_during_the_handshake_is_a_connection_error() -> None:
    """The connection closing before any answer: ClientConnectionError."""

    async def handler(request: Request) -> StreamResponse:
        return await answer_raw(request, b"")

    async with serving(handler) as client:
        with pytest.raises(ClientConnectionError):
            await client.ws_connect("/")


@pytest.mark.asyncio
async def test_https_test_servers_are_refused() -> None:
    """ws_connect speaks plain ws:// only: an https:// server's URL is a ValueError."""

    async def handler(request: Request) -> Response:
        return Response(text="unused")

    app = Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app, scheme="https")) as client:
        with pytest.raises(ValueError, match="plain ws:// and http:// only"):
            await client.ws_connect("/")
