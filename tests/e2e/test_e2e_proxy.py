"""Requests through Debian's nginx to gunicorn's two weft workers.

nginx terminates TLS on a free port of 127.0.0.1 and proxies with the
guide's configuration (docs/deployment/nginx-weft.conf.template); gunicorn
runs the guide's gunicorn.conf.py (uvloop workers). Every test runs twice:
with the upstream a unix socket, and a loopback TCP port.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from typing import TYPE_CHECKING

import aiohttp
import pytest

from examples.deployment import CLIENT_MAX_SIZE
from tests.e2e.harness import client_session

if TYPE_CHECKING:
    from tests.e2e.conftest import Deployment

TIMEOUT = 30.0  # a bound on hangs only


def _session(deployment: Deployment) -> aiohttp.ClientSession:
    return client_session(deployment.ssl, TIMEOUT)


@pytest.mark.asyncio
async def test_requests_are_answered_by_the_workers_over_upstream_keep_alive(
    deployment: Deployment,
) -> None:
    async with _session(deployment) as session:
        async with session.get(deployment.url("/healthz")) as response:
            assert response.status == 200
            assert await response.text() == "ok\n"
        async with session.get(deployment.url("/readyz")) as response:
            assert response.status == 200
            assert await response.text() == "ready\n"
        async with session.get(deployment.url("/nowhere")) as response:
            assert response.status == 404
            assert await response.text() == "404: Not Found"
        for _ in range(20):
            async with session.get(deployment.url("/whoami")) as response:
                assert response.status == 200
                seen = await response.json()
            assert seen["pid"] in deployment.workers
            # gunicorn.conf.py's worker class.
            assert seen["loop"] == "uvloop"
            # The map in the template sends no Connection header on plain
            # requests, so nginx speaks keep-alive HTTP/1.1 to the app.
            assert seen["version"] == "HTTP/1.1"
            assert seen["keep_alive"] is True
            assert seen["connection"] is None


@pytest.mark.asyncio
async def test_a_10_mib_upload_reaches_the_app_whole(deployment: Deployment) -> None:
    body = os.urandom(10 * 1024 * 1024)
    async with (
        _session(deployment) as session,
        session.post(deployment.url("/upload"), data=io.BytesIO(body)) as response,
    ):
        assert response.status == 200
        assert await response.json() == {
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }


@pytest.mark.asyncio
async def test_nginx_and_the_app_agree_on_the_largest_body(deployment: Deployment) -> None:
    """client_max_body_size is rendered from the app's client_max_size: the same line."""
    at_limit = b"x" * CLIENT_MAX_SIZE
    async with _session(deployment) as session:
        async with session.post(deployment.url("/upload"), data=io.BytesIO(at_limit)) as response:
            assert response.status == 200
            assert (await response.json())["size"] == CLIENT_MAX_SIZE
        too_big = io.BytesIO(at_limit + b"x")
        async with session.post(deployment.url("/upload"), data=too_big) as response:
            assert response.status == 413
            # Refused by nginx, before any of it reached a worker.
            assert response.headers["Server"].startswith("nginx")


@pytest.mark.asyncio
async def test_a_streamed_response_reaches_the_client_before_it_ends(
    deployment: Deployment,
) -> None:
    """The first part arrives while the handler still waits for the test's go-ahead."""
    gate_path = deployment.folder / "gate.sock"
    handler_waiting: asyncio.Future[asyncio.StreamWriter] = asyncio.Future()

    async def on_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler_waiting.set_result(writer)

    gate = await asyncio.start_unix_server(on_handler, path=str(gate_path))
    try:
        async with _session(deployment) as session:
            url = deployment.url(f"/stream?gate={gate_path}")
            async with session.get(url) as response:
                assert response.status == 200
                first = await response.content.readline()
                assert first == b"first part\n"
                writer = await asyncio.wait_for(handler_waiting, TIMEOUT)
                # The handler has not been let go: the response is still open.
                assert not response.content.at_eof()
                writer.write(b"!")
                await writer.drain()
                assert await response.content.read() == b"last part\n"
            writer.close()
    finally:
        gate.close()
        await gate.wait_closed()


@pytest.mark.asyncio
async def test_a_websocket_conversation_through_nginx(deployment: Deployment) -> None:
    async with _session(deployment) as session:
        async with session.ws_connect(deployment.url("/ws", scheme="wss")) as ws:
            hello = await ws.receive_str()
            assert hello.startswith("hello from ")
            assert int(hello.split()[-1]) in deployment.workers
            await ws.send_str("through the proxy")
            assert await ws.receive_str() == "THROUGH THE PROXY"
            await ws.send_bytes(b"\x00\x01\x02")
            assert await ws.receive_bytes() == b"\x02\x01\x00"
            await ws.send_str("bye")
            closing = await ws.receive()
            assert closing.type is aiohttp.WSMsgType.CLOSE
            assert closing.data == 4001
            assert closing.extra == "see you"
        assert ws.close_code == 4001
        # The upstream connection the upgrade used is not handed back to the
        # keep-alive pool: the next request is answered normally.
        async with session.get(deployment.url("/healthz")) as response:
            assert response.status == 200


@pytest.mark.asyncio
async def test_the_app_sees_the_client_and_scheme_nginx_saw(deployment: Deployment) -> None:
    """X-Forwarded-For / -Proto / -Host as nginx sets them, whatever the client sends.

    The app's trusted-proxy middleware believes them (the connection is the
    unix socket), so request.remote / scheme / host are the client's.
    """
    spoofed = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "gopher",
        "X-Forwarded-Host": "evil.example",
    }
    async with (
        _session(deployment) as session,
        session.get(deployment.url("/whoami"), headers=spoofed) as response,
    ):
        seen = await response.json()
    assert seen["x_forwarded_for"] == "127.0.0.1"
    assert seen["remote"] == "127.0.0.1"
    assert seen["scheme"] == "https"
    assert seen["secure"] is True
    assert seen["host"] == "127.0.0.1"
    assert seen["url"] == "https://127.0.0.1/whoami"
