"""RequestHandler.switch_protocol: when a handler may take the connection over, and a FIN
that arrived with the upgrade request."""

from __future__ import annotations

import asyncio
import base64

import pytest

from weft.web_core import (
    Application,
    Request,
    Response,
    StreamResponse,
    WebSocketResponse,
    WSMsgType,
)
from weft.web_runner import RequestHandler
from weft.web_testing.test_utils import TestClient, TestServer

TIMEOUT = 10.0
UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {base64.b64encode(b'0123456789abcdef').decode()}\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
).encode()


class Receiver:
    """An UpgradeReceiver that keeps nothing."""

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> None:
        pass

    def connection_lost(self, exc: BaseException | None) -> None:
        pass


def protocol_of(request: Request) -> RequestHandler:
    assert isinstance(request.protocol, RequestHandler)
    return request.protocol


@pytest.mark.asyncio
async def test_switching_is_refused_twice_and_outside_an_upgrade() -> None:
    """A connection switches once, and only for the upgrade request being answered."""

    async def ws_then_again(request: Request) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)  # the switch to the WebSocket
        try:
            protocol_of(request).switch_protocol(Receiver())
        except RuntimeError as exc:
            await ws.send_str(str(exc))
        await ws.close()
        return ws

    async def plain(request: Request) -> Response:
        try:
            protocol_of(request).switch_protocol(Receiver())
        except RuntimeError as exc:
            return Response(text=str(exc))
        raise AssertionError("switched a plain request")

    app = Application()
    app.router.add_get("/ws", ws_then_again)
    app.router.add_get("/plain", plain)
    async with TestClient(TestServer(app)) as client:
        async with client.ws_connect("/ws") as ws:
            assert await ws.receive_str() == "the connection already switched protocols"
        text = await (await client.get("/plain")).text()
        assert text.startswith("switch_protocol() is only for the request being answered")
        # the refused switch left the connection speaking HTTP
        assert (await client.get("/plain")).status == 200


@pytest.mark.asyncio
async def test_a_fin_sent_with_the_upgrade_request_reaches_the_websocket() -> None:
    """The client's FIN before the switch: the WebSocket sees the connection end at once."""
    seen: asyncio.Future[WSMsgType] = asyncio.get_running_loop().create_future()

    async def handler(request: Request) -> StreamResponse:
        ws = WebSocketResponse()
        await ws.prepare(request)
        seen.set_result((await ws.receive()).type)
        return ws

    app = Application()
    app.router.add_get("/ws", handler)
    server = TestServer(app)
    # Not TestServer's default: with handler_cancellation the FIN would cancel the handler.
    await server.start_server(handler_cancellation=False)
    try:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(UPGRADE)
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)  # to the server's close
        writer.close()
        assert answer.startswith(b"HTTP/1.1 101 ")
        assert await asyncio.wait_for(seen, TIMEOUT) is WSMsgType.CLOSED
    finally:
        await server.close()


@pytest.mark.asyncio
async def test_a_switch_on_a_closing_transport_tells_the_receiver_once() -> None:
    """The transport is closing (not yet lost) at the switch: the receiver hears of the
    loss once, when the transport's connection_lost() comes, not also at the switch."""
    losses: list[BaseException | None] = []
    switched = asyncio.get_running_loop().create_future()

    class Counting(Receiver):
        def connection_lost(self, exc: BaseException | None) -> None:
            losses.append(exc)

    async def switch_while_closing(request: Request) -> StreamResponse:
        transport = request.transport
        assert transport is not None
        transport.close()
        assert transport.is_closing()
        protocol_of(request).switch_protocol(Counting())
        switched.set_result(list(losses))
        return Response(status=101)

    app = Application()
    app.router.add_get("/ws", switch_while_closing)
    async with TestServer(app) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(UPGRADE)
        assert await asyncio.wait_for(switched, TIMEOUT) == []  # not at the switch
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        for _ in range(100):
            if losses:
                break
            await asyncio.sleep(0.01)
        assert losses == [None]
        writer.close()
