"""WebSocketResponse against real clients: the `websockets` library and aiohttp's ws_connect.

Each test serves one app on 127.0.0.1 and talks to it through a real client:
text and binary echo with and without permessage-deflate, fragmented and
1 MiB messages, ping/pong, close codes in both directions, the server's
heartbeat against a live peer, and many tasks sending at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from weft import web

# Until weft.web re-exports them (issue 7), the WebSocket names come from web-core.


ServeApp = Callable[[web.Application], Awaitable[str]]
TIMEOUT = 10.0
MiB = 1024 * 1024
EVENTS = web.AppKey("events", list)  # what the handlers saw, for the assertions


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def echo(request: web.Request) -> web.WebSocketResponse:
    """Echo TEXT and BINARY; "close:<code>" closes from the server with that code."""
    compress = request.query.get("compress", "1") == "1"
    ws = web.WebSocketResponse(compress=compress, max_msg_size=2 * MiB, protocols=("chat", "v2"))
    await ws.prepare(request)
    events = request.app[EVENTS]
    async for msg in ws:
        if msg.type is web.WSMsgType.TEXT:
            if msg.data.startswith("close:"):
                await ws.close(code=int(msg.data[6:]), message=b"server says bye")
            else:
                await ws.send_str(msg.data)
        elif msg.type is web.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    events.append(("closed", ws.close_code))
    return ws


async def no_autoping(request: web.Request) -> web.WebSocketResponse:
    """Pings the client, reports the PONG it gets back as text."""
    ws = web.WebSocketResponse(autoping=False)
    await ws.prepare(request)
    await ws.ping(b"are you there")
    msg = await ws.receive()
    await ws.send_str(f"{msg.type.name}:{msg.data.decode()}")
    msg = await ws.receive()
    if msg.type is web.WSMsgType.PING:  # the client's own ping: answer by hand
        await ws.pong(msg.data)
    await ws.receive()
    return ws


async def heartbeat(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=0.1)
    await ws.prepare(request)
    async for msg in ws:
        await ws.send_str(msg.data)
    request.app[EVENTS].append(("heartbeat-closed", ws.close_code))
    return ws


async def burst(request: web.Request) -> web.WebSocketResponse:
    """8 tasks send 200 numbered messages each at the same time, then the server closes."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)

    async def sender(n: int) -> None:
        for i in range(200):
            await ws.send_str(f"{n}:{i}:" + "x" * (i % 50))

    await asyncio.gather(*(sender(n) for n in range(8)))
    await ws.close()
    return ws


@pytest.fixture
def app() -> web.Application:
    app = web.Application()
    app[EVENTS] = []
    app.router.add_get("/echo", echo)
    app.router.add_get("/no-autoping", no_autoping)
    app.router.add_get("/heartbeat", heartbeat)
    app.router.add_get("/burst", burst)
    return app


async def wait_for_event(app: web.Application, kind: str) -> Any:
    async with asyncio.timeout(TIMEOUT):
        while True:
            for event in app[EVENTS]:
                if event[0] == kind:
                    return event[1]
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------- the websockets library


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.asyncio
async def test_websockets_echo(serve: ServeApp, app: web.Application, compress: bool) -> None:
    """Text and binary, small and 1 MiB, with permessage-deflate on and off."""
    base = await serve(app)
    query = "?compress=1" if compress else "?compress=0"
    async with connect(
        ws_url(base, "/echo" + query),
        compression="deflate" if compress else None,
        max_size=2 * MiB,
    ) as ws:
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions") if ws.response else None
        assert (extensions is not None) == compress
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\xff" * 10)
        assert await ws.recv() == b"\x00\xff" * 10
        big_text = "0123456789abcdef" * (MiB // 16)
        await ws.send(big_text)
        assert await ws.recv() == big_text
        big_bytes = bytes(range(256)) * (MiB // 256)
        await ws.send(big_bytes)
        assert await ws.recv() == big_bytes
    assert ws.close_code == 1000
    assert await wait_for_event(app, "closed") == 1000


@pytest.mark.asyncio
async def test_websockets_fragmented_messages(serve: ServeApp, app: web.Application) -> None:
    """A message the client sends in fragments arrives whole (text split inside a character)."""
    base = await serve(app)
    async with connect(ws_url(base, "/echo?compress=0"), compression=None) as ws:
        await ws.send(["fra", "gmen", "ted ✓"])
        assert await ws.recv() == "fragmented ✓"
        await ws.send([b"\x01" * 70_000, b"\x02" * 3, b""])
        assert await ws.recv() == b"\x01" * 70_000 + b"\x02" * 3


@pytest.mark.asyncio
async def test_websockets_subprotocol(serve: ServeApp, app: web.Application) -> None:
    base = await serve(app)
    async with connect(ws_url(base, "/echo"), subprotocols=["v3", "v2"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "v2"


@pytest.mark.asyncio
async def test_websockets_ping_pong(serve: ServeApp, app: web.Application) -> None:
    """The client's PING gets its PONG; the server's PING (autoping off) gets the client's."""
    base = await serve(app)
    async with connect(ws_url(base, "/echo")) as ws:
        pong = await ws.ping(b"data")
        latency = await asyncio.wait_for(pong, TIMEOUT)
        assert latency >= 0
    async with connect(ws_url(base, "/no-autoping")) as ws:
        assert await ws.recv() == "PONG:are you there"
        pong = await ws.ping(b"mine")
        await asyncio.wait_for(pong, TIMEOUT)


@pytest.mark.asyncio
async def test_websockets_client_closes_with_a_code(serve: ServeApp, app: web.Application) -> None:
    base = await serve(app)
    async with connect(ws_url(base, "/echo")) as ws:
        await ws.close(code=4001, reason="client bye")
    assert await wait_for_event(app, "closed") == 4001
    assert ws.close_code == 4001  # the server answers with the code it got
    assert ws.close_reason == ""


@pytest.mark.asyncio
async def test_websockets_server_closes_with_a_code(serve: ServeApp, app: web.Application) -> None:
    base = await serve(app)
    async with connect(ws_url(base, "/echo")) as ws:
        await ws.send("close:4002")
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 4002
    assert ws.close_reason == "server says bye"
    assert await wait_for_event(app, "closed") == 4002


@pytest.mark.asyncio
async def test_heartbeat_with_a_live_peer(serve: ServeApp, app: web.Application) -> None:
    """A peer that answers the server's pings (websockets does) stays connected."""
    base = await serve(app)
    async with connect(ws_url(base, "/heartbeat"), ping_interval=None) as ws:
        for i in range(4):
            await asyncio.sleep(0.15)  # longer than the heartbeat: pings go out and are answered
            await ws.send(f"still here {i}")
            assert await ws.recv() == f"still here {i}"
    assert await wait_for_event(app, "heartbeat-closed") == 1000


@pytest.mark.asyncio
async def test_concurrent_senders(serve: ServeApp, app: web.Application) -> None:
    """Messages of 8 concurrent sender tasks all arrive whole, each task's in its order."""
    base = await serve(app)
    seen: dict[int, list[int]] = {n: [] for n in range(8)}
    async with connect(ws_url(base, "/burst"), max_queue=None) as ws:
        async for message in ws:
            assert isinstance(message, str)
            n, i, pad = message.split(":")
            assert pad == "x" * (int(i) % 50)
            seen[int(n)].append(int(i))
    assert seen == {n: list(range(200)) for n in range(8)}
    assert ws.close_code == 1000


# ---------------------------------------------------------------- aiohttp's client


@pytest.mark.parametrize("compress", [15, 0])
@pytest.mark.asyncio
async def test_aiohttp_echo(
    serve: ServeApp, app: web.Application, client: aiohttp.ClientSession, compress: int
) -> None:
    base = await serve(app)
    async with client.ws_connect(
        base + "/echo", compress=compress, max_msg_size=2 * MiB, protocols=("chat",)
    ) as ws:
        assert ws.protocol == "chat"
        assert ws.compress == compress
        await ws.send_str("hi")
        assert await ws.receive_str() == "hi"
        await ws.send_bytes(b"\x00" * MiB)
        assert await ws.receive_bytes() == b"\x00" * MiB
        await ws.send_json({"a": [1, 2]})
        assert await ws.receive_json() == {"a": [1, 2]}
        await ws.ping(b"x")
        await ws.send_str("after ping")
        assert await ws.receive_str() == "after ping"
        await ws.close(code=4005, message=b"done")
    assert ws.close_code == 4005
    assert await wait_for_event(app, "closed") == 4005


@pytest.mark.asyncio
async def test_aiohttp_server_close(
    serve: ServeApp, app: web.Application, client: aiohttp.ClientSession
) -> None:
    base = await serve(app)
    async with client.ws_connect(base + "/echo") as ws:
        await ws.send_str("close:4100")
        msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert (msg.data, msg.extra) == (4100, "server says bye")
    # close_code is the code of the peer's answer: aiohttp's client answers 1000.
    assert await wait_for_event(app, "closed") == 1000


@pytest.mark.asyncio
async def test_aiohttp_heartbeat_client(
    serve: ServeApp, app: web.Application, client: aiohttp.ClientSession
) -> None:
    """aiohttp's client answers the server's heartbeat pings (and sends its own)."""
    base = await serve(app)
    async with client.ws_connect(base + "/heartbeat", heartbeat=0.1) as ws:
        await asyncio.sleep(0.4)
        await ws.send_str("alive")
        assert await ws.receive_str() == "alive"
    assert await wait_for_event(app, "heartbeat-closed") == 1000


@pytest.mark.asyncio
async def test_not_an_upgrade_is_400(serve: ServeApp, app: web.Application) -> None:
    base = await serve(app)
    async with aiohttp.ClientSession() as session, session.get(base + "/echo") as response:
        assert response.status == 400
        assert "Upgrade" in await response.text()
